// SPDX-License-Identifier: GPL-2.0-only
/*
 * The control socket (ctlsock.h): one request line per connection, one JSON
 * document back, everything non-blocking on the engine's loop. The socket
 * file, accepting and the connections' I/O are io/unixsock.h's.
 */
#include "agent/ctlsock.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "crypto/keys.h"
#include "io/unixsock.h"
#include "proto/cert.h"

#define BACKLOG 8

struct ctl_client {
	struct unixsock_conn conn; /* first: the request is read into its buffer */
	char *out;		   /* the reply, once the request is complete */
	size_t out_len, out_off;
};

struct agent_ctlsock {
	struct unixsock *sock;
	agent_ctl_status_fn fn;
	void *ctx;
};

/* ---- the status document ------------------------------------------------- */

int agent_status_add_peer(struct agent_status *st, const struct agent_status_peer *p)
{
	struct agent_status_peer *np;
	struct proto_prefix *allowed = NULL;
	size_t cap;

	if (st->n_peers >= AGENT_CTL_MAX_PEERS || p->n_allowed > AGENT_CTL_MAX_ALLOWED)
		return -ENOSPC;
	if (st->n_peers == st->cap_peers) {
		cap = st->cap_peers ? st->cap_peers * 2 : 16;
		np = realloc(st->peers, cap * sizeof(*np));
		if (!np)
			return -ENOMEM;
		st->peers = np;
		st->cap_peers = cap;
	}
	if (p->n_allowed) {
		allowed = malloc(p->n_allowed * sizeof(*allowed));
		if (!allowed)
			return -ENOMEM;
		memcpy(allowed, p->allowed, p->n_allowed * sizeof(*allowed));
	}
	st->peers[st->n_peers] = *p;
	st->peers[st->n_peers].allowed = allowed;
	st->n_peers++;
	return 0;
}

void agent_status_reset(struct agent_status *st)
{
	for (size_t i = 0; i < st->n_peers; i++)
		free((void *)st->peers[i].allowed);
	free(st->peers);
	memset(st, 0, sizeof(*st));
}

static const char *role_name(uint8_t role)
{
	switch (role) {
	case PROTO_ROLE_EDGE:
		return "edge";
	case PROTO_ROLE_RELAY:
		return "relay";
	case PROTO_ROLE_MASTER:
		return "master";
	}
	return "unknown";
}

static const char *path_name(enum agent_path p)
{
	switch (p) {
	case AGENT_PATH_DIRECT:
		return "direct";
	case AGENT_PATH_RELAY:
		return "relay";
	case AGENT_PATH_NONE:
		break;
	}
	return "none";
}

/* json_object_set_new refuses a NULL value; count it as out of memory. */
static int set(json_t *o, const char *k, json_t *v)
{
	return v ? json_object_set_new(o, k, v) : -1;
}

static json_t *opt_int(bool has, uint64_t v)
{
	return has ? json_integer((json_int_t)(v > INT64_MAX ? INT64_MAX : v)) : json_null();
}

static json_t *uint_json(uint64_t v)
{
	return opt_int(true, v);
}

static json_t *key_json(const uint8_t key[PROTO_KEY_LEN])
{
	char b64[CRY_KEY_B64_LEN + 1];

	cry_key_to_b64(b64, key);
	return json_string(b64);
}

