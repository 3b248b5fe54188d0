// SPDX-License-Identifier: GPL-2.0-only
/*
 * The star topology (policy/star.h): what an edge and a master relay
 * configure, the peers and subnets they refuse, a stable order whatever the
 * input order, and the diff the agent applies.
 */
#include <errno.h>

#include "policy/star.h"
#include "proto/cert.h"
#include "proto/fixtures.h"
#include "test.h"

/* A node with its own storage for subnets and endpoints. */
struct tn {
	struct pol_star_node n;
	struct proto_prefix sub[4];
	struct proto_endpoint ep[2];
};

/* Node "name", role, key byte k (key = k k k ...), overlay host number h. */
static void tn_init(struct tn *t, const char *name, uint8_t role, uint8_t k, unsigned int h)
{
	char a[64];

	memset(t, 0, sizeof(*t));
	snprintf(t->n.name, sizeof(t->n.name), "%s", name);
	t->n.role = role;
	memset(t->n.wgkey, k, sizeof(t->n.wgkey));
	snprintf(a, sizeof(a), "10.7.%u.%u", h / 256, h % 256);
	CHECK_EQ(proto_addr_parse(a, 4, t->n.addr4), 0);
	snprintf(a, sizeof(a), "fd00:7::%x", h);
	CHECK_EQ(proto_addr_parse(a, 6, t->n.addr6), 0);
	t->n.subnets = t->sub;
	t->n.endpoints = t->ep;
}

static void tn_subnet(struct tn *t, const char *s)
{
	CHECK_EQ(proto_prefix_parse(s, &t->sub[t->n.n_subnets++]), 0);
}

static void tn_endpoint(struct tn *t, const char *s)
{
	CHECK_EQ(proto_endpoint_parse(s, &t->ep[t->n.n_endpoints++]), 0);
}

/* The "lab" network with mr1 (key 0x61 0x62 ...) and, if two, mr2 (key 0xe0 ...). */
static void net_init(struct proto_netdef *net, bool two)
{
	fx_netdef(net);
	if (!two)
		return;
	memcpy(net->relays[1].name, "mr2", 4);
	memset(net->relays[1].wgkey, 0xe0, 32);
	CHECK_EQ(proto_endpoint_parse("[2001:db8::2]:51821", &net->relays[1].endpoint), 0);
	net->n_relays = 2;
}

/* mr1 as it joins through the registry: key of the definition, host .1. */
static void tn_mr1(struct tn *t, const struct proto_netdef *net)
{
	tn_init(t, "mr1", PROTO_ROLE_MASTER, 0, 1);
	memcpy(t->n.wgkey, net->relays[0].wgkey, 32);
}

static void fmt_prefixes(char *out, size_t cap, const struct proto_prefix *p, size_t n)
{
	char one[PROTO_PREFIX_STRLEN];
	size_t off = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n && off < cap; i++) {
		proto_prefix_format(one, &p[i]);
		off += (size_t)snprintf(out + off, cap - off, "%s%s", i ? " " : "", one);
	}
}

static void check_allowed(const struct pol_star_wgpeer *w, const char *want)
{
	char got[1024];

	fmt_prefixes(got, sizeof(got), w->allowed, w->n_allowed);
	if (strcmp(got, want) != 0)
		fprintf(stderr, "# allowed of %s: got '%s', want '%s'\n", w->name, got, want);
	CHECK(strcmp(got, want) == 0);
}

static void check_routes(const struct pol_star *s, const char *want)
{
	char got[1024];

	fmt_prefixes(got, sizeof(got), s->routes, s->n_routes);
	if (strcmp(got, want) != 0)
		fprintf(stderr, "# routes: got '%s', want '%s'\n", got, want);
	CHECK(strcmp(got, want) == 0);
}

