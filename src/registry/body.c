// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/encode.h"
#include "proto/cert.h"
#include "registry/body.h"
#include "registry/json.h"

__attribute__((format(printf, 3, 4))) static int fail(struct reg_err *e, const char *code,
						      const char *fmt, ...)
{
	va_list ap;

	e->status = 400;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->why, sizeof(e->why), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int parse(const uint8_t *body, size_t len, json_t **out, struct reg_err *e)
{
	const char *code, *why;

	if (reg_json_parse(body, len, out, &code, &why) == 0)
		return 0;
	return fail(e, code, "%s", why);
}

/* Every key of obj must be one of the NULL-terminated list. */
static int only_keys(const json_t *obj, const char *const *allowed, struct reg_err *e)
{
	const char *key;
	json_t *v;
	size_t i;

	json_object_foreach((json_t *)obj, key, v)
	{
		for (i = 0; allowed[i]; i++) {
			if (strcmp(key, allowed[i]) == 0)
				break;
		}
		if (!allowed[i])
			return fail(e, REG_E_BAD_FIELD, "unknown field \"%.40s\"", key);
	}
	return 0;
}

/* A required string field of 1..max bytes. */
static int get_str(const json_t *obj, const char *key, size_t max, const char **s, size_t *n,
		   struct reg_err *e)
{
	json_t *v = json_object_get(obj, key);

	if (!v)
		return fail(e, REG_E_BAD_FIELD, "missing field \"%s\"", key);
	if (!json_is_string(v))
		return fail(e, REG_E_BAD_FIELD, "field \"%s\" must be a string", key);
	*n = json_string_length(v);
	if (*n == 0 || *n > max)
		return fail(e, REG_E_BAD_FIELD, "field \"%s\" has a bad length", key);
	*s = json_string_value(v);
	return 0;
}

/* An optional integer field in [min, max]; *out keeps its value if absent
 * or null. */
static int get_uint(const json_t *obj, const char *key, uint64_t min, uint64_t max, uint64_t *out,
		    struct reg_err *e)
{
	json_t *v = json_object_get(obj, key);
	json_int_t x;

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v))
		return fail(e, REG_E_BAD_FIELD, "field \"%s\" must be an integer", key);
	x = json_integer_value(v);
	if (x < 0 || (uint64_t)x < min || (uint64_t)x > max)
		return fail(e, REG_E_BAD_FIELD, "field \"%s\" out of range", key);
	*out = (uint64_t)x;
	return 0;
}

static int get_bool(const json_t *obj, const char *key, uint8_t *out, struct reg_err *e)
{
	json_t *v = json_object_get(obj, key);

	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return fail(e, REG_E_BAD_FIELD, "field \"%s\" must be true or false", key);
	*out = json_is_true(v) ? 1 : 0;
	return 0;
}

static int name_ok(const char *s, size_t n)
{
	return n <= REG_NAME_MAX && proto_peer_name_valid(s, n);
}

/* Padded base64 of 1..max bytes into out (all-or-nothing). */
static int b64_field(const json_t *obj, const char *key, uint8_t *out, size_t max, size_t *outlen,
		     struct reg_err *e)
{
	const char *s;
	size_t n, dec;

	if (get_str(obj, key, SC_B64_LEN(max), &s, &n, e))
		return -EINVAL;
	if (n % 4)
		return fail(e, REG_E_BAD_FIELD, "field \"%s\" is not padded base64", key);
	dec = n / 4 * 3 - (s[n - 1] == '=') - (s[n - 2] == '=');
	if (dec == 0 || dec > max || sc_b64_decode(out, dec, s, n))
		return fail(e, REG_E_BAD_FIELD, "field \"%s\" is not canonical base64", key);
	*outlen = dec;
	return 0;
}

static int get_endpoints(const json_t *obj, struct reg_endpoints *out, struct reg_err *e)
{
	json_t *arr = json_object_get(obj, "endpoints"), *v;
	struct reg_endpoints eps = { .n = 0 };
	size_t i, j;

	if (!arr)
		return fail(e, REG_E_BAD_FIELD, "missing field \"endpoints\"");
	if (!json_is_array(arr) || json_array_size(arr) > REG_ENDPOINTS_MAX)
		return fail(e, REG_E_BAD_FIELD, "\"endpoints\" must be an array of at most %d",
			    REG_ENDPOINTS_MAX);
	json_array_foreach(arr, i, v)
	{
		struct proto_endpoint *ep = &eps.ep[eps.n];

		if (!json_is_string(v) || json_string_length(v) >= REG_ENDPOINT_STRLEN ||
		    strlen(json_string_value(v)) != json_string_length(v) ||
		    proto_endpoint_parse(json_string_value(v), ep))
			return fail(e, REG_E_BAD_FIELD, "endpoint %zu is not IP:port", i);
		for (j = 0; j < eps.n; j++) {
			if (eps.ep[j].family == ep->family && eps.ep[j].port == ep->port &&
			    memcmp(eps.ep[j].addr, ep->addr, 16) == 0) /* not secret */
				return fail(e, REG_E_BAD_FIELD, "endpoint %zu is repeated", i);
		}
		eps.n++;
	}
	*out = eps;
	return 0;
}

