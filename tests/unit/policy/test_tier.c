// SPDX-License-Identifier: GPL-2.0-only
/*
 * The relay/pipe rule (DESIGN.md section 7.4) at its boundaries: grace
 * 119/120/121 s, exactly ceil(N/2) links and one fewer for odd and even N,
 * 89 % vs 90 %, reports 149/150/151 s old, and the edge cases tier.h
 * decides. Each row is a crafted registry view of one relay.
 */
#include <errno.h>

#include "common/env.h"
#include "policy/tier.h"
#include "test.h"

#define S(x) ((uint64_t)(x)*SC_NSEC_PER_SEC)

/* Peer IDs: the relay is SELF; fresh reporters FRESH0.., stale ones STALE0.. */
#define SELF   50
#define FRESH0 100
#define STALE0 1000
#define NOW    S(10000)

struct row {
	const char *name;
	unsigned int since_join;   /* s */
	unsigned int nrelays;	   /* N other relays */
	unsigned int both;	   /* of them: classical and PQ done */
	unsigned int classic_only; /* of them: classical only (does not count) */
	int report_age;		   /* s; -1: never reported */
	unsigned int fresh;	   /* reporters at fresh_age */
	unsigned int fresh_age;	   /* s; 0 means 10 */
	unsigned int stale;	   /* reporters 151 s old */
	unsigned int reach0;	   /* fresh reporters reached directly */
	unsigned int reach1;	   /* fresh reporters reached through relays */
	unsigned int reach_stale;  /* stale reporters reached directly */
	bool self_listed;	   /* the relay among reporters and its own entries */
	uint8_t max_class;
	enum pol_tier want;
	enum pol_tier_reason why;
};

#define RELAY POL_TIER_RELAY
#define PIPE  POL_TIER_PIPE

