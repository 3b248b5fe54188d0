// SPDX-License-Identifier: GPL-2.0-only
/*
 * Peer resources: join, update, leave, the peer list, the event stream and
 * reports.
 *
 * A peer's document is JSON the registry builds once per change and serves
 * verbatim: the certificate and what it binds, the endpoints, the address
 * the registry saw, and the signed request that published them ("record"),
 * which any node can verify itself against the peer's identity key. The
 * current tier is spliced in front when the document is served, so a tier
 * change does not rewrite documents.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "common/compiler.h"
#include "common/encode.h"
#include "proto/addr.h"
#include "proto/cert.h"
#include "registry/core.h"
#include "registry/limits.h"

/* Everything a peer document is made of. */
struct doc_in {
	const struct proto_cert *cert;
	const uint8_t *cert_bytes;
	size_t cert_len;
	uint8_t role;
	int64_t joined_at;
	const struct reg_endpoints *eps;
	const char *observed_ip;
	const struct reg_request *req;
};

static const char *role_name(uint8_t role)
{
	return role == PROTO_ROLE_MASTER ? "master" : role == PROTO_ROLE_RELAY ? "relay" : "edge";
}

static int put_str(struct reg_buf *b, const char *key, const char *v)
{
	int err = reg_buf_printf(b, ",\"%s\":", key);

	return err ? err : reg_buf_json_str(b, v, strlen(v));
}

static int put_endpoints(struct reg_buf *b, const struct reg_endpoints *eps)
{
	char s[PROTO_ENDPOINT_STRLEN];
	size_t i;
	int err = reg_buf_puts(b, ",\"endpoints\":[");

	for (i = 0; !err && i < eps->n; i++) {
		proto_endpoint_format(s, &eps->ep[i]);
		err = reg_buf_printf(b, "%s\"%s\"", i ? "," : "", s);
	}
	return err ? err : reg_buf_puts(b, "]");
}

static int put_cert_fields(struct reg_buf *b, const struct proto_cert *c)
{
	char addr[PROTO_ADDR_STRLEN], pfx[PROTO_PREFIX_STRLEN], roles[18];
	size_t i;
	int err;

	proto_roles_format(roles, c->roles);
	err = put_str(b, "roles", roles);
	if (!err)
		err = reg_buf_puts(b, ",\"identity\":");
	if (!err)
		err = reg_buf_b64(b, c->identity, sizeof(c->identity));
	if (!err)
		err = reg_buf_puts(b, ",\"wgkey\":");
	if (!err)
		err = reg_buf_b64(b, c->wgkey, sizeof(c->wgkey));
	proto_addr_format(addr, 4, c->addr4);
	if (!err)
		err = put_str(b, "addr4", addr);
	proto_addr_format(addr, 6, c->addr6);
	if (!err)
		err = put_str(b, "addr6", addr);
	if (!err)
		err = reg_buf_puts(b, ",\"subnets\":[");
	for (i = 0; !err && i < c->n_subnets; i++) {
		proto_prefix_format(pfx, &c->subnets[i]);
		err = reg_buf_printf(b, "%s\"%s\"", i ? "," : "", pfx);
	}
	if (!err)
		err = reg_buf_printf(b, "],\"not_after\":%llu", (unsigned long long)c->not_after);
	return err;
}

static int doc_build(const struct doc_in *in, struct reg_buf *b)
{
	int err = reg_buf_puts(b, "{\"name\":");

	if (!err)
		err = reg_buf_json_str(b, in->cert->name, strlen(in->cert->name));
	if (!err)
		err = put_str(b, "role", role_name(in->role));
	if (!err)
		err = put_cert_fields(b, in->cert);
	if (!err)
		err = reg_buf_printf(b, ",\"joined_at\":%lld", (long long)in->joined_at);
	if (!err)
		err = put_endpoints(b, in->eps);
	if (!err && in->observed_ip)
		err = put_str(b, "observed_ip", in->observed_ip);
	if (!err)
		err = reg_buf_puts(b, ",\"cert\":");
	if (!err)
		err = reg_buf_b64(b, in->cert_bytes, in->cert_len);
	if (!err)
		err = reg_buf_puts(b, ",\"record\":");
	if (!err)
		err = reg_signed_record(in->req, b);
	if (!err)
		err = reg_buf_puts(b, "}");
	return err;
}