static void check_endpoint(const struct pol_star_wgpeer *w, const char *want)
{
	char got[PROTO_ENDPOINT_STRLEN] = "none";

	if (w->has_endpoint)
		proto_endpoint_format(got, &w->endpoint);
	if (strcmp(got, want) != 0)
		fprintf(stderr, "# endpoint of %s: got '%s', want '%s'\n", w->name, got, want);
	CHECK(strcmp(got, want) == 0);
}

static struct pol_star *run(const struct proto_netdef *net, const struct tn *self,
			    const struct tn *peers, size_t n, size_t primary)
{
	struct pol_star_node nodes[16];
	struct pol_star_input in = { .net = net,
				     .self = &self->n,
				     .peers = nodes,
				     .n_peers = n,
				     .primary = primary,
				     .keepalive = 25 };
	struct pol_star *s = NULL;

	for (size_t i = 0; i < n; i++)
		nodes[i] = peers[i].n;
	CHECK_EQ(pol_star_compute(&in, &s), 0);
	return s;
}

static int refusal_of(const struct pol_star *s, const char *name)
{
	for (size_t i = 0; i < s->n_refused; i++)
		if (strcmp(s->refused[i].name, name) == 0)
			return (int)s->refused[i].why;
	return 0;
}

/* ---- edges --------------------------------------------------------------- */

static void test_edge_peers_with_the_netdef_master_only(void)
{
	struct proto_netdef net;
	struct tn self, p[4];
	struct pol_star *s;

	net_init(&net, false);
	tn_init(&self, "e1", PROTO_ROLE_EDGE, 0x10, 10);
	tn_subnet(&self, "192.168.1.0/24");
	tn_mr1(&p[0], &net);
	/* The registry says mr1 is elsewhere: the edge must not follow. */
	tn_endpoint(&p[0], "198.51.100.66:6666");
	tn_init(&p[1], "e2", PROTO_ROLE_EDGE, 0x20, 20);
	tn_subnet(&p[1], "192.168.2.0/24");
	tn_subnet(&p[1], "fd10:2::/64");
	tn_endpoint(&p[1], "198.51.100.2:4000");
	tn_init(&p[2], "r1", PROTO_ROLE_RELAY, 0x30, 30);
	tn_subnet(&p[2], "172.16.0.0/12");
	s = run(&net, &self, p, 3, 0);
	if (!s)
		return;
	CHECK_EQ(s->n_peers, 1);
	CHECK_MEM(s->peers[0].key, net.relays[0].wgkey, 32);
	CHECK(strcmp(s->peers[0].name, "mr1") == 0);
	check_endpoint(&s->peers[0], "203.0.113.1:51820");
	CHECK_EQ(s->peers[0].keepalive, 25);
	check_allowed(&s->peers[0],
		      "10.7.0.0/16 172.16.0.0/12 192.168.2.0/24 fd00:7::/48 fd10:2::/64");
	check_routes(s, "10.7.0.0/16 172.16.0.0/12 192.168.2.0/24 fd00:7::/48 fd10:2::/64");
	CHECK_EQ(s->n_refused, 0);
	pol_star_free(s);
}

static void test_edge_without_registry(void)
{
	struct proto_netdef net;
	struct tn self;
	struct pol_star *s;

	/* No verified peer at all (registry down, empty cache): the master
	 * from the definition is still configured. */
	net_init(&net, false);
	tn_init(&self, "e1", PROTO_ROLE_EDGE, 0x10, 10);
	s = run(&net, &self, NULL, 0, 0);
	if (!s)
		return;
	CHECK_EQ(s->n_peers, 1);
	check_endpoint(&s->peers[0], "203.0.113.1:51820");
	check_allowed(&s->peers[0], "10.7.0.0/16 fd00:7::/48");
	check_routes(s, "10.7.0.0/16 fd00:7::/48");
	pol_star_free(s);
}

