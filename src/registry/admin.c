// SPDX-License-Identifier: GPL-2.0-only
/*
 * Admin-signed material and operations: the network definition, kill
 * switches, the revocation list, tiers, health and metrics.
 *
 * Kill switches and revocation lists need no node signature: the admin's
 * signature on the record is the authorisation, and the registry only
 * stores what verifies. It cannot make either itself.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/encode.h"
#include "proto/kill.h"
#include "proto/revoke.h"
#include "registry/core.h"
#include "registry/limits.h"

int reg_h_network(struct reg_ctx *c)
{
	const struct proto_netdef *n = reg_auth_netdef(c->reg->auth);
	char fp[2 * PROTO_FP_LEN + 1];
	struct reg_buf b = { 0 };
	const uint8_t *raw;
	size_t len;
	int err;

	raw = reg_auth_netdef_bytes(c->reg->auth, &len);
	sc_hex_encode(fp, n->fingerprint, sizeof(n->fingerprint));
	err = reg_buf_puts(&b, "{\"name\":");
	if (!err)
		err = reg_buf_json_str(&b, n->name, strlen(n->name));
	if (!err)
		err = reg_buf_printf(&b, ",\"serial\":%llu,\"issued\":%llu,\"fingerprint\":\"%s\"",
				     (unsigned long long)n->serial, (unsigned long long)n->issued,
				     fp);
	if (!err)
		err = reg_buf_puts(&b, ",\"admin\":");
	if (!err)
		err = reg_buf_b64(&b, n->admin, sizeof(n->admin));
	if (!err)
		err = reg_buf_puts(&b, ",\"registry\":");
	if (!err)
		err = reg_buf_json_str(&b, n->registry, strlen(n->registry));
	if (!err)
		err = reg_buf_puts(&b, ",\"netdef\":");
	if (!err)
		err = reg_buf_b64(&b, raw, len);
	if (!err)
		err = reg_buf_puts(&b, "}");
	return reg_reply_built(c, 200, &b, err);
}

/* ---- kill switch ---- */

static int kill_store(struct reg_ctx *c, const struct reg_record *rec, uint64_t serial,
		      uint64_t *version)
{
	struct reg *r = c->reg;
	struct reg_buf ev = { 0 };
	int err = reg_buf_printf(&ev, "{\"serial\":%llu,\"kill\":", (unsigned long long)serial);

	if (!err)
		err = reg_buf_b64(&ev, rec->rec, rec->len);
	if (!err)
		err = reg_buf_puts(&ev, "}");
	if (!err) {
		pthread_mutex_lock(&r->lock);
		err = r->store->ops->kill_put(r->store, serial, rec->rec, rec->len, c->now, ev.p,
					      ev.len, version);
		pthread_mutex_unlock(&r->lock);
	}
	reg_buf_free(&ev);
	return err;
}

int reg_h_kill_post(struct reg_ctx *c)
{
	struct reg_record rec = { 0 };
	struct proto_kill *k = NULL;
	struct reg_buf b = { 0 };
	uint64_t version = 0, serial;
	int err = reg_body_kill(c->req->body, c->req->body_len, &rec, &c->err);

	if (!err) {
		k = calloc(1, sizeof(*k));
		err = k ? reg_auth_kill(c->reg->auth, rec.rec, rec.len, k, &c->err) : -ENOMEM;
	}
	if (err) {
		free(k);
		reg_record_clear(&rec);
		return err == -ENOMEM ? reg_reply_status(c, 500, "internal", "out of memory")
				      : reg_reply_err(c, &c->err);
	}
	serial = k->serial;
	free(k);
	if (serial > INT64_MAX) {
		reg_record_clear(&rec);
		return reg_reply_status(c, 400, "bad_record", "kill switch serial too large");
	}
	err = kill_store(c, &rec, serial, &version);
	reg_record_clear(&rec);
	if (err == -EEXIST)
		return reg_reply_status(c, 409, "kill_conflict",
					"another kill switch with this serial is stored");
	if (err < 0)
		return reg_reply_store(c, err);
	if (err == 0)
		reg_notify(c->reg, version);
	if (reg_buf_printf(&b, "{\"serial\":%llu,\"stored\":%s}", (unsigned long long)serial,
			   err == 0 ? "true" : "false")) {
		reg_buf_free(&b);
		return reg_reply_status(c, 500, "internal", "out of memory");
	}
	return reg_reply(c, 200, &b);
}