/* doc with "tier" spliced in front: {"tier":"relay",<rest of doc>. */
static int put_doc(struct reg_buf *b, enum reg_tier tier, const char *doc, size_t len)
{
	int err;

	if (len < 2 || doc[0] != '{')
		return -EIO;
	err = reg_buf_printf(b, "{\"tier\":\"%s\",", reg_tier_name(tier));
	return err ? err : reg_buf_put(b, doc + 1, len - 1);
}

static void peer_index(struct reg_peer *p, const struct proto_cert *c, uint8_t role, int64_t now)
{
	memset(p, 0, sizeof(*p));
	memcpy(p->name, c->name, strlen(c->name));
	memcpy(p->ident, c->identity, sizeof(p->ident));
	memcpy(p->certfp, c->fingerprint, sizeof(p->certfp));
	p->roles = role;
	p->joined_at = now;
	p->not_after = c->not_after > INT64_MAX ? INT64_MAX : (int64_t)c->not_after;
	p->tier = (role & (PROTO_ROLE_RELAY | PROTO_ROLE_MASTER)) ? REG_TIER_RELAY : REG_TIER_NONE;
}

static int join_store(struct reg_ctx *c, const struct reg_peer *p, struct reg_buf *doc,
		      struct reg_buf *ev, uint64_t *version)
{
	struct reg *r = c->reg;
	uint64_t npeers = 0;
	int err;

	pthread_mutex_lock(&r->lock);
	/* a revocation may have landed since the certificate was checked */
	err = reg_auth_standing(r->auth, p->certfp, p->ident, p->not_after, c->now, &c->err);
	if (err) {
		pthread_mutex_unlock(&r->lock);
		return reg_reply_err(c, &c->err);
	}
	err = r->store->ops->peer_count(r->store, &npeers);
	if (!err && npeers >= REG_PEERS_MAX) {
		struct reg_peer old;

		if (r->store->ops->peer_by_ident(r->store, p->ident, &old) != 0) {
			pthread_mutex_unlock(&r->lock);
			return reg_reply_status(c, 503, "full", "the registry holds its peer cap");
		}
	}
	if (!err)
		err = r->store->ops->peer_join(r->store, p, doc->p, doc->len, ev->p, ev->len,
					       version);
	pthread_mutex_unlock(&r->lock);
	if (err == -EEXIST)
		return reg_reply_status(c, 409, "name_taken",
					"another joined peer holds this name or identity key");
	return err ? reg_reply_store(c, err) : 0;
}

static int join_reply(struct reg_ctx *c, const char *name, uint64_t version)
{
	struct reg_buf b = { 0 };
	int err = reg_buf_printf(&b, "{\"version\":%llu,\"name\":", (unsigned long long)version);

	if (!err)
		err = reg_buf_json_str(&b, name, strlen(name));
	if (!err && c->req->client_ip)
		err = put_str(&b, "observed_ip", c->req->client_ip);
	if (!err)
		err = reg_buf_puts(&b, "}");
	return reg_reply_built(c, 200, &b, err);
}

