// SPDX-License-Identifier: GPL-2.0-only
/*
 * The UAPI request processor: framing, `get`, and the all-or-nothing `set`
 * (parse into a transaction, check it against every cap, then apply).
 */
#include "uapi/uapi.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/compiler.h"
#include "common/encode.h"
#include "crypto/ct.h"
#include "io/endpoint.h"
#include "uapi/limits.h"
#include "uapi/text.h"

/* Room always kept for "errno=-2147483648\n\n". */
#define STATUS_RESERVE 32
/* A reply buffer larger than this is freed, not kept, once sent. */
#define REPLY_KEEP (64u << 10)

#define OP_LEN 6 /* "get=1\n", "set=1\n" */

/* ---- reply buffer ------------------------------------------------------ */

void uapi_reply_init(struct uapi_reply *r)
{
	memset(r, 0, sizeof(*r));
}

static int reply_reserve(struct uapi_reply *r, size_t extra)
{
	size_t cap;
	char *nb;

	if (extra > UAPI_MAX_REPLY - r->len)
		return -ENOMEM;
	if (r->len + extra <= r->cap)
		return 0;
	cap = r->cap ? r->cap : 512;
	while (cap < r->len + extra)
		cap = cap > UAPI_MAX_REPLY / 2 ? UAPI_MAX_REPLY : cap * 2;
	/* Not realloc: the old block may hold keys in hex and must be wiped. */
	nb = malloc(cap);
	if (!nb)
		return -ENOMEM;
	if (r->len)
		memcpy(nb, r->buf, r->len);
	if (r->buf) {
		cry_wipe(r->buf, r->cap);
		free(r->buf);
	}
	r->buf = nb;
	r->cap = cap;
	return 0;
}

int uapi_reply_append(struct uapi_reply *r, const void *p, size_t n)
{
	int ret = n ? reply_reserve(r, n) : 0;

	if (ret || !n)
		return ret;
	memcpy(r->buf + r->len, p, n);
	r->len += n;
	return 0;
}

static void reply_truncate(struct uapi_reply *r, size_t len)
{
	if (len < r->len) {
		cry_wipe(r->buf + len, r->len - len);
		r->len = len;
	}
}

void uapi_reply_reset(struct uapi_reply *r)
{
	if (r->cap > REPLY_KEEP) {
		uapi_reply_free(r);
		return;
	}
	reply_truncate(r, 0);
	r->close = false;
}

void uapi_reply_free(struct uapi_reply *r)
{
	if (!r)
		return;
	if (r->buf) {
		cry_wipe(r->buf, r->cap);
		free(r->buf);
	}
	uapi_reply_init(r);
}

__attribute__((format(printf, 2, 3))) static int put_fmt(struct uapi_reply *r, const char *fmt, ...)
{
	char line[160];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line))
		return -EINVAL; /* a bug: every line we format is short */
	return uapi_reply_append(r, line, (size_t)n);
}

/* "name=<64 lowercase hex>\n", in constant time (it may be a secret). */
static int put_key(struct uapi_reply *r, const char *name, const uint8_t key[WG_KEY_LEN])
{
	char line[32 + 2 * WG_KEY_LEN + 2];
	size_t n = strlen(name);
	int ret;

	memcpy(line, name, n);
	line[n++] = '=';
	sc_hex_encode(line + n, key, WG_KEY_LEN);
	n += 2 * WG_KEY_LEN;
	line[n++] = '\n';
	ret = uapi_reply_append(r, line, n);
	cry_wipe(line, sizeof(line));
	return ret;
}

/* ---- framing ----------------------------------------------------------- */

static bool is_op(const char *buf, size_t len)
{
	return len >= OP_LEN && (memcmp(buf, "get=1\n", OP_LEN) == 0 || /* not secret */
				 memcmp(buf, "set=1\n", OP_LEN) == 0);	/* not secret */
}

static bool is_op_prefix(const char *buf, size_t len)
{
	return len < OP_LEN && (memcmp(buf, "get=1\n", len) == 0 || /* not secret */
				memcmp(buf, "set=1\n", len) == 0);  /* not secret */
}

