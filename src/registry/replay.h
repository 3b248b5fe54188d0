/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The replay cache of signed requests (proto/sigreq.h): remembers the replay
 * id of every accepted request for as long as its timestamp could still pass
 * the freshness check, and refuses a repeat.
 *
 * Two generations of an open-addressing set, each spanning 2 * window
 * seconds: an id lands in the current generation, and generations rotate
 * every 2 * window, so an id is remembered for 2 to 4 windows. A request
 * with timestamp ts is accepted only while now <= ts + window, and it is
 * first seen no earlier than ts - window, so 2 windows always suffice.
 *
 * Bounded: a generation holds at most REG_REPLAY_CACHE_MAX ids; when the
 * current one is full, new requests are refused (-EBUSY) rather than let
 * through unchecked. Not thread-safe.
 */
#ifndef REG_REPLAY_H
#define REG_REPLAY_H

#include <stddef.h>
#include <stdint.h>

struct reg_replay;

/* window: the signature freshness window in seconds (> 0). 0 or -ENOMEM. */
int reg_replay_new(uint64_t window, size_t max_ids, struct reg_replay **out);
void reg_replay_free(struct reg_replay *rc);
/* Record id (32 bytes) seen at now (seconds). 0 if new; -EEXIST if seen;
 * -EBUSY if the cache is full; -ENOMEM if a rotation could not allocate. */
int reg_replay_check(struct reg_replay *rc, const uint8_t id[32], int64_t now);
/* Ids currently remembered (both generations). */
size_t reg_replay_count(const struct reg_replay *rc);

#endif
