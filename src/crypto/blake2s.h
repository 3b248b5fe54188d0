/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * BLAKE2s (RFC 7693) and what WireGuard builds from it.
 *
 * In-house rather than OpenSSL's: OpenSSL 3.0's BLAKE2S-256 digest has a
 * fixed 32-byte output, and WireGuard needs keyed 16-byte MACs (mac1, mac2,
 * cookies); a fetch per call would also cost more than the hash of a
 * 148-byte handshake (docs/decisions.md). Checked against the BLAKE2
 * reference KATs, RFC 7693 and OpenSSL's BLAKE2S-256 and BLAKE2SMAC.
 */
#ifndef CRY_BLAKE2S_H
#define CRY_BLAKE2S_H

#include <stddef.h>
#include <stdint.h>

#define CRY_BLAKE2S_BLOCK  64
#define CRY_BLAKE2S_OUT	   32
#define CRY_BLAKE2S_KEYMAX 32

struct cry_blake2s {
	uint32_t h[8];
	uint32_t t[2];
	uint8_t buf[CRY_BLAKE2S_BLOCK];
	size_t buflen;
	size_t outlen;
};

/* Start a hash of outlen (1..32) bytes, keyed if keylen (0..32) > 0.
 * Returns 0 or -EINVAL on a bad length. */
int cry_blake2s_init(struct cry_blake2s *s, size_t outlen, const uint8_t *key, size_t keylen);
void cry_blake2s_update(struct cry_blake2s *s, const void *in, size_t n);
/* Write outlen bytes and wipe the state. */
void cry_blake2s_final(struct cry_blake2s *s, uint8_t *out);

/* One-shot: out = BLAKE2s(outlen, key, in). 0 or -EINVAL. */
int cry_blake2s(uint8_t *out, size_t outlen, const uint8_t *key, size_t keylen, const void *in,
		size_t n);

/* HMAC-BLAKE2s (RFC 2104 with the 64-byte block): out[32]. keylen <= 64. */
void cry_hmac_blake2s(uint8_t out[32], const uint8_t *key, size_t keylen, const void *in, size_t n);

/*
 * WireGuard's KDF_n (the paper, section 5.4): HKDF with HMAC-BLAKE2s.
 *	t0 = HMAC(key, input); t1 = HMAC(t0, 0x1); t2 = HMAC(t0, t1 || 0x2); ...
 * Writes 32 bytes to out1, and to out2 and out3 unless NULL; out3 requires
 * out2 (the outputs chain).
 */
void cry_wg_kdf(uint8_t *out1, uint8_t *out2, uint8_t *out3, const uint8_t key[32],
		const void *input, size_t n);

#endif