static const struct row rows[] = {
	/* Grace: everything fails, only the time since join differs. */
	{ "119 s after join", 119, 4, 0, 0, 10, 10, 0, 0, 0, 0, 0, 0, 0, RELAY, POL_TIER_GRACE },
	{ "120 s after join", 120, 4, 0, 0, 10, 10, 0, 0, 0, 0, 0, 0, 0, RELAY, POL_TIER_GRACE },
	{ "121 s after join", 121, 4, 0, 0, 10, 10, 0, 0, 0, 0, 0, 0, 0, PIPE, POL_TIER_UNREACHED },
	/* (a) N even: ceil(4/2) = 2. */
	{ "N=4, 2 links", 300, 4, 2, 0, 10, 10, 0, 0, 0, 0, 0, 0, 0, RELAY, POL_TIER_LINKED },
	{ "N=4, 1 link", 300, 4, 1, 0, 10, 10, 0, 0, 0, 0, 0, 0, 0, PIPE, POL_TIER_UNREACHED },
	/* (a) N odd: ceil(5/2) = 3. */
	{ "N=5, 3 links", 300, 5, 3, 0, 10, 10, 0, 0, 0, 0, 0, 0, 0, RELAY, POL_TIER_LINKED },
	{ "N=5, 2 links", 300, 5, 2, 0, 10, 10, 0, 0, 0, 0, 0, 0, 0, PIPE, POL_TIER_UNREACHED },
	{ "N=1, 1 link", 300, 1, 1, 0, 10, 10, 0, 0, 0, 0, 0, 0, 0, RELAY, POL_TIER_LINKED },
	{ "N=1, 0 links", 300, 1, 0, 0, 10, 10, 0, 0, 0, 0, 0, 0, 0, PIPE, POL_TIER_UNREACHED },
	/* A classical handshake without the PQ exchange is not a link. */
	{ "N=4, 1 link + 3 classical only", 300, 4, 1, 3, 10, 10, 0, 0, 0, 0, 0, 0, 0, PIPE,
	  POL_TIER_UNREACHED },
	/* A lone relay: ceil(0/2) = 0, nobody has fewer than 0 links. */
	{ "N=0", 300, 0, 0, 0, -1, 10, 0, 0, 0, 0, 0, 0, 0, RELAY, POL_TIER_LINKED },
	/* (b) the bar: 90 % of 100, of 10, of 11. */
	{ "90 of 100", 300, 4, 1, 0, 10, 100, 0, 0, 90, 0, 0, 0, 0, RELAY, POL_TIER_REACHES },
	{ "89 of 100", 300, 4, 1, 0, 10, 100, 0, 0, 89, 0, 0, 0, 0, PIPE, POL_TIER_UNREACHED },
	{ "9 of 10", 300, 4, 1, 0, 10, 10, 0, 0, 9, 0, 0, 0, 0, RELAY, POL_TIER_REACHES },
	{ "8 of 10", 300, 4, 1, 0, 10, 10, 0, 0, 8, 0, 0, 0, 0, PIPE, POL_TIER_UNREACHED },
	{ "10 of 11 (90.9 %)", 300, 4, 1, 0, 10, 11, 0, 0, 10, 0, 0, 0, 0, RELAY,
	  POL_TIER_REACHES },
	{ "9 of 11 (81.8 %)", 300, 4, 1, 0, 10, 11, 0, 0, 9, 0, 0, 0, 0, PIPE, POL_TIER_UNREACHED },
	/* Report age: at most 150 s counts. */
	{ "report 149 s old", 300, 4, 1, 0, 149, 10, 0, 0, 9, 0, 0, 0, 0, RELAY, POL_TIER_REACHES },
	{ "report 150 s old", 300, 4, 1, 0, 150, 10, 0, 0, 9, 0, 0, 0, 0, RELAY, POL_TIER_REACHES },
	{ "report 151 s old", 300, 4, 1, 0, 151, 10, 0, 0, 9, 0, 0, 0, 0, PIPE,
	  POL_TIER_NO_REPORT },
	{ "never reported", 300, 4, 1, 0, -1, 10, 0, 0, 0, 0, 0, 0, 0, PIPE, POL_TIER_NO_REPORT },
	/* Reporters: only those within 150 s are in the denominator. */
	{ "5 unreached reporters 151 s old", 300, 4, 1, 0, 10, 10, 0, 5, 9, 0, 0, 0, 0, RELAY,
	  POL_TIER_REACHES },
	{ "reporters 149 s old", 300, 4, 1, 0, 10, 10, 149, 0, 8, 0, 0, 0, 0, PIPE,
	  POL_TIER_UNREACHED },
	{ "reporters 150 s old", 300, 4, 1, 0, 10, 10, 150, 0, 8, 0, 0, 0, 0, PIPE,
	  POL_TIER_UNREACHED },
	{ "reporters 151 s old", 300, 4, 1, 0, 10, 0, 0, 10, 0, 0, 8, 0, 0, RELAY,
	  POL_TIER_REACHES },
	{ "reached stale reporters do not count", 300, 4, 1, 0, 10, 10, 0, 5, 8, 0, 5, 0, 0, PIPE,
	  POL_TIER_UNREACHED },
	/* Nobody reported: nothing to reach. */
	{ "no reporters", 300, 4, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0, 0, RELAY, POL_TIER_REACHES },
	{ "no reporters, no report", 300, 4, 0, 0, -1, 0, 0, 0, 0, 0, 0, 0, 0, RELAY,
	  POL_TIER_REACHES },
	/* Classes: only direct counts by default. */
	{ "9 of 10 through relays", 300, 4, 1, 0, 10, 10, 0, 0, 0, 9, 0, 0, 0, PIPE,
	  POL_TIER_UNREACHED },
	{ "9 of 10 through relays, max_class 1", 300, 4, 1, 0, 10, 10, 0, 0, 0, 9, 0, 0, 1, RELAY,
	  POL_TIER_REACHES },
	{ "5+4 of 10 mixed, max_class 1", 300, 4, 1, 0, 10, 10, 0, 0, 5, 4, 0, 0, 1, RELAY,
	  POL_TIER_REACHES },
	/* The relay itself is neither reporter nor reached: 8 of 9 others
	 * (88.9 %) would read 9 of 10 if it counted itself. */
	{ "self excluded", 300, 4, 1, 0, 10, 9, 0, 0, 8, 0, 0, 1, 0, PIPE, POL_TIER_UNREACHED },
};

