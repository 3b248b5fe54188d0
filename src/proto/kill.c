// SPDX-License-Identifier: GPL-2.0-only
#include "proto/kill.h"

#include <stdlib.h>
#include <string.h>

#include "common/compiler.h"
#include "proto/addr.h"
#include "proto/netdef.h"

enum {
	KL_NETWORK = 0x01,
	KL_SERIAL = 0x02,
	KL_ISSUED = 0x03,
	KL_SCOPE = 0x04,
	KL_TARGET = 0x05,
};

#define TARGET_MAX (1 + PROTO_KEY_LEN)
_Static_assert(PROTO_PEER_NAME_MAX <= PROTO_KEY_LEN, "a name fits a target value");

#define REQ PROTO_F_REQUIRED
static const struct proto_field kl_fields[] = {
	{ KL_NETWORK, REQ, 1, PROTO_NET_NAME_MAX, 1 },
	{ KL_SERIAL, REQ, 8, 8, 1 },
	{ KL_ISSUED, REQ, 8, 8, 1 },
	{ KL_SCOPE, REQ, 1, 1, 1 },
	{ KL_TARGET, PROTO_F_REPEAT | PROTO_F_SET, 2, TARGET_MAX, PROTO_KILL_MAX_TARGETS },
};

#define KILL_MAX_LEN                                                    \
	(PROTO_HDR_LEN + 3 + PROTO_NET_NAME_MAX + 2 * (3 + 8) + 3 + 1 + \
	 PROTO_KILL_MAX_TARGETS * (3 + TARGET_MAX) + PROTO_SIG_FIELD)
_Static_assert(KILL_MAX_LEN <= PROTO_RECORD_MAX, "kill switch fits PROTO_RECORD_MAX");

static const struct proto_schema kl_schema = {
	PROTO_T_KILL, PROTO_KILL_LABEL, kl_fields, SC_ARRAY_SIZE(kl_fields), KILL_MAX_LEN,
};

/* A target as encoded: kind, then the name or key. */
static size_t target_bytes(uint8_t out[TARGET_MAX], const struct proto_kill_target *t)
{
	out[0] = t->kind;
	memcpy(out + 1, t->value, t->len);
	return 1 + (size_t)t->len;
}

static int target_cmp(const void *a, const void *b)
{
	uint8_t x[TARGET_MAX], y[TARGET_MAX];
	size_t xn = target_bytes(x, a), yn = target_bytes(y, b);

	return proto_set_cmp(x, xn, y, yn);
}

static bool target_ok(const struct proto_kill_target *t)
{
	if (t->kind == PROTO_TARGET_NAME)
		return proto_peer_name_valid((const char *)t->value, t->len);
	return t->kind == PROTO_TARGET_IDENTITY && t->len == PROTO_KEY_LEN;
}

static int check(const struct proto_kill *k)
{
	size_t i;

	if (!proto_net_name_valid(k->network, strnlen(k->network, sizeof(k->network))) ||
	    !k->serial)
		return -EINVAL;
	if (k->scope == PROTO_KILL_ALL ? k->n_targets != 0
				       : k->scope != PROTO_KILL_LISTED || !k->n_targets ||
						 k->n_targets > PROTO_KILL_MAX_TARGETS)
		return -EINVAL;
	for (i = 0; i < k->n_targets; i++)
		if (!target_ok(&k->targets[i]) ||
		    (i && target_cmp(&k->targets[i - 1], &k->targets[i]) >= 0))
			return -EINVAL;
	return 0;
}

static int add_target(struct proto_kill *k, uint8_t kind, const void *v, size_t n)
{
	struct proto_kill_target *t;

	if (k->n_targets >= PROTO_KILL_MAX_TARGETS)
		return -ENOSPC;
	t = &k->targets[k->n_targets];
	memset(t, 0, sizeof(*t));
	t->kind = kind;
	t->len = (uint8_t)n;
	memcpy(t->value, v, n);
	k->n_targets++;
	return 0;
}

int proto_kill_add_name(struct proto_kill *k, const char *name)
{
	size_t n = strlen(name);

	if (!proto_peer_name_valid(name, n))
		return -EINVAL;
	return add_target(k, PROTO_TARGET_NAME, name, n);
}

int proto_kill_add_identity(struct proto_kill *k, const uint8_t key[PROTO_KEY_LEN])
{
	return add_target(k, PROTO_TARGET_IDENTITY, key, PROTO_KEY_LEN);
}

