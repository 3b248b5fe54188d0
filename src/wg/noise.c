// SPDX-License-Identifier: GPL-2.0-only
/*
 * Noise_IKpsk2 as WireGuard runs it. The paper's notation, used in the
 * comments: Ci/Hi are the chaining key and hash, KDFn the HKDF of blake2s.h,
 * AEAD ChaCha20-Poly1305 with a zero nonce (each key encrypts once) and the
 * running hash as associated data.
 *
 *	IK:  <- s
 *	     ...
 *	     -> e, es, s, ss          (initiation, plus {timestamp})
 *	     <- e, ee, se, psk        (response, plus {})
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "crypto/aead.h"
#include "crypto/blake2s.h"
#include "crypto/ct.h"
#include "crypto/x25519.h"
#include "wg/limits.h"
#include "wg/noise.h"

/* HASH("Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s"), checked by the unit tests. */
const uint8_t noise_initial_chaining_key[NOISE_HASH_LEN] = {
	0x60, 0xe2, 0x6d, 0xae, 0xf3, 0x27, 0xef, 0xc0, 0x2e, 0xc3, 0x35,
	0xe2, 0xa0, 0x25, 0xd2, 0xd0, 0x16, 0xeb, 0x42, 0x06, 0xf8, 0x72,
	0x77, 0xf5, 0x2d, 0x38, 0xd1, 0x98, 0x8b, 0x78, 0xcd, 0x36,
};

/* HASH(Ci || "WireGuard v1 zx2c4 Jason@zx2c4.com"). */
const uint8_t noise_initial_hash[NOISE_HASH_LEN] = {
	0x22, 0x11, 0xb3, 0x61, 0x08, 0x1a, 0xc5, 0x66, 0x69, 0x12, 0x43,
	0xdb, 0x45, 0x8a, 0xd5, 0x32, 0x2d, 0x9c, 0x6c, 0x66, 0x22, 0x93,
	0xe8, 0xb7, 0x0e, 0xe1, 0x9c, 0x65, 0xba, 0x07, 0x9e, 0xf3,
};

/* A pointer to field f of a wire message, through which adjacent fields are
 * read or written as one run of bytes (Noise sees them as one message). */
#define FIELD(m, type, f)  ((uint8_t *)(m) + offsetof(type, f))
#define CFIELD(m, type, f) ((const uint8_t *)(m) + offsetof(type, f))

/* Non-NULL stand-in for empty inputs and outputs. */
static const uint8_t empty[1];

/* H = HASH(H || in) */
static void mix_hash(uint8_t h[NOISE_HASH_LEN], const void *in, size_t n)
{
	struct cry_blake2s s;

	cry_blake2s_init(&s, NOISE_HASH_LEN, NULL, 0);
	cry_blake2s_update(&s, h, NOISE_HASH_LEN);
	cry_blake2s_update(&s, in, n);
	cry_blake2s_final(&s, h);
}

/* (C, key) = KDF2(C, in), or C = KDF1(C, in) when key is NULL. Through a
 * temporary, so no output aliases the KDF's key. */
static void mix_key(uint8_t ck[NOISE_HASH_LEN], uint8_t *key, const void *in, size_t n)
{
	uint8_t c[NOISE_HASH_LEN];

	cry_wg_kdf(c, key, NULL, ck, in, n);
	memcpy(ck, c, sizeof(c));
	cry_wipe(c, sizeof(c));
}

/* The e token: the ephemeral public key is sent in the clear, so it goes into
 * both H and, since this is a psk handshake, C (Noise section 9.2). */
static void mix_ephemeral(struct noise_symmetric *ss, const uint8_t e_pub[NOISE_PUBLIC_KEY_LEN])
{
	mix_hash(ss->h, e_pub, NOISE_PUBLIC_KEY_LEN);
	mix_key(ss->ck, NULL, e_pub, NOISE_PUBLIC_KEY_LEN);
}

/* (C, key) = KDFn(C, DH(priv, pub)). A low-order pub gives an all-zero DH,
 * which cry_x25519 refuses: the handshake fails rather than mixing in a
 * value the attacker knows. own_pub is priv's public key, always at hand
 * here: given to OpenSSL it spares a base-point multiplication per DH. */
