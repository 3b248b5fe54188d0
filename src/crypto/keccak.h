/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * SHA-3 and SHAKE (FIPS 202) on an in-house Keccak-f[1600], with incremental
 * squeeze (ML-KEM's SampleNTT reads SHAKE128 output in blocks; OpenSSL 3.0
 * cannot squeeze incrementally). Checked against OpenSSL's one-shot outputs.
 * Also HKDF-SHA3-256 (RFC 5869 with SHA3-256), via OpenSSL.
 */
#ifndef CRY_KECCAK_H
#define CRY_KECCAK_H

#include <stddef.h>
#include <stdint.h>

#define CRY_SHAKE128_RATE 168
#define CRY_SHAKE256_RATE 136
#define CRY_SHA3_256_RATE 136
#define CRY_SHA3_512_RATE 72

struct cry_keccak {
	uint64_t a[25];
	size_t rate;	/* bytes */
	size_t pos;	/* absorb or squeeze position within the rate */
	uint8_t dsbyte; /* 0x06 SHA-3, 0x1f SHAKE */
	int squeezing;
};

void cry_keccak_permute(uint64_t a[25]);

void cry_shake128_init(struct cry_keccak *k);
void cry_shake256_init(struct cry_keccak *k);
/* SHA3-256 / SHA3-512 incrementally: absorb, then squeeze exactly 32 / 64 bytes
 * (ML-KEM hashes its inputs in pieces, e.g. J(z || c)). */
void cry_sha3_256_init(struct cry_keccak *k);
void cry_sha3_512_init(struct cry_keccak *k);
/* Absorb more input; only before the first squeeze. */
void cry_keccak_absorb(struct cry_keccak *k, const void *in, size_t n);
/* Squeeze n more bytes (pads on the first call); may be called repeatedly. */
void cry_keccak_squeeze(struct cry_keccak *k, uint8_t *out, size_t n);
/* Wipe the state. */
void cry_keccak_wipe(struct cry_keccak *k);

void cry_sha3_256(uint8_t out[32], const void *in, size_t n);
void cry_sha3_512(uint8_t out[64], const void *in, size_t n);
void cry_shake128(uint8_t *out, size_t outlen, const void *in, size_t n);
void cry_shake256(uint8_t *out, size_t outlen, const void *in, size_t n);

/* HKDF-SHA3-256 (extract with salt, then expand with info). 0 or -EIO/-EINVAL. */
int cry_hkdf_sha3_256(uint8_t *out, size_t outlen, const uint8_t *ikm, size_t ikmlen,
		      const uint8_t *salt, size_t saltlen, const uint8_t *info, size_t infolen);

#endif