static int join_with(struct reg_ctx *c, const struct reg_join *j, const struct proto_cert *cert)
{
	struct reg_buf doc = { 0 }, ev = { 0 };
	struct doc_in in = {
		.cert = cert,
		.cert_bytes = j->cert,
		.cert_len = j->cert_len,
		.role = j->role,
		.joined_at = c->now,
		.eps = &j->eps,
		.observed_ip = c->req->client_ip,
		.req = c->req,
	};
	struct reg_peer p;
	uint64_t version = 0;
	int err;

	if (memcmp(cert->identity, c->signer, PROTO_KEY_LEN) != 0) /* not secret: public keys */
		return reg_reply_status(c, 403, "key_mismatch",
					"the request is not signed by the certificate's identity");
	if (!proto_cert_allows(cert, j->role))
		return reg_reply_status(c, 403, "role_not_allowed",
					"the certificate does not allow this role");
	peer_index(&p, cert, j->role, c->now);
	err = doc_build(&in, &doc);
	if (!err)
		err = put_doc(&ev, p.tier, doc.p, doc.len);
	if (err) {
		err = reg_reply_status(c, 500, "internal", "out of memory");
	} else {
		err = join_store(c, &p, &doc, &ev, &version);
		if (!err && !c->resp->body) {
			reg_notify(c->reg, version);
			err = join_reply(c, p.name, version);
		}
	}
	reg_buf_free(&doc);
	reg_buf_free(&ev);
	return err;
}

int reg_h_join(struct reg_ctx *c)
{
	struct proto_cert *cert = NULL;
	struct reg_join *j;
	int err;

	if (reg_require_signed(c))
		return 0;
	j = calloc(1, sizeof(*j));
	if (!j)
		return reg_reply_status(c, 500, "internal", "out of memory");
	err = reg_body_join(c->req->body, c->req->body_len, j, &c->err);
	if (!err)
		err = reg_auth_cert(c->reg->auth, j->cert, j->cert_len, c->now, &cert, &c->err);
	if (err == -ENOMEM)
		err = reg_reply_status(c, 500, "internal", "out of memory");
	else if (err)
		err = reg_reply_err(c, &c->err);
	else
		err = join_with(c, j, cert);
	free(cert);
	free(j);
	return err;
}

/* The certificate and role of a joined peer, back from its document. */
struct doc_parts {
	struct proto_cert cert;
	uint8_t cert_bytes[REG_CERT_MAX];
	size_t cert_len;
	uint8_t role;
	json_t *endpoints; /* owned */
	char observed_ip[PROTO_ADDR_STRLEN];
};

static int doc_parse(const char *doc, size_t len, struct doc_parts *d)
{
	json_t *o = json_loadb(doc, len, 0, NULL), *v;
	const char *s;
	int err = -EIO;

	if (!o)
		return -EIO;
	s = json_string_value(json_object_get(o, "cert"));
	if (s && json_string_length(json_object_get(o, "cert")) % 4 == 0) {
		size_t n = json_string_length(json_object_get(o, "cert"));

		d->cert_len = n / 4 * 3 - (n && s[n - 1] == '=') - (n > 1 && s[n - 2] == '=');
		if (d->cert_len <= sizeof(d->cert_bytes) &&
		    sc_b64_decode(d->cert_bytes, d->cert_len, s, n) == 0 &&
		    proto_cert_decode(&d->cert, d->cert_bytes, d->cert_len) == 0)
			err = 0;
	}
	s = json_string_value(json_object_get(o, "role"));
	d->role = !s			 ? 0
		  : !strcmp(s, "master") ? PROTO_ROLE_MASTER
		  : !strcmp(s, "relay")	 ? PROTO_ROLE_RELAY
					 : PROTO_ROLE_EDGE;
	v = json_object_get(o, "endpoints");
	d->endpoints = json_is_array(v) ? json_incref(v) : json_array();
	s = json_string_value(json_object_get(o, "observed_ip"));
	d->observed_ip[0] = '\0';
	if (s && strlen(s) < sizeof(d->observed_ip))
		memcpy(d->observed_ip, s, strlen(s) + 1);
	json_decref(o);
	if (err || !d->endpoints) {
		json_decref(d->endpoints);
		d->endpoints = NULL;
		return -EIO;
	}
	return 0;
}

