// SPDX-License-Identifier: GPL-2.0-only
#include "crypto/keys.h"

#include <string.h>

#include "common/encode.h"

void cry_key_to_b64(char out[CRY_KEY_B64_LEN + 1], const uint8_t key[CRY_KEY_LEN])
{
	sc_b64_encode(out, key, CRY_KEY_LEN);
}

int cry_key_from_b64(uint8_t key[CRY_KEY_LEN], const char *s)
{
	return sc_b64_decode(key, CRY_KEY_LEN, s, strnlen(s, CRY_KEY_B64_LEN + 1));
}

void cry_key_to_hex(char out[2 * CRY_KEY_LEN + 1], const uint8_t key[CRY_KEY_LEN])
{
	sc_hex_encode(out, key, CRY_KEY_LEN);
}

int cry_key_from_hex(uint8_t key[CRY_KEY_LEN], const char *s)
{
	return sc_hex_decode(key, CRY_KEY_LEN, s, strnlen(s, 2 * CRY_KEY_LEN + 1));
}
