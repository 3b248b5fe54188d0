// SPDX-License-Identifier: GPL-2.0-only
/*
 * The Noise core against the Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s vector of
 * the cacophony set (../shared/vectors/wireguard/SOURCE.md), WireGuard's
 * precomputed constants, TAI64N, and the framed messages of noise.h.
 */
#include <errno.h>
#include <stdint.h>

#include "test.h"

#include "crypto/aead.h"
#include "crypto/blake2s.h"
#include "crypto/x25519.h"
#include "wg/noise.h"

/* Ci and Hi as SOURCE.md gives them (from boringtun), independent of noise.c. */
static const char ci_hex[] = "60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36";
static const char hi_hex[] = "2211b361081ac566691243db458ad5322d9c6c662293e8b70ee19c65ba079ef3";

static void test_constants(void)
{
	uint8_t ci[32], hi[32];
	unsigned char *want;
	size_t n;

	CHECK_EQ(cry_blake2s(ci, 32, NULL, 0, NOISE_CONSTRUCTION, strlen(NOISE_CONSTRUCTION)), 0);
	{
		struct cry_blake2s s;

		cry_blake2s_init(&s, 32, NULL, 0);
		cry_blake2s_update(&s, ci, 32);
		cry_blake2s_update(&s, NOISE_IDENTIFIER, strlen(NOISE_IDENTIFIER));
		cry_blake2s_final(&s, hi);
	}
	want = t_unhex(ci_hex, &n);
	CHECK(want && n == 32);
	CHECK_MEM(ci, want, 32);
	CHECK_MEM(noise_initial_chaining_key, want, 32);
	free(want);
	want = t_unhex(hi_hex, &n);
	CHECK(want && n == 32);
	CHECK_MEM(hi, want, 32);
	CHECK_MEM(noise_initial_hash, want, 32);
	free(want);
}

static void test_init_wg_matches_generic(void)
{
	struct noise_symmetric a, b;
	uint8_t rs[32];

	memset(rs, 0x42, sizeof(rs));
	noise_symmetric_init(&a, NOISE_IDENTIFIER, strlen(NOISE_IDENTIFIER), rs);
	noise_symmetric_init_wg(&b, rs);
	CHECK_MEM(a.ck, b.ck, 32);
	CHECK_MEM(a.h, b.h, 32);
}

/* ---- the cacophony vector ---------------------------------------------- */

/* The hex string value of "key" (or the first string of an array) at or
 * after from; *next is set past it. A tiny reader for a file we control. */
static unsigned char *json_hex(const char *from, const char *key, size_t *len, const char **next)
{
	char pat[64];
	const char *p, *q;
	char *hex;
	unsigned char *out;

	snprintf(pat, sizeof(pat), "\"%s\"", key);
	p = strstr(from, pat);
	if (!p)
		return NULL;
	p = strchr(p + strlen(pat), '"');
	if (!p)
		return NULL;
	q = strchr(p + 1, '"');
	if (!q)
		return NULL;
	hex = strndup(p + 1, (size_t)(q - p - 1));
	out = hex ? t_unhex(hex, len) : NULL;
	free(hex);
	if (next)
		*next = q + 1;
	return out;
}

struct vec {
	unsigned char *prologue, *psk, *i_static, *i_eph, *r_pub, *r_static, *r_eph, *hash;
	unsigned char *payload[6], *cipher[6];
	size_t plen[6], clen[6], prologue_len;
};

static int vec_load(struct vec *v, const char *json)
{
	const char *p;
	size_t n;
	int i;

	memset(v, 0, sizeof(*v));
	v->prologue = json_hex(json, "init_prologue", &v->prologue_len, NULL);
	v->psk = json_hex(json, "init_psks", &n, NULL);
	v->i_static = json_hex(json, "init_static", &n, NULL);
	v->i_eph = json_hex(json, "init_ephemeral", &n, NULL);
	v->r_pub = json_hex(json, "init_remote_static", &n, NULL);
	v->r_static = json_hex(json, "resp_static", &n, NULL);
	v->r_eph = json_hex(json, "resp_ephemeral", &n, NULL);
	v->hash = json_hex(json, "handshake_hash", &n, NULL);
	p = strstr(json, "\"messages\"");
	for (i = 0; p && i < 6; i++) {
		v->payload[i] = json_hex(p, "payload", &v->plen[i], &p);
		v->cipher[i] = p ? json_hex(p, "ciphertext", &v->clen[i], &p) : NULL;
		if (!v->payload[i] || !v->cipher[i])
			return -1;
	}
	return v->prologue && v->psk && v->i_static && v->i_eph && v->r_pub && v->r_static &&
			       v->r_eph && v->hash
		       ? 0
		       : -1;
}