static int write_body(const struct proto_kill *k, uint8_t *buf, size_t cap, struct proto_w *w)
{
	uint8_t b[TARGET_MAX];
	size_t i;

	proto_w_start(w, buf, cap, PROTO_T_KILL);
	proto_w_bytes(w, KL_NETWORK, k->network, strlen(k->network));
	proto_w_u64(w, KL_SERIAL, k->serial);
	proto_w_u64(w, KL_ISSUED, k->issued);
	proto_w_u8(w, KL_SCOPE, k->scope);
	for (i = 0; i < k->n_targets; i++)
		proto_w_bytes(w, KL_TARGET, b, target_bytes(b, &k->targets[i]));
	return w->err;
}

int proto_kill_sign(struct proto_kill *k, const uint8_t admin_seed[32])
{
	uint8_t buf[PROTO_RECORD_MAX];
	struct proto_kill tmp = *k;
	struct proto_w w;
	int ret = -EINVAL;

	if (tmp.n_targets <= PROTO_KILL_MAX_TARGETS) {
		qsort(tmp.targets, tmp.n_targets, sizeof(tmp.targets[0]), target_cmp);
		ret = check(&tmp);
	}
	if (!ret)
		ret = write_body(&tmp, buf, sizeof(buf), &w);
	if (!ret)
		ret = proto_rec_sign(&kl_schema, buf, w.len, admin_seed, tmp.signature);
	if (ret)
		return ret;
	proto_fingerprint(tmp.fingerprint, buf, w.len);
	*k = tmp;
	return 0;
}

int proto_kill_encode(const struct proto_kill *k, uint8_t *out, size_t cap, size_t *len)
{
	struct proto_w w;
	int ret = check(k);

	if (!ret)
		ret = write_body(k, out, cap, &w);
	return ret ?: proto_w_finish(&w, k->signature, len);
}

static int kl_field(void *ctx, uint8_t tag, const uint8_t *v, size_t n)
{
	struct proto_kill *k = ctx;

	switch (tag) {
	case KL_NETWORK:
		if (!proto_net_name_valid((const char *)v, n))
			return PROTO_ERR_MALFORMED;
		memcpy(k->network, v, n);
		return 0;
	case KL_SERIAL:
		k->serial = proto_get_u64(v);
		return 0;
	case KL_ISSUED:
		k->issued = proto_get_u64(v);
		return 0;
	case KL_SCOPE:
		k->scope = v[0];
		return 0;
	default: /* KL_TARGET; kinds and names are checked with the whole */
		return add_target(k, v[0], v + 1, n - 1);
	}
}

int proto_kill_decode(struct proto_kill *out, const uint8_t *in, size_t len)
{
	struct proto_kill *k = calloc(1, sizeof(*k));
	const uint8_t *sig;
	size_t body;
	int ret;

	/* On the heap: a full kill switch is 9 KiB and decode may run deep in
	 * a registry handler. */
	if (!k)
		return -ENOMEM;
	ret = proto_rec_parse(&kl_schema, in, len, kl_field, k, &body, &sig);
	if (!ret && check(k))
		ret = PROTO_ERR_MALFORMED;
	if (!ret) {
		memcpy(k->signature, sig, PROTO_SIG_LEN);
		proto_fingerprint(k->fingerprint, in, body);
		*out = *k;
	}
	free(k);
	return ret;
}

int proto_kill_verify(const struct proto_kill *k, const struct proto_netdef *net)
{
	uint8_t buf[PROTO_RECORD_MAX];
	struct proto_w w;
	int ret;

	if (check(k))
		return PROTO_ERR_MALFORMED;
	if (strcmp(k->network, net->name) != 0)
		return PROTO_ERR_NETWORK;
	ret = write_body(k, buf, sizeof(buf), &w);
	return ret ?: proto_rec_verify(&kl_schema, buf, w.len, net->admin, k->signature);
}

bool proto_kill_applies(const struct proto_kill *k, const char *name,
			const uint8_t identity[PROTO_KEY_LEN])
{
	size_t i, n = name ? strlen(name) : 0;

	if (k->scope == PROTO_KILL_ALL)
		return true;
	for (i = 0; i < k->n_targets; i++) {
		const struct proto_kill_target *t = &k->targets[i];

		if (t->kind == PROTO_TARGET_NAME && name && t->len == n &&
		    memcmp(t->value, name, n) == 0) /* not secret */
			return true;
		if (t->kind == PROTO_TARGET_IDENTITY && identity &&
		    memcmp(t->value, identity, PROTO_KEY_LEN) == 0) /* not secret */
			return true;
	}
	return false;
}
