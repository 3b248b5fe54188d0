// SPDX-License-Identifier: GPL-2.0-only
/*
 * The registry core: routing, replies, authentication helpers, the request
 * record, housekeeping. Handlers live in peers.c, mailbox.c, admin.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/compiler.h"
#include "common/encode.h"
#include "common/parse.h"
#include "registry/core.h"
#include "registry/limits.h"

struct route {
	const char *method;
	const char *path;
	enum reg_route id;
	int (*fn)(struct reg_ctx *c);
	size_t body_max;
};

static const struct route routes[] = {
	{ "GET", "/v1/network", R_NETWORK, reg_h_network, 0 },
	{ "POST", "/v1/join", R_JOIN, reg_h_join, REG_BODY_MAX },
	{ "POST", "/v1/update", R_UPDATE, reg_h_update, REG_BODY_MAX },
	{ "POST", "/v1/leave", R_LEAVE, reg_h_leave, REG_BODY_MAX },
	{ "GET", "/v1/peers", R_PEERS, reg_h_peers, 0 },
	{ "GET", "/v1/events", R_EVENTS, reg_h_events, 0 },
	{ "POST", "/v1/reports", R_REPORTS_POST, reg_h_report_post, REG_BODY_LARGE_MAX },
	{ "GET", "/v1/reports", R_REPORTS_GET, reg_h_report_get, 0 },
	{ "POST", "/v1/kex", R_KEX_POST, reg_h_kex_post, REG_BODY_MAX },
	{ "GET", "/v1/kex", R_KEX_GET, reg_h_kex_get, 0 },
	{ "POST", "/v1/kill", R_KILL_POST, reg_h_kill_post, REG_BODY_MAX },
	{ "GET", "/v1/kill", R_KILL_GET, reg_h_kill_get, 0 },
	{ "POST", "/v1/revocations", R_REVOKE_POST, reg_h_revoke_post, REG_BODY_LARGE_MAX },
	{ "GET", "/v1/revocations", R_REVOKE_GET, reg_h_revoke_get, 0 },
	{ "GET", "/v1/tiers", R_TIERS, reg_h_tiers, 0 },
	{ "GET", "/healthz", R_HEALTHZ, reg_h_healthz, 0 },
	{ "GET", "/metrics", R_METRICS, reg_h_metrics, 0 },
};

static const unsigned statuses[REG_STATUSES] = { 200, 400, 401, 403, 404, 405,
						 409, 410, 413, 500, 503, 0 };

static size_t path_len(const char *uri)
{
	const char *q = strchr(uri, '?');

	return q ? (size_t)(q - uri) : strlen(uri);
}

/* The route of (method, uri); *path_known tells 404 from 405. */
static const struct route *find_route(const char *method, const char *uri, int *path_known)
{
	size_t n = path_len(uri), i;

	*path_known = 0;
	for (i = 0; i < SC_ARRAY_SIZE(routes); i++) {
		if (strlen(routes[i].path) != n || strncmp(routes[i].path, uri, n) != 0)
			continue;
		*path_known = 1;
		if (strcmp(routes[i].method, method) == 0)
			return &routes[i];
	}
	return NULL;
}

size_t reg_body_max(const char *method, const char *uri)
{
	int known;
	const struct route *rt = find_route(method, uri, &known);

	return rt ? rt->body_max : 0;
}

int reg_route_exists(const char *method, const char *uri)
{
	int known;

	return find_route(method, uri, &known) != NULL;
}

static int64_t now_s(struct reg *r)
{
	return r->now(r->now_ctx);
}

int reg_new(const struct reg_config *cfg, struct reg **out, char *errbuf, size_t errlen)
{
	struct proto_revoke *rl = NULL;
	struct reg *r = calloc(1, sizeof(*r));
	uint8_t *list = NULL;
	uint64_t serial;
	size_t len;
	int err;

	if (!r || pthread_mutex_init(&r->lock, NULL) != 0) {
		free(r);
		reg_store_close(cfg->store);
		reg_auth_free(cfg->auth);
		return -ENOMEM;
	}
	r->store = cfg->store;
	r->auth = cfg->auth;
	r->now = cfg->now;
	r->now_ctx = cfg->now_ctx;
	r->notify = cfg->notify;
	r->notify_ctx = cfg->notify_ctx;
	/* the stored revocation list must still verify against this network */
	err = r->store->ops->revoke_get(r->store, &serial, &list, &len);
	if (err == 0) {
		err = proto_revoke_decode(&rl, list, len);
		if (!err)
			err = proto_revoke_verify(rl, reg_auth_netdef(r->auth));
		if (err) {
			snprintf(errbuf, errlen, "stored revocation list %llu: %s",
				 (unsigned long long)serial, proto_strerror(err));
			proto_revoke_free(rl);
			err = -EPROTO;
		} else {
			reg_auth_revoke_install(r->auth, rl);
		}
		free(list);
	} else if (err == -ENOENT) {
		err = 0;
	} else {
		snprintf(errbuf, errlen, "cannot read the revocation list from the store");
	}
	if (err) {
		reg_free(r);
		return err;
	}
	*out = r;
	return 0;
}

