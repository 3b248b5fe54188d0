// SPDX-License-Identifier: GPL-2.0-only
#include "proto/record.h"

#include <stdlib.h>
#include <string.h>

#include "common/encode.h"
#include "crypto/ct.h"
#include "crypto/keccak.h"
#include "crypto/x25519.h"

const char *proto_strerror(int err)
{
	switch (err) {
	case 0:
		return "ok";
	case PROTO_ERR_MALFORMED:
		return "malformed or non-canonical record";
	case PROTO_ERR_VERSION:
		return "unsupported record version";
	case PROTO_ERR_TYPE:
		return "a different kind of record";
	case PROTO_ERR_SIG:
		return "bad signature";
	case PROTO_ERR_ADMIN:
		return "admin key does not match the pinned key";
	case PROTO_ERR_NETWORK:
		return "wrong network";
	case PROTO_ERR_NOTYET:
		return "not valid yet";
	case PROTO_ERR_EXPIRED:
		return "expired";
	case PROTO_ERR_REVOKED:
		return "revoked";
	case PROTO_ERR_ADDR:
		return "overlay address outside the network's prefixes";
	case PROTO_ERR_OLD:
		return "serial not newer than the current one";
	case PROTO_ERR_STALE:
		return "timestamp outside the allowed window";
	case -ENOBUFS:
		return "output buffer too small";
	case -ENOMEM:
		return "out of memory";
	default:
		return "error";
	}
}

int proto_record_type(const uint8_t *in, size_t len)
{
	if (len < PROTO_HDR_LEN || memcmp(in, PROTO_MAGIC, 4) != 0) /* not secret */
		return PROTO_ERR_MALFORMED;
	if (in[4] != PROTO_VERSION)
		return PROTO_ERR_VERSION;
	return in[5];
}

void proto_fingerprint(uint8_t fp[PROTO_FP_LEN], const uint8_t *body, size_t n)
{
	cry_sha3_256(fp, body, n);
}

void proto_fp_short(char out[PROTO_FP_SHORT + 1], const uint8_t fp[PROTO_FP_LEN])
{
	sc_hex_encode(out, fp, PROTO_FP_SHORT / 2);
}

uint32_t proto_get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

uint64_t proto_get_u64(const uint8_t *p)
{
	return (uint64_t)proto_get_u32(p) << 32 | proto_get_u32(p + 4);
}

int proto_set_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	if (an != bn)
		return an < bn ? -1 : 1;
	return memcmp(a, b, an); /* not secret: public record fields */
}

static const struct proto_field *find_field(const struct proto_schema *s, uint8_t tag)
{
	size_t i;

	for (i = 0; i < s->n_fields; i++)
		if (s->fields[i].tag == tag)
			return &s->fields[i];
	return NULL;
}

/* Tracks the field rules while walking: order, repeats, set order, counts. */
struct walk {
	const struct proto_field *cur;
	const uint8_t *prev_v;
	size_t prev_n;
	unsigned int count;
	size_t required_seen;
};

static int walk_field(struct walk *w, const struct proto_schema *s, uint8_t tag, const uint8_t *v,
		      size_t n)
{
	const struct proto_field *f = find_field(s, tag);

	if (!f || n < f->min || n > f->max)
		return PROTO_ERR_MALFORMED;
	if (w->cur && tag < w->cur->tag)
		return PROTO_ERR_MALFORMED;
	if (w->cur && tag == w->cur->tag) {
		if (!(f->flags & PROTO_F_REPEAT) || w->count >= f->max_count)
			return PROTO_ERR_MALFORMED;
		if ((f->flags & PROTO_F_SET) && proto_set_cmp(w->prev_v, w->prev_n, v, n) >= 0)
			return PROTO_ERR_MALFORMED;
		w->count++;
	} else {
		w->cur = f;
		w->count = 1;
		if (f->flags & PROTO_F_REQUIRED)
			w->required_seen++;
	}
	w->prev_v = v;
	w->prev_n = n;
	return 0;
}

static size_t count_required(const struct proto_schema *s)
{
	size_t i, n = 0;

	for (i = 0; i < s->n_fields; i++)
		n += !!(s->fields[i].flags & PROTO_F_REQUIRED);
	return n;
}

