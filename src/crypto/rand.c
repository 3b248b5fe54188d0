// SPDX-License-Identifier: GPL-2.0-only
#include "crypto/rand.h"

#include <errno.h>
#include <sys/random.h>

int cry_random(void *buf, size_t n)
{
	unsigned char *p = buf;

	while (n > 0) {
		ssize_t r = getrandom(p, n, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}
