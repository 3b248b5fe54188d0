// SPDX-License-Identifier: GPL-2.0-only
#include "proto/revoke.h"

#include <stdlib.h>
#include <string.h>

#include "common/compiler.h"
#include "proto/addr.h"
#include "proto/limits.h"
#include "proto/netdef.h"

enum {
	RV_NETWORK = 0x01,
	RV_SERIAL = 0x02,
	RV_ISSUED = 0x03,
	RV_ENTRY = 0x04,
};

#define ENTRY_LEN (1 + PROTO_KEY_LEN) /* kind, key */

#define REQ PROTO_F_REQUIRED
static const struct proto_field rv_fields[] = {
	{ RV_NETWORK, REQ, 1, PROTO_NET_NAME_MAX, 1 },
	{ RV_SERIAL, REQ, 8, 8, 1 },
	{ RV_ISSUED, REQ, 8, 8, 1 },
	{ RV_ENTRY, PROTO_F_REPEAT | PROTO_F_SET, ENTRY_LEN, ENTRY_LEN, PROTO_REVOKE_MAX_ENTRIES },
};

static const struct proto_schema rv_schema = {
	PROTO_T_REVOKE,		  PROTO_REVOKE_LABEL,	   rv_fields,
	SC_ARRAY_SIZE(rv_fields), PROTO_REVOKE_RECORD_MAX,
};

struct proto_revoke {
	char network[PROTO_NET_NAME_MAX + 1];
	uint64_t serial, issued;
	size_t n, cap;
	uint8_t (*e)[ENTRY_LEN]; /* sorted ascending, unique */
	uint8_t signature[PROTO_SIG_LEN];
	uint8_t fingerprint[PROTO_FP_LEN];
};

int proto_revoke_new(struct proto_revoke **out, const char *network, uint64_t serial,
		     uint64_t issued)
{
	struct proto_revoke *rl;

	if (!proto_net_name_valid(network, strlen(network)) || !serial)
		return -EINVAL;
	rl = calloc(1, sizeof(*rl));
	if (!rl)
		return -ENOMEM;
	memcpy(rl->network, network, strlen(network));
	rl->serial = serial;
	rl->issued = issued;
	*out = rl;
	return 0;
}

void proto_revoke_free(struct proto_revoke *rl)
{
	if (!rl)
		return;
	free(rl->e);
	free(rl);
}

static int reserve(struct proto_revoke *rl, size_t n)
{
	uint8_t(*e)[ENTRY_LEN];
	size_t cap;

	if (n <= rl->cap)
		return 0;
	if (n > PROTO_REVOKE_MAX_ENTRIES)
		return -ENOSPC;
	cap = SC_MAX(n, SC_MIN(2 * rl->cap + 16, (size_t)PROTO_REVOKE_MAX_ENTRIES));
	e = realloc(rl->e, cap * ENTRY_LEN);
	if (!e)
		return -ENOMEM;
	rl->e = e;
	rl->cap = cap;
	return 0;
}

int proto_revoke_next(struct proto_revoke **out, const struct proto_revoke *cur, uint64_t issued)
{
	struct proto_revoke *rl;
	int ret;

	if (cur->serial == UINT64_MAX)
		return -EOVERFLOW;
	ret = proto_revoke_new(&rl, cur->network, cur->serial + 1, issued);
	if (ret)
		return ret;
	ret = reserve(rl, cur->n);
	if (ret) {
		proto_revoke_free(rl);
		return ret;
	}
	if (cur->n)
		memcpy(rl->e, cur->e, cur->n * ENTRY_LEN);
	rl->n = cur->n;
	*out = rl;
	return 0;
}

