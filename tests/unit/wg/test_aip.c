// SPDX-License-Identifier: GPL-2.0-only
/*
 * The allowed-IPs trie against a deliberately naive reference: a flat list
 * of prefixes scanned linearly for the longest match. Random inserts,
 * re-owning, removals and lookups on IPv4 and IPv6, plus per-owner walks.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <sys/socket.h>

#include "test.h"

#include "wg/aip.h"
#include "wg/limits.h"

#define OWNERS 6
#define MAXE   4096

struct nentry {
	int family;
	uint8_t addr[16];
	uint8_t cidr;
	int owner;
	int live;
};

static struct nentry naive[MAXE];
static int n_naive;
static struct aip_list owners[OWNERS];

static uint64_t xs = 88172645463325252ull;

static uint64_t rnd(void)
{
	xs ^= xs << 13;
	xs ^= xs >> 7;
	xs ^= xs << 17;
	return xs;
}

static void mask(uint8_t *a, int bits, int cidr)
{
	int i;

	for (i = 0; i < bits / 8; i++) {
		if (i * 8 >= cidr)
			a[i] = 0;
		else if (i * 8 + 8 > cidr)
			a[i] &= (uint8_t)(0xff << (8 - (cidr - i * 8)));
	}
}

static int prefix_has(const struct nentry *e, const uint8_t *addr)
{
	uint8_t a[16];

	memcpy(a, addr, 16);
	mask(a, e->family == AF_INET ? 32 : 128, e->cidr);
	return !memcmp(a, e->addr, e->family == AF_INET ? 4 : 16);
}

static int naive_lookup(int family, const uint8_t *addr)
{
	int i, best = -1, best_cidr = -1;

	for (i = 0; i < n_naive; i++) {
		const struct nentry *e = &naive[i];

		if (e->live && e->family == family && e->cidr > best_cidr && prefix_has(e, addr)) {
			best = e->owner;
			best_cidr = e->cidr;
		}
	}
	return best;
}

static struct nentry *naive_find(int family, const uint8_t *addr, int cidr)
{
	int i;

	for (i = 0; i < n_naive; i++)
		if (naive[i].live && naive[i].family == family && naive[i].cidr == cidr &&
		    !memcmp(naive[i].addr, addr, 16))
			return &naive[i];
	return NULL;
}

static int owner_index(const struct aip_list *l)
{
	return l ? (int)(l - owners) : -1;
}

/* Addresses drawn from a few clustered bases, so prefixes nest and split. */
static void rand_addr(int family, uint8_t *a)
{
	static const uint8_t bases[4][16] = {
		{ 10, 0, 0, 0 },
		{ 10, 1, 128, 0 },
		{ 192, 168, 0, 0 },
		{ 0xfd, 0, 0xab, 0xcd },
	};
	int i, n = family == AF_INET ? 4 : 16;

	memset(a, 0, 16);
	memcpy(a, bases[rnd() % 4], 16);
	for (i = 0; i < n; i++)
		if (rnd() % 3 == 0 || i >= 3)
			a[i] ^= (uint8_t)(rnd() & (rnd() % 2 ? 0xff : 0x0f));
}

static int rand_cidr(int family)
{
	int bits = family == AF_INET ? 32 : 128;
	uint64_t r = rnd() % 10;

	if (r == 0)
		return bits;
	if (r == 1)
		return (int)(rnd() % 4);
	return (int)(rnd() % (bits + 1));
}

struct walk_ctx {
	int owner;
	int count;
	int bad;
};

static int walk_cb(void *ctx, int family, const uint8_t *addr, uint8_t cidr)
{
	struct walk_ctx *w = ctx;
	uint8_t a[16] = { 0 };
	struct nentry *e;

	memcpy(a, addr, family == AF_INET ? 4 : 16);
	e = naive_find(family, a, cidr);
	if (!e || e->owner != w->owner)
		w->bad++;
	w->count++;
	return 0;
}

static void check_walks(void)
{
	int o, i, expect;

	for (o = 0; o < OWNERS; o++) {
		struct walk_ctx w = { o, 0, 0 };

		aip_walk(&owners[o], walk_cb, &w);
		for (expect = 0, i = 0; i < n_naive; i++)
			expect += naive[i].live && naive[i].owner == o;
		CHECK_EQ(w.bad, 0);
		CHECK_EQ(w.count, expect);
		CHECK_EQ(owners[o].count, (size_t)expect);
	}
}

static void check_lookups(struct aip_table *t, int rounds)
{
	uint8_t a[16];
	int i, family, bad = 0;

	for (i = 0; i < rounds; i++) {
		family = rnd() % 2 ? AF_INET : AF_INET6;
		rand_addr(family, a);
		if (owner_index(aip_lookup(t, family, a)) != naive_lookup(family, a) && bad++ < 5)
			fprintf(stderr, "# lookup mismatch, family %d\n", family);
	}
	/* Exact entry addresses too: they sit on node boundaries. */
	for (i = 0; i < n_naive; i++) {
		if (!naive[i].live)
			continue;
		if (owner_index(aip_lookup(t, naive[i].family, naive[i].addr)) !=
		    naive_lookup(naive[i].family, naive[i].addr))
			bad++;
	}
	CHECK_EQ(bad, 0);
}

