// SPDX-License-Identifier: GPL-2.0-only
/*
 * A local unix stream socket on the event loop (unixsock.h): the socket file,
 * accepting, and the connections' input buffers and non-blocking sends.
 */
#define _GNU_SOURCE /* accept4 */
#include "io/unixsock.h"

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "crypto/ct.h"

/* Bytes read per read(2). */
#define READ_CHUNK (64u << 10)

struct unixsock {
	struct loop *loop;
	int fd;
	bool accept_paused; /* out of file descriptors: until a connection closes */
	struct unixsock_cfg cfg;
	struct unixsock_conn *conns, *oldest;
	size_t n_conns;
	dev_t dev; /* the socket file we made, to unlink only that */
	ino_t ino;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

/* ---- connections ------------------------------------------------------- */

void unixsock_close(struct unixsock_conn *c)
{
	struct unixsock *u = c->srv;

	loop_del_fd(u->loop, c->fd);
	close(c->fd);
	c->fd = -1;
	if (c->prev)
		c->prev->next = c->next;
	else
		u->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		u->oldest = c->prev;
	u->n_conns--;
	if (u->cfg.on_close)
		u->cfg.on_close(u->cfg.ctx, c);
	if (c->in) {
		cry_wipe(c->in, c->in_cap);
		free(c->in);
	}
	free(c);
	if (u->accept_paused && loop_mod_fd(u->loop, u->fd, EPOLLIN) == 0)
		u->accept_paused = false;
}

/* Make room to read: drop consumed bytes, grow up to the cap. 0, -ENOBUFS
 * (full at the cap) or -ENOMEM. */
static int conn_room(struct unixsock_conn *c)
{
	const struct unixsock_cfg *cfg = &c->srv->cfg;
	size_t cap;
	char *nb;

	if (c->in_off) {
		memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
		cry_wipe(c->in + c->in_len - c->in_off, c->in_off);
		c->in_len -= c->in_off;
		c->in_off = 0;
	}
	if (c->in_len < c->in_cap)
		return 0;
	if (c->in_cap >= cfg->in_max)
		return -ENOBUFS;
	cap = c->in_cap ? c->in_cap * 2 : cfg->in_first;
	if (cap > cfg->in_max)
		cap = cfg->in_max;
	/* Not realloc: the old block is wiped. */
	nb = malloc(cap);
	if (!nb)
		return -ENOMEM;
	if (c->in) {
		memcpy(nb, c->in, c->in_len);
		cry_wipe(c->in, c->in_cap);
		free(c->in);
	}
	c->in = nb;
	c->in_cap = cap;
	return 0;
}

int unixsock_read(struct unixsock_conn *c)
{
	size_t want;
	ssize_t n;
	int ret;

	while (!c->eof) {
		ret = conn_room(c);
		if (ret == -ENOBUFS)
			return 0; /* full: the owner decides */
		if (ret)
			return ret;
		want = c->in_cap - c->in_len;
		if (want > READ_CHUNK)
			want = READ_CHUNK;
		n = read(c->fd, c->in + c->in_len, want);
		if (n > 0) {
			c->in_len += (size_t)n;
			continue;
		}
		if (n == 0) {
			c->eof = true;
			break;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			break;
		return -errno;
	}
	return 0;
}

void unixsock_consume(struct unixsock_conn *c, size_t n)
{
	c->in_off += n;
}

int unixsock_send(struct unixsock_conn *c, const void *buf, size_t len, size_t *off)
{
	ssize_t n;

	while (*off < len) {
		/* MSG_NOSIGNAL: a peer that left gets us EPIPE, not SIGPIPE. */
		n = send(c->fd, (const char *)buf + *off, len - *off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n >= 0) {
			*off += (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		return -errno;
	}
	return 1;
}

int unixsock_watch(struct unixsock_conn *c, uint32_t events)
{
	int ret;

	if (events == c->events)
		return 0;
	ret = loop_mod_fd(c->srv->loop, c->fd, events);
	if (ret == 0)
		c->events = events;
	return ret;
}

static void conn_event(void *ctx, int fd, uint32_t events)
{
	struct unixsock_conn *c = ctx;

	c->srv->cfg.on_event(c->srv->cfg.ctx, c, events);
}

/* Take the accepted fd, or close it if there is no room. */
static void conn_add(struct unixsock *u, int fd)
{
	struct unixsock_conn *c;

	if (u->n_conns >= u->cfg.max_conns) {
		if (!u->cfg.evict_oldest) {
			close(fd);
			return;
		}
		/* The oldest connection is the likeliest to be stuck. */
		unixsock_close(u->oldest);
	}
	c = calloc(1, u->cfg.conn_size);
	if (!c || loop_add_fd(u->loop, fd, EPOLLIN, conn_event, c)) {
		close(fd);
		free(c);
		return;
	}
	c->srv = u;
	c->fd = fd;
	c->events = EPOLLIN;
	c->next = u->conns;
	if (u->conns)
		u->conns->prev = c;
	else
		u->oldest = c;
	u->conns = c;
	u->n_conns++;
}

static void on_accept(void *ctx, int fd, uint32_t events)
{
	struct unixsock *u = ctx;
	int cfd;

	for (;;) {
		cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd >= 0) {
			conn_add(u, cfd);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		/* Out of descriptors or memory: the socket stays readable, so
		 * stop watching it until a connection closes (if one ever will). */
		if (errno != EAGAIN && errno != EWOULDBLOCK && u->n_conns &&
		    loop_mod_fd(u->loop, fd, 0) == 0)
			u->accept_paused = true;
		return;
	}
}

/* ---- the socket file --------------------------------------------------- */

static bool name_ok(const char *name)
{
	size_t n = strnlen(name, IFNAMSIZ);

	return n > 0 && n < IFNAMSIZ && !strchr(name, '/') && strcmp(name, ".") != 0 &&
	       strcmp(name, "..") != 0;
}

static bool cfg_ok(const struct unixsock_cfg *cfg)
{
	return cfg->max_conns > 0 && cfg->conn_size >= sizeof(struct unixsock_conn) &&
	       cfg->in_first > 0 && cfg->in_first <= cfg->in_max && cfg->on_event;
}

static int make_dir(const char *dir, struct io_err *err)
{
	struct stat st;

	if (mkdir(dir, 0755) && errno != EEXIST)
		return io_errf(err, -errno, "cannot create the directory %s", dir);
	if (stat(dir, &st))
		return io_errf(err, -errno, "cannot stat the directory %s", dir);
	if (!S_ISDIR(st.st_mode))
		return io_errf(err, -ENOTDIR, "%s is not a directory", dir);
	return 0;
}

/* The path is taken: if nobody answers there, it is a stale socket of a
 * process that died, and is replaced. 0 (unlinked), or -errno. */
static int clear_stale(const struct unixsock *u, const struct sockaddr_un *sun, struct io_err *err)
{
	struct stat st;
	int fd, ret;

	if (lstat(sun->sun_path, &st))
		return errno == ENOENT ? 0 : io_errf(err, -errno, "cannot stat %s", sun->sun_path);
	if (!S_ISSOCK(st.st_mode))
		return io_errf(err, -EEXIST, "%s exists and is not a socket", sun->sun_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return io_errf(err, -errno, "socket");
	ret = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) ? -errno : 0;
	close(fd);
	/* EAGAIN: someone listens, its backlog is full. */
	if (ret == 0 || ret == -EAGAIN)
		return io_errf(err, -EADDRINUSE, "%s is in use: %s", sun->sun_path, u->cfg.in_use);
	if (ret != -ECONNREFUSED && ret != -ENOENT)
		return io_errf(err, ret, "cannot probe %s", sun->sun_path);
	if (unlink(sun->sun_path) && errno != ENOENT)
		return io_errf(err, -errno, "cannot remove the stale socket %s", sun->sun_path);
	return 0;
}

static int listen_on(struct unixsock *u, struct io_err *err)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int ret;

	memcpy(sun.sun_path, u->path, sizeof(sun.sun_path));
	u->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (u->fd < 0)
		return io_errf(err, -errno, "cannot create the %s", u->cfg.what);
	if (bind(u->fd, (struct sockaddr *)&sun, sizeof(sun))) {
		if (errno != EADDRINUSE)
			return io_errf(err, -errno, "cannot bind the %s %s", u->cfg.what, u->path);
		ret = clear_stale(u, &sun, err);
		if (ret)
			return ret;
		if (bind(u->fd, (struct sockaddr *)&sun, sizeof(sun)))
			return io_errf(err, -errno, "cannot bind the %s %s", u->cfg.what, u->path);
	}
	/* Before listen(), so nobody connects while the mode is still the
	 * umask's: connecting to a socket that does not listen is refused. */
	if (chmod(u->path, u->cfg.mode) || stat(u->path, &st)) {
		ret = io_errf(err, -errno, "cannot set the mode of %s", u->path);
		unlink(u->path);
		return ret;
	}
	u->dev = st.st_dev;
	u->ino = st.st_ino;
	if (listen(u->fd, u->cfg.backlog)) {
		ret = io_errf(err, -errno, "cannot listen on %s", u->path);
		unlink(u->path);
		return ret;
	}
	return 0;
}

int unixsock_new(const struct unixsock_cfg *cfg, struct loop *loop, struct unixsock **out,
		 struct io_err *err)
{
	struct unixsock *u;
	int n, ret;

	if (!cfg_ok(cfg))
		return io_errf(err, -EINVAL, "bad settings for the %s", cfg->what);
	if (!name_ok(cfg->name))
		return io_errf(err, -EINVAL, "bad interface name '%.*s'", IFNAMSIZ, cfg->name);
	u = calloc(1, sizeof(*u));
	if (!u)
		return io_errf(err, -ENOMEM, "%s", cfg->what);
	u->fd = -1;
	u->loop = loop;
	u->cfg = *cfg;
	n = snprintf(u->path, sizeof(u->path), "%s/%s.sock", cfg->dir, cfg->name);
	if (n < 0 || (size_t)n >= sizeof(u->path)) {
		ret = io_errf(err, -ENAMETOOLONG, "%s path %s/%s.sock is too long", cfg->what,
			      cfg->dir, cfg->name);
		goto fail;
	}
	ret = make_dir(cfg->dir, err);
	if (!ret)
		ret = listen_on(u, err);
	if (ret)
		goto fail;
	ret = loop_add_fd(loop, u->fd, EPOLLIN, on_accept, u);
	if (ret) {
		io_errf(err, ret, "cannot watch %s", u->path);
		unlink(u->path);
		goto fail;
	}
	*out = u;
	return 0;
fail:
	if (u->fd >= 0)
		close(u->fd);
	free(u);
	return ret;
}

void unixsock_free(struct unixsock *u)
{
	struct stat st;

	if (!u)
		return;
	while (u->conns)
		unixsock_close(u->conns);
	loop_del_fd(u->loop, u->fd);
	close(u->fd);
	/* Only our own file: a newer process may have replaced it. */
	if (lstat(u->path, &st) == 0 && st.st_dev == u->dev && st.st_ino == u->ino)
		unlink(u->path);
	free(u);
}

const char *unixsock_path(const struct unixsock *u)
{
	return u->path;
}

size_t unixsock_conns(const struct unixsock *u)
{
	return u->n_conns;
}
