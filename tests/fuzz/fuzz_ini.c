// SPDX-License-Identifier: GPL-2.0-only
/*
 * The INI parser (scoped's configuration): never crashes; an accepted file
 * yields entries whose keys and values are non-empty, trimmed, comment-free
 * and lie inside the parser's own copy.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/ini.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_str(const struct sc_ini *ini, const char *s)
{
	size_t n = strlen(s);

	if (s < ini->text || s + n > ini->text + ini->text_len)
		abort();
	if (!n || s[0] == ' ' || s[n - 1] == ' ' || strchr(s, '#') || strchr(s, '\n'))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sc_ini *ini = NULL;
	struct sc_ini_error err;

	if (sc_ini_parse((const char *)data, size, &ini, &err))
		return 0;
	for (size_t i = 0; i < ini->n; i++) {
		check_str(ini, ini->entries[i].key);
		check_str(ini, ini->entries[i].value);
		check_str(ini, ini->entries[i].section);
		if (ini->entries[i].section_n >= ini->n_sections)
			abort();
	}
	sc_ini_free(ini);
	return 0;
}