static int parse_role(const char *s, uint8_t *out)
{
	static const struct {
		const char *name;
		uint8_t bit;
	} roles[] = {
		{ "edge", PROTO_ROLE_EDGE },
		{ "relay", PROTO_ROLE_RELAY },
		{ "master", PROTO_ROLE_MASTER },
	};
	size_t i;

	for (i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
		if (strcmp(s, roles[i].name) == 0) {
			*out = roles[i].bit;
			return 0;
		}
	}
	return -EINVAL;
}

static int join_fields(const json_t *o, struct reg_join *j, struct reg_err *e)
{
	static const char *const keys[] = { "cert", "role", "endpoints", NULL };
	const char *role;
	size_t n;

	if (only_keys(o, keys, e) || b64_field(o, "cert", j->cert, REG_CERT_MAX, &j->cert_len, e) ||
	    get_str(o, "role", 8, &role, &n, e) || get_endpoints(o, &j->eps, e))
		return -EINVAL;
	if (parse_role(role, &j->role))
		return fail(e, REG_E_BAD_FIELD, "\"role\" must be edge, relay or master");
	return 0;
}

int reg_body_join(const uint8_t *body, size_t len, struct reg_join *out, struct reg_err *e)
{
	struct reg_join *j;
	json_t *o;
	int r;

	if (parse(body, len, &o, e))
		return -EINVAL;
	j = calloc(1, sizeof(*j));
	r = j ? join_fields(o, j, e) : -ENOMEM;
	if (!r)
		*out = *j;
	free(j);
	json_decref(o);
	return r;
}

int reg_body_update(const uint8_t *body, size_t len, struct reg_update *out, struct reg_err *e)
{
	static const char *const keys[] = { "endpoints", NULL };
	struct reg_update u;
	json_t *o;
	int r;

	if (parse(body, len, &o, e))
		return -EINVAL;
	r = only_keys(o, keys, e);
	if (!r)
		r = get_endpoints(o, &u.eps, e);
	if (!r)
		*out = u;
	json_decref(o);
	return r;
}

int reg_body_leave(const uint8_t *body, size_t len, struct reg_err *e)
{
	static const char *const keys[] = { NULL };
	json_t *o;
	int r;

	if (len == 0)
		return 0;
	if (parse(body, len, &o, e))
		return -EINVAL;
	r = only_keys(o, keys, e);
	json_decref(o);
	return r;
}

static int reach_entry(const json_t *v, struct reg_reach *r, struct reg_err *e, size_t i)
{
	static const char *const keys[] = { "peer",	 "reach",    "latency_us",
					    "handshake", "pq",	     "kex_version",
					    "classical", "pq_state", NULL };
	uint64_t lat = REG_LATENCY_NONE, kv = 0, cl = (uint64_t)-1, pqs = (uint64_t)-1;
	json_t *reach;
	const char *s;
	size_t n;

	if (!json_is_object(v))
		return fail(e, REG_E_BAD_FIELD, "peers[%zu] must be an object", i);
	if (only_keys(v, keys, e) || get_str(v, "peer", REG_NAME_MAX, &s, &n, e))
		return -EINVAL;
	if (!name_ok(s, n))
		return fail(e, REG_E_BAD_FIELD, "peers[%zu].peer is not a peer name", i);
	memset(r, 0, sizeof(*r));
	memcpy(r->peer, s, n);
	reach = json_object_get(v, "reach");
	if (!reach)
		return fail(e, REG_E_BAD_FIELD, "peers[%zu].reach is missing", i);
	if (json_is_null(reach)) {
		r->reach = REG_REACH_NONE;
	} else if (json_is_integer(reach) && json_integer_value(reach) >= 0 &&
		   json_integer_value(reach) <= 2) {
		r->reach = (int8_t)json_integer_value(reach);
	} else {
		return fail(e, REG_E_BAD_FIELD, "peers[%zu].reach must be 0, 1, 2 or null", i);
	}
	if (get_uint(v, "latency_us", 0, REG_LATENCY_US_MAX, &lat, e) ||
	    get_uint(v, "kex_version", 0, UINT32_MAX, &kv, e) ||
	    get_uint(v, "classical", 0, REG_CLASSICAL_MAX, &cl, e) ||
	    get_uint(v, "pq_state", 0, REG_PQ_STATE_MAX, &pqs, e) ||
	    get_bool(v, "handshake", &r->handshake, e) || get_bool(v, "pq", &r->pq, e))
		return -EINVAL;
	r->latency_us = (uint32_t)lat;
	r->kex_version = (uint32_t)kv;
	/* absent (still all ones) is REG_KEX_STATE_NONE */
	r->classical = cl <= REG_CLASSICAL_MAX ? (int8_t)cl : REG_KEX_STATE_NONE;
	r->pq_state = pqs <= REG_PQ_STATE_MAX ? (int8_t)pqs : REG_KEX_STATE_NONE;
	return 0;
}

static int reach_cmp(const void *a, const void *b)
{
	return strcmp(((const struct reg_reach *)a)->peer, ((const struct reg_reach *)b)->peer);
}

