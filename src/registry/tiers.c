// SPDX-License-Identifier: GPL-2.0-only
/*
 * Relay tiers: every REG_TIER_PERIOD seconds, the pure rule of DESIGN.md
 * section 7.4 (src/policy/tier.h) runs for every joined relay over what the
 * store knows: join times, the relays' latest reports, and who reported
 * when. A change is stored with a tier event.
 *
 * Peers get IDs by their position in the name-ordered list of joined peers,
 * so the arrays the rule wants sorted by ID are sorted by name, which is how
 * the store lists peers and how report entries are kept.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "policy/tier.h"
#include "registry/core.h"
#include "registry/limits.h"

struct snapshot {
	struct reg_peer *p; /* joined peers, by name */
	size_t n, cap;
};

static int snap_cb(void *ctx, const struct reg_peer *p)
{
	struct snapshot *s = ctx;

	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		void *np = realloc(s->p, cap * sizeof(*s->p));

		if (!np)
			return -ENOMEM;
		s->p = np;
		s->cap = cap;
	}
	s->p[s->n++] = *p;
	return 0;
}

static int is_relay(const struct reg_peer *p)
{
	return p->tier != REG_TIER_NONE;
}

/* Index of name in the snapshot, or -1. */
static long find(const struct snapshot *s, const char *name)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(s->p[mid].name, name);

		if (c == 0)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* The parsed latest report of a peer: the stored record's body. */
static int load_report(struct reg *r, const char *name, struct reg_report *rep)
{
	struct reg_err e;
	uint8_t *raw = NULL;
	size_t len;
	int64_t at;
	json_t *rec, *body;
	int err = r->store->ops->report_get(r->store, name, &raw, &len, &at);

	if (err)
		return err;
	rec = json_loadb((const char *)raw, len, 0, NULL);
	free(raw);
	body = rec ? json_object_get(rec, "body") : NULL;
	err = json_is_string(body) ? reg_body_report((const uint8_t *)json_string_value(body),
						     json_string_length(body), rep, &e)
				   : -EIO;
	json_decref(rec);
	return err;
}

struct tier_inputs {
	struct pol_tier_link *links;
	struct pol_tier_reach *reach;
	struct pol_tier_reporter *reporters;
	size_t nreporters;
};

/* Fill the rule's input for relay i of the snapshot. */
static void relay_input(const struct snapshot *s, size_t i, const struct reg_report *rep,
			struct tier_inputs *t, int64_t now, struct pol_tier_input *in)
{
	size_t j, n = 0;

	memset(in, 0, sizeof(*in));
	in->now = (uint64_t)now;
	in->self = i;
	in->joined_at = (uint64_t)s->p[i].joined_at;
	for (j = 0; j < s->n; j++) {
		const struct reg_reach *e;

		if (j == i || !is_relay(&s->p[j]))
			continue;
		e = reg_report_find(rep, s->p[j].name);
		t->links[n].classic_done = e && e->handshake;
		t->links[n].pq_done = e && e->pq;
		n++;
	}
	in->links = t->links;
	in->nlinks = n;
	in->has_report = s->p[i].report_at > 0;
	in->report_at = (uint64_t)s->p[i].report_at;
	n = 0;
	for (j = 0; j < rep->n; j++) {
		long id = find(s, rep->e[j].peer);

		if (id < 0 || rep->e[j].reach == REG_REACH_NONE)
			continue;
		t->reach[n].peer = (uint64_t)id;
		t->reach[n].cls = (uint8_t)rep->e[j].reach;
		n++;
	}
	in->reach = t->reach;
	in->nreach = n;
	in->reporters = t->reporters;
	in->nreporters = t->nreporters;
}

static int tier_event(struct reg_buf *ev, const struct pol_tier_result *res)
{
	return reg_buf_printf(ev,
			      "{\"tier\":\"%s\",\"reason\":\"%s\",\"links_done\":%zu,"
			      "\"links_needed\":%zu,\"reached\":%zu,\"reporters\":%zu}",
			      pol_tier_name(res->tier), pol_tier_reason_name(res->reason),
			      res->links_done, res->links_needed, res->reached, res->reporters);
}

static void update_one(struct reg *r, const struct snapshot *s, size_t i,
		       const struct pol_tier_config *cfg, struct tier_inputs *t, int64_t now,
		       uint64_t *version)
{
	struct reg_report rep = { 0 };
	struct pol_tier_input in;
	struct pol_tier_result res;
	struct reg_buf ev = { 0 };
	enum reg_tier tier;
	int err = load_report(r, s->p[i].name, &rep);

	if (err && err != -ENOENT)
		return; /* unreadable: keep the current tier */
	relay_input(s, i, &rep, t, now, &in);
	err = pol_tier_compute(cfg, &in, &res);
	reg_report_clear(&rep);
	if (err)
		return;
	tier = res.tier == POL_TIER_PIPE ? REG_TIER_PIPE : REG_TIER_RELAY;
	if (tier == s->p[i].tier || tier_event(&ev, &res)) {
		reg_buf_free(&ev);
		return;
	}
	if (r->store->ops->peer_tier(r->store, s->p[i].name, tier, now, ev.p, ev.len, version))
		__atomic_add_fetch(&r->store_errors, 1, __ATOMIC_RELAXED);
	reg_buf_free(&ev);
}

static void config_from(const struct proto_netdef *n, struct pol_tier_config *cfg)
{
	/* the network definition's constants, in the seconds this file uses */
	cfg->grace = n->params.relay_grace_s;
	cfg->fresh = n->params.report_fresh_s;
	cfg->bar_pct = n->params.reach_bar_pct;
	cfg->max_class = POL_REACH_DIRECT;
}

void reg_tiers_update(struct reg *r, int64_t now, uint64_t *version)
{
	struct snapshot s = { 0 };
	struct tier_inputs t = { 0 };
	struct pol_tier_config cfg;
	size_t i;

	config_from(reg_auth_netdef(r->auth), &cfg);
	if (now < 0 || r->store->ops->peers_each(r->store, snap_cb, &s) || s.n == 0)
		goto out;
	t.links = calloc(s.n, sizeof(*t.links));
	t.reach = calloc(s.n, sizeof(*t.reach));
	t.reporters = calloc(s.n, sizeof(*t.reporters));
	if (!t.links || !t.reach || !t.reporters)
		goto out;
	for (i = 0; i < s.n; i++) {
		if (s.p[i].report_at <= 0)
			continue;
		t.reporters[t.nreporters].peer = i;
		t.reporters[t.nreporters].at = (uint64_t)s.p[i].report_at;
		t.nreporters++;
	}
	for (i = 0; i < s.n; i++) {
		if (is_relay(&s.p[i]))
			update_one(r, &s, i, &cfg, &t, now, version);
	}
out:
	free(t.links);
	free(t.reach);
	free(t.reporters);
	free(s.p);
}