int proto_rec_parse(const struct proto_schema *s, const uint8_t *in, size_t len, proto_field_fn fn,
		    void *ctx, size_t *body_len, const uint8_t **sig)
{
	struct walk w = { 0 };
	size_t off = PROTO_HDR_LEN;
	int ret = proto_record_type(in, len);

	if (ret < 0)
		return ret;
	if (ret != s->type)
		return PROTO_ERR_TYPE;
	if (len > s->max_len || len < PROTO_HDR_LEN + PROTO_SIG_FIELD)
		return PROTO_ERR_MALFORMED;
	/* Fields up to the signature, which must end the record exactly. */
	while (off < len - PROTO_SIG_FIELD) {
		size_t room = len - PROTO_SIG_FIELD - off, n;
		uint8_t tag = in[off];

		if (room < 3)
			return PROTO_ERR_MALFORMED;
		n = (size_t)in[off + 1] << 8 | in[off + 2];
		if (n > room - 3)
			return PROTO_ERR_MALFORMED;
		ret = walk_field(&w, s, tag, in + off + 3, n);
		if (!ret)
			ret = fn(ctx, tag, in + off + 3, n);
		if (ret)
			return ret < 0 ? ret : PROTO_ERR_MALFORMED;
		off += 3 + n;
	}
	if (off != len - PROTO_SIG_FIELD || in[off] != PROTO_SIG_TAG || in[off + 1] != 0 ||
	    in[off + 2] != PROTO_SIG_LEN || w.required_seen != count_required(s))
		return PROTO_ERR_MALFORMED;
	*body_len = off;
	*sig = in + off + 3;
	return 0;
}

void proto_w_start(struct proto_w *w, uint8_t *buf, size_t cap, uint8_t type)
{
	w->buf = buf;
	w->cap = cap;
	w->len = 0;
	w->err = 0;
	if (cap < PROTO_HDR_LEN) {
		w->err = -ENOBUFS;
		return;
	}
	memcpy(buf, PROTO_MAGIC, 4);
	buf[4] = PROTO_VERSION;
	buf[5] = type;
	w->len = PROTO_HDR_LEN;
}

void proto_w_bytes(struct proto_w *w, uint8_t tag, const void *v, size_t n)
{
	if (w->err)
		return;
	if (n > 0xffff) {
		w->err = -EINVAL;
		return;
	}
	if (w->cap - w->len < 3 + n) {
		w->err = -ENOBUFS;
		return;
	}
	w->buf[w->len] = tag;
	w->buf[w->len + 1] = (uint8_t)(n >> 8);
	w->buf[w->len + 2] = (uint8_t)n;
	if (n)
		memcpy(w->buf + w->len + 3, v, n);
	w->len += 3 + n;
}

void proto_w_u8(struct proto_w *w, uint8_t tag, uint8_t v)
{
	proto_w_bytes(w, tag, &v, 1);
}

void proto_w_u32(struct proto_w *w, uint8_t tag, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

	proto_w_bytes(w, tag, b, sizeof(b));
}

void proto_w_u64(struct proto_w *w, uint8_t tag, uint64_t v)
{
	uint8_t b[8];
	int i;

	for (i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (56 - 8 * i));
	proto_w_bytes(w, tag, b, sizeof(b));
}

int proto_w_finish(struct proto_w *w, const uint8_t sig[PROTO_SIG_LEN], size_t *len)
{
	proto_w_bytes(w, PROTO_SIG_TAG, sig, PROTO_SIG_LEN);
	if (w->err)
		return w->err;
	*len = w->len;
	return 0;
}

/* label || 0x00 || body in a fresh buffer: Ed25519 signs one message. */
static uint8_t *labelled(const struct proto_schema *s, const uint8_t *body, size_t n, size_t *len)
{
	size_t l = strlen(s->label) + 1;
	uint8_t *m = malloc(l + n);

	if (!m)
		return NULL;
	memcpy(m, s->label, l);
	memcpy(m + l, body, n);
	*len = l + n;
	return m;
}

int proto_rec_sign(const struct proto_schema *s, const uint8_t *body, size_t n,
		   const uint8_t seed[32], uint8_t sig[PROTO_SIG_LEN])
{
	size_t mlen;
	uint8_t *m = labelled(s, body, n, &mlen);
	int ret;

	if (!m)
		return -ENOMEM;
	ret = cry_ed25519_sign(sig, seed, m, mlen);
	free(m);
	return ret;
}

int proto_rec_verify(const struct proto_schema *s, const uint8_t *body, size_t n,
		     const uint8_t pub[PROTO_KEY_LEN], const uint8_t sig[PROTO_SIG_LEN])
{
	size_t mlen;
	uint8_t *m = labelled(s, body, n, &mlen);
	int ret;

	if (!m)
		return -ENOMEM;
	ret = cry_ed25519_verify(sig, pub, m, mlen) ? PROTO_ERR_SIG : 0;
	free(m);
	return ret;
}