static void test_edge_two_masters_primary(void)
{
	struct proto_netdef net;
	struct tn self;
	struct pol_star *s;

	net_init(&net, true);
	tn_init(&self, "e1", PROTO_ROLE_EDGE, 0x10, 10);
	s = run(&net, &self, NULL, 0, 1);
	if (!s)
		return;
	CHECK_EQ(s->n_peers, 2);
	/* Sorted by key: mr1 (0x61..) before mr2 (0xe0..). */
	CHECK(strcmp(s->peers[0].name, "mr1") == 0);
	CHECK(strcmp(s->peers[1].name, "mr2") == 0);
	CHECK_EQ(s->peers[0].n_allowed, 0);
	check_endpoint(&s->peers[0], "203.0.113.1:51820");
	check_allowed(&s->peers[1], "10.7.0.0/16 fd00:7::/48");
	check_endpoint(&s->peers[1], "[2001:db8::2]:51821");
	CHECK_EQ(s->peers[0].keepalive, 25);
	CHECK_EQ(s->peers[1].keepalive, 25);
	pol_star_free(s);
}

static void test_relay_behaves_like_edge(void)
{
	struct proto_netdef net;
	struct tn self, p[1];
	struct pol_star *s;

	net_init(&net, false);
	tn_init(&self, "r1", PROTO_ROLE_RELAY, 0x30, 30);
	tn_init(&p[0], "e2", PROTO_ROLE_EDGE, 0x20, 20);
	s = run(&net, &self, p, 1, 0);
	if (!s)
		return;
	CHECK_EQ(s->n_peers, 1);
	CHECK(strcmp(s->peers[0].name, "mr1") == 0);
	pol_star_free(s);
}

/* ---- master -------------------------------------------------------------- */

static void test_master_peers_with_every_verified_peer(void)
{
	struct proto_netdef net;
	struct tn self, p[4];
	struct pol_star *s;

	net_init(&net, true);
	tn_mr1(&self, &net);
	tn_init(&p[0], "e2", PROTO_ROLE_EDGE, 0x20, 20);
	tn_subnet(&p[0], "192.168.2.0/24");
	tn_endpoint(&p[0], "198.51.100.2:4000");
	tn_endpoint(&p[0], "198.51.100.3:4000");
	tn_init(&p[1], "e3", PROTO_ROLE_EDGE, 0x05, 21);
	tn_init(&p[2], "r1", PROTO_ROLE_RELAY, 0x30, 30);
	tn_subnet(&p[2], "fd10:3::/64");
	/* The other master: endpoint from the definition, not the registry. */
	tn_init(&p[3], "mr2", PROTO_ROLE_MASTER, 0xe0, 2);
	tn_endpoint(&p[3], "198.51.100.99:1");
	s = run(&net, &self, p, 4, 0);
	if (!s)
		return;
	CHECK_EQ(s->n_peers, 4);
	CHECK_EQ(s->n_refused, 0);
	if (s->n_peers != 4)
		goto out;
	CHECK(strcmp(s->peers[0].name, "e3") == 0);
	CHECK(strcmp(s->peers[1].name, "e2") == 0);
	CHECK(strcmp(s->peers[2].name, "r1") == 0);
	CHECK(strcmp(s->peers[3].name, "mr2") == 0);
	check_allowed(&s->peers[0], "10.7.0.21/32 fd00:7::15/128");
	check_endpoint(&s->peers[0], "none");
	check_allowed(&s->peers[1], "10.7.0.20/32 192.168.2.0/24 fd00:7::14/128");
	check_endpoint(&s->peers[1], "198.51.100.2:4000");
	check_allowed(&s->peers[2], "10.7.0.30/32 fd00:7::1e/128 fd10:3::/64");
	check_endpoint(&s->peers[3], "[2001:db8::2]:51821");
	for (size_t i = 0; i < 4; i++)
		CHECK_EQ(s->peers[i].keepalive, 0);
	check_routes(s, "10.7.0.0/16 192.168.2.0/24 fd00:7::/48 fd10:3::/64");
out:
	pol_star_free(s);
}

