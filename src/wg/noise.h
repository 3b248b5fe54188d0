/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * WireGuard's handshake: Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s (paper,
 * section 5.4), in two layers.
 *
 * The Noise core (noise_symmetric_*, noise_initiator_*, noise_responder_*)
 * runs the four messages' tokens with every input explicit: prologue,
 * ephemeral private keys, payloads, PSKs. The Noise test vectors drive it
 * directly. It knows nothing of WireGuard's framing.
 *
 * The WireGuard layer (noise_create_* / noise_consume_* / noise_begin_session)
 * frames those tokens into the wire messages of messages.h, draws ephemerals
 * from the environment's RNG, stamps and checks TAI64N timestamps, limits
 * initiation floods and derives transport keypairs. It does not touch index
 * or peer tables: the device looks up the peer between the two halves of
 * consuming an initiation, and allocates sender indices itself.
 *
 * Every function returns 0 or a negative errno: -EINVAL for a DH with a
 * low-order point or a missing identity, -EBADMSG when authentication fails,
 * -EALREADY for a replayed timestamp, -EBUSY for an initiation flood,
 * -EPROTO for a message that does not fit the handshake state. Temporaries
 * holding keys or DH results are wiped before returning; on failure the
 * caller's state is left as it was.
 *
 * One struct cry_aead is passed in for the ChaCha20-Poly1305 calls: it
 * belongs to the calling thread (see aead.h).
 */
#ifndef WG_NOISE_H
#define WG_NOISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/env.h"
#include "wg/messages.h"
#include "wg/replay.h"

struct cry_aead;

#define NOISE_CONSTRUCTION "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s"
#define NOISE_IDENTIFIER   "WireGuard v1 zx2c4 Jason@zx2c4.com"

/* Ci = HASH(Construction) and Hi = HASH(Ci || Identifier), precomputed. */
extern const uint8_t noise_initial_chaining_key[NOISE_HASH_LEN];
extern const uint8_t noise_initial_hash[NOISE_HASH_LEN];

/* ---- Noise core ------------------------------------------------------ */

/* Noise's SymmetricState minus the cipher key, which each token hands on. */
struct noise_symmetric {
	uint8_t ck[NOISE_HASH_LEN]; /* chaining key */
	uint8_t h[NOISE_HASH_LEN];  /* handshake hash */
};

/* h = ck = HASH(Construction); MixHash(prologue); MixHash(rs) (IK's
 * pre-message: the responder's static key is known to both). */
void noise_symmetric_init(struct noise_symmetric *ss, const void *prologue, size_t plen,
			  const uint8_t rs[NOISE_PUBLIC_KEY_LEN]);
/* The same with WireGuard's prologue, from the precomputed Ci and Hi. */
void noise_symmetric_init_wg(struct noise_symmetric *ss, const uint8_t rs[NOISE_PUBLIC_KEY_LEN]);

/* Initiator, message 1: -> e, es, s, ss, {payload}. out receives
 * e.pub (32) || {s.pub} (48) || {payload} (plen + 16). ss_dh is DH(s, rs),
 * which WireGuard precomputes per peer. */
int noise_initiator_write(struct cry_aead *a, struct noise_symmetric *ss, const uint8_t e_priv[32],
			  const uint8_t s_pub[32], const uint8_t rs[32], const uint8_t ss_dh[32],
			  const void *payload, size_t plen, uint8_t *out);

/* Responder, message 1, first half: e, es, s. in is the first 80 bytes;
 * writes the initiator's ephemeral re and static is. The caller then finds
 * the peer whose key is is and computes or looks up DH(s, is). */
int noise_responder_read_start(struct cry_aead *a, struct noise_symmetric *ss,
			       const uint8_t s_priv[32], const uint8_t s_pub[32], const uint8_t *in,
			       uint8_t re[32], uint8_t is[32]);
/* Responder, message 1, second half: ss, {payload}. enc is the encrypted
 * payload (elen >= 16 bytes); payload receives elen - 16 bytes. */
int noise_responder_read_finish(struct cry_aead *a, struct noise_symmetric *ss,
				const uint8_t ss_dh[32], const uint8_t *enc, size_t elen,
				uint8_t *payload);

/* Responder, message 2: <- e, ee, se, psk, {payload}. out receives
 * e.pub (32) || {payload} (plen + 16). */
int noise_responder_write(struct cry_aead *a, struct noise_symmetric *ss, const uint8_t e_priv[32],
			  const uint8_t re[32], const uint8_t is[32], const uint8_t psk[32],
			  const void *payload, size_t plen, uint8_t *out);

/* Initiator, message 2, trying each of npsk (>= 1) preshared keys for the
 * psk token. Every key is tried whatever the outcome and the winner is
 * selected without branching on secrets, so the time does not tell which one
 * matched. in is e.pub || {payload}, inlen in 48..48 + NOISE_MAX_PAYLOAD;
 * writes re, the payload (inlen - 48 bytes) and which key matched. */
int noise_initiator_read(struct cry_aead *a, struct noise_symmetric *ss, const uint8_t e_priv[32],
			 const uint8_t e_pub[32], const uint8_t s_priv[32], const uint8_t s_pub[32],
			 const uint8_t (*psks)[32], size_t npsk, const uint8_t *in, size_t inlen,
			 uint8_t re[32], uint8_t *payload, size_t *which);

