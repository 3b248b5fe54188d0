// SPDX-License-Identifier: GPL-2.0-only
/*
 * The control socket (ctlsock.h): one request line per connection, one JSON
 * document back, everything non-blocking on the engine's loop.
 */
#define _GNU_SOURCE /* accept4 */
#include "agent/ctlsock.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "crypto/keys.h"
#include "proto/cert.h"

#define BACKLOG 8

struct ctl_client {
	struct agent_ctlsock *srv;
	struct ctl_client *next, *prev; /* newest first */
	int fd;
	char in[AGENT_CTL_MAX_REQUEST];
	size_t in_len;
	char *out; /* the reply, once the request is complete */
	size_t out_len, out_off;
};

struct agent_ctlsock {
	struct loop *loop;
	int fd;
	agent_ctl_status_fn fn;
	void *ctx;
	struct ctl_client *clients, *oldest;
	size_t n_clients;
	dev_t dev; /* the socket file we made, to unlink only that */
	ino_t ino;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
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

static void client_close(struct ctl_client *c)
{
	struct agent_ctlsock *s = c->srv;

	loop_del_fd(s->loop, c->fd);
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		s->oldest = c->prev;
	s->n_clients--;
	free(c->out);
	free(c);
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
static void client_answer(struct ctl_client *c, size_t n, bool complete)
{
	char *doc, *line;
	size_t len;

	if (n && c->in[n - 1] == '\r')
		n--;
	if (!complete)
		doc = error_doc("request too long");
	else if (n == 6 && memcmp(c->in, "status", 6) == 0) /* not secret */
		doc = status_doc(c->srv);
	else
		doc = error_doc("unknown request (try \"status\")");
	len = doc ? strlen(doc) : 0;
	line = doc ? realloc(doc, len + 2) : NULL;
	if (!line) {
		free(doc);
		client_close(c);
		return;
	}
	line[len] = '\n';
	line[len + 1] = '\0';
	c->out = line;
	c->out_len = len + 1;
	if (loop_mod_fd(c->srv->loop, c->fd, EPOLLOUT))
		client_close(c);
}

/* Read until a newline. 1: a request is complete (or too long), 0: wait,
 * -1: the client is gone or went silent mid-request. */
static int client_read(struct ctl_client *c, size_t *req_len, bool *complete)
{
	ssize_t n;
	char *nl;

	for (;;) {
		if (c->in_len == sizeof(c->in)) {
			*complete = false;
			*req_len = c->in_len;
			return 1;
		}
		n = read(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
		if (n == 0)
			return -1;
		nl = memchr(c->in + c->in_len, '\n', (size_t)n);
		c->in_len += (size_t)n;
		if (nl) {
			*complete = true;
			*req_len = (size_t)(nl - c->in);
			return 1;
		}
	}
}

static void client_write(struct ctl_client *c)
{
	ssize_t n;

	while (c->out_off < c->out_len) {
		/* MSG_NOSIGNAL: a client that left gets EPIPE, not us SIGPIPE. */
		n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0)
			break;
		c->out_off += (size_t)n;
	}
	client_close(c);
}

static void client_event(void *ctx, int fd, uint32_t events)
{
	struct ctl_client *c = ctx;
	bool complete = false;
	size_t n = 0;
	int ret;

	if (c->out) {
		client_write(c);
		return;
	}
	ret = client_read(c, &n, &complete);
	if (ret < 0)
		client_close(c);
	else if (ret > 0)
		client_answer(c, n, complete);
}

static void on_accept(void *ctx, int fd, uint32_t events)
{
	struct agent_ctlsock *s = ctx;
	struct ctl_client *c;
	int cfd;

	for (;;) {
		cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0 && (errno == EINTR || errno == ECONNABORTED))
			continue;
		if (cfd < 0)
			return;
		/* Full: the oldest connection is the likeliest to be stuck. */
		if (s->n_clients >= AGENT_CTL_MAX_CLIENTS)
			client_close(s->oldest);
		c = calloc(1, sizeof(*c));
		if (!c || loop_add_fd(s->loop, cfd, EPOLLIN, client_event, c)) {
			close(cfd);
			free(c);
			continue;
		}
		c->srv = s;
		c->fd = cfd;
		c->next = s->clients;
		if (s->clients)
			s->clients->prev = c;
		else
			s->oldest = c;
		s->clients = c;
		s->n_clients++;
	}
}

/* ---- the socket ---------------------------------------------------------- */

__attribute__((format(printf, 4, 5))) static int errf(char *err, size_t errlen, int neg,
						      const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		snprintf(err, errlen, "%s: %s", msg, strerror(-neg));
	}
	return neg;
}

static bool ifname_ok(const char *ifname)
{
	size_t n = strnlen(ifname, 16);

	return n > 0 && n < 16 && !strchr(ifname, '/') && strcmp(ifname, ".") != 0 &&
	       strcmp(ifname, "..") != 0;
}

