// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <time.h>

#include "io/env.h"
#include "test.h"

static void test_env_clocks(void)
{
	struct sc_env env;
	uint64_t a, b, wall;

	io_env_init(&env);
	CHECK(env.ctx == NULL);
	a = env.now_ns(env.ctx);
	b = env.now_ns(env.ctx);
	CHECK(a > 0);
	CHECK(b >= a);
	/* Same clock as the loop's timer and io_now_ns(). */
	CHECK(io_now_ns() >= b);
	wall = env.wall_ns(env.ctx);
	CHECK(wall / SC_NSEC_PER_SEC + 5 >= (uint64_t)time(NULL));
	CHECK(wall / SC_NSEC_PER_SEC <= (uint64_t)time(NULL) + 5);
}

static void test_env_random(void)
{
	struct sc_env env;
	uint8_t x[32] = { 0 }, y[32] = { 0 }, zero[32] = { 0 };

	io_env_init(&env);
	CHECK_EQ(env.random(env.ctx, x, sizeof(x)), 0);
	CHECK_EQ(env.random(env.ctx, y, sizeof(y)), 0);
	CHECK(memcmp(x, zero, sizeof(x)) != 0);
	CHECK(memcmp(x, y, sizeof(x)) != 0);
	CHECK_EQ(env.random(env.ctx, x, 0), 0);
}

static const struct t_case cases[] = {
	T(test_env_clocks),
	T(test_env_random),
};

int main(void)
{
	return t_main("io-env", cases, SC_ARRAY_SIZE(cases));
}