size_t uapi_request_len(const char *buf, size_t len, size_t seen)
{
	const char *nl;
	size_t i;

	if (!len)
		return 0;
	if (seen > len)
		seen = len;
	if (is_op(buf, len)) {
		/* The first "\n\n" from the operation line's newline on. A
		 * previous call saw none starting before seen - 1. */
		i = seen > OP_LEN ? seen - 1 : OP_LEN - 1;
		while (i + 1 < len) {
			nl = memchr(buf + i, '\n', len - i - 1);
			if (!nl)
				return 0;
			i = (size_t)(nl - buf);
			if (buf[i + 1] == '\n')
				return i + 2;
			i++;
		}
		return 0;
	}
	if (is_op_prefix(buf, len))
		return 0;
	/* Not an operation: the request is its first line. A previous call saw
	 * no newline in the first seen bytes. */
	nl = memchr(buf + seen, '\n', len - seen);
	return nl ? (size_t)(nl - buf) + 1 : 0;
}

/* ---- get --------------------------------------------------------------- */

static int put_endpoint(struct uapi_reply *r, const struct wg_endpoint *ep)
{
	const uint8_t *a;
	char host[48], zone[12] = "";

	if (ep->addr.sa.sa_family == AF_INET) {
		a = (const uint8_t *)&ep->addr.in4.sin_addr;
		return put_fmt(r, "endpoint=%u.%u.%u.%u:%u\n", a[0], a[1], a[2], a[3],
			       ntohs(ep->addr.in4.sin_port));
	}
	if (ep->addr.sa.sa_family != AF_INET6)
		return 0;
	uapi_text_ip6(host, sizeof(host), ep->addr.in6.sin6_addr.s6_addr);
	if (ep->addr.in6.sin6_scope_id)
		snprintf(zone, sizeof(zone), "%%%" PRIu32, ep->addr.in6.sin6_scope_id);
	return put_fmt(r, "endpoint=[%s%s]:%u\n", host, zone, ntohs(ep->addr.in6.sin6_port));
}

static int put_allowedip(void *ctx, int family, const uint8_t *addr, uint8_t cidr)
{
	char host[48];

	if (family == AF_INET)
		return put_fmt(ctx, "allowed_ip=%u.%u.%u.%u/%u\n", addr[0], addr[1], addr[2],
			       addr[3], cidr);
	uapi_text_ip6(host, sizeof(host), addr);
	return put_fmt(ctx, "allowed_ip=%s/%u\n", host, cidr);
}

static int put_peer(struct uapi_reply *r, const struct wg_peer *peer)
{
	struct wg_peer_info info;
	int ret;

	wg_peer_get_info(peer, &info);
	ret = put_key(r, "public_key", info.public_key);
	if (!ret)
		ret = put_key(r, "preshared_key", info.preshared_key);
	if (!ret)
		ret = put_fmt(r, "protocol_version=1\n");
	if (!ret)
		ret = put_endpoint(r, &info.endpoint);
	if (!ret)
		ret = put_fmt(r,
			      "last_handshake_time_sec=%" PRIu64 "\n"
			      "last_handshake_time_nsec=%" PRIu64 "\n",
			      info.last_handshake_ns / (uint64_t)SC_NSEC_PER_SEC,
			      info.last_handshake_ns % (uint64_t)SC_NSEC_PER_SEC);
	if (!ret)
		ret = put_fmt(r, "tx_bytes=%" PRIu64 "\nrx_bytes=%" PRIu64 "\n", info.tx_bytes,
			      info.rx_bytes);
	if (!ret)
		ret = put_fmt(r, "persistent_keepalive_interval=%u\n", info.persistent_keepalive);
	if (!ret)
		ret = wg_peer_walk_allowedips(peer, put_allowedip, r);
	cry_wipe(&info, sizeof(info));
	return ret;
}

