/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The post-quantum key-exchange driver (DESIGN.md section 8, issue 7,
 * docs/pq.md "The driver"): one pol_psk (policy/pskver.h) per connected
 * peer. It signs what the state machines send, decodes and verifies what
 * arrives (proto/kex.h, against the certificates it was given), keeps the
 * kept PSKs in the state directory, and programs them into a backend.
 *
 * No sockets, no threads, no clocks of its own: the caller passes `now`
 * (monotonic ns, one clock), the messages that arrived, and a set of
 * callbacks for the backend (the built-in engine, or an external WireGuard
 * over UAPI/netlink) and for the two transports (in-tunnel, registry
 * mailbox). The wall clock comes from cfg.env->wall_ns. One kexd is used
 * from one thread.
 *
 * Two kinds of backend:
 *   - a ring backend (the built-in engine, cfg.ring): it keeps every kept
 *     PSK; activation is local (confirmation + delay); after a switch the
 *     driver asks the backend for a handshake, and only a session made with
 *     the newest version proves it (strict probation): without one within
 *     `revert`, the pair reverts;
 *   - a single-key backend (wireguard-go, the kernel module): only the
 *     newest PSK is programmed; both sides switch at an agreed wall-clock
 *     time (the encapsulator's ACK `issued` + activation); any in-tunnel
 *     traffic postpones a revert, as the switch takes effect only at the
 *     backend's next handshake.
 *
 * The role rule's "join time" is the certificate's not_before (signed,
 * known to both sides with or without a registry).
 */
#ifndef AGENT_KEXD_H
#define AGENT_KEXD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/env.h"
#include "policy/pskver.h"
#include "proto/cert.h"
#include "proto/kex.h"

#define KEXD_PEERS_MAX 4096 /* pairs per node */

struct kexd;

/* One PSK of a peer's ring, newest first in arrays. Secret. */
struct kexd_psk {
	uint64_t version;
	uint8_t key[PROTO_KEX_PSK_LEN];
};

/* What the backend knows about the tunnel to one peer. */
struct kexd_tunnel {
	bool known;		    /* the backend has this peer */
	uint64_t last_handshake_ns; /* wall clock, ns since the epoch; 0 never */
	uint64_t rx_bytes;
	bool has_session;	  /* ring backends: a current keypair exists */
	uint64_t session_version; /* ring backends: PSK version of that session */
};

struct kexd_ops {
	/* Backend. Program the peer's PSKs, newest first (n == 0: no PSK). A
	 * single-key backend uses ring[0] only and changes nothing else of the
	 * peer. 0 or -errno. */
	int (*set_psks)(void *ctx, const uint8_t wg[PROTO_KEY_LEN], const struct kexd_psk *ring,
			size_t n);
	/* Fill *out for the peer. 0 or -errno (then nothing is learnt). */
	int (*tunnel)(void *ctx, const uint8_t wg[PROTO_KEY_LEN], struct kexd_tunnel *out);
	/* Start a handshake with the peer now. NULL for single-key backends. */
	void (*initiate)(void *ctx, const uint8_t wg[PROTO_KEY_LEN]);

	/* Transports: rec[0, len) is a signed KEX record for peer. In-tunnel:
	 * to the peer's overlay address. Mailbox: the registry's POST /v1/kex
	 * (NULL: no registry). 0 or -errno. */
	int (*send_tunnel)(void *ctx, const struct proto_cert *peer, const uint8_t *rec,
			   size_t len);
	int (*send_mailbox)(void *ctx, const struct proto_cert *peer, const uint8_t *rec,
			    size_t len);

	/* One key=value log line ("event=psk_install peer=bob version=3"). */
	void (*log)(void *ctx, bool error, const char *line);
};

struct kexd_config {
	/* Timings, validated by pol_psk_config_check. strict_probation and
	 * agreed_activation are set by kexd from `ring` (ring: strict;
	 * single-key: agreed), whatever the caller put there. */
	struct pol_psk_config psk;
	bool ring;		       /* the backend keeps a PSK ring (see above) */
	const char *state_dir;	       /* PSK files go to state_dir/psk/; NULL: not kept */
	const struct proto_cert *self; /* this node's, verified; copied */
	const uint8_t *identity_seed;  /* Ed25519 seed, 32 bytes; copied, wiped on free */
	const struct sc_env *env;      /* randomness and wall clock; must outlive kexd */
	/* TEST ONLY (docs/pq.md, the revert test): when this side installs
	 * this version, the backend gets a corrupted key. 0: never. */
	uint64_t test_only_corrupt_version;
};

/* 0 and *out, -EINVAL (config), -ENOMEM. */
int kexd_new(const struct kexd_config *cfg, const struct kexd_ops *ops, void *ctx,
	     struct kexd **out);
/* Wipes every key. NULL is fine. */
void kexd_free(struct kexd *kd);

/* Start (or keep) key exchange with peer (its certificate verified by the
 * caller, same network). A new pair restores what the state directory
 * holds for that peer and programs it into the backend at once (nothing
 * is programmed for a peer without a valid file). Adding a known peer
 * again only updates its certificate; a certificate for the same
 * WireGuard key with another name or identity replaces the pair. 0,
 * -EINVAL, -EEXIST (another WireGuard key already has that name: one file
 * per name), -ENOSPC, -ENOMEM. */
int kexd_peer_add(struct kexd *kd, const struct proto_cert *peer, uint64_t now);
/* The backend lost the peer's keys (it was removed and added again):
 * program the kept PSKs again. 0, -ENOENT, or the backend's error. */
int kexd_peer_reapply(struct kexd *kd, const uint8_t wg[PROTO_KEY_LEN]);
/* Stop exchanging with the peer; its saved PSKs stay on disk. */
void kexd_peer_remove(struct kexd *kd, const uint8_t wg[PROTO_KEY_LEN]);

enum kexd_via { KEXD_VIA_TUNNEL, KEXD_VIA_MAILBOX };
/* A KEX record arrived. Decoded, matched to a pair by its sender's
 * WireGuard key, addressed to us, verified against both certificates,
 * then stepped. 0, POL_PSK_DUPLICATE, or why it was refused (-ENOENT: no
 * such pair; the proto_kex / pol_psk codes), which changed nothing. */
int kexd_receive(struct kexd *kd, const uint8_t *rec, size_t len, enum kexd_via via, uint64_t now);
/* Poll the backend (traffic and handshakes become RX events; a pair's
 * first poll is only a baseline) and run every timer due at now. Call it at kexd_next_timer() and at least every second
 * (traffic is polled, not pushed). */
void kexd_tick(struct kexd *kd, uint64_t now);
/* The earliest time kexd_tick has something to do (UINT64_MAX: nothing). */
uint64_t kexd_next_timer(const struct kexd *kd);

/* Per-peer status, for scopectl status and the registry report. */
struct kexd_peer_status {
	char name[PROTO_PEER_NAME_MAX + 1];
	uint8_t wg[PROTO_KEY_LEN];
	struct pol_psk_status psk;
	uint32_t classical;	 /* 0 no handshake, 1 handshake pending, 2 session */
	uint64_t active_since_s; /* wall: when psk.active was installed; 0 none */
	uint64_t reverts;	 /* reverts since start */
	uint64_t last_revert_s;	 /* wall; 0 never */
};
/* 0, -ENOENT. */
int kexd_peer_status(const struct kexd *kd, const uint8_t wg[PROTO_KEY_LEN],
		     struct kexd_peer_status *out);
size_t kexd_peer_count(const struct kexd *kd);
/* The i-th pair (0 <= i < count) in no particular order. 0, -ENOENT. */
int kexd_peer_status_at(const struct kexd *kd, size_t i, struct kexd_peer_status *out);

#endif
