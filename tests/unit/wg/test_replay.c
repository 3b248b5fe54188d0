// SPDX-License-Identifier: GPL-2.0-only
/*
 * The replay window: table-driven cases (after the Linux driver's self-test
 * of counter_validate), then random sequences against a naive model that
 * remembers every counter in a set.
 */
#include <errno.h>
#include <stdint.h>

#include "test.h"

#include "wg/constants.h"
#include "wg/replay.h"

#define W REPLAY_WINDOW_SIZE

struct step {
	uint64_t counter;
	int want;
};

static void run(const struct step *s, size_t n, const char *name)
{
	struct replay_window w;
	size_t i;
	int r;

	replay_init(&w);
	for (i = 0; i < n; i++) {
		r = replay_check(&w, s[i].counter);
		if (r != s[i].want) {
			fprintf(stderr, "# %s step %zu: counter %llu gave %d, want %d\n", name, i,
				(unsigned long long)s[i].counter, r, s[i].want);
			t_cur.failed_checks++;
		}
	}
}

static void test_table(void)
{
	const struct step basic[] = {
		{ 0, 0 },
		{ 1, 0 },
		{ 1, -EALREADY },
		{ 9, 0 },
		{ 8, 0 },
		{ 7, 0 },
		{ 7, -EALREADY },
		{ W, 0 },
		{ W - 1, 0 },
		{ 2, 0 },
		{ 1, -EALREADY },
		{ W + 1, 0 },
		{ 1, -EALREADY },
		{ 2, -EALREADY },
		{ 3, 0 },
		{ 0, -EALREADY },
		{ W + 3, 0 },
		{ 3, -EALREADY },
		{ 4, 0 },
		{ 5, 0 },
		{ 2 * W, 0 },
		{ W + 1, -EALREADY },
		{ W + 0, -EALREADY },
		{ W + 2, 0 },
		{ 1ull << 40, 0 },
		{ (1ull << 40) - W - 1, -EALREADY },
		{ (1ull << 40) - W, 0 },
	};
	/* Counters from REJECT_AFTER_MESSAGES on are refused; the last valid
	 * one is accepted once. */
	const struct step reject[] = {
		{ REJECT_AFTER_MESSAGES, -ERANGE },
		{ REJECT_AFTER_MESSAGES + 1, -ERANGE },
		{ UINT64_MAX, -ERANGE },
		{ REJECT_AFTER_MESSAGES - 1, 0 },
		{ REJECT_AFTER_MESSAGES - 2, 0 },
		{ REJECT_AFTER_MESSAGES - 1, -EALREADY },
		{ 0, -EALREADY },
		{ REJECT_AFTER_MESSAGES, -ERANGE },
	};
	/* A jump of more than the whole ring clears everything. */
	const struct step jump[] = {
		{ 5, 0 },
		{ 5 + 10 * W, 0 },
		{ 5 + 9 * W, 0 },
		{ 5 + 9 * W - 1, -EALREADY },
		{ 5 + 9 * W + 64, 0 },
		{ 5 + 10 * W, -EALREADY },
	};

	run(basic, SC_ARRAY_SIZE(basic), "basic");
	run(reject, SC_ARRAY_SIZE(reject), "reject");
	run(jump, SC_ARRAY_SIZE(jump), "jump");
}

static void test_window_edges(void)
{
	struct replay_window w;
	uint64_t i;

	/* Every counter of a full window in reverse order is accepted once. */
	replay_init(&w);
	CHECK_EQ(replay_check(&w, W), 0);
	for (i = W - 1; i >= 1; i--)
		if (replay_check(&w, i) != 0)
			break;
	CHECK_EQ(i, 0);
	CHECK_EQ(replay_check(&w, 0), 0);
	for (i = 0; i <= W; i++)
		if (replay_check(&w, i) != -EALREADY)
			break;
	CHECK_EQ(i, W + 1);
	/* One more at the top pushes 0 out of the window. */
	CHECK_EQ(replay_check(&w, W + 1), 0);
	CHECK_EQ(replay_check(&w, 0), -EALREADY);
	CHECK(REPLAY_WINDOW_SIZE >= 2048);
}

static uint64_t xs;

static uint64_t rnd(void)
{
	xs ^= xs << 13;
	xs ^= xs >> 7;
	xs ^= xs << 17;
	return xs;
}

/* The model: a counter is fresh if never seen and within W of the highest
 * seen (the window as the protocol defines it). */
static void test_random_vs_model(void)
{
	enum { SPAN = 40000 };
	static uint8_t seen[SPAN];
	struct replay_window w;
	uint64_t top, c;
	int round, i, want, got, bad = 0;

	xs = 0x1234567;
	for (round = 0; round < 20; round++) {
		replay_init(&w);
		memset(seen, 0, sizeof(seen));
		top = 0;
		int have = 0;

		for (i = 0; i < 30000; i++) {
			/* Mostly near the top, sometimes far back, sometimes ahead. */
			uint64_t r = rnd() % 100;

			if (!have || r < 60)
				c = top + rnd() % 64;
			else if (r < 90)
				c = top > W + 300 ? top - W - 300 + rnd() % (W + 300)
						  : rnd() % (top + 1);
			else
				c = top + rnd() % 3000;
			if (c >= SPAN)
				continue;
			want = (have && c + W < top) || seen[c] ? -EALREADY : 0;
			got = replay_check(&w, c);
			if (got != want && bad++ < 5)
				fprintf(stderr,
					"# round %d step %d: counter %llu top %llu got %d want "
					"%d\n",
					round, i, (unsigned long long)c, (unsigned long long)top,
					got, want);
			if (!want) {
				seen[c] = 1;
				if (!have || c > top)
					top = c;
				have = 1;
			}
		}
	}
	CHECK_EQ(bad, 0);
}

static const struct t_case cases[] = {
	T(test_table),
	T(test_window_edges),
	T(test_random_vs_model),
};

int main(void)
{
	return t_main("wg-replay", cases, SC_ARRAY_SIZE(cases));
}
