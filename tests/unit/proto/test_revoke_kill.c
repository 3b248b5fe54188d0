// SPDX-License-Identifier: GPL-2.0-only
/*
 * Revocation lists and kill switches: round trips, canonical bytes,
 * replacement by serial, who a kill switch applies to, and refusals.
 */
#include <errno.h>
#include <stdlib.h>

#include "fixtures.h"
#include "proto/armor.h"
#include "proto/kill.h"
#include "proto/revoke.h"

#define NOW 1750000000ull

static uint8_t *encode_rl(const struct proto_revoke *rl, size_t *len)
{
	size_t cap = proto_revoke_encoded_len(rl);
	uint8_t *buf = malloc(cap);

	CHECK(buf != NULL);
	if (buf)
		CHECK_EQ(proto_revoke_encode(rl, buf, cap, len), 0);
	CHECK_EQ(*len, cap);
	return buf;
}

static void test_revoke_round_trip(void)
{
	struct proto_netdef n;
	struct proto_revoke *rl, *d;
	uint8_t seed[32], k[32], kind, *buf, *buf2;
	size_t len, len2, i;

	fx_netdef(&n);
	fx_admin_seed(seed);
	CHECK_EQ(proto_revoke_new(&rl, "lab", 3, NOW), 0);
	/* Added out of order; kept sorted, kind first. */
	for (i = 0; i < 5; i++) {
		fx_seq(k, 32, (uint8_t)(0xf0 - 16 * i));
		CHECK_EQ(proto_revoke_add(rl, i % 2 ? PROTO_REVOKE_IDENTITY : PROTO_REVOKE_CERT, k),
			 0);
	}
	CHECK_EQ(proto_revoke_add(rl, PROTO_REVOKE_CERT, k), -EEXIST);
	CHECK_EQ(proto_revoke_add(rl, 3, k), -EINVAL);
	CHECK_EQ(proto_revoke_count(rl), 5);
	proto_revoke_entry(rl, 0, &kind, k);
	CHECK_EQ(kind, PROTO_REVOKE_CERT);
	CHECK_EQ(k[0], 0xb0);
	proto_revoke_entry(rl, 4, &kind, k);
	CHECK_EQ(kind, PROTO_REVOKE_IDENTITY);
	CHECK_EQ(k[0], 0xe0);
	CHECK_EQ(proto_revoke_sign(rl, seed), 0);
	CHECK_EQ(proto_revoke_verify(rl, &n), 0);
	buf = encode_rl(rl, &len);
	CHECK_EQ(proto_revoke_decode(&d, buf, len), 0);
	CHECK_EQ(proto_revoke_serial(d), 3);
	CHECK_EQ(proto_revoke_issued(d), NOW);
	CHECK(strcmp(proto_revoke_network(d), "lab") == 0);
	CHECK_EQ(proto_revoke_count(d), 5);
	CHECK_MEM(proto_revoke_fingerprint(d), proto_revoke_fingerprint(rl), PROTO_FP_LEN);
	CHECK_EQ(proto_revoke_verify(d, &n), 0);
	fx_seq(k, 32, 0xd0);
	CHECK(proto_revoke_has(d, PROTO_REVOKE_CERT, k));
	CHECK(!proto_revoke_has(d, PROTO_REVOKE_IDENTITY, k));
	k[31] ^= 1;
	CHECK(!proto_revoke_has(d, PROTO_REVOKE_CERT, k));
	buf2 = encode_rl(d, &len2);
	CHECK_EQ(len2, len);
	CHECK_MEM(buf2, buf, len);
	/* Truncations and a trailing byte. */
	for (i = 0; i < len; i++) {
		struct proto_revoke *x = NULL;

		CHECK(proto_revoke_decode(&x, buf, i) != 0);
		CHECK(x == NULL);
	}
	free(buf2);
	buf2 = malloc(len + 1);
	memcpy(buf2, buf, len);
	buf2[len] = 0;
	{
		struct proto_revoke *x = NULL;

		CHECK_EQ(proto_revoke_decode(&x, buf2, len + 1), PROTO_ERR_MALFORMED);
		CHECK(x == NULL);
	}
	free(buf2);
	free(buf);
	proto_revoke_free(d);
	proto_revoke_free(rl);
}