static void vec_free(struct vec *v)
{
	int i;

	free(v->prologue), free(v->psk), free(v->i_static), free(v->i_eph), free(v->r_pub);
	free(v->r_static), free(v->r_eph), free(v->hash);
	for (i = 0; i < 6; i++)
		free(v->payload[i]), free(v->cipher[i]);
}

static void test_cacophony_vector(void)
{
	const char *path = t_vector("wireguard/noise-IKpsk2_25519_ChaChaPoly_BLAKE2s.json");
	struct noise_symmetric si, sr;
	uint8_t i_pub[32], ss_i[32], ss_r[32], re[32], is[32], ie[32];
	uint8_t m1[256], m2[256], pay[64], ki1[32], ki2[32], kr1[32], kr2[32], out[256];
	uint8_t psks[2][32];
	struct cry_aead *a;
	struct vec v;
	char *json;
	size_t which = 9;
	int i;

	if (!path)
		return;
	json = t_slurp(path, NULL);
	CHECK(json != NULL);
	if (!json)
		return;
	CHECK_EQ(vec_load(&v, json), 0);
	a = cry_aead_new();
	CHECK(a != NULL);

	/* Both sides start from the protocol name, the prologue and the
	 * responder's static key. */
	noise_symmetric_init(&si, v.prologue, v.prologue_len, v.r_pub);
	noise_symmetric_init(&sr, v.prologue, v.prologue_len, v.r_pub);
	CHECK_EQ(cry_x25519_pubkey(i_pub, v.i_static), 0);
	CHECK_EQ(cry_x25519(ss_i, v.i_static, v.r_pub), 0);

	/* Message 1: e, es, s, ss, {payload}. */
	CHECK_EQ(v.clen[0], 80 + v.plen[0] + 16);
	CHECK_EQ(noise_initiator_write(a, &si, v.i_eph, i_pub, v.r_pub, ss_i, v.payload[0],
				       v.plen[0], m1),
		 0);
	CHECK_MEM(m1, v.cipher[0], v.clen[0]);
	CHECK_EQ(noise_responder_read_start(a, &sr, v.r_static, v.r_pub, v.cipher[0], ie, is), 0);
	CHECK_MEM(is, i_pub, 32);
	CHECK_EQ(cry_x25519(ss_r, v.r_static, is), 0);
	CHECK_EQ(noise_responder_read_finish(a, &sr, ss_r, v.cipher[0] + 80, v.clen[0] - 80, pay),
		 0);
	CHECK_MEM(pay, v.payload[0], v.plen[0]);
	CHECK_MEM(si.h, sr.h, 32);

	/* Message 2: e, ee, se, psk, {payload}; the initiator tries a wrong
	 * PSK first, as with a ring. */
	CHECK_EQ(v.clen[1], 32 + v.plen[1] + 16);
	CHECK_EQ(noise_responder_write(a, &sr, v.r_eph, ie, is, v.psk, v.payload[1], v.plen[1], m2),
		 0);
	CHECK_MEM(m2, v.cipher[1], v.clen[1]);
	memset(psks[0], 0x55, 32);
	memcpy(psks[1], v.psk, 32);
	CHECK_EQ(noise_initiator_read(a, &si, v.i_eph, m1, v.i_static, i_pub,
				      (const uint8_t(*)[32])psks, 2, v.cipher[1], v.clen[1], re,
				      pay, &which),
		 0);
	CHECK_EQ(which, 1);
	CHECK_MEM(pay, v.payload[1], v.plen[1]);
	CHECK_MEM(si.h, v.hash, 32);
	CHECK_MEM(sr.h, v.hash, 32);

	/* Transport: initiator sends with k1, responder with k2, counters
	 * per direction from 0. */
	noise_split(&si, ki1, ki2);
	noise_split(&sr, kr1, kr2);
	CHECK_MEM(ki1, kr1, 32);
	CHECK_MEM(ki2, kr2, 32);
	for (i = 2; i < 6; i++) {
		const uint8_t *k = i % 2 == 0 ? ki1 : kr2;

		CHECK_EQ(v.clen[i], v.plen[i] + 16);
		CHECK_EQ(cry_aead_seal(a, k, (uint64_t)(i - 2) / 2, NULL, 0, v.payload[i],
				       v.plen[i], out),
			 0);
		CHECK_MEM(out, v.cipher[i], v.clen[i]);
	}
	cry_aead_free(a);
	vec_free(&v);
	free(json);
}

