// SPDX-License-Identifier: GPL-2.0-only
/*
 * The star topology (star.h): classify the verified peers, collect their
 * subnets, then build the edge's or the master's WireGuard peer set.
 * Sorting is by public keys and prefixes, never secrets: memcmp is fine.
 */
#include "policy/star.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/compiler.h"
#include "proto/cert.h"

/* A peer being classified: its index, and whether it is a listed master. */
struct cand {
	const struct pol_star_node *n;
	size_t idx;
	bool master;
	enum pol_star_refusal why; /* 0: accepted so far */
};

/* An accepted subnet and the peer advertising it. */
struct owned {
	struct proto_prefix p;
	const struct cand *owner;
};

int pol_star_prefix_cmp(const struct proto_prefix *a, const struct proto_prefix *b)
{
	int r;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	r = memcmp(a->addr, b->addr, sizeof(a->addr)); /* not secret */
	if (r)
		return r;
	return a->len < b->len ? -1 : a->len > b->len;
}

static int prefix_qcmp(const void *a, const void *b)
{
	return pol_star_prefix_cmp(a, b);
}

static bool overlaps(const struct proto_prefix *a, const struct proto_prefix *b)
{
	if (a->family != b->family)
		return false;
	return a->len <= b->len ? proto_prefix_contains(a, b->addr)
				: proto_prefix_contains(b, a->addr);
}

static bool single_role(uint8_t r)
{
	return r == PROTO_ROLE_EDGE || r == PROTO_ROLE_RELAY || r == PROTO_ROLE_MASTER;
}

static bool key_eq(const uint8_t *a, const uint8_t *b)
{
	return memcmp(a, b, PROTO_KEY_LEN) == 0; /* not secret: public keys */
}

/* Index of the master relay with this name (or key), or -1. */
static long master_by_name(const struct proto_netdef *net, const char *name)
{
	for (size_t i = 0; i < net->n_relays; i++)
		if (strcmp(net->relays[i].name, name) == 0)
			return (long)i;
	return -1;
}

static long master_by_key(const struct proto_netdef *net, const uint8_t *key)
{
	for (size_t i = 0; i < net->n_relays; i++)
		if (key_eq(net->relays[i].wgkey, key))
			return (long)i;
	return -1;
}

/* ---- classification ------------------------------------------------------ */

static enum pol_star_refusal check_one(const struct pol_star_input *in, struct cand *c)
{
	const struct pol_star_node *n = c->n, *self = in->self;
	long by_name, by_key;

	if (!single_role(n->role) || n->n_subnets > PROTO_CERT_MAX_SUBNETS ||
	    (n->n_subnets && !n->subnets) || (n->n_endpoints && !n->endpoints) ||
	    !proto_peer_name_valid(n->name, strnlen(n->name, sizeof(n->name))))
		return POL_STAR_R_INVALID;
	for (size_t i = 0; i < n->n_subnets; i++)
		if (proto_prefix_check(&n->subnets[i]))
			return POL_STAR_R_INVALID;
	if (key_eq(n->wgkey, self->wgkey) || strcmp(n->name, self->name) == 0 ||
	    memcmp(n->addr4, self->addr4, 4) == 0 || /* not secret */
	    memcmp(n->addr6, self->addr6, 16) == 0)  /* not secret */
		return POL_STAR_R_SELF;
	by_name = master_by_name(in->net, n->name);
	by_key = master_by_key(in->net, n->wgkey);
	c->master = by_name >= 0 && by_name == by_key && n->role == PROTO_ROLE_MASTER;
	if (!c->master && (by_name >= 0 || by_key >= 0 || n->role == PROTO_ROLE_MASTER))
		return POL_STAR_R_MASTER_CLAIM;
	return 0;
}

typedef int (*cand_cmp)(const void *, const void *);

static int by_key(const void *a, const void *b)
{
	return memcmp(((const struct cand *const *)a)[0]->n->wgkey, /* not secret */
		      ((const struct cand *const *)b)[0]->n->wgkey, PROTO_KEY_LEN);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct cand *const *)a)[0]->n->name,
		      ((const struct cand *const *)b)[0]->n->name);
}

