// SPDX-License-Identifier: GPL-2.0-only
/*
 * The UAPI unix socket server (server.h): frame requests, hand them to the
 * callback, queue their replies. The socket file, accepting, reading and
 * non-blocking writes are io/unixsock.h's.
 */
#include "uapi/server.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "io/unixsock.h"
#include "uapi/limits.h"

/* First size of a client's read buffer; it doubles up to UAPI_MAX_REQUEST. */
#define IN_FIRST 4096

struct uapi_client {
	struct unixsock_conn conn; /* first: the buffer [in_off, in_len) not handled yet */
	size_t seen;		   /* of the unhandled bytes: scanned, no request ends there */
	struct uapi_reply out;	   /* the reply being written, from out_off */
	size_t out_off;
	bool closing; /* close once out is written */
};

struct uapi_server {
	struct unixsock *sock;
	uapi_request_fn fn;
	void *ctx;
};

/* Requests and replies carry private and preshared keys: unixsock wipes the
 * input, uapi_reply_free the reply. */
static void client_free(void *ctx, struct unixsock_conn *conn)
{
	struct uapi_client *c = (struct uapi_client *)conn;

	uapi_reply_free(&c->out);
}

static void client_request(struct uapi_server *s, struct uapi_client *c, size_t len)
{
	s->fn(s->ctx, c->conn.in + c->conn.in_off, len, &c->out);
	unixsock_consume(&c->conn, len);
	c->seen = 0;
	if (c->out.close)
		c->closing = true;
}

/* Write replies and handle requests until the client must wait for the
 * socket or for more bytes, then watch the matching event. */
static void client_run(struct uapi_server *s, struct uapi_client *c)
{
	struct unixsock_conn *conn = &c->conn;
	size_t n, avail;
	int ret;

	for (;;) {
		ret = unixsock_send(conn, c->out.buf, c->out.len, &c->out_off);
		if (ret < 0) {
			unixsock_close(conn);
			return;
		}
		if (ret == 0)
			break;
		uapi_reply_reset(&c->out);
		c->out_off = 0;
		if (c->closing) {
			unixsock_close(conn);
			return;
		}
		avail = conn->in_len - conn->in_off;
		n = avail ? uapi_request_len(conn->in + conn->in_off, avail, c->seen) : 0;
		if (n) {
			client_request(s, c, n);
			continue;
		}
		c->seen = avail;
		if (conn->eof) {
			/* A request cut short: the callback refuses it. */
			if (avail)
				client_request(s, c, avail);
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
	unixsock_watch(conn, c->out_off < c->out.len ? EPOLLOUT : EPOLLIN);
}

static void client_event(void *ctx, struct unixsock_conn *conn, uint32_t events)
{
	/* HUP and ERR come unasked; reading then finds EOF or the error. */
	if (conn->events & EPOLLIN && events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		if (unixsock_read(conn)) {
			unixsock_close(conn);
			return;
		}
	}
	client_run(ctx, (struct uapi_client *)conn);
}

int uapi_server_new(const char *dir, const char *ifname, struct loop *loop, uapi_request_fn fn,
		    void *ctx, struct uapi_server **out, struct io_err *err)
{
	struct unixsock_cfg cfg = {
		.dir = dir,
		.name = ifname,
		.mode = S_IRWXU, /* srwx------ like wireguard-go's */
		.backlog = UAPI_BACKLOG,
		.max_conns = UAPI_MAX_CLIENTS,
		.conn_size = sizeof(struct uapi_client),
		.in_first = IN_FIRST,
		.in_max = UAPI_MAX_REQUEST,
		.what = "UAPI socket",
		.in_use = "another WireGuard process serves this interface",
		.on_event = client_event,
		.on_close = client_free,
	};
	struct uapi_server *s;
	int ret;

	s = calloc(1, sizeof(*s));
	if (!s)
		return io_errf(err, -ENOMEM, "UAPI server");
	s->fn = fn;
	s->ctx = ctx;
	cfg.ctx = s;
	ret = unixsock_new(&cfg, loop, &s->sock, err);
	if (ret) {
		free(s);
		return ret;
	}
	*out = s;
	return 0;
}

void uapi_server_free(struct uapi_server *s)
{
	if (!s)
		return;
	unixsock_free(s->sock);
	free(s);
}

const char *uapi_server_path(const struct uapi_server *s)
{
	return unixsock_path(s->sock);
}

size_t uapi_server_clients(const struct uapi_server *s)
{
	return unixsock_conns(s->sock);
}