static void test_master_never_installs_its_own_key(void)
{
	struct proto_netdef net;
	struct tn self, p[2];
	struct pol_star *s;

	net_init(&net, false);
	tn_mr1(&self, &net);
	/* A record carrying the master's own key under another name. */
	tn_init(&p[0], "evil", PROTO_ROLE_EDGE, 0, 40);
	memcpy(p[0].n.wgkey, net.relays[0].wgkey, 32);
	tn_init(&p[1], "e2", PROTO_ROLE_EDGE, 0x20, 20);
	s = run(&net, &self, p, 2, 0);
	if (!s)
		return;
	CHECK_EQ(s->n_peers, 1);
	CHECK(strcmp(s->peers[0].name, "e2") == 0);
	CHECK(pol_star_find(s, net.relays[0].wgkey) == NULL);
	CHECK_EQ(refusal_of(s, "evil"), POL_STAR_R_SELF);
	pol_star_free(s);
}

/* ---- refusals ------------------------------------------------------------ */

static void test_master_claims_refused(void)
{
	struct proto_netdef net;
	struct tn self, p[6];
	struct pol_star *s;

	net_init(&net, false);
	tn_mr1(&self, &net);
	tn_init(&p[0], "e2", PROTO_ROLE_EDGE, 0x20, 20);
	/* Joined as master, not in the definition. */
	tn_init(&p[1], "fake", PROTO_ROLE_MASTER, 0x21, 21);
	/* The name of a master with another key. */
	tn_init(&p[2], "mr1", PROTO_ROLE_EDGE, 0x22, 22);
	/* Two edges with one address: neither is trusted over the other. */
	tn_init(&p[3], "d1", PROTO_ROLE_EDGE, 0x23, 23);
	tn_init(&p[4], "d2", PROTO_ROLE_EDGE, 0x24, 23);
	/* The master's own overlay address. */
	tn_init(&p[5], "d3", PROTO_ROLE_EDGE, 0x25, 1);
	s = run(&net, &self, p, 6, 0);
	if (!s)
		return;
	CHECK_EQ(s->n_peers, 1);
	CHECK(strcmp(s->peers[0].name, "e2") == 0);
	CHECK_EQ(s->n_refused, 5);
	CHECK_EQ(refusal_of(s, "fake"), POL_STAR_R_MASTER_CLAIM);
	CHECK_EQ(refusal_of(s, "mr1"), POL_STAR_R_SELF);
	CHECK_EQ(refusal_of(s, "d1"), POL_STAR_R_DUPLICATE);
	CHECK_EQ(refusal_of(s, "d2"), POL_STAR_R_DUPLICATE);
	CHECK_EQ(refusal_of(s, "d3"), POL_STAR_R_SELF);
	pol_star_free(s);
}

static void test_peer_claiming_master_key_or_address(void)
{
	struct proto_netdef net;
	struct tn self, p[5];
	struct pol_star *s;

	/* Seen from the other master mr2, so mr1 is an ordinary peer. */
	net_init(&net, true);
	tn_init(&self, "mr2", PROTO_ROLE_MASTER, 0xe0, 2);
	tn_mr1(&p[0], &net);
	/* mr1's WireGuard key under another name. */
	tn_init(&p[1], "thief", PROTO_ROLE_EDGE, 0, 40);
	memcpy(p[1].n.wgkey, net.relays[0].wgkey, 32);
	/* mr1's overlay address: mr1 keeps it, the edge is refused. */
	tn_init(&p[2], "squat", PROTO_ROLE_EDGE, 0x41, 1);
	/* mr1's name as a relay. */
	tn_init(&p[3], "mr1", PROTO_ROLE_RELAY, 0x42, 42);
	tn_init(&p[4], "e2", PROTO_ROLE_EDGE, 0x20, 20);
	s = run(&net, &self, p, 5, 0);
	if (!s)
		return;
	CHECK_EQ(s->n_peers, 2);
	CHECK(pol_star_find(s, net.relays[0].wgkey) != NULL);
	if (pol_star_find(s, net.relays[0].wgkey))
		CHECK(strcmp(pol_star_find(s, net.relays[0].wgkey)->name, "mr1") == 0);
	CHECK_EQ(refusal_of(s, "thief"), POL_STAR_R_MASTER_CLAIM);
	CHECK_EQ(refusal_of(s, "squat"), POL_STAR_R_DUPLICATE);
	CHECK_EQ(s->n_refused, 3);
	pol_star_free(s);

	/* From an edge: a registry cannot add a second "mr1" route either. */
	tn_init(&self, "e1", PROTO_ROLE_EDGE, 0x10, 10);
	s = run(&net, &self, p, 5, 0);
	if (!s)
		return;
	CHECK_EQ(s->n_peers, 2);
	CHECK_EQ(refusal_of(s, "thief"), POL_STAR_R_MASTER_CLAIM);
	pol_star_free(s);
}