void reg_free(struct reg *r)
{
	if (!r)
		return;
	reg_blob_put(r->full);
	reg_store_close(r->store);
	reg_auth_free(r->auth);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

static void count_hit(struct reg *r, enum reg_route route, unsigned status)
{
	size_t i;

	for (i = 0; i < REG_STATUSES - 1 && statuses[i] != status; i++)
		;
	__atomic_add_fetch(&r->hits[route][i], 1, __ATOMIC_RELAXED);
}

int reg_error_response(struct reg_response *resp, unsigned status, const char *code,
		       const char *why)
{
	struct reg_buf b = { 0 };
	int err = reg_buf_puts(&b, "{\"error\":");

	if (!err)
		err = reg_buf_json_str(&b, why, strlen(why));
	if (!err)
		err = reg_buf_puts(&b, ",\"code\":");
	if (!err)
		err = reg_buf_json_str(&b, code, strlen(code));
	if (!err)
		err = reg_buf_puts(&b, "}\n");
	if (!err) {
		resp->body = reg_blob_from_buf(&b);
		err = resp->body ? 0 : -ENOMEM;
	}
	reg_buf_free(&b);
	if (!err) {
		resp->status = status;
		resp->content_type = "application/json";
		resp->wait = 0;
	}
	return err;
}

int reg_reply(struct reg_ctx *c, unsigned status, struct reg_buf *b)
{
	struct reg_blob *bl;

	if (reg_buf_put(b, "\n", 1) || !(bl = reg_blob_from_buf(b))) {
		reg_buf_free(b);
		return reg_error_response(c->resp, 500, "internal", "out of memory");
	}
	c->resp->status = status;
	c->resp->content_type = "application/json";
	c->resp->body = bl;
	return 0;
}

int reg_reply_built(struct reg_ctx *c, unsigned status, struct reg_buf *b, int err)
{
	if (err) {
		reg_buf_free(b);
		return reg_reply_status(c, 500, "internal", "out of memory");
	}
	return reg_reply(c, status, b);
}

int reg_reply_err(struct reg_ctx *c, const struct reg_err *e)
{
	if (!e->code)
		return reg_error_response(c->resp, 500, "internal", "out of memory");
	return reg_error_response(c->resp, e->status, e->code, e->why);
}

int reg_reply_status(struct reg_ctx *c, unsigned status, const char *code, const char *why)
{
	return reg_error_response(c->resp, status, code, why);
}

int reg_reply_store(struct reg_ctx *c, int err)
{
	if (err == -ENOMEM)
		return reg_reply_status(c, 500, "internal", "out of memory");
	__atomic_add_fetch(&c->reg->store_errors, 1, __ATOMIC_RELAXED);
	return reg_reply_status(c, 503, "store_unavailable", "the registry's store failed");
}

int reg_require_signed(struct reg_ctx *c)
{
	const struct reg_request *q = c->req;
	int err = reg_auth_request(c->reg->auth, &q->sig, q->method, q->uri, q->body, q->body_len,
				   c->now, c->signer, &c->err);

	if (err) {
		reg_reply_err(c, &c->err);
		return -EACCES;
	}
	return 0;
}

int reg_require_peer(struct reg_ctx *c)
{
	struct reg *r = c->reg;
	int err = reg_require_signed(c);

	if (err)
		return err;
	pthread_mutex_lock(&r->lock);
	err = r->store->ops->peer_by_ident(r->store, c->signer, &c->peer);
	pthread_mutex_unlock(&r->lock);
	if (err == -ENOENT) {
		reg_reply_status(c, 403, "unknown_peer",
				 "the signing key belongs to no joined peer");
		return err;
	}
	if (err) {
		reg_reply_store(c, err);
		return err;
	}
	err = reg_auth_standing(r->auth, c->peer.certfp, c->peer.ident, c->peer.not_after, c->now,
				&c->err);
	if (err)
		reg_reply_err(c, &c->err);
	return err;
}

static int value_ok(const char *v, size_t n)
{
	size_t i;

	if (n == 0 || n > 64)
		return 0;
	for (i = 0; i < n; i++) {
		char ch = v[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '-'))
			return 0;
	}
	return 1;
}