static void test_initiator_read_wrong_psks(void)
{
	uint8_t i_priv[32], i_pub[32], r_priv[32], r_pub[32], e1[32], e2[32], ss[32];
	uint8_t m1[128], m2[64], re[32], is[32], pay[4], psk[32], wrong[3][32];
	struct noise_symmetric si, sr, keep;
	struct cry_aead *a = cry_aead_new();
	size_t which = 7;

	memset(i_priv, 1, 32), memset(r_priv, 2, 32), memset(e1, 3, 32), memset(e2, 4, 32);
	memset(psk, 5, 32), memset(wrong, 6, sizeof(wrong));
	cry_x25519_pubkey(i_pub, i_priv);
	cry_x25519_pubkey(r_pub, r_priv);
	noise_symmetric_init_wg(&si, r_pub);
	sr = si;
	cry_x25519(ss, i_priv, r_pub);
	CHECK_EQ(noise_initiator_write(a, &si, e1, i_pub, r_pub, ss, "", 0, m1), 0);
	CHECK_EQ(noise_responder_read_start(a, &sr, r_priv, r_pub, m1, re, is), 0);
	CHECK_EQ(noise_responder_read_finish(a, &sr, ss, m1 + 80, 16, pay), 0);
	CHECK_EQ(noise_responder_write(a, &sr, e2, re, is, psk, "", 0, m2), 0);
	keep = si;
	/* No key of the ring matches: failure, state and outputs untouched. */
	CHECK_EQ(noise_initiator_read(a, &si, e1, m1, i_priv, i_pub, (const uint8_t(*)[32])wrong, 3,
				      m2, 48, re, pay, &which),
		 -EBADMSG);
	CHECK_EQ(which, 7);
	CHECK_MEM(&si, &keep, sizeof(si));
	/* A tampered message fails even with the right key. */
	memcpy(wrong[2], psk, 32);
	m2[40] ^= 1;
	CHECK_EQ(noise_initiator_read(a, &si, e1, m1, i_priv, i_pub, (const uint8_t(*)[32])wrong, 3,
				      m2, 48, re, pay, &which),
		 -EBADMSG);
	m2[40] ^= 1;
	CHECK_EQ(noise_initiator_read(a, &si, e1, m1, i_priv, i_pub, (const uint8_t(*)[32])wrong, 3,
				      m2, 48, re, pay, &which),
		 0);
	CHECK_EQ(which, 2);
	CHECK_MEM(si.h, sr.h, 32);
	cry_aead_free(a);
}

static void test_low_order_point_refused(void)
{
	uint8_t priv[32], pub[32], zero[32] = { 0 }, ss[32], out[128];
	struct noise_symmetric s;
	struct cry_aead *a = cry_aead_new();

	memset(priv, 9, 32);
	memset(ss, 1, 32);
	cry_x25519_pubkey(pub, priv);
	noise_symmetric_init_wg(&s, zero);
	/* es with an all-zero (low-order) responder key. */
	CHECK_EQ(noise_initiator_write(a, &s, priv, pub, zero, ss, "", 0, out), -EINVAL);
	/* A missing precomputed static-static DH. */
	noise_symmetric_init_wg(&s, pub);
	CHECK_EQ(noise_initiator_write(a, &s, priv, pub, pub, zero, "", 0, out), -EINVAL);
	cry_aead_free(a);
}

static void test_tai64n(void)
{
	static const uint8_t epoch[12] = { 0x40, 0, 0, 0, 0, 0, 0, 0x0a, 0, 0, 0, 0 };
	uint8_t t[12], u[12];

	noise_tai64n(t, 0);
	CHECK_MEM(t, epoch, 12);
	/* 2^32 + 1 s and 999999999 ns: the ns round down to a multiple of 2^24. */
	noise_tai64n(t, (((uint64_t)1 << 32) + 1) * SC_NSEC_PER_SEC + 999999999);
	CHECK_EQ(t[3], 1);
	CHECK_EQ(t[7], 0x0b);
	CHECK_EQ(((uint32_t)t[8] << 24 | t[9] << 16 | t[10] << 8 | t[11]),
		 999999999 / (1 << 24) * (1 << 24));
	/* Within one granule the stamps are equal, so a replay check sees a
	 * second initiation as a replay; across granules they increase. */
	noise_tai64n(t, 5 * SC_NSEC_PER_SEC);
	noise_tai64n(u, 5 * SC_NSEC_PER_SEC + 1000);
	CHECK_MEM(t, u, 12);
	noise_tai64n(u, 5 * SC_NSEC_PER_SEC + (1 << 24));
	CHECK(memcmp(t, u, 12) < 0);
}

/* ---- framed handshake ---------------------------------------------------- */

struct rng {
	uint64_t s;
	uint64_t wall;
};

static int rng_fill(void *ctx, void *buf, size_t len)
{
	struct rng *r = ctx;
	uint8_t *p = buf;
	size_t i;

	for (i = 0; i < len; i++) {
		r->s += 0x9e3779b97f4a7c15ull;
		uint64_t z = r->s;
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		p[i] = (uint8_t)(z ^ (z >> 31));
	}
	return 0;
}