static json_t *peer_json(const struct agent_status_peer *p)
{
	char ep[PROTO_ENDPOINT_STRLEN], pfx[PROTO_PREFIX_STRLEN];
	json_t *o = json_object(), *a = json_array();
	int bad = !o || !a;

	for (size_t i = 0; !bad && i < p->n_allowed; i++) {
		proto_prefix_format(pfx, &p->allowed[i]);
		bad |= json_array_append_new(a, json_string(pfx));
	}
	if (p->has_endpoint)
		proto_endpoint_format(ep, &p->endpoint);
	bad |= set(o, "name", json_string(p->name));
	bad |= set(o, "role", json_string(role_name(p->role)));
	bad |= set(o, "public_key", key_json(p->key));
	bad |= set(o, "endpoint", p->has_endpoint ? json_string(ep) : json_null());
	bad |= set(o, "last_handshake_age", opt_int(p->has_handshake, p->handshake_age));
	bad |= set(o, "rx_bytes", uint_json(p->rx_bytes));
	bad |= set(o, "tx_bytes", uint_json(p->tx_bytes));
	bad |= set(o, "allowed_ips", json_incref(a));
	bad |= set(o, "path", json_string(path_name(p->path)));
	bad |= set(o, "via", p->path == AGENT_PATH_RELAY ? json_string(p->via) : json_null());
	bad |= set(o, "psk_version", opt_int(p->has_psk, p->psk_version));
	bad |= set(o, "psk_age_s", opt_int(p->has_psk, p->psk_age_s));
	bad |= set(o, "psk_working", opt_int(p->has_kex, p->psk_working));
	bad |= set(o, "pq_state", opt_int(p->has_kex, p->pq_state));
	bad |= set(o, "classical", uint_json(p->classical));
	bad |= set(o, "psk_kept", opt_int(p->has_kex, p->psk_kept));
	bad |= set(o, "psk_reverts", opt_int(p->has_kex, p->psk_reverts));
	json_decref(a);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

char *agent_status_json(const struct agent_status *st)
{
	json_t *doc = json_object(), *reg = json_object(), *kill = json_object();
	json_t *peers = json_array();
	char *s = NULL;
	int bad = !doc || !reg || !kill || !peers;

	for (size_t i = 0; !bad && i < st->n_peers; i++)
		bad |= json_array_append_new(peers, peer_json(&st->peers[i]));
	bad |= set(reg, "url", json_string(st->registry));
	bad |= set(reg, "reachable", json_boolean(st->registry_reachable));
	bad |= set(reg, "last_contact_age",
		   opt_int(st->has_registry_contact, st->registry_contact_age));
	bad |= set(kill, "killed", json_boolean(st->killed));
	bad |= set(kill, "serial", opt_int(st->killed, st->kill_serial));
	bad |= set(doc, "version", json_integer(1));
	bad |= set(doc, "network", json_string(st->network));
	bad |= set(doc, "interface", json_string(st->ifname));
	bad |= set(doc, "role", json_string(role_name(st->role)));
	bad |= set(doc, "public_key", key_json(st->public_key));
	bad |= set(doc, "listen_port", json_integer(st->listen_port));
	bad |= set(doc, "registry", json_incref(reg));
	bad |= set(doc, "kill", json_incref(kill));
	bad |= set(doc, "peers", json_incref(peers));
	if (!bad)
		s = json_dumps(doc, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(reg);
	json_decref(kill);
	json_decref(peers);
	json_decref(doc);
	return s;
}

/* ---- clients ------------------------------------------------------------- */

static void client_free(void *ctx, struct unixsock_conn *conn)
{
	free(((struct ctl_client *)conn)->out);
}

static char *error_doc(const char *msg)
{
	json_t *o = json_pack("{s:s}", "error", msg);
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	return s;
}

static char *status_doc(struct agent_ctlsock *s)
{
	struct agent_status st;
	char *doc, msg[96];
	int ret;

	memset(&st, 0, sizeof(st));
	ret = s->fn(s->ctx, &st);
	if (ret) {
		snprintf(msg, sizeof(msg), "status unavailable: %s", strerror(-ret));
		doc = error_doc(msg);
	} else {
		doc = agent_status_json(&st);
	}
	agent_status_reset(&st);
	return doc;
}

/* The reply to the request in[0, n) (without its newline). */
static void client_answer(struct agent_ctlsock *s, struct ctl_client *c, size_t n, bool complete)
{
	const char *in = c->conn.in;
	char *doc, *line;
	size_t len;

	if (n && in[n - 1] == '\r')
		n--;
	if (!complete)
		doc = error_doc("request too long");
	else if (n == 6 && memcmp(in, "status", 6) == 0) /* not secret */
		doc = status_doc(s);
	else
		doc = error_doc("unknown request (try \"status\")");
	len = doc ? strlen(doc) : 0;
	line = doc ? realloc(doc, len + 2) : NULL;
	if (!line) {
		free(doc);
		unixsock_close(&c->conn);
		return;
	}
	line[len] = '\n';
	line[len + 1] = '\0';
	c->out = line;
	c->out_len = len + 1;
	if (unixsock_watch(&c->conn, EPOLLOUT))
		unixsock_close(&c->conn);
}

static void client_event(void *ctx, struct unixsock_conn *conn, uint32_t events)
{
	struct ctl_client *c = (struct ctl_client *)conn;
	const char *nl;

	if (c->out) {
		/* Sent, or the client is gone: either way, done. */
		if (unixsock_send(conn, c->out, c->out_len, &c->out_off))
			unixsock_close(conn);
		return;
	}
	if (unixsock_read(conn)) {
		unixsock_close(conn);
		return;
	}
	nl = memchr(conn->in, '\n', conn->in_len);
	if (nl)
		client_answer(ctx, c, (size_t)(nl - conn->in), true);
	else if (conn->in_len == AGENT_CTL_MAX_REQUEST)
		client_answer(ctx, c, conn->in_len, false);
	else if (conn->eof)
		unixsock_close(conn); /* silent mid-request */
}

/* ---- the socket ---------------------------------------------------------- */

int agent_ctlsock_new(const char *dir, const char *ifname, struct loop *loop,
		      agent_ctl_status_fn fn, void *ctx, struct agent_ctlsock **out, char *err,
		      size_t errlen)
{
	struct unixsock_cfg cfg = {
		.dir = dir,
		.name = ifname,
		/* Root only, in practice: the status names peers, endpoints, traffic. */
		.mode = S_IRUSR | S_IWUSR,
		.backlog = BACKLOG,
		.max_conns = AGENT_CTL_MAX_CLIENTS,
		.evict_oldest = true,
		.conn_size = sizeof(struct ctl_client),
		.in_first = AGENT_CTL_MAX_REQUEST,
		.in_max = AGENT_CTL_MAX_REQUEST,
		.what = "control socket",
		.in_use = "is scoped already running?",
		.on_event = client_event,
		.on_close = client_free,
	};
	struct io_err ioerr = { "" };
	struct agent_ctlsock *s;
	int ret;

	s = calloc(1, sizeof(*s));
	if (!s) {
		ret = io_errf(&ioerr, -ENOMEM, "control socket");
	} else {
		s->fn = fn;
		s->ctx = ctx;
		cfg.ctx = s;
		ret = unixsock_new(&cfg, loop, &s->sock, &ioerr);
	}
	if (ret) {
		if (err && errlen)
			snprintf(err, errlen, "%s", ioerr.msg);
		free(s);
		return ret;
	}
	*out = s;
	return 0;
}

void agent_ctlsock_free(struct agent_ctlsock *s)
{
	if (!s)
		return;
	unixsock_free(s->sock);
	free(s);
}

const char *agent_ctlsock_path(const struct agent_ctlsock *s)
{
	return unixsock_path(s->sock);
}

size_t agent_ctlsock_clients(const struct agent_ctlsock *s)
{
	return unixsock_conns(s->sock);
}
