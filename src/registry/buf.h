/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A growable byte buffer for response bodies and serialized documents.
 * Always NUL-terminated after the first successful append, so text can be
 * handed to C string functions; len excludes the NUL. A zeroed struct is an
 * empty buffer.
 */
#ifndef REG_BUF_H
#define REG_BUF_H

#include <stddef.h>

struct reg_buf {
	char *p;
	size_t len;
	size_t cap;
};

/* Append n bytes. 0 or -ENOMEM (the buffer is then unchanged). */
int reg_buf_put(struct reg_buf *b, const void *p, size_t n);
int reg_buf_puts(struct reg_buf *b, const char *s);
/* Append formatted text. 0, -ENOMEM or -EINVAL. */
__attribute__((format(printf, 2, 3))) int reg_buf_printf(struct reg_buf *b, const char *fmt, ...);
/* Append s as a JSON string literal, quotes included. */
int reg_buf_json_str(struct reg_buf *b, const char *s, size_t n);
/* Forget the contents, keep the memory. */
void reg_buf_reset(struct reg_buf *b);
/* Hand the memory to the caller (who frees it); the buffer becomes empty. */
char *reg_buf_steal(struct reg_buf *b, size_t *len);
void reg_buf_free(struct reg_buf *b);

/* An immutable, reference-counted response body: the cached peer list is
 * handed to many connections at once without copying. */
struct reg_blob {
	unsigned refs; /* atomic */
	size_t len;
	char *data;
};

/* A blob owning b's memory (b becomes empty). NULL on -ENOMEM. */
struct reg_blob *reg_blob_from_buf(struct reg_buf *b);
struct reg_blob *reg_blob_get(struct reg_blob *bl);
/* Drop a reference; frees on the last. Accepts NULL. */
void reg_blob_put(struct reg_blob *bl);

#endif
