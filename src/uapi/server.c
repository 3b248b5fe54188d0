// SPDX-License-Identifier: GPL-2.0-only
/*
 * The UAPI unix socket server (server.h): accept, frame requests, hand them
 * to the callback, write replies without blocking.
 */
#define _GNU_SOURCE /* accept4 */
#include "uapi/server.h"

#include <errno.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "crypto/ct.h"
#include "uapi/limits.h"

/* First size of a client's read buffer; it doubles up to UAPI_MAX_REQUEST. */
#define IN_FIRST 4096
/* Bytes read per read(2). */
#define READ_CHUNK (64u << 10)

struct uapi_client {
	struct uapi_server *srv;
	struct uapi_client *next, *prev;
	int fd;
	uint32_t events; /* what the loop watches */
	char *in;	 /* received bytes: [off, len) are not handled yet */
	size_t in_off, in_len, in_cap;
	size_t seen;	       /* of [off, len): scanned, no request ends there */
	struct uapi_reply out; /* the reply being written, from out_off */
	size_t out_off;
	bool eof;     /* the client will send nothing more */
	bool closing; /* close once out is written */
};

struct uapi_server {
	struct loop *loop;
	int fd;
	bool accept_paused; /* out of file descriptors: until a client leaves */
	uapi_request_fn fn;
	void *ctx;
	struct uapi_client *clients;
	size_t n_clients;
	dev_t dev; /* the socket file we made, to unlink only that */
	ino_t ino;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

/* ---- clients ----------------------------------------------------------- */

static void client_close(struct uapi_client *c)
{
	struct uapi_server *s = c->srv;

	loop_del_fd(s->loop, c->fd);
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->n_clients--;
	/* Requests and replies carry private and preshared keys. */
	if (c->in) {
		cry_wipe(c->in, c->in_cap);
		free(c->in);
	}
	uapi_reply_free(&c->out);
	free(c);
	if (s->accept_paused && loop_mod_fd(s->loop, s->fd, EPOLLIN) == 0)
		s->accept_paused = false;
}

/* Make room to read: drop handled bytes, grow up to the cap. 0, -ENOBUFS
 * (full at the cap) or -ENOMEM. */
static int client_room(struct uapi_client *c)
{
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
	if (c->in_cap >= UAPI_MAX_REQUEST)
		return -ENOBUFS;
	cap = c->in_cap ? c->in_cap * 2 : IN_FIRST;
	if (cap > UAPI_MAX_REQUEST)
		cap = UAPI_MAX_REQUEST;
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

/* Read what is there, up to the cap. 0 or -errno (close the client). */
static int client_read(struct uapi_client *c)
{
	size_t want;
	ssize_t n;
	int ret;

	while (!c->eof) {
		ret = client_room(c);
		if (ret == -ENOBUFS)
			return 0; /* full: client_run() answers or handles it */
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

/* Write the pending reply. 1 if all of it left, 0 if the socket is full,
 * -errno if the client is gone. */
static int client_flush(struct uapi_client *c)
{
	ssize_t n;

	while (c->out_off < c->out.len) {
		/* MSG_NOSIGNAL: a client that left gets EPIPE, not us SIGPIPE. */
		n = send(c->fd, c->out.buf + c->out_off, c->out.len - c->out_off,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n >= 0) {
			c->out_off += (size_t)n;
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

static void client_request(struct uapi_client *c, size_t len)
{
	c->srv->fn(c->srv->ctx, c->in + c->in_off, len, &c->out);
	c->in_off += len;
	c->seen = 0;
	if (c->out.close)
		c->closing = true;
}

/* Write replies and handle requests until the client must wait for the
 * socket or for more bytes, then watch the matching event. */
static void client_run(struct uapi_client *c)
{
	uint32_t want;
	size_t n, avail;
	int ret;

	for (;;) {
		ret = client_flush(c);
		if (ret < 0) {
			client_close(c);
			return;
		}
		if (ret == 0)
			break;
		uapi_reply_reset(&c->out);
		c->out_off = 0;
		if (c->closing) {
			client_close(c);
			return;
		}
		avail = c->in_len - c->in_off;
		n = avail ? uapi_request_len(c->in + c->in_off, avail, c->seen) : 0;
		if (n) {
			client_request(c, n);
			continue;
		}
		c->seen = avail;
		if (c->eof) {
			/* A request cut short: the callback refuses it. */
			if (avail)
				client_request(c, avail);
			c->closing = true;
		} else if (avail >= UAPI_MAX_REQUEST) {
			char msg[24];

			n = (size_t)snprintf(msg, sizeof(msg), "errno=%d\n\n", -E2BIG);
			uapi_reply_append(&c->out, msg, n);
			c->closing = true;
		} else {
			break;
		}
	}
	want = c->out_off < c->out.len ? EPOLLOUT : EPOLLIN;
	if (want != c->events && loop_mod_fd(c->srv->loop, c->fd, want) == 0)
		c->events = want;
}

static void client_event(void *ctx, int fd, uint32_t events)
{
	struct uapi_client *c = ctx;

	/* HUP and ERR come unasked; reading then finds EOF or the error. */
	if (c->events & EPOLLIN && events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		if (client_read(c)) {
			client_close(c);
			return;
		}
	}
	client_run(c);
}

static void on_accept(void *ctx, int fd, uint32_t events)
{
	struct uapi_server *s = ctx;
	struct uapi_client *c;
	int cfd;

	for (;;) {
		cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			/* Out of descriptors or memory: the socket stays readable,
			 * so stop watching it until a client leaves. */
			if (errno != EAGAIN && errno != EWOULDBLOCK && s->n_clients &&
			    loop_mod_fd(s->loop, fd, 0) == 0)
				s->accept_paused = true;
			return;
		}
		c = s->n_clients < UAPI_MAX_CLIENTS ? calloc(1, sizeof(*c)) : NULL;
		if (!c) {
			close(cfd);
			continue;
		}
		c->srv = s;
		c->fd = cfd;
		c->events = EPOLLIN;
		if (loop_add_fd(s->loop, cfd, EPOLLIN, client_event, c)) {
			close(cfd);
			free(c);
			continue;
		}
		c->next = s->clients;
		if (s->clients)
			s->clients->prev = c;
		s->clients = c;
		s->n_clients++;
	}
}

/* ---- the socket -------------------------------------------------------- */

static bool ifname_ok(const char *ifname)
{
	size_t n = strnlen(ifname, IFNAMSIZ);

	return n > 0 && n < IFNAMSIZ && !strchr(ifname, '/') && strcmp(ifname, ".") != 0 &&
	       strcmp(ifname, "..") != 0;
}

static int make_dir(const char *dir, struct io_err *err)
{
	struct stat st;

	if (mkdir(dir, 0755) && errno != EEXIST)
		return io_errf(err, -errno, "cannot create the UAPI directory %s", dir);
	if (stat(dir, &st))
		return io_errf(err, -errno, "cannot stat the UAPI directory %s", dir);
	if (!S_ISDIR(st.st_mode))
		return io_errf(err, -ENOTDIR, "%s is not a directory", dir);
	return 0;
}

/* The path is taken: if nobody answers there, it is a stale socket of a
 * process that died, and is replaced. 0 (unlinked), or -errno. */
static int clear_stale(const struct sockaddr_un *sun, const char *ifname, struct io_err *err)
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
		return io_errf(err, -EADDRINUSE,
			       "%s is in use: another WireGuard process serves interface %s",
			       sun->sun_path, ifname);
	if (ret != -ECONNREFUSED && ret != -ENOENT)
		return io_errf(err, ret, "cannot probe %s", sun->sun_path);
	if (unlink(sun->sun_path) && errno != ENOENT)
		return io_errf(err, -errno, "cannot remove the stale socket %s", sun->sun_path);
	return 0;
}

static int listen_on(struct uapi_server *s, const char *ifname, struct io_err *err)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int ret;

	memcpy(sun.sun_path, s->path, sizeof(sun.sun_path));
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		return io_errf(err, -errno, "cannot create the UAPI socket");
	if (bind(s->fd, (struct sockaddr *)&sun, sizeof(sun))) {
		if (errno != EADDRINUSE)
			return io_errf(err, -errno, "cannot bind the UAPI socket %s", s->path);
		ret = clear_stale(&sun, ifname, err);
		if (ret)
			return ret;
		if (bind(s->fd, (struct sockaddr *)&sun, sizeof(sun)))
			return io_errf(err, -errno, "cannot bind the UAPI socket %s", s->path);
	}
	/* Before listen(), so nobody connects while the mode is still the
	 * umask's: connecting to a socket that does not listen is refused. */
	if (chmod(s->path, S_IRWXU) || stat(s->path, &st)) {
		ret = io_errf(err, -errno, "cannot set the mode of %s", s->path);
		unlink(s->path);
		return ret;
	}
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	if (listen(s->fd, UAPI_BACKLOG)) {
		ret = io_errf(err, -errno, "cannot listen on %s", s->path);
		unlink(s->path);
		return ret;
	}
	return 0;
}

int uapi_server_new(const char *dir, const char *ifname, struct loop *loop, uapi_request_fn fn,
		    void *ctx, struct uapi_server **out, struct io_err *err)
{
	struct uapi_server *s;
	int n, ret;

	if (!ifname_ok(ifname))
		return io_errf(err, -EINVAL, "bad interface name '%.*s'", IFNAMSIZ, ifname);
	s = calloc(1, sizeof(*s));
	if (!s)
		return io_errf(err, -ENOMEM, "UAPI server");
	s->fd = -1;
	s->loop = loop;
	s->fn = fn;
	s->ctx = ctx;
	n = snprintf(s->path, sizeof(s->path), "%s/%s.sock", dir, ifname);
	if (n < 0 || (size_t)n >= sizeof(s->path)) {
		ret = io_errf(err, -ENAMETOOLONG, "UAPI socket path %s/%s.sock is too long", dir,
			      ifname);
		goto fail;
	}
	ret = make_dir(dir, err);
	if (!ret)
		ret = listen_on(s, ifname, err);
	if (ret)
		goto fail;
	ret = loop_add_fd(loop, s->fd, EPOLLIN, on_accept, s);
	if (ret) {
		io_errf(err, ret, "cannot watch %s", s->path);
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

void uapi_server_free(struct uapi_server *s)
{
	struct stat st;

	if (!s)
		return;
	while (s->clients)
		client_close(s->clients);
	loop_del_fd(s->loop, s->fd);
	close(s->fd);
	/* Only our own file: a newer process may have replaced it. */
	if (lstat(s->path, &st) == 0 && st.st_dev == s->dev && st.st_ino == s->ino)
		unlink(s->path);
	free(s);
}

const char *uapi_server_path(const struct uapi_server *s)
{
	return s->path;
}

size_t uapi_server_clients(const struct uapi_server *s)
{
	return s->n_clients;
}
