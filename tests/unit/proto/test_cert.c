// SPDX-License-Identifier: GPL-2.0-only
/*
 * Network definitions, peer certificates and their text armor: round trips,
 * canonical bytes, a golden encoding, and every refusal of the decoders and
 * of proto_cert_verify.
 */
#include <errno.h>
#include <stdlib.h>

#include "common/encode.h"
#include "fixtures.h"
#include "proto/armor.h"
#include "proto/revoke.h"

/* Canonical bytes of fx_cert() (seed 0x01..0x20): see docs/certs.md for
 * the layout. Cross-checked once against an independent Python encoder
 * signing with the cryptography package's Ed25519. */
static const char golden_cert_hex[] =
	"53434f500102" /* "SCOP", version 1, type 2 (certificate) */
	"010003"
	"6c6162" /* network "lab" */
	"020008"
	"000000000000002a" /* serial 42 */
	"030005"
	"616c706861" /* name "alpha" */
	"040020"
	"2122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f40"
	"050020"
	"4142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f60"
	"060001"
	"03" /* roles edge|relay */
	"070008"
	"000000006553f100" /* not_before 1700000000 */
	"080008"
	"000000006b49d200" /* not_after 1800000000 */
	"090004"
	"0a070005" /* 10.7.0.5 */
	"0a0010"
	"fd000007000000000000000000000005" /* fd00:7::5 */
	"0b0005"
	"c0a8010018" /* 192.168.1.0/24 */
	"0b0011"
	"fd10000000000000000000000000000040" /* fd10::/64 */
	"ff0040"			     /* Ed25519 over "scope cert v1\0" || the bytes above */
	"0a3fb26a458c2873dbcbe07aa25952f3afb84f3262156fdc09eb53b08d3709a1"
	"3d4b4e218ffa2b04185abb66e22f06749f83ca186c7cc34363d09df32db3f103";

static void test_netdef_round_trip(void)
{
	struct proto_netdef n, d;
	uint8_t buf[PROTO_RECORD_MAX], buf2[PROTO_RECORD_MAX], seed[32], pub[32];
	size_t len, len2;

	fx_netdef(&n);
	fx_admin_seed(seed);
	CHECK_EQ(cry_ed25519_pubkey(pub, seed), 0);
	CHECK_MEM(n.admin, pub, 32);
	CHECK_EQ(proto_netdef_encode(&n, buf, sizeof(buf), &len), 0);
	CHECK_EQ(proto_record_type(buf, len), PROTO_T_NETDEF);
	CHECK_EQ(proto_netdef_decode(&d, buf, len), 0);
	CHECK(strcmp(d.name, "lab") == 0);
	CHECK(strcmp(d.registry, "https://reg.example.net/") == 0);
	CHECK_EQ(d.n_relays, 1);
	CHECK(strcmp(d.relays[0].name, "mr1") == 0);
	CHECK_EQ(d.relays[0].endpoint.port, 51820);
	CHECK_EQ(d.params.psk_rotation_s, 3600);
	CHECK_EQ(d.v6.len, 48);
	CHECK_MEM(d.fingerprint, n.fingerprint, PROTO_FP_LEN);
	CHECK_EQ(proto_netdef_encode(&d, buf2, sizeof(buf2), &len2), 0);
	CHECK_EQ(len2, len);
	CHECK_MEM(buf2, buf, len);
	CHECK_EQ(proto_netdef_verify(&d, NULL), 0);
	CHECK_EQ(proto_netdef_verify(&d, pub), 0);
	pub[0] ^= 1;
	CHECK_EQ(proto_netdef_verify(&d, pub), PROTO_ERR_ADMIN);
	/* A one-byte change in any field breaks the signature. */
	d.params.revert_s++;
	CHECK_EQ(proto_netdef_verify(&d, NULL), PROTO_ERR_SIG);
}

static void test_netdef_ipv6_relay_and_replace(void)
{
	struct proto_netdef n, d, newer;
	uint8_t buf[PROTO_RECORD_MAX], seed[32];
	size_t len;

	fx_netdef(&n);
	fx_admin_seed(seed);
	newer = n;
	newer.serial = 2;
	newer.n_relays = 2;
	memcpy(newer.relays[1].name, "mr2", 4);
	fx_seq(newer.relays[1].wgkey, 32, 0x81);
	CHECK_EQ(proto_endpoint_parse("[2001:db8::1]:443", &newer.relays[1].endpoint), 0);
	CHECK_EQ(proto_netdef_sign(&newer, seed), 0);
	CHECK_EQ(proto_netdef_encode(&newer, buf, sizeof(buf), &len), 0);
	CHECK_EQ(proto_netdef_decode(&d, buf, len), 0);
	CHECK_EQ(d.relays[1].endpoint.family, 6);
	CHECK_EQ(d.relays[1].endpoint.port, 443);
	CHECK_EQ(proto_netdef_replaces(&n, &d), 0);
	CHECK_EQ(proto_netdef_replaces(&d, &n), PROTO_ERR_OLD);
	CHECK_EQ(proto_netdef_replaces(&n, &n), PROTO_ERR_OLD);
	d.admin[3] ^= 1;
	CHECK_EQ(proto_netdef_replaces(&n, &d), PROTO_ERR_ADMIN);
	memcpy(d.name, "other", 6);
	CHECK_EQ(proto_netdef_replaces(&n, &d), PROTO_ERR_NETWORK);
}

