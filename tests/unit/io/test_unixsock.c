// SPDX-License-Identifier: GPL-2.0-only
/*
 * The unix socket server on a real event loop in a temporary directory: the
 * socket file (made with its mode whatever the umask, a stale socket
 * replaced, a live one and a non-socket refused and left alone, only our own
 * file unlinked), and the connections (echo through the input buffer and
 * non-blocking sends, the buffer's cap, the connection cap with either
 * policy, a full send buffer, a vanished peer, pausing accept when out of
 * file descriptors). Everything runs on one thread: the test's client
 * sockets are read between short runs of the loop.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "io/env.h"
#include "io/loop.h"
#include "io/unixsock.h"
#include "test.h"

struct tconn {
	struct unixsock_conn conn;
	char out[64]; /* the echo being sent */
	size_t out_len, out_off;
};

struct fixture {
	char dir[64];  /* the temporary directory */
	char run[80];  /* DIR/run, made by unixsock_new */
	char sock[96]; /* DIR/run/t0.sock */
	struct loop *loop;
	struct unixsock *u;
	struct unixsock_cfg cfg;
	bool hold;		    /* read, but neither consume nor answer */
	struct unixsock_conn *last; /* the connection of the last event */
	int closes;		    /* on_close calls */
};

static struct fixture F;

/* Echo what arrives; close once the peer has finished and all is sent. */
static void on_event(void *ctx, struct unixsock_conn *conn, uint32_t events)
{
	struct tconn *c = (struct tconn *)conn;
	size_t n;
	int ret;

	F.last = conn;
	if (unixsock_read(conn)) {
		unixsock_close(conn);
		return;
	}
	if (F.hold)
		return;
	if (c->out_off == c->out_len) {
		n = conn->in_len - conn->in_off;
		if (n > sizeof(c->out))
			n = sizeof(c->out);
		memcpy(c->out, conn->in + conn->in_off, n);
		unixsock_consume(conn, n);
		c->out_len = n;
		c->out_off = 0;
	}
	ret = unixsock_send(conn, c->out, c->out_len, &c->out_off);
	if (ret < 0 || (ret > 0 && conn->eof && conn->in_off == conn->in_len)) {
		unixsock_close(conn);
		return;
	}
	unixsock_watch(conn, ret ? EPOLLIN : EPOLLOUT);
}

static void on_close(void *ctx, struct unixsock_conn *conn)
{
	CHECK(ctx == &F);
	CHECK_EQ(conn->fd, -1);
	if (F.last == conn)
		F.last = NULL;
	F.closes++;
}

static void on_timer(void *ctx, uint64_t now)
{
	loop_stop(F.loop);
}

/* Serve for ms milliseconds. */
static void spin(unsigned int ms)
{
	loop_set_deadline(F.loop, io_now_ns() + ms * SC_NSEC_PER_MSEC);
	loop_run(F.loop);
}

/* Serve until cond holds, 5 s at most; cond's final value. */
#define UNTIL(cond)                                         \
	({                                                  \
		for (int i_ = 0; i_ < 500 && !(cond); i_++) \
			spin(10);                           \
		(cond);                                     \
	})

static void fixture_cfg(void)
{
	F.cfg = (struct unixsock_cfg){
		.dir = F.run,
		.name = "t0",
		.mode = S_IRUSR | S_IWUSR,
		.backlog = 8,
		.max_conns = 4,
		.conn_size = sizeof(struct tconn),
		.in_first = 8,
		.in_max = 64,
		.what = "test socket",
		.in_use = "the test's own server answers",
		.on_event = on_event,
		.on_close = on_close,
		.ctx = &F,
	};
}

/* The loop and the directory; the server too if serve. */
static int setup(bool serve)
{
	struct io_err err = { "" };
	int ret = 0;

	memset(&F, 0, sizeof(F));
	snprintf(F.dir, sizeof(F.dir), "/tmp/scope-unixsock-test.XXXXXX");
	if (!mkdtemp(F.dir))
		return -errno;
	snprintf(F.run, sizeof(F.run), "%s/run", F.dir);
	snprintf(F.sock, sizeof(F.sock), "%s/t0.sock", F.run);
	CHECK_EQ(loop_new(&F.loop), 0);
	if (!F.loop)
		return -ENOMEM;
	loop_set_timer_fn(F.loop, on_timer, NULL);
	fixture_cfg();
	if (serve) {
		ret = unixsock_new(&F.cfg, F.loop, &F.u, &err);
		if (ret)
			fprintf(stderr, "# unixsock_new: %s\n", err.msg);
		CHECK_EQ(ret, 0);
	}
	return ret;
}

