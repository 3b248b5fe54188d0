/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Sliding-window replay protection for transport counters (paper, section
 * 5.4.6, and RFC 6479's bitmap ring, as the Linux driver does it).
 *
 * The window is a ring of 64-bit words. The highest counter seen so far marks
 * the top; a counter more than REPLAY_WINDOW_SIZE below it is too old.
 * Advancing the top clears only the words it moves past, so the cost does not
 * depend on how far it jumps. One word is redundant: it is the one being
 * recycled, which is why the usable window is a word smaller than the ring.
 *
 * Not thread-safe: one receiving context per keypair, or a lock around it.
 */
#ifndef WG_REPLAY_H
#define WG_REPLAY_H

#include <stdint.h>

#include "wg/limits.h"

#define REPLAY_WORD_BITS   64u
#define REPLAY_WORDS	   (WG_REPLAY_BITS / REPLAY_WORD_BITS)
#define REPLAY_WINDOW_SIZE (WG_REPLAY_BITS - REPLAY_WORD_BITS)

_Static_assert((REPLAY_WORDS & (REPLAY_WORDS - 1)) == 0, "replay ring is a power of 2 words");
_Static_assert(REPLAY_WINDOW_SIZE >= 2048, "the window is at least 2048 counters");

struct replay_window {
	/* One more than the highest counter accepted, so 0 means "none yet". */
	uint64_t top;
	uint64_t bitmap[REPLAY_WORDS];
};

/* Forget every counter. */
void replay_init(struct replay_window *w);

/* Accept counter once: 0 and remembered; -EALREADY if seen before or older
 * than the window; -ERANGE at or past REJECT_AFTER_MESSAGES, which no sender
 * may reach. Call only after the packet authenticated. */
int replay_check(struct replay_window *w, uint64_t counter);

#endif