static int do_get(struct wg_dev *dev, const struct uapi_host *host, struct uapi_reply *r)
{
	uint8_t priv[WG_KEY_LEN];
	const struct wg_peer *p;
	uint32_t mark = 0;
	uint16_t port = 0;
	int ret = 0;

	if (wg_dev_get_keys(dev, priv, NULL) == 0) {
		ret = put_key(r, "private_key", priv);
		cry_wipe(priv, sizeof(priv));
	}
	if (host && host->listen_port)
		port = host->listen_port(host->ctx);
	if (host && host->fwmark)
		mark = host->fwmark(host->ctx);
	if (!ret && port)
		ret = put_fmt(r, "listen_port=%u\n", port);
	if (!ret && mark)
		ret = put_fmt(r, "fwmark=%" PRIu32 "\n", mark);
	for (p = wg_dev_first_peer(dev); p && !ret; p = wg_dev_next_peer(p))
		ret = put_peer(r, p);
	return ret;
}

/* ---- set: parsing ------------------------------------------------------ */

struct txn_peer {
	struct wg_peer_config cfg; /* allowedips is set when applying */
	size_t aip_first;	   /* its allowed IPs: txn.aips[aip_first...] */
};

/* A whole `set` request, parsed. */
struct txn {
	const struct uapi_host *host;
	bool has_priv, has_port, has_fwmark, replace_peers;
	uint8_t priv[WG_KEY_LEN];
	uint16_t port;
	uint32_t fwmark;
	struct txn_peer *peers;
	size_t n_peers, cap_peers;
	struct wg_allowedip *aips;
	size_t n_aips, cap_aips;
};

static void txn_free(struct txn *t)
{
	if (t->peers) {
		cry_wipe(t->peers, t->cap_peers * sizeof(*t->peers));
		free(t->peers);
	}
	free(t->aips);
	cry_wipe(t, sizeof(*t));
}

/* A slice of the request. */
struct str {
	const char *p;
	size_t n;
};

static bool str_is(struct str s, const char *lit)
{
	size_t n = strlen(lit);

	return s.n == n && memcmp(s.p, lit, n) == 0; /* not secret */
}

static int parse_uint(struct str s, uint64_t max, uint64_t *out)
{
	return uapi_text_uint(s.p, s.n, max, out);
}

static int parse_key(struct str s, uint8_t key[WG_KEY_LEN])
{
	return uapi_text_key(s.p, s.n, key);
}

static int parse_true(struct str s)
{
	return str_is(s, "true") ? 0 : -EINVAL;
}

static int parse_endpoint(struct str s, struct wg_endpoint *out)
{
	struct io_endpoint ep;

	if (uapi_text_endpoint(s.p, s.n, &ep))
		return -EINVAL;
	return io_endpoint_to_wg(&ep, out) ? -EINVAL : 0;
}

static int parse_device_line(struct txn *t, struct str key, struct str val)
{
	const struct uapi_host *h = t->host;
	uint64_t v;

	if (str_is(key, "private_key")) {
		if (parse_key(val, t->priv))
			return -EINVAL;
		t->has_priv = true;
	} else if (str_is(key, "listen_port")) {
		if (parse_uint(val, UINT16_MAX, &v))
			return -EINVAL;
		if (!h || !h->set_listen_port)
			return -EOPNOTSUPP;
		t->port = (uint16_t)v;
		t->has_port = true;
	} else if (str_is(key, "fwmark")) {
		if (parse_uint(val, UINT32_MAX, &v))
			return -EINVAL;
		if (!h || !h->set_fwmark)
			return -EOPNOTSUPP;
		t->fwmark = (uint32_t)v;
		t->has_fwmark = true;
	} else if (str_is(key, "replace_peers")) {
		if (parse_true(val))
			return -EINVAL;
		t->replace_peers = true;
	} else {
		return -EINVAL;
	}
	return 0;
}