/* Each change makes proto_netdef_sign refuse the definition. */
static void test_netdef_sign_refusals(void)
{
	struct proto_netdef base, n;
	uint8_t seed[32];
	size_t i;
	enum {
		NAME9,
		NAME_UPPER,
		NAME_EMPTY,
		NAME_DASH,
		V4_HOST,
		V4_LEN31,
		V4_AS_V6,
		V6_LEN127,
		URL_FTP,
		URL_SPACE,
		PARAM_LOW,
		PARAM_HIGH,
		RELAY_DUP_NAME,
		RELAY_DUP_KEY,
		RELAY_PORT0,
		RELAY_NAME,
		N_CASES
	};

	fx_netdef(&base);
	fx_admin_seed(seed);
	for (i = 0; i < N_CASES; i++) {
		n = base;
		switch (i) {
		case NAME9:
			memcpy(n.name, "abcdefghi", 9); /* fills name[9]: no NUL */
			break;
		case NAME_UPPER:
			memcpy(n.name, "Lab", 4);
			break;
		case NAME_EMPTY:
			n.name[0] = '\0';
			break;
		case NAME_DASH:
			memcpy(n.name, "-lab", 5);
			break;
		case V4_HOST:
			n.v4.addr[3] = 1;
			break;
		case V4_LEN31:
			CHECK_EQ(proto_prefix_parse("10.7.0.0/31", &n.v4), 0);
			break;
		case V4_AS_V6:
			n.v4 = base.v6;
			break;
		case V6_LEN127:
			CHECK_EQ(proto_prefix_parse("fd00:7::/127", &n.v6), 0);
			break;
		case URL_FTP:
			memcpy(n.registry, "ftp://x", 8);
			break;
		case URL_SPACE:
			memcpy(n.registry, "http://a b", 11);
			break;
		case PARAM_LOW:
			n.params.psk_rotation_s = 119;
			break;
		case PARAM_HIGH:
			n.params.reach_bar_pct = 101;
			break;
		case RELAY_DUP_NAME:
			n.n_relays = 2;
			n.relays[1] = n.relays[0];
			n.relays[1].wgkey[0] ^= 1;
			break;
		case RELAY_DUP_KEY:
			n.n_relays = 2;
			n.relays[1] = n.relays[0];
			memcpy(n.relays[1].name, "mr2", 4);
			break;
		case RELAY_PORT0:
			n.relays[0].endpoint.port = 0;
			break;
		case RELAY_NAME:
			memcpy(n.relays[0].name, "mr 1", 5);
			break;
		}
		if (proto_netdef_sign(&n, seed) != -EINVAL) {
			fprintf(stderr, "# netdef sign case %zu accepted\n", i);
			CHECK(0);
		}
	}
	/* The bounds are inclusive. */
	n = base;
	n.params.psk_rotation_s = 120;
	n.params.reach_bar_pct = 100;
	CHECK_EQ(proto_netdef_sign(&n, seed), 0);
}

static void test_cert_round_trip(void)
{
	struct proto_cert c, d;
	struct proto_netdef n;
	uint8_t buf[PROTO_RECORD_MAX], buf2[PROTO_RECORD_MAX];
	size_t len, len2;

	fx_netdef(&n);
	fx_cert(&c);
	CHECK_EQ(proto_cert_encode(&c, buf, sizeof(buf), &len), 0);
	CHECK_EQ(proto_cert_decode(&d, buf, len), 0);
	CHECK(strcmp(d.name, "alpha") == 0);
	CHECK(strcmp(d.network, "lab") == 0);
	CHECK_EQ(d.serial, 42);
	CHECK_EQ(d.roles, PROTO_ROLE_EDGE | PROTO_ROLE_RELAY);
	CHECK_EQ(d.n_subnets, 2);
	CHECK_EQ(d.subnets[1].family, 6);
	CHECK_EQ(d.subnets[1].len, 64);
	CHECK_MEM(d.identity, c.identity, 32);
	CHECK_MEM(d.wgkey, c.wgkey, 32);
	CHECK_MEM(d.fingerprint, c.fingerprint, PROTO_FP_LEN);
	CHECK_EQ(proto_cert_encode(&d, buf2, sizeof(buf2), &len2), 0);
	CHECK_EQ(len2, len);
	CHECK_MEM(buf2, buf, len);
	CHECK_EQ(proto_cert_verify(&d, &n, NULL, 1750000000), 0);
	CHECK(proto_cert_allows(&d, PROTO_ROLE_RELAY));
	CHECK(proto_cert_allows(&d, PROTO_ROLE_EDGE | PROTO_ROLE_RELAY));
	CHECK(!proto_cert_allows(&d, PROTO_ROLE_MASTER));
	CHECK(!proto_cert_allows(&d, 0));
	/* Too small an output buffer is refused, not truncated. */
	CHECK_EQ(proto_cert_encode(&d, buf2, len - 1, &len2), -ENOBUFS);
}

