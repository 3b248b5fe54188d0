// SPDX-License-Identifier: GPL-2.0-only
#include "io/env.h"

#include <time.h>

#include "crypto/rand.h"

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	/* Cannot fail for these clock ids on Linux >= 2.6.39. */
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * SC_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

uint64_t io_now_ns(void)
{
	return clock_ns(CLOCK_BOOTTIME);
}

uint64_t io_wall_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

static uint64_t env_now(void *ctx)
{
	return io_now_ns();
}

static uint64_t env_wall(void *ctx)
{
	return io_wall_ns();
}

static int env_random(void *ctx, void *buf, size_t len)
{
	return cry_random(buf, len);
}

void io_env_init(struct sc_env *env)
{
	env->now_ns = env_now;
	env->wall_ns = env_wall;
	env->random = env_random;
	env->ctx = NULL;
}