static int mix_dh(uint8_t ck[NOISE_HASH_LEN], uint8_t *key, const uint8_t priv[32],
		  const uint8_t own_pub[32], const uint8_t pub[32])
{
	uint8_t dh[NOISE_PUBLIC_KEY_LEN];
	int ret;

	ret = cry_x25519_kp(dh, priv, own_pub, pub);
	if (ret)
		goto out;
	mix_key(ck, key, dh, sizeof(dh));
out:
	cry_wipe(dh, sizeof(dh));
	return ret ? -EINVAL : 0;
}

/* Same with DH(s, rs) computed once per peer; all zero means it failed. */
static int mix_precomputed_dh(uint8_t ck[NOISE_HASH_LEN], uint8_t key[32], const uint8_t dh[32])
{
	if (cry_is_zero(dh, NOISE_PUBLIC_KEY_LEN))
		return -EINVAL;
	mix_key(ck, key, dh, NOISE_PUBLIC_KEY_LEN);
	return 0;
}

/* The psk token: (C, tau, key) = KDF3(C, Q); H = HASH(H || tau). */
static void mix_psk(struct noise_symmetric *ss, uint8_t key[32], const uint8_t psk[32])
{
	uint8_t c[NOISE_HASH_LEN], tau[NOISE_HASH_LEN];

	cry_wg_kdf(c, tau, key, ss->ck, psk, NOISE_SYMMETRIC_KEY_LEN);
	memcpy(ss->ck, c, sizeof(c));
	mix_hash(ss->h, tau, sizeof(tau));
	cry_wipe(c, sizeof(c));
	cry_wipe(tau, sizeof(tau));
}

/* out = AEAD(key, 0, in, H); H = HASH(H || out). */
static int encrypt_and_hash(struct cry_aead *a, uint8_t *out, const void *in, size_t n,
			    const uint8_t key[32], uint8_t h[NOISE_HASH_LEN])
{
	if (cry_aead_seal(a, key, 0, h, NOISE_HASH_LEN, n ? in : empty, n, out))
		return -EIO;
	mix_hash(h, out, noise_encrypted_len(n));
	return 0;
}

/* out = AEAD-Open(key, 0, in, H); H = HASH(H || in). in is n bytes with the
 * tag; out gets n - 16. */
static int decrypt_and_hash(struct cry_aead *a, uint8_t *out, const uint8_t *in, size_t n,
			    const uint8_t key[32], uint8_t h[NOISE_HASH_LEN])
{
	if (cry_aead_open(a, key, 0, h, NOISE_HASH_LEN, in, n, out))
		return -EBADMSG;
	mix_hash(h, in, n);
	return 0;
}

/* dst = mask ? src : dst, bytewise, with no branch on mask. */
static void ct_select(void *dst, const void *src, size_t n, uint8_t mask)
{
	uint8_t *d = dst;
	const uint8_t *s = src;
	size_t i;

	for (i = 0; i < n; i++)
		d[i] ^= (d[i] ^ s[i]) & mask;
}

void noise_symmetric_init(struct noise_symmetric *ss, const void *prologue, size_t plen,
			  const uint8_t rs[NOISE_PUBLIC_KEY_LEN])
{
	/* The name is longer than HASHLEN, so h = HASH(name) (Noise 5.2). */
	cry_blake2s(ss->h, NOISE_HASH_LEN, NULL, 0, NOISE_CONSTRUCTION,
		    sizeof(NOISE_CONSTRUCTION) - 1);
	memcpy(ss->ck, ss->h, NOISE_HASH_LEN);
	mix_hash(ss->h, plen ? prologue : empty, plen);
	mix_hash(ss->h, rs, NOISE_PUBLIC_KEY_LEN);
}

