// SPDX-License-Identifier: GPL-2.0-only
/*
 * Base64 and hex decoders (keys in config files, the UAPI and the registry):
 * never crash, and every accepted input re-encodes to itself (canonical).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/encode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t out[96];
	char re[2 * 96 + 1];
	size_t outlen;

	if (size < 1 || size > 2 * 96)
		return 0;
	outlen = data[0] % 97;
	data++;
	size--;
	if (sc_b64_decode(out, outlen, (const char *)data, size) == 0) {
		sc_b64_encode(re, out, outlen);
		if (strlen(re) != size || memcmp(re, data, size) != 0)
			abort();
	}
	if (outlen * 2 == size && sc_hex_decode(out, outlen, (const char *)data, size) == 0) {
		/* Hex decoding accepts upper case, so compare case-folded. */
		size_t i;

		sc_hex_encode(re, out, outlen);
		for (i = 0; i < size; i++)
			if (re[i] != (data[i] | 0x20))
				abort();
	}
	return 0;
}