static void teardown(void)
{
	unixsock_free(F.u);
	F.u = NULL;
	loop_free(F.loop);
	unlink(F.sock);
	rmdir(F.run);
	rmdir(F.dir);
}

/* ---- client side ----------------------------------------------------------- */

static int cl_connect(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static bool cl_readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) > 0;
}

/* Serve until fd has something, then take it: bytes read, 0 at EOF, -1. */
static ssize_t cl_recv(int fd, char *buf, size_t cap)
{
	ssize_t n;

	if (!UNTIL(cl_readable(fd)))
		return -1;
	n = recv(fd, buf, cap, MSG_DONTWAIT);
	return n < 0 && errno == ECONNRESET ? 0 : n;
}

/* Send msg and expect it back. */
static bool cl_echo(int fd, const char *msg)
{
	char buf[128];
	size_t n = strlen(msg);

	if (send(fd, msg, n, MSG_NOSIGNAL) != (ssize_t)n)
		return false;
	return cl_recv(fd, buf, sizeof(buf)) == (ssize_t)n && memcmp(buf, msg, n) == 0;
}

/* A socket file nobody listens on, as a crashed process leaves it. */
static int bind_stale(const char *path, bool listening)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) ||
	    (listening && listen(fd, 1))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (listening)
		return fd;
	close(fd);
	return 0;
}

/* ---- the socket file ---------------------------------------------------------- */

static void test_file_mode(void)
{
	mode_t old = umask(0);
	struct stat st;
	int fd;

	/* The mode is the configured one even with a permissive umask. */
	if (setup(true))
		goto out;
	CHECK_EQ(lstat(F.sock, &st), 0);
	CHECK(S_ISSOCK(st.st_mode));
	CHECK_EQ(st.st_mode & 07777, 0600);
	CHECK(strcmp(unixsock_path(F.u), F.sock) == 0);
	CHECK_EQ(stat(F.run, &st), 0);
	CHECK_EQ(st.st_mode & 07777, 0755);
	fd = cl_connect(F.sock);
	CHECK(fd >= 0);
	CHECK(cl_echo(fd, "hello"));
	close(fd);
	unixsock_free(F.u);
	F.u = NULL;
	/* Freed: the file is gone, the directory stays. */
	CHECK(access(F.sock, F_OK) != 0);
	CHECK(access(F.run, F_OK) == 0);
	/* Another mode, and a directory that exists already. */
	umask(077);
	F.cfg.mode = S_IRWXU;
	CHECK_EQ(unixsock_new(&F.cfg, F.loop, &F.u, NULL), 0);
	CHECK_EQ(lstat(F.sock, &st), 0);
	CHECK_EQ(st.st_mode & 07777, 0700);
out:
	umask(old);
	teardown();
}

static void test_stale_replaced(void)
{
	struct stat st;
	int fd;

	if (setup(false))
		goto out;
	CHECK_EQ(mkdir(F.run, 0755), 0);
	CHECK_EQ(bind_stale(F.sock, false), 0);
	CHECK_EQ(cl_connect(F.sock), -1); /* nobody answers */
	CHECK_EQ(unixsock_new(&F.cfg, F.loop, &F.u, NULL), 0);
	/* Replaced by one that answers, with our mode. */
	CHECK_EQ(lstat(F.sock, &st), 0);
	CHECK(S_ISSOCK(st.st_mode));
	CHECK_EQ(st.st_mode & 07777, 0600);
	fd = cl_connect(F.sock);
	CHECK(fd >= 0);
	CHECK(cl_echo(fd, "again"));
	close(fd);
out:
	teardown();
}