void noise_symmetric_init_wg(struct noise_symmetric *ss, const uint8_t rs[NOISE_PUBLIC_KEY_LEN])
{
	memcpy(ss->ck, noise_initial_chaining_key, NOISE_HASH_LEN);
	memcpy(ss->h, noise_initial_hash, NOISE_HASH_LEN);
	mix_hash(ss->h, rs, NOISE_PUBLIC_KEY_LEN);
}

int noise_initiator_write(struct cry_aead *a, struct noise_symmetric *ss, const uint8_t e_priv[32],
			  const uint8_t s_pub[32], const uint8_t rs[32], const uint8_t ss_dh[32],
			  const void *payload, size_t plen, uint8_t *out)
{
	uint8_t buf[32 + 48 + NOISE_MAX_PAYLOAD + 16], key[NOISE_SYMMETRIC_KEY_LEN];
	struct noise_symmetric t = *ss;
	int ret = -EMSGSIZE;

	if (plen > NOISE_MAX_PAYLOAD)
		goto out;
	/* e */
	ret = cry_x25519_pubkey(buf, e_priv) ? -EIO : 0;
	if (ret)
		goto out;
	mix_ephemeral(&t, buf);
	/* es */
	ret = mix_dh(t.ck, key, e_priv, buf, rs);
	if (ret)
		goto out;
	/* s */
	ret = encrypt_and_hash(a, buf + 32, s_pub, NOISE_PUBLIC_KEY_LEN, key, t.h);
	if (ret)
		goto out;
	/* ss */
	ret = mix_precomputed_dh(t.ck, key, ss_dh);
	if (ret)
		goto out;
	/* {payload} */
	ret = encrypt_and_hash(a, buf + 80, payload, plen, key, t.h);
	if (ret)
		goto out;
	memcpy(out, buf, 80 + noise_encrypted_len(plen));
	*ss = t;
out:
	cry_wipe(key, sizeof(key));
	cry_wipe(&t, sizeof(t));
	return ret;
}

int noise_responder_read_start(struct cry_aead *a, struct noise_symmetric *ss,
			       const uint8_t s_priv[32], const uint8_t s_pub[32], const uint8_t *in,
			       uint8_t re[32], uint8_t is[32])
{
	uint8_t key[NOISE_SYMMETRIC_KEY_LEN], s[NOISE_PUBLIC_KEY_LEN];
	struct noise_symmetric t = *ss;
	int ret;

	/* e */
	mix_ephemeral(&t, in);
	/* es */
	ret = mix_dh(t.ck, key, s_priv, s_pub, in);
	if (ret)
		goto out;
	/* s */
	ret = decrypt_and_hash(a, s, in + 32, noise_encrypted_len(NOISE_PUBLIC_KEY_LEN), key, t.h);
	if (ret)
		goto out;
	memcpy(re, in, NOISE_PUBLIC_KEY_LEN);
	memcpy(is, s, NOISE_PUBLIC_KEY_LEN);
	*ss = t;
out:
	cry_wipe(key, sizeof(key));
	cry_wipe(&t, sizeof(t));
	return ret;
}

int noise_responder_read_finish(struct cry_aead *a, struct noise_symmetric *ss,
				const uint8_t ss_dh[32], const uint8_t *enc, size_t elen,
				uint8_t *payload)
{
	uint8_t key[NOISE_SYMMETRIC_KEY_LEN], p[NOISE_MAX_PAYLOAD + 1];
	struct noise_symmetric t = *ss;
	int ret = -EMSGSIZE;

	if (elen < NOISE_AUTHTAG_LEN || elen - NOISE_AUTHTAG_LEN > NOISE_MAX_PAYLOAD)
		goto out;
	/* ss */
	ret = mix_precomputed_dh(t.ck, key, ss_dh);
	if (ret)
		goto out;
	/* {payload} */
	ret = decrypt_and_hash(a, p, enc, elen, key, t.h);
	if (ret)
		goto out;
	memcpy(payload, p, elen - NOISE_AUTHTAG_LEN);
	*ss = t;
out:
	cry_wipe(key, sizeof(key));
	cry_wipe(p, sizeof(p));
	cry_wipe(&t, sizeof(t));
	return ret;
}