static void test_cert_golden(void)
{
	struct proto_cert c;
	uint8_t buf[PROTO_RECORD_MAX];
	char hex[2 * PROTO_RECORD_MAX + 1];
	size_t len;

	fx_cert(&c);
	CHECK_EQ(proto_cert_encode(&c, buf, sizeof(buf), &len), 0);
	sc_hex_encode(hex, buf, len);
	CHECK_EQ(strlen(hex), strlen(golden_cert_hex));
	if (strcmp(hex, golden_cert_hex) != 0) {
		fprintf(stderr, "# got      %s\n# expected %s\n", hex, golden_cert_hex);
		CHECK(0);
	}
}

/* Signing sorts the subnets, so any input order gives the same bytes. */
static void test_cert_subnets_sorted(void)
{
	struct proto_cert a, b;
	uint8_t seed[32], x[PROTO_RECORD_MAX], y[PROTO_RECORD_MAX];
	size_t xl, yl;

	fx_admin_seed(seed);
	fx_cert_fields(&a);
	fx_cert_fields(&b);
	b.subnets[0] = a.subnets[1];
	b.subnets[1] = a.subnets[0];
	CHECK_EQ(proto_cert_sign(&a, seed), 0);
	CHECK_EQ(proto_cert_sign(&b, seed), 0);
	CHECK_EQ(proto_cert_encode(&a, x, sizeof(x), &xl), 0);
	CHECK_EQ(proto_cert_encode(&b, y, sizeof(y), &yl), 0);
	CHECK_EQ(xl, yl);
	CHECK_MEM(x, y, xl);
	/* A duplicate is refused rather than merged. */
	fx_cert_fields(&b);
	b.subnets[1] = b.subnets[0];
	CHECK_EQ(proto_cert_sign(&b, seed), -EINVAL);
	/* So is an unsorted struct handed straight to the encoder. */
	a.subnets[0] = b.subnets[1];
	fx_cert_fields(&b);
	CHECK_EQ(proto_cert_sign(&b, seed), 0);
	b.subnets[0] = a.subnets[1];
	b.subnets[1] = a.subnets[0];
	CHECK(proto_cert_encode(&b, x, sizeof(x), &xl) == -EINVAL);
}

static void test_cert_sign_refusals(void)
{
	struct proto_cert c;
	uint8_t seed[32];
	size_t i;
	enum {
		NAME33,
		NAME_EMPTY,
		NAME_DOT,
		NET9,
		ROLES0,
		ROLES8,
		WINDOW_EMPTY,
		WINDOW_BACK,
		SUBNET_HOST,
		SUBNET_FAMILY,
		SUBNET_LEN,
		TOO_MANY,
		N_CASES
	};

	fx_admin_seed(seed);
	for (i = 0; i < N_CASES; i++) {
		fx_cert_fields(&c);
		switch (i) {
		case NAME33:
			memset(c.name, 'a', 33);
			break;
		case NAME_EMPTY:
			c.name[0] = '\0';
			break;
		case NAME_DOT:
			memcpy(c.name, "a.b", 4);
			break;
		case NET9:
			memset(c.network, 'n', 9);
			break;
		case ROLES0:
			c.roles = 0;
			break;
		case ROLES8:
			c.roles = 0x09;
			break;
		case WINDOW_EMPTY:
			c.not_after = c.not_before;
			break;
		case WINDOW_BACK:
			c.not_after = c.not_before - 1;
			break;
		case SUBNET_HOST:
			c.subnets[0].addr[3] = 1;
			break;
		case SUBNET_FAMILY:
			c.subnets[0].family = 5;
			break;
		case SUBNET_LEN:
			c.subnets[0].len = 33;
			break;
		case TOO_MANY:
			c.n_subnets = PROTO_CERT_MAX_SUBNETS + 1;
			break;
		}
		if (proto_cert_sign(&c, seed) != -EINVAL) {
			fprintf(stderr, "# cert sign case %zu accepted\n", i);
			CHECK(0);
		}
	}
	/* 32 characters and 64 distinct subnets are the most allowed. */
	fx_cert_fields(&c);
	memset(c.name, 'a', 32);
	c.n_subnets = PROTO_CERT_MAX_SUBNETS;
	for (i = 0; i < PROTO_CERT_MAX_SUBNETS; i++) {
		memset(&c.subnets[i], 0, sizeof(c.subnets[i]));
		c.subnets[i].family = 4;
		c.subnets[i].len = 24;
		c.subnets[i].addr[0] = 172;
		c.subnets[i].addr[1] = 16;
		c.subnets[i].addr[2] = (uint8_t)(63 - i);
	}
	CHECK_EQ(proto_cert_sign(&c, seed), 0);
}

