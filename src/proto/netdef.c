// SPDX-License-Identifier: GPL-2.0-only
#include "proto/netdef.h"

#include <string.h>

#include "common/compiler.h"
#include "crypto/x25519.h"

enum {
	ND_NAME = 0x01,
	ND_SERIAL = 0x02,
	ND_ISSUED = 0x03,
	ND_ADMIN = 0x04,
	ND_V4 = 0x05,
	ND_V6 = 0x06,
	ND_REGISTRY = 0x07,
	ND_RELAY = 0x08,
	ND_PARAM0 = 0x10, /* 0x10..0x17: struct proto_params in order */
};

/* name length, name, WireGuard key, address, port */
#define RELAY_MIN (1 + 1 + PROTO_KEY_LEN + 4 + 2)
#define RELAY_MAX (1 + PROTO_PEER_NAME_MAX + PROTO_KEY_LEN + 16 + 2)
#define N_PARAMS  PROTO_N_PARAMS

#define REQ PROTO_F_REQUIRED
static const struct proto_field nd_fields[] = {
	{ ND_NAME, REQ, 1, PROTO_NET_NAME_MAX, 1 },
	{ ND_SERIAL, REQ, 8, 8, 1 },
	{ ND_ISSUED, REQ, 8, 8, 1 },
	{ ND_ADMIN, REQ, PROTO_KEY_LEN, PROTO_KEY_LEN, 1 },
	{ ND_V4, REQ, 5, 5, 1 },
	{ ND_V6, REQ, 17, 17, 1 },
	{ ND_REGISTRY, REQ, 1, PROTO_URL_MAX, 1 },
	{ ND_RELAY, PROTO_F_REPEAT, RELAY_MIN, RELAY_MAX, PROTO_NETDEF_MAX_RELAYS },
	{ ND_PARAM0 + 0, REQ, 4, 4, 1 },
	{ ND_PARAM0 + 1, REQ, 4, 4, 1 },
	{ ND_PARAM0 + 2, REQ, 4, 4, 1 },
	{ ND_PARAM0 + 3, REQ, 4, 4, 1 },
	{ ND_PARAM0 + 4, REQ, 4, 4, 1 },
	{ ND_PARAM0 + 5, REQ, 4, 4, 1 },
	{ ND_PARAM0 + 6, REQ, 4, 4, 1 },
	{ ND_PARAM0 + 7, REQ, 4, 4, 1 },
};

#define NETDEF_MAX_LEN                                                                             \
	(PROTO_HDR_LEN + 3 + PROTO_NET_NAME_MAX + 2 * (3 + 8) + 3 + PROTO_KEY_LEN + 3 + 5 + 3 +    \
	 17 + 3 + PROTO_URL_MAX + PROTO_NETDEF_MAX_RELAYS * (3 + RELAY_MAX) + N_PARAMS * (3 + 4) + \
	 PROTO_SIG_FIELD)
_Static_assert(NETDEF_MAX_LEN <= PROTO_RECORD_MAX, "netdef fits PROTO_RECORD_MAX");
_Static_assert(sizeof(struct proto_params) == N_PARAMS * sizeof(uint32_t), "params are u32s");

static const struct proto_schema nd_schema = {
	PROTO_T_NETDEF, PROTO_NETDEF_LABEL, nd_fields, SC_ARRAY_SIZE(nd_fields), NETDEF_MAX_LEN,
};

const struct proto_param_info proto_params_info[N_PARAMS] = {
	{ "relay-grace", 0, 86400 },
	{ "report-freshness", 1, 86400 },
	{ "reach-bar", 1, 100 },
	{ "dampening", 0, 86400 },
	/* DESIGN.md section 12: PSK rotation no faster than every 120 s. */
	{ "psk-rotation", 120, 7 * 86400 },
	{ "kex-activation", 0, 3600 },
	/* The engine keeps 4 PSKs per peer (WG_PSK_RING_MAX); proto may not
	 * include wg, so the bound is repeated here. */
	{ "psk-versions", 1, 4 },
	{ "revert", 1, 3600 },
};

void proto_params_default(struct proto_params *p)
{
	p->relay_grace_s = 120;
	p->report_fresh_s = 150;
	p->reach_bar_pct = 90;
	p->dampening_s = 300;
	p->psk_rotation_s = 3600;
	p->kex_activation_s = 60;
	p->psk_versions = 3;
	p->revert_s = 15;
}

uint32_t proto_params_get(const struct proto_params *p, size_t i)
{
	uint32_t v;

	memcpy(&v, (const uint8_t *)p + i * sizeof(v), sizeof(v));
	return v;
}

static void param_set(struct proto_params *p, size_t i, uint32_t v)
{
	memcpy((uint8_t *)p + i * sizeof(v), &v, sizeof(v));
}

int proto_params_set(struct proto_params *p, const char *name, uint64_t v)
{
	size_t i;

	for (i = 0; i < N_PARAMS; i++) {
		if (strcmp(name, proto_params_info[i].name) != 0)
			continue;
		if (v < proto_params_info[i].min || v > proto_params_info[i].max)
			return -ERANGE;
		param_set(p, i, (uint32_t)v);
		return 0;
	}
	return -ENOENT;
}

