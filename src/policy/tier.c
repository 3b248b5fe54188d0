// SPDX-License-Identifier: GPL-2.0-only
#include "policy/tier.h"

#include <errno.h>

#include "common/env.h"

void pol_tier_config_default(struct pol_tier_config *cfg)
{
	cfg->grace = 120 * SC_NSEC_PER_SEC;
	cfg->fresh = 150 * SC_NSEC_PER_SEC;
	cfg->bar_pct = 90;
	cfg->max_class = POL_REACH_DIRECT;
}

/* now - t, or 0 if t is in the future. */
static uint64_t age(uint64_t now, uint64_t t)
{
	return now > t ? now - t : 0;
}

static size_t links_done(const struct pol_tier_input *in)
{
	size_t i, n = 0;

	for (i = 0; i < in->nlinks; i++)
		n += in->links[i].classic_done && in->links[i].pq_done;
	return n;
}

static int check_sorted(const struct pol_tier_input *in)
{
	size_t i;

	for (i = 0; i < in->nreach; i++)
		if (in->reach[i].cls > POL_REACH_MASTER ||
		    (i && in->reach[i].peer <= in->reach[i - 1].peer))
			return -EINVAL;
	for (i = 1; i < in->nreporters; i++)
		if (in->reporters[i].peer <= in->reporters[i - 1].peer)
			return -EINVAL;
	return 0;
}

/* One merge pass: count the fresh reporters (other than the relay) and how
 * many of them the report reaches at a class that counts. */
static void count_reach(const struct pol_tier_config *cfg, const struct pol_tier_input *in,
			bool use_report, size_t *reached, size_t *total)
{
	size_t i, j = 0;

	*reached = 0;
	*total = 0;
	for (i = 0; i < in->nreporters; i++) {
		const struct pol_tier_reporter *r = &in->reporters[i];

		if (r->peer == in->self || age(in->now, r->at) > cfg->fresh)
			continue;
		(*total)++;
		if (!use_report)
			continue;
		while (j < in->nreach && in->reach[j].peer < r->peer)
			j++;
		if (j < in->nreach && in->reach[j].peer == r->peer &&
		    in->reach[j].cls <= cfg->max_class)
			(*reached)++;
	}
}

int pol_tier_compute(const struct pol_tier_config *cfg, const struct pol_tier_input *in,
		     struct pol_tier_result *out)
{
	struct pol_tier_result r = { 0 };

	if (cfg->bar_pct > 100 || cfg->max_class > POL_REACH_MASTER || (in->nlinks && !in->links) ||
	    (in->nreach && !in->reach) || (in->nreporters && !in->reporters) || check_sorted(in))
		return -EINVAL;
	r.links_done = links_done(in);
	r.links_needed = (in->nlinks + 1) / 2;
	r.report_fresh = in->has_report && age(in->now, in->report_at) <= cfg->fresh;
	count_reach(cfg, in, r.report_fresh, &r.reached, &r.reporters);

	r.tier = POL_TIER_RELAY;
	if (age(in->now, in->joined_at) <= cfg->grace) {
		r.reason = POL_TIER_GRACE;
	} else if (r.links_done >= r.links_needed) {
		r.reason = POL_TIER_LINKED;
	} else if ((uint64_t)r.reached * 100 >= (uint64_t)cfg->bar_pct * r.reporters) {
		/* Integer form of reached / reporters >= bar / 100. Also true
		 * with no reporters (0 >= 0): there is nobody to reach. */
		r.reason = POL_TIER_REACHES;
	} else {
		r.tier = POL_TIER_PIPE;
		r.reason = r.report_fresh ? POL_TIER_UNREACHED : POL_TIER_NO_REPORT;
	}
	*out = r;
	return 0;
}

const char *pol_tier_name(enum pol_tier tier)
{
	switch (tier) {
	case POL_TIER_RELAY:
		return "relay";
	case POL_TIER_PIPE:
		return "pipe";
	}
	return "?";
}

const char *pol_tier_reason_name(enum pol_tier_reason reason)
{
	switch (reason) {
	case POL_TIER_GRACE:
		return "grace";
	case POL_TIER_LINKED:
		return "linked";
	case POL_TIER_REACHES:
		return "reaches";
	case POL_TIER_UNREACHED:
		return "unreached";
	case POL_TIER_NO_REPORT:
		return "no-report";
	case POL_TIER_REASON_COUNT:
		break;
	}
	return "?";
}
