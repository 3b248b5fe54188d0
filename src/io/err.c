// SPDX-License-Identifier: GPL-2.0-only
#define _GNU_SOURCE
#include "io/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int io_errf(struct io_err *err, int neg, const char *fmt, ...)
{
	char why[64];
	va_list ap;
	int n;

	if (!err)
		return neg;
	va_start(ap, fmt);
	n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(err->msg))
		return neg;
	/* GNU strerror_r: thread-safe, returns a pointer that may not be why. */
	snprintf(err->msg + n, sizeof(err->msg) - (size_t)n, ": %s",
		 strerror_r(-neg, why, sizeof(why)));
	return neg;
}
