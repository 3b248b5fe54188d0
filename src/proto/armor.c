// SPDX-License-Identifier: GPL-2.0-only
#include "proto/armor.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/encode.h"
#include "proto/record.h"

#define LINE 64 /* base64 characters per line */

static const char *const labels[] = {
	[PROTO_T_NETDEF] = "SCOPE NETWORK",
	[PROTO_T_CERT] = "SCOPE CERTIFICATE",
	[PROTO_T_REVOKE] = "SCOPE REVOCATION LIST",
	[PROTO_T_KILL] = "SCOPE KILL SWITCH",
};

const char *proto_armor_label(uint8_t type)
{
	return type < sizeof(labels) / sizeof(labels[0]) ? labels[type] : NULL;
}

size_t proto_armor_len(uint8_t type, size_t n)
{
	const char *l = proto_armor_label(type);
	size_t b = SC_B64_LEN(n);

	if (!l)
		return 0;
	/* "-----BEGIN " l "-----\n", lines, "-----END " l "-----\n", NUL */
	return 11 + strlen(l) + 6 + b + (b + LINE - 1) / LINE + 9 + strlen(l) + 6 + 1;
}

int proto_armor_encode(char *out, size_t cap, const uint8_t *in, size_t n)
{
	const char *l;
	char *b64, *p = out;
	size_t b, i;

	if (n < PROTO_HDR_LEN || memcmp(in, PROTO_MAGIC, 4) != 0) /* not secret */
		return -EINVAL;
	l = proto_armor_label(in[5]);
	if (!l)
		return -EINVAL;
	if (cap < proto_armor_len(in[5], n))
		return -ENOBUFS;
	b = SC_B64_LEN(n);
	b64 = malloc(b + 1);
	if (!b64)
		return -ENOMEM;
	sc_b64_encode(b64, in, n);
	p += snprintf(p, cap, "-----BEGIN %s-----\n", l);
	for (i = 0; i < b; i += LINE) {
		size_t k = b - i < LINE ? b - i : LINE;

		memcpy(p, b64 + i, k);
		p += k;
		*p++ = '\n';
	}
	snprintf(p, cap - (size_t)(p - out), "-----END %s-----\n", l);
	free(b64);
	return 0;
}

/* If s[0, len) starts with pre label post for a known label, its type and
 * the length matched; else 0. */
static int match_line(const char *s, size_t len, const char *pre, uint8_t *type, size_t *used)
{
	size_t i, pl = strlen(pre);

	for (i = 1; i < sizeof(labels) / sizeof(labels[0]); i++) {
		size_t ll = strlen(labels[i]);

		if (len >= pl + ll + 6 && memcmp(s, pre, pl) == 0 && /* not secret */
		    memcmp(s + pl, labels[i], ll) == 0 &&	     /* not secret */
		    memcmp(s + pl + ll, "-----\n", 6) == 0) {	     /* not secret */
			*type = (uint8_t)i;
			*used = pl + ll + 6;
			return 1;
		}
	}
	return 0;
}

/* Collect the base64 lines of s[0, len) into b64 (len bytes): 64 a line,
 * the last 4..64 and a multiple of 4. The number of characters, or 0. */
static size_t collect(char *b64, const char *s, size_t len, size_t *used)
{
	size_t off = 0, total = 0;

	for (;;) {
		const char *nl = memchr(s + off, '\n', len - off);
		size_t k;

		if (!nl || s[off] == '-')
			break;
		k = (size_t)(nl - (s + off));
		if (k == 0 || k > LINE)
			return 0;
		memcpy(b64 + total, s + off, k);
		total += k;
		off += k + 1;
		if (k < LINE) /* a short line is the last */
			break;
	}
	if (!total || total % 4 || (off < len && s[off] != '-'))
		return 0;
	*used = off;
	return total;
}

int proto_armor_decode(uint8_t *out, size_t cap, size_t *outlen, uint8_t *type, const char *in,
		       size_t len)
{
	uint8_t t, t2, *raw = NULL;
	size_t used, off, n, bytes;
	char *b64;
	int ret = -EINVAL;

	if (len > PROTO_ARMOR_MAX || !match_line(in, len, "-----BEGIN ", &t, &used))
		return -EINVAL;
	b64 = malloc(len);
	if (!b64)
		return -ENOMEM;
	off = used;
	n = collect(b64, in + off, len - off, &used);
	if (!n)
		goto out;
	off += used;
	if (!match_line(in + off, len - off, "-----END ", &t2, &used) || t2 != t ||
	    off + used != len)
		goto out;
	bytes = n / 4 * 3 - (b64[n - 1] == '=') - (b64[n - 2] == '=');
	if (bytes > cap) {
		ret = -ENOBUFS;
		goto out;
	}
	/* Into a scratch buffer first: out stays untouched unless the label
	 * matches the record inside. */
	raw = malloc(bytes);
	if (!raw) {
		ret = -ENOMEM;
		goto out;
	}
	if (sc_b64_decode(raw, bytes, b64, n))
		goto out;
	/* The label must name the record inside. */
	if (bytes < PROTO_HDR_LEN || raw[5] != t)
		goto out;
	if (memcmp(raw, PROTO_MAGIC, 4) != 0) /* not secret */
		goto out;
	memcpy(out, raw, bytes);
	*outlen = bytes;
	*type = t;
	ret = 0;
out:
	free(raw);
	free(b64);
	return ret;
}