static void test_live_refused(void)
{
	struct unixsock *u2 = NULL;
	struct io_err err = { "" };
	struct stat before, after;
	char other[112];
	int lfd, fd;

	if (setup(true))
		goto out;
	CHECK_EQ(lstat(F.sock, &before), 0);
	CHECK_EQ(unixsock_new(&F.cfg, F.loop, &u2, &err), -EADDRINUSE);
	CHECK(u2 == NULL);
	CHECK(strstr(err.msg, F.sock) != NULL);
	CHECK(strstr(err.msg, "the test's own server answers") != NULL);
	/* The live server keeps its file and still serves. */
	CHECK_EQ(lstat(F.sock, &after), 0);
	CHECK_EQ(before.st_ino, after.st_ino);
	fd = cl_connect(F.sock);
	CHECK(cl_echo(fd, "still here"));
	close(fd);
	/* A socket that listens but is not ours is refused just the same. */
	snprintf(other, sizeof(other), "%s/t1.sock", F.run);
	lfd = bind_stale(other, true);
	CHECK(lfd >= 0);
	F.cfg.name = "t1";
	CHECK_EQ(unixsock_new(&F.cfg, F.loop, &u2, &err), -EADDRINUSE);
	CHECK(access(other, F_OK) == 0);
	close(lfd);
	unlink(other);
out:
	teardown();
}

