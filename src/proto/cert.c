// SPDX-License-Identifier: GPL-2.0-only
#include "proto/cert.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/compiler.h"
#include "proto/netdef.h"
#include "proto/revoke.h"

enum {
	CT_NETWORK = 0x01,
	CT_SERIAL = 0x02,
	CT_NAME = 0x03,
	CT_IDENTITY = 0x04,
	CT_WGKEY = 0x05,
	CT_ROLES = 0x06,
	CT_NOT_BEFORE = 0x07,
	CT_NOT_AFTER = 0x08,
	CT_ADDR4 = 0x09,
	CT_ADDR6 = 0x0a,
	CT_SUBNET = 0x0b,
};

#define REQ PROTO_F_REQUIRED
static const struct proto_field ct_fields[] = {
	{ CT_NETWORK, REQ, 1, PROTO_NET_NAME_MAX, 1 },
	{ CT_SERIAL, REQ, 8, 8, 1 },
	{ CT_NAME, REQ, 1, PROTO_PEER_NAME_MAX, 1 },
	{ CT_IDENTITY, REQ, PROTO_KEY_LEN, PROTO_KEY_LEN, 1 },
	{ CT_WGKEY, REQ, PROTO_KEY_LEN, PROTO_KEY_LEN, 1 },
	{ CT_ROLES, REQ, 1, 1, 1 },
	{ CT_NOT_BEFORE, REQ, 8, 8, 1 },
	{ CT_NOT_AFTER, REQ, 8, 8, 1 },
	{ CT_ADDR4, REQ, 4, 4, 1 },
	{ CT_ADDR6, REQ, 16, 16, 1 },
	{ CT_SUBNET, PROTO_F_REPEAT | PROTO_F_SET, 5, 17, PROTO_CERT_MAX_SUBNETS },
};

#define CERT_MAX_LEN                                                                            \
	(PROTO_HDR_LEN + 3 + PROTO_NET_NAME_MAX + 3 * (3 + 8) + 3 + PROTO_PEER_NAME_MAX +       \
	 2 * (3 + PROTO_KEY_LEN) + 3 + 1 + 3 + 4 + 3 + 16 + PROTO_CERT_MAX_SUBNETS * (3 + 17) + \
	 PROTO_SIG_FIELD)
_Static_assert(CERT_MAX_LEN <= PROTO_RECORD_MAX, "cert fits PROTO_RECORD_MAX");

static const struct proto_schema ct_schema = {
	PROTO_T_CERT, PROTO_CERT_LABEL, ct_fields, SC_ARRAY_SIZE(ct_fields), CERT_MAX_LEN,
};

/* A subnet as encoded: address bytes, then the prefix length. */
static size_t subnet_bytes(uint8_t out[17], const struct proto_prefix *p)
{
	size_t n = proto_family_len(p->family);

	memcpy(out, p->addr, n);
	out[n] = p->len;
	return n + 1;
}

static int subnet_cmp(const void *a, const void *b)
{
	uint8_t x[17], y[17];
	size_t xn = subnet_bytes(x, a), yn = subnet_bytes(y, b);

	return proto_set_cmp(x, xn, y, yn);
}

static int check(const struct proto_cert *c)
{
	size_t i;

	if (!proto_net_name_valid(c->network, strnlen(c->network, sizeof(c->network))) ||
	    !proto_peer_name_valid(c->name, strnlen(c->name, sizeof(c->name))) || !c->roles ||
	    (c->roles & ~PROTO_ROLES_ALL) || c->not_before >= c->not_after ||
	    c->n_subnets > PROTO_CERT_MAX_SUBNETS)
		return -EINVAL;
	for (i = 0; i < c->n_subnets; i++) {
		if (proto_prefix_check(&c->subnets[i]))
			return -EINVAL;
		if (i && subnet_cmp(&c->subnets[i - 1], &c->subnets[i]) >= 0)
			return -EINVAL; /* unsorted or duplicate */
	}
	return 0;
}

