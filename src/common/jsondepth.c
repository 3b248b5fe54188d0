// SPDX-License-Identifier: GPL-2.0-only
#include "common/jsondepth.h"

#include <stdint.h>

unsigned sc_json_depth(const void *text, size_t n, unsigned max)
{
	const uint8_t *p = text;
	unsigned depth = 0, deepest = 0;
	int in_str = 0, esc = 0;

	for (size_t i = 0; i < n && deepest <= max; i++) {
		uint8_t c = p[i];

		if (in_str) {
			if (esc)
				esc = 0;
			else if (c == '\\')
				esc = 1;
			else if (c == '"')
				in_str = 0;
		} else if (c == '"') {
			in_str = 1;
		} else if (c == '[' || c == '{') {
			if (++depth > deepest)
				deepest = depth;
		} else if ((c == ']' || c == '}') && depth > 0) {
			depth--;
		}
	}
	return deepest > max ? max + 1 : deepest;
}