/* Same set of endpoints (each list has no repeats)? */
static int same_endpoints(const json_t *old, const struct reg_endpoints *eps)
{
	char s[PROTO_ENDPOINT_STRLEN];
	size_t i, j;
	json_t *v;

	if (json_array_size(old) != eps->n)
		return 0;
	for (i = 0; i < eps->n; i++) {
		proto_endpoint_format(s, &eps->ep[i]);
		json_array_foreach(old, j, v)
		{
			if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
				break;
		}
		if (j == json_array_size(old))
			return 0;
	}
	return 1;
}

/* Replace the caller's endpoints (and record) in its document; a move event
 * if the endpoints or the observed address changed. *version: the version
 * after the change. Lock not held. */
static int move_peer(struct reg_ctx *c, const struct reg_endpoints *eps, uint64_t *version,
		     int *moved)
{
	struct reg *r = c->reg;
	struct reg_buf doc = { 0 }, ev = { 0 };
	struct doc_parts *d = calloc(1, sizeof(*d));
	const char *ip = c->req->client_ip;
	char *old = NULL;
	size_t len;
	int err;

	if (!d)
		return -ENOMEM;
	pthread_mutex_lock(&r->lock);
	err = r->store->ops->peer_doc(r->store, c->peer.name, &old, &len);
	if (!err)
		err = doc_parse(old, len, d);
	if (!err) {
		struct doc_in in = {
			.cert = &d->cert,
			.cert_bytes = d->cert_bytes,
			.cert_len = d->cert_len,
			.role = d->role,
			.joined_at = c->peer.joined_at,
			.eps = eps,
			.observed_ip = ip,
			.req = c->req,
		};

		*moved = !same_endpoints(d->endpoints, eps) ||
			 strcmp(d->observed_ip, ip ? ip : "") != 0;
		err = doc_build(&in, &doc);
		if (!err && *moved)
			err = put_doc(&ev, c->peer.tier, doc.p, doc.len);
	}
	if (!err)
		err = r->store->ops->peer_update(r->store, c->peer.name, doc.p, doc.len, c->now,
						 *moved ? ev.p : NULL, ev.len, version);
	pthread_mutex_unlock(&r->lock);
	if (d->endpoints)
		json_decref(d->endpoints);
	free(d);
	free(old);
	reg_buf_free(&doc);
	reg_buf_free(&ev);
	return err;
}

static int version_reply(struct reg_ctx *c, uint64_t version, const char *extra)
{
	struct reg_buf b = { 0 };

	if (reg_buf_printf(&b, "{\"version\":%llu%s}", (unsigned long long)version,
			   extra ? extra : "")) {
		reg_buf_free(&b);
		return reg_reply_status(c, 500, "internal", "out of memory");
	}
	return reg_reply(c, 200, &b);
}

int reg_h_update(struct reg_ctx *c)
{
	struct reg_update u;
	uint64_t version = 0;
	int moved = 0, err;

	if (reg_require_peer(c))
		return 0;
	if (reg_body_update(c->req->body, c->req->body_len, &u, &c->err))
		return reg_reply_err(c, &c->err);
	err = move_peer(c, &u.eps, &version, &moved);
	if (err == -ENOENT)
		return reg_reply_status(c, 403, "unknown_peer", "the peer left meanwhile");
	if (err)
		return reg_reply_store(c, err);
	if (moved)
		reg_notify(c->reg, version);
	return version_reply(c, version, moved ? ",\"moved\":true" : ",\"moved\":false");
}

static int leave_event(struct reg_buf *ev, const char *name, const char *reason)
{
	int err = reg_buf_puts(ev, "{\"name\":");

	if (!err)
		err = reg_buf_json_str(ev, name, strlen(name));
	if (!err)
		err = reg_buf_printf(ev, ",\"reason\":\"%s\"}", reason);
	return err;
}

