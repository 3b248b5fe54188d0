// SPDX-License-Identifier: GPL-2.0-only
/*
 * The PSK file parser of the key-exchange driver (agent/pskstore.h) on
 * arbitrary bytes: nothing may crash, and whatever parses must format back
 * to exactly the input (one text per state, so a file is never "half"
 * understood).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/pskstore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kexd_store_file f;
	char out[KEXD_STORE_FILE_MAX];
	size_t len;

	if (size > KEXD_STORE_FILE_MAX)
		return 0;
	if (kexd_store_parse((const char *)data, size, &f))
		return 0;
	if (kexd_store_format(&f, out, sizeof(out), &len) || len != size ||
	    memcmp(out, data, size) != 0)
		abort();
	return 0;
}