static void test_revoke_replaces(void)
{
	struct proto_netdef n, other;
	struct proto_revoke *a, *b, *c;
	uint8_t seed[32], k[32];

	fx_netdef(&n);
	fx_admin_seed(seed);
	CHECK_EQ(proto_revoke_new(&a, "lab", 1, NOW), 0);
	fx_seq(k, 32, 1);
	CHECK_EQ(proto_revoke_add(a, PROTO_REVOKE_CERT, k), 0);
	CHECK_EQ(proto_revoke_sign(a, seed), 0);
	CHECK_EQ(proto_revoke_next(&b, a, NOW + 10), 0);
	CHECK_EQ(proto_revoke_serial(b), 2);
	CHECK_EQ(proto_revoke_count(b), 1);
	CHECK(proto_revoke_has(b, PROTO_REVOKE_CERT, k));
	CHECK_EQ(proto_revoke_sign(b, seed), 0);
	CHECK_EQ(proto_revoke_replaces(NULL, a), 0);
	CHECK_EQ(proto_revoke_replaces(a, b), 0);
	CHECK_EQ(proto_revoke_replaces(b, a), PROTO_ERR_OLD);
	CHECK_EQ(proto_revoke_replaces(b, b), PROTO_ERR_OLD);
	CHECK_EQ(proto_revoke_new(&c, "prod", 9, NOW), 0);
	CHECK_EQ(proto_revoke_replaces(b, c), PROTO_ERR_NETWORK);
	/* Signed by another key, or for another network. */
	CHECK_EQ(proto_revoke_verify(c, &n), PROTO_ERR_NETWORK);
	proto_revoke_free(c);
	other = n;
	fx_seq(seed, 32, 0x90);
	CHECK_EQ(proto_netdef_sign(&other, seed), 0);
	CHECK_EQ(proto_revoke_verify(b, &other), PROTO_ERR_SIG);
	/* Changed after signing. */
	fx_seq(k, 32, 2);
	CHECK_EQ(proto_revoke_add(b, PROTO_REVOKE_IDENTITY, k), 0);
	CHECK_EQ(proto_revoke_verify(b, &n), PROTO_ERR_SIG);
	CHECK_EQ(proto_revoke_new(&c, "lab", 0, NOW), -EINVAL);
	CHECK_EQ(proto_revoke_new(&c, "Lab", 1, NOW), -EINVAL);
	proto_revoke_free(b);
	proto_revoke_free(a);
	proto_revoke_free(NULL);
}

static void test_revoke_capacity(void)
{
	struct proto_revoke *rl, *d = NULL;
	struct proto_netdef n;
	uint8_t seed[32], k[32] = { 0 }, *buf;
	size_t i, len;

	fx_netdef(&n);
	fx_admin_seed(seed);
	CHECK_EQ(proto_revoke_new(&rl, "lab", 1, NOW), 0);
	for (i = 0; i < PROTO_REVOKE_MAX_ENTRIES; i++) {
		k[0] = (uint8_t)(i >> 8);
		k[1] = (uint8_t)i;
		if (proto_revoke_add(rl, PROTO_REVOKE_CERT, k)) {
			CHECK(0);
			break;
		}
	}
	k[2] = 1;
	CHECK_EQ(proto_revoke_add(rl, PROTO_REVOKE_CERT, k), -ENOSPC);
	CHECK_EQ(proto_revoke_sign(rl, seed), 0);
	buf = encode_rl(rl, &len);
	CHECK(len <= PROTO_REVOKE_RECORD_MAX);
	CHECK_EQ(proto_revoke_decode(&d, buf, len), 0);
	CHECK_EQ(proto_revoke_verify(d, &n), 0);
	CHECK_EQ(proto_revoke_count(d), PROTO_REVOKE_MAX_ENTRIES);
	proto_revoke_free(d);
	free(buf);
	proto_revoke_free(rl);
}