int reg_h_leave(struct reg_ctx *c)
{
	struct reg *r = c->reg;
	struct reg_buf ev = { 0 };
	uint64_t version = 0;
	int err;

	if (reg_require_peer(c))
		return 0;
	if (reg_body_leave(c->req->body, c->req->body_len, &c->err))
		return reg_reply_err(c, &c->err);
	err = leave_event(&ev, c->peer.name, "leave");
	if (!err) {
		pthread_mutex_lock(&r->lock);
		err = r->store->ops->peer_leave(r->store, c->peer.name, c->now, ev.p, ev.len,
						&version);
		pthread_mutex_unlock(&r->lock);
	}
	reg_buf_free(&ev);
	if (err == -ENOENT)
		return reg_reply_status(c, 403, "unknown_peer", "the peer left meanwhile");
	if (err)
		return reg_reply_store(c, err);
	reg_notify(r, version);
	return version_reply(c, version, NULL);
}

/* ---- peer list ---- */

struct list_walk {
	struct reg_buf peers, left;
	size_t n_peers, n_left;
};

static int list_cb(void *ctx, const struct reg_peer *p, const char *doc, size_t len)
{
	struct list_walk *w = ctx;
	int err;

	if (!doc) {
		err = reg_buf_puts(&w->left, w->n_left++ ? "," : "");
		return err ? err : reg_buf_json_str(&w->left, p->name, strlen(p->name));
	}
	err = reg_buf_puts(&w->peers, w->n_peers++ ? "," : "");
	return err ? err : put_doc(&w->peers, p->tier, doc, len);
}

/* The whole list answer into out; *version gets its version. Lock held. */
static int list_build(struct reg *r, uint64_t since, struct reg_buf *out, uint64_t *version)
{
	struct list_walk w = { { 0 }, { 0 }, 0, 0 };
	int err = r->store->ops->peers_list(r->store, since, version, list_cb, &w);

	if (!err)
		err = reg_buf_printf(out, "{\"version\":%llu,\"full\":%s,\"peers\":[",
				     (unsigned long long)*version, since ? "false" : "true");
	if (!err && w.peers.len)
		err = reg_buf_put(out, w.peers.p, w.peers.len);
	if (!err)
		err = reg_buf_puts(out, "],\"left\":[");
	if (!err && w.left.len)
		err = reg_buf_put(out, w.left.p, w.left.len);
	if (!err)
		err = reg_buf_puts(out, "]}\n");
	reg_buf_free(&w.peers);
	reg_buf_free(&w.left);
	return err;
}

/* The full list, from the cache when the version has not moved. Lock held. */
static int full_list(struct reg *r, struct reg_blob **out)
{
	struct reg_buf b = { 0 };
	uint64_t v, built;
	int err = r->store->ops->version(r->store, &v);

	if (err)
		return err;
	if (!r->full || r->full_version != v) {
		err = list_build(r, 0, &b, &built);
		if (err) {
			reg_buf_free(&b);
			return err;
		}
		reg_blob_put(r->full);
		r->full = reg_blob_from_buf(&b);
		r->full_version = built;
		reg_buf_free(&b);
		if (!r->full)
			return -ENOMEM;
	}
	*out = reg_blob_get(r->full);
	return 0;
}

int reg_h_peers(struct reg_ctx *c)
{
	static const char *const params[] = { "since", NULL };
	struct reg *r = c->reg;
	struct reg_buf b = { 0 };
	struct reg_blob *bl = NULL;
	uint64_t since = 0, v;
	int present, err;

	if (reg_require_peer(c) || reg_query_only(c, params) ||
	    reg_query_u64(c, "since", INT64_MAX, &since, &present))
		return 0;
	pthread_mutex_lock(&r->lock);
	err = since ? list_build(r, since, &b, &v) : -ERANGE;
	if (err == -ERANGE) {
		/* no cursor, or one older than what was pruned: the full list */
		reg_buf_free(&b);
		err = full_list(r, &bl);
	}
	pthread_mutex_unlock(&r->lock);
	if (err) {
		reg_buf_free(&b);
		return reg_reply_store(c, err);
	}
	if (bl) {
		c->resp->status = 200;
		c->resp->content_type = "application/json";
		c->resp->body = bl;
		return 0;
	}
	return reg_reply(c, 200, &b);
}