static int by_addr4(const void *a, const void *b)
{
	return memcmp(((const struct cand *const *)a)[0]->n->addr4, /* not secret */
		      ((const struct cand *const *)b)[0]->n->addr4, 4);
}

static int by_addr6(const void *a, const void *b)
{
	return memcmp(((const struct cand *const *)a)[0]->n->addr6, /* not secret */
		      ((const struct cand *const *)b)[0]->n->addr6, 16);
}

/* Sort the still-accepted candidates with cmp; in every run of equal ones,
 * the masters stay and the others are refused (all of them if no master). */
static void refuse_shared(struct cand **v, size_t n, cand_cmp cmp)
{
	size_t i = 0, j, k;
	bool master;

	qsort(v, n, sizeof(*v), cmp);
	while (i < n) {
		master = v[i]->master;
		for (j = i + 1; j < n && cmp(&v[i], &v[j]) == 0; j++)
			master |= v[j]->master;
		for (k = i; j - i > 1 && k < j; k++)
			if (!v[k]->master || !master)
				v[k]->why = v[k]->why ? v[k]->why : POL_STAR_R_DUPLICATE;
		i = j;
	}
}

static void refuse_duplicates(struct cand *c, size_t n, struct cand **v)
{
	static const cand_cmp cmps[] = { by_key, by_name, by_addr4, by_addr6 };
	size_t i, m;

	/* Every pass looks at the peers accepted before all passes, so the
	 * order of the passes does not change who is refused. */
	for (i = 0, m = 0; i < n; i++)
		if (!c[i].why)
			v[m++] = &c[i];
	for (i = 0; i < SC_ARRAY_SIZE(cmps); i++)
		refuse_shared(v, m, cmps[i]);
}

/* ---- subnets --------------------------------------------------------------- */

static int owned_cmp(const void *a, const void *b)
{
	const struct owned *x = a, *y = b;
	int r = pol_star_prefix_cmp(&x->p, &y->p);

	return r ? r
		 : memcmp(x->owner->n->wgkey, y->owner->n->wgkey, /* not secret */
			  PROTO_KEY_LEN);
}

static bool subnet_ok(const struct pol_star_input *in, const struct proto_prefix *p)
{
	const struct pol_star_node *self = in->self;

	if (overlaps(p, &in->net->v4) || overlaps(p, &in->net->v6))
		return false;
	for (size_t i = 0; i < self->n_subnets; i++)
		if (pol_star_prefix_cmp(p, &self->subnets[i]) == 0)
			return false;
	return true;
}

/* The accepted subnets of accepted peers, sorted, each prefix once (the
 * lowest key keeps a shared one). *count is their number. */
static int collect_subnets(const struct pol_star_input *in, const struct cand *c, size_t n,
			   struct owned **out, size_t *count, size_t *dropped)
{
	struct owned *o;
	size_t total = 0, m = 0, i, j, k;

	for (i = 0; i < n; i++)
		if (!c[i].why)
			total += c[i].n->n_subnets;
	o = calloc(total ? total : 1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		for (j = 0; !c[i].why && j < c[i].n->n_subnets; j++) {
			if (!subnet_ok(in, &c[i].n->subnets[j])) {
				(*dropped)++;
				continue;
			}
			o[m].p = c[i].n->subnets[j];
			o[m++].owner = &c[i];
		}
	}
	qsort(o, m, sizeof(*o), owned_cmp);
	for (i = 0, k = 0; i < m; i++) {
		if (k && pol_star_prefix_cmp(&o[k - 1].p, &o[i].p) == 0) {
			(*dropped)++;
			continue;
		}
		o[k++] = o[i];
	}
	*out = o;
	*count = k;
	return 0;
}

/* ---- output ---------------------------------------------------------------- */

static int wgpeer_cmp(const void *a, const void *b)
{
	return memcmp(((const struct pol_star_wgpeer *)a)->key, /* not secret */
		      ((const struct pol_star_wgpeer *)b)->key, PROTO_KEY_LEN);
}

