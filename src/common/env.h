/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The environment of sans-I/O code (STYLE.md section 2).
 *
 * Protocol and policy code never reads the clock or the RNG itself: it calls
 * through this struct, so tests and scope-sim can run it on a virtual clock
 * with a deterministic RNG. The real environment lives in src/io.
 */
#ifndef SC_ENV_H
#define SC_ENV_H

#include <stddef.h>
#include <stdint.h>

struct sc_env {
	/* Monotonic time in nanoseconds. Never goes backwards. */
	uint64_t (*now_ns)(void *ctx);
	/* Wall-clock time in nanoseconds since the Unix epoch (TAI64N stamps). */
	uint64_t (*wall_ns)(void *ctx);
	/* Fill buf with len cryptographically strong random bytes; 0 or -errno. */
	int (*random)(void *ctx, void *buf, size_t len);
	void *ctx;
};

#define SC_NSEC_PER_SEC	 1000000000ull
#define SC_NSEC_PER_MSEC 1000000ull

#endif
