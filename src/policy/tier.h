/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Relay or pipe (DESIGN.md section 7.4): the registry's rule, as a pure
 * function of what it knows about one relay at one instant.
 *
 * A relay is a PIPE when all three hold:
 *   - it joined more than `grace` ago (strictly: at exactly grace it is
 *     still in its grace period);
 *   - (a) it completed both the classical handshake and the PQ key exchange
 *     with fewer than ceil(N/2) of the N other relays;
 *   - (b) its latest report, if at most `fresh` old, reaches (with an entry
 *     of class <= max_class) fewer than bar_pct percent of the peers that
 *     reported within `fresh` of now. No report, or only an older one,
 *     counts as reaching nobody.
 * Otherwise it is a RELAY, including again after having been a pipe: the
 * function keeps no state, so a pipe that meets either bar is a relay on the
 * next evaluation.
 *
 * Edge cases, decided here (docs/policy.md):
 *   - N = 0: ceil(0/2) = 0 and nobody has fewer than 0 links, so a lone
 *     relay is never a pipe.
 *   - No other peer reported in the window: nothing to reach, the bar is met.
 *   - The relay itself is never one of the peers it must reach, whether or
 *     not it appears among the reporters or in its own entries.
 *   - Times in the future (clock skew between registry instances) count as
 *     "now": a report is not stale and a join is within grace.
 *   - Only class 0 (direct) counts by default: every peer can reach every
 *     other through the master relay, so counting class 2 would make (b)
 *     vacuous. max_class widens it.
 *
 * Times are in one caller-chosen clock (nanoseconds by convention). Peers
 * are named by the caller's 64-bit IDs. Both arrays must be sorted by peer
 * ID, strictly increasing, so the check is one merge pass with no
 * allocation; unsorted input is refused, never half-evaluated.
 */
#ifndef POL_TIER_H
#define POL_TIER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum pol_tier {
	POL_TIER_RELAY = 0,
	POL_TIER_PIPE,
};

/* Why: the first condition, in the order above, that decided. */
enum pol_tier_reason {
	POL_TIER_GRACE = 0,   /* RELAY: joined at most grace ago */
	POL_TIER_LINKED,      /* RELAY: links with >= ceil(N/2) other relays */
	POL_TIER_REACHES,     /* RELAY: fresh report reaches >= bar of reporters */
	POL_TIER_UNREACHED,   /* PIPE: few links, report below the bar */
	POL_TIER_NO_REPORT,   /* PIPE: few links, no report within freshness */
	POL_TIER_REASON_COUNT /* not a reason */
};

/* The rule's numbers (DESIGN.md section 12). */
struct pol_tier_config {
	uint64_t grace;	   /* after join; default 120 s */
	uint64_t fresh;	   /* report freshness; default 150 s */
	uint32_t bar_pct;  /* reachability bar, 0..100; default 90 */
	uint8_t max_class; /* highest reachability class that counts, 0..2; default 0 */
};

/* Reachability classes of report entries. */
#define POL_REACH_DIRECT 0 /* direct */
#define POL_REACH_RELAYS 1 /* through other relays */
#define POL_REACH_MASTER 2 /* through the master relay */

/* One of the N other relays, as this relay's links to it stand. */
struct pol_tier_link {
	bool classic_done; /* WireGuard handshake completed */
	bool pq_done;	   /* PQ key exchange completed (a PSK installed) */
};

/* One entry of the relay's latest report. */
struct pol_tier_reach {
	uint64_t peer;
	uint8_t cls; /* POL_REACH_* */
};

/* A peer and when it last reported to the registry. */
struct pol_tier_reporter {
	uint64_t peer;
	uint64_t at;
};

struct pol_tier_input {
	uint64_t now;
	uint64_t self;			   /* the relay's own peer ID */
	uint64_t joined_at;		   /* when the relay joined */
	const struct pol_tier_link *links; /* the N other relays */
	size_t nlinks;
	bool has_report; /* the relay has reported at all */
	uint64_t report_at;
	const struct pol_tier_reach *reach; /* its latest report, sorted by peer */
	size_t nreach;
	const struct pol_tier_reporter *reporters; /* all peers, sorted by peer */
	size_t nreporters;
};

struct pol_tier_result {
	enum pol_tier tier;
	enum pol_tier_reason reason;
	/* The evidence, filled whatever decided (for logs and the web page). */
	size_t links_done;   /* other relays with both handshakes */
	size_t links_needed; /* ceil(N/2) */
	size_t reached;	     /* fresh reporters the fresh report reaches */
	size_t reporters;    /* fresh reporters other than the relay */
	bool report_fresh;
};

/* Fill *cfg with the defaults of DESIGN.md section 12, in nanoseconds. */
void pol_tier_config_default(struct pol_tier_config *cfg);
/* Evaluate the rule. 0 with *out written, or -EINVAL for a bad config
 * (bar_pct > 100, max_class > 2), unsorted or duplicate peer IDs, or a
 * class above 2. */
int pol_tier_compute(const struct pol_tier_config *cfg, const struct pol_tier_input *in,
		     struct pol_tier_result *out);

/* "relay", "pipe"; "?" out of range. */
const char *pol_tier_name(enum pol_tier tier);
/* "grace", "linked", "reaches", "unreached", "no-report"; "?" out of range. */
const char *pol_tier_reason_name(enum pol_tier_reason reason);

#endif
