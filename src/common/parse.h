/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Checked number parsing: the only way Scope turns text into integers
 * (atoi and unchecked strtol are banned, tools/check-banned.sh).
 */
#ifndef SC_PARSE_H
#define SC_PARSE_H

#include <stdint.h>

/* Parse a whole decimal string into [min, max]. No sign, no spaces, no
 * trailing bytes. *out is written only on success. 0, -EINVAL or -ERANGE. */
int sc_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

#endif