static int bad_query(struct reg_ctx *c, const char *why)
{
	reg_reply_status(c, 400, "bad_query", why);
	return -EINVAL;
}

/* Walk the query: every pair well formed, names unique, values plain. */
static int query_walk(struct reg_ctx *c, const char *want, const char **val, size_t *vlen,
		      const char *const *only)
{
	const char *p = c->query, *amp, *eq;
	size_t i, seen_n = 0;
	const char *seen[16];

	while (*p) {
		amp = strchr(p, '&');
		if (!amp)
			amp = p + strlen(p);
		eq = memchr(p, '=', (size_t)(amp - p));
		if (!eq || eq == p || !value_ok(eq + 1, (size_t)(amp - eq - 1)))
			return bad_query(c, "query parameters are name=value with plain values");
		for (i = 0; i < seen_n; i++) {
			if (strncmp(seen[i], p, (size_t)(eq - p + 1)) == 0)
				return bad_query(c, "a query parameter is repeated");
		}
		if (seen_n == SC_ARRAY_SIZE(seen))
			return bad_query(c, "too many query parameters");
		seen[seen_n++] = p;
		if (want && strlen(want) == (size_t)(eq - p) && strncmp(want, p, eq - p) == 0) {
			*val = eq + 1;
			*vlen = (size_t)(amp - eq - 1);
		}
		for (i = 0; only && only[i]; i++) {
			if (strlen(only[i]) == (size_t)(eq - p) && strncmp(only[i], p, eq - p) == 0)
				break;
		}
		if (only && !only[i])
			return bad_query(c, "unknown query parameter");
		p = *amp ? amp + 1 : amp;
	}
	return 0;
}

int reg_query_only(struct reg_ctx *c, const char *const *names)
{
	return query_walk(c, NULL, NULL, NULL, names);
}

int reg_query(struct reg_ctx *c, const char *name, const char **out, char *buf, size_t buflen)
{
	const char *v = NULL;
	size_t n = 0;

	if (query_walk(c, name, &v, &n, NULL))
		return -EINVAL;
	if (v && n >= buflen)
		return bad_query(c, "query value too long");
	if (v) {
		memcpy(buf, v, n);
		buf[n] = '\0';
	}
	*out = v ? buf : NULL;
	return 0;
}

int reg_query_u64(struct reg_ctx *c, const char *name, uint64_t max, uint64_t *out, int *present)
{
	const char *v;
	char buf[72];
	uint64_t x;

	if (reg_query(c, name, &v, buf, sizeof(buf)))
		return -EINVAL;
	*present = v != NULL;
	if (!v)
		return 0;
	if (sc_parse_u64(v, 0, max, &x))
		return bad_query(c, "a numeric query parameter is out of range");
	*out = x;
	return 0;
}

int reg_buf_b64(struct reg_buf *b, const uint8_t *p, size_t n)
{
	size_t len = SC_B64_LEN(n);
	char *s = malloc(len + 1);
	int err;

	if (!s)
		return -ENOMEM;
	sc_b64_encode(s, p, n);
	err = reg_buf_put(b, "\"", 1);
	if (!err)
		err = reg_buf_put(b, s, len);
	if (!err)
		err = reg_buf_put(b, "\"", 1);
	free(s);
	return err;
}

static int put_field(struct reg_buf *b, const char *name, const char *v, int comma)
{
	int err = reg_buf_printf(b, "%s\"%s\":", comma ? "," : "", name);

	return err ? err : reg_buf_json_str(b, v ? v : "", v ? strlen(v) : 0);
}

int reg_signed_record(const struct reg_request *q, struct reg_buf *out)
{
	int err = reg_buf_put(out, "{", 1);

	if (!err)
		err = put_field(out, "method", q->method, 0);
	if (!err)
		err = put_field(out, "uri", q->uri, 1);
	if (!err)
		err = put_field(out, "key", q->sig.key, 1);
	if (!err)
		err = put_field(out, "timestamp", q->sig.timestamp, 1);
	if (!err)
		err = put_field(out, "nonce", q->sig.nonce, 1);
	if (!err)
		err = put_field(out, "signature", q->sig.signature, 1);
	if (!err)
		err = reg_buf_puts(out, ",\"body\":");
	/* the body was parsed by jansson, so it is UTF-8: as a JSON string it
	 * round-trips to the exact bytes the signature covers */
	if (!err)
		err = reg_buf_json_str(out, (const char *)q->body, q->body_len);
	if (!err)
		err = reg_buf_put(out, "}", 1);
	return err;
}

void reg_notify(struct reg *r, uint64_t version)
{
	if (r->notify)
		r->notify(r->notify_ctx, version);
}