static void test_subnets(void)
{
	struct proto_netdef net;
	struct tn self, p[3];
	struct pol_star *s;

	net_init(&net, false);
	tn_mr1(&self, &net);
	tn_subnet(&self, "192.168.1.0/24");
	tn_init(&p[0], "e2", PROTO_ROLE_EDGE, 0x20, 20);
	tn_subnet(&p[0], "192.168.9.0/24"); /* shared: e3 has the lower key */
	tn_subnet(&p[0], "192.168.1.0/24"); /* the master's own LAN */
	tn_subnet(&p[0], "10.7.128.0/17");  /* inside the overlay */
	tn_subnet(&p[0], "0.0.0.0/0");	    /* contains the overlay */
	tn_init(&p[1], "e3", PROTO_ROLE_EDGE, 0x05, 21);
	tn_subnet(&p[1], "192.168.9.0/24");
	tn_subnet(&p[1], "192.168.10.0/24");
	tn_init(&p[2], "e4", PROTO_ROLE_EDGE, 0x30, 22);
	tn_subnet(&p[2], "192.168.0.0/16"); /* overlapping but not equal: kept */
	s = run(&net, &self, p, 3, 0);
	if (!s)
		return;
	CHECK_EQ(s->n_peers, 3);
	CHECK_EQ(s->n_dropped_subnets, 4);
	check_allowed(&s->peers[0], "10.7.0.21/32 192.168.9.0/24 192.168.10.0/24 fd00:7::15/128");
	check_allowed(&s->peers[1], "10.7.0.20/32 fd00:7::14/128");
	check_allowed(&s->peers[2], "10.7.0.22/32 192.168.0.0/16 fd00:7::16/128");
	check_routes(s, "10.7.0.0/16 192.168.0.0/16 192.168.9.0/24 192.168.10.0/24 fd00:7::/48");
	pol_star_free(s);
}

static void test_bad_input(void)
{
	struct proto_netdef net;
	struct tn self, p[1];
	struct pol_star_input in = { .net = &net, .self = &self.n, .keepalive = 25 };
	struct pol_star *s = NULL;

	net_init(&net, false);
	/* Master role, not listed in the definition. */
	tn_init(&self, "mrx", PROTO_ROLE_MASTER, 0x70, 3);
	CHECK_EQ(pol_star_compute(&in, &s), -EINVAL);
	/* Listed name, another key. */
	tn_init(&self, "mr1", PROTO_ROLE_MASTER, 0x70, 3);
	CHECK_EQ(pol_star_compute(&in, &s), -EINVAL);
	tn_init(&self, "e1", PROTO_ROLE_EDGE | PROTO_ROLE_RELAY, 0x10, 10);
	CHECK_EQ(pol_star_compute(&in, &s), -EINVAL);
	tn_init(&self, "e1", PROTO_ROLE_EDGE, 0x10, 10);
	in.primary = 1;
	CHECK_EQ(pol_star_compute(&in, &s), -EINVAL);
	in.primary = 0;
	in.n_peers = 1;
	CHECK_EQ(pol_star_compute(&in, &s), -EINVAL); /* peers NULL */
	CHECK(s == NULL);
	/* A peer with no single role, or a malformed subnet, is refused. */
	tn_init(&p[0], "e2", PROTO_ROLE_EDGE | PROTO_ROLE_RELAY, 0x20, 20);
	in.peers = &p[0].n;
	CHECK_EQ(pol_star_compute(&in, &s), 0);
	if (s)
		CHECK_EQ(refusal_of(s, "e2"), POL_STAR_R_INVALID);
	pol_star_free(s);
	s = NULL;
	tn_init(&p[0], "e2", PROTO_ROLE_EDGE, 0x20, 20);
	tn_subnet(&p[0], "192.168.2.0/24");
	p[0].sub[0].addr[3] = 1; /* a host bit */
	in.peers = &p[0].n;
	CHECK_EQ(pol_star_compute(&in, &s), 0);
	if (s)
		CHECK_EQ(refusal_of(s, "e2"), POL_STAR_R_INVALID);
	pol_star_free(s);
}

