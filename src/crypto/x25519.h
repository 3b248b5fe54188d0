/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * X25519 (RFC 7748) and Ed25519 (RFC 8032) over OpenSSL.
 */
#ifndef CRY_X25519_H
#define CRY_X25519_H

#include <stddef.h>
#include <stdint.h>

#define CRY_X25519_KEY	 32
#define CRY_ED25519_SEED 32
#define CRY_ED25519_PUB	 32
#define CRY_ED25519_SIG	 64

/* Clamp a private key in place, as wg(8) does when it generates one. */
void cry_x25519_clamp(uint8_t priv[32]);
/* A fresh clamped private key and its public key. 0 or -errno. */
int cry_x25519_genkey(uint8_t priv[32], uint8_t pub[32]);
/* pub = priv * 9. 0 or -EIO. */
int cry_x25519_pubkey(uint8_t pub[32], const uint8_t priv[32]);
/* out = priv * pub. -EINVAL if the result is all zero (a low-order point);
 * out is then left untouched. */
int cry_x25519(uint8_t out[32], const uint8_t priv[32], const uint8_t pub[32]);
/* The same when priv's own public key is known (own_pub = priv * 9, which
 * the caller guarantees: it is not checked): about half the cost. */
int cry_x25519_kp(uint8_t out[32], const uint8_t priv[32], const uint8_t own_pub[32],
		  const uint8_t pub[32]);

/* A fresh Ed25519 key: the 32-byte seed (the private key) and public key. */
int cry_ed25519_genkey(uint8_t seed[32], uint8_t pub[32]);
int cry_ed25519_pubkey(uint8_t pub[32], const uint8_t seed[32]);
/* sig[64] over msg. 0 or -EIO. */
int cry_ed25519_sign(uint8_t sig[64], const uint8_t seed[32], const void *msg, size_t n);
/* 0 if sig is a valid signature of msg by pub, else -EBADMSG. */
int cry_ed25519_verify(const uint8_t sig[64], const uint8_t pub[32], const void *msg, size_t n);

#endif