static void test_revoke_field_refusals(void)
{
	struct proto_revoke *rl, *d;
	struct fx_tlv base, t;
	uint8_t seed[32], k[32], *buf, out[4096];
	size_t len, i;

	fx_admin_seed(seed);
	CHECK_EQ(proto_revoke_new(&rl, "lab", 1, NOW), 0);
	for (i = 0; i < 3; i++) {
		fx_seq(k, 32, (uint8_t)(16 * i));
		CHECK_EQ(proto_revoke_add(rl, PROTO_REVOKE_CERT, k), 0);
	}
	CHECK_EQ(proto_revoke_sign(rl, seed), 0);
	buf = encode_rl(rl, &len);
	CHECK_EQ(fx_split(&base, buf, len), 0);
	CHECK_EQ(base.n, 7);
#define REFUSE(what)                                                                         \
	do {                                                                                 \
		d = NULL;                                                                    \
		if (proto_revoke_decode(&d, out, fx_join(out, &t)) != PROTO_ERR_MALFORMED) { \
			fprintf(stderr, "# revocation list accepted: %s\n", what);           \
			CHECK(0);                                                            \
		}                                                                            \
		proto_revoke_free(d);                                                        \
	} while (0)
	t = base;
	fx_swap(&t, 3, 4);
	REFUSE("entries out of order");
	t = base;
	fx_dup(&t, 3, 3);
	REFUSE("entry listed twice");
	t = base;
	t.f[3].v[0] = 3;
	REFUSE("unknown entry kind");
	t = base;
	memset(t.f[1].v, 0, 8);
	REFUSE("serial 0");
	t = base;
	fx_remove(&t, 1);
	REFUSE("no serial");
	t = base;
	t.f[4].len = 32;
	REFUSE("32-byte entry");
	t = base;
	fx_swap(&t, 1, 2);
	REFUSE("issue time before serial");
#undef REFUSE
	free(buf);
	proto_revoke_free(rl);
}

static void kill_base(struct proto_kill *k)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->network, "lab", 3);
	k->serial = 7;
	k->issued = NOW;
	k->scope = PROTO_KILL_LISTED;
}

static void test_kill_round_trip(void)
{
	struct proto_netdef n;
	struct proto_kill k, d;
	uint8_t seed[32], id[32], other[32], buf[PROTO_RECORD_MAX], buf2[PROTO_RECORD_MAX];
	char text[PROTO_ARMOR_LEN(PROTO_RECORD_MAX)];
	uint8_t type;
	size_t len, len2;

	fx_netdef(&n);
	fx_admin_seed(seed);
	fx_seq(id, 32, 0x21);
	fx_seq(other, 32, 0x22);
	kill_base(&k);
	CHECK_EQ(proto_kill_add_name(&k, "zeta"), 0);
	CHECK_EQ(proto_kill_add_identity(&k, id), 0);
	CHECK_EQ(proto_kill_add_name(&k, "alpha"), 0);
	CHECK_EQ(proto_kill_add_name(&k, "Alpha"), -EINVAL);
	CHECK_EQ(proto_kill_sign(&k, seed), 0);
	/* Sorted: names (shorter values) before keys, then by bytes. */
	CHECK_EQ(k.targets[0].kind, PROTO_TARGET_NAME);
	CHECK(memcmp(k.targets[0].value, "zeta", 4) == 0);
	CHECK(memcmp(k.targets[1].value, "alpha", 5) == 0);
	CHECK_EQ(k.targets[2].kind, PROTO_TARGET_IDENTITY);
	CHECK_EQ(proto_kill_encode(&k, buf, sizeof(buf), &len), 0);
	CHECK_EQ(proto_kill_decode(&d, buf, len), 0);
	CHECK_EQ(proto_kill_encode(&d, buf2, sizeof(buf2), &len2), 0);
	CHECK_EQ(len2, len);
	CHECK_MEM(buf2, buf, len);
	CHECK_EQ(proto_kill_verify(&d, &n), 0);
	CHECK(proto_kill_applies(&d, "alpha", other));
	CHECK(proto_kill_applies(&d, "beta", id));
	CHECK(proto_kill_applies(&d, NULL, id));
	CHECK(!proto_kill_applies(&d, "beta", other));
	CHECK(!proto_kill_applies(&d, "alph", NULL));
	CHECK(!proto_kill_applies(&d, "alphas", NULL));
	/* Through the armor. */
	CHECK_EQ(proto_armor_encode(text, sizeof(text), buf, len), 0);
	CHECK(strncmp(text, "-----BEGIN SCOPE KILL SWITCH-----\n", 34) == 0);
	CHECK_EQ(proto_armor_decode(buf2, sizeof(buf2), &len2, &type, text, strlen(text)), 0);
	CHECK_EQ(type, PROTO_T_KILL);
	CHECK_EQ(len2, len);
	/* Any change after signing, and any other admin key, fail. */
	d.serial++;
	CHECK_EQ(proto_kill_verify(&d, &n), PROTO_ERR_SIG);
	CHECK_EQ(proto_kill_decode(&d, buf, len), 0);
	d.targets[0].value[0] = 'y';
	CHECK_EQ(proto_kill_verify(&d, &n), PROTO_ERR_SIG);
	CHECK_EQ(proto_kill_decode(&d, buf, len), 0);
	fx_seq(seed, 32, 0x90);
	CHECK_EQ(proto_netdef_sign(&n, seed), 0);
	CHECK_EQ(proto_kill_verify(&d, &n), PROTO_ERR_SIG);
	memcpy(n.name, "prod", 5);
	CHECK_EQ(proto_kill_verify(&d, &n), PROTO_ERR_NETWORK);
}