static void encode_fx_cert(uint8_t *buf, size_t *len)
{
	struct proto_cert c;

	fx_cert(&c);
	CHECK_EQ(proto_cert_encode(&c, buf, PROTO_RECORD_MAX, len), 0);
}

static void test_cert_truncated_and_trailing(void)
{
	struct proto_cert d;
	uint8_t buf[PROTO_RECORD_MAX + 1];
	size_t len, i;

	encode_fx_cert(buf, &len);
	for (i = 0; i < len; i++)
		if (proto_cert_decode(&d, buf, i) == 0) {
			fprintf(stderr, "# prefix of %zu bytes accepted\n", i);
			CHECK(0);
		}
	buf[len] = 0;
	CHECK_EQ(proto_cert_decode(&d, buf, len + 1), PROTO_ERR_MALFORMED);
	CHECK_EQ(proto_cert_decode(&d, buf, len), 0);
}

static void test_cert_header_refusals(void)
{
	struct proto_cert d;
	struct proto_netdef n;
	uint8_t buf[PROTO_RECORD_MAX];
	size_t len;

	encode_fx_cert(buf, &len);
	buf[4] = 2;
	CHECK_EQ(proto_cert_decode(&d, buf, len), PROTO_ERR_VERSION);
	buf[4] = 0;
	CHECK_EQ(proto_cert_decode(&d, buf, len), PROTO_ERR_VERSION);
	buf[4] = 1;
	buf[0] = 's';
	CHECK_EQ(proto_cert_decode(&d, buf, len), PROTO_ERR_MALFORMED);
	buf[0] = 'S';
	buf[5] = PROTO_T_KILL;
	CHECK_EQ(proto_cert_decode(&d, buf, len), PROTO_ERR_TYPE);
	buf[5] = PROTO_T_CERT;
	/* A certificate is not a network definition, and vice versa. */
	CHECK_EQ(proto_netdef_decode(&n, buf, len), PROTO_ERR_TYPE);
	CHECK_EQ(proto_cert_decode(&d, buf, len), 0);
}

/* Decode a mutated record; it must be refused as malformed. */
static void expect_refused(const struct fx_tlv *t, const char *what)
{
	struct proto_cert d;
	uint8_t buf[PROTO_RECORD_MAX * 2];
	size_t len = fx_join(buf, t);
	int ret = proto_cert_decode(&d, buf, len);

	if (ret != PROTO_ERR_MALFORMED) {
		fprintf(stderr, "# %s: decode returned %d\n", what, ret);
		CHECK(0);
	}
}

static void set_field(struct fx_tlv *t, uint8_t tag, const void *v, size_t n)
{
	int i = fx_find(t, tag);

	CHECK(i >= 0);
	t->f[i].len = n;
	memcpy(t->f[i].v, v, n);
}

