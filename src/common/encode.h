/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Base64 (RFC 4648, padded) and lowercase hex, in constant time.
 *
 * Keys pass through these functions, so the time taken depends only on the
 * lengths, never on the bytes: no table lookups indexed by secret data and no
 * data-dependent branches (the technique of libsodium's sodium_bin2base64).
 * Decoders are all-or-nothing: on error the output is left untouched.
 */
#ifndef SC_ENCODE_H
#define SC_ENCODE_H

#include <stddef.h>
#include <stdint.h>

/* Characters needed to base64-encode n bytes, without the terminating NUL. */
#define SC_B64_LEN(n) ((((n) + 2) / 3) * 4)

/* Encode n bytes into out (at least SC_B64_LEN(n) + 1 chars, NUL-terminated). */
void sc_b64_encode(char *out, const uint8_t *in, size_t n);
/* Decode exactly outlen bytes from the padded base64 string in (inlen chars).
 * Returns 0, or -EINVAL on a bad length, bad character, bad padding or
 * non-canonical trailing bits. */
int sc_b64_decode(uint8_t *out, size_t outlen, const char *in, size_t inlen);

/* Encode n bytes as 2n lowercase hex chars plus NUL. */
void sc_hex_encode(char *out, const uint8_t *in, size_t n);
/* Decode exactly outlen bytes from 2*outlen hex chars (either case).
 * Returns 0 or -EINVAL. */
int sc_hex_decode(uint8_t *out, size_t outlen, const char *in, size_t inlen);

#endif
