/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shared fixtures of the registry tests: a network (admin key, signed
 * network definition), certified peers, and signed requests, all made with
 * the real src/proto code so the registry sees exactly what nodes send.
 */
#ifndef REGTEST_H
#define REGTEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/compiler.h"
#include "common/encode.h"
#include "crypto/rand.h"
#include "crypto/x25519.h"
#include "proto/armor.h"
#include "proto/cert.h"
#include "proto/kill.h"
#include "proto/netdef.h"
#include "proto/revoke.h"
#include "proto/sigreq.h"

#define RT_NET "testnet"

struct rt_net {
	uint8_t admin_seed[32], admin_pub[32];
	struct proto_netdef def;
	uint8_t bytes[PROTO_RECORD_MAX];
	size_t len;
};

struct rt_peer {
	char name[PROTO_PEER_NAME_MAX + 1];
	uint8_t seed[32], pub[32], wg[32];
	uint8_t cert[PROTO_RECORD_MAX];
	size_t cert_len;
	uint8_t fp[PROTO_FP_LEN];
};

/* A network named name (RT_NET by default) with a fresh admin key. */
SC_UNUSED static int rt_net_make(struct rt_net *n, const char *name, uint64_t now)
{
	uint8_t wg[32], wgpriv[32];

	memset(n, 0, sizeof(*n));
	if (cry_ed25519_genkey(n->admin_seed, n->admin_pub))
		return -1;
	snprintf(n->def.name, sizeof(n->def.name), "%s", name ? name : RT_NET);
	n->def.serial = 1;
	n->def.issued = now;
	if (proto_prefix_parse("10.77.0.0/16", &n->def.v4) ||
	    proto_prefix_parse("fd00:77::/48", &n->def.v6))
		return -1;
	snprintf(n->def.registry, sizeof(n->def.registry), "http://127.0.0.1:8470");
	proto_params_default(&n->def.params);
	n->def.n_relays = 1;
	snprintf(n->def.relays[0].name, sizeof(n->def.relays[0].name), "master1");
	if (cry_x25519_genkey(wgpriv, wg))
		return -1;
	memcpy(n->def.relays[0].wgkey, wg, 32);
	if (proto_endpoint_parse("203.0.113.1:51820", &n->def.relays[0].endpoint))
		return -1;
	if (proto_netdef_sign(&n->def, n->admin_seed))
		return -1;
	return proto_netdef_encode(&n->def, n->bytes, sizeof(n->bytes), &n->len);
}

/* A peer with a certificate of n's admin (or of other_admin if not NULL),
 * valid [nb, na), overlay host number host. */
SC_UNUSED static int rt_peer_make(struct rt_peer *p, const struct rt_net *n, const char *name,
				  uint8_t roles, uint32_t host, uint64_t nb, uint64_t na,
				  const uint8_t *other_admin, const char *network)
{
	struct proto_cert *c = calloc(1, sizeof(*c));
	uint8_t wgpriv[32];
	int r = -1;

	if (!c)
		return -1;
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	if (cry_ed25519_genkey(p->seed, p->pub) || cry_x25519_genkey(wgpriv, p->wg))
		goto out;
	snprintf(c->network, sizeof(c->network), "%s", network ? network : n->def.name);
	c->serial = host;
	snprintf(c->name, sizeof(c->name), "%s", name);
	memcpy(c->identity, p->pub, 32);
	memcpy(c->wgkey, p->wg, 32);
	c->roles = roles;
	c->not_before = nb;
	c->not_after = na;
	c->addr4[0] = 10;
	c->addr4[1] = 77;
	c->addr4[2] = (uint8_t)(host >> 8);
	c->addr4[3] = (uint8_t)host;
	memcpy(c->addr6, n->def.v6.addr, 16);
	c->addr6[14] = (uint8_t)(host >> 8);
	c->addr6[15] = (uint8_t)host;
	if (proto_cert_sign(c, other_admin ? other_admin : n->admin_seed))
		goto out;
	memcpy(p->fp, c->fingerprint, sizeof(p->fp));
	r = proto_cert_encode(c, p->cert, sizeof(p->cert), &p->cert_len);
out:
	free(c);
	return r;
}

/* Sign a request as p at time ts. */
SC_UNUSED static int rt_sign(const struct rt_peer *p, const char *network, const char *method,
			     const char *uri, const void *body, size_t len, uint64_t ts,
			     struct proto_sigreq_hdr *h)
{
	struct proto_sigreq_msg m = {
		.network = network,
		.method = method,
		.path = uri,
		.body = body,
		.body_len = len,
	};
	uint8_t nonce[PROTO_SIGREQ_NONCE_LEN];

	if (cry_random(nonce, sizeof(nonce)))
		return -1;
	return proto_sigreq_sign(h, p->seed, &m, ts, nonce);
}

/* The join body of p: its certificate in base64, a role, endpoints. */
SC_UNUSED static char *rt_join_body(const struct rt_peer *p, const char *role, const char *eps)
{
	size_t n = SC_B64_LEN(p->cert_len) + 256 + strlen(eps);
	char *b64 = malloc(SC_B64_LEN(p->cert_len) + 1), *out = malloc(n);

	if (!b64 || !out) {
		free(b64);
		free(out);
		return NULL;
	}
	sc_b64_encode(b64, p->cert, p->cert_len);
	snprintf(out, n, "{\"cert\":\"%s\",\"role\":\"%s\",\"endpoints\":[%s]}", b64, role, eps);
	free(b64);
	return out;
}

/* A signed kill switch for every peer (or only `name`) of n, by admin. */
SC_UNUSED static int rt_kill(const struct rt_net *n, const uint8_t admin_seed[32], uint64_t serial,
			     const char *name, uint8_t *out, size_t cap, size_t *len)
{
	struct proto_kill *k = calloc(1, sizeof(*k));
	int r = -1;

	if (!k)
		return -1;
	snprintf(k->network, sizeof(k->network), "%s", n->def.name);
	k->serial = serial;
	k->issued = n->def.issued;
	k->scope = name ? PROTO_KILL_LISTED : PROTO_KILL_ALL;
	if ((!name || proto_kill_add_name(k, name) == 0) && proto_kill_sign(k, admin_seed) == 0)
		r = proto_kill_encode(k, out, cap, len);
	free(k);
	return r;
}

/* A signed revocation list of n with one certificate fingerprint. */
SC_UNUSED static int rt_revoke(const struct rt_net *n, uint64_t serial, const uint8_t *fp,
			       uint8_t *out, size_t cap, size_t *len)
{
	struct proto_revoke *rl = NULL;
	int r = proto_revoke_new(&rl, n->def.name, serial, n->def.issued);

	if (!r && fp)
		r = proto_revoke_add(rl, PROTO_REVOKE_CERT, fp);
	if (!r)
		r = proto_revoke_sign(rl, n->admin_seed);
	if (!r)
		r = proto_revoke_encode(rl, out, cap, len);
	proto_revoke_free(rl);
	return r;
}

/* {"<key>":"<base64 of p[0,n)>"} (heap). */
SC_UNUSED static char *rt_b64_body(const char *key, const uint8_t *p, size_t n)
{
	size_t cap = SC_B64_LEN(n) + strlen(key) + 16;
	char *out = malloc(cap), *b64 = malloc(SC_B64_LEN(n) + 1);

	if (!out || !b64) {
		free(out);
		free(b64);
		return NULL;
	}
	sc_b64_encode(b64, p, n);
	snprintf(out, cap, "{\"%s\":\"%s\"}", key, b64);
	free(b64);
	return out;
}

#endif