struct blob_walk {
	struct reg_buf b;
	size_t n;
};

static int kill_cb(void *ctx, uint64_t serial, const uint8_t *p, size_t len)
{
	struct blob_walk *w = ctx;
	int err = reg_buf_printf(&w->b, "%s{\"serial\":%llu,\"kill\":", w->n++ ? "," : "",
				 (unsigned long long)serial);

	if (!err)
		err = reg_buf_b64(&w->b, p, len);
	return err ? err : reg_buf_puts(&w->b, "}");
}

int reg_h_kill_get(struct reg_ctx *c)
{
	struct reg *r = c->reg;
	struct blob_walk w = { { 0 }, 0 };
	int err = reg_buf_puts(&w.b, "{\"kills\":[");

	if (!err) {
		pthread_mutex_lock(&r->lock);
		err = r->store->ops->kill_list(r->store, kill_cb, &w);
		pthread_mutex_unlock(&r->lock);
	}
	if (!err)
		err = reg_buf_puts(&w.b, "]}");
	if (err) {
		reg_buf_free(&w.b);
		return reg_reply_store(c, err);
	}
	return reg_reply(c, 200, &w.b);
}

/* ---- revocation list ---- */

struct revoked_walk {
	const struct proto_revoke *rl;
	char (*names)[REG_NAME_MAX + 1];
	size_t n, cap;
};

static int revoked_cb(void *ctx, const struct reg_peer *p)
{
	struct revoked_walk *w = ctx;

	if (!proto_revoke_has(w->rl, PROTO_REVOKE_CERT, p->certfp) &&
	    !proto_revoke_has(w->rl, PROTO_REVOKE_IDENTITY, p->ident))
		return 0;
	if (w->n == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 16;
		void *nn = realloc(w->names, cap * sizeof(*w->names));

		if (!nn)
			return -ENOMEM;
		w->names = nn;
		w->cap = cap;
	}
	memcpy(w->names[w->n++], p->name, sizeof(p->name));
	return 0;
}

/* Store the list and drop the peers it revokes, in one transaction, then
 * make it current. Lock held. */
static int revoke_apply(struct reg_ctx *c, struct proto_revoke *rl, const struct reg_record *rec,
			struct revoked_walk *w, uint64_t *version)
{
	struct reg *r = c->reg;
	const char **names = NULL;
	size_t i;
	int err;

	w->rl = rl;
	err = r->store->ops->peers_each(r->store, revoked_cb, w);
	if (!err && w->n) {
		names = calloc(w->n, sizeof(*names));
		err = names ? 0 : -ENOMEM;
		for (i = 0; names && i < w->n; i++)
			names[i] = w->names[i];
	}
	if (!err)
		err = r->store->ops->revoke_put(r->store, proto_revoke_serial(rl), rec->rec,
						rec->len, names, w->n, c->now,
						"{\"reason\":\"revoked\"}", 20, version);
	free(names);
	return err;
}

static int revoke_reply(struct reg_ctx *c, uint64_t serial, uint64_t version,
			const struct revoked_walk *w)
{
	struct reg_buf b = { 0 };
	size_t i;
	int err = reg_buf_printf(&b, "{\"serial\":%llu,\"version\":%llu,\"removed\":[",
				 (unsigned long long)serial, (unsigned long long)version);

	for (i = 0; !err && i < w->n; i++) {
		err = reg_buf_puts(&b, i ? "," : "");
		if (!err)
			err = reg_buf_json_str(&b, w->names[i], strlen(w->names[i]));
	}
	if (!err)
		err = reg_buf_puts(&b, "]}");
	return reg_reply_built(c, 200, &b, err);
}

