// SPDX-License-Identifier: GPL-2.0-only
/*
 * Peer documents, verified by the node. The order of checks is the order of
 * trust: the certificate (admin-signed) first, then the record (signed by
 * the identity the certificate names), then the signed body, and only then
 * the summary, which may only agree with what was verified.
 */
#include "agent/peer.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "common/encode.h"
#include "common/parse.h"
#include "crypto/keys.h"
#include "proto/netdef.h"
#include "proto/revoke.h"
#include "proto/sigreq.h"
#include "common/jsondepth.h"

__attribute__((format(printf, 3, 4))) static void set_why(char *why, size_t whylen, const char *fmt,
							  ...)
{
	va_list ap;

	if (!why || !whylen)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

int agent_json_load(const char *s, size_t len, size_t cap, json_t **out)
{
	json_t *v;

	if (len > cap)
		return -EMSGSIZE;
	if (sc_json_depth(s, len, AGENT_JSON_DEPTH_MAX) > AGENT_JSON_DEPTH_MAX)
		return -EINVAL;
	/* duplicate keys refused: two parsers must never read two values */
	v = json_loadb(s, len, JSON_REJECT_DUPLICATES, NULL);
	if (!v)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Padded base64 of a variable-length value of at most cap bytes. */
static int b64_var(const char *s, size_t n, uint8_t *out, size_t cap, size_t *outlen)
{
	size_t len;

	if (n == 0 || n % 4 || n / 4 * 3 > cap + 2)
		return -EINVAL;
	len = n / 4 * 3 - (s[n - 1] == '=') - (s[n - 2] == '=');
	if (len > cap || sc_b64_decode(out, len, s, n))
		return -EINVAL;
	*outlen = len;
	return 0;
}

static const char *jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static int role_parse(const char *s, uint8_t *role)
{
	if (!s)
		return -EINVAL;
	if (!strcmp(s, "edge"))
		*role = PROTO_ROLE_EDGE;
	else if (!strcmp(s, "relay"))
		*role = PROTO_ROLE_RELAY;
	else if (!strcmp(s, "master"))
		*role = PROTO_ROLE_MASTER;
	else
		return -EINVAL;
	return 0;
}

static bool ep_equal(const struct proto_endpoint *a, const struct proto_endpoint *b)
{
	return a->family == b->family && a->port == b->port &&
	       memcmp(a->addr, b->addr, proto_family_len(a->family)) == 0; /* not secret */
}

/* A JSON array of distinct "IP:port" strings, at most AGENT_MAX_ENDPOINTS. */
static int endpoints_parse(const json_t *a, struct proto_endpoint *eps, size_t *n)
{
	size_t i, j;
	json_t *v;

	if (!json_is_array(a) || json_array_size(a) > AGENT_MAX_ENDPOINTS)
		return -EINVAL;
	json_array_foreach(a, i, v)
	{
		if (!json_is_string(v) || proto_endpoint_parse(json_string_value(v), &eps[i]))
			return -EINVAL;
		for (j = 0; j < i; j++)
			if (ep_equal(&eps[i], &eps[j]))
				return -EINVAL;
	}
	*n = json_array_size(a);
	return 0;
}

/* The certificate from the document, decoded and verified. */
static int cert_check(const json_t *o, const struct proto_netdef *net,
		      const struct proto_revoke *rl, uint64_t now, struct proto_cert *c,
		      uint8_t *raw, size_t *raw_len, char *why, size_t whylen)
{
	const json_t *v = json_object_get(o, "cert");
	int err;

	if (!json_is_string(v) ||
	    b64_var(json_string_value(v), json_string_length(v), raw, PROTO_RECORD_MAX, raw_len)) {
		set_why(why, whylen, "no certificate, or not base64");
		return -EINVAL;
	}
	err = proto_cert_decode(c, raw, *raw_len);
	if (!err)
		err = proto_cert_verify(c, net, rl, now);
	if (err)
		set_why(why, whylen, "certificate: %s", proto_strerror(err));
	return err;
}

/* The record: a POST that published endpoints, signed by the certificate's
 * identity. Its age does not matter (it is not a fresh request), so the
 * signature window is unbounded. *body points into rec. */
static int record_check(const json_t *rec, const struct proto_netdef *net,
			const struct proto_cert *c, const char **uri, const char **body,
			uint64_t *signed_at, char *why, size_t whylen)
{
	struct proto_sigreq_in in = {
		.key = jstr(rec, "key"),
		.timestamp = jstr(rec, "timestamp"),
		.nonce = jstr(rec, "nonce"),
		.signature = jstr(rec, "signature"),
	};
	struct proto_sigreq_msg m = {
		.network = net->name,
		.method = jstr(rec, "method"),
		.path = jstr(rec, "uri"),
		.body = jstr(rec, "body"),
	};
	uint8_t signer[PROTO_KEY_LEN];
	int err;

	if (!json_is_object(rec) || !m.method || !m.path || !m.body || strcmp(m.method, "POST") ||
	    (strcmp(m.path, "/v1/join") && strcmp(m.path, "/v1/update") &&
	     strcmp(m.path, "/v1/reports"))) {
		set_why(why, whylen, "no record, or not a join, update or report");
		return -EINVAL;
	}
	m.body_len = json_string_length(json_object_get(rec, "body"));
	err = proto_sigreq_verify(&in, &m, 0, UINT64_MAX, signer, NULL);
	if (err) {
		set_why(why, whylen, "record: %s", proto_strerror(err));
		return err;
	}
	if (memcmp(signer, c->identity, PROTO_KEY_LEN) != 0) { /* not secret: public keys */
		set_why(why, whylen, "record signed by another identity than the certificate's");
		return -EPERM;
	}
	if (sc_parse_u64(in.timestamp, 0, UINT64_MAX, signed_at))
		return -EINVAL;
	*uri = m.path;
	*body = m.body;
	return 0;
}

/* What the signed body says: endpoints, and for a join its certificate
 * (which must be the document's) and role. */
static int body_check(const char *uri, const char *body, const uint8_t *cert, size_t cert_len,
		      struct agent_peer *p, char *why, size_t whylen)
{
	uint8_t *raw = NULL;
	size_t raw_len = 0;
	json_t *o = NULL, *v;
	int err = agent_json_load(body, strlen(body), AGENT_DOC_MAX, &o);

	if (err || !json_is_object(o) ||
	    endpoints_parse(json_object_get(o, "endpoints"), p->endpoints, &p->n_endpoints)) {
		set_why(why, whylen, "signed body is malformed or has no valid endpoints");
		err = -EINVAL;
		goto out;
	}
	p->role_signed = !strcmp(uri, "/v1/join");
	if (!p->role_signed)
		goto out;
	raw = malloc(PROTO_RECORD_MAX);
	v = json_object_get(o, "cert");
	if (!raw) {
		err = -ENOMEM;
	} else if (role_parse(jstr(o, "role"), &p->role) || !json_is_string(v) ||
		   b64_var(json_string_value(v), json_string_length(v), raw, PROTO_RECORD_MAX,
			   &raw_len)) {
		set_why(why, whylen, "signed join body without a valid role or certificate");
		err = -EINVAL;
	} else if (raw_len != cert_len || memcmp(raw, cert, cert_len) != 0) { /* not secret */
		set_why(why, whylen, "signed join body carries another certificate");
		err = -EBADMSG;
	}
out:
	free(raw);
	json_decref(o);
	return err;
}

/* A summary string field: absent, or equal to what was verified. */
static bool sum_ok(const json_t *o, const char *key, const char *want)
{
	const json_t *v = json_object_get(o, key);

	return !v || (json_is_string(v) && !strcmp(json_string_value(v), want));
}

static bool sum_subnets_ok(const json_t *o, const struct proto_cert *c)
{
	char pfx[PROTO_PREFIX_STRLEN];
	const json_t *a = json_object_get(o, "subnets"), *v;
	size_t i;

	if (!a)
		return true;
	if (!json_is_array(a) || json_array_size(a) != c->n_subnets)
		return false;
	json_array_foreach(a, i, v)
	{
		proto_prefix_format(pfx, &c->subnets[i]);
		if (!json_is_string(v) || strcmp(json_string_value(v), pfx))
			return false;
	}
	return true;
}

/* The same set of endpoints as the signed body (both free of repeats). */
static bool sum_endpoints_ok(const json_t *o, const struct agent_peer *p)
{
	struct proto_endpoint eps[AGENT_MAX_ENDPOINTS];
	const json_t *a = json_object_get(o, "endpoints");
	size_t n = 0, i, j;

	if (!a)
		return true;
	if (endpoints_parse(a, eps, &n) || n != p->n_endpoints)
		return false;
	for (i = 0; i < n; i++) {
		for (j = 0; j < n && !ep_equal(&eps[i], &p->endpoints[j]); j++)
			;
		if (j == n)
			return false;
	}
	return true;
}

/* Every summary field the registry writes must agree with the certificate
 * and the signed body. Returns the first field that does not, or NULL. */
static const char *summary_check(const json_t *o, const struct agent_peer *p)
{
	const struct proto_cert *c = &p->cert;
	char key[CRY_KEY_B64_LEN + 1], addr[PROTO_ADDR_STRLEN], roles[18];
	const json_t *na = json_object_get(o, "not_after");
	uint8_t role = 0;

	if (!sum_ok(o, "name", c->name) || !json_object_get(o, "name"))
		return "name";
	if (role_parse(jstr(o, "role"), &role) || (p->role_signed && role != p->role))
		return "role";
	cry_key_to_b64(key, c->identity);
	if (!sum_ok(o, "identity", key))
		return "identity";
	cry_key_to_b64(key, c->wgkey);
	if (!sum_ok(o, "wgkey", key))
		return "wgkey";
	proto_roles_format(roles, c->roles);
	if (!sum_ok(o, "roles", roles))
		return "roles";
	proto_addr_format(addr, 4, c->addr4);
	if (!sum_ok(o, "addr4", addr))
		return "addr4";
	proto_addr_format(addr, 6, c->addr6);
	if (!sum_ok(o, "addr6", addr))
		return "addr6";
	if (!sum_subnets_ok(o, c))
		return "subnets";
	if (na && (!json_is_integer(na) || (uint64_t)json_integer_value(na) != c->not_after))
		return "not_after";
	if (!sum_endpoints_ok(o, p))
		return "endpoints";
	return NULL;
}

/* The registry's own word: tier and observed address (well formed or absent). */
static int unsigned_fields(const json_t *o, struct agent_peer *p)
{
	const json_t *t = json_object_get(o, "tier"), *ip = json_object_get(o, "observed_ip");
	const char *s;

	p->tier = AGENT_TIER_NONE;
	if (t) {
		s = json_string_value(t);
		if (s && !strcmp(s, "relay"))
			p->tier = AGENT_TIER_RELAY;
		else if (s && !strcmp(s, "pipe"))
			p->tier = AGENT_TIER_PIPE;
		else if (!s || strcmp(s, "none"))
			return -EINVAL;
	}
	p->observed_family = 0;
	if (ip) {
		s = json_string_value(ip);
		if (s && proto_addr_parse(s, 4, p->observed_ip) == 0)
			p->observed_family = 4;
		else if (s && proto_addr_parse(s, 6, p->observed_ip) == 0)
			p->observed_family = 6;
		else
			return -EINVAL;
	}
	return 0;
}

/* Everything but the document text. */
static int verify(const json_t *o, const struct proto_netdef *net, const struct proto_revoke *rl,
		  uint64_t now, struct agent_peer *p, char *why, size_t whylen)
{
	const char *uri = NULL, *body = NULL, *bad;
	uint8_t *raw = malloc(PROTO_RECORD_MAX);
	size_t raw_len = 0;
	int err;

	if (!raw)
		return -ENOMEM;
	if (!json_is_object(o)) {
		set_why(why, whylen, "not a JSON object");
		err = -EINVAL;
		goto out;
	}
	err = cert_check(o, net, rl, now, &p->cert, raw, &raw_len, why, whylen);
	if (!err)
		err = record_check(json_object_get(o, "record"), net, &p->cert, &uri, &body,
				   &p->signed_at, why, whylen);
	if (!err)
		err = body_check(uri, body, raw, raw_len, p, why, whylen);
	if (err)
		goto out;
	/* an update or a report does not name the role: the summary does */
	if (!p->role_signed && role_parse(jstr(o, "role"), &p->role)) {
		set_why(why, whylen, "no valid role");
		err = -EINVAL;
		goto out;
	}
	if (!proto_cert_allows(&p->cert, p->role)) {
		set_why(why, whylen, "role not allowed by the certificate");
		err = -EPERM;
		goto out;
	}
	bad = summary_check(o, p);
	if (bad) {
		set_why(why, whylen, "summary field %s contradicts the signed document", bad);
		err = -EBADMSG;
		goto out;
	}
	err = unsigned_fields(o, p);
	if (err)
		set_why(why, whylen, "malformed tier or observed_ip");
	memcpy(p->name, p->cert.name, sizeof(p->name));
out:
	free(raw);
	return err;
}

int agent_peer_from_json(const json_t *o, const struct proto_netdef *net,
			 const struct proto_revoke *rl, uint64_t now, struct agent_peer *out,
			 char *why, size_t whylen)
{
	struct agent_peer *p = calloc(1, sizeof(*p));
	int err;

	if (!p)
		return -ENOMEM;
	err = verify(o, net, rl, now, p, why, whylen);
	if (!err) {
		p->doc = json_dumps(o, JSON_COMPACT);
		p->doc_len = p->doc ? strlen(p->doc) : 0;
		err = !p->doc ? -ENOMEM : p->doc_len > AGENT_DOC_MAX ? -EMSGSIZE : 0;
	}
	if (!err)
		*out = *p;
	else
		free(p->doc);
	free(p);
	return err;
}

int agent_peer_from_doc(const char *json, size_t len, const struct proto_netdef *net,
			const struct proto_revoke *rl, uint64_t now, struct agent_peer *out,
			char *why, size_t whylen)
{
	struct agent_peer *p;
	json_t *o = NULL;
	int err = agent_json_load(json, len, AGENT_DOC_MAX, &o);

	if (err) {
		set_why(why, whylen, err == -EMSGSIZE ? "document too large" : "malformed JSON");
		return err;
	}
	p = calloc(1, sizeof(*p));
	err = p ? verify(o, net, rl, now, p, why, whylen) : -ENOMEM;
	json_decref(o);
	if (!err) {
		p->doc = malloc(len + 1);
		err = p->doc ? 0 : -ENOMEM;
	}
	if (!err) {
		memcpy(p->doc, json, len);
		p->doc[len] = '\0';
		p->doc_len = len;
		*out = *p;
	}
	free(p);
	return err;
}

static int peer_cmp(const void *a, const void *b)
{
	const struct agent_peer *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	/* the newest record of a name first */
	return x->signed_at > y->signed_at ? -1 : x->signed_at < y->signed_at;
}

size_t agent_peers_dedup(struct agent_peer *peers, size_t n, agent_refuse_fn fn, void *ctx)
{
	size_t i, kept = 0;

	if (n > 1)
		qsort(peers, n, sizeof(*peers), peer_cmp);
	for (i = 0; i < n; i++) {
		if (kept && !strcmp(peers[kept - 1].name, peers[i].name)) {
			if (fn)
				fn(ctx, peers[i].name, -EEXIST, "the name is listed twice");
			agent_peer_clear(&peers[i]);
			continue;
		}
		if (kept != i) {
			peers[kept] = peers[i];
			memset(&peers[i], 0, sizeof(peers[i]));
		}
		kept++;
	}
	return kept;
}

void agent_peer_clear(struct agent_peer *p)
{
	if (!p)
		return;
	free(p->doc);
	memset(p, 0, sizeof(*p));
}