static int write_body(const struct proto_cert *c, uint8_t *buf, size_t cap, struct proto_w *w)
{
	uint8_t b[17];
	size_t i;

	proto_w_start(w, buf, cap, PROTO_T_CERT);
	proto_w_bytes(w, CT_NETWORK, c->network, strlen(c->network));
	proto_w_u64(w, CT_SERIAL, c->serial);
	proto_w_bytes(w, CT_NAME, c->name, strlen(c->name));
	proto_w_bytes(w, CT_IDENTITY, c->identity, PROTO_KEY_LEN);
	proto_w_bytes(w, CT_WGKEY, c->wgkey, PROTO_KEY_LEN);
	proto_w_u8(w, CT_ROLES, c->roles);
	proto_w_u64(w, CT_NOT_BEFORE, c->not_before);
	proto_w_u64(w, CT_NOT_AFTER, c->not_after);
	proto_w_bytes(w, CT_ADDR4, c->addr4, 4);
	proto_w_bytes(w, CT_ADDR6, c->addr6, 16);
	for (i = 0; i < c->n_subnets; i++)
		proto_w_bytes(w, CT_SUBNET, b, subnet_bytes(b, &c->subnets[i]));
	return w->err;
}

int proto_cert_sign(struct proto_cert *c, const uint8_t admin_seed[32])
{
	uint8_t buf[PROTO_RECORD_MAX];
	struct proto_cert tmp = *c;
	struct proto_w w;
	int ret = -EINVAL;

	if (tmp.n_subnets <= PROTO_CERT_MAX_SUBNETS) {
		qsort(tmp.subnets, tmp.n_subnets, sizeof(tmp.subnets[0]), subnet_cmp);
		ret = check(&tmp);
	}
	if (!ret)
		ret = write_body(&tmp, buf, sizeof(buf), &w);
	if (!ret)
		ret = proto_rec_sign(&ct_schema, buf, w.len, admin_seed, tmp.signature);
	if (ret)
		return ret;
	proto_fingerprint(tmp.fingerprint, buf, w.len);
	*c = tmp;
	return 0;
}

int proto_cert_encode(const struct proto_cert *c, uint8_t *out, size_t cap, size_t *len)
{
	struct proto_w w;
	int ret = check(c);

	if (!ret)
		ret = write_body(c, out, cap, &w);
	return ret ?: proto_w_finish(&w, c->signature, len);
}

static int ct_field(void *ctx, uint8_t tag, const uint8_t *v, size_t n)
{
	struct proto_cert *c = ctx;
	struct proto_prefix *p;

	switch (tag) {
	case CT_NETWORK:
		if (!proto_net_name_valid((const char *)v, n))
			return PROTO_ERR_MALFORMED;
		memcpy(c->network, v, n);
		return 0;
	case CT_SERIAL:
		c->serial = proto_get_u64(v);
		return 0;
	case CT_NAME:
		if (!proto_peer_name_valid((const char *)v, n))
			return PROTO_ERR_MALFORMED;
		memcpy(c->name, v, n);
		return 0;
	case CT_IDENTITY:
		memcpy(c->identity, v, n);
		return 0;
	case CT_WGKEY:
		memcpy(c->wgkey, v, n);
		return 0;
	case CT_ROLES:
		c->roles = v[0];
		return 0;
	case CT_NOT_BEFORE:
		c->not_before = proto_get_u64(v);
		return 0;
	case CT_NOT_AFTER:
		c->not_after = proto_get_u64(v);
		return 0;
	case CT_ADDR4:
		memcpy(c->addr4, v, n);
		return 0;
	case CT_ADDR6:
		memcpy(c->addr6, v, n);
		return 0;
	default: /* CT_SUBNET */
		if (n != 5 && n != 17)
			return PROTO_ERR_MALFORMED;
		p = &c->subnets[c->n_subnets++];
		p->family = n == 5 ? 4 : 6;
		memcpy(p->addr, v, n - 1);
		p->len = v[n - 1];
		return proto_prefix_check(p) ? PROTO_ERR_MALFORMED : 0;
	}
}

