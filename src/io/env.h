/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The real environment of sans-I/O code (common/env.h): kernel clocks and
 * getrandom(2).
 *
 * now_ns is CLOCK_BOOTTIME, not CLOCK_MONOTONIC: BOOTTIME keeps counting
 * while the machine is suspended, so a laptop waking after an hour finds its
 * keys older than REJECT_AFTER_TIME and rekeys, as the Linux WireGuard driver
 * does (it uses the boottime clock for the same reason). The loop's deadline
 * timer (loop.h) runs on the same clock, so deadlines computed from now_ns
 * can be handed to it unchanged.
 */
#ifndef IO_ENV_H
#define IO_ENV_H

#include <stdint.h>

#include "common/env.h"

/* Fill env with the real clocks and RNG; env->ctx is NULL. */
void io_env_init(struct sc_env *env);
/* CLOCK_BOOTTIME in nanoseconds: env->now_ns without the struct. */
uint64_t io_now_ns(void);
/* CLOCK_REALTIME in nanoseconds since the Unix epoch. */
uint64_t io_wall_ns(void);

#endif
