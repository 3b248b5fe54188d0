// SPDX-License-Identifier: GPL-2.0-only
/*
 * BLAKE2s, written from RFC 7693 section 3. Little-endian loads are done
 * byte by byte so the code is endian-neutral; compilers fold them.
 */
#include "crypto/blake2s.h"

#include <errno.h>
#include <string.h>

#include "crypto/ct.h"

static const uint32_t blake2s_iv[8] = {
	0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
	0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

static const uint8_t blake2s_sigma[10][16] = {
	{ 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 },
	{ 14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3 },
	{ 11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4 },
	{ 7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8 },
	{ 9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13 },
	{ 2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9 },
	{ 12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11 },
	{ 13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10 },
	{ 6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5 },
	{ 10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0 },
};

static inline uint32_t ror32(uint32_t x, unsigned int n)
{
	return (x >> n) | (x << (32 - n));
}

static inline uint32_t load32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#define G(a, b, c, d, x, y)           \
	do {                          \
		a = a + b + (x);      \
		d = ror32(d ^ a, 16); \
		c = c + d;            \
		b = ror32(b ^ c, 12); \
		a = a + b + (y);      \
		d = ror32(d ^ a, 8);  \
		c = c + d;            \
		b = ror32(b ^ c, 7);  \
	} while (0)

/* RFC 7693 function F; last is 1 for the final block. */
static void blake2s_compress(struct cry_blake2s *s, const uint8_t *block, int last)
{
	uint32_t m[16], v[16];
	int i, r;

	for (i = 0; i < 16; i++)
		m[i] = load32(block + 4 * i);
	for (i = 0; i < 8; i++) {
		v[i] = s->h[i];
		v[i + 8] = blake2s_iv[i];
	}
	v[12] ^= s->t[0];
	v[13] ^= s->t[1];
	if (last)
		v[14] = ~v[14];
	for (r = 0; r < 10; r++) {
		const uint8_t *sg = blake2s_sigma[r];

		G(v[0], v[4], v[8], v[12], m[sg[0]], m[sg[1]]);
		G(v[1], v[5], v[9], v[13], m[sg[2]], m[sg[3]]);
		G(v[2], v[6], v[10], v[14], m[sg[4]], m[sg[5]]);
		G(v[3], v[7], v[11], v[15], m[sg[6]], m[sg[7]]);
		G(v[0], v[5], v[10], v[15], m[sg[8]], m[sg[9]]);
		G(v[1], v[6], v[11], v[12], m[sg[10]], m[sg[11]]);
		G(v[2], v[7], v[8], v[13], m[sg[12]], m[sg[13]]);
		G(v[3], v[4], v[9], v[14], m[sg[14]], m[sg[15]]);
	}
	for (i = 0; i < 8; i++)
		s->h[i] ^= v[i] ^ v[i + 8];
	cry_wipe(m, sizeof(m));
	cry_wipe(v, sizeof(v));
}

static void blake2s_add_count(struct cry_blake2s *s, uint32_t n)
{
	s->t[0] += n;
	s->t[1] += s->t[0] < n;
}

int cry_blake2s_init(struct cry_blake2s *s, size_t outlen, const uint8_t *key, size_t keylen)
{
	if (outlen < 1 || outlen > CRY_BLAKE2S_OUT || keylen > CRY_BLAKE2S_KEYMAX)
		return -EINVAL;
	memset(s, 0, sizeof(*s));
	memcpy(s->h, blake2s_iv, sizeof(s->h));
	/* Parameter block: digest length, key length, fanout 1, depth 1. */
	s->h[0] ^= 0x01010000u ^ (uint32_t)(keylen << 8) ^ (uint32_t)outlen;
	s->outlen = outlen;
	if (keylen) {
		/* The key is the first block, zero-padded. */
		memcpy(s->buf, key, keylen);
		s->buflen = CRY_BLAKE2S_BLOCK;
	}
	return 0;
}

void cry_blake2s_update(struct cry_blake2s *s, const void *in, size_t n)
{
	const uint8_t *p = in;

	if (!n)
		return;
	/* The last block must go through final, so a full buffer is only
	 * compressed once more input is known to follow. */
	if (s->buflen == CRY_BLAKE2S_BLOCK) {
		blake2s_add_count(s, CRY_BLAKE2S_BLOCK);
		blake2s_compress(s, s->buf, 0);
		s->buflen = 0;
	}
	if (s->buflen) {
		size_t fill = CRY_BLAKE2S_BLOCK - s->buflen;

		if (n <= fill) {
			memcpy(s->buf + s->buflen, p, n);
			s->buflen += n;
			return;
		}
		memcpy(s->buf + s->buflen, p, fill);
		blake2s_add_count(s, CRY_BLAKE2S_BLOCK);
		blake2s_compress(s, s->buf, 0);
		s->buflen = 0;
		p += fill;
		n -= fill;
	}
	while (n > CRY_BLAKE2S_BLOCK) {
		blake2s_add_count(s, CRY_BLAKE2S_BLOCK);
		blake2s_compress(s, p, 0);
		p += CRY_BLAKE2S_BLOCK;
		n -= CRY_BLAKE2S_BLOCK;
	}
	memcpy(s->buf, p, n);
	s->buflen = n;
}

void cry_blake2s_final(struct cry_blake2s *s, uint8_t *out)
{
	uint8_t full[CRY_BLAKE2S_OUT];
	int i;

	blake2s_add_count(s, (uint32_t)s->buflen);
	memset(s->buf + s->buflen, 0, CRY_BLAKE2S_BLOCK - s->buflen);
	blake2s_compress(s, s->buf, 1);
	for (i = 0; i < 8; i++) {
		full[4 * i] = (uint8_t)s->h[i];
		full[4 * i + 1] = (uint8_t)(s->h[i] >> 8);
		full[4 * i + 2] = (uint8_t)(s->h[i] >> 16);
		full[4 * i + 3] = (uint8_t)(s->h[i] >> 24);
	}
	memcpy(out, full, s->outlen);
	cry_wipe(full, sizeof(full));
	cry_wipe(s, sizeof(*s));
}

int cry_blake2s(uint8_t *out, size_t outlen, const uint8_t *key, size_t keylen, const void *in,
		size_t n)
{
	struct cry_blake2s s;
	int ret = cry_blake2s_init(&s, outlen, key, keylen);

	if (ret)
		return ret;
	cry_blake2s_update(&s, in, n);
	cry_blake2s_final(&s, out);
	return 0;
}

void cry_hmac_blake2s(uint8_t out[32], const uint8_t *key, size_t keylen, const void *in, size_t n)
{
	uint8_t k[CRY_BLAKE2S_BLOCK] = { 0 }, inner[CRY_BLAKE2S_OUT];
	struct cry_blake2s s;
	int i;

	/* WireGuard never passes a key longer than the block, but HMAC says
	 * such a key is hashed first. */
	if (keylen > CRY_BLAKE2S_BLOCK)
		cry_blake2s(k, CRY_BLAKE2S_OUT, NULL, 0, key, keylen);
	else
		memcpy(k, key, keylen);
	for (i = 0; i < CRY_BLAKE2S_BLOCK; i++)
		k[i] ^= 0x36;
	cry_blake2s_init(&s, CRY_BLAKE2S_OUT, NULL, 0);
	cry_blake2s_update(&s, k, sizeof(k));
	cry_blake2s_update(&s, in, n);
	cry_blake2s_final(&s, inner);
	for (i = 0; i < CRY_BLAKE2S_BLOCK; i++)
		k[i] ^= 0x36 ^ 0x5c;
	cry_blake2s_init(&s, CRY_BLAKE2S_OUT, NULL, 0);
	cry_blake2s_update(&s, k, sizeof(k));
	cry_blake2s_update(&s, inner, sizeof(inner));
	cry_blake2s_final(&s, out);
	cry_wipe(k, sizeof(k));
	cry_wipe(inner, sizeof(inner));
}

void cry_wg_kdf(uint8_t *out1, uint8_t *out2, uint8_t *out3, const uint8_t key[32],
		const void *input, size_t n)
{
	uint8_t prk[32], t[33];

	/* Extract. */
	cry_hmac_blake2s(prk, key, 32, input, n);
	/* Expand: T(i) = HMAC(prk, T(i-1) || i), each 32 bytes. */
	t[0] = 1;
	cry_hmac_blake2s(t, prk, 32, t, 1);
	memcpy(out1, t, 32);
	if (out2) {
		t[32] = 2;
		cry_hmac_blake2s(t, prk, 32, t, 33);
		memcpy(out2, t, 32);
	}
	if (out3) {
		t[32] = 3;
		cry_hmac_blake2s(t, prk, 32, t, 33);
		memcpy(out3, t, 32);
	}
	cry_wipe(prk, sizeof(prk));
	cry_wipe(t, sizeof(t));
}
