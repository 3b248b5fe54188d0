// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <string.h>

#include "wg/constants.h"
#include "wg/replay.h"

void replay_init(struct replay_window *w)
{
	memset(w, 0, sizeof(*w));
}

int replay_check(struct replay_window *w, uint64_t counter)
{
	uint64_t n, word, top_word, i, steps;

	/* The sender must rekey long before this; past it, nonces could wrap. */
	if (w->top >= REJECT_AFTER_MESSAGES + 1 || counter >= REJECT_AFTER_MESSAGES)
		return -ERANGE;
	/* Work with counter + 1 so that top == 0 can mean "nothing yet". */
	n = counter + 1;
	if (n + REPLAY_WINDOW_SIZE < w->top)
		return -EALREADY;
	word = n / REPLAY_WORD_BITS;
	if (n > w->top) {
		/* Clear the words between the old top and the new one, at most
		 * the whole ring however far the top jumps. */
		top_word = w->top / REPLAY_WORD_BITS;
		steps = word - top_word;
		if (steps > REPLAY_WORDS)
			steps = REPLAY_WORDS;
		for (i = 1; i <= steps; i++)
			w->bitmap[(top_word + i) & (REPLAY_WORDS - 1)] = 0;
		w->top = n;
	}
	word &= REPLAY_WORDS - 1;
	if (w->bitmap[word] & (1ull << (n % REPLAY_WORD_BITS)))
		return -EALREADY;
	w->bitmap[word] |= 1ull << (n % REPLAY_WORD_BITS);
	return 0;
}