static int parse_peer_line(struct txn *t, struct str key, struct str val)
{
	struct txn_peer *p = &t->peers[t->n_peers - 1];
	struct wg_peer_config *c = &p->cfg;
	uint64_t v;
	int ret;

	if (str_is(key, "remove")) {
		if (parse_true(val))
			return -EINVAL;
		c->flags |= WG_PEER_REMOVE_ME;
	} else if (str_is(key, "update_only")) {
		if (parse_true(val))
			return -EINVAL;
		c->flags |= WG_PEER_UPDATE_ONLY;
	} else if (str_is(key, "preshared_key")) {
		if (parse_key(val, c->preshared_key))
			return -EINVAL;
		c->flags |= WG_PEER_HAS_PRESHARED_KEY;
	} else if (str_is(key, "endpoint")) {
		if (parse_endpoint(val, &c->endpoint))
			return -EINVAL;
		c->flags |= WG_PEER_HAS_ENDPOINT;
	} else if (str_is(key, "persistent_keepalive_interval")) {
		if (parse_uint(val, UINT16_MAX, &v))
			return -EINVAL;
		c->persistent_keepalive = (uint16_t)v;
		c->flags |= WG_PEER_HAS_PERSISTENT_KEEPALIVE;
	} else if (str_is(key, "replace_allowed_ips")) {
		if (parse_true(val))
			return -EINVAL;
		/* It removes what the block added before it, too. */
		t->n_aips = p->aip_first;
		c->n_allowedips = 0;
		c->flags |= WG_PEER_REPLACE_ALLOWEDIPS;
	} else if (str_is(key, "allowed_ip")) {
		ret = uapi_text_grow((void **)&t->aips, &t->cap_aips, t->n_aips, sizeof(*t->aips),
				     UAPI_MAX_ALLOWEDIPS);
		if (ret)
			return ret;
		if (uapi_text_allowedip(val.p, val.n, &t->aips[t->n_aips]))
			return -EINVAL;
		t->n_aips++;
		c->n_allowedips++;
	} else if (str_is(key, "protocol_version")) {
		if (!str_is(val, "1"))
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	return 0;
}

static int parse_public_key(struct txn *t, struct str val)
{
	struct txn_peer *p;
	int ret;

	ret = uapi_text_grow((void **)&t->peers, &t->cap_peers, t->n_peers, sizeof(*t->peers),
			     UAPI_MAX_PEERS);
	if (ret)
		return ret;
	p = &t->peers[t->n_peers];
	memset(p, 0, sizeof(*p));
	if (parse_key(val, p->cfg.public_key))
		return -EINVAL;
	p->cfg.flags = WG_PEER_HAS_PUBLIC_KEY;
	p->aip_first = t->n_aips;
	t->n_peers++;
	return 0;
}

static int parse_line(struct txn *t, const char *line, size_t n)
{
	const char *eq;
	struct str key, val;

	/* A NUL would end the C strings the value parsers see early. */
	if (n > UAPI_MAX_LINE || memchr(line, '\0', n))
		return -EINVAL;
	eq = memchr(line, '=', n);
	if (!eq)
		return -EPROTO; /* wireguard-go's IpcErrorProtocol */
	key = (struct str){ line, (size_t)(eq - line) };
	val = (struct str){ eq + 1, n - key.n - 1 };
	if (str_is(key, "public_key"))
		return parse_public_key(t, val);
	if (!t->n_peers)
		return parse_device_line(t, key, val);
	return parse_peer_line(t, key, val);
}

/* Parse the lines after "set=1\n" up to the empty line that must end req. */
static int parse_set(struct txn *t, const char *req, size_t len)
{
	const char *p = req + OP_LEN, *end = req + len, *nl;
	size_t lines = 0;
	int ret;

	for (;;) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			return -EINVAL; /* no final empty line */
		if (nl == p)
			return nl + 1 == end ? 0 : -EINVAL;
		if (++lines > UAPI_MAX_LINES)
			return -E2BIG;
		ret = parse_line(t, p, (size_t)(nl - p));
		if (ret)
			return ret;
		p = nl + 1;
	}
}

/* ---- set: the device's caps -------------------------------------------- */

static int count_one(void *ctx, int family, const uint8_t *addr, uint8_t cidr)
{
	(*(size_t *)ctx)++;
	return 0;
}

static size_t count_allowedips(const struct wg_peer *peer)
{
	size_t n = 0;

	if (peer)
		wg_peer_walk_allowedips(peer, count_one, &n);
	return n;
}