/* ---- order and diff ------------------------------------------------------ */

static bool same_star(const struct pol_star *a, const struct pol_star *b)
{
	if (a->n_peers != b->n_peers || a->n_routes != b->n_routes)
		return false;
	for (size_t i = 0; i < a->n_peers; i++) {
		if (memcmp(a->peers[i].key, b->peers[i].key, 32) ||
		    a->peers[i].n_allowed != b->peers[i].n_allowed ||
		    memcmp(a->peers[i].allowed, b->peers[i].allowed,
			   a->peers[i].n_allowed * sizeof(struct proto_prefix)))
			return false;
	}
	return memcmp(a->routes, b->routes, a->n_routes * sizeof(*a->routes)) == 0;
}

static void test_deterministic_order(void)
{
	struct proto_netdef net;
	struct tn self, p[12], q[12];
	struct pol_star *ref, *s;
	uint64_t rng = 7;
	char name[16], sub[32];

	net_init(&net, false);
	tn_mr1(&self, &net);
	for (unsigned int i = 0; i < 12; i++) {
		snprintf(name, sizeof(name), "e%u", i);
		tn_init(&p[i], name, PROTO_ROLE_EDGE, (uint8_t)(0x80 - 7 * i), 100 + i);
		snprintf(sub, sizeof(sub), "192.168.%u.0/24", 200 - i);
		tn_subnet(&p[i], sub);
		/* Every third one shares a subnet with the next. */
		if (i % 3 == 0)
			tn_subnet(&p[i], "172.16.0.0/24");
	}
	ref = run(&net, &self, p, 12, 0);
	if (!ref)
		return;
	for (size_t i = 1; i < ref->n_peers; i++)
		CHECK(memcmp(ref->peers[i - 1].key, ref->peers[i].key, 32) < 0);
	for (int round = 0; round < 50; round++) {
		memcpy(q, p, sizeof(p));
		for (size_t i = 11; i > 0; i--) {
			size_t j = t_rng64(&rng) % (i + 1);
			struct tn t = q[i];

			q[i] = q[j];
			q[j] = t;
		}
		for (size_t i = 0; i < 12; i++) {
			q[i].n.subnets = q[i].sub;
			q[i].n.endpoints = q[i].ep;
		}
		s = run(&net, &self, q, 12, 0);
		if (!s)
			break;
		CHECK(same_star(ref, s));
		pol_star_free(s);
	}
	pol_star_free(ref);
}

static const struct pol_star_change *change_of(const struct pol_star_diff *d, const char *name)
{
	for (size_t i = 0; i < d->n_changes; i++)
		if (strcmp(d->changes[i].peer->name, name) == 0)
			return &d->changes[i];
	return NULL;
}

