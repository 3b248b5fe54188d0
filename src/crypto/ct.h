/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Constant-time comparison and wiping. Every comparison of a MAC, key or
 * secret-derived value in Scope goes through cry_memeq (memcmp on secrets is
 * banned), and every buffer that held a secret is cleared with cry_wipe.
 */
#ifndef CRY_CT_H
#define CRY_CT_H

#include <stddef.h>
#include <stdint.h>

/* 1 if the n bytes at a and b are equal, else 0; time depends only on n. */
int cry_memeq(const void *a, const void *b, size_t n);
/* 1 if all n bytes are zero, else 0; time depends only on n. */
int cry_is_zero(const void *p, size_t n);
/* Zero n bytes in a way the compiler may not elide. */
void cry_wipe(void *p, size_t n);

#endif
