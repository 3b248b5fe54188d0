// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry/buf.h"

static int reserve(struct reg_buf *b, size_t n)
{
	size_t want, cap;
	char *p;

	if (n > SIZE_MAX - b->len - 1)
		return -ENOMEM;
	want = b->len + n + 1;
	if (want <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < want)
		cap = cap > SIZE_MAX / 2 ? want : cap * 2;
	p = realloc(b->p, cap);
	if (!p)
		return -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

int reg_buf_put(struct reg_buf *b, const void *p, size_t n)
{
	int r = reserve(b, n);

	if (r)
		return r;
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

int reg_buf_puts(struct reg_buf *b, const char *s)
{
	return reg_buf_put(b, s, strlen(s));
}

int reg_buf_printf(struct reg_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n, r;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	r = reserve(b, (size_t)n);
	if (r)
		return r;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

int reg_buf_json_str(struct reg_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, start = b->len;
	int r = reg_buf_put(b, "\"", 1);

	for (i = 0; !r && i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };

		if (c == '"' || c == '\\')
			r = reg_buf_put(b, (const char[]){ '\\', (char)c }, 2);
		else if (c < 0x20 || c == 0x7f)
			r = reg_buf_put(b, esc, sizeof(esc));
		else
			r = reg_buf_put(b, &s[i], 1);
	}
	if (!r)
		r = reg_buf_put(b, "\"", 1);
	if (r) {
		/* all-or-nothing: drop a half-written literal */
		b->len = start;
		if (b->p)
			b->p[start] = '\0';
	}
	return r;
}

void reg_buf_reset(struct reg_buf *b)
{
	b->len = 0;
	if (b->p)
		b->p[0] = '\0';
}

char *reg_buf_steal(struct reg_buf *b, size_t *len)
{
	char *p = b->p;

	if (!p && reg_buf_put(b, "", 0) == 0)
		p = b->p;
	if (len)
		*len = b->len;
	b->p = NULL;
	b->len = b->cap = 0;
	return p;
}

void reg_buf_free(struct reg_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

struct reg_blob *reg_blob_from_buf(struct reg_buf *b)
{
	struct reg_blob *bl = malloc(sizeof(*bl));

	if (!bl)
		return NULL;
	bl->data = reg_buf_steal(b, &bl->len);
	if (!bl->data) {
		free(bl);
		return NULL;
	}
	bl->refs = 1;
	return bl;
}

struct reg_blob *reg_blob_get(struct reg_blob *bl)
{
	__atomic_add_fetch(&bl->refs, 1, __ATOMIC_RELAXED);
	return bl;
}

void reg_blob_put(struct reg_blob *bl)
{
	if (bl && __atomic_sub_fetch(&bl->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		free(bl->data);
		free(bl);
	}
}
