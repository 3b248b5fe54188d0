/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * WireGuard key text: 44 characters of padded base64, exactly as wg(8)
 * prints and reads them. Constant time (common/encode.h).
 */
#ifndef CRY_KEYS_H
#define CRY_KEYS_H

#include <stdint.h>

#define CRY_KEY_LEN	32
#define CRY_KEY_B64_LEN 44

/* out[45]: 44 chars + NUL. */
void cry_key_to_b64(char out[CRY_KEY_B64_LEN + 1], const uint8_t key[CRY_KEY_LEN]);
/* 0 or -EINVAL (wrong length, bad character, non-canonical). key written only on success. */
int cry_key_from_b64(uint8_t key[CRY_KEY_LEN], const char *s);
/* 64 hex chars, as in the UAPI. */
void cry_key_to_hex(char out[2 * CRY_KEY_LEN + 1], const uint8_t key[CRY_KEY_LEN]);
int cry_key_from_hex(uint8_t key[CRY_KEY_LEN], const char *s);

#endif
