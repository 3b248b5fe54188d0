// SPDX-License-Identifier: GPL-2.0-only
/*
 * The KEX mailbox (DESIGN.md section 8): store-and-forward of opaque
 * messages between two peers. The registry cannot read or forge them: each
 * is kept with the signed request that carried it, so the recipient checks
 * the sender's identity signature itself (and the message's own
 * cryptography). Bounded per pair and in lifetime (limits.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "registry/core.h"
#include "registry/limits.h"

static int kex_event(struct reg_buf *ev, const char *from, const char *to)
{
	int err = reg_buf_puts(ev, "{\"from\":");

	if (!err)
		err = reg_buf_json_str(ev, from, strlen(from));
	if (!err)
		err = reg_buf_puts(ev, ",\"to\":");
	if (!err)
		err = reg_buf_json_str(ev, to, strlen(to));
	if (!err)
		err = reg_buf_puts(ev, "}");
	return err;
}

static int kex_store(struct reg_ctx *c, const struct reg_kex *k, uint64_t *id, uint64_t *version)
{
	struct reg *r = c->reg;
	struct reg_buf rec = { 0 }, ev = { 0 };
	struct reg_peer to;
	int err = reg_signed_record(c->req, &rec);

	if (!err)
		err = kex_event(&ev, c->peer.name, k->to);
	if (err)
		goto out;
	if (rec.len > REG_KEX_RECORD_MAX) {
		err = -E2BIG;
		goto out;
	}
	pthread_mutex_lock(&r->lock);
	err = r->store->ops->peer_by_name(r->store, k->to, &to);
	if (!err)
		err = r->store->ops->kex_put(r->store, c->peer.name, k->to, (const uint8_t *)rec.p,
					     rec.len, c->now, c->now + k->ttl, ev.p, ev.len, id,
					     version);
	pthread_mutex_unlock(&r->lock);
out:
	reg_buf_free(&rec);
	reg_buf_free(&ev);
	return err;
}

int reg_h_kex_post(struct reg_ctx *c)
{
	struct reg_buf b = { 0 };
	struct reg_kex *k;
	uint64_t id = 0, version = 0;
	int64_t expires;
	int err;

	if (reg_require_peer(c))
		return 0;
	k = calloc(1, sizeof(*k));
	if (!k)
		return reg_reply_status(c, 500, "internal", "out of memory");
	err = reg_body_kex(c->req->body, c->req->body_len, k, &c->err);
	if (err) {
		free(k);
		return err == -ENOMEM ? reg_reply_status(c, 500, "internal", "out of memory")
				      : reg_reply_err(c, &c->err);
	}
	if (strcmp(k->to, c->peer.name) == 0) {
		free(k);
		return reg_reply_status(c, 400, "bad_field", "a peer cannot write to itself");
	}
	expires = c->now + k->ttl;
	err = kex_store(c, k, &id, &version);
	free(k);
	if (err == -ENOENT)
		return reg_reply_status(c, 404, "no_such_peer", "the recipient is not joined");
	if (err == -E2BIG)
		return reg_reply_status(c, 413, "body_too_large", "KEX record too large");
	if (err)
		return reg_reply_store(c, err);
	reg_notify(c->reg, version);
	if (reg_buf_printf(&b, "{\"id\":%llu,\"version\":%llu,\"expires\":%lld}",
			   (unsigned long long)id, (unsigned long long)version,
			   (long long)expires)) {
		reg_buf_free(&b);
		return reg_reply_status(c, 500, "internal", "out of memory");
	}
	return reg_reply(c, 200, &b);
}

struct kex_walk {
	struct reg_buf b;
	size_t n;
	uint64_t last;
};

static int kex_cb(void *ctx, const struct reg_kex_msg *m)
{
	struct kex_walk *w = ctx;
	int err = reg_buf_printf(&w->b, "%s{\"id\":%llu,\"from\":", w->n++ ? "," : "",
				 (unsigned long long)m->id);

	if (!err)
		err = reg_buf_json_str(&w->b, m->from, strlen(m->from));
	if (!err)
		err = reg_buf_printf(&w->b, ",\"created\":%lld,\"expires\":%lld,\"record\":",
				     (long long)m->created, (long long)m->expires);
	if (!err)
		err = reg_buf_put(&w->b, m->msg, m->len);
	if (!err)
		err = reg_buf_puts(&w->b, "}");
	w->last = m->id;
	return err;
}

int reg_h_kex_get(struct reg_ctx *c)
{
	static const char *const params[] = { "after", NULL };
	struct reg *r = c->reg;
	struct kex_walk w = { { 0 }, 0, 0 };
	struct reg_buf b = { 0 };
	uint64_t after = 0;
	int present, err;

	if (reg_require_peer(c) || reg_query_only(c, params) ||
	    reg_query_u64(c, "after", INT64_MAX, &after, &present))
		return 0;
	w.last = after;
	pthread_mutex_lock(&r->lock);
	err = r->store->ops->kex_get(r->store, c->peer.name, after, c->now, REG_KEX_FETCH_MAX,
				     kex_cb, &w);
	pthread_mutex_unlock(&r->lock);
	if (!err)
		err = reg_buf_puts(&b, "{\"messages\":[");
	if (!err && w.b.len)
		err = reg_buf_put(&b, w.b.p, w.b.len);
	if (!err)
		err = reg_buf_printf(&b, "],\"next\":%llu}", (unsigned long long)w.last);
	reg_buf_free(&w.b);
	if (err) {
		reg_buf_free(&b);
		return reg_reply_store(c, err);
	}
	return reg_reply(c, 200, &b);
}