int noise_responder_write(struct cry_aead *a, struct noise_symmetric *ss, const uint8_t e_priv[32],
			  const uint8_t re[32], const uint8_t is[32], const uint8_t psk[32],
			  const void *payload, size_t plen, uint8_t *out)
{
	uint8_t buf[32 + NOISE_MAX_PAYLOAD + 16], key[NOISE_SYMMETRIC_KEY_LEN];
	struct noise_symmetric t = *ss;
	int ret = -EMSGSIZE;

	if (plen > NOISE_MAX_PAYLOAD)
		goto out;
	/* e */
	ret = cry_x25519_pubkey(buf, e_priv) ? -EIO : 0;
	if (ret)
		goto out;
	mix_ephemeral(&t, buf);
	/* ee */
	ret = mix_dh(t.ck, NULL, e_priv, buf, re);
	if (ret)
		goto out;
	/* se */
	ret = mix_dh(t.ck, NULL, e_priv, buf, is);
	if (ret)
		goto out;
	/* psk */
	mix_psk(&t, key, psk);
	/* {payload} */
	ret = encrypt_and_hash(a, buf + 32, payload, plen, key, t.h);
	if (ret)
		goto out;
	memcpy(out, buf, 32 + noise_encrypted_len(plen));
	*ss = t;
out:
	cry_wipe(key, sizeof(key));
	cry_wipe(&t, sizeof(t));
	return ret;
}

int noise_initiator_read(struct cry_aead *a, struct noise_symmetric *ss, const uint8_t e_priv[32],
			 const uint8_t e_pub[32], const uint8_t s_priv[32], const uint8_t s_pub[32],
			 const uint8_t (*psks)[32], size_t npsk, const uint8_t *in, size_t inlen,
			 uint8_t re[32], uint8_t *payload, size_t *which)
{
	uint8_t key[NOISE_SYMMETRIC_KEY_LEN], p[NOISE_MAX_PAYLOAD + 1],
		best_p[NOISE_MAX_PAYLOAD + 1];
	struct noise_symmetric t = *ss, try, best;
	size_t elen = inlen - 32, plen = elen - NOISE_AUTHTAG_LEN, i, best_i = 0;
	uint8_t found = 0, ok, mask;
	int ret = -EMSGSIZE;

	memset(&best, 0, sizeof(best));
	memset(best_p, 0, sizeof(best_p));
	if (inlen < 32 + NOISE_AUTHTAG_LEN || plen > NOISE_MAX_PAYLOAD || !npsk)
		goto out;
	/* e */
	mix_ephemeral(&t, in);
	/* ee */
	ret = mix_dh(t.ck, NULL, e_priv, e_pub, in);
	if (ret)
		goto out;
	/* se */
	ret = mix_dh(t.ck, NULL, s_priv, s_pub, in);
	if (ret)
		goto out;
	/* psk, {payload}: the only tokens that depend on the preshared key, so
	 * each key of the ring is tried from here on a copy of the state. */
	for (i = 0; i < npsk; i++) {
		try = t;
		mix_psk(&try, key, psks[i]);
		ok = cry_aead_open(a, key, 0, try.h, NOISE_HASH_LEN, in + 32, elen, p) == 0;
		mix_hash(try.h, in + 32, elen);
		mask = (uint8_t) - (ok & (found ^ 1));
		ct_select(&best, &try, sizeof(best), mask);
		ct_select(best_p, p, plen, mask);
		best_i = (best_i & ~(size_t) - (size_t)(mask & 1)) |
			 (i & (size_t) - (size_t)(mask & 1));
		found |= ok;
	}
	ret = found ? 0 : -EBADMSG;
	if (ret)
		goto out;
	memcpy(re, in, NOISE_PUBLIC_KEY_LEN);
	memcpy(payload, best_p, plen);
	*ss = best;
	*which = best_i;
out:
	cry_wipe(key, sizeof(key));
	cry_wipe(p, sizeof(p));
	cry_wipe(best_p, sizeof(best_p));
	cry_wipe(&t, sizeof(t));
	cry_wipe(&try, sizeof(try));
	cry_wipe(&best, sizeof(best));
	return ret;
}

