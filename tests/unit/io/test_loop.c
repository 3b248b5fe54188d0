// SPDX-License-Identifier: GPL-2.0-only
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "io/env.h"
#include "io/loop.h"
#include "test.h"

struct state {
	struct loop *l;
	int timer_calls, fd_calls, sig_calls, wake_calls, last_sig;
	uint64_t fired_at, deadline;
	int pipe_rd, other_fd;
	uint32_t events;
};

static void on_timer(void *ctx, uint64_t now)
{
	struct state *s = ctx;

	s->timer_calls++;
	s->fired_at = now;
	loop_stop(s->l);
}

static void test_timer(void)
{
	struct state s = { 0 };
	uint64_t t0;

	CHECK_EQ(loop_new(&s.l), 0);
	if (!s.l)
		return;
	loop_set_timer_fn(s.l, on_timer, &s);
	t0 = io_now_ns();
	s.deadline = t0 + 20 * SC_NSEC_PER_MSEC;
	CHECK_EQ(loop_set_deadline(s.l, s.deadline), 0);
	CHECK_EQ(loop_run(s.l), 0);
	CHECK_EQ(s.timer_calls, 1);
	CHECK(s.fired_at >= s.deadline);
	CHECK(s.fired_at < s.deadline + SC_NSEC_PER_SEC);

	/* A deadline in the past fires at once. */
	CHECK_EQ(loop_set_deadline(s.l, 1), 0);
	CHECK_EQ(loop_run(s.l), 0);
	CHECK_EQ(s.timer_calls, 2);

	/* A moved deadline replaces the old one; 0 disarms. */
	CHECK_EQ(loop_set_deadline(s.l, io_now_ns() + 10 * SC_NSEC_PER_MSEC), 0);
	CHECK_EQ(loop_set_deadline(s.l, 0), 0);
	usleep(30 * 1000);
	s.deadline = io_now_ns() + 30 * SC_NSEC_PER_MSEC;
	CHECK_EQ(loop_set_deadline(s.l, s.deadline), 0);
	CHECK_EQ(loop_run(s.l), 0);
	CHECK_EQ(s.timer_calls, 3);
	CHECK(s.fired_at >= s.deadline);
	loop_free(s.l);
	loop_free(NULL);
}

static void on_pipe(void *ctx, int fd, uint32_t events)
{
	struct state *s = ctx;
	ssize_t r;
	char c;

	s->fd_calls++;
	s->events = events;
	r = read(fd, &c, 1);
	if (r == 0 || (r == 1 && c == 'q'))
		loop_stop(s->l);
}