static void test_random_vs_linear(void)
{
	struct aip_table *t = aip_new();
	uint8_t a[16];
	int round, i, family, cidr, o, live;
	struct nentry *e;

	CHECK(t != NULL);
	memset(owners, 0, sizeof(owners));
	n_naive = 0;
	for (round = 0; round < 8; round++) {
		for (i = 0; i < 300 && n_naive < MAXE; i++) {
			family = rnd() % 2 ? AF_INET : AF_INET6;
			rand_addr(family, a);
			cidr = rand_cidr(family);
			o = (int)(rnd() % OWNERS);
			CHECK_EQ(aip_insert(t, family, a, (uint8_t)cidr, &owners[o]), 0);
			mask(a, family == AF_INET ? 32 : 128, cidr);
			e = naive_find(family, a, cidr);
			if (e) {
				e->owner = o;
			} else {
				e = &naive[n_naive++];
				e->family = family;
				memcpy(e->addr, a, 16);
				e->cidr = (uint8_t)cidr;
				e->owner = o;
				e->live = 1;
			}
		}
		check_lookups(t, 3000);
		/* Remove some single prefixes, by the right and a wrong owner. */
		for (i = 0; i < n_naive; i++) {
			e = &naive[i];
			if (!e->live || rnd() % 4)
				continue;
			CHECK_EQ(aip_remove(t, e->family, e->addr, e->cidr,
					    &owners[(e->owner + 1) % OWNERS]),
				 -ENOENT);
			CHECK_EQ(aip_remove(t, e->family, e->addr, e->cidr, &owners[e->owner]), 0);
			e->live = 0;
		}
		check_lookups(t, 3000);
		check_walks();
		/* Sometimes drop a whole owner. */
		if (round % 3 == 2) {
			o = (int)(rnd() % OWNERS);
			aip_remove_owner(t, &owners[o]);
			for (i = 0; i < n_naive; i++)
				if (naive[i].owner == o)
					naive[i].live = 0;
			check_lookups(t, 3000);
			check_walks();
		}
		for (live = 0, i = 0; i < n_naive; i++)
			live += naive[i].live;
		CHECK_EQ(aip_count(t), (size_t)live);
	}
	for (o = 0; o < OWNERS; o++)
		aip_remove_owner(t, &owners[o]);
	CHECK_EQ(aip_count(t), 0);
	aip_free(t);
}

static void test_basics(void)
{
	struct aip_table *t = aip_new();
	struct aip_list a = { 0 }, b = { 0 }, c = { 0 };
	struct in_addr x;
	struct in6_addr y;

	inet_pton(AF_INET, "10.0.0.0", &x);
	CHECK_EQ(aip_insert(t, AF_INET, &x, 8, &a), 0);
	inet_pton(AF_INET, "10.1.2.3", &x);
	CHECK_EQ(aip_insert(t, AF_INET, &x, 32, &b), 0);
	inet_pton(AF_INET, "0.0.0.0", &x);
	CHECK_EQ(aip_insert(t, AF_INET, &x, 0, &c), 0);
	inet_pton(AF_INET6, "::", &y);
	CHECK_EQ(aip_insert(t, AF_INET6, &y, 0, &c), 0);
	CHECK_EQ(aip_insert(t, AF_INET, &x, 33, &c), -EINVAL);
	CHECK_EQ(aip_insert(t, AF_INET6, &y, 129, &c), -EINVAL);
	CHECK_EQ(aip_insert(t, AF_UNIX, &y, 1, &c), -EINVAL);

	inet_pton(AF_INET, "10.1.2.3", &x);
	CHECK(aip_lookup(t, AF_INET, &x) == &b);
	inet_pton(AF_INET, "10.1.2.4", &x);
	CHECK(aip_lookup(t, AF_INET, &x) == &a);
	inet_pton(AF_INET, "11.0.0.1", &x);
	CHECK(aip_lookup(t, AF_INET, &x) == &c);
	inet_pton(AF_INET6, "fd00::1", &y);
	CHECK(aip_lookup(t, AF_INET6, &y) == &c);
	/* Host bits are ignored on insert: 10.9.9.9/8 is 10.0.0.0/8. */
	inet_pton(AF_INET, "10.9.9.9", &x);
	CHECK_EQ(aip_insert(t, AF_INET, &x, 8, &b), 0);
	CHECK_EQ(a.count, 0);
	CHECK_EQ(b.count, 2);
	CHECK_EQ(aip_count(t), 4);
	aip_remove_owner(t, &c);
	inet_pton(AF_INET, "11.0.0.1", &x);
	CHECK(aip_lookup(t, AF_INET, &x) == NULL);
	aip_free(t);
	CHECK(b.first == NULL && b.count == 0);
}

static const struct t_case cases[] = {
	T(test_basics),
	T(test_random_vs_linear),
};

int main(void)
{
	return t_main("wg-aip", cases, SC_ARRAY_SIZE(cases));
}
