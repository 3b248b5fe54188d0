/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * PSK versions of one pair of peers (DESIGN.md section 8, issue 7): who
 * decapsulates, and the per-pair state machine of the post-quantum key
 * exchange, as pure code. Messages are proto/kex.h records; the caller
 * signs, sends, receives and verifies them, and carries out the actions.
 *
 * Roles. The decapsulator of exchange v publishes a fresh X-Wing
 * encapsulation key (EK); the encapsulator answers with a ciphertext (CT);
 * both confirm with a MAC derived from PSK(v) (ACK, decapsulator first).
 * The decapsulator is the peer with the higher WireGuard key (32 bytes
 * compared big-endian), except that a newly joined peer always
 * encapsulates: for the pair's first exchange (v = 1) the peer whose
 * registry join time is strictly later encapsulates; equal join times fall
 * back to the key rule. The rule depends only on inputs both peers share
 * (both keys, both join times, v), so they always agree.
 *
 * The machine, driven by (event, now) with now in nanoseconds of one
 * monotonic clock (the table is in docs/pq.md):
 *   - the decapsulator starts exchange v = (highest version used) + 1 when
 *     the rotation is due, resending each unanswered message every `retry`;
 *     an exchange not confirmed within `timeout` (from the EK, and again
 *     from the CT) is abandoned and started over with a fresh key: under
 *     the same version if no CT came (once; for v = 1 always), else under
 *     the next; the encapsulator's ACK for a version abandoned after the
 *     CT still confirms it, until `activation + revert` later;
 *   - the encapsulator accepts an EK only for a version above any it has
 *     confirmed (and not below the one in progress) and an ek it has never
 *     seen; the decapsulator accepts one ciphertext per ek and then forgets
 *     the secret key;
 *   - a side that has checked its peer's MAC has confirmed v; v becomes the
 *     newest PSK `activation` after that (INSTALL), and the oldest kept
 *     version beyond `keep` is retired (RETIRE), never the last working one;
 *   - after a switch, if no in-tunnel traffic arrives for `revert` (counted
 *     from the switch or the last traffic, whichever is later) before any
 *     traffic proves the new version, the pair reverts to the last version
 *     traffic proved (REVERT, then RETIRE of the failed one; version 0 is
 *     "no PSK").
 */
#ifndef POL_PSKVER_H
#define POL_PSKVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/env.h"
#include "proto/kex.h"

#define POL_PSK_KEEP_MAX   4  /* the engine's PSK ring holds 4 */
#define POL_PSK_SEEN_MAX   64 /* hashes of encapsulation keys remembered */
#define POL_PSK_ACTION_MAX 8  /* actions of one step, at most */

/* Production floor of the rotation period (DESIGN.md section 12). */
#define POL_PSK_PERIOD_MIN (120 * SC_NSEC_PER_SEC)

/* Named outcomes of pol_psk_step beyond 0 and PROTO_ERR_KEX_*. */
#define POL_PSK_DUPLICATE     1		  /* a message seen before: answered again or ignored */
#define POL_PSK_ERR_ROLE      (-EPERM)	  /* message of the other role for its version */
#define POL_PSK_ERR_EK_REUSED (-EEXIST)	  /* an ek seen before, or a 2nd ciphertext for one */
#define POL_PSK_ERR_NOT_PAIR  (-ENOTUNIQ) /* message not between this pair's two peers */

enum pol_psk_role {
	POL_PSK_ENCAPS = 0,
	POL_PSK_DECAPS = 1,
};

struct pol_psk_config {
	uint64_t period;     /* rotation period; default 3600 s, >= POL_PSK_PERIOD_MIN */
	uint64_t activation; /* delay after confirmation; default 60 s */
	uint64_t revert;     /* loss after a switch before reverting; default 15 s */
	uint64_t retry;	     /* resend an unanswered message; default 10 s */
	uint64_t timeout;    /* abandon an unconfirmed exchange; default 120 s */
	uint32_t keep;	     /* kept versions, 2..POL_PSK_KEEP_MAX; default 3 */
	/* TEST ONLY: allow a period below POL_PSK_PERIOD_MIN (down to 1 ns).
	 * Production configuration never sets it; tests and scope-sim do. */
	bool test_only_short_period;
	/* Ring backends: while on probation only traffic on the new version
	 * (RX(active)) restarts the loss clock; traffic on an older session
	 * does not postpone the revert. false: any RX does (the default). */
	bool strict_probation;
	/* Single-key backends: both sides activate v at one wall-clock
	 * instant, the encapsulator's ACK `issued` (seconds) + activation,
	 * converted to the monotonic clock with env->wall_ns at confirmation
	 * (an instant already past activates at once; one more than
	 * 2 x activation ahead, from a skewed clock, is cut to that). Needs
	 * env->wall_ns. false: confirmation + activation, locally. */
	bool agreed_activation;
};

/* The defaults of DESIGN.md section 12, in nanoseconds. */
void pol_psk_config_default(struct pol_psk_config *cfg);
/* 0, or -EINVAL for a zero or (without the test override) too short period,
 * zero retry or revert, a timeout not above retry, keep out of range. */
int pol_psk_config_check(const struct pol_psk_config *cfg);

/* Who decapsulates exchange v of the pair (self, peer), as above. */
enum pol_psk_role pol_psk_role(const uint8_t self_wg[PROTO_KEY_LEN],
			       const uint8_t peer_wg[PROTO_KEY_LEN], uint64_t self_joined,
			       uint64_t peer_joined, uint64_t v);