int proto_params_check(const struct proto_params *p)
{
	size_t i;

	for (i = 0; i < N_PARAMS; i++) {
		uint32_t v = proto_params_get(p, i);

		if (v < proto_params_info[i].min || v > proto_params_info[i].max)
			return -EINVAL;
	}
	return 0;
}

bool proto_url_valid(const char *s, size_t n)
{
	size_t i, skip;

	if (n > PROTO_URL_MAX)
		return false;
	if (n > 7 && memcmp(s, "http://", 7) == 0) /* not secret */
		skip = 7;
	else if (n > 8 && memcmp(s, "https://", 8) == 0) /* not secret */
		skip = 8;
	else
		return false;
	for (i = skip; i < n; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return false;
	return true;
}

/* Overlay prefixes leave room for hosts: IPv4 /8../30, IPv6 /16../126. */
static bool overlay_ok(const struct proto_prefix *p, uint8_t family)
{
	uint8_t lo = family == 4 ? 8 : 16, hi = family == 4 ? 30 : 126;

	return p->family == family && !proto_prefix_check(p) && p->len >= lo && p->len <= hi;
}

static bool relay_ok(const struct proto_relay *r)
{
	size_t alen = proto_family_len(r->endpoint.family);

	return proto_peer_name_valid(r->name, strnlen(r->name, sizeof(r->name))) && alen &&
	       r->endpoint.port && (alen == 16 || !r->endpoint.addr[4]);
}

static int check(const struct proto_netdef *n)
{
	size_t i, j;

	if (!proto_net_name_valid(n->name, strnlen(n->name, sizeof(n->name))) ||
	    !overlay_ok(&n->v4, 4) || !overlay_ok(&n->v6, 6) ||
	    !proto_url_valid(n->registry, strnlen(n->registry, sizeof(n->registry))) ||
	    n->n_relays > PROTO_NETDEF_MAX_RELAYS || proto_params_check(&n->params))
		return -EINVAL;
	for (i = 0; i < n->n_relays; i++) {
		if (!relay_ok(&n->relays[i]))
			return -EINVAL;
		/* The list is ordered (preference), but a relay appears once. */
		for (j = 0; j < i; j++)
			if (strcmp(n->relays[i].name, n->relays[j].name) == 0 ||
			    memcmp(n->relays[i].wgkey, n->relays[j].wgkey, /* not secret */
				   PROTO_KEY_LEN) == 0)
				return -EINVAL;
	}
	return 0;
}

static void w_prefix(struct proto_w *w, uint8_t tag, const struct proto_prefix *p)
{
	uint8_t b[17];
	size_t n = proto_family_len(p->family);

	memcpy(b, p->addr, n);
	b[n] = p->len;
	proto_w_bytes(w, tag, b, n + 1);
}

static void w_relay(struct proto_w *w, const struct proto_relay *r)
{
	uint8_t b[RELAY_MAX];
	size_t nl = strlen(r->name), al = proto_family_len(r->endpoint.family), o = 0;

	b[o++] = (uint8_t)nl;
	memcpy(b + o, r->name, nl);
	o += nl;
	memcpy(b + o, r->wgkey, PROTO_KEY_LEN);
	o += PROTO_KEY_LEN;
	memcpy(b + o, r->endpoint.addr, al);
	o += al;
	b[o++] = (uint8_t)(r->endpoint.port >> 8);
	b[o++] = (uint8_t)r->endpoint.port;
	proto_w_bytes(w, ND_RELAY, b, o);
}

/* Everything before the signature. n has passed check(). */
static int write_body(const struct proto_netdef *n, uint8_t *buf, size_t cap, struct proto_w *w)
{
	size_t i;

	proto_w_start(w, buf, cap, PROTO_T_NETDEF);
	proto_w_bytes(w, ND_NAME, n->name, strlen(n->name));
	proto_w_u64(w, ND_SERIAL, n->serial);
	proto_w_u64(w, ND_ISSUED, n->issued);
	proto_w_bytes(w, ND_ADMIN, n->admin, PROTO_KEY_LEN);
	w_prefix(w, ND_V4, &n->v4);
	w_prefix(w, ND_V6, &n->v6);
	proto_w_bytes(w, ND_REGISTRY, n->registry, strlen(n->registry));
	for (i = 0; i < n->n_relays; i++)
		w_relay(w, &n->relays[i]);
	for (i = 0; i < N_PARAMS; i++)
		proto_w_u32(w, (uint8_t)(ND_PARAM0 + i), proto_params_get(&n->params, i));
	return w->err;
}

int proto_netdef_sign(struct proto_netdef *n, const uint8_t admin_seed[32])
{
	uint8_t buf[PROTO_RECORD_MAX];
	struct proto_netdef tmp = *n;
	struct proto_w w;
	int ret = cry_ed25519_pubkey(tmp.admin, admin_seed);

	if (!ret)
		ret = check(&tmp);
	if (!ret)
		ret = write_body(&tmp, buf, sizeof(buf), &w);
	if (!ret)
		ret = proto_rec_sign(&nd_schema, buf, w.len, admin_seed, tmp.signature);
	if (ret)
		return ret;
	proto_fingerprint(tmp.fingerprint, buf, w.len);
	*n = tmp;
	return 0;
}

int proto_netdef_encode(const struct proto_netdef *n, uint8_t *out, size_t cap, size_t *len)
{
	struct proto_w w;
	int ret = check(n);

	if (!ret)
		ret = write_body(n, out, cap, &w);
	return ret ?: proto_w_finish(&w, n->signature, len);
}

static int get_prefix(struct proto_prefix *p, uint8_t family, const uint8_t *v, size_t n)
{
	memset(p, 0, sizeof(*p));
	p->family = family;
	memcpy(p->addr, v, n - 1);
	p->len = v[n - 1];
	return overlay_ok(p, family) ? 0 : PROTO_ERR_MALFORMED;
}

static int get_relay(struct proto_relay *r, const uint8_t *v, size_t n)
{
	size_t nl = v[0], rest;

	memset(r, 0, sizeof(*r));
	if (nl > n - 1 || !proto_peer_name_valid((const char *)v + 1, nl))
		return PROTO_ERR_MALFORMED;
	rest = n - 1 - nl;
	if (rest != PROTO_KEY_LEN + 4 + 2 && rest != PROTO_KEY_LEN + 16 + 2)
		return PROTO_ERR_MALFORMED;
	memcpy(r->name, v + 1, nl);
	v += 1 + nl;
	memcpy(r->wgkey, v, PROTO_KEY_LEN);
	v += PROTO_KEY_LEN;
	r->endpoint.family = rest == PROTO_KEY_LEN + 6 ? 4 : 6;
	memcpy(r->endpoint.addr, v, rest - PROTO_KEY_LEN - 2);
	v += rest - PROTO_KEY_LEN - 2;
	r->endpoint.port = (uint16_t)(v[0] << 8 | v[1]);
	return r->endpoint.port ? 0 : PROTO_ERR_MALFORMED;
}

static int nd_field(void *ctx, uint8_t tag, const uint8_t *v, size_t n)
{
	struct proto_netdef *d = ctx;

	switch (tag) {
	case ND_NAME:
		if (!proto_net_name_valid((const char *)v, n))
			return PROTO_ERR_MALFORMED;
		memcpy(d->name, v, n);
		return 0;
	case ND_SERIAL:
		d->serial = proto_get_u64(v);
		return 0;
	case ND_ISSUED:
		d->issued = proto_get_u64(v);
		return 0;
	case ND_ADMIN:
		memcpy(d->admin, v, n);
		return 0;
	case ND_V4:
		return get_prefix(&d->v4, 4, v, n);
	case ND_V6:
		return get_prefix(&d->v6, 6, v, n);
	case ND_REGISTRY:
		if (!proto_url_valid((const char *)v, n))
			return PROTO_ERR_MALFORMED;
		memcpy(d->registry, v, n);
		return 0;
	case ND_RELAY:
		return get_relay(&d->relays[d->n_relays++], v, n);
	default:
		param_set(&d->params, tag - ND_PARAM0, proto_get_u32(v));
		return 0;
	}
}

int proto_netdef_decode(struct proto_netdef *out, const uint8_t *in, size_t len)
{
	struct proto_netdef d;
	const uint8_t *sig;
	size_t body;
	int ret;

	memset(&d, 0, sizeof(d));
	ret = proto_rec_parse(&nd_schema, in, len, nd_field, &d, &body, &sig);
	if (!ret && check(&d))
		ret = PROTO_ERR_MALFORMED;
	if (ret)
		return ret;
	memcpy(d.signature, sig, PROTO_SIG_LEN);
	proto_fingerprint(d.fingerprint, in, body);
	*out = d;
	return 0;
}

int proto_netdef_verify(const struct proto_netdef *n, const uint8_t *pinned_admin)
{
	uint8_t buf[PROTO_RECORD_MAX];
	struct proto_w w;
	int ret;

	if (pinned_admin && memcmp(n->admin, pinned_admin, PROTO_KEY_LEN) != 0) /* not secret */
		return PROTO_ERR_ADMIN;
	ret = check(n) ? PROTO_ERR_MALFORMED : write_body(n, buf, sizeof(buf), &w);
	return ret ?: proto_rec_verify(&nd_schema, buf, w.len, n->admin, n->signature);
}

int proto_netdef_replaces(const struct proto_netdef *cur, const struct proto_netdef *cand)
{
	if (strcmp(cur->name, cand->name) != 0)
		return PROTO_ERR_NETWORK;
	if (memcmp(cur->admin, cand->admin, PROTO_KEY_LEN) != 0) /* not secret: public keys */
		return PROTO_ERR_ADMIN;
	return cand->serial > cur->serial ? 0 : PROTO_ERR_OLD;
}
