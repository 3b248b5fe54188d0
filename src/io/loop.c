// SPDX-License-Identifier: GPL-2.0-only
#define _GNU_SOURCE
#include "io/loop.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "common/env.h"
#include "io/env.h"
#include "io/limits.h"

/* One watched fd. Removal only marks it dead: an event for it may still sit
 * in the batch being dispatched, so it is freed after the batch. */
struct loop_src {
	int fd;
	bool dead;
	loop_fd_fn fn;
	void *ctx;
	struct loop_src *next;
};

struct loop {
	int epfd, timerfd, wakefd, sigfd;
	atomic_bool stop;
	bool dispatching;
	bool sigmask_changed;
	sigset_t sig_unblock; /* the signals we blocked, to unblock on free */
	struct loop_src *srcs;
	loop_timer_fn timer_fn;
	void *timer_ctx;
	loop_signal_fn sig_fn;
	void *sig_ctx;
	loop_wake_fn wake_fn;
	void *wake_ctx;
};

static struct loop_src *src_find(struct loop *l, int fd)
{
	struct loop_src *s;

	for (s = l->srcs; s; s = s->next)
		if (s->fd == fd && !s->dead)
			return s;
	return NULL;
}

static void src_sweep(struct loop *l)
{
	struct loop_src **pp = &l->srcs, *s;

	while ((s = *pp)) {
		if (s->dead) {
			*pp = s->next;
			free(s);
		} else {
			pp = &s->next;
		}
	}
}

int loop_add_fd(struct loop *l, int fd, uint32_t events, loop_fd_fn fn, void *ctx)
{
	struct epoll_event ev = { .events = events };
	struct loop_src *s;

	if (src_find(l, fd))
		return -EEXIST;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->fd = fd;
	s->fn = fn;
	s->ctx = ctx;
	ev.data.ptr = s;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		int ret = -errno;

		free(s);
		return ret;
	}
	s->next = l->srcs;
	l->srcs = s;
	return 0;
}

int loop_mod_fd(struct loop *l, int fd, uint32_t events)
{
	struct loop_src *s = src_find(l, fd);
	struct epoll_event ev = { .events = events };

	if (!s)
		return -ENOENT;
	ev.data.ptr = s;
	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) ? -errno : 0;
}

int loop_del_fd(struct loop *l, int fd)
{
	struct loop_src *s = src_find(l, fd);

	if (!s)
		return -ENOENT;
	/* Fails only if the caller closed fd first; the kernel then dropped
	 * the registration itself (unless fd was dup'ed: a caller bug). */
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	s->dead = true;
	if (!l->dispatching)
		src_sweep(l);
	return 0;
}

/* Read a counter fd (timerfd, eventfd); false if it had not fired. */
static bool drain_u64(int fd)
{
	uint64_t v;

	return read(fd, &v, sizeof(v)) == (ssize_t)sizeof(v);
}

static void on_timer(void *ctx, int fd, uint32_t events)
{
	struct loop *l = ctx;

	/* The deadline may have moved since epoll_wait returned: then the
	 * timerfd reads EAGAIN and there is nothing to do. */
	if (drain_u64(fd) && l->timer_fn)
		l->timer_fn(l->timer_ctx, io_now_ns());
}

static void on_wake(void *ctx, int fd, uint32_t events)
{
	struct loop *l = ctx;

	if (drain_u64(fd) && l->wake_fn)
		l->wake_fn(l->wake_ctx);
}

static void on_signal(void *ctx, int fd, uint32_t events)
{
	struct loop *l = ctx;
	struct signalfd_siginfo si;

	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		if (l->sig_fn)
			l->sig_fn(l->sig_ctx, (int)si.ssi_signo);
}

static int loop_open_fds(struct loop *l)
{
	int ret;

	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		return -errno;
	/* BOOTTIME, like io_now_ns(): deadlines from the core apply as-is. */
	l->timerfd = timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK | TFD_CLOEXEC);
	if (l->timerfd < 0)
		return -errno;
	l->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (l->wakefd < 0)
		return -errno;
	ret = loop_add_fd(l, l->timerfd, EPOLLIN, on_timer, l);
	if (ret)
		return ret;
	return loop_add_fd(l, l->wakefd, EPOLLIN, on_wake, l);
}