static struct proto_prefix host_prefix(uint8_t family, const uint8_t *addr)
{
	struct proto_prefix p = { .family = family, .len = family == 4 ? 32 : 128 };

	memcpy(p.addr, addr, proto_family_len(family));
	return p;
}

static int alloc_allowed(struct pol_star_wgpeer *w, size_t n)
{
	w->allowed = calloc(n ? n : 1, sizeof(*w->allowed));
	return w->allowed ? 0 : -ENOMEM;
}

/* An edge: the masters of the definition, the primary one carrying the
 * overlay and every subnet. */
static int build_edge(const struct pol_star_input *in, const struct owned *o, size_t n_owned,
		      struct pol_star *s)
{
	const struct proto_netdef *net = in->net;
	struct pol_star_wgpeer *w;

	for (size_t i = 0; i < net->n_relays; i++) {
		if (key_eq(net->relays[i].wgkey, in->self->wgkey))
			continue;
		w = &s->peers[s->n_peers++];
		memcpy(w->key, net->relays[i].wgkey, PROTO_KEY_LEN);
		memcpy(w->name, net->relays[i].name, sizeof(w->name));
		w->has_endpoint = true;
		w->endpoint = net->relays[i].endpoint;
		w->keepalive = in->keepalive;
		if (alloc_allowed(w, i == in->primary ? 2 + n_owned : 0))
			return -ENOMEM;
		if (i != in->primary)
			continue;
		w->allowed[w->n_allowed++] = net->v4;
		w->allowed[w->n_allowed++] = net->v6;
		for (size_t j = 0; j < n_owned; j++)
			w->allowed[w->n_allowed++] = o[j].p;
	}
	return 0;
}

/* A master: every accepted peer, with its own addresses and subnets. */
static int build_master(const struct pol_star_input *in, const struct cand *c, size_t n,
			const struct owned *o, size_t n_owned, struct pol_star *s)
{
	struct pol_star_wgpeer *w;
	long m;

	for (size_t i = 0; i < n; i++) {
		if (c[i].why)
			continue;
		w = &s->peers[s->n_peers++];
		memcpy(w->key, c[i].n->wgkey, PROTO_KEY_LEN);
		memcpy(w->name, c[i].n->name, sizeof(w->name));
		m = c[i].master ? master_by_key(in->net, c[i].n->wgkey) : -1;
		if (m >= 0) {
			w->has_endpoint = true;
			w->endpoint = in->net->relays[m].endpoint;
		} else if (c[i].n->n_endpoints) {
			w->has_endpoint = true;
			w->endpoint = c[i].n->endpoints[0];
		}
		if (alloc_allowed(w, 2 + c[i].n->n_subnets))
			return -ENOMEM;
		w->allowed[w->n_allowed++] = host_prefix(4, c[i].n->addr4);
		w->allowed[w->n_allowed++] = host_prefix(6, c[i].n->addr6);
		for (size_t j = 0; j < n_owned; j++)
			if (o[j].owner == &c[i])
				w->allowed[w->n_allowed++] = o[j].p;
	}
	return 0;
}

static int build_routes(const struct pol_star_input *in, const struct owned *o, size_t n_owned,
			struct pol_star *s)
{
	s->routes = calloc(2 + n_owned, sizeof(*s->routes));
	if (!s->routes)
		return -ENOMEM;
	s->routes[s->n_routes++] = in->net->v4;
	s->routes[s->n_routes++] = in->net->v6;
	for (size_t j = 0; j < n_owned; j++)
		s->routes[s->n_routes++] = o[j].p;
	qsort(s->routes, s->n_routes, sizeof(*s->routes), prefix_qcmp);
	return 0;
}

static int record_refused(const struct cand *c, size_t n, struct pol_star *s)
{
	s->refused = calloc(n ? n : 1, sizeof(*s->refused));
	if (!s->refused)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct pol_star_refused *r;

		if (!c[i].why)
			continue;
		r = &s->refused[s->n_refused++];
		memcpy(r->name, c[i].n->name, sizeof(r->name));
		r->name[sizeof(r->name) - 1] = '\0';
		memcpy(r->key, c[i].n->wgkey, PROTO_KEY_LEN);
		r->why = c[i].why;
	}
	return 0;
}