void noise_split(const struct noise_symmetric *ss, uint8_t k1[32], uint8_t k2[32])
{
	/* (T1, T2) = KDF2(C, empty) */
	cry_wg_kdf(k1, k2, NULL, ss->ck, empty, 0);
}

/* ---- WireGuard layer --------------------------------------------------- */

int noise_identity_set(struct noise_identity *id, const uint8_t priv[32])
{
	uint8_t k[NOISE_PUBLIC_KEY_LEN], pub[NOISE_PUBLIC_KEY_LEN];
	int ret = 0;

	if (cry_is_zero(priv, NOISE_PUBLIC_KEY_LEN)) {
		noise_identity_clear(id);
		return 0;
	}
	memcpy(k, priv, sizeof(k));
	cry_x25519_clamp(k);
	if (cry_x25519_pubkey(pub, k)) {
		ret = -EIO;
		goto out;
	}
	memcpy(id->priv, k, sizeof(k));
	memcpy(id->pub, pub, sizeof(pub));
	id->has = true;
out:
	cry_wipe(k, sizeof(k));
	return ret;
}

void noise_identity_clear(struct noise_identity *id)
{
	cry_wipe(id, sizeof(*id));
	id->has = false;
}

void noise_handshake_init(struct noise_handshake *hs, const uint8_t remote_static[32])
{
	cry_wipe(hs, sizeof(*hs));
	hs->state = NOISE_ZEROED;
	memcpy(hs->remote_static, remote_static, NOISE_PUBLIC_KEY_LEN);
}

void noise_handshake_precompute(struct noise_handshake *hs, const struct noise_identity *id)
{
	uint8_t dh[NOISE_PUBLIC_KEY_LEN];

	if (id->has && !cry_x25519(dh, id->priv, hs->remote_static))
		memcpy(hs->precomputed_ss, dh, sizeof(dh));
	else
		cry_wipe(hs->precomputed_ss, sizeof(hs->precomputed_ss));
	cry_wipe(dh, sizeof(dh));
}