/* What the caller must do, in order. */
enum pol_psk_action_type {
	POL_PSK_ACT_SEND = 1, /* sign *msg with the identity key, send it to the peer */
	POL_PSK_ACT_INSTALL,  /* push psk as `version`, the newest; save it */
	POL_PSK_ACT_RETIRE,   /* drop `version` from the ring and the saved set */
	POL_PSK_ACT_REVERT,   /* make `version` (0: no PSK) the newest again; report it */
	POL_PSK_ACT_STATE,    /* the pair's KEX state is now `state` (0..3) */
};

struct pol_psk_action {
	enum pol_psk_action_type type;
	uint64_t version;
	uint32_t state;			/* STATE */
	uint8_t psk[PROTO_KEX_PSK_LEN]; /* INSTALL, REVERT: secret, the caller wipes */
	const struct proto_kex *msg;	/* SEND: unsigned; valid until the next call */
};

struct pol_psk_out {
	size_t n;
	struct pol_psk_action a[POL_PSK_ACTION_MAX];
};

enum pol_psk_event_type {
	POL_PSK_EV_TICK = 0, /* time passed: timers only */
	POL_PSK_EV_MSG,	     /* a message from the peer, verified with proto_kex_verify */
	POL_PSK_EV_RX,	     /* in-tunnel traffic from the peer on a session of `version` */
};

struct pol_psk_event {
	enum pol_psk_event_type type;
	const struct proto_kex *msg; /* MSG */
	uint64_t version;	     /* RX: the PSK version of the session (0: none) */
};

/* KEX state per pair, reported to the registry (a report's "pq" is state 3):
 *   0 no PQ PSK and no exchange      1 an exchange in progress
 *   2 confirmed, waiting to activate 3 a PQ PSK is the newest */
#define POL_PSK_STATE_NONE	0
#define POL_PSK_STATE_EXCHANGE	1
#define POL_PSK_STATE_CONFIRMED 2
#define POL_PSK_STATE_ACTIVE	3

struct pol_psk_status {
	uint32_t state;
	enum pol_psk_role next_role; /* role in the next or current exchange */
	uint64_t exchange;	     /* version being exchanged, 0: none */
	uint64_t pending;	     /* confirmed, not yet active, 0: none */
	uint64_t pending_at;	     /* when it activates */
	uint64_t active;	     /* newest installed version, 0: none */
	uint64_t working;	     /* last version in-tunnel traffic proved, 0: none */
	size_t n_kept;
	uint64_t kept[POL_PSK_KEEP_MAX]; /* oldest first */
	uint64_t next_start;		 /* decapsulator: when the next exchange starts */
	uint64_t max_v;			 /* highest version started or accepted */
	uint64_t confirmed;		 /* highest version this side confirmed */
};

struct pol_psk;

/* A pair of self and peer, both certificates verified by the caller (same
 * network, different WireGuard keys); joined = registry join times (any one
 * clock). env supplies randomness (wall_ns for the issue time); it must
 * outlive the object. The first exchange is due at once. 0 and *out, or
 * -EINVAL, -ENOMEM. */
int pol_psk_new(struct pol_psk **out, const struct pol_psk_config *cfg,
		const struct proto_cert *self, const struct proto_cert *peer, uint64_t self_joined,
		uint64_t peer_joined, const struct sc_env *env, uint64_t now);
/* Wipes every key. NULL is fine. */
void pol_psk_free(struct pol_psk *p);

/* What the state directory keeps of a pair across a restart. Secret. */
struct pol_psk_saved {
	uint64_t max_v;	    /* highest version used */
	uint64_t confirmed; /* highest version confirmed */
	uint64_t working;   /* last version traffic proved, 0: none */
	size_t n;	    /* kept versions, oldest first */
	uint64_t v[POL_PSK_KEEP_MAX];
	uint8_t psk[POL_PSK_KEEP_MAX][PROTO_KEX_PSK_LEN];
};

/* Restore a pair after a restart, on an object fresh from pol_psk_new.
 * Checked first, all-or-nothing: n <= keep; versions >= 1, strictly
 * increasing, keys not all zero; working 0 or one of them; newest kept
 * <= confirmed <= max_v. Then the newest kept version is active (no
 * probation; the caller programs the keys it saved) and the next exchange
 * runs under max_v + 1. 0, -EINVAL, -EBUSY (not fresh). */
int pol_psk_restore(struct pol_psk *p, const struct pol_psk_saved *saved);

/* Advance to now (never earlier than the previous call): handle ev, then
 * run the timers due at now. out is always written, with every action to
 * carry out, even when the event is refused. Returns 0, POL_PSK_DUPLICATE
 * (a repeat, maybe answered again), or why the event was refused, which
 * then changed nothing: POL_PSK_ERR_NOT_PAIR, POL_PSK_ERR_ROLE,
 * POL_PSK_ERR_EK_REUSED, PROTO_ERR_KEX_VERSION (old, replayed or
 * unexpected version), PROTO_ERR_KEX_BINDING, PROTO_ERR_KEX_MAC, -EINVAL
 * (now going back, bad event), -EIO (randomness or crypto failed). */
int pol_psk_step(struct pol_psk *p, uint64_t now, const struct pol_psk_event *ev,
		 struct pol_psk_out *out);
/* The earliest time a TICK has something to do (UINT64_MAX: none). */
uint64_t pol_psk_next_timer(const struct pol_psk *p);
void pol_psk_status(const struct pol_psk *p, struct pol_psk_status *st);

#endif
