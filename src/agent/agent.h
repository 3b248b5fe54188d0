/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The node agent: what `scoped` runs besides the engine (DESIGN.md section 7).
 *
 *   start    engine (TUN + UDP) with the node's WireGuard key, overlay
 *            addresses through netlink, peers from the persistent cache
 *            (each cached document re-verified), then the registry thread
 *   thread   join -> full peer list -> long-poll events, forever, with
 *            back-off while the registry is away; every document is
 *            verified there (src/agent/peer.h) before it is handed over
 *   loop     merges what the thread hands over into the peer set, runs the
 *            star policy (src/policy/star.h), applies only the difference to
 *            the engine and the kernel routes, saves the cache
 *   kill     a kill switch that verifies against the network definition and
 *            names this node (or all) tears the interface down, zeroes the
 *            keys, and keeps the node down until the daemon restarts
 *
 * The registry thread never touches the engine: results cross through a
 * mutex-protected queue and loop_wake(). Everything else runs on the loop.
 */
#ifndef AGENT_AGENT_H
#define AGENT_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "io/loop.h"
#include "policy/pskver.h"
#include "proto/cert.h"
#include "proto/netdef.h"

struct agent;

enum agent_log_level { AGENT_LOG_ERROR, AGENT_LOG_INFO, AGENT_LOG_DEBUG };
/* One key=value log line (without the level and timestamp). */
typedef void (*agent_log_fn)(void *ctx, enum agent_log_level lvl, const char *line);

struct agent_params {
	const struct proto_netdef *net; /* verified against the pinned admin key */
	const struct proto_cert *cert;	/* this node's, verified */
	const uint8_t *cert_raw;	/* its canonical bytes (sent on join) */
	size_t cert_len;
	const uint8_t *identity_seed; /* 32 bytes, Ed25519 */
	const uint8_t *wg_private;    /* 32 bytes, X25519 */
	uint8_t role;		      /* one PROTO_ROLE_* bit, allowed by the cert */
	const char *ifname;
	uint16_t listen_port; /* 0: random */
	unsigned int mtu;     /* 0: default */
	uint16_t keepalive;   /* s, an edge's towards masters */
	const char *state_dir;
	const char *registry_url;		/* NULL: the netdef's */
	const struct proto_endpoint *endpoints; /* advertised, may be none */
	size_t n_endpoints;
	const uint8_t *kill; /* a kill switch from the node's own config, or NULL */
	size_t kill_len;
	/* Post-quantum PSK rotation (docs/pq.md): timings from the network
	 * definition (and the config's test-only keys). */
	struct pol_psk_config psk;
	uint64_t test_only_corrupt_psk_version; /* TEST ONLY, see kexd.h; 0 never */
	agent_log_fn log;
	void *log_ctx;
};

/* Bring the node up on loop (see the top of this file). The params are
 * copied. 0 or -errno with a message in err. */
int agent_new(const struct agent_params *p, struct loop *loop, struct agent **out, char *err,
	      size_t errlen);
/* Stop the registry thread, remove routes and the interface, wipe keys. */
void agent_free(struct agent *a);

/* True once a kill switch took the node down. */
bool agent_killed(const struct agent *a);

#endif