static int input_ok(const struct pol_star_input *in)
{
	const struct pol_star_node *self = in ? in->self : NULL;
	long by_name;

	if (!self || !in->net || (in->n_peers && !in->peers) || in->n_peers > POL_STAR_MAX_PEERS ||
	    !single_role(self->role) || self->n_subnets > PROTO_CERT_MAX_SUBNETS ||
	    (self->n_subnets && !self->subnets))
		return -EINVAL;
	if (in->net->n_relays > PROTO_NETDEF_MAX_RELAYS ||
	    (in->primary && in->primary >= in->net->n_relays))
		return -EINVAL;
	if (self->role != PROTO_ROLE_MASTER)
		return 0;
	by_name = master_by_name(in->net, self->name);
	return by_name >= 0 && by_name == master_by_key(in->net, self->wgkey) ? 0 : -EINVAL;
}

int pol_star_compute(const struct pol_star_input *in, struct pol_star **out)
{
	struct cand *c = NULL, **v = NULL;
	struct owned *o = NULL;
	struct pol_star *s = NULL;
	size_t n_owned = 0, i;
	int ret;

	ret = input_ok(in);
	if (ret)
		return ret;
	ret = -ENOMEM;
	s = calloc(1, sizeof(*s));
	c = calloc(in->n_peers ? in->n_peers : 1, sizeof(*c));
	v = calloc(in->n_peers ? in->n_peers : 1, sizeof(*v));
	if (!s || !c || !v)
		goto out;
	for (i = 0; i < in->n_peers; i++) {
		c[i].n = &in->peers[i];
		c[i].idx = i;
		c[i].why = check_one(in, &c[i]);
	}
	refuse_duplicates(c, in->n_peers, v);
	if (collect_subnets(in, c, in->n_peers, &o, &n_owned, &s->n_dropped_subnets))
		goto out;
	s->peers = calloc(in->n_peers + PROTO_NETDEF_MAX_RELAYS, sizeof(*s->peers));
	if (!s->peers)
		goto out;
	if (in->self->role == PROTO_ROLE_MASTER)
		ret = build_master(in, c, in->n_peers, o, n_owned, s);
	else
		ret = build_edge(in, o, n_owned, s);
	if (!ret)
		ret = build_routes(in, o, n_owned, s);
	if (!ret)
		ret = record_refused(c, in->n_peers, s);
	if (ret)
		goto out;
	qsort(s->peers, s->n_peers, sizeof(*s->peers), wgpeer_cmp);
	for (i = 0; i < s->n_peers; i++)
		qsort(s->peers[i].allowed, s->peers[i].n_allowed, sizeof(struct proto_prefix),
		      prefix_qcmp);
	*out = s;
	s = NULL;
out:
	pol_star_free(s);
	free(o);
	free(v);
	free(c);
	return ret;
}

void pol_star_free(struct pol_star *s)
{
	if (!s)
		return;
	for (size_t i = 0; s->peers && i < s->n_peers; i++)
		free(s->peers[i].allowed);
	/* A peer whose allowed IPs failed to allocate is counted already. */
	free(s->peers);
	free(s->routes);
	free(s->refused);
	free(s);
}

const struct pol_star_wgpeer *pol_star_find(const struct pol_star *s,
					    const uint8_t key[PROTO_KEY_LEN])
{
	struct pol_star_wgpeer k;

	memcpy(k.key, key, PROTO_KEY_LEN);
	return bsearch(&k, s->peers, s->n_peers, sizeof(*s->peers), wgpeer_cmp);
}

/* ---- diff ------------------------------------------------------------------ */