void noise_handshake_zero(struct noise_handshake *hs)
{
	cry_wipe(&hs->ss, sizeof(hs->ss));
	cry_wipe(hs->e_priv, sizeof(hs->e_priv));
	cry_wipe(hs->remote_e, sizeof(hs->remote_e));
	hs->remote_index = 0;
	hs->state = NOISE_ZEROED;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

void noise_tai64n(uint8_t out[NOISE_TIMESTAMP_LEN], uint64_t wall_ns)
{
	/* TAI64 labels second s of the Unix epoch 2^62 + 10 + s (cr.yp.to/libtai). */
	uint64_t sec = 0x400000000000000aull + wall_ns / SC_NSEC_PER_SEC;
	uint32_t nsec = (uint32_t)(wall_ns % SC_NSEC_PER_SEC);

	nsec -= nsec % TAI64N_NSEC_GRANULARITY;
	put_be32(out, (uint32_t)(sec >> 32));
	put_be32(out + 4, (uint32_t)sec);
	put_be32(out + 8, nsec);
}

/* Big-endian timestamps compare like numbers: <0, 0, >0. Timestamps are not
 * secret, but the loop avoids memcmp in src/ altogether. */
static int timestamp_cmp(const uint8_t a[NOISE_TIMESTAMP_LEN], const uint8_t b[NOISE_TIMESTAMP_LEN])
{
	size_t i;

	for (i = 0; i < NOISE_TIMESTAMP_LEN; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return 0;
}

static int new_ephemeral(const struct sc_env *env, uint8_t e_priv[32])
{
	int ret = env->random(env->ctx, e_priv, NOISE_PUBLIC_KEY_LEN);

	if (ret)
		return ret < 0 ? ret : -EIO;
	cry_x25519_clamp(e_priv);
	return 0;
}

int noise_create_initiation(struct cry_aead *a, const struct sc_env *env,
			    const struct noise_identity *id, struct noise_handshake *hs,
			    uint32_t idx, struct wg_msg_initiation *msg)
{
	uint8_t e_priv[NOISE_PUBLIC_KEY_LEN], ts[NOISE_TIMESTAMP_LEN];
	struct noise_symmetric ss;
	struct wg_msg_initiation m;
	int ret = -EINVAL;

	memset(&m, 0, sizeof(m));
	if (!id->has)
		goto out;
	ret = new_ephemeral(env, e_priv);
	if (ret)
		goto out;
	noise_tai64n(ts, env->wall_ns(env->ctx));
	noise_symmetric_init_wg(&ss, hs->remote_static);
	/* e, es, s, ss, {t}: ephemeral || static || timestamp are adjacent. */
	ret = noise_initiator_write(a, &ss, e_priv, id->pub, hs->remote_static, hs->precomputed_ss,
				    ts, sizeof(ts), FIELD(&m, struct wg_msg_initiation, ephemeral));
	if (ret)
		goto out;
	wg_put_le32(m.type, MESSAGE_HANDSHAKE_INITIATION);
	wg_put_le32(m.sender, idx);
	hs->ss = ss;
	memcpy(hs->e_priv, e_priv, sizeof(e_priv));
	memcpy(hs->e_pub, m.ephemeral, sizeof(hs->e_pub));
	hs->state = NOISE_CREATED_INITIATION;
	*msg = m;
out:
	cry_wipe(e_priv, sizeof(e_priv));
	cry_wipe(&ss, sizeof(ss));
	return ret;
}

int noise_consume_initiation_start(struct cry_aead *a, const struct noise_identity *id,
				   const struct wg_msg_initiation *msg,
				   struct noise_initiation_ctx *ctx)
{
	struct noise_initiation_ctx c;
	int ret;

	if (!id->has)
		return -EINVAL;
	noise_symmetric_init_wg(&c.ss, id->pub);
	/* e, es, s */
	ret = noise_responder_read_start(a, &c.ss, id->priv, id->pub,
					 CFIELD(msg, struct wg_msg_initiation, ephemeral), c.re,
					 c.is);
	if (!ret)
		*ctx = c;
	cry_wipe(&c, sizeof(c));
	return ret;
}

int noise_consume_initiation_finish(struct cry_aead *a, struct noise_handshake *hs,
				    struct noise_initiation_ctx *ctx,
				    const struct wg_msg_initiation *msg, uint64_t now)
{
	uint8_t ts[NOISE_TIMESTAMP_LEN];
	int ret;

	/* ss, {t} */
	ret = noise_responder_read_finish(a, &ctx->ss, hs->precomputed_ss, msg->encrypted_timestamp,
					  sizeof(msg->encrypted_timestamp), ts);
	if (ret)
		goto out;
	/* A replayed initiation cannot carry a newer timestamp than the last
	 * one consumed: only the real initiator can make one. */
	if (timestamp_cmp(ts, hs->latest_timestamp) <= 0) {
		ret = -EALREADY;
		goto out;
	}
	/* Even fresh ones are consumed at most INITIATIONS_PER_SECOND times a
	 * second, so a peer's key cannot make us burn CPU on responses. */
	if (hs->consumed_initiation &&
	    now < hs->last_initiation_consumption + SC_NSEC_PER_SEC / INITIATIONS_PER_SECOND) {
		ret = -EBUSY;
		goto out;
	}
	memcpy(hs->remote_e, ctx->re, NOISE_PUBLIC_KEY_LEN);
	memcpy(hs->latest_timestamp, ts, sizeof(ts));
	hs->ss = ctx->ss;
	hs->remote_index = wg_get_le32(msg->sender);
	if (!hs->consumed_initiation || now > hs->last_initiation_consumption)
		hs->last_initiation_consumption = now;
	hs->consumed_initiation = true;
	hs->state = NOISE_CONSUMED_INITIATION;
out:
	cry_wipe(ctx, sizeof(*ctx));
	return ret;
}

int noise_create_response(struct cry_aead *a, const struct sc_env *env, struct noise_handshake *hs,
			  uint32_t idx, const uint8_t psk[32], struct wg_msg_response *msg)
{
	uint8_t e_priv[NOISE_PUBLIC_KEY_LEN];
	struct noise_symmetric ss = hs->ss;
	struct wg_msg_response m;
	int ret = -EPROTO;

	memset(&m, 0, sizeof(m));
	if (hs->state != NOISE_CONSUMED_INITIATION)
		goto out;
	ret = new_ephemeral(env, e_priv);
	if (ret)
		goto out;
	/* e, ee, se, psk, {}: ephemeral || encrypted_nothing are adjacent. */
	ret = noise_responder_write(a, &ss, e_priv, hs->remote_e, hs->remote_static, psk, empty, 0,
				    FIELD(&m, struct wg_msg_response, ephemeral));
	if (ret)
		goto out;
	wg_put_le32(m.type, MESSAGE_HANDSHAKE_RESPONSE);
	wg_put_le32(m.sender, idx);
	wg_put_le32(m.receiver, hs->remote_index);
	hs->ss = ss;
	memcpy(hs->e_priv, e_priv, sizeof(e_priv));
	hs->state = NOISE_CREATED_RESPONSE;
	*msg = m;
out:
	cry_wipe(e_priv, sizeof(e_priv));
	cry_wipe(&ss, sizeof(ss));
	return ret;
}

int noise_consume_response(struct cry_aead *a, const struct noise_identity *id,
			   struct noise_handshake *hs, const struct wg_msg_response *msg,
			   const uint8_t (*psks)[32], size_t npsk, size_t *which)
{
	static const uint8_t zero_psk[1][NOISE_SYMMETRIC_KEY_LEN];
	struct noise_symmetric ss = hs->ss;
	uint8_t re[NOISE_PUBLIC_KEY_LEN], payload[1];
	size_t w;
	int ret = -EINVAL;

	if (!id->has)
		goto out;
	ret = -EPROTO;
	if (hs->state != NOISE_CREATED_INITIATION)
		goto out;
	if (!npsk) {
		psks = zero_psk;
		npsk = 1;
	}
	/* e, ee, se, psk, {} */
	ret = noise_initiator_read(a, &ss, hs->e_priv, hs->e_pub, id->priv, id->pub, psks, npsk,
				   CFIELD(msg, struct wg_msg_response, ephemeral),
				   NOISE_PUBLIC_KEY_LEN + sizeof(msg->encrypted_nothing), re,
				   payload, &w);
	if (ret)
		goto out;
	memcpy(hs->remote_e, re, sizeof(re));
	hs->ss = ss;
	hs->remote_index = wg_get_le32(msg->sender);
	hs->state = NOISE_CONSUMED_RESPONSE;
	*which = w;
out:
	cry_wipe(&ss, sizeof(ss));
	return ret;
}

int noise_begin_session(struct noise_handshake *hs, struct noise_keypair *kp, uint64_t now)
{
	uint8_t k1[NOISE_SYMMETRIC_KEY_LEN], k2[NOISE_SYMMETRIC_KEY_LEN];
	bool initiator = hs->state == NOISE_CONSUMED_RESPONSE;

	if (hs->state != NOISE_CREATED_RESPONSE && hs->state != NOISE_CONSUMED_RESPONSE)
		return -EPROTO;
	noise_split(&hs->ss, k1, k2);
	cry_wipe(kp, sizeof(*kp));
	/* The initiator sends with the first key, the responder with the second. */
	memcpy(kp->send_key, initiator ? k1 : k2, NOISE_SYMMETRIC_KEY_LEN);
	memcpy(kp->recv_key, initiator ? k2 : k1, NOISE_SYMMETRIC_KEY_LEN);
	replay_init(&kp->replay);
	kp->birthdate = now;
	kp->remote_index = hs->remote_index;
	kp->initiator = initiator;
	kp->send_valid = true;
	kp->recv_valid = true;
	noise_handshake_zero(hs);
	cry_wipe(k1, sizeof(k1));
	cry_wipe(k2, sizeof(k2));
	return 0;
}

void noise_keypair_wipe(struct noise_keypair *kp)
{
	cry_wipe(kp, sizeof(*kp));
}
