// SPDX-License-Identifier: GPL-2.0-only
/*
 * uapi-replay: UAPI requests on stdin, their replies on stdout, processed by
 * uapi_handle() against one fresh device (no key, no peers, port 0, fwmark
 * 0, down). tests/netns/uapi_compat.sh sends the same requests to
 * wireguard-go and compares the bytes.
 *
 * Requests are framed as the server frames them; an incomplete one at the
 * end is handed over as it is (and refused), and a request that is not a get
 * or set ends the run, as it ends a connection.
 *
 * uapi-replay --serve DIR IFNAME: the same device behind the UAPI socket
 * server at DIR/IFNAME.sock, for `wg`, until SIGTERM or SIGINT.
 *
 * uapi-replay --client SOCKET: the requests on stdin go to another UAPI
 * server through src/uapi/client.c, one connection each, and its replies
 * come out; every `get` reply must also parse (uapi_get_parse) into as many
 * peers as it has public_key lines, or the run fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/env.h"
#include "io/loop.h"
#include "uapi/client.h"
#include "uapi/server.h"
#include "uapi/uapi.h"

struct host_state {
	uint16_t port;
	uint32_t mark;
};

static uint16_t get_port(void *ctx)
{
	return ((struct host_state *)ctx)->port;
}

static int set_port(void *ctx, uint16_t port)
{
	/* Port 0 means any free one; a real host would bind and report it. */
	((struct host_state *)ctx)->port = port ? port : 51820;
	return 0;
}

static uint32_t get_mark(void *ctx)
{
	return ((struct host_state *)ctx)->mark;
}

static int set_mark(void *ctx, uint32_t mark)
{
	((struct host_state *)ctx)->mark = mark;
	return 0;
}

static struct host_state hs;
static struct uapi_host host = { get_port, set_port, get_mark, set_mark, &hs };
static struct wg_dev *dev;

static void on_request(void *ctx, const char *req, size_t len, struct uapi_reply *out)
{
	uapi_handle(dev, &host, io_now_ns(), NULL, req, len, out);
}

static void on_signal(void *ctx, int signo)
{
	loop_stop(ctx);
}

static int serve(const char *dir, const char *ifname)
{
	struct uapi_server *srv = NULL;
	struct io_err err = { "" };
	struct loop *loop = NULL;
	int ret;

	ret = loop_new(&loop);
	if (!ret)
		ret = loop_set_signal_fn(loop, on_signal, loop);
	if (!ret)
		ret = uapi_server_new(dir, ifname, loop, on_request, NULL, &srv, &err);
	if (ret) {
		fprintf(stderr, "uapi-replay: %s (%d)\n", err.msg, ret);
		loop_free(loop);
		return 1;
	}
	printf("listening %s\n", uapi_server_path(srv));
	fflush(stdout);
	ret = loop_run(loop);
	uapi_server_free(srv);
	loop_free(loop);
	return ret ? 1 : 0;
}

static size_t count(const char *buf, size_t len, const char *what)
{
	size_t n = 0, k = strlen(what), i;

	for (i = 0; i + k <= len; i++)
		n += (i == 0 || buf[i - 1] == '\n') && memcmp(buf + i, what, k) == 0;
	return n;
}

/* One request on its own connection; its reply appended to out. */
static int client_one(const char *path, const char *req, size_t len, struct uapi_reply *out)
{
	struct uapi_dev_state *st = NULL;
	struct io_err err = { "" };
	size_t start = out->len;
	int fd, ret, status = 0;

	ret = uapi_client_connect(path, 5000, &fd, &err);
	if (ret) {
		fprintf(stderr, "uapi-replay: %s\n", err.msg);
		return ret;
	}
	ret = uapi_client_request(fd, req, len, out, &status);
	close(fd);
	if (ret == -EPROTO && out->len == start)
		return 0; /* closed without a reply: not a get or set */
	if (ret || status || strncmp(req, "get=1\n", 6) != 0)
		return ret;
	ret = uapi_get_parse(out->buf + start, out->len - start, &st);
	if (!ret && st->n_peers != count(out->buf + start, out->len - start, "public_key="))
		ret = -EBADMSG;
	if (ret)
		fprintf(stderr, "uapi-replay: a get reply does not parse (%d)\n", ret);
	uapi_dev_state_free(st);
	return ret;
}

int main(int argc, char **argv)
{
	struct uapi_reply out = { 0 };
	struct sc_env env;
	size_t len = 0, cap = 1 << 16, off = 0, n;
	char *in = malloc(cap);

	io_env_init(&env);
	dev = wg_dev_new(&env);
	if (!in || !dev) {
		fprintf(stderr, "uapi-replay: out of memory\n");
		return 1;
	}
	if (argc == 4 && strcmp(argv[1], "--serve") == 0) {
		n = (size_t)serve(argv[2], argv[3]);
		wg_dev_free(dev);
		free(in);
		return (int)n;
	}
	if (argc != 1 && !(argc == 3 && strcmp(argv[1], "--client") == 0)) {
		fprintf(stderr, "usage: uapi-replay [--client SOCKET] < requests\n"
				"       uapi-replay --serve DIR IFNAME\n");
		wg_dev_free(dev);
		free(in);
		return 1;
	}
	while ((n = fread(in + len, 1, cap - len, stdin)) > 0) {
		len += n;
		if (len == cap) {
			char *nb = realloc(in, cap * 2);

			if (!nb) {
				fprintf(stderr, "uapi-replay: out of memory\n");
				return 1;
			}
			in = nb;
			cap *= 2;
		}
	}
	while (off < len && !out.close) {
		n = uapi_request_len(in + off, len - off, 0);
		if (!n)
			n = len - off;
		if (argc == 3) {
			if (client_one(argv[2], in + off, n, &out))
				return 1;
		} else {
			uapi_handle(dev, &host, io_now_ns(), NULL, in + off, n, &out);
		}
		off += n;
	}
	if (out.len && fwrite(out.buf, 1, out.len, stdout) != out.len)
		return 1;
	uapi_reply_free(&out);
	wg_dev_free(dev);
	free(in);
	return 0;
}