/* Build the registry's view for a row and evaluate it. */
static int eval(const struct row *r, struct pol_tier_result *res)
{
	struct pol_tier_link links[16];
	struct pol_tier_reach reach[256];
	struct pol_tier_reporter reps[256];
	struct pol_tier_config cfg;
	struct pol_tier_input in = { 0 };
	size_t nreach = 0, nreps = 0, i;
	uint64_t fresh_age = r->fresh_age ? r->fresh_age : 10;

	pol_tier_config_default(&cfg);
	cfg.max_class = r->max_class;
	for (i = 0; i < r->nrelays; i++) {
		links[i].classic_done = i < r->both + r->classic_only;
		links[i].pq_done = i < r->both;
	}
	/* Sorted by peer: SELF < FRESH0.. < STALE0.. */
	if (r->self_listed) {
		reach[nreach++] = (struct pol_tier_reach){ SELF, POL_REACH_DIRECT };
		reps[nreps++] = (struct pol_tier_reporter){ SELF, NOW - S(1) };
	}
	for (i = 0; i < r->fresh; i++) {
		reps[nreps++] = (struct pol_tier_reporter){ FRESH0 + i, NOW - S(fresh_age) };
		if (i < r->reach0)
			reach[nreach++] = (struct pol_tier_reach){ FRESH0 + i, POL_REACH_DIRECT };
		else if (i < r->reach0 + r->reach1)
			reach[nreach++] = (struct pol_tier_reach){ FRESH0 + i, POL_REACH_RELAYS };
		else
			reach[nreach++] = (struct pol_tier_reach){ FRESH0 + i, POL_REACH_MASTER };
	}
	for (i = 0; i < r->stale; i++) {
		reps[nreps++] = (struct pol_tier_reporter){ STALE0 + i, NOW - S(151) };
		if (i < r->reach_stale)
			reach[nreach++] = (struct pol_tier_reach){ STALE0 + i, POL_REACH_DIRECT };
	}
	in.now = NOW;
	in.self = SELF;
	in.joined_at = NOW - S(r->since_join);
	in.links = links;
	in.nlinks = r->nrelays;
	in.has_report = r->report_age >= 0;
	in.report_at = r->report_age >= 0 ? NOW - S(r->report_age) : 0;
	in.reach = reach;
	in.nreach = nreach;
	in.reporters = reps;
	in.nreporters = nreps;
	return pol_tier_compute(&cfg, &in, res);
}

static void test_table(void)
{
	size_t i;

	for (i = 0; i < SC_ARRAY_SIZE(rows); i++) {
		struct pol_tier_result res;
		int ret = eval(&rows[i], &res);

		CHECK_EQ(ret, 0);
		if (ret)
			continue;
		if (res.tier != rows[i].want || res.reason != rows[i].why)
			fprintf(stderr, "# row '%s': got %s/%s, want %s/%s\n", rows[i].name,
				pol_tier_name(res.tier), pol_tier_reason_name(res.reason),
				pol_tier_name(rows[i].want), pol_tier_reason_name(rows[i].why));
		CHECK_EQ(res.tier, rows[i].want);
		CHECK_EQ(res.reason, rows[i].why);
		CHECK_EQ(res.links_needed, (rows[i].nrelays + 1) / 2);
		CHECK_EQ(res.links_done, rows[i].both);
	}
}

/* The evidence fields say what was counted. */
static void test_evidence(void)
{
	struct pol_tier_result res;
	const struct row r = { "x", 300, 5, 2, 1, 10, 11, 0, 4, 9, 1, 2, 1, 0, PIPE, 0 };

	CHECK_EQ(eval(&r, &res), 0);
	CHECK_EQ(res.links_done, 2);
	CHECK_EQ(res.links_needed, 3);
	CHECK_EQ(res.reporters, 11);
	CHECK_EQ(res.reached, 9);
	CHECK(res.report_fresh);
}

/* One relay over time: a pipe becomes a relay again once a bar is met,
 * and no state carries over between evaluations. */
static void test_pipe_becomes_relay(void)
{
	struct pol_tier_link links[4] = { { true, true } };
	struct pol_tier_reach reach[10];
	struct pol_tier_reporter reps[10];
	struct pol_tier_config cfg;
	struct pol_tier_result res;
	struct pol_tier_input in = { 0 };
	size_t i;

	pol_tier_config_default(&cfg);
	for (i = 0; i < 10; i++) {
		reps[i] = (struct pol_tier_reporter){ FRESH0 + i, S(290) };
		reach[i] = (struct pol_tier_reach){ FRESH0 + i,
						    i < 5 ? POL_REACH_DIRECT : POL_REACH_MASTER };
	}
	in.self = SELF;
	in.joined_at = S(100);
	in.links = links;
	in.nlinks = 4;
	in.has_report = true;
	in.report_at = S(290);
	in.reach = reach;
	in.nreach = 10;
	in.reporters = reps;
	in.nreporters = 10;

	in.now = S(300); /* 200 s after join, 1 of 4 links, 5 of 10 reached */
	CHECK_EQ(pol_tier_compute(&cfg, &in, &res), 0);
	CHECK_EQ(res.tier, PIPE);
	/* Next report: hole punching worked, 9 of 10 now direct. */
	for (i = 5; i < 9; i++)
		reach[i].cls = POL_REACH_DIRECT;
	in.now = S(330);
	in.report_at = S(325);
	CHECK_EQ(pol_tier_compute(&cfg, &in, &res), 0);
	CHECK_EQ(res.tier, RELAY);
	CHECK_EQ(res.reason, POL_TIER_REACHES);
	/* The relay stops reporting while the others go on: a pipe again... */
	in.now = S(325 + 151);
	for (i = 0; i < 10; i++)
		reps[i].at = S(470);
	CHECK_EQ(pol_tier_compute(&cfg, &in, &res), 0);
	CHECK_EQ(res.tier, PIPE);
	CHECK_EQ(res.reason, POL_TIER_NO_REPORT);
	/* ...until the relay completes both exchanges with a second relay. */
	links[1] = (struct pol_tier_link){ true, true };
	CHECK_EQ(pol_tier_compute(&cfg, &in, &res), 0);
	CHECK_EQ(res.tier, RELAY);
	CHECK_EQ(res.reason, POL_TIER_LINKED);
}