/* One rule broken at a time, in bytes the encoder would never produce. */
static void test_cert_field_refusals(void)
{
	struct fx_tlv base, t;
	uint8_t buf[PROTO_RECORD_MAX];
	size_t len, i;
	static const uint8_t zero[64];

	encode_fx_cert(buf, &len);
	CHECK_EQ(fx_split(&base, buf, len), 0);
	CHECK_EQ(base.n, 13);

	/* Each field duplicated in place (subnets are a set: a copy is a
	 * duplicate element), and each required field missing. */
	for (i = 0; i + 1 < base.n; i++) {
		char what[64];

		t = base;
		fx_dup(&t, i, i);
		snprintf(what, sizeof(what), "field %zu duplicated", i);
		expect_refused(&t, what);
		t = base;
		fx_remove(&t, i);
		snprintf(what, sizeof(what), "field %zu removed", i);
		if (base.f[i].tag != 0x0b)
			expect_refused(&t, what);
	}
	/* Misordered: neighbours swapped (including the two subnets). */
	for (i = 0; i + 2 < base.n; i++) {
		t = base;
		fx_swap(&t, i, i + 1);
		expect_refused(&t, "fields swapped");
	}
	/* Signature not last, wrong length, missing. */
	t = base;
	fx_swap(&t, base.n - 1, base.n - 2);
	expect_refused(&t, "signature before a field");
	t = base;
	t.f[t.n - 1].len = 63;
	expect_refused(&t, "short signature");
	t = base;
	t.n--;
	expect_refused(&t, "no signature");
	/* An unknown tag, between known ones and at the end. */
	t = base;
	fx_dup(&t, 0, t.n - 1);
	t.f[t.n - 2].tag = 0x0c;
	expect_refused(&t, "unknown tag 0x0c");
	t = base;
	fx_dup(&t, 0, 0);
	t.f[0].tag = 0x00;
	expect_refused(&t, "unknown tag 0x00");
	/* Lengths and values out of range. */
	t = base;
	set_field(&t, 0x01, "abcdefghi", 9);
	expect_refused(&t, "network of 9 characters");
	t = base;
	set_field(&t, 0x01, "", 0);
	expect_refused(&t, "empty network");
	t = base;
	set_field(&t, 0x01, "la\0", 3);
	expect_refused(&t, "NUL in network");
	t = base;
	set_field(&t, 0x03, "abcdefghijklmnopqrstuvwxyz0123456", 33);
	expect_refused(&t, "name of 33 characters");
	t = base;
	set_field(&t, 0x03, "Alpha", 5);
	expect_refused(&t, "upper case name");
	t = base;
	set_field(&t, 0x02, zero, 7);
	expect_refused(&t, "7-byte serial");
	t = base;
	set_field(&t, 0x04, zero, 31);
	expect_refused(&t, "31-byte identity key");
	t = base;
	set_field(&t, 0x05, zero, 33);
	expect_refused(&t, "33-byte WireGuard key");
	t = base;
	set_field(&t, 0x06, "\0", 1);
	expect_refused(&t, "no roles");
	t = base;
	set_field(&t, 0x06, "\x08", 1);
	expect_refused(&t, "unknown role bit");
	t = base;
	set_field(&t, 0x08, t.f[fx_find(&t, 0x07)].v, 8);
	expect_refused(&t, "empty validity window");
	t = base;
	set_field(&t, 0x09, zero, 16);
	expect_refused(&t, "IPv6 bytes as the IPv4 address");
	t = base;
	set_field(&t, 0x0b, "\xc0\xa8\x01\x01\x18", 5);
	expect_refused(&t, "subnet with host bits");
	t = base;
	set_field(&t, 0x0b, "\xc0\xa8\x01\x00\x21", 5);
	expect_refused(&t, "subnet /33");
	t = base;
	set_field(&t, 0x0b, "\xc0\xa8\x01\x00\x18\x00", 6);
	expect_refused(&t, "subnet of 6 bytes");
	/* Length field pointing past the end. */
	t = base;
	len = fx_join(buf, &t);
	buf[PROTO_HDR_LEN + 2] = 0xff;
	{
		struct proto_cert d;

		CHECK_EQ(proto_cert_decode(&d, buf, len), PROTO_ERR_MALFORMED);
	}
}

/* Whatever single bit is flipped, the record no longer verifies: either it
 * does not decode or its signature fails. */
