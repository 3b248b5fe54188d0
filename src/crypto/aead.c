// SPDX-License-Identifier: GPL-2.0-only
#include "crypto/aead.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "crypto/ct.h"

struct cry_aead {
	EVP_CIPHER_CTX *ctx;
};

struct cry_aead *cry_aead_new(void)
{
	struct cry_aead *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->ctx = EVP_CIPHER_CTX_new();
	/* Bind the cipher once; later calls only change key, nonce and direction. */
	if (!a->ctx ||
	    EVP_CipherInit_ex(a->ctx, EVP_chacha20_poly1305(), NULL, NULL, NULL, 1) != 1) {
		cry_aead_free(a);
		return NULL;
	}
	return a;
}

void cry_aead_free(struct cry_aead *a)
{
	if (!a)
		return;
	EVP_CIPHER_CTX_free(a->ctx);
	free(a);
}

static void wg_nonce(uint8_t nonce[12], uint64_t counter)
{
	int i;

	memset(nonce, 0, 4);
	for (i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(counter >> (8 * i));
}

/* OpenSSL takes int lengths; everything Scope seals is far below INT_MAX. */
static int len_ok(size_t adlen, size_t n)
{
	return adlen <= INT_MAX && n <= (size_t)INT_MAX - CRY_AEAD_TAG;
}

int cry_aead_seal_nonce(struct cry_aead *a, const uint8_t key[32], const uint8_t nonce[12],
			const void *ad, size_t adlen, const void *in, size_t n, uint8_t *out)
{
	EVP_CIPHER_CTX *c = a->ctx;
	int len;

	if (!len_ok(adlen, n))
		return -EINVAL;
	if (EVP_CipherInit_ex(c, NULL, NULL, key, nonce, 1) != 1)
		return -EIO;
	if (adlen && EVP_CipherUpdate(c, NULL, &len, ad, (int)adlen) != 1)
		return -EIO;
	if (n && EVP_CipherUpdate(c, out, &len, in, (int)n) != 1)
		return -EIO;
	if (EVP_CipherFinal_ex(c, out + n, &len) != 1)
		return -EIO;
	if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, CRY_AEAD_TAG, out + n) != 1)
		return -EIO;
	return 0;
}

int cry_aead_open_nonce(struct cry_aead *a, const uint8_t key[32], const uint8_t nonce[12],
			const void *ad, size_t adlen, const void *in, size_t n, uint8_t *out)
{
	EVP_CIPHER_CTX *c = a->ctx;
	uint8_t tag[CRY_AEAD_TAG];
	size_t plen;
	int len;

	if (n < CRY_AEAD_TAG)
		return -EINVAL;
	if (!len_ok(adlen, n))
		return -EINVAL;
	plen = n - CRY_AEAD_TAG;
	/* Copy the tag first: with in == out the decryption may overwrite it. */
	memcpy(tag, (const uint8_t *)in + plen, CRY_AEAD_TAG);
	if (EVP_CipherInit_ex(c, NULL, NULL, key, nonce, 0) != 1)
		return -EIO;
	if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, CRY_AEAD_TAG, tag) != 1)
		return -EIO;
	if (adlen && EVP_CipherUpdate(c, NULL, &len, ad, (int)adlen) != 1)
		return -EIO;
	if (plen && EVP_CipherUpdate(c, out, &len, in, (int)plen) != 1)
		return -EIO;
	/* OpenSSL checks the tag in constant time here. */
	if (EVP_CipherFinal_ex(c, out + plen, &len) != 1) {
		cry_wipe(out, plen);
		return -EBADMSG;
	}
	return 0;
}

int cry_aead_seal(struct cry_aead *a, const uint8_t key[32], uint64_t counter, const void *ad,
		  size_t adlen, const void *in, size_t n, uint8_t *out)
{
	uint8_t nonce[12];

	wg_nonce(nonce, counter);
	return cry_aead_seal_nonce(a, key, nonce, ad, adlen, in, n, out);
}

int cry_aead_open(struct cry_aead *a, const uint8_t key[32], uint64_t counter, const void *ad,
		  size_t adlen, const void *in, size_t n, uint8_t *out)
{
	uint8_t nonce[12];

	wg_nonce(nonce, counter);
	return cry_aead_open_nonce(a, key, nonce, ad, adlen, in, n, out);
}

static inline uint32_t rol32(uint32_t x, unsigned int n)
{
	return (x << n) | (x >> (32 - n));
}

static inline uint32_t load32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void store32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

#define QR(a, b, c, d)                \
	do {                          \
		a += b;               \
		d = rol32(d ^ a, 16); \
		c += d;               \
		b = rol32(b ^ c, 12); \
		a += b;               \
		d = rol32(d ^ a, 8);  \
		c += d;               \
		b = rol32(b ^ c, 7);  \
	} while (0)

/*
 * HChaCha20 (draft-irtf-cfrg-xchacha section 2.2): the ChaCha20 block
 * function over key and a 16-byte input, without the final addition,
 * keeping words 0-3 and 12-15.
 */
void cry_hchacha20(uint8_t out[32], const uint8_t key[32], const uint8_t in[16])
{
	uint32_t x[16];
	int i;

	x[0] = 0x61707865;
	x[1] = 0x3320646e;
	x[2] = 0x79622d32;
	x[3] = 0x6b206574;
	for (i = 0; i < 8; i++)
		x[4 + i] = load32(key + 4 * i);
	for (i = 0; i < 4; i++)
		x[12 + i] = load32(in + 4 * i);
	for (i = 0; i < 10; i++) {
		QR(x[0], x[4], x[8], x[12]);
		QR(x[1], x[5], x[9], x[13]);
		QR(x[2], x[6], x[10], x[14]);
		QR(x[3], x[7], x[11], x[15]);
		QR(x[0], x[5], x[10], x[15]);
		QR(x[1], x[6], x[11], x[12]);
		QR(x[2], x[7], x[8], x[13]);
		QR(x[3], x[4], x[9], x[14]);
	}
	for (i = 0; i < 4; i++) {
		store32(out + 4 * i, x[i]);
		store32(out + 16 + 4 * i, x[12 + i]);
	}
	cry_wipe(x, sizeof(x));
}

/* XChaCha20: subkey = HChaCha20(key, nonce[0:16]); nonce' = 0^4 || nonce[16:24]. */
static void xchacha_derive(uint8_t subkey[32], uint8_t nonce12[12], const uint8_t key[32],
			   const uint8_t nonce[24])
{
	cry_hchacha20(subkey, key, nonce);
	memset(nonce12, 0, 4);
	memcpy(nonce12 + 4, nonce + 16, 8);
}

int cry_xaead_seal(struct cry_aead *a, const uint8_t key[32], const uint8_t nonce[24],
		   const void *ad, size_t adlen, const void *in, size_t n, uint8_t *out)
{
	uint8_t subkey[32], n12[12];
	int ret;

	xchacha_derive(subkey, n12, key, nonce);
	ret = cry_aead_seal_nonce(a, subkey, n12, ad, adlen, in, n, out);
	cry_wipe(subkey, sizeof(subkey));
	return ret;
}

int cry_xaead_open(struct cry_aead *a, const uint8_t key[32], const uint8_t nonce[24],
		   const void *ad, size_t adlen, const void *in, size_t n, uint8_t *out)
{
	uint8_t subkey[32], n12[12];
	int ret;

	xchacha_derive(subkey, n12, key, nonce);
	ret = cry_aead_open_nonce(a, subkey, n12, ad, adlen, in, n, out);
	cry_wipe(subkey, sizeof(subkey));
	return ret;
}
