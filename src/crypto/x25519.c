// SPDX-License-Identifier: GPL-2.0-only
#include "crypto/x25519.h"

#include <errno.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "crypto/ct.h"
#include "crypto/rand.h"

void cry_x25519_clamp(uint8_t priv[32])
{
	priv[0] &= 248;
	priv[31] = (priv[31] & 127) | 64;
}

static EVP_PKEY *raw_priv(int type, const uint8_t priv[32])
{
	return EVP_PKEY_new_raw_private_key(type, NULL, priv, 32);
}

static int raw_pub_of(EVP_PKEY *k, uint8_t pub[32])
{
	size_t len = 32;

	if (EVP_PKEY_get_raw_public_key(k, pub, &len) != 1 || len != 32)
		return -EIO;
	return 0;
}

int cry_x25519_pubkey(uint8_t pub[32], const uint8_t priv[32])
{
	EVP_PKEY *k = raw_priv(EVP_PKEY_X25519, priv);
	int ret;

	if (!k)
		return -EIO;
	ret = raw_pub_of(k, pub);
	EVP_PKEY_free(k);
	return ret;
}

int cry_x25519_genkey(uint8_t priv[32], uint8_t pub[32])
{
	uint8_t k[32];
	int ret = cry_random(k, sizeof(k));

	if (ret)
		goto out;
	cry_x25519_clamp(k);
	ret = cry_x25519_pubkey(pub, k);
	if (!ret)
		memcpy(priv, k, sizeof(k));
out:
	cry_wipe(k, sizeof(k));
	return ret;
}

/* out = DH(sk, pub), refusing an all-zero result. Takes sk. */
static int derive(uint8_t out[32], EVP_PKEY *sk, const uint8_t pub[32])
{
	EVP_PKEY *pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, pub, 32);
	EVP_PKEY_CTX *ctx = NULL;
	uint8_t shared[32];
	size_t len = sizeof(shared);
	int ret = -EIO;

	if (!sk || !pk)
		goto out;
	ctx = EVP_PKEY_CTX_new(sk, NULL);
	if (!ctx || EVP_PKEY_derive_init(ctx) != 1 || EVP_PKEY_derive_set_peer(ctx, pk) != 1)
		goto out;
	/* OpenSSL itself fails the derive on an all-zero result; the explicit
	 * check keeps the contract whatever the provider does. */
	if (EVP_PKEY_derive(ctx, shared, &len) != 1 || len != 32) {
		ret = -EINVAL;
		goto out;
	}
	if (cry_is_zero(shared, sizeof(shared))) {
		ret = -EINVAL;
		goto out;
	}
	memcpy(out, shared, sizeof(shared));
	ret = 0;
out:
	cry_wipe(shared, sizeof(shared));
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pk);
	EVP_PKEY_free(sk);
	return ret;
}

int cry_x25519(uint8_t out[32], const uint8_t priv[32], const uint8_t pub[32])
{
	return derive(out, raw_priv(EVP_PKEY_X25519, priv), pub);
}

/* OpenSSL computes the public key of every private key it imports alone (a
 * full base-point multiplication); given both halves it takes them as they
 * are, which halves the cost of a DH whose own public key is at hand. */
int cry_x25519_kp(uint8_t out[32], const uint8_t priv[32], const uint8_t own_pub[32],
		  const uint8_t pub[32])
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PRIV_KEY, (void *)priv, 32),
		OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)own_pub, 32),
		OSSL_PARAM_construct_end(),
	};
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "X25519", NULL);
	EVP_PKEY *sk = NULL;

	if (ctx && EVP_PKEY_fromdata_init(ctx) == 1)
		EVP_PKEY_fromdata(ctx, &sk, EVP_PKEY_KEYPAIR, params);
	EVP_PKEY_CTX_free(ctx);
	return derive(out, sk, pub);
}

int cry_ed25519_pubkey(uint8_t pub[32], const uint8_t seed[32])
{
	EVP_PKEY *k = raw_priv(EVP_PKEY_ED25519, seed);
	int ret;

	if (!k)
		return -EIO;
	ret = raw_pub_of(k, pub);
	EVP_PKEY_free(k);
	return ret;
}

int cry_ed25519_genkey(uint8_t seed[32], uint8_t pub[32])
{
	uint8_t s[32];
	int ret = cry_random(s, sizeof(s));

	if (!ret)
		ret = cry_ed25519_pubkey(pub, s);
	if (!ret)
		memcpy(seed, s, sizeof(s));
	cry_wipe(s, sizeof(s));
	return ret;
}

int cry_ed25519_sign(uint8_t sig[64], const uint8_t seed[32], const void *msg, size_t n)
{
	EVP_PKEY *k = raw_priv(EVP_PKEY_ED25519, seed);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	size_t siglen = 64;
	int ret = -EIO;

	if (!k || !md)
		goto out;
	if (EVP_DigestSignInit(md, NULL, NULL, NULL, k) != 1)
		goto out;
	if (EVP_DigestSign(md, sig, &siglen, msg, n) != 1 || siglen != 64)
		goto out;
	ret = 0;
out:
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(k);
	return ret;
}

int cry_ed25519_verify(const uint8_t sig[64], const uint8_t pub[32], const void *msg, size_t n)
{
	EVP_PKEY *k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ret = -EBADMSG;

	if (!k || !md)
		goto out;
	if (EVP_DigestVerifyInit(md, NULL, NULL, NULL, k) != 1)
		goto out;
	if (EVP_DigestVerify(md, sig, 64, msg, n) == 1)
		ret = 0;
out:
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(k);
	return ret;
}