struct key_ref {
	const uint8_t *key;
	size_t idx;
};

static int key_ref_cmp(const void *a, const void *b)
{
	const struct key_ref *x = a, *y = b;
	int c = memcmp(x->key, y->key, WG_KEY_LEN); /* not secret: public keys */

	if (c)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* What the simulation knows of one public key of the request. */
struct key_state {
	bool exists;  /* the peer may exist (never false when it does) */
	bool cleared; /* its original allowed IPs were counted out */
	size_t orig;  /* its allowed IPs before the request */
};

/*
 * Would applying t push the device past WG_MAX_PEERS or WG_MAX_ALLOWEDIPS at
 * any point? wg_dev_set_peer would then fail halfway (-ENOSPC), so such a
 * request is refused before anything changes.
 *
 * The request is replayed on counters that never fall below the real counts:
 * a peer "may exist" unless the simulation knows it does not, and every
 * allowed_ip counts as a new entry (it may replace an identical prefix, or
 * take one over from another peer, without growing the table). A peer's
 * original entries are counted out at its first remove or
 * replace_allowed_ips; any of them taken over by another peer before that
 * was counted twice when it was taken, so the count stays an upper bound.
 * Exact except for requests that re-add prefixes the device already holds
 * near the cap.
 */
static int check_device_caps(struct wg_dev *dev, const struct txn *t)
{
	struct key_ref *refs = NULL;
	struct key_state *ks = NULL;
	size_t *kid = NULL, peers, aips = 0, i, adds;
	const struct wg_peer *p;
	const struct wg_allowedip *a;
	struct key_state *s;
	bool any_adds = false;
	int ret = -ENOMEM;

	if (!t->n_peers)
		return 0;
	for (i = 0; i < t->n_aips && !any_adds; i++)
		any_adds = !t->aips[i].remove;
	refs = calloc(t->n_peers, sizeof(*refs));
	ks = calloc(t->n_peers, sizeof(*ks));
	kid = calloc(t->n_peers, sizeof(*kid));
	if (!refs || !ks || !kid)
		goto out;
	for (i = 0; i < t->n_peers; i++)
		refs[i] = (struct key_ref){ t->peers[i].cfg.public_key, i };
	qsort(refs, t->n_peers, sizeof(*refs), key_ref_cmp);
	for (i = 0; i < t->n_peers; i++) {
		if (i && memcmp(refs[i].key, refs[i - 1].key, WG_KEY_LEN) == 0) { /* not secret */
			kid[refs[i].idx] = kid[refs[i - 1].idx];
			continue;
		}
		kid[refs[i].idx] = refs[i].idx;
		p = t->replace_peers ? NULL : wg_dev_find_peer(dev, refs[i].key);
		ks[refs[i].idx].exists = p != NULL;
		ks[refs[i].idx].orig = any_adds ? count_allowedips(p) : 0;
	}
	peers = t->replace_peers ? 0 : wg_dev_peer_count(dev);
	if (any_adds && !t->replace_peers)
		for (p = wg_dev_first_peer(dev); p; p = wg_dev_next_peer(p))
			aips += count_allowedips(p);
	ret = -ENOSPC;
	for (i = 0; i < t->n_peers; i++) {
		const struct wg_peer_config *c = &t->peers[i].cfg;

		s = &ks[kid[i]];
		if (c->flags & (WG_PEER_REMOVE_ME | WG_PEER_REPLACE_ALLOWEDIPS) && !s->cleared) {
			aips -= SC_MIN(aips, s->orig);
			s->cleared = true;
		}
		if (c->flags & WG_PEER_REMOVE_ME) {
			if (s->exists)
				peers--;
			s->exists = false;
			continue;
		}
		if (!s->exists) {
			if (c->flags & WG_PEER_UPDATE_ONLY)
				continue;
			s->exists = true;
			if (++peers > WG_MAX_PEERS)
				goto out;
		}
		if (!c->n_allowedips)
			continue; /* and t->aips may be NULL */
		a = &t->aips[t->peers[i].aip_first];
		for (adds = 0; adds < c->n_allowedips; adds++)
			aips += !a[adds].remove;
		if (aips > WG_MAX_ALLOWEDIPS)
			goto out;
	}
	ret = 0;
out:
	free(refs);
	free(ks);
	free(kid);
	return ret;
}

/* ---- set: applying ----------------------------------------------------- */

/* A host callback's result as a reply errno. */
static int host_errno(int ret)
{
	return ret > 0 || ret < -4095 ? -EIO : ret;
}

static int apply(struct wg_dev *dev, const struct uapi_host *h, uint64_t now,
		 const struct wg_sink *sink, struct txn *t)
{
	bool port_set = false, mark_set = false;
	uint16_t old_port = 0;
	uint32_t old_mark = 0;
	struct txn_peer *p;
	size_t i;
	int ret;

	/* The host's settings first: they are the ones that can fail. */
	if (t->has_port) {
		old_port = h->listen_port ? h->listen_port(h->ctx) : 0;
		/* Port 0 asks for any free port, so it always rebinds. */
		if (!t->port || t->port != old_port) {
			ret = host_errno(h->set_listen_port(h->ctx, t->port));
			if (ret)
				return ret;
			port_set = true;
		}
	}
	if (t->has_fwmark) {
		old_mark = h->fwmark ? h->fwmark(h->ctx) : 0;
		if (t->fwmark != old_mark) {
			ret = host_errno(h->set_fwmark(h->ctx, t->fwmark));
			if (ret)
				goto undo;
			mark_set = true;
		}
	}
	if (t->has_priv) {
		ret = wg_dev_set_private_key(dev, t->priv);
		if (ret)
			goto undo;
	}
	if (t->replace_peers)
		wg_dev_remove_all_peers(dev);
	for (i = 0; i < t->n_peers; i++) {
		p = &t->peers[i];
		p->cfg.allowedips = p->cfg.n_allowedips ? &t->aips[p->aip_first] : NULL;
		/* Validated and counted: only -ENOMEM can fail here. */
		ret = wg_dev_set_peer(dev, now, &p->cfg, sink, NULL);
		if (ret)
			return ret;
	}
	return 0;
undo:
	/* Best effort: restoring what was just set rarely fails, and if it
	 * does there is nothing better to do than report the first error. */
	if (mark_set)
		h->set_fwmark(h->ctx, old_mark);
	if (port_set)
		h->set_listen_port(h->ctx, old_port);
	return ret;
}

static int do_set(struct wg_dev *dev, const struct uapi_host *host, uint64_t now,
		  const struct wg_sink *sink, const char *req, size_t len)
{
	struct txn t;
	int ret;

	memset(&t, 0, sizeof(t));
	t.host = host;
	ret = parse_set(&t, req, len);
	if (!ret)
		ret = check_device_caps(dev, &t);
	if (!ret)
		ret = apply(dev, host, now, sink, &t);
	txn_free(&t);
	return ret;
}

/* ---- requests ---------------------------------------------------------- */

int uapi_handle(struct wg_dev *dev, const struct uapi_host *host, uint64_t now,
		const struct wg_sink *sink, const char *req, size_t len, struct uapi_reply *out)
{
	size_t start = out->len;
	int ret;

	if (!is_op(req, len)) {
		out->close = true;
		return -EBADMSG;
	}
	if (reply_reserve(out, STATUS_RESERVE)) {
		out->close = true;
		return -ENOMEM;
	}
	if (len > UAPI_MAX_REQUEST)
		ret = -E2BIG;
	else if (req[0] == 'g')
		ret = len == OP_LEN + 1 && req[OP_LEN] == '\n' ? do_get(dev, host, out) : -EINVAL;
	else
		ret = do_set(dev, host, now, sink, req, len);
	if (ret)
		reply_truncate(out, start);
	if (put_fmt(out, "errno=%d\n\n", ret)) {
		/* A get that filled the reply to UAPI_MAX_REPLY: drop it. The
		 * room reserved above is there again. */
		reply_truncate(out, start);
		ret = -ENOMEM;
		put_fmt(out, "errno=%d\n\n", ret);
	}
	return ret;
}