static void test_diff(void)
{
	struct proto_netdef net;
	struct tn self, p[3];
	struct pol_star *a, *b, *c;
	struct pol_star_diff *d = NULL;
	const struct pol_star_change *ch;

	net_init(&net, false);
	tn_mr1(&self, &net);
	tn_init(&p[0], "e2", PROTO_ROLE_EDGE, 0x20, 20);
	tn_init(&p[1], "e3", PROTO_ROLE_EDGE, 0x30, 21);
	tn_endpoint(&p[1], "198.51.100.3:1000");
	tn_init(&p[2], "e4", PROTO_ROLE_EDGE, 0x40, 22);
	a = run(&net, &self, p, 2, 0);
	/* e2 leaves, e4 joins, e3 moves and advertises a subnet. */
	p[1].ep[0].port = 2000;
	tn_subnet(&p[1], "192.168.3.0/24");
	b = run(&net, &self, p + 1, 2, 0);
	if (!a || !b)
		goto out;

	CHECK_EQ(pol_star_diff(NULL, a, &d), 0);
	CHECK_EQ(d->n_changes, 2);
	CHECK_EQ(d->changes[0].op, POL_STAR_ADD);
	CHECK_EQ(d->changes[1].op, POL_STAR_ADD);
	CHECK_EQ(d->n_routes, 2);
	CHECK(d->routes[0].add && d->routes[1].add);
	pol_star_diff_free(d);

	CHECK_EQ(pol_star_diff(a, a, &d), 0);
	CHECK_EQ(d->n_changes, 0);
	CHECK_EQ(d->n_routes, 0);
	pol_star_diff_free(d);

	CHECK_EQ(pol_star_diff(a, b, &d), 0);
	CHECK_EQ(d->n_changes, 3);
	ch = change_of(d, "e2");
	CHECK(ch && ch->op == POL_STAR_REMOVE);
	ch = change_of(d, "e4");
	CHECK(ch && ch->op == POL_STAR_ADD);
	ch = change_of(d, "e3");
	CHECK(ch && ch->op == POL_STAR_UPDATE &&
	      ch->changed == (POL_STAR_CH_ENDPOINT | POL_STAR_CH_ALLOWED));
	/* Sorted by key: e2 (0x20), e3 (0x30), e4 (0x40). */
	CHECK(strcmp(d->changes[0].peer->name, "e2") == 0);
	CHECK(strcmp(d->changes[2].peer->name, "e4") == 0);
	CHECK_EQ(d->n_routes, 1);
	CHECK(d->routes[0].add);
	pol_star_diff_free(d);

	/* Back: the subnet's route goes. */
	CHECK_EQ(pol_star_diff(b, a, &d), 0);
	CHECK_EQ(d->n_routes, 1);
	CHECK(!d->routes[0].add);
	pol_star_diff_free(d);

	/* Keepalive change of an edge's master peer. */
	tn_init(&self, "e1", PROTO_ROLE_EDGE, 0x10, 10);
	pol_star_free(a);
	a = run(&net, &self, NULL, 0, 0);
	c = NULL;
	{
		struct pol_star_input in = { .net = &net, .self = &self.n, .keepalive = 10 };

		CHECK_EQ(pol_star_compute(&in, &c), 0);
	}
	if (a && c) {
		CHECK_EQ(pol_star_diff(a, c, &d), 0);
		CHECK_EQ(d->n_changes, 1);
		CHECK_EQ(d->changes[0].changed, POL_STAR_CH_KEEPALIVE);
		pol_star_diff_free(d);
	}
	pol_star_free(c);
out:
	pol_star_free(a);
	pol_star_free(b);
}

static const struct t_case cases[] = {
	T(test_edge_peers_with_the_netdef_master_only),
	T(test_edge_without_registry),
	T(test_edge_two_masters_primary),
	T(test_relay_behaves_like_edge),
	T(test_master_peers_with_every_verified_peer),
	T(test_master_never_installs_its_own_key),
	T(test_master_claims_refused),
	T(test_peer_claiming_master_key_or_address),
	T(test_subnets),
	T(test_bad_input),
	T(test_deterministic_order),
	T(test_diff),
};

int main(void)
{
	return t_main("policy-star", cases, SC_ARRAY_SIZE(cases));
}