/* Split(): the initiator's sending key k1 and the responder's k2. */
void noise_split(const struct noise_symmetric *ss, uint8_t k1[32], uint8_t k2[32]);

/* ---- WireGuard layer --------------------------------------------------- */

struct noise_identity {
	uint8_t priv[NOISE_PUBLIC_KEY_LEN];
	uint8_t pub[NOISE_PUBLIC_KEY_LEN];
	bool has;
};

/* Set the static key pair from priv (clamped here, as wg(8) does). An
 * all-zero priv removes the identity (UAPI `private_key=0...`). 0 or -EIO. */
int noise_identity_set(struct noise_identity *id, const uint8_t priv[32]);
void noise_identity_clear(struct noise_identity *id);

enum noise_state {
	NOISE_ZEROED,
	NOISE_CREATED_INITIATION,
	NOISE_CONSUMED_INITIATION,
	NOISE_CREATED_RESPONSE,
	NOISE_CONSUMED_RESPONSE,
};

/* Per-peer handshake state. */
struct noise_handshake {
	enum noise_state state;
	struct noise_symmetric ss;
	uint8_t e_priv[NOISE_PUBLIC_KEY_LEN];
	uint8_t e_pub[NOISE_PUBLIC_KEY_LEN]; /* of e_priv, for the DHs that use it */
	uint8_t remote_e[NOISE_PUBLIC_KEY_LEN];
	uint8_t remote_static[NOISE_PUBLIC_KEY_LEN];
	/* DH(our static, remote static); all zero if either is missing or the
	 * result is a low-order point, and then no handshake can complete. */
	uint8_t precomputed_ss[NOISE_PUBLIC_KEY_LEN];
	/* Greatest TAI64N timestamp of an initiation consumed from this peer. */
	uint8_t latest_timestamp[NOISE_TIMESTAMP_LEN];
	uint64_t last_initiation_consumption;
	bool consumed_initiation;
	uint32_t remote_index;
};

/* A transport session (paper, section 5.4.6). The device keeps three per
 * peer: current, previous and next. */
struct noise_keypair {
	uint8_t send_key[NOISE_SYMMETRIC_KEY_LEN];
	uint8_t recv_key[NOISE_SYMMETRIC_KEY_LEN];
	uint64_t send_counter; /* next nonce to use */
	struct replay_window replay;
	uint64_t birthdate; /* monotonic ns */
	uint32_t local_index;
	uint32_t remote_index;
	bool initiator;
	bool send_valid;
	bool recv_valid;
};

/* Set the peer's static key and recompute DH(id, remote) (Linux
 * wg_noise_precompute_static_static); again whenever the identity changes. */
void noise_handshake_init(struct noise_handshake *hs, const uint8_t remote_static[32]);
void noise_handshake_precompute(struct noise_handshake *hs, const struct noise_identity *id);
/* Forget the exchange in progress (not the timestamp or flood state). */
void noise_handshake_zero(struct noise_handshake *hs);

/* TAI64N of a wall-clock time in ns since the Unix epoch, nanoseconds rounded
 * down to TAI64N_NSEC_GRANULARITY. */
void noise_tai64n(uint8_t out[NOISE_TIMESTAMP_LEN], uint64_t wall_ns);

/* Write an initiation with sender index idx (everything but the MACs). The
 * ephemeral comes from env->random, the timestamp from env->wall_ns. */
int noise_create_initiation(struct cry_aead *a, const struct sc_env *env,
			    const struct noise_identity *id, struct noise_handshake *hs,
			    uint32_t idx, struct wg_msg_initiation *msg);

/* What consuming an initiation carries from the first half to the second. */
struct noise_initiation_ctx {
	struct noise_symmetric ss;
	uint8_t re[NOISE_PUBLIC_KEY_LEN];
	uint8_t is[NOISE_PUBLIC_KEY_LEN];
};
/* First half: decrypt the initiator's static key into ctx->is. */
int noise_consume_initiation_start(struct cry_aead *a, const struct noise_identity *id,
				   const struct wg_msg_initiation *msg,
				   struct noise_initiation_ctx *ctx);
/* Second half, with the peer found by ctx->is: check the timestamp (strictly
 * greater than the last one, -EALREADY) and the flood limit (-EBUSY), then
 * store the state in hs. Wipes ctx in every case. */
int noise_consume_initiation_finish(struct cry_aead *a, struct noise_handshake *hs,
				    struct noise_initiation_ctx *ctx,
				    const struct wg_msg_initiation *msg, uint64_t now);

/* Write a response with sender index idx to the initiation consumed into hs,
 * with the preshared key psk. */
int noise_create_response(struct cry_aead *a, const struct sc_env *env, struct noise_handshake *hs,
			  uint32_t idx, const uint8_t psk[32], struct wg_msg_response *msg);
/* Consume a response to the initiation in hs, trying each of npsk keys (none:
 * the all-zero key); *which is the index of the one that matched. */
int noise_consume_response(struct cry_aead *a, const struct noise_identity *id,
			   struct noise_handshake *hs, const struct wg_msg_response *msg,
			   const uint8_t (*psks)[32], size_t npsk, size_t *which);

/* After a response was created or consumed: derive the keypair (its
 * local_index is left to the caller) and zero the handshake. -EPROTO in any
 * other state. */
int noise_begin_session(struct noise_handshake *hs, struct noise_keypair *kp, uint64_t now);
/* Wipe a keypair. */
void noise_keypair_wipe(struct noise_keypair *kp);

#endif
