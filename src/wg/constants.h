/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The WireGuard protocol constants, with the names of the WireGuard paper
 * (section 6.1, "Protocol & Cryptography") as they are, and the few the Linux
 * driver adds. Times are in nanoseconds of the monotonic clock the caller
 * passes in as `now`.
 *
 * Everything the network can make us store has its cap in limits.h instead.
 */
#ifndef WG_CONSTANTS_H
#define WG_CONSTANTS_H

#include <stdint.h>

#include "common/env.h"

/* Paper, section 6.1. */
#define REKEY_AFTER_MESSAGES  (1ull << 60)
#define REJECT_AFTER_MESSAGES (UINT64_MAX - (1ull << 13)) /* 2^64 - 2^13 - 1 */
#define REKEY_AFTER_TIME      (120 * SC_NSEC_PER_SEC)
#define REJECT_AFTER_TIME     (180 * SC_NSEC_PER_SEC)
#define REKEY_ATTEMPT_TIME    (90 * SC_NSEC_PER_SEC)
#define REKEY_TIMEOUT	      (5 * SC_NSEC_PER_SEC)
#define KEEPALIVE_TIMEOUT     (10 * SC_NSEC_PER_SEC)

/* How many initiations the retransmit timer sends before giving up (the
 * first is sent by whoever started the handshake, so MAX_TIMER_HANDSHAKES + 2
 * go on the wire in all, as in the Linux driver). */
#define MAX_TIMER_HANDSHAKES (REKEY_ATTEMPT_TIME / REKEY_TIMEOUT)

/* Retransmissions get 0..REKEY_TIMEOUT_JITTER_MAX of random extra delay so
 * that two peers that keep missing each other drift apart (Linux: HZ / 3). */
#define REKEY_TIMEOUT_JITTER_MAX (333 * SC_NSEC_PER_MSEC)

/* Paper, section 5.4.7: the cookie secret changes every two minutes, and a
 * cookie is used for COOKIE_SECRET_LATENCY less than that, so a cookie made
 * just before the secret changes is not sent after the responder dropped it. */
#define COOKIE_SECRET_MAX_AGE (120 * SC_NSEC_PER_SEC)
#define COOKIE_SECRET_LATENCY (5 * SC_NSEC_PER_SEC)

/* Linux noise.c: at most this many initiations per peer and second are
 * consumed; the rest is a flood, even when correctly timestamped. */
#define INITIATIONS_PER_SECOND 50

/* TAI64N nanoseconds are rounded down to this (the largest power of two
 * below 1 s / INITIATIONS_PER_SECOND, 2^24 ns) so the timestamp does not
 * leak a precise clock (Linux noise.c tai64n_now). */
#define TAI64N_NSEC_GRANULARITY (1u << 24)

/* Under load (section 5.3): when this many handshakes wait to be processed,
 * initiations and responses without a valid mac2 get a cookie reply, and the
 * state lasts UNDER_LOAD_TIME after the backlog drains (Linux receive.c). */
#define MAX_QUEUED_INCOMING_HANDSHAKES 4096
#define UNDER_LOAD_BACKLOG	       (MAX_QUEUED_INCOMING_HANDSHAKES / 8)
#define UNDER_LOAD_TIME		       (1 * SC_NSEC_PER_SEC)

/* Handshake rate limiter per source address (Linux ratelimiter.c): a token
 * bucket of PACKETS_BURST packets refilled at PACKETS_PER_SECOND. */
#define PACKETS_PER_SECOND 20
#define PACKETS_BURST	   5
#define PACKET_COST	   (SC_NSEC_PER_SEC / PACKETS_PER_SECOND)
#define TOKEN_MAX	   (PACKET_COST * PACKETS_BURST)
#define RATELIMITER_GC_AGE (1 * SC_NSEC_PER_SEC)

/* Message types (the first little-endian 32-bit word of every message). */
#define MESSAGE_HANDSHAKE_INITIATION 1
#define MESSAGE_HANDSHAKE_RESPONSE   2
#define MESSAGE_HANDSHAKE_COOKIE     3
#define MESSAGE_DATA		     4

/* Transport data is padded to a multiple of this (paper, section 5.4.6). */
#define MESSAGE_PADDING_MULTIPLE 16

#endif