static bool endpoint_eq(const struct pol_star_wgpeer *a, const struct pol_star_wgpeer *b)
{
	if (a->has_endpoint != b->has_endpoint)
		return false;
	return !a->has_endpoint ||
	       (a->endpoint.family == b->endpoint.family && a->endpoint.port == b->endpoint.port &&
		memcmp(a->endpoint.addr, b->endpoint.addr, /* not secret */
		       proto_family_len(a->endpoint.family)) == 0);
}

static unsigned int peer_changes(const struct pol_star_wgpeer *a, const struct pol_star_wgpeer *b)
{
	unsigned int ch = 0;

	if (!endpoint_eq(a, b))
		ch |= POL_STAR_CH_ENDPOINT;
	if (a->keepalive != b->keepalive)
		ch |= POL_STAR_CH_KEEPALIVE;
	if (a->n_allowed != b->n_allowed)
		return ch | POL_STAR_CH_ALLOWED;
	for (size_t i = 0; i < a->n_allowed; i++)
		if (pol_star_prefix_cmp(&a->allowed[i], &b->allowed[i]))
			return ch | POL_STAR_CH_ALLOWED;
	return ch;
}

static void diff_peers(const struct pol_star *old, const struct pol_star *new,
		       struct pol_star_diff *d)
{
	size_t i = 0, j = 0, no = old ? old->n_peers : 0;
	struct pol_star_change *ch;
	unsigned int what;
	int r;

	while (i < no || j < new->n_peers) {
		if (i == no)
			r = 1;
		else if (j == new->n_peers)
			r = -1;
		else
			r = wgpeer_cmp(&old->peers[i], &new->peers[j]);
		ch = &d->changes[d->n_changes];
		if (r < 0) {
			*ch = (struct pol_star_change){ POL_STAR_REMOVE, &old->peers[i++], 0 };
			d->n_changes++;
		} else if (r > 0) {
			*ch = (struct pol_star_change){ POL_STAR_ADD, &new->peers[j++], 0 };
			d->n_changes++;
		} else {
			what = peer_changes(&old->peers[i++], &new->peers[j]);
			*ch = (struct pol_star_change){ POL_STAR_UPDATE, &new->peers[j++], what };
			d->n_changes += what != 0;
		}
	}
}

static void diff_routes(const struct pol_star *old, const struct pol_star *new,
			struct pol_star_diff *d)
{
	size_t i = 0, j = 0, no = old ? old->n_routes : 0;
	int r;

	while (i < no || j < new->n_routes) {
		if (i == no)
			r = 1;
		else if (j == new->n_routes)
			r = -1;
		else
			r = pol_star_prefix_cmp(&old->routes[i], &new->routes[j]);
		if (r < 0)
			d->routes[d->n_routes++] =
				(struct pol_star_route_change){ false, old->routes[i] };
		else if (r > 0)
			d->routes[d->n_routes++] =
				(struct pol_star_route_change){ true, new->routes[j] };
		i += r <= 0;
		j += r >= 0;
	}
}

int pol_star_diff(const struct pol_star *old, const struct pol_star *new,
		  struct pol_star_diff **out)
{
	size_t np = (old ? old->n_peers : 0) + new->n_peers;
	size_t nr = (old ? old->n_routes : 0) + new->n_routes;
	struct pol_star_diff *d = calloc(1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	d->changes = calloc(np ? np : 1, sizeof(*d->changes));
	d->routes = calloc(nr ? nr : 1, sizeof(*d->routes));
	if (!d->changes || !d->routes) {
		pol_star_diff_free(d);
		return -ENOMEM;
	}
	diff_peers(old, new, d);
	diff_routes(old, new, d);
	*out = d;
	return 0;
}

void pol_star_diff_free(struct pol_star_diff *d)
{
	if (!d)
		return;
	free(d->changes);
	free(d->routes);
	free(d);
}

const char *pol_star_refusal_name(enum pol_star_refusal why)
{
	switch (why) {
	case POL_STAR_R_SELF:
		return "self";
	case POL_STAR_R_MASTER_CLAIM:
		return "master-claim";
	case POL_STAR_R_DUPLICATE:
		return "duplicate";
	case POL_STAR_R_INVALID:
		return "invalid";
	}
	return "?";
}
