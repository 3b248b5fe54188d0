/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * How deeply JSON text nests, found by a flat scan before any recursive
 * parser (jansson) sees it, so a hostile "[[[[..." is refused without deep
 * recursion. Brackets inside strings (escapes honoured) do not count. The
 * text need not be valid JSON: this only bounds what the parser will face.
 */
#ifndef SC_JSONDEPTH_H
#define SC_JSONDEPTH_H

#include <stddef.h>

/* Deepest nesting of p[0, n); the scan stops once past max and returns
 * max + 1 then. */
unsigned sc_json_depth(const void *p, size_t n, unsigned max);

#endif