int proto_cert_decode(struct proto_cert *out, const uint8_t *in, size_t len)
{
	struct proto_cert c;
	const uint8_t *sig;
	size_t body;
	int ret;

	memset(&c, 0, sizeof(c));
	ret = proto_rec_parse(&ct_schema, in, len, ct_field, &c, &body, &sig);
	if (!ret && check(&c))
		ret = PROTO_ERR_MALFORMED;
	if (ret)
		return ret;
	memcpy(c.signature, sig, PROTO_SIG_LEN);
	proto_fingerprint(c.fingerprint, in, body);
	*out = c;
	return 0;
}

/* An overlay address is a host of its prefix: inside it, and for IPv4 not
 * the network or broadcast address; for IPv6 not the all-zero host
 * (the subnet-router anycast address). */
static bool host_in(const struct proto_prefix *p, const uint8_t *addr)
{
	size_t n = proto_family_len(p->family), i;
	unsigned int host_bits = 8 * (unsigned int)n - p->len;
	bool zero = true, ones = true;

	if (!proto_prefix_contains(p, addr))
		return false;
	for (i = 0; i < 8 * n; i++) {
		unsigned int bit = (addr[i / 8] >> (7 - i % 8)) & 1;

		if (i < p->len)
			continue;
		zero = zero && !bit;
		ones = ones && bit;
	}
	return host_bits && !zero && (p->family == 6 || !ones);
}

int proto_cert_verify(const struct proto_cert *c, const struct proto_netdef *net,
		      const struct proto_revoke *rl, uint64_t now)
{
	uint8_t buf[PROTO_RECORD_MAX], fp[PROTO_FP_LEN];
	struct proto_w w;
	int ret;

	if (check(c))
		return PROTO_ERR_MALFORMED;
	if (strcmp(c->network, net->name) != 0)
		return PROTO_ERR_NETWORK;
	ret = write_body(c, buf, sizeof(buf), &w);
	if (!ret)
		ret = proto_rec_verify(&ct_schema, buf, w.len, net->admin, c->signature);
	if (ret)
		return ret;
	if (now < c->not_before)
		return PROTO_ERR_NOTYET;
	if (now >= c->not_after)
		return PROTO_ERR_EXPIRED;
	if (!host_in(&net->v4, c->addr4) || !host_in(&net->v6, c->addr6))
		return PROTO_ERR_ADDR;
	if (!rl)
		return 0;
	if (strcmp(proto_revoke_network(rl), net->name) != 0)
		return PROTO_ERR_NETWORK;
	/* The fingerprint is recomputed from the bytes just verified rather
	 * than taken from c, which the caller could have changed. */
	proto_fingerprint(fp, buf, w.len);
	if (proto_revoke_has(rl, PROTO_REVOKE_CERT, fp) ||
	    proto_revoke_has(rl, PROTO_REVOKE_IDENTITY, c->identity))
		return PROTO_ERR_REVOKED;
	return 0;
}

bool proto_cert_allows(const struct proto_cert *c, uint8_t roles)
{
	return roles && (c->roles & roles) == roles;
}

static const char *const role_names[] = { "edge", "relay", "master" };

int proto_roles_parse(const char *s, uint8_t *out)
{
	uint8_t roles = 0;
	size_t i;

	while (*s) {
		size_t n = strcspn(s, ",");
		uint8_t bit = 0;

		for (i = 0; i < SC_ARRAY_SIZE(role_names); i++)
			if (strlen(role_names[i]) == n && strncmp(s, role_names[i], n) == 0)
				bit = (uint8_t)(1u << i);
		if (!bit || (roles & bit))
			return -EINVAL;
		roles |= bit;
		s += n;
		if (*s == ',' && !*++s)
			return -EINVAL; /* trailing comma */
	}
	if (!roles)
		return -EINVAL;
	*out = roles;
	return 0;
}

void proto_roles_format(char out[18], uint8_t roles)
{
	size_t i, o = 0;

	out[0] = '\0';
	for (i = 0; i < SC_ARRAY_SIZE(role_names); i++) {
		if (!(roles & (1u << i)))
			continue;
		o += (size_t)snprintf(out + o, 18 - o, "%s%s", o ? "," : "", role_names[i]);
	}
}
