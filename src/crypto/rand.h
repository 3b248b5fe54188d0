/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Random bytes from the kernel (getrandom(2), blocking until the pool is
 * seeded). Sans-I/O code does not call this: it gets randomness through
 * struct sc_env, whose real implementation calls this.
 */
#ifndef CRY_RAND_H
#define CRY_RAND_H

#include <stddef.h>

/* Fill buf with n random bytes. 0 or -errno (only on a broken kernel). */
int cry_random(void *buf, size_t n);

#endif
