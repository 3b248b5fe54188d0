// SPDX-License-Identifier: GPL-2.0-only
/*
 * The UAPI socket server on a real event loop in a temporary directory: the
 * socket file (mode, stale and live sockets, unlink), requests over a real
 * connection (pipelined, split, half-closed), and misbehaving clients
 * (garbage, over the cap, not reading, too many) that must not disturb the
 * others. The loop runs on the main thread; each test's client runs on a
 * second thread and stops the loop when done.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "io/env.h"
#include "io/loop.h"
#include "uapi/limits.h"
#include "uapi/server.h"
#include "test.h"

struct fixture {
	char dir[64];  /* the temporary directory */
	char sock[96]; /* DIR/run/wgt0.sock */
	struct loop *loop;
	struct wg_dev *dev;
	struct sc_env env;
	struct uapi_server *srv;
	uint32_t mark; /* the host's fwmark */
	int requests;  /* callback calls */
	bool timed_out;
};

static struct fixture F;

static uint32_t host_mark(void *ctx)
{
	return F.mark;
}

static int host_set_mark(void *ctx, uint32_t mark)
{
	F.mark = mark;
	return 0;
}

static const struct uapi_host host = { NULL, NULL, host_mark, host_set_mark, NULL };

static void on_request(void *ctx, const char *req, size_t len, struct uapi_reply *out)
{
	F.requests++;
	uapi_handle(F.dev, &host, io_now_ns(), NULL, req, len, out);
}

static void on_timeout(void *ctx, uint64_t now)
{
	F.timed_out = true;
	loop_stop(F.loop);
}

static int setup(void)
{
	struct io_err err = { "" };
	char run[80];
	int ret;

	memset(&F, 0, sizeof(F));
	snprintf(F.dir, sizeof(F.dir), "/tmp/scope-uapi-test.XXXXXX");
	if (!mkdtemp(F.dir))
		return -errno;
	snprintf(run, sizeof(run), "%s/run", F.dir);
	snprintf(F.sock, sizeof(F.sock), "%s/wgt0.sock", run);
	io_env_init(&F.env);
	F.dev = wg_dev_new(&F.env);
	CHECK_EQ(loop_new(&F.loop), 0);
	loop_set_timer_fn(F.loop, on_timeout, NULL);
	/* The directory does not exist yet: the server makes it. */
	ret = uapi_server_new(run, "wgt0", F.loop, on_request, NULL, &F.srv, &err);
	if (ret)
		fprintf(stderr, "# uapi_server_new: %s\n", err.msg);
	CHECK_EQ(ret, 0);
	return ret;
}

static void teardown(void)
{
	char run[80];

	uapi_server_free(F.srv);
	loop_free(F.loop);
	wg_dev_free(F.dev);
	snprintf(run, sizeof(run), "%s/run", F.dir);
	rmdir(run);
	rmdir(F.dir);
}

/* Run fn on a client thread while the loop serves; 10 s at most. */
static void serve(void *(*fn)(void *))
{
	pthread_t th;

	loop_set_deadline(F.loop, io_now_ns() + 10 * SC_NSEC_PER_SEC);
	CHECK_EQ(pthread_create(&th, NULL, fn, NULL), 0);
	CHECK_EQ(loop_run(F.loop), 0);
	if (F.timed_out)
		fprintf(stderr, "# the client thread timed out\n");
	pthread_join(th, NULL);
	CHECK(!F.timed_out);
}

/* ---- client side (on the thread) ---------------------------------------- */

