// SPDX-License-Identifier: GPL-2.0-only
#include "crypto/ct.h"

#include <string.h>

int cry_memeq(const void *a, const void *b, size_t n)
{
	const volatile uint8_t *x = a, *y = b;
	uint8_t d = 0;
	size_t i;

	for (i = 0; i < n; i++)
		d |= x[i] ^ y[i];
	/* (d - 1) >> 8 is all ones only when d == 0; no branch on d. */
	return (int)(((unsigned int)d - 1) >> 8) & 1;
}

int cry_is_zero(const void *p, size_t n)
{
	const volatile uint8_t *x = p;
	uint8_t d = 0;
	size_t i;

	for (i = 0; i < n; i++)
		d |= x[i];
	return (int)(((unsigned int)d - 1) >> 8) & 1;
}

void cry_wipe(void *p, size_t n)
{
	if (!p || !n)
		return;
	/* explicit_bzero is a glibc function the optimizer must keep; the
	 * barrier covers builds where it is inlined to memset. */
	explicit_bzero(p, n);
	__asm__ __volatile__("" : : "r"(p) : "memory");
}
