/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ChaCha20-Poly1305 (RFC 8439) over OpenSSL, and XChaCha20-Poly1305
 * (draft-irtf-cfrg-xchacha) from the in-house HChaCha20.
 *
 * A struct cry_aead is a reusable cipher context owned by one thread. The key
 * is passed on every call (ChaCha20 has no key schedule, so setting it costs
 * a copy), which lets one context per worker serve every peer with no
 * allocation per packet. The 96-bit nonce is WireGuard's: 32 zero bits then
 * the 64-bit counter, little-endian.
 */
#ifndef CRY_AEAD_H
#define CRY_AEAD_H

#include <stddef.h>
#include <stdint.h>

#define CRY_AEAD_KEY	32
#define CRY_AEAD_TAG	16
#define CRY_XAEAD_NONCE 24

struct cry_aead;

/* NULL on allocation failure. */
struct cry_aead *cry_aead_new(void);
void cry_aead_free(struct cry_aead *a);

/* out (n + 16 bytes) = seal(key, nonce(counter), ad, in). in and out may be
 * equal. 0 or -EIO (OpenSSL failure). */
int cry_aead_seal(struct cry_aead *a, const uint8_t key[32], uint64_t counter, const void *ad,
		  size_t adlen, const void *in, size_t n, uint8_t *out);
/* out (n - 16 bytes) = open(...). in and out may be equal. 0, -EBADMSG on a
 * bad tag (out then holds no plaintext) or -EINVAL if n < 16. */
int cry_aead_open(struct cry_aead *a, const uint8_t key[32], uint64_t counter, const void *ad,
		  size_t adlen, const void *in, size_t n, uint8_t *out);

/* Same with a raw 12-byte nonce (RFC 8439 test vectors use arbitrary ones). */
int cry_aead_seal_nonce(struct cry_aead *a, const uint8_t key[32], const uint8_t nonce[12],
			const void *ad, size_t adlen, const void *in, size_t n, uint8_t *out);
int cry_aead_open_nonce(struct cry_aead *a, const uint8_t key[32], const uint8_t nonce[12],
			const void *ad, size_t adlen, const void *in, size_t n, uint8_t *out);

/* HChaCha20: out[32] from key[32] and in[16]. */
void cry_hchacha20(uint8_t out[32], const uint8_t key[32], const uint8_t in[16]);

/* XChaCha20-Poly1305 with a 24-byte nonce. Same conventions as above. */
int cry_xaead_seal(struct cry_aead *a, const uint8_t key[32], const uint8_t nonce[24],
		   const void *ad, size_t adlen, const void *in, size_t n, uint8_t *out);
int cry_xaead_open(struct cry_aead *a, const uint8_t key[32], const uint8_t nonce[24],
		   const void *ad, size_t adlen, const void *in, size_t n, uint8_t *out);

#endif