static int cl_connect(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct timeval tv = { 5, 0 };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", F.sock);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

static bool cl_send(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n) {
		w = send(fd, p, n, MSG_NOSIGNAL);
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

/* Read one reply (up to "errno=...\n\n") into buf; its length, or -1. */
static ssize_t cl_reply(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	ssize_t r;
	char *e;

	while (n + 1 < cap) {
		r = recv(fd, buf + n, 1, 0); /* one byte: never eat the next reply */
		if (r <= 0)
			return -1;
		n++;
		buf[n] = '\0';
		e = strstr(buf, "errno=");
		if (e && n >= 2 && buf[n - 1] == '\n' && buf[n - 2] == '\n' && e < buf + n - 2)
			return (ssize_t)n;
	}
	return -1;
}

/* Is the connection closed by the server (EOF, nothing more)? */
static bool cl_eof(int fd)
{
	char c;

	return recv(fd, &c, 1, 0) == 0;
}

static bool cl_roundtrip(int fd, const char *req, const char *want)
{
	char buf[512];
	ssize_t n;

	if (!cl_send(fd, req, strlen(req)))
		return false;
	n = cl_reply(fd, buf, sizeof(buf));
	if (n < 0 || strcmp(buf, want) != 0) {
		fprintf(stderr, "# %s -> %s\n", req, n < 0 ? "(nothing)" : buf);
		return false;
	}
	return true;
}

/* ---- tests ------------------------------------------------------------- */

static void *basic_client(void *arg)
{
	static const char pipelined[] = "set=1\nfwmark=5\n\nget=1\n\nset=1\nfwmark=x\n\nget=1\n\n";
	char buf[256];
	size_t i;
	int fd = cl_connect();

	CHECK(fd >= 0);
	CHECK(cl_roundtrip(fd, "get=1\n\n", "errno=0\n\n"));
	/* Several requests in one write: replies in order. */
	CHECK(cl_send(fd, pipelined, sizeof(pipelined) - 1));
	CHECK(cl_reply(fd, buf, sizeof(buf)) > 0 && strcmp(buf, "errno=0\n\n") == 0);
	CHECK(cl_reply(fd, buf, sizeof(buf)) > 0 && strcmp(buf, "fwmark=5\nerrno=0\n\n") == 0);
	CHECK(cl_reply(fd, buf, sizeof(buf)) > 0 && strcmp(buf, "errno=-22\n\n") == 0);
	CHECK(cl_reply(fd, buf, sizeof(buf)) > 0 && strcmp(buf, "fwmark=5\nerrno=0\n\n") == 0);
	/* One request in pieces of one byte. */
	for (i = 0; i < 17; i++)
		CHECK(cl_send(fd, &"set=1\nfwmark=77\n\n"[i], 1));
	CHECK(cl_reply(fd, buf, sizeof(buf)) > 0 && strcmp(buf, "errno=0\n\n") == 0);
	CHECK(cl_roundtrip(fd, "get=1\n\n", "fwmark=77\nerrno=0\n\n"));
	/* A second connection sees the same device. */
	{
		int fd2 = cl_connect();

		CHECK(cl_roundtrip(fd2, "get=1\n\n", "fwmark=77\nerrno=0\n\n"));
		close(fd2);
	}
	close(fd);
	loop_stop(F.loop);
	return NULL;
}

static void test_requests(void)
{
	struct stat st;

	if (setup())
		goto out;
	/* srwx------ like wireguard-go's; the directory 0755. */
	CHECK_EQ(lstat(F.sock, &st), 0);
	CHECK(S_ISSOCK(st.st_mode));
	CHECK_EQ(st.st_mode & 07777, 0700);
	CHECK(strcmp(uapi_server_path(F.srv), F.sock) == 0);
	{
		char run[80];

		snprintf(run, sizeof(run), "%s/run", F.dir);
		CHECK_EQ(stat(run, &st), 0);
		CHECK_EQ(st.st_mode & 07777, 0755);
	}
	serve(basic_client);
	CHECK_EQ(F.mark, 77);
	CHECK_EQ(F.requests, 8);
out:
	teardown();
	/* The socket file is gone, the directory stays (until rmdir). */
	CHECK(access(F.sock, F_OK) != 0);
}

static void test_socket_file(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct uapi_server *s2 = NULL;
	struct io_err err = { "" };
	char run[80], other[128];
	int fd;

	if (setup())
		goto out;
	snprintf(run, sizeof(run), "%s/run", F.dir);
	/* A live socket is refused, with a message naming it. */
	CHECK_EQ(uapi_server_new(run, "wgt0", F.loop, on_request, NULL, &s2, &err), -EADDRINUSE);
	CHECK(s2 == NULL);
	CHECK(strstr(err.msg, F.sock) != NULL);
	CHECK(access(F.sock, F_OK) == 0);
	/* A stale one (bound, nobody listening) is replaced. */
	snprintf(other, sizeof(other), "%s/wgt1.sock", run);
	CHECK(strlen(other) < sizeof(sun.sun_path));
	memcpy(sun.sun_path, other, strlen(other) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK_EQ(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	CHECK_EQ(uapi_server_new(run, "wgt1", F.loop, on_request, NULL, &s2, &err), 0);
	uapi_server_free(s2);
	s2 = NULL;
	CHECK(access(other, F_OK) != 0);
	/* Something that is not a socket is left alone. */
	fd = open(other, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	close(fd);
	CHECK_EQ(uapi_server_new(run, "wgt1", F.loop, on_request, NULL, &s2, &err), -EEXIST);
	CHECK(access(other, F_OK) == 0);
	unlink(other);
	/* Names. */
	CHECK_EQ(uapi_server_new(run, "", F.loop, on_request, NULL, &s2, &err), -EINVAL);
	CHECK_EQ(uapi_server_new(run, "a/b", F.loop, on_request, NULL, &s2, &err), -EINVAL);
	CHECK_EQ(uapi_server_new(run, "..", F.loop, on_request, NULL, &s2, &err), -EINVAL);
	CHECK_EQ(uapi_server_new(run, "0123456789abcdef", F.loop, on_request, NULL, &s2, &err),
		 -EINVAL);
	memset(other, 'd', sizeof(other) - 1);
	other[0] = '/';
	other[sizeof(other) - 1] = '\0';
	CHECK_EQ(uapi_server_new(other, "wgt2", F.loop, on_request, NULL, &s2, &err),
		 -ENAMETOOLONG);
	/* A directory path that is a file. */
	snprintf(other, sizeof(other), "%s/file", F.dir);
	fd = open(other, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	close(fd);
	CHECK_EQ(uapi_server_new(other, "wgt2", F.loop, on_request, NULL, &s2, &err), -ENOTDIR);
	unlink(other);
	CHECK(s2 == NULL);
	/* Another process replaced our file: it is not ours to unlink. */
	unlink(F.sock);
	fd = open(F.sock, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	close(fd);
	uapi_server_free(F.srv);
	F.srv = NULL;
	CHECK(access(F.sock, F_OK) == 0);
	unlink(F.sock);
	uapi_server_free(NULL);
out:
	teardown();
}

static void *misbehaving_client(void *arg)
{
	char buf[256], *big;
	size_t i;
	int bad, good, fds[UAPI_MAX_CLIENTS], extra;

	good = cl_connect();
	CHECK(cl_roundtrip(good, "set=1\nfwmark=9\n\n", "errno=0\n\n"));
	/* Not an operation: closed without a reply (wireguard-go). */
	bad = cl_connect();
	CHECK(cl_send(bad, "hello\n", 6));
	CHECK(cl_eof(bad));
	close(bad);
	/* Replies already queued still arrive before the close. */
	bad = cl_connect();
	CHECK(cl_send(bad, "get=1\n\nbogus\nget=1\n\n", 20));
	CHECK(cl_reply(bad, buf, sizeof(buf)) > 0 && strcmp(buf, "fwmark=9\nerrno=0\n\n") == 0);
	CHECK(cl_eof(bad));
	close(bad);
	/* Over the request cap: answered E2BIG and closed. */
	bad = cl_connect();
	big = malloc(UAPI_MAX_REQUEST + 4096);
	memset(big, '1', UAPI_MAX_REQUEST + 4096);
	memcpy(big, "set=1\nfwmark=", 13);
	cl_send(bad, big, UAPI_MAX_REQUEST + 4096); /* may fail once closed */
	free(big);
	CHECK(cl_reply(bad, buf, sizeof(buf)) > 0 && strcmp(buf, "errno=-7\n\n") == 0);
	close(bad);
	/* Ends in the middle of a request: refused, nothing applied. */
	bad = cl_connect();
	CHECK(cl_send(bad, "set=1\nfwmark=1\n", 15));
	shutdown(bad, SHUT_WR);
	CHECK(cl_reply(bad, buf, sizeof(buf)) > 0 && strcmp(buf, "errno=-22\n\n") == 0);
	CHECK(cl_eof(bad));
	close(bad);
	/* The first client never noticed. */
	CHECK(cl_roundtrip(good, "get=1\n\n", "fwmark=9\nerrno=0\n\n"));
	/* Too many clients: the one over the cap is closed at once. */
	for (i = 0; i < UAPI_MAX_CLIENTS - 1; i++)
		fds[i] = cl_connect();
	extra = cl_connect();
	CHECK(extra >= 0);
	CHECK(cl_eof(extra));
	close(extra);
	for (i = 0; i < UAPI_MAX_CLIENTS - 1; i++) {
		CHECK(cl_roundtrip(fds[i], "get=1\n\n", "fwmark=9\nerrno=0\n\n"));
		close(fds[i]);
	}
	CHECK(cl_roundtrip(good, "get=1\n\n", "fwmark=9\nerrno=0\n\n"));
	close(good);
	loop_stop(F.loop);
	return NULL;
}

static void test_misbehaving_clients(void)
{
	if (!setup())
		serve(misbehaving_client);
	CHECK_EQ(F.mark, 9);
	teardown();
}

/* A device whose `get` reply is far larger than a socket buffer. */
#define BIG_PEERS 20000

static size_t big_len;

static void *slow_client(void *arg)
{
	char buf[256], *all;
	size_t n = 0;
	ssize_t r;
	int slow = cl_connect(), fast = cl_connect();

	/* slow asks and does not read; the loop must go on serving fast. */
	CHECK(cl_send(slow, "get=1\n\n", 7));
	usleep(100 * 1000);
	CHECK(cl_roundtrip(fast, "set=1\nfwmark=3\n\n", "errno=0\n\n"));
	CHECK(cl_send(fast, "get=1\n\n", 7));
	all = malloc(big_len + 1);
	while (n < big_len) {
		r = recv(fast, all + n, big_len - n, 0);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	CHECK_EQ(n, big_len);
	/* Now slow reads its whole reply, taken before the fwmark change. */
	n = 0;
	while (n < big_len - strlen("fwmark=3\n")) {
		r = recv(slow, all + n, big_len - strlen("fwmark=3\n") - n, 0);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	CHECK_EQ(n, big_len - strlen("fwmark=3\n"));
	all[n] = '\0';
	CHECK(n > 20 && strcmp(all + n - 9, "errno=0\n\n") == 0);
	CHECK(strstr(all, "fwmark=") == NULL);
	/* And the connection is still good for more. */
	CHECK(cl_send(slow, "set=1\nfwmark=4\n\n", 16));
	CHECK(cl_reply(slow, buf, sizeof(buf)) > 0 && strcmp(buf, "errno=0\n\n") == 0);
	free(all);
	close(slow);
	close(fast);
	loop_stop(F.loop);
	return NULL;
}

static void test_slow_client(void)
{
	struct uapi_reply r = { 0 };
	struct wg_peer_config cfg;
	uint32_t i;

	if (setup())
		goto out;
	memset(&cfg, 0, sizeof(cfg));
	cfg.flags = WG_PEER_HAS_PUBLIC_KEY;
	for (i = 0; i < BIG_PEERS; i++) {
		memcpy(cfg.public_key, &i, sizeof(i));
		cfg.public_key[31] = 0x5a;
		CHECK_EQ(wg_dev_set_peer(F.dev, 0, &cfg, NULL, NULL), 0);
	}
	F.mark = 3;
	CHECK_EQ(uapi_handle(F.dev, &host, 0, NULL, "get=1\n\n", 7, &r), 0);
	big_len = r.len; /* with "fwmark=3\n" */
	CHECK(big_len > 4u << 20);
	uapi_reply_free(&r);
	F.mark = 0;
	serve(slow_client);
	CHECK_EQ(F.mark, 4);
out:
	teardown();
}

static const struct t_case cases[] = {
	T(test_requests),
	T(test_socket_file),
	T(test_misbehaving_clients),
	T(test_slow_client),
};

int main(void)
{
	return t_main("uapi-server", cases, SC_ARRAY_SIZE(cases));
}