int reg_h_revoke_post(struct reg_ctx *c)
{
	struct reg *r = c->reg;
	struct reg_record rec = { 0 };
	struct revoked_walk w = { 0 };
	struct proto_revoke *rl = NULL;
	uint64_t version = 0, serial = 0;
	int err = reg_body_revoke(c->req->body, c->req->body_len, &rec, &c->err);

	if (err) {
		return err == -ENOMEM ? reg_reply_status(c, 500, "internal", "out of memory")
				      : reg_reply_err(c, &c->err);
	}
	/* checked and installed under the lock, so a concurrent join either
	 * sees the new list or is removed by it */
	pthread_mutex_lock(&r->lock);
	err = reg_auth_revoke_check(r->auth, rec.rec, rec.len, &rl, &c->err);
	if (!err) {
		serial = proto_revoke_serial(rl);
		err = serial > INT64_MAX ? -ERANGE : revoke_apply(c, rl, &rec, &w, &version);
		if (!err)
			reg_auth_revoke_install(r->auth, rl);
		else
			proto_revoke_free(rl);
		if (err == -ERANGE || err == -ESTALE)
			err = reg_reply_status(c, 409, "stale_serial",
					       "the store holds a list with this serial or newer");
		else if (err)
			err = reg_reply_store(c, err);
	} else {
		err = err == -ENOMEM ? reg_reply_status(c, 500, "internal", "out of memory")
				     : reg_reply_err(c, &c->err);
	}
	pthread_mutex_unlock(&r->lock);
	reg_record_clear(&rec);
	if (!err && !c->resp->body) {
		reg_notify(r, version);
		err = revoke_reply(c, serial, version, &w);
	}
	free(w.names);
	return err;
}

int reg_h_revoke_get(struct reg_ctx *c)
{
	struct reg *r = c->reg;
	struct reg_buf b = { 0 };
	uint8_t *list = NULL;
	uint64_t serial = 0;
	size_t len = 0;
	int err;

	pthread_mutex_lock(&r->lock);
	err = r->store->ops->revoke_get(r->store, &serial, &list, &len);
	pthread_mutex_unlock(&r->lock);
	if (err == -ENOENT)
		return reg_reply_status(c, 404, "no_revocations", "no revocation list yet");
	if (err)
		return reg_reply_store(c, err);
	err = reg_buf_printf(&b, "{\"serial\":%llu,\"revocations\":", (unsigned long long)serial);
	if (!err)
		err = reg_buf_b64(&b, list, len);
	if (!err)
		err = reg_buf_puts(&b, "}");
	free(list);
	return reg_reply_built(c, 200, &b, err);
}

/* ---- tiers ---- */

struct tier_walk {
	struct reg_buf b;
	size_t n;
};

static int tier_cb(void *ctx, const struct reg_peer *p)
{
	struct tier_walk *w = ctx;
	int err;

	if (p->tier == REG_TIER_NONE)
		return 0;
	err = reg_buf_puts(&w->b, w->n++ ? "," : "");
	if (!err)
		err = reg_buf_json_str(&w->b, p->name, strlen(p->name));
	if (!err)
		err = reg_buf_printf(&w->b, ":\"%s\"", reg_tier_name(p->tier));
	return err;
}

int reg_h_tiers(struct reg_ctx *c)
{
	struct reg *r = c->reg;
	struct tier_walk w = { { 0 }, 0 };
	struct reg_buf b = { 0 };
	uint64_t v = 0;
	int err;

	if (reg_require_peer(c))
		return 0;
	pthread_mutex_lock(&r->lock);
	err = r->store->ops->version(r->store, &v);
	if (!err)
		err = r->store->ops->peers_each(r->store, tier_cb, &w);
	pthread_mutex_unlock(&r->lock);
	if (!err)
		err = reg_buf_printf(&b, "{\"version\":%llu,\"tiers\":{", (unsigned long long)v);
	if (!err && w.b.len)
		err = reg_buf_put(&b, w.b.p, w.b.len);
	if (!err)
		err = reg_buf_puts(&b, "}}");
	reg_buf_free(&w.b);
	if (err) {
		reg_buf_free(&b);
		return reg_reply_store(c, err);
	}
	return reg_reply(c, 200, &b);
}

/* ---- health and metrics ---- */

int reg_h_healthz(struct reg_ctx *c)
{
	struct reg *r = c->reg;
	struct reg_buf b = { 0 };
	uint64_t v = 0;
	int err;

	pthread_mutex_lock(&r->lock);
	err = r->store->ops->version(r->store, &v);
	pthread_mutex_unlock(&r->lock);
	if (err)
		return reg_reply_store(c, err);
	if (reg_buf_printf(&b, "{\"status\":\"ok\",\"version\":%llu}", (unsigned long long)v)) {
		reg_buf_free(&b);
		return reg_reply_status(c, 500, "internal", "out of memory");
	}
	return reg_reply(c, 200, &b);
}

