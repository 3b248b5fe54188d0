/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The local control socket, DIR/IFNAME.sock (normally /run/scope/<if>.sock),
 * where `scopectl status` asks the running scoped how it is doing.
 *
 * Protocol: the client sends one line, "status\n"; the daemon answers one
 * JSON document (docs/agent.md, "Status") and a newline, and closes. Any
 * other line is answered {"error": "..."} and closed; so is a request that
 * does not end within AGENT_CTL_MAX_REQUEST bytes.
 *
 * The socket file is made like the UAPI socket's: the directory 0755 if
 * missing, the socket 0600 (root only, in practice: the status names peers,
 * endpoints and traffic). A socket file nobody answers on (left by a crash)
 * is replaced; one that answers is refused (-EADDRINUSE), as is a path that
 * exists but is not a socket (-EEXIST). agent_ctlsock_free() unlinks the
 * file if it is still ours.
 *
 * Non-blocking, on the engine's loop: requests are read and replies written
 * as the socket allows, so a stuck client never blocks the daemon. At most
 * AGENT_CTL_MAX_CLIENTS connections are held; a new one beyond that closes
 * the oldest, so stuck clients cannot lock the operator out.
 */
#ifndef AGENT_CTLSOCK_H
#define AGENT_CTLSOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "io/loop.h"
#include "proto/addr.h"
#include "proto/limits.h"
#include "proto/record.h"

#define AGENT_CTL_DIR	      "/run/scope"
#define AGENT_CTL_MAX_REQUEST 64
#define AGENT_CTL_MAX_CLIENTS 8
/* Peers in one status document, and allowed IPs per peer in it. */
#define AGENT_CTL_MAX_PEERS   65536
#define AGENT_CTL_MAX_ALLOWED 1024

enum agent_path {
	AGENT_PATH_NONE = 0, /* no working path yet */
	AGENT_PATH_DIRECT,   /* straight to the peer */
	AGENT_PATH_RELAY,    /* through a relay (via) */
};

struct agent_status_peer {
	char name[PROTO_PEER_NAME_MAX + 1];
	uint8_t role; /* the PROTO_ROLE_* bit it joined as */
	uint8_t key[PROTO_KEY_LEN];
	bool has_endpoint;
	struct proto_endpoint endpoint;
	bool has_handshake;
	uint64_t handshake_age; /* s since the last handshake */
	uint64_t rx_bytes, tx_bytes;
	size_t n_allowed;
	const struct proto_prefix *allowed; /* copied by agent_status_add_peer */
	enum agent_path path;
	char via[PROTO_PEER_NAME_MAX + 1]; /* the relay, for AGENT_PATH_RELAY */
	/* Post-quantum PSK rotation (docs/pq.md), from the KEX driver's
	 * kexd_peer_status. Without has_kex the driver does not run for this
	 * peer: pq_state, psk_kept and psk_reverts are shown as null. */
	bool has_psk;	      /* a PQ preshared key is installed (psk_version >= 1) */
	uint64_t psk_version; /* the active (newest installed) version */
	uint64_t psk_working; /* the last version a session proved, 0: none */
	uint64_t psk_age_s;   /* wall now - when it was installed */
	bool has_kex;
	uint32_t pq_state;    /* KEX state 0..3 (docs/pq.md) */
	uint32_t classical;   /* 0 no handshake, 1 handshake in progress, 2 session */
	uint32_t psk_kept;    /* versions kept (in the backend and the state directory) */
	uint64_t psk_reverts; /* reverts since the daemon started */
};

/* What the agent reports; filled by its callback for each request. */
struct agent_status {
	uint8_t role;
	char network[PROTO_NET_NAME_MAX + 1];
	char ifname[16];
	uint8_t public_key[PROTO_KEY_LEN];
	uint16_t listen_port;
	char registry[PROTO_URL_MAX + 1];
	bool registry_reachable;
	bool has_registry_contact;
	uint64_t registry_contact_age; /* s since the last answer */
	bool killed;
	uint64_t kill_serial; /* when killed */
	/* Owned: agent_status_add_peer appends, agent_status_reset frees. */
	size_t n_peers;
	struct agent_status_peer *peers;
	size_t cap_peers;
};

/* Append a copy of p (and of its allowed IPs). 0, -ENOSPC (over
 * AGENT_CTL_MAX_PEERS or AGENT_CTL_MAX_ALLOWED), -ENOMEM. */
int agent_status_add_peer(struct agent_status *st, const struct agent_status_peer *p);
/* Free the peers and zero st. */
void agent_status_reset(struct agent_status *st);
/* The JSON document of st (docs/agent.md), NUL-terminated, without a
 * trailing newline; free() it. NULL on -ENOMEM. */
char *agent_status_json(const struct agent_status *st);

/* Fill st (zeroed) for one status request. 0, or -errno: the client gets
 * an error document. */
typedef int (*agent_ctl_status_fn)(void *ctx, struct agent_status *st);

struct agent_ctlsock;

/* Listen on DIR/IFNAME.sock on loop. ifname: 1 to 15 characters, no '/'.
 * 0 or -errno with a message in err (may be NULL); *out only on success. */
int agent_ctlsock_new(const char *dir, const char *ifname, struct loop *loop,
		      agent_ctl_status_fn fn, void *ctx, struct agent_ctlsock **out, char *err,
		      size_t errlen);
/* Close every connection and the socket, unlink its file. NULL ok. */
void agent_ctlsock_free(struct agent_ctlsock *s);
const char *agent_ctlsock_path(const struct agent_ctlsock *s);
/* Connections open now. */
size_t agent_ctlsock_clients(const struct agent_ctlsock *s);

#endif
