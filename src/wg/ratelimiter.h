/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Handshake rate limiter (Linux ratelimiter.c): a token bucket per source
 * address, PACKETS_BURST deep and refilled at PACKETS_PER_SECOND. IPv6
 * sources are bucketed by /64, since one host usually owns at least that.
 * It is consulted only under load, for messages whose mac2 already proved the
 * source address is real.
 *
 * Fixed size: WG_RATELIMIT_ENTRIES sources at once, allocated with the
 * limiter; a new source beyond that is refused, as in Linux. Entries idle for
 * RATELIMITER_GC_AGE are collected at most once a second, during a call.
 * Buckets are chosen by a keyed hash so remote hosts cannot aim at one.
 */
#ifndef WG_RATELIMITER_H
#define WG_RATELIMITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wg_ratelimiter;

/* key: 16 random bytes for the bucket hash. NULL on allocation failure. */
struct wg_ratelimiter *wg_ratelimiter_new(const uint8_t key[16]);
void wg_ratelimiter_free(struct wg_ratelimiter *rl);

/* Whether a packet from addr (4 or 16 bytes) may be processed now. */
bool wg_ratelimiter_allow(struct wg_ratelimiter *rl, uint64_t now, const uint8_t *addr,
			  size_t alen);

/* Sources tracked (for tests). */
size_t wg_ratelimiter_count(const struct wg_ratelimiter *rl);

#endif