static uint64_t rng_wall(void *ctx)
{
	return ((struct rng *)ctx)->wall;
}

static void test_framed_handshake(void)
{
	struct rng r = { 1, 1700000000 * SC_NSEC_PER_SEC };
	struct sc_env env = { NULL, rng_wall, rng_fill, &r };
	struct noise_identity ii, ri;
	struct noise_handshake ih, rh;
	struct noise_initiation_ctx ctx;
	struct noise_keypair ik, rk;
	struct wg_msg_initiation init;
	struct wg_msg_response resp;
	struct cry_aead *a = cry_aead_new();
	uint8_t k1[32], k2[32], psks[2][32];
	size_t which;

	memset(k1, 0x11, 32), memset(k2, 0x22, 32);
	memset(psks[0], 0xaa, 32), memset(psks[1], 0xbb, 32);
	CHECK_EQ(noise_identity_set(&ii, k1), 0);
	CHECK_EQ(noise_identity_set(&ri, k2), 0);
	noise_handshake_init(&ih, ri.pub);
	noise_handshake_precompute(&ih, &ii);
	noise_handshake_init(&rh, ii.pub);
	noise_handshake_precompute(&rh, &ri);

	CHECK_EQ(noise_create_initiation(a, &env, &ii, &ih, 0x01020304, &init), 0);
	CHECK_EQ(wg_get_le32(init.type), 1);
	CHECK_EQ(wg_get_le32(init.sender), 0x01020304);
	CHECK_EQ(noise_consume_initiation_start(a, &ri, &init, &ctx), 0);
	CHECK_MEM(ctx.is, ii.pub, 32);
	CHECK_EQ(noise_consume_initiation_finish(a, &rh, &ctx, &init, 1000), 0);
	CHECK_EQ(rh.remote_index, 0x01020304);
	/* The same initiation again: its timestamp is not newer. */
	CHECK_EQ(noise_consume_initiation_start(a, &ri, &init, &ctx), 0);
	CHECK_EQ(noise_consume_initiation_finish(a, &rh, &ctx, &init, 2 * SC_NSEC_PER_SEC),
		 -EALREADY);

	CHECK_EQ(noise_create_response(a, &env, &rh, 0x0a0b0c0d, psks[1], &resp), 0);
	CHECK_EQ(wg_get_le32(resp.receiver), 0x01020304);
	CHECK_EQ(noise_consume_response(a, &ii, &ih, &resp, (const uint8_t(*)[32])psks, 2, &which),
		 0);
	CHECK_EQ(which, 1);
	CHECK_EQ(noise_begin_session(&ih, &ik, 5), 0);
	CHECK_EQ(noise_begin_session(&rh, &rk, 5), 0);
	CHECK(ik.initiator && !rk.initiator);
	CHECK_MEM(ik.send_key, rk.recv_key, 32);
	CHECK_MEM(ik.recv_key, rk.send_key, 32);
	CHECK_EQ(ik.remote_index, 0x0a0b0c0d);
	CHECK_EQ(rk.remote_index, 0x01020304);
	CHECK_EQ(ih.state, NOISE_ZEROED);
	/* A second response to the same initiation finds no state for it. */
	CHECK_EQ(noise_consume_response(a, &ii, &ih, &resp, (const uint8_t(*)[32])psks, 2, &which),
		 -EPROTO);

	/* Flood: a newer initiation within 1/50 s of the last consumption. */
	r.wall += SC_NSEC_PER_SEC;
	CHECK_EQ(noise_create_initiation(a, &env, &ii, &ih, 7, &init), 0);
	CHECK_EQ(noise_consume_initiation_start(a, &ri, &init, &ctx), 0);
	CHECK_EQ(noise_consume_initiation_finish(a, &rh, &ctx, &init, 1000 + 10 * SC_NSEC_PER_MSEC),
		 -EBUSY);
	CHECK_EQ(noise_consume_initiation_start(a, &ri, &init, &ctx), 0);
	CHECK_EQ(noise_consume_initiation_finish(a, &rh, &ctx, &init, 1000 + 20 * SC_NSEC_PER_MSEC),
		 0);
	/* Tampering with the encrypted static key fails authentication. */
	init.encrypted_static[3] ^= 1;
	CHECK_EQ(noise_consume_initiation_start(a, &ri, &init, &ctx), -EBADMSG);
	cry_aead_free(a);
}

static const struct t_case cases[] = {
	T(test_constants),
	T(test_init_wg_matches_generic),
	T(test_cacophony_vector),
	T(test_initiator_read_wrong_psks),
	T(test_low_order_point_refused),
	T(test_tai64n),
	T(test_framed_handshake),
};

int main(void)
{
	return t_main("wg-noise", cases, SC_ARRAY_SIZE(cases));
}