static int report_fields(const json_t *o, struct reg_report *rep, struct reg_err *e)
{
	static const char *const keys[] = { "endpoints", "peers", NULL };
	json_t *arr = json_object_get(o, "peers"), *v;
	size_t i;

	if (only_keys(o, keys, e))
		return -EINVAL;
	if (json_object_get(o, "endpoints")) {
		if (get_endpoints(o, &rep->eps, e))
			return -EINVAL;
		rep->has_eps = 1;
	}
	if (!arr || !json_is_array(arr))
		return fail(e, REG_E_BAD_FIELD, "\"peers\" must be an array");
	if (json_array_size(arr) > REG_REPORT_ENTRIES_MAX)
		return fail(e, REG_E_BAD_FIELD, "\"peers\" has more than %d entries",
			    REG_REPORT_ENTRIES_MAX);
	rep->e = calloc(json_array_size(arr) + 1, sizeof(*rep->e));
	if (!rep->e)
		return -ENOMEM;
	json_array_foreach(arr, i, v)
	{
		if (reach_entry(v, &rep->e[i], e, i))
			return -EINVAL;
		rep->n++;
	}
	qsort(rep->e, rep->n, sizeof(*rep->e), reach_cmp);
	for (i = 1; i < rep->n; i++) {
		if (strcmp(rep->e[i - 1].peer, rep->e[i].peer) == 0)
			return fail(e, REG_E_BAD_FIELD, "peer \"%s\" is reported twice",
				    rep->e[i].peer);
	}
	return 0;
}

int reg_body_report(const uint8_t *body, size_t len, struct reg_report *out, struct reg_err *e)
{
	struct reg_report rep;
	json_t *o;
	int r;

	memset(out, 0, sizeof(*out));
	if (parse(body, len, &o, e))
		return -EINVAL;
	memset(&rep, 0, sizeof(rep));
	r = report_fields(o, &rep, e);
	json_decref(o);
	if (r) {
		reg_report_clear(&rep);
		return r;
	}
	*out = rep;
	return 0;
}

void reg_report_clear(struct reg_report *r)
{
	free(r->e);
	memset(r, 0, sizeof(*r));
}

const struct reg_reach *reg_report_find(const struct reg_report *r, const char *peer)
{
	struct reg_reach key;

	if (!r->n || strlen(peer) > REG_NAME_MAX)
		return NULL;
	memset(&key, 0, sizeof(key));
	memcpy(key.peer, peer, strlen(peer));
	return bsearch(&key, r->e, r->n, sizeof(*r->e), reach_cmp);
}

static int kex_fields(const json_t *o, struct reg_kex *k, struct reg_err *e)
{
	static const char *const keys[] = { "to", "msg", "ttl", NULL };
	uint64_t ttl = REG_KEX_TTL_DEFAULT;
	const char *s;
	size_t n;

	if (only_keys(o, keys, e) || get_str(o, "to", REG_NAME_MAX, &s, &n, e))
		return -EINVAL;
	if (!name_ok(s, n))
		return fail(e, REG_E_BAD_FIELD, "\"to\" is not a peer name");
	memcpy(k->to, s, n);
	k->to[n] = '\0';
	if (b64_field(o, "msg", k->msg, REG_KEX_MSG_MAX, &k->len, e) ||
	    get_uint(o, "ttl", 1, REG_KEX_TTL_MAX, &ttl, e))
		return -EINVAL;
	k->ttl = (uint32_t)ttl;
	return 0;
}

int reg_body_kex(const uint8_t *body, size_t len, struct reg_kex *out, struct reg_err *e)
{
	struct reg_kex *k;
	json_t *o;
	int r;

	if (parse(body, len, &o, e))
		return -EINVAL;
	k = calloc(1, sizeof(*k));
	r = k ? kex_fields(o, k, e) : -ENOMEM;
	if (!r)
		*out = *k;
	free(k);
	json_decref(o);
	return r;
}

static int record_body(const uint8_t *body, size_t len, const char *key, size_t max,
		       struct reg_record *out, struct reg_err *e)
{
	const char *const keys[] = { key, NULL };
	uint8_t *rec = NULL;
	size_t n = 0;
	json_t *o;
	int r;

	if (parse(body, len, &o, e))
		return -EINVAL;
	rec = malloc(max);
	r = rec ? only_keys(o, keys, e) : -ENOMEM;
	if (!r)
		r = b64_field(o, key, rec, max, &n, e);
	json_decref(o);
	if (r) {
		free(rec);
		return r;
	}
	out->rec = rec;
	out->len = n;
	return 0;
}

int reg_body_kill(const uint8_t *body, size_t len, struct reg_record *out, struct reg_err *e)
{
	return record_body(body, len, "kill", REG_KILL_MAX, out, e);
}

int reg_body_revoke(const uint8_t *body, size_t len, struct reg_record *out, struct reg_err *e)
{
	return record_body(body, len, "revocations", REG_REVOKE_MAX, out, e);
}

void reg_record_clear(struct reg_record *r)
{
	free(r->rec);
	r->rec = NULL;
	r->len = 0;
}
