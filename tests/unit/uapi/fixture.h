/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What tests of UAPI clients share: a fixed sc_env (clock, wall clock,
 * randomness) for the wg_dev behind a test server, and a uapi_host whose
 * listen port lives in a variable. Include once per test program.
 */
#ifndef TESTS_UAPI_FIXTURE_H
#define TESTS_UAPI_FIXTURE_H

#include <stdint.h>
#include <string.h>

#include "common/env.h"
#include "uapi/server.h"

static uint64_t env_now(void *ctx)
{
	return 1;
}

#define FX_WALL_S 1700000000ull /* the wall clock, Unix seconds */

static uint64_t env_wall(void *ctx)
{
	return FX_WALL_S * SC_NSEC_PER_SEC;
}

static int env_random(void *ctx, void *buf, size_t len)
{
	memset(buf, 0x42, len);
	return 0;
}

static const struct sc_env env = { env_now, env_wall, env_random, NULL };

static uint16_t port = 51820;

static uint16_t get_port(void *ctx)
{
	return port;
}

static int set_port(void *ctx, uint16_t p)
{
	port = p;
	return 0;
}

static const struct uapi_host host = { get_port, set_port, NULL, NULL, NULL };

#endif