/* ---- events ---- */

struct ev_walk {
	struct reg_buf b;
	size_t n;
	uint64_t last;
};

static int ev_cb(void *ctx, const struct reg_event *ev)
{
	struct ev_walk *w = ctx;
	int err =
		reg_buf_printf(&w->b, "%s{\"seq\":%llu,\"type\":\"%s\",\"peer\":", w->n ? "," : "",
			       (unsigned long long)ev->seq, reg_event_name(ev->type));

	if (!err)
		err = reg_buf_json_str(&w->b, ev->peer, strlen(ev->peer));
	if (!err)
		err = reg_buf_printf(&w->b, ",\"at\":%lld,\"data\":", (long long)ev->at);
	if (!err)
		err = reg_buf_put(&w->b, ev->data, ev->data_len);
	if (!err)
		err = reg_buf_puts(&w->b, "}");
	w->n++;
	w->last = ev->seq;
	return err;
}

int reg_events_answer(struct reg *r, uint64_t cursor, int final, struct reg_response *resp)
{
	struct ev_walk w = { { 0 }, 0, cursor };
	struct reg_buf out = { 0 };
	int err;

	pthread_mutex_lock(&r->lock);
	err = r->store->ops->events_after(r->store, cursor, REG_EVENTS_BATCH_MAX, ev_cb, &w);
	pthread_mutex_unlock(&r->lock);
	if (err == -ERANGE) {
		reg_buf_free(&w.b);
		return reg_error_response(resp, 410, "cursor_expired",
					  "events after this cursor are gone; fetch /v1/peers and "
					  "continue from its version");
	}
	if (err) {
		reg_buf_free(&w.b);
		if (err != -ENOMEM)
			__atomic_add_fetch(&r->store_errors, 1, __ATOMIC_RELAXED);
		return reg_error_response(resp, 503, "store_unavailable",
					  "the registry's store failed");
	}
	if (w.n == 0 && !final) {
		reg_buf_free(&w.b);
		return -EAGAIN;
	}
	err = reg_buf_printf(&out, "{\"cursor\":%llu,\"events\":[", (unsigned long long)w.last);
	if (!err && w.b.len)
		err = reg_buf_put(&out, w.b.p, w.b.len);
	if (!err)
		err = reg_buf_puts(&out, "]}\n");
	reg_buf_free(&w.b);
	if (!err) {
		resp->body = reg_blob_from_buf(&out);
		err = resp->body ? 0 : -ENOMEM;
	}
	reg_buf_free(&out);
	if (err)
		return reg_error_response(resp, 500, "internal", "out of memory");
	resp->status = 200;
	resp->content_type = "application/json";
	return 0;
}

int reg_h_events(struct reg_ctx *c)
{
	static const char *const params[] = { "cursor", "timeout", NULL };
	struct reg *r = c->reg;
	uint64_t cursor = 0, timeout = REG_POLL_TIMEOUT_DEFAULT;
	int has_cursor, has_timeout, err;

	if (reg_require_peer(c) || reg_query_only(c, params) ||
	    reg_query_u64(c, "cursor", INT64_MAX, &cursor, &has_cursor) ||
	    reg_query_u64(c, "timeout", REG_POLL_TIMEOUT_MAX, &timeout, &has_timeout))
		return 0;
	if (!has_cursor) {
		/* no cursor: from now on */
		pthread_mutex_lock(&r->lock);
		err = r->store->ops->version(r->store, &cursor);
		pthread_mutex_unlock(&r->lock);
		if (err)
			return reg_reply_store(c, err);
	}
	err = reg_events_answer(r, cursor, timeout == 0, c->resp);
	if (err == -EAGAIN) {
		c->resp->wait = 1;
		c->resp->cursor = cursor;
		c->resp->timeout_s = (unsigned)timeout;
		return 0;
	}
	return err;
}

