/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The engine's event loop: one epoll instance on one thread.
 *
 * It watches file descriptors (the UDP socket, the TUN device, the UAPI
 * socket), one deadline timer and, if asked, SIGINT/SIGTERM/SIGHUP. The
 * sans-I/O core keeps its own timer wheel and tells the loop only its next
 * deadline, so one timerfd serves every peer timer.
 *
 * Callbacks run on the loop thread. Within a callback any loop call is
 * allowed, including removing another fd whose event is already pending in
 * the same batch (its callback is then skipped). loop_stop() and loop_wake()
 * are also safe from other threads (the crypto workers wake the loop when
 * they have finished packets for it); everything else is for the loop thread.
 */
#ifndef IO_LOOP_H
#define IO_LOOP_H

#include <stdint.h>
#include <sys/epoll.h>

struct loop;

/* fd is ready; events are the EPOLL* bits (EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP). */
typedef void (*loop_fd_fn)(void *ctx, int fd, uint32_t events);
/* The deadline passed; now is io_now_ns(). The timer is disarmed: set the next one. */
typedef void (*loop_timer_fn)(void *ctx, uint64_t now);
/* SIGINT, SIGTERM or SIGHUP arrived. */
typedef void (*loop_signal_fn)(void *ctx, int signo);
/* loop_wake() was called (once per batch of wakes). */
typedef void (*loop_wake_fn)(void *ctx);

/* 0 or -errno; *out only on success. */
int loop_new(struct loop **out);
/* Close the loop's own fds (not the registered ones) and restore the signal
 * mask if loop_set_signal_fn() changed it. Accepts NULL. */
void loop_free(struct loop *l);

/* Watch fd for events (EPOLLIN and/or EPOLLOUT; level-triggered). The fd
 * stays the caller's. 0, -EEXIST if already watched, or -errno. */
int loop_add_fd(struct loop *l, int fd, uint32_t events, loop_fd_fn fn, void *ctx);
/* Change the events watched on fd (e.g. add EPOLLOUT while a queue is full). */
int loop_mod_fd(struct loop *l, int fd, uint32_t events);
/* Stop watching fd; call before closing it. 0 or -ENOENT. */
int loop_del_fd(struct loop *l, int fd);

/* The callback for the deadline timer. */
void loop_set_timer_fn(struct loop *l, loop_timer_fn fn, void *ctx);
/* Arm the timer for the absolute io_now_ns() time deadline (one shot; a past
 * deadline fires at once); 0 disarms. Replaces any previous deadline. */
int loop_set_deadline(struct loop *l, uint64_t deadline);

/* Deliver SIGINT, SIGTERM and SIGHUP to fn through a signalfd. Blocks them in
 * the calling thread, so call it before starting other threads (they inherit
 * the mask; a thread with them unblocked would take the default action). */
int loop_set_signal_fn(struct loop *l, loop_signal_fn fn, void *ctx);
/* The callback for loop_wake(). */
void loop_set_wake_fn(struct loop *l, loop_wake_fn fn, void *ctx);
/* Wake the loop from any thread (eventfd); runs the wake callback. */
void loop_wake(struct loop *l);

/* Dispatch events until loop_stop(). 0, or -errno if epoll_wait fails. */
int loop_run(struct loop *l);
/* Make loop_run() return after the current batch of callbacks; from any thread. */
void loop_stop(struct loop *l);

#endif