/* Clock skew: a report or join "in the future" counts as now. */
static void test_future_times(void)
{
	struct pol_tier_link links[4] = { 0 };
	struct pol_tier_config cfg;
	struct pol_tier_result res;
	struct pol_tier_input in = { 0 };

	pol_tier_config_default(&cfg);
	in.now = S(1000);
	in.joined_at = S(1005);
	in.links = links;
	in.nlinks = 4;
	CHECK_EQ(pol_tier_compute(&cfg, &in, &res), 0);
	CHECK_EQ(res.reason, POL_TIER_GRACE);
	/* A report stamped 5 s ahead is fresh, not 2^64 ns old. */
	in.joined_at = 0;
	in.has_report = true;
	in.report_at = S(1005);
	CHECK_EQ(pol_tier_compute(&cfg, &in, &res), 0);
	CHECK(res.report_fresh);
}

/* Bad input is refused and *out left alone. */
static void test_refusals(void)
{
	struct pol_tier_reach reach[2] = { { 7, 0 }, { 7, 0 } };
	struct pol_tier_reporter reps[2] = { { 9, 0 }, { 8, 0 } };
	struct pol_tier_config cfg;
	struct pol_tier_result res, orig;
	struct pol_tier_input in = { .now = S(500) };

	memset(&res, 0x5a, sizeof(res));
	orig = res;
	pol_tier_config_default(&cfg);
	in.reach = reach;
	in.nreach = 2; /* duplicate peer */
	CHECK_EQ(pol_tier_compute(&cfg, &in, &res), -EINVAL);
	reach[1].peer = 6; /* descending */
	CHECK_EQ(pol_tier_compute(&cfg, &in, &res), -EINVAL);
	reach[1].peer = 8;
	reach[0].cls = 3; /* no such class */
	CHECK_EQ(pol_tier_compute(&cfg, &in, &res), -EINVAL);
	reach[0].cls = 0;
	in.reporters = reps;
	in.nreporters = 2; /* unsorted */
	CHECK_EQ(pol_tier_compute(&cfg, &in, &res), -EINVAL);
	reps[1].peer = 10;
	cfg.bar_pct = 101;
	CHECK_EQ(pol_tier_compute(&cfg, &in, &res), -EINVAL);
	cfg.bar_pct = 90;
	cfg.max_class = 3;
	CHECK_EQ(pol_tier_compute(&cfg, &in, &res), -EINVAL);
	cfg.max_class = 0;
	in.nlinks = 1; /* count without an array */
	CHECK_EQ(pol_tier_compute(&cfg, &in, &res), -EINVAL);
	CHECK_MEM(&res, &orig, sizeof(res));
	in.nlinks = 0;
	CHECK_EQ(pol_tier_compute(&cfg, &in, &res), 0);
}

static void test_names(void)
{
	CHECK(!strcmp(pol_tier_name(POL_TIER_RELAY), "relay"));
	CHECK(!strcmp(pol_tier_name(POL_TIER_PIPE), "pipe"));
	CHECK(!strcmp(pol_tier_name((enum pol_tier)7), "?"));
	CHECK(!strcmp(pol_tier_reason_name(POL_TIER_NO_REPORT), "no-report"));
	CHECK(!strcmp(pol_tier_reason_name(POL_TIER_REASON_COUNT), "?"));
}

static const struct t_case cases[] = {
	T(test_table),	      T(test_evidence), T(test_pipe_becomes_relay),
	T(test_future_times), T(test_refusals), T(test_names),
};

int main(void)
{
	return t_main("policy-tier", cases, SC_ARRAY_SIZE(cases));
}
