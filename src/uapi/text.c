// SPDX-License-Identifier: GPL-2.0-only
/* The UAPI's text forms (text.h). */
#include "uapi/text.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/encode.h"
#include "common/parse.h"
#include "crypto/ct.h"
#include "uapi/limits.h"

/* Copy s[0..n) into buf as a C string; -EINVAL if it does not fit. */
static int cstr(const char *s, size_t n, char *buf, size_t len)
{
	if (n >= len)
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return 0;
}

int uapi_text_uint(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	char buf[24];

	/* sc_parse_u64 refuses leading zeros; Go's ParseUint takes them. */
	while (n > 1 && s[0] == '0') {
		s++;
		n--;
	}
	if (cstr(s, n, buf, sizeof(buf)) || sc_parse_u64(buf, 0, max, out))
		return -EINVAL;
	return 0;
}

int uapi_text_key(const char *s, size_t n, uint8_t key[WG_KEY_LEN])
{
	return sc_hex_decode(key, WG_KEY_LEN, s, n) ? -EINVAL : 0;
}

/* The prefix length after the last '/': 1 to 3 digits, no leading zero. */
static int parse_cidr(const char *d, size_t k, unsigned int *cidr)
{
	unsigned int v = 0;
	size_t i;

	if (k < 1 || k > 3 || (k > 1 && d[0] == '0'))
		return -EINVAL;
	for (i = 0; i < k; i++) {
		if (d[i] < '0' || d[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned int)(d[i] - '0');
	}
	*cidr = v;
	return 0;
}

int uapi_text_allowedip(const char *s, size_t n, struct wg_allowedip *out)
{
	struct wg_allowedip a = { 0 };
	char buf[UAPI_MAX_LINE + 1];
	unsigned int cidr, max, i, bits;
	size_t slash;
	uint8_t *bytes;

	if (n && s[0] == '-') {
		a.remove = true;
		s++;
		n--;
	}
	for (slash = n; slash > 0 && s[slash - 1] != '/'; slash--)
		;
	if (!slash--)
		return -EINVAL;
	if (parse_cidr(s + slash + 1, n - slash - 1, &cidr) || cstr(s, slash, buf, sizeof(buf)))
		return -EINVAL;
	if (memchr(buf, ':', slash)) {
		a.family = AF_INET6;
		max = 128;
		bytes = a.addr.ip6.s6_addr;
	} else {
		a.family = AF_INET;
		max = 32;
		bytes = (uint8_t *)&a.addr.ip4;
	}
	/* inet_pton: dotted quads only (no octal, no short forms), no zones. */
	if (cidr > max || inet_pton(a.family, buf, bytes) != 1)
		return -EINVAL;
	for (i = 0; i < max / 8; i++) {
		bits = cidr > i * 8 ? cidr - i * 8 : 0;
		if (bits < 8)
			bytes[i] &= (uint8_t)(0xff00u >> bits);
	}
	a.cidr = (uint8_t)cidr;
	*out = a;
	return 0;
}

int uapi_text_endpoint(const char *s, size_t n, struct io_endpoint *out)
{
	char buf[UAPI_MAX_LINE + 1];

	if (cstr(s, n, buf, sizeof(buf)) || io_endpoint_parse(buf, out))
		return -EINVAL;
	return 0;
}

/* RFC 5952 as Go does it: lowercase, no leading zeros, the first longest
 * run of two or more zero groups as "::", a dotted quad only for v4-mapped
 * addresses (glibc's inet_ntop also writes one for "::a.b.c.d"). */
void uapi_text_ip6(char *buf, size_t len, const uint8_t a[16])
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
	unsigned int w[8], zs = 8, ze = 8, i, j;
	size_t n = 0;

	if (memcmp(a, mapped, sizeof(mapped)) == 0) { /* not secret */
		snprintf(buf, len, "::ffff:%u.%u.%u.%u", a[12], a[13], a[14], a[15]);
		return;
	}
	for (i = 0; i < 8; i++)
		w[i] = (unsigned int)a[2 * i] << 8 | a[2 * i + 1];
	for (i = 0; i < 8; i++) {
		for (j = i; j < 8 && w[j] == 0; j++)
			;
		if (j - i >= 2 && j - i > ze - zs) {
			zs = i;
			ze = j;
		}
	}
	buf[0] = '\0';
	for (i = 0; i < 8 && n < len; i++) {
		if (i == zs) {
			n += (size_t)snprintf(buf + n, len - n, "::");
			i = ze - 1;
			continue;
		}
		n += (size_t)snprintf(buf + n, len - n, "%s%x", i && i != ze ? ":" : "", w[i]);
	}
}

int uapi_text_grow(void **arr, size_t *cap, size_t n, size_t size, size_t max)
{
	size_t ncap;
	void *nb;

	if (n < *cap)
		return 0;
	if (n >= max)
		return -E2BIG;
	ncap = *cap ? *cap * 2 : 16;
	if (ncap > max)
		ncap = max;
	nb = calloc(ncap, size);
	if (!nb)
		return -ENOMEM;
	if (*arr) {
		memcpy(nb, *arr, n * size);
		cry_wipe(*arr, *cap * size);
		free(*arr);
	}
	*arr = nb;
	*cap = ncap;
	return 0;
}