/* Index of the first entry >= key (binary search). */
static size_t lower_bound(const struct proto_revoke *rl, const uint8_t key[ENTRY_LEN])
{
	size_t lo = 0, hi = rl->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (memcmp(rl->e[mid], key, ENTRY_LEN) < 0) /* not secret: public keys */
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool kind_ok(uint8_t kind)
{
	return kind == PROTO_REVOKE_CERT || kind == PROTO_REVOKE_IDENTITY;
}

bool proto_revoke_has(const struct proto_revoke *rl, uint8_t kind, const uint8_t key[PROTO_KEY_LEN])
{
	uint8_t k[ENTRY_LEN];
	size_t i;

	k[0] = kind;
	memcpy(k + 1, key, PROTO_KEY_LEN);
	i = lower_bound(rl, k);
	return i < rl->n && memcmp(rl->e[i], k, ENTRY_LEN) == 0; /* not secret */
}

int proto_revoke_add(struct proto_revoke *rl, uint8_t kind, const uint8_t key[PROTO_KEY_LEN])
{
	uint8_t k[ENTRY_LEN];
	size_t i;
	int ret;

	if (!kind_ok(kind))
		return -EINVAL;
	if (proto_revoke_has(rl, kind, key))
		return -EEXIST;
	ret = reserve(rl, rl->n + 1);
	if (ret)
		return ret;
	k[0] = kind;
	memcpy(k + 1, key, PROTO_KEY_LEN);
	i = lower_bound(rl, k);
	memmove(rl->e[i + 1], rl->e[i], (rl->n - i) * ENTRY_LEN);
	memcpy(rl->e[i], k, ENTRY_LEN);
	rl->n++;
	return 0;
}

size_t proto_revoke_encoded_len(const struct proto_revoke *rl)
{
	return PROTO_HDR_LEN + 3 + strlen(rl->network) + 2 * (3 + 8) + rl->n * (3 + ENTRY_LEN) +
	       PROTO_SIG_FIELD;
}

static int write_body(const struct proto_revoke *rl, uint8_t *buf, size_t cap, struct proto_w *w)
{
	size_t i;

	proto_w_start(w, buf, cap, PROTO_T_REVOKE);
	proto_w_bytes(w, RV_NETWORK, rl->network, strlen(rl->network));
	proto_w_u64(w, RV_SERIAL, rl->serial);
	proto_w_u64(w, RV_ISSUED, rl->issued);
	for (i = 0; i < rl->n; i++)
		proto_w_bytes(w, RV_ENTRY, rl->e[i], ENTRY_LEN);
	return w->err;
}

/* The body in a fresh buffer: a full list is too large for the stack. */
static uint8_t *body_of(const struct proto_revoke *rl, size_t *len, int *err)
{
	size_t cap = proto_revoke_encoded_len(rl);
	uint8_t *buf = malloc(cap);
	struct proto_w w;

	*err = -ENOMEM;
	if (!buf)
		return NULL;
	*err = write_body(rl, buf, cap, &w);
	if (*err) {
		free(buf);
		return NULL;
	}
	*len = w.len;
	return buf;
}

int proto_revoke_sign(struct proto_revoke *rl, const uint8_t admin_seed[32])
{
	uint8_t sig[PROTO_SIG_LEN];
	size_t len;
	int ret;
	uint8_t *body = body_of(rl, &len, &ret);

	if (!body)
		return ret;
	ret = proto_rec_sign(&rv_schema, body, len, admin_seed, sig);
	if (!ret) {
		memcpy(rl->signature, sig, sizeof(sig));
		proto_fingerprint(rl->fingerprint, body, len);
	}
	free(body);
	return ret;
}

int proto_revoke_encode(const struct proto_revoke *rl, uint8_t *out, size_t cap, size_t *len)
{
	struct proto_w w;
	int ret = write_body(rl, out, cap, &w);

	return ret ?: proto_w_finish(&w, rl->signature, len);
}

static int rv_field(void *ctx, uint8_t tag, const uint8_t *v, size_t n)
{
	struct proto_revoke *rl = ctx;
	int ret;

	switch (tag) {
	case RV_NETWORK:
		if (!proto_net_name_valid((const char *)v, n))
			return PROTO_ERR_MALFORMED;
		memcpy(rl->network, v, n);
		return 0;
	case RV_SERIAL:
		rl->serial = proto_get_u64(v);
		return rl->serial ? 0 : PROTO_ERR_MALFORMED;
	case RV_ISSUED:
		rl->issued = proto_get_u64(v);
		return 0;
	default: /* RV_ENTRY, in order (the parser checks PROTO_F_SET) */
		if (!kind_ok(v[0]))
			return PROTO_ERR_MALFORMED;
		ret = reserve(rl, rl->n + 1);
		if (ret)
			return ret;
		memcpy(rl->e[rl->n++], v, ENTRY_LEN);
		return 0;
	}
}

int proto_revoke_decode(struct proto_revoke **out, const uint8_t *in, size_t len)
{
	struct proto_revoke *rl = calloc(1, sizeof(*rl));
	const uint8_t *sig;
	size_t body;
	int ret;

	if (!rl)
		return -ENOMEM;
	ret = proto_rec_parse(&rv_schema, in, len, rv_field, rl, &body, &sig);
	if (ret) {
		proto_revoke_free(rl);
		return ret;
	}
	memcpy(rl->signature, sig, PROTO_SIG_LEN);
	proto_fingerprint(rl->fingerprint, in, body);
	*out = rl;
	return 0;
}

int proto_revoke_verify(const struct proto_revoke *rl, const struct proto_netdef *net)
{
	size_t len;
	int ret;
	uint8_t *body;

	if (strcmp(rl->network, net->name) != 0)
		return PROTO_ERR_NETWORK;
	body = body_of(rl, &len, &ret);
	if (!body)
		return ret;
	ret = proto_rec_verify(&rv_schema, body, len, net->admin, rl->signature);
	free(body);
	return ret;
}

int proto_revoke_replaces(const struct proto_revoke *cur, const struct proto_revoke *cand)
{
	if (!cur)
		return 0;
	if (strcmp(cur->network, cand->network) != 0)
		return PROTO_ERR_NETWORK;
	return cand->serial > cur->serial ? 0 : PROTO_ERR_OLD;
}

const char *proto_revoke_network(const struct proto_revoke *rl)
{
	return rl->network;
}

uint64_t proto_revoke_serial(const struct proto_revoke *rl)
{
	return rl->serial;
}

uint64_t proto_revoke_issued(const struct proto_revoke *rl)
{
	return rl->issued;
}

size_t proto_revoke_count(const struct proto_revoke *rl)
{
	return rl->n;
}

void proto_revoke_entry(const struct proto_revoke *rl, size_t i, uint8_t *kind,
			uint8_t key[PROTO_KEY_LEN])
{
	*kind = rl->e[i][0];
	memcpy(key, rl->e[i] + 1, PROTO_KEY_LEN);
}

const uint8_t *proto_revoke_fingerprint(const struct proto_revoke *rl)
{
	return rl->fingerprint;
}