static int gauge(struct reg_buf *b, const char *name, const char *type, const char *help,
		 uint64_t v)
{
	return reg_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help, name, type,
			      name, (unsigned long long)v);
}

static int metrics_hits(struct reg *r, struct reg_buf *b)
{
	int route, err;
	size_t i;

	err = reg_buf_puts(b, "# HELP scope_registry_requests_total Requests by route and "
			      "status.\n# TYPE scope_registry_requests_total counter\n");
	for (route = 0; !err && route < R__COUNT; route++) {
		for (i = 0; !err && i < REG_STATUSES; i++) {
			uint64_t n = __atomic_load_n(&r->hits[route][i], __ATOMIC_RELAXED);
			unsigned st = reg_status_at(i);

			if (!n)
				continue;
			if (st)
				err = reg_buf_printf(b,
						     "scope_registry_requests_total{route=\"%s\","
						     "status=\"%u\"} %llu\n",
						     reg_route_name(route), st,
						     (unsigned long long)n);
			else
				err = reg_buf_printf(b,
						     "scope_registry_requests_total{route=\"%s\","
						     "status=\"other\"} %llu\n",
						     reg_route_name(route), (unsigned long long)n);
		}
	}
	return err;
}

int reg_h_metrics(struct reg_ctx *c)
{
	struct reg *r = c->reg;
	struct reg_store_stats st;
	struct reg_http_stats http;
	struct reg_buf b = { 0 };
	int err;

	pthread_mutex_lock(&r->lock);
	err = r->store->ops->stats(r->store, c->now, &st);
	http = r->http;
	pthread_mutex_unlock(&r->lock);
	if (err)
		return reg_reply_store(c, err);
	err = metrics_hits(r, &b);
	if (!err)
		err = gauge(&b, "scope_registry_version", "gauge",
			    "Sequence number of the last event.", st.version);
	if (!err)
		err = gauge(&b, "scope_registry_peers", "gauge", "Joined peers.", st.peers);
	if (!err)
		err = gauge(&b, "scope_registry_relays", "gauge",
			    "Joined peers acting as relay or master.", st.relays);
	if (!err)
		err = gauge(&b, "scope_registry_pipes", "gauge", "Relays demoted to pipe.",
			    st.pipes);
	if (!err)
		err = gauge(&b, "scope_registry_events_retained", "gauge",
			    "Events kept for cursors.", st.events);
	if (!err)
		err = gauge(&b, "scope_registry_kex_messages", "gauge",
			    "Unexpired mailbox messages.", st.kex);
	if (!err)
		err = gauge(&b, "scope_registry_kill_switches", "gauge", "Stored kill switches.",
			    st.kills);
	if (!err)
		err = gauge(&b, "scope_registry_revocation_serial", "gauge",
			    "Serial of the current revocation list (0: none).",
			    st.revocation_serial);
	if (!err)
		err = gauge(&b, "scope_registry_replay_ids", "gauge",
			    "Signed-request ids held by the replay cache.",
			    reg_auth_replay_count(r->auth));
	if (!err)
		err = gauge(&b, "scope_registry_store_errors_total", "counter",
			    "Store operations that failed.",
			    __atomic_load_n(&r->store_errors, __ATOMIC_RELAXED));
	if (!err)
		err = gauge(&b, "scope_registry_http_connections", "gauge",
			    "Open HTTP connections.", http.connections);
	if (!err)
		err = gauge(&b, "scope_registry_longpoll_waiting", "gauge",
			    "Long polls waiting for events.", http.waiting);
	if (!err)
		err = gauge(&b, "scope_registry_body_too_large_total", "counter",
			    "Bodies refused by size before parsing.", http.too_large);
	if (!err && r->metrics_hook)
		err = r->metrics_hook(r->metrics_ctx, &b);
	if (err) {
		reg_buf_free(&b);
		return reg_reply_status(c, 500, "internal", "out of memory");
	}
	err = reg_reply(c, 200, &b);
	c->resp->content_type = "text/plain; version=0.0.4";
	return err;
}