/* The path is taken: replace it if it is a socket nobody answers on. */
static int clear_stale(const struct sockaddr_un *sun, char *err, size_t errlen)
{
	struct stat st;
	int fd, ret;

	if (lstat(sun->sun_path, &st))
		return errno == ENOENT ? 0
				       : errf(err, errlen, -errno, "cannot stat %s", sun->sun_path);
	if (!S_ISSOCK(st.st_mode))
		return errf(err, errlen, -EEXIST, "%s exists and is not a socket", sun->sun_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errf(err, errlen, -errno, "socket");
	ret = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) ? -errno : 0;
	close(fd);
	if (ret == 0 || ret == -EAGAIN)
		return errf(err, errlen, -EADDRINUSE, "%s is in use: is scoped already running?",
			    sun->sun_path);
	if (ret != -ECONNREFUSED && ret != -ENOENT)
		return errf(err, errlen, ret, "cannot probe %s", sun->sun_path);
	if (unlink(sun->sun_path) && errno != ENOENT)
		return errf(err, errlen, -errno, "cannot remove the stale socket %s",
			    sun->sun_path);
	return 0;
}

static int listen_on(struct agent_ctlsock *s, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int ret;

	memcpy(sun.sun_path, s->path, sizeof(sun.sun_path));
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		return errf(err, errlen, -errno, "cannot create the control socket");
	if (bind(s->fd, (struct sockaddr *)&sun, sizeof(sun))) {
		if (errno != EADDRINUSE)
			return errf(err, errlen, -errno, "cannot bind %s", s->path);
		ret = clear_stale(&sun, err, errlen);
		if (ret)
			return ret;
		if (bind(s->fd, (struct sockaddr *)&sun, sizeof(sun)))
			return errf(err, errlen, -errno, "cannot bind %s", s->path);
	}
	/* Before listen(): nobody can connect while the mode is the umask's. */
	if (chmod(s->path, S_IRUSR | S_IWUSR) || stat(s->path, &st)) {
		ret = errf(err, errlen, -errno, "cannot set the mode of %s", s->path);
		unlink(s->path);
		return ret;
	}
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	if (listen(s->fd, BACKLOG)) {
		ret = errf(err, errlen, -errno, "cannot listen on %s", s->path);
		unlink(s->path);
		return ret;
	}
	return 0;
}

static int make_dir(const char *dir, char *err, size_t errlen)
{
	struct stat st;

	if (mkdir(dir, 0755) && errno != EEXIST)
		return errf(err, errlen, -errno, "cannot create %s", dir);
	if (stat(dir, &st))
		return errf(err, errlen, -errno, "cannot stat %s", dir);
	if (!S_ISDIR(st.st_mode))
		return errf(err, errlen, -ENOTDIR, "%s", dir);
	return 0;
}

int agent_ctlsock_new(const char *dir, const char *ifname, struct loop *loop,
		      agent_ctl_status_fn fn, void *ctx, struct agent_ctlsock **out, char *err,
		      size_t errlen)
{
	struct agent_ctlsock *s;
	int n, ret;

	if (!ifname_ok(ifname))
		return errf(err, errlen, -EINVAL, "bad interface name '%.16s'", ifname);
	s = calloc(1, sizeof(*s));
	if (!s)
		return errf(err, errlen, -ENOMEM, "control socket");
	s->fd = -1;
	s->loop = loop;
	s->fn = fn;
	s->ctx = ctx;
	n = snprintf(s->path, sizeof(s->path), "%s/%s.sock", dir, ifname);
	if (n < 0 || (size_t)n >= sizeof(s->path)) {
		ret = errf(err, errlen, -ENAMETOOLONG, "control socket path %s/%s.sock", dir,
			   ifname);
		goto fail;
	}
	ret = make_dir(dir, err, errlen);
	if (!ret)
		ret = listen_on(s, err, errlen);
	if (ret)
		goto fail;
	ret = loop_add_fd(loop, s->fd, EPOLLIN, on_accept, s);
	if (ret) {
		errf(err, errlen, ret, "cannot watch %s", s->path);
		unlink(s->path);
		goto fail;
	}
	*out = s;
	return 0;
fail:
	if (s->fd >= 0)
		close(s->fd);
	free(s);
	return ret;
}

void agent_ctlsock_free(struct agent_ctlsock *s)
{
	struct stat st;

	if (!s)
		return;
	while (s->clients)
		client_close(s->clients);
	loop_del_fd(s->loop, s->fd);
	close(s->fd);
	/* Only our own file: a newer daemon may have replaced it. */
	if (lstat(s->path, &st) == 0 && st.st_dev == s->dev && st.st_ino == s->ino)
		unlink(s->path);
	free(s);
}

const char *agent_ctlsock_path(const struct agent_ctlsock *s)
{
	return s->path;
}

size_t agent_ctlsock_clients(const struct agent_ctlsock *s)
{
	return s->n_clients;
}