static void test_fd(void)
{
	struct state s = { 0 };
	int p[2];

	CHECK_EQ(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	CHECK_EQ(loop_new(&s.l), 0);
	if (!s.l)
		return;
	CHECK_EQ(loop_add_fd(s.l, p[0], EPOLLIN, on_pipe, &s), 0);
	CHECK_EQ(loop_add_fd(s.l, p[0], EPOLLIN, on_pipe, &s), -EEXIST);
	CHECK_EQ(write(p[1], "abq", 3), 3);
	CHECK_EQ(loop_run(s.l), 0);
	/* Level-triggered: one callback per byte until the 'q'. */
	CHECK_EQ(s.fd_calls, 3);
	CHECK(s.events & EPOLLIN);

	/* A stop before run makes run return at once. */
	CHECK_EQ(write(p[1], "a", 1), 1);
	s.fd_calls = 0;
	loop_stop(s.l);
	CHECK_EQ(loop_run(s.l), 0);
	CHECK_EQ(s.fd_calls, 0);

	/* Writer closed: EPOLLHUP reaches the callback. */
	close(p[1]);
	CHECK_EQ(loop_mod_fd(s.l, p[0], EPOLLIN | EPOLLOUT), 0);
	CHECK_EQ(loop_run(s.l), 0);
	CHECK_EQ(s.fd_calls, 2); /* the 'a', then end of file */
	CHECK(s.events & EPOLLHUP);

	CHECK_EQ(loop_del_fd(s.l, p[0]), 0);
	CHECK_EQ(loop_del_fd(s.l, p[0]), -ENOENT);
	CHECK_EQ(loop_mod_fd(s.l, p[0], EPOLLIN), -ENOENT);
	close(p[0]);
	loop_free(s.l);
}

/* Two ready fds; whichever callback runs first removes the other. */
static void on_remover(void *ctx, int fd, uint32_t events)
{
	struct state *s = ctx;

	s->fd_calls++;
	CHECK_EQ(loop_del_fd(s->l, s->other_fd == fd ? s->pipe_rd : s->other_fd), 0);
	CHECK_EQ(loop_del_fd(s->l, fd), 0);
	loop_stop(s->l);
}

static void test_del_in_callback(void)
{
	struct state s = { 0 };
	int a[2], b[2];

	CHECK_EQ(pipe2(a, O_CLOEXEC), 0);
	CHECK_EQ(pipe2(b, O_CLOEXEC), 0);
	CHECK_EQ(loop_new(&s.l), 0);
	if (!s.l)
		return;
	s.pipe_rd = a[0];
	s.other_fd = b[0];
	CHECK_EQ(loop_add_fd(s.l, a[0], EPOLLIN, on_remover, &s), 0);
	CHECK_EQ(loop_add_fd(s.l, b[0], EPOLLIN, on_remover, &s), 0);
	CHECK_EQ(write(a[1], "x", 1), 1);
	CHECK_EQ(write(b[1], "x", 1), 1);
	CHECK_EQ(loop_run(s.l), 0);
	/* Both events were in one batch; the removed one was skipped (ASan
	 * would catch a use after free). */
	CHECK_EQ(s.fd_calls, 1);
	/* Re-adding a removed fd works. */
	CHECK_EQ(loop_add_fd(s.l, a[0], EPOLLIN, on_pipe, &s), 0);
	loop_free(s.l);
	close(a[0]);
	close(a[1]);
	close(b[0]);
	close(b[1]);
}

static void on_signal(void *ctx, int signo)
{
	struct state *s = ctx;

	s->sig_calls++;
	s->last_sig = signo;
	loop_stop(s->l);
}

static void test_signals(void)
{
	static const int sigs[] = { SIGHUP, SIGTERM, SIGINT };
	struct state s = { 0 };
	sigset_t mask;
	size_t i;

	CHECK_EQ(loop_new(&s.l), 0);
	if (!s.l)
		return;
	CHECK_EQ(loop_set_signal_fn(s.l, on_signal, &s), 0);
	for (i = 0; i < SC_ARRAY_SIZE(sigs); i++) {
		CHECK_EQ(kill(getpid(), sigs[i]), 0);
		CHECK_EQ(loop_run(s.l), 0);
		CHECK_EQ(s.last_sig, sigs[i]);
	}
	CHECK_EQ(s.sig_calls, 3);
	/* A signal pending at free time is swallowed, not fatal. */
	CHECK_EQ(kill(getpid(), SIGTERM), 0);
	loop_free(s.l);
	pthread_sigmask(SIG_BLOCK, NULL, &mask);
	CHECK(!sigismember(&mask, SIGTERM));
	CHECK(!sigismember(&mask, SIGHUP));
}

static void on_wake(void *ctx)
{
	struct state *s = ctx;

	s->wake_calls++;
}

static void *waker(void *arg)
{
	struct state *s = arg;

	usleep(10 * 1000);
	loop_wake(s->l);
	usleep(10 * 1000);
	loop_stop(s->l);
	return NULL;
}

static void test_stop_from_thread(void)
{
	struct state s = { 0 };
	pthread_t th;

	CHECK_EQ(loop_new(&s.l), 0);
	if (!s.l)
		return;
	loop_set_wake_fn(s.l, on_wake, &s);
	CHECK_EQ(pthread_create(&th, NULL, waker, &s), 0);
	CHECK_EQ(loop_run(s.l), 0);
	pthread_join(th, NULL);
	CHECK(s.wake_calls >= 1);
	loop_free(s.l);
}

static const struct t_case cases[] = {
	T(test_timer),
	T(test_fd),
	T(test_del_in_callback),
	T(test_signals),
	T(test_stop_from_thread),
};

int main(void)
{
	return t_main("io-loop", cases, SC_ARRAY_SIZE(cases));
}
