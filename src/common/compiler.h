/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Small compiler helpers shared by every layer. Header only.
 */
#ifndef SC_COMPILER_H
#define SC_COMPILER_H

#include <stddef.h>

#define SC_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define SC_MIN(a, b)	 ((a) < (b) ? (a) : (b))
#define SC_MAX(a, b)	 ((a) > (b) ? (a) : (b))
#define sc_likely(x)	 __builtin_expect(!!(x), 1)
#define sc_unlikely(x)	 __builtin_expect(!!(x), 0)
#define SC_UNUSED	 __attribute__((unused))
#define SC_WARN_UNUSED	 __attribute__((warn_unused_result))

#endif