int reg_handle(struct reg *r, const struct reg_request *req, struct reg_response *resp)
{
	struct reg_ctx *c = calloc(1, sizeof(*c));
	const struct route *rt;
	enum reg_route id = R_NOT_FOUND;
	const char *q;
	int known, err;

	memset(resp, 0, sizeof(*resp));
	if (!c)
		return reg_error_response(resp, 500, "internal", "out of memory");
	c->reg = r;
	c->req = req;
	c->resp = resp;
	c->now = now_s(r);
	rt = find_route(req->method, req->uri, &known);
	q = strchr(req->uri, '?');
	if (q && strlen(q + 1) >= sizeof(c->query)) {
		err = reg_reply_status(c, 414, "uri_too_long", "request target too long");
	} else if (!rt) {
		err = known ? reg_reply_status(c, 405, "method_not_allowed",
					       "method not allowed on this resource")
			    : reg_reply_status(c, 404, "not_found", "no such resource");
	} else {
		id = rt->id;
		if (q)
			memcpy(c->query, q + 1, strlen(q + 1) + 1);
		if (req->body_len > rt->body_max)
			err = reg_reply_status(c, 413, "body_too_large", "request body too large");
		else
			err = rt->fn(c);
	}
	if (!err && !resp->wait && !resp->body)
		err = reg_error_response(resp, 500, "internal", "handler made no response");
	if (!resp->wait)
		count_hit(r, id, resp->status);
	free(c);
	return err;
}

int reg_poll_answer(struct reg *r, uint64_t cursor, int final, struct reg_response *resp)
{
	int err;

	memset(resp, 0, sizeof(*resp));
	err = reg_events_answer(r, cursor, final, resp);
	if (err == 0)
		count_hit(r, R_EVENTS, resp->status);
	return err;
}

void reg_set_notify(struct reg *r, void (*notify)(void *ctx, uint64_t version), void *ctx)
{
	r->notify = notify;
	r->notify_ctx = ctx;
}

void reg_set_metrics_hook(struct reg *r, int (*fn)(void *ctx, struct reg_buf *out), void *ctx)
{
	r->metrics_hook = fn;
	r->metrics_ctx = ctx;
}

int reg_version(struct reg *r, uint64_t *version)
{
	int err;

	pthread_mutex_lock(&r->lock);
	err = r->store->ops->version(r->store, version);
	pthread_mutex_unlock(&r->lock);
	return err;
}

void reg_set_http_stats(struct reg *r, const struct reg_http_stats *st)
{
	pthread_mutex_lock(&r->lock);
	r->http = *st;
	pthread_mutex_unlock(&r->lock);
}

void reg_tick(struct reg *r)
{
	int64_t now = now_s(r);
	uint64_t before = 0, after = 0;

	pthread_mutex_lock(&r->lock);
	r->store->ops->version(r->store, &before);
	after = before;
	if (now - r->last_prune >= 10) {
		r->last_prune = now;
		if (r->store->ops->prune(r->store, now, REG_EVENTS_RETAIN))
			__atomic_add_fetch(&r->store_errors, 1, __ATOMIC_RELAXED);
	}
	if (now - r->last_expiry >= 30) {
		r->last_expiry = now;
		reg_expire_peers(r, now);
	}
	if (now - r->last_tiers >= REG_TIER_PERIOD) {
		r->last_tiers = now;
		reg_tiers_update(r, now, &after);
	}
	r->store->ops->version(r->store, &after);
	pthread_mutex_unlock(&r->lock);
	if (after != before)
		reg_notify(r, after);
}

const char *reg_route_name(int route)
{
	static const char *const names[R__COUNT] = {
		[R_NETWORK] = "network",
		[R_JOIN] = "join",
		[R_UPDATE] = "update",
		[R_LEAVE] = "leave",
		[R_PEERS] = "peers",
		[R_EVENTS] = "events",
		[R_REPORTS_POST] = "reports_post",
		[R_REPORTS_GET] = "reports_get",
		[R_KEX_POST] = "kex_post",
		[R_KEX_GET] = "kex_get",
		[R_KILL_POST] = "kill_post",
		[R_KILL_GET] = "kill_get",
		[R_REVOKE_POST] = "revocations_post",
		[R_REVOKE_GET] = "revocations_get",
		[R_TIERS] = "tiers",
		[R_HEALTHZ] = "healthz",
		[R_METRICS] = "metrics",
		[R_NOT_FOUND] = "unknown",
	};

	return (unsigned)route < R__COUNT ? names[route] : "unknown";
}

unsigned reg_status_at(size_t i)
{
	return i < REG_STATUSES ? statuses[i] : 0;
}
