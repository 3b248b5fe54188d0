/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Error messages for set-up calls (opening a TUN, binding a socket).
 *
 * Those calls return a negative errno like every Scope function; the errno
 * alone ("Operation not permitted") rarely tells an operator what failed, so
 * they also fill an optional struct io_err with a sentence naming the device,
 * the port or the missing capability. Hot-path calls (read, write, send) never
 * format messages: they return the errno only.
 */
#ifndef IO_ERR_H
#define IO_ERR_H

#include "io/limits.h"

struct io_err {
	char msg[IO_ERR_MSGLEN];
};

/* Format "<fmt...>: <strerror(-neg)>" into err (which may be NULL) and return
 * neg, so a failing call can `return io_errf(err, -errno, "...")`. */
int io_errf(struct io_err *err, int neg, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