static void test_kill_all(void)
{
	struct proto_netdef n;
	struct proto_kill k, d;
	uint8_t seed[32], buf[PROTO_RECORD_MAX];
	size_t len;

	fx_netdef(&n);
	fx_admin_seed(seed);
	kill_base(&k);
	k.scope = PROTO_KILL_ALL;
	CHECK_EQ(proto_kill_sign(&k, seed), 0);
	CHECK_EQ(proto_kill_encode(&k, buf, sizeof(buf), &len), 0);
	CHECK_EQ(proto_kill_decode(&d, buf, len), 0);
	CHECK_EQ(proto_kill_verify(&d, &n), 0);
	CHECK(proto_kill_applies(&d, "anyone", NULL));
	CHECK(proto_kill_applies(&d, NULL, NULL));
	/* "All" with a list, and "listed" with none, are refused: an empty
	 * list must never mean everyone. */
	CHECK_EQ(proto_kill_add_name(&k, "alpha"), 0);
	CHECK_EQ(proto_kill_sign(&k, seed), -EINVAL);
	kill_base(&k);
	CHECK_EQ(proto_kill_sign(&k, seed), -EINVAL);
	k.scope = 2;
	CHECK_EQ(proto_kill_sign(&k, seed), -EINVAL);
	kill_base(&k);
	CHECK_EQ(proto_kill_add_name(&k, "alpha"), 0);
	CHECK_EQ(proto_kill_add_name(&k, "alpha"), 0);
	CHECK_EQ(proto_kill_sign(&k, seed), -EINVAL); /* duplicate target */
	kill_base(&k);
	k.serial = 0;
	CHECK_EQ(proto_kill_add_name(&k, "alpha"), 0);
	CHECK_EQ(proto_kill_sign(&k, seed), -EINVAL);
}

static void test_kill_field_refusals(void)
{
	struct proto_kill k, d;
	struct fx_tlv base, t;
	uint8_t seed[32], id[32], buf[PROTO_RECORD_MAX];
	size_t len, i;

	fx_admin_seed(seed);
	fx_seq(id, 32, 0x21);
	kill_base(&k);
	CHECK_EQ(proto_kill_add_name(&k, "alpha"), 0);
	CHECK_EQ(proto_kill_add_identity(&k, id), 0);
	CHECK_EQ(proto_kill_sign(&k, seed), 0);
	CHECK_EQ(proto_kill_encode(&k, buf, sizeof(buf), &len), 0);
	CHECK_EQ(fx_split(&base, buf, len), 0);
	CHECK_EQ(base.n, 7);
	for (i = 0; i < len; i++)
		CHECK(proto_kill_decode(&d, buf, i) != 0);
#define REFUSE(what)                                                                       \
	do {                                                                               \
		if (proto_kill_decode(&d, buf, fx_join(buf, &t)) != PROTO_ERR_MALFORMED) { \
			fprintf(stderr, "# kill switch accepted: %s\n", what);             \
			CHECK(0);                                                          \
		}                                                                          \
	} while (0)
	t = base;
	t.f[3].v[0] = PROTO_KILL_ALL;
	REFUSE("scope all with a list");
	t = base;
	fx_remove(&t, 5);
	fx_remove(&t, 4);
	REFUSE("scope listed without a list");
	t = base;
	t.f[3].v[0] = 2;
	REFUSE("unknown scope");
	t = base;
	fx_swap(&t, 4, 5);
	REFUSE("targets out of order");
	t = base;
	t.f[4].v[0] = 3;
	REFUSE("unknown target kind");
	t = base;
	t.f[4].v[1] = 'A';
	REFUSE("upper case target name");
	t = base;
	t.f[5].len = 20;
	REFUSE("short identity target");
	t = base;
	memset(t.f[1].v, 0, 8);
	REFUSE("serial 0");
#undef REFUSE
}

static const struct t_case cases[] = {
	T(test_revoke_round_trip),     T(test_revoke_replaces), T(test_revoke_capacity),
	T(test_revoke_field_refusals), T(test_kill_round_trip), T(test_kill_all),
	T(test_kill_field_refusals),
};

int main(void)
{
	return t_main("proto-revoke-kill", cases, SC_ARRAY_SIZE(cases));
}