/* ---- reports ---- */

int reg_h_report_post(struct reg_ctx *c)
{
	struct reg *r = c->reg;
	struct reg_report rep;
	struct reg_buf rec = { 0 };
	uint64_t version = 0;
	int moved = 0, err;

	if (reg_require_peer(c))
		return 0;
	err = reg_body_report(c->req->body, c->req->body_len, &rep, &c->err);
	if (err == -ENOMEM)
		return reg_reply_status(c, 500, "internal", "out of memory");
	if (err)
		return reg_reply_err(c, &c->err);
	err = reg_signed_record(c->req, &rec);
	if (!err) {
		pthread_mutex_lock(&r->lock);
		err = r->store->ops->report_put(r->store, c->peer.name, (const uint8_t *)rec.p,
						rec.len, c->now);
		if (!err)
			err = r->store->ops->version(r->store, &version);
		pthread_mutex_unlock(&r->lock);
	}
	if (!err && rep.has_eps)
		err = move_peer(c, &rep.eps, &version, &moved);
	reg_report_clear(&rep);
	reg_buf_free(&rec);
	if (err == -ENOENT)
		return reg_reply_status(c, 403, "unknown_peer", "the peer left meanwhile");
	if (err)
		return reg_reply_store(c, err);
	if (moved)
		reg_notify(r, version);
	return version_reply(c, version, NULL);
}

int reg_h_report_get(struct reg_ctx *c)
{
	static const char *const params[] = { "peer", NULL };
	struct reg *r = c->reg;
	struct reg_buf b = { 0 };
	char name[REG_NAME_MAX + 1];
	const char *peer;
	uint8_t *rep = NULL;
	size_t len = 0;
	int64_t at = 0;
	int err;

	if (reg_require_peer(c) || reg_query_only(c, params) ||
	    reg_query(c, "peer", &peer, name, sizeof(name)))
		return 0;
	if (!peer)
		peer = c->peer.name;
	pthread_mutex_lock(&r->lock);
	err = r->store->ops->report_get(r->store, peer, &rep, &len, &at);
	pthread_mutex_unlock(&r->lock);
	if (err == -ENOENT)
		return reg_reply_status(c, 404, "no_report", "no report from this peer");
	if (err)
		return reg_reply_store(c, err);
	err = reg_buf_puts(&b, "{\"peer\":");
	if (!err)
		err = reg_buf_json_str(&b, peer, strlen(peer));
	if (!err)
		err = reg_buf_printf(&b, ",\"at\":%lld,\"record\":", (long long)at);
	if (!err)
		err = reg_buf_put(&b, rep, len);
	if (!err)
		err = reg_buf_puts(&b, "}");
	free(rep);
	return reg_reply_built(c, 200, &b, err);
}

/* ---- housekeeping ---- */

struct expired {
	int64_t now;
	char (*names)[REG_NAME_MAX + 1];
	size_t n, cap;
};

static int expired_cb(void *ctx, const struct reg_peer *p)
{
	struct expired *x = ctx;

	if (p->not_after > x->now || x->n == x->cap)
		return 0;
	memcpy(x->names[x->n++], p->name, sizeof(p->name));
	return 0;
}

void reg_expire_peers(struct reg *r, int64_t now)
{
	struct expired x = { .now = now, .cap = 256 };
	struct reg_buf ev = { 0 };
	uint64_t v;
	size_t i;

	x.names = calloc(x.cap, sizeof(*x.names));
	if (!x.names)
		return;
	if (r->store->ops->peers_each(r->store, expired_cb, &x) == 0) {
		for (i = 0; i < x.n; i++) {
			reg_buf_reset(&ev);
			if (leave_event(&ev, x.names[i], "expired") == 0)
				r->store->ops->peer_leave(r->store, x.names[i], now, ev.p, ev.len,
							  &v);
		}
	}
	reg_buf_free(&ev);
	free(x.names);
}
