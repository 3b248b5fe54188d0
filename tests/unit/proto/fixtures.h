/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shared fixtures of the proto suites: a network "lab" with a fixed admin
 * seed, a certificate in it, and a raw TLV editor that builds records the
 * encoders refuse to make (duplicates, misordering, bad lengths), so the
 * decoders' refusals can be tested one rule at a time.
 */
#ifndef TEST_PROTO_FIXTURES_H
#define TEST_PROTO_FIXTURES_H

#include <stdint.h>
#include <string.h>

#include "crypto/x25519.h"
#include "proto/cert.h"
#include "proto/netdef.h"
#include "proto/record.h"
#include "test.h"

/* Admin seed 0x01..0x20, identity 0x21..0x40, WireGuard key 0x41..0x60. */
SC_UNUSED static void fx_seq(uint8_t *p, size_t n, uint8_t first)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(first + i);
}

SC_UNUSED static void fx_admin_seed(uint8_t seed[32])
{
	fx_seq(seed, 32, 0x01);
}

/* The network "lab": 10.7.0.0/16, fd00:7::/48, one master relay. */
SC_UNUSED static void fx_netdef(struct proto_netdef *n)
{
	uint8_t seed[32];

	memset(n, 0, sizeof(*n));
	memcpy(n->name, "lab", 3);
	n->serial = 1;
	n->issued = 1700000000;
	proto_prefix_parse("10.7.0.0/16", &n->v4);
	proto_prefix_parse("fd00:7::/48", &n->v6);
	memcpy(n->registry, "https://reg.example.net/", 24);
	n->n_relays = 1;
	memcpy(n->relays[0].name, "mr1", 3);
	fx_seq(n->relays[0].wgkey, 32, 0x61);
	proto_endpoint_parse("203.0.113.1:51820", &n->relays[0].endpoint);
	proto_params_default(&n->params);
	fx_admin_seed(seed);
	CHECK_EQ(proto_netdef_sign(n, seed), 0);
}

/* The peer "alpha" of "lab", valid [1700000000, 1800000000). */
SC_UNUSED static void fx_cert_fields(struct proto_cert *c)
{
	memset(c, 0, sizeof(*c));
	memcpy(c->network, "lab", 3);
	c->serial = 42;
	memcpy(c->name, "alpha", 5);
	fx_seq(c->identity, 32, 0x21);
	fx_seq(c->wgkey, 32, 0x41);
	c->roles = PROTO_ROLE_EDGE | PROTO_ROLE_RELAY;
	c->not_before = 1700000000;
	c->not_after = 1800000000;
	proto_addr_parse("10.7.0.5", 4, c->addr4);
	proto_addr_parse("fd00:7::5", 6, c->addr6);
	c->n_subnets = 2;
	proto_prefix_parse("192.168.1.0/24", &c->subnets[0]);
	proto_prefix_parse("fd10::/64", &c->subnets[1]);
}

SC_UNUSED static void fx_cert(struct proto_cert *c)
{
	uint8_t seed[32];

	fx_cert_fields(c);
	fx_admin_seed(seed);
	CHECK_EQ(proto_cert_sign(c, seed), 0);
}

/* ---- raw TLV editing ---- */

#define FX_MAX_FIELDS 300

struct fx_tlv {
	uint8_t hdr[PROTO_HDR_LEN];
	size_t n;
	struct {
		uint8_t tag;
		size_t len;
		uint8_t v[64];
	} f[FX_MAX_FIELDS];
};

/* Split an encoded record (all values must be <= 64 bytes). 0 or -1. */
SC_UNUSED static int fx_split(struct fx_tlv *t, const uint8_t *in, size_t len)
{
	size_t off = PROTO_HDR_LEN;

	memcpy(t->hdr, in, PROTO_HDR_LEN);
	t->n = 0;
	while (off < len) {
		size_t n = (size_t)in[off + 1] << 8 | in[off + 2];

		if (t->n >= FX_MAX_FIELDS || n > 64 || off + 3 + n > len)
			return -1;
		t->f[t->n].tag = in[off];
		t->f[t->n].len = n;
		memcpy(t->f[t->n].v, in + off + 3, n);
		t->n++;
		off += 3 + n;
	}
	return 0;
}

/* Join fields back, with no checks at all. Returns the length. */
SC_UNUSED static size_t fx_join(uint8_t *out, const struct fx_tlv *t)
{
	size_t i, off = PROTO_HDR_LEN;

	memcpy(out, t->hdr, PROTO_HDR_LEN);
	for (i = 0; i < t->n; i++) {
		out[off] = t->f[i].tag;
		out[off + 1] = (uint8_t)(t->f[i].len >> 8);
		out[off + 2] = (uint8_t)t->f[i].len;
		memcpy(out + off + 3, t->f[i].v, t->f[i].len);
		off += 3 + t->f[i].len;
	}
	return off;
}

/* Index of the first field with tag, or -1. */
SC_UNUSED static int fx_find(const struct fx_tlv *t, uint8_t tag)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->f[i].tag == tag)
			return (int)i;
	return -1;
}

SC_UNUSED static void fx_remove(struct fx_tlv *t, size_t i)
{
	memmove(&t->f[i], &t->f[i + 1], (t->n - i - 1) * sizeof(t->f[0]));
	t->n--;
}

/* Insert a copy of field j at position i. */
SC_UNUSED static void fx_dup(struct fx_tlv *t, size_t j, size_t i)
{
	typeof(t->f[0]) copy = t->f[j];

	memmove(&t->f[i + 1], &t->f[i], (t->n - i) * sizeof(t->f[0]));
	t->f[i] = copy;
	t->n++;
}

SC_UNUSED static void fx_swap(struct fx_tlv *t, size_t i, size_t j)
{
	typeof(t->f[0]) tmp = t->f[i];

	t->f[i] = t->f[j];
	t->f[j] = tmp;
}

#endif
