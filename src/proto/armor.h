/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Text armor for record files:
 *
 *	-----BEGIN SCOPE CERTIFICATE-----
 *	base64, 64 characters a line, the last line 4..64
 *	-----END SCOPE CERTIFICATE-----
 *
 * Strict, so a file has one form: LF line ends, padded canonical base64,
 * exactly one newline after the END line, nothing before or after, and the
 * label must match the type byte of the record inside.
 */
#ifndef PROTO_ARMOR_H
#define PROTO_ARMOR_H

#include <stddef.h>
#include <stdint.h>

#include "proto/limits.h"

/* "SCOPE NETWORK", "SCOPE CERTIFICATE", "SCOPE REVOCATION LIST",
 * "SCOPE KILL SWITCH"; NULL for an unknown type. */
const char *proto_armor_label(uint8_t type);

/* Characters of the armor of n bytes of the given type, with the NUL. */
size_t proto_armor_len(uint8_t type, size_t n);
/* Armor the record in[0, n) (its type byte picks the label) into out[cap],
 * NUL-terminated. 0, -EINVAL (not a record header) or -ENOBUFS. */
int proto_armor_encode(char *out, size_t cap, const uint8_t *in, size_t n);
/* Decode armored text in[0, len) into out[cap]: *outlen bytes of a record
 * whose type, checked against the label, is *type. All-or-nothing.
 * 0, -EINVAL (not strictly armored, or label and type differ), -ENOBUFS. */
int proto_armor_decode(uint8_t *out, size_t cap, size_t *outlen, uint8_t *type, const char *in,
		       size_t len);

#endif
