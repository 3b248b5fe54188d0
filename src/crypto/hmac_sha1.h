/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * HMAC-SHA1 (RFC 2104) over OpenSSL's SHA-1, for STUN's MESSAGE-INTEGRITY
 * (RFC 8489 section 14.5). Nothing else in Scope uses SHA-1.
 *
 * The input comes in two parts because STUN hashes a copy of its header
 * whose length field was rewritten, followed by the message body in place:
 * two parts spare the caller a copy of the whole message.
 */
#ifndef CRY_HMAC_SHA1_H
#define CRY_HMAC_SHA1_H

#include <stddef.h>
#include <stdint.h>

#define CRY_SHA1_LEN	   20
#define CRY_SHA1_BLOCK_LEN 64

/* out = HMAC-SHA1(key, a || b). Any key length (longer than the block is
 * hashed first, as RFC 2104 says); a or b may be NULL with length 0.
 * 0 or -EIO (OpenSSL failure) or -ENOMEM; out is written only on success. */
int cry_hmac_sha1(const void *key, size_t keylen, const void *a, size_t alen, const void *b,
		  size_t blen, uint8_t out[CRY_SHA1_LEN]);

#endif
