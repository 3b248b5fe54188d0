/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The envelope every signed Scope record shares (docs/certs.md, "Binary
 * format"), and the error codes of the trust model.
 *
 *	"SCOP" | version 1 | type | field... | 0xff 0x00 0x40 signature[64]
 *	field = tag (1 byte) | length (2 bytes, big endian) | value
 *
 * Canonical: tags strictly increasing (a repeatable tag repeats
 * back to back), integers fixed-width big endian, sets sorted strictly
 * ascending (so no duplicates), every length within its bound, the signature
 * field last and nothing after it. A value has exactly one encoding, so a
 * signature covers the value and a fingerprint names it.
 *
 * The signature is Ed25519 over label || 0x00 || body, where body is every
 * byte before the signature field and label names the record type. The
 * fingerprint of a record is SHA3-256(body): it does not depend on the
 * signature bytes.
 *
 * The per-type modules (netdef.h, cert.h, revoke.h, kill.h) are the API;
 * the schema and writer below are their shared machinery.
 */
#ifndef PROTO_RECORD_H
#define PROTO_RECORD_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#define PROTO_MAGIC	"SCOP"
#define PROTO_VERSION	1
#define PROTO_HDR_LEN	6
#define PROTO_SIG_TAG	0xff
#define PROTO_SIG_LEN	64
#define PROTO_SIG_FIELD (3 + PROTO_SIG_LEN)
#define PROTO_FP_LEN	32
#define PROTO_FP_SHORT	16 /* hex characters of a fingerprint in logs */
#define PROTO_KEY_LEN	32

enum proto_type {
	PROTO_T_NETDEF = 1,
	PROTO_T_CERT = 2,
	PROTO_T_REVOKE = 3,
	PROTO_T_KILL = 4,
};

/* Outcomes of decoding and verifying records and signed requests. */
#define PROTO_ERR_MALFORMED (-EINVAL)	       /* not a canonical record of its type */
#define PROTO_ERR_VERSION   (-EPROTONOSUPPORT) /* Scope record of an unknown version */
#define PROTO_ERR_TYPE	    (-EPROTOTYPE)      /* a record, but of another type */
#define PROTO_ERR_SIG	    (-EBADMSG)	       /* signature does not verify */
#define PROTO_ERR_ADMIN	    (-EKEYREJECTED)    /* admin key is not the pinned one */
#define PROTO_ERR_NETWORK   (-EXDEV)	       /* record of another network */
#define PROTO_ERR_NOTYET    (-EAGAIN)	       /* certificate not valid yet */
#define PROTO_ERR_EXPIRED   (-EKEYEXPIRED)     /* certificate expired */
#define PROTO_ERR_REVOKED   (-EKEYREVOKED)     /* certificate or identity revoked */
#define PROTO_ERR_ADDR	    (-EADDRNOTAVAIL)   /* overlay address outside the prefixes */
#define PROTO_ERR_OLD	    (-EALREADY)	       /* serial not newer than the current one */
#define PROTO_ERR_STALE	    (-ESTALE)	       /* request timestamp outside the window */

/* A short English description of any code above (or of another errno). */
const char *proto_strerror(int err);

/* The type of the record in, after checking magic and version only:
 * a proto_type, PROTO_ERR_MALFORMED or PROTO_ERR_VERSION. */
int proto_record_type(const uint8_t *in, size_t len);

/* SHA3-256 of the body (the bytes the signature covers, without the label). */
void proto_fingerprint(uint8_t fp[PROTO_FP_LEN], const uint8_t *body, size_t n);
/* The first PROTO_FP_SHORT hex characters of a fingerprint, NUL-terminated. */
void proto_fp_short(char out[PROTO_FP_SHORT + 1], const uint8_t fp[PROTO_FP_LEN]);

/* ---- schema-driven parsing and writing, used by the record modules ---- */

#define PROTO_F_REQUIRED 1u /* exactly once (or at least once if PROTO_F_REPEAT) */
#define PROTO_F_REPEAT	 2u /* may repeat, back to back, up to max_count times */
#define PROTO_F_SET	 4u /* repeated values strictly ascending by (length, bytes) */

struct proto_field {
	uint8_t tag;
	uint8_t flags;
	uint16_t min, max; /* value length bounds */
	uint16_t max_count;
};

struct proto_schema {
	uint8_t type;
	const char *label; /* signature domain separation */
	const struct proto_field *fields;
	size_t n_fields; /* in tag order */
	size_t max_len;	 /* whole record */
};

/* Called for each field in order; a nonzero return aborts the parse. */
typedef int (*proto_field_fn)(void *ctx, uint8_t tag, const uint8_t *v, size_t n);

/* Check the envelope and the field rules of s on in[0, len), calling fn for
 * every field but the signature. On success *body_len is the signed length
 * and *sig points at the signature inside in. */
int proto_rec_parse(const struct proto_schema *s, const uint8_t *in, size_t len, proto_field_fn fn,
		    void *ctx, size_t *body_len, const uint8_t **sig);

/* Ordering of set values: by length, then bytes. <0, 0, >0. */
int proto_set_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn);

/* Builds a record into a caller buffer; the first overflow sticks (err). */
struct proto_w {
	uint8_t *buf;
	size_t len, cap;
	int err;
};

void proto_w_start(struct proto_w *w, uint8_t *buf, size_t cap, uint8_t type);
void proto_w_bytes(struct proto_w *w, uint8_t tag, const void *v, size_t n);
void proto_w_u8(struct proto_w *w, uint8_t tag, uint8_t v);
void proto_w_u32(struct proto_w *w, uint8_t tag, uint32_t v);
void proto_w_u64(struct proto_w *w, uint8_t tag, uint64_t v);
/* Append the signature field; *len is the record length. 0 or -ENOBUFS. */
int proto_w_finish(struct proto_w *w, const uint8_t sig[PROTO_SIG_LEN], size_t *len);

/* Ed25519 over s->label || 0x00 || body. 0, -ENOMEM or -EIO. */
int proto_rec_sign(const struct proto_schema *s, const uint8_t *body, size_t n,
		   const uint8_t seed[32], uint8_t sig[PROTO_SIG_LEN]);
/* 0, PROTO_ERR_SIG or -ENOMEM. */
int proto_rec_verify(const struct proto_schema *s, const uint8_t *body, size_t n,
		     const uint8_t pub[PROTO_KEY_LEN], const uint8_t sig[PROTO_SIG_LEN]);

uint32_t proto_get_u32(const uint8_t *p);
uint64_t proto_get_u64(const uint8_t *p);

#endif