static void test_not_socket_left_alone(void)
{
	struct unixsock *u2 = NULL;
	struct io_err err = { "" };
	char buf[8] = "";
	int fd;

	if (setup(false))
		goto out;
	CHECK_EQ(mkdir(F.run, 0755), 0);
	fd = open(F.sock, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	CHECK(fd >= 0);
	CHECK_EQ(write(fd, "data", 4), 4);
	close(fd);
	CHECK_EQ(unixsock_new(&F.cfg, F.loop, &u2, &err), -EEXIST);
	CHECK(u2 == NULL);
	CHECK(strstr(err.msg, "not a socket") != NULL);
	fd = open(F.sock, O_RDONLY | O_CLOEXEC);
	CHECK_EQ(read(fd, buf, sizeof(buf)), 4);
	CHECK_MEM(buf, "data", 4);
	close(fd);
	/* A directory in the way is not replaced either. */
	unlink(F.sock);
	CHECK_EQ(mkdir(F.sock, 0700), 0);
	CHECK_EQ(unixsock_new(&F.cfg, F.loop, &u2, &err), -EEXIST);
	CHECK_EQ(rmdir(F.sock), 0);
out:
	teardown();
}

static void test_own_file_only(void)
{
	struct stat st, theirs;

	if (setup(true))
		goto out;
	/* A newer process replaced our file with its own. */
	CHECK_EQ(unlink(F.sock), 0);
	CHECK_EQ(bind_stale(F.sock, false), 0);
	CHECK_EQ(lstat(F.sock, &theirs), 0);
	unixsock_free(F.u);
	F.u = NULL;
	CHECK_EQ(lstat(F.sock, &st), 0);
	CHECK_EQ(st.st_ino, theirs.st_ino);
	/* Someone removed it: nothing to unlink, and nothing else touched. */
	CHECK_EQ(unlink(F.sock), 0);
	CHECK_EQ(unixsock_new(&F.cfg, F.loop, &F.u, NULL), 0);
	CHECK_EQ(unlink(F.sock), 0);
	unixsock_free(F.u);
	F.u = NULL;
	CHECK(access(F.sock, F_OK) != 0);
out:
	teardown();
}

static void test_bad_settings(void)
{
	static const char *const names[] = { "", "a/b", ".", "..", "0123456789abcdef" };
	struct unixsock *u2 = NULL;
	struct io_err err = { "" };
	char longdir[128];
	char file[96];
	int fd;

	if (setup(false))
		goto out;
	for (size_t i = 0; i < SC_ARRAY_SIZE(names); i++) {
		F.cfg.name = names[i];
		CHECK_EQ(unixsock_new(&F.cfg, F.loop, &u2, &err), -EINVAL);
	}
	fixture_cfg();
	memset(longdir, 'd', sizeof(longdir) - 1);
	longdir[0] = '/';
	longdir[sizeof(longdir) - 1] = '\0';
	F.cfg.dir = longdir;
	CHECK_EQ(unixsock_new(&F.cfg, F.loop, &u2, &err), -ENAMETOOLONG);
	CHECK(access(longdir, F_OK) != 0);
	snprintf(file, sizeof(file), "%s/file", F.dir);
	fd = open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	close(fd);
	F.cfg.dir = file;
	CHECK_EQ(unixsock_new(&F.cfg, F.loop, &u2, &err), -ENOTDIR);
	unlink(file);
	/* Settings that cannot work are refused before anything is made. */
	fixture_cfg();
	F.cfg.conn_size = sizeof(struct unixsock_conn) - 1;
	CHECK_EQ(unixsock_new(&F.cfg, F.loop, &u2, &err), -EINVAL);
	fixture_cfg();
	F.cfg.max_conns = 0;
	CHECK_EQ(unixsock_new(&F.cfg, F.loop, &u2, &err), -EINVAL);
	fixture_cfg();
	F.cfg.in_first = F.cfg.in_max + 1;
	CHECK_EQ(unixsock_new(&F.cfg, F.loop, &u2, &err), -EINVAL);
	CHECK(u2 == NULL);
	CHECK(access(F.run, F_OK) != 0);
out:
	teardown();
}

/* ---- connections -------------------------------------------------------------- */

static void test_input_buffer(void)
{
	struct unixsock_conn *c;
	char msg[100];
	int fd;

	if (setup(false))
		goto out;
	F.cfg.in_first = 12; /* 24, 48, then 64: the cap, not 96 */
	CHECK_EQ(unixsock_new(&F.cfg, F.loop, &F.u, NULL), 0);
	F.hold = true;
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (char)('a' + i % 26);
	fd = cl_connect(F.sock);
	CHECK_EQ(send(fd, msg, sizeof(msg), 0), (ssize_t)sizeof(msg));
	/* Grown up to the cap and stopped there, in order. */
	CHECK(UNTIL(F.last && F.last->in_len == 64));
	c = F.last;
	if (!c)
		goto out;
	CHECK_EQ(c->in_cap, 64);
	CHECK_MEM(c->in, msg, 64);
	CHECK(!c->eof);
	/* Consumed bytes make room at the next read; the rest follows on. */
	unixsock_consume(c, 40);
	CHECK_EQ(unixsock_read(c), 0);
	CHECK_EQ(c->in_off, 0);
	CHECK_EQ(c->in_len, 60);
	CHECK_MEM(c->in, msg + 40, 60);
	/* The peer's end is seen. */
	shutdown(fd, SHUT_WR);
	CHECK(UNTIL(c->eof));
	CHECK_EQ(c->in_len, 60);
	close(fd);
out:
	teardown();
}

static void test_conn_cap_refuse(void)
{
	char buf[8];
	int fd[3];

	if (setup(false))
		goto out;
	F.cfg.max_conns = 2;
	CHECK_EQ(unixsock_new(&F.cfg, F.loop, &F.u, NULL), 0);
	for (int i = 0; i < 3; i++)
		fd[i] = cl_connect(F.sock);
	/* The newest is closed at once; the others are served. */
	CHECK_EQ(cl_recv(fd[2], buf, sizeof(buf)), 0);
	CHECK_EQ(unixsock_conns(F.u), 2);
	CHECK(cl_echo(fd[0], "zero"));
	CHECK(cl_echo(fd[1], "one"));
	/* One leaves: room for a new one. */
	close(fd[0]);
	CHECK(UNTIL(unixsock_conns(F.u) == 1));
	close(fd[2]);
	fd[2] = cl_connect(F.sock);
	CHECK(cl_echo(fd[2], "two"));
	CHECK_EQ(unixsock_conns(F.u), 2);
	close(fd[1]);
	close(fd[2]);
	CHECK(UNTIL(unixsock_conns(F.u) == 0));
	/* The refused one never was a connection. */
	CHECK_EQ(F.closes, 3);
out:
	teardown();
}

static void test_conn_cap_evict(void)
{
	char buf[8];
	int fd[3];

	if (setup(false))
		goto out;
	F.cfg.max_conns = 2;
	F.cfg.evict_oldest = true;
	CHECK_EQ(unixsock_new(&F.cfg, F.loop, &F.u, NULL), 0);
	fd[0] = cl_connect(F.sock);
	CHECK(UNTIL(unixsock_conns(F.u) == 1));
	fd[1] = cl_connect(F.sock);
	fd[2] = cl_connect(F.sock);
	/* The oldest makes room for the newest. */
	CHECK_EQ(cl_recv(fd[0], buf, sizeof(buf)), 0);
	CHECK_EQ(unixsock_conns(F.u), 2);
	CHECK(cl_echo(fd[1], "one"));
	CHECK(cl_echo(fd[2], "two"));
	CHECK_EQ(F.closes, 1);
	/* Freeing closes the rest, each through on_close. */
	unixsock_free(F.u);
	F.u = NULL;
	CHECK_EQ(F.closes, 3);
	CHECK_EQ(recv(fd[1], buf, sizeof(buf), MSG_DONTWAIT), 0);
	CHECK_EQ(recv(fd[2], buf, sizeof(buf), MSG_DONTWAIT), 0);
	for (int i = 0; i < 3; i++)
		close(fd[i]);
out:
	teardown();
}

static void test_send_full_and_gone(void)
{
	const size_t len = 4u << 20;
	char *big = malloc(len), *got = malloc(len);
	size_t off = 0, have = 0;
	ssize_t n;
	int fd, ret;

	if (setup(true) || !big || !got)
		goto out;
	F.hold = true;
	for (size_t i = 0; i < len; i++)
		big[i] = (char)(i * 7 + i / 251);
	fd = cl_connect(F.sock);
	CHECK_EQ(send(fd, "x", 1, 0), 1);
	CHECK(UNTIL(F.last != NULL));
	if (!F.last)
		goto out;
	/* More than the socket holds: a part, and no blocking. */
	CHECK_EQ(unixsock_send(F.last, big, len, &off), 0);
	CHECK(off > 0 && off < len);
	for (int rounds = 0; rounds < 100000 && have < len; rounds++) {
		n = recv(fd, got + have, len - have, MSG_DONTWAIT);
		if (n > 0)
			have += (size_t)n;
		ret = unixsock_send(F.last, big, len, &off);
		CHECK(ret >= 0);
		if (ret < 0)
			break;
	}
	CHECK_EQ(off, len);
	CHECK_EQ(have, len);
	CHECK(memcmp(got, big, len) == 0);
	/* The peer left: an error, not SIGPIPE. */
	close(fd);
	off = 0;
	ret = unixsock_send(F.last, "late", 4, &off);
	CHECK(ret == -EPIPE || ret == -ECONNRESET);
out:
	free(big);
	free(got);
	teardown();
}

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void test_accept_pause(void)
{
	struct rlimit old, low;
	double t0, used;
	int fd0, fd1, probe;

	if (setup(true))
		goto out;
	fd0 = cl_connect(F.sock);
	CHECK(UNTIL(unixsock_conns(F.u) == 1));
	fd1 = cl_connect(F.sock); /* waits in the backlog */
	/* No descriptor left for accept: the lowest free one is the limit. */
	probe = fcntl(fd1, F_DUPFD_CLOEXEC, 0);
	CHECK(probe >= 0);
	close(probe);
	CHECK_EQ(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = (rlim_t)probe;
	CHECK_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
	t0 = cpu_seconds();
	spin(300);
	used = cpu_seconds() - t0;
	CHECK_EQ(setrlimit(RLIMIT_NOFILE, &old), 0);
	/* Paused, not spinning on a listening socket that stays readable. */
	CHECK_EQ(unixsock_conns(F.u), 1);
	if (used >= 0.15)
		fprintf(stderr, "# %.3f s of CPU in 0.3 s while out of descriptors\n", used);
	CHECK(used < 0.15);
	/* A connection leaves: accepting resumes and the waiting one is served. */
	close(fd0);
	CHECK(UNTIL(F.closes == 1 && unixsock_conns(F.u) == 1));
	CHECK(cl_echo(fd1, "resumed"));
	close(fd1);
out:
	teardown();
}

static const struct t_case cases[] = {
	T(test_file_mode),	T(test_stale_replaced),
	T(test_live_refused),	T(test_not_socket_left_alone),
	T(test_own_file_only),	T(test_bad_settings),
	T(test_input_buffer),	T(test_conn_cap_refuse),
	T(test_conn_cap_evict), T(test_send_full_and_gone),
	T(test_accept_pause),
};

int main(void)
{
	return t_main("io-unixsock", cases, SC_ARRAY_SIZE(cases));
}
