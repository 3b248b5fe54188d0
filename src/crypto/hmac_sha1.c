// SPDX-License-Identifier: GPL-2.0-only
#include "crypto/hmac_sha1.h"

#include <errno.h>
#include <string.h>

#include <openssl/evp.h>

#include "crypto/ct.h"

/* One SHA-1 over up to three parts. */
static int sha1_parts(EVP_MD_CTX *ctx, const void *p0, size_t n0, const void *p1, size_t n1,
		      const void *p2, size_t n2, uint8_t out[CRY_SHA1_LEN])
{
	unsigned int len = 0;

	if (EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) != 1)
		return -EIO;
	if ((n0 && EVP_DigestUpdate(ctx, p0, n0) != 1) ||
	    (n1 && EVP_DigestUpdate(ctx, p1, n1) != 1) ||
	    (n2 && EVP_DigestUpdate(ctx, p2, n2) != 1))
		return -EIO;
	if (EVP_DigestFinal_ex(ctx, out, &len) != 1 || len != CRY_SHA1_LEN)
		return -EIO;
	return 0;
}

/* RFC 2104 written out rather than OpenSSL's HMAC(), whose one-shot form
 * takes a single buffer and whose streaming form is deprecated in 3.0. */
int cry_hmac_sha1(const void *key, size_t keylen, const void *a, size_t alen, const void *b,
		  size_t blen, uint8_t out[CRY_SHA1_LEN])
{
	uint8_t k[CRY_SHA1_BLOCK_LEN] = { 0 }, pad[CRY_SHA1_BLOCK_LEN], inner[CRY_SHA1_LEN];
	uint8_t mac[CRY_SHA1_LEN];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t i;
	int ret;

	if (!ctx)
		return -ENOMEM;
	if (keylen > sizeof(k)) {
		ret = sha1_parts(ctx, key, keylen, NULL, 0, NULL, 0, k);
		if (ret)
			goto out;
	} else if (keylen) {
		memcpy(k, key, keylen);
	}
	for (i = 0; i < sizeof(pad); i++)
		pad[i] = k[i] ^ 0x36;
	ret = sha1_parts(ctx, pad, sizeof(pad), a, alen, b, blen, inner);
	if (ret)
		goto out;
	for (i = 0; i < sizeof(pad); i++)
		pad[i] = k[i] ^ 0x5c;
	ret = sha1_parts(ctx, pad, sizeof(pad), inner, sizeof(inner), NULL, 0, mac);
	if (!ret)
		memcpy(out, mac, sizeof(mac));
out:
	cry_wipe(k, sizeof(k));
	cry_wipe(pad, sizeof(pad));
	cry_wipe(inner, sizeof(inner));
	EVP_MD_CTX_free(ctx);
	return ret;
}