static void test_cert_bit_flips(void)
{
	struct proto_netdef n;
	struct proto_cert d;
	uint8_t buf[PROTO_RECORD_MAX];
	size_t len, bit;
	unsigned int decoded = 0;

	fx_netdef(&n);
	encode_fx_cert(buf, &len);
	for (bit = 0; bit < 8 * len; bit++) {
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		if (proto_cert_decode(&d, buf, len) == 0) {
			decoded++;
			if (proto_cert_verify(&d, &n, NULL, 1750000000) == 0) {
				fprintf(stderr, "# bit %zu flipped still verifies\n", bit);
				CHECK(0);
			}
		}
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	/* Most flips land in keys, times and the signature and do decode:
	 * the signature check is what refuses them. */
	CHECK(decoded > 8 * 64);
	CHECK_EQ(proto_cert_decode(&d, buf, len), 0);
	CHECK_EQ(proto_cert_verify(&d, &n, NULL, 1750000000), 0);
}

static void test_cert_verify_refusals(void)
{
	struct proto_netdef n, other;
	struct proto_cert c, d;
	uint8_t seed[32];

	fx_netdef(&n);
	fx_cert(&c);
	/* Validity boundaries: [not_before, not_after). */
	CHECK_EQ(proto_cert_verify(&c, &n, NULL, c.not_before), 0);
	CHECK_EQ(proto_cert_verify(&c, &n, NULL, c.not_before - 1), PROTO_ERR_NOTYET);
	CHECK_EQ(proto_cert_verify(&c, &n, NULL, 0), PROTO_ERR_NOTYET);
	CHECK_EQ(proto_cert_verify(&c, &n, NULL, c.not_after - 1), 0);
	CHECK_EQ(proto_cert_verify(&c, &n, NULL, c.not_after), PROTO_ERR_EXPIRED);
	CHECK_EQ(proto_cert_verify(&c, &n, NULL, UINT64_MAX), PROTO_ERR_EXPIRED);
	/* Another admin key (same network name): bad signature. */
	other = n;
	fx_seq(seed, 32, 0x90);
	CHECK_EQ(proto_netdef_sign(&other, seed), 0);
	CHECK_EQ(proto_cert_verify(&c, &other, NULL, 1750000000), PROTO_ERR_SIG);
	/* Another network. */
	other = n;
	memcpy(other.name, "prod", 5);
	CHECK_EQ(proto_cert_verify(&c, &other, NULL, 1750000000), PROTO_ERR_NETWORK);
	/* A field changed after signing. */
	d = c;
	d.roles |= PROTO_ROLE_MASTER;
	CHECK_EQ(proto_cert_verify(&d, &n, NULL, 1750000000), PROTO_ERR_SIG);
	d = c;
	d.signature[63] ^= 0x80;
	CHECK_EQ(proto_cert_verify(&d, &n, NULL, 1750000000), PROTO_ERR_SIG);
}

/* Sign with the fixture admin key and verify against the fixture network. */
static int verify_with_addrs(const char *a4, const char *a6)
{
	struct proto_netdef n;
	struct proto_cert c;
	uint8_t seed[32];

	fx_netdef(&n);
	fx_admin_seed(seed);
	fx_cert_fields(&c);
	CHECK_EQ(proto_addr_parse(a4, 4, c.addr4), 0);
	CHECK_EQ(proto_addr_parse(a6, 6, c.addr6), 0);
	CHECK_EQ(proto_cert_sign(&c, seed), 0);
	return proto_cert_verify(&c, &n, NULL, 1750000000);
}

static void test_cert_addresses(void)
{
	CHECK_EQ(verify_with_addrs("10.7.255.254", "fd00:7:0:ffff:ffff:ffff:ffff:ffff"), 0);
	CHECK_EQ(verify_with_addrs("10.7.0.1", "fd00:7::1"), 0);
	CHECK_EQ(verify_with_addrs("10.8.0.5", "fd00:7::5"), PROTO_ERR_ADDR);
	CHECK_EQ(verify_with_addrs("10.7.0.5", "fd00:8::5"), PROTO_ERR_ADDR);
	CHECK_EQ(verify_with_addrs("10.7.0.0", "fd00:7::5"), PROTO_ERR_ADDR);
	CHECK_EQ(verify_with_addrs("10.7.255.255", "fd00:7::5"), PROTO_ERR_ADDR);
	CHECK_EQ(verify_with_addrs("10.7.0.5", "fd00:7::"), PROTO_ERR_ADDR);
	CHECK_EQ(verify_with_addrs("192.168.1.5", "fd00:7::5"), PROTO_ERR_ADDR);
}

static void test_cert_revoked(void)
{
	struct proto_netdef n, other;
	struct proto_cert c;
	struct proto_revoke *rl = NULL, *rl2 = NULL;
	uint8_t seed[32], k[32];

	fx_netdef(&n);
	fx_cert(&c);
	fx_admin_seed(seed);
	CHECK_EQ(proto_revoke_new(&rl, "lab", 1, 1750000000), 0);
	fx_seq(k, 32, 0xa0);
	CHECK_EQ(proto_revoke_add(rl, PROTO_REVOKE_CERT, k), 0);
	CHECK_EQ(proto_revoke_sign(rl, seed), 0);
	CHECK_EQ(proto_revoke_verify(rl, &n), 0);
	CHECK_EQ(proto_cert_verify(&c, &n, rl, 1750000000), 0);
	/* By fingerprint. */
	CHECK_EQ(proto_revoke_add(rl, PROTO_REVOKE_CERT, c.fingerprint), 0);
	CHECK_EQ(proto_cert_verify(&c, &n, rl, 1750000000), PROTO_ERR_REVOKED);
	/* By identity key: every certificate carrying it. */
	CHECK_EQ(proto_revoke_new(&rl2, "lab", 2, 1750000000), 0);
	CHECK_EQ(proto_revoke_add(rl2, PROTO_REVOKE_IDENTITY, c.identity), 0);
	CHECK_EQ(proto_cert_verify(&c, &n, rl2, 1750000000), PROTO_ERR_REVOKED);
	/* A WireGuard key or a fingerprint listed as an identity does not match. */
	proto_revoke_free(rl2);
	CHECK_EQ(proto_revoke_new(&rl2, "lab", 2, 1750000000), 0);
	CHECK_EQ(proto_revoke_add(rl2, PROTO_REVOKE_IDENTITY, c.wgkey), 0);
	CHECK_EQ(proto_revoke_add(rl2, PROTO_REVOKE_IDENTITY, c.fingerprint), 0);
	CHECK_EQ(proto_cert_verify(&c, &n, rl2, 1750000000), 0);
	proto_revoke_free(rl2);
	/* A list of another network is refused. */
	other = n;
	CHECK_EQ(proto_revoke_new(&rl2, "prod", 1, 1750000000), 0);
	CHECK_EQ(proto_cert_verify(&c, &other, rl2, 1750000000), PROTO_ERR_NETWORK);
	proto_revoke_free(rl2);
	proto_revoke_free(rl);
}

static void test_armor(void)
{
	struct proto_cert c, d;
	uint8_t bin[PROTO_RECORD_MAX], out[PROTO_RECORD_MAX];
	char text[PROTO_ARMOR_LEN(PROTO_RECORD_MAX)], again[sizeof(text)], bad[sizeof(text) + 8];
	size_t len, outlen, tl;
	uint8_t type;

	fx_cert(&c);
	CHECK_EQ(proto_cert_encode(&c, bin, sizeof(bin), &len), 0);
	CHECK_EQ(proto_armor_encode(text, sizeof(text), bin, len), 0);
	tl = strlen(text);
	CHECK_EQ(tl + 1, proto_armor_len(PROTO_T_CERT, len));
	CHECK(strncmp(text, "-----BEGIN SCOPE CERTIFICATE-----\n", 34) == 0);
	CHECK(strcmp(text + tl - 32, "-----END SCOPE CERTIFICATE-----\n") == 0);
	CHECK_EQ(proto_armor_decode(out, sizeof(out), &outlen, &type, text, tl), 0);
	CHECK_EQ(type, PROTO_T_CERT);
	CHECK_EQ(outlen, len);
	CHECK_MEM(out, bin, len);
	CHECK_EQ(proto_cert_decode(&d, out, outlen), 0);
	CHECK_EQ(proto_armor_encode(again, sizeof(again), out, outlen), 0);
	CHECK(strcmp(again, text) == 0);
	CHECK_EQ(proto_armor_encode(again, proto_armor_len(PROTO_T_CERT, len) - 1, bin, len),
		 -ENOBUFS);
	CHECK_EQ(proto_armor_decode(out, len - 1, &outlen, &type, text, tl), -ENOBUFS);

	/* Refusals: each a small edit of the good text. */
#define REFUSE(what)                                                                          \
	do {                                                                                  \
		if (proto_armor_decode(out, sizeof(out), &outlen, &type, bad, strlen(bad)) != \
		    -EINVAL) {                                                                \
			fprintf(stderr, "# armor accepted: %s\n", what);                      \
			CHECK(0);                                                             \
		}                                                                             \
	} while (0)
	snprintf(bad, sizeof(bad), "%.*s", (int)(tl - 1), text);
	REFUSE("no final newline");
	snprintf(bad, sizeof(bad), "%s\n", text);
	REFUSE("extra final newline");
	snprintf(bad, sizeof(bad), "x%s", text);
	REFUSE("text before BEGIN");
	snprintf(bad, sizeof(bad), "%.*s\r%s", 34 + 64, text, text + 34 + 64);
	REFUSE("CRLF line end");
	snprintf(bad, sizeof(bad), "%s", text);
	memmove(bad + 34 + 63, bad + 34 + 64, strlen(bad + 34 + 64) + 1);
	REFUSE("a 63-character line");
	/* "SCOPE KILL SWITCH" is as long as "SCOPE CERTIFICATE". */
	snprintf(bad, sizeof(bad), "%s", text);
	memcpy(bad + 11, "SCOPE KILL SWITCH", 17);
	memcpy(bad + tl - 32 + 9, "SCOPE KILL SWITCH", 17);
	REFUSE("label of another type");
	snprintf(bad, sizeof(bad), "%s", text);
	memcpy(bad + tl - 32, "-----END SCOPE NETWORK-----\n", 29);
	REFUSE("END label differs");
	snprintf(bad, sizeof(bad), "%s", text);
	bad[40] = ' ';
	REFUSE("space in base64");
	snprintf(bad, sizeof(bad),
		 "-----BEGIN SCOPE CERTIFICATE-----\n-----END SCOPE CERTIFICATE-----\n");
	REFUSE("empty body");
	/* Non-canonical base64: the last data character before '=' carries
	 * bits that decoding would drop. */
	snprintf(bad, sizeof(bad), "%s", text);
	{
		char *eq = strchr(bad, '=');

		CHECK(eq != NULL);
		if (eq)
			eq[-1] = eq[-1] == 'A' ? 'B' : (char)(eq[-1] ^ 1);
	}
	REFUSE("non-canonical base64");
#undef REFUSE
}

static void test_addr_text(void)
{
	struct proto_prefix p;
	struct proto_endpoint e;
	char s[PROTO_ENDPOINT_STRLEN];
	uint8_t roles;

	CHECK_EQ(proto_prefix_parse("10.7.0.0/16", &p), 0);
	proto_prefix_format(s, &p);
	CHECK(strcmp(s, "10.7.0.0/16") == 0);
	CHECK_EQ(proto_prefix_parse("0.0.0.0/0", &p), 0);
	CHECK_EQ(proto_prefix_parse("fd00:7::/48", &p), 0);
	proto_prefix_format(s, &p);
	CHECK(strcmp(s, "fd00:7::/48") == 0);
	CHECK_EQ(proto_prefix_parse("10.7.0.1/16", &p), -EINVAL);
	CHECK_EQ(proto_prefix_parse("10.7.0.0/33", &p), -EINVAL);
	CHECK_EQ(proto_prefix_parse("10.7.0.0/016", &p), -EINVAL);
	CHECK_EQ(proto_prefix_parse("10.7.0.0", &p), -EINVAL);
	CHECK_EQ(proto_prefix_parse("10.7.0.0/", &p), -EINVAL);
	CHECK_EQ(proto_prefix_parse("10.7.0/16", &p), -EINVAL);
	CHECK_EQ(proto_prefix_parse("fd00::/129", &p), -EINVAL);
	CHECK_EQ(proto_endpoint_parse("203.0.113.1:51820", &e), 0);
	proto_endpoint_format(s, &e);
	CHECK(strcmp(s, "203.0.113.1:51820") == 0);
	CHECK_EQ(proto_endpoint_parse("[2001:db8::1]:1", &e), 0);
	proto_endpoint_format(s, &e);
	CHECK(strcmp(s, "[2001:db8::1]:1") == 0);
	CHECK_EQ(proto_endpoint_parse("203.0.113.1:0", &e), -EINVAL);
	CHECK_EQ(proto_endpoint_parse("203.0.113.1:65536", &e), -EINVAL);
	CHECK_EQ(proto_endpoint_parse("203.0.113.1", &e), -EINVAL);
	CHECK_EQ(proto_endpoint_parse("2001:db8::1:80", &e), -EINVAL);
	CHECK_EQ(proto_endpoint_parse("[2001:db8::1]80", &e), -EINVAL);
	CHECK_EQ(proto_endpoint_parse("host.example:80", &e), -EINVAL);
	CHECK_EQ(proto_roles_parse("relay,edge", &roles), 0);
	CHECK_EQ(roles, PROTO_ROLE_EDGE | PROTO_ROLE_RELAY);
	proto_roles_format(s, PROTO_ROLES_ALL);
	CHECK(strcmp(s, "edge,relay,master") == 0);
	CHECK_EQ(proto_roles_parse("edge,edge", &roles), -EINVAL);
	CHECK_EQ(proto_roles_parse("edge,", &roles), -EINVAL);
	CHECK_EQ(proto_roles_parse("", &roles), -EINVAL);
	CHECK_EQ(proto_roles_parse("admin", &roles), -EINVAL);
	CHECK(proto_net_name_valid("a_b-9", 5));
	CHECK(!proto_net_name_valid("_ab", 3));
	CHECK(!proto_net_name_valid("abcdefghi", 9));
	CHECK(proto_peer_name_valid("abcdefghi", 9));
}

static const struct t_case cases[] = {
	T(test_netdef_round_trip),
	T(test_netdef_ipv6_relay_and_replace),
	T(test_netdef_sign_refusals),
	T(test_cert_round_trip),
	T(test_cert_golden),
	T(test_cert_subnets_sorted),
	T(test_cert_sign_refusals),
	T(test_cert_truncated_and_trailing),
	T(test_cert_header_refusals),
	T(test_cert_field_refusals),
	T(test_cert_bit_flips),
	T(test_cert_verify_refusals),
	T(test_cert_addresses),
	T(test_cert_revoked),
	T(test_armor),
	T(test_addr_text),
};

int main(void)
{
	return t_main("proto-cert", cases, SC_ARRAY_SIZE(cases));
}