int loop_new(struct loop **out)
{
	struct loop *l = calloc(1, sizeof(*l));
	int ret;

	if (!l)
		return -ENOMEM;
	l->epfd = l->timerfd = l->wakefd = l->sigfd = -1;
	atomic_init(&l->stop, false);
	ret = loop_open_fds(l);
	if (ret) {
		loop_free(l);
		return ret;
	}
	*out = l;
	return 0;
}

static void close_fd(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* Give back the signals we blocked. Pending ones are read first: unblocking
 * them would run the default action (exit) inside a free function. */
static void loop_restore_signals(struct loop *l)
{
	struct signalfd_siginfo si;

	if (!l->sigmask_changed)
		return;
	while (read(l->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		;
	pthread_sigmask(SIG_UNBLOCK, &l->sig_unblock, NULL);
}

void loop_free(struct loop *l)
{
	struct loop_src *s;

	if (!l)
		return;
	loop_restore_signals(l);
	while ((s = l->srcs)) {
		l->srcs = s->next;
		free(s);
	}
	close_fd(l->sigfd);
	close_fd(l->wakefd);
	close_fd(l->timerfd);
	close_fd(l->epfd);
	free(l);
}

void loop_set_timer_fn(struct loop *l, loop_timer_fn fn, void *ctx)
{
	l->timer_fn = fn;
	l->timer_ctx = ctx;
}

int loop_set_deadline(struct loop *l, uint64_t deadline)
{
	struct itimerspec its = { 0 };

	/* An all-zero it_value disarms, which is what deadline 0 means. */
	its.it_value.tv_sec = (time_t)(deadline / SC_NSEC_PER_SEC);
	its.it_value.tv_nsec = (long)(deadline % SC_NSEC_PER_SEC);
	if (timerfd_settime(l->timerfd, TFD_TIMER_ABSTIME, &its, NULL))
		return -errno;
	return 0;
}

static int loop_block_signals(struct loop *l, const sigset_t *set)
{
	sigset_t old;
	int sig, ret;

	ret = pthread_sigmask(SIG_BLOCK, set, &old);
	if (ret)
		return -ret;
	/* Remember only what was unblocked before, to leave the caller's mask
	 * as we found it. */
	sigemptyset(&l->sig_unblock);
	for (sig = 1; sig < NSIG; sig++)
		if (sigismember(set, sig) == 1 && sigismember(&old, sig) == 0)
			sigaddset(&l->sig_unblock, sig);
	l->sigmask_changed = true;
	return 0;
}

int loop_set_signal_fn(struct loop *l, loop_signal_fn fn, void *ctx)
{
	sigset_t set;
	int fd, ret;

	l->sig_fn = fn;
	l->sig_ctx = ctx;
	if (l->sigfd >= 0)
		return 0;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = loop_add_fd(l, fd, EPOLLIN, on_signal, l);
	if (ret) {
		close(fd);
		return ret;
	}
	l->sigfd = fd;
	ret = loop_block_signals(l, &set);
	if (ret) {
		loop_del_fd(l, fd);
		close(fd);
		l->sigfd = -1;
	}
	return ret;
}

void loop_set_wake_fn(struct loop *l, loop_wake_fn fn, void *ctx)
{
	l->wake_fn = fn;
	l->wake_ctx = ctx;
}

void loop_wake(struct loop *l)
{
	uint64_t one = 1;

	/* Fails only when the counter is saturated: a wake is pending anyway. */
	if (write(l->wakefd, &one, sizeof(one)) < 0)
		return;
}

void loop_stop(struct loop *l)
{
	atomic_store(&l->stop, true);
	loop_wake(l);
}

static void loop_dispatch(struct loop *l, const struct epoll_event *ev, int n)
{
	int i;

	l->dispatching = true;
	for (i = 0; i < n; i++) {
		struct loop_src *s = ev[i].data.ptr;

		if (!s->dead)
			s->fn(s->ctx, s->fd, ev[i].events);
	}
	l->dispatching = false;
	src_sweep(l);
}

int loop_run(struct loop *l)
{
	struct epoll_event ev[IO_LOOP_EVENTS];
	int ret = 0;

	while (!atomic_load(&l->stop)) {
		int n = epoll_wait(l->epfd, ev, IO_LOOP_EVENTS, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		loop_dispatch(l, ev, n);
	}
	atomic_store(&l->stop, false);
	return ret;
}
