// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/ct.h"
#include "proto/armor.h"
#include "registry/auth.h"
#include "registry/limits.h"
#include "registry/replay.h"

struct reg_auth {
	struct proto_netdef net;
	uint8_t netdef_bytes[PROTO_RECORD_MAX];
	size_t netdef_len;
	pthread_mutex_t lock; /* guards replay and rl */
	struct reg_replay *replay;
	struct proto_revoke *rl; /* NULL: none yet */
};

__attribute__((format(printf, 4, 5))) static int fail(struct reg_err *e, unsigned status,
						      const char *code, const char *fmt, ...)
{
	va_list ap;

	e->status = status;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->why, sizeof(e->why), fmt, ap);
	va_end(ap);
	return status == 503 ? -EBUSY : status == 400 ? -EINVAL : -EACCES;
}

/* Armored text or canonical bytes of a network definition, verified. */
static int load_netdef(struct reg_auth *a, const uint8_t *in, size_t len, const uint8_t *pinned,
		       char *errbuf, size_t errlen)
{
	uint8_t type = 0;
	int r;

	if (len >= 5 && memcmp(in, "-----", 5) == 0) { /* not secret */
		r = proto_armor_decode(a->netdef_bytes, sizeof(a->netdef_bytes), &a->netdef_len,
				       &type, (const char *)in, len);
		if (r == 0 && type != PROTO_T_NETDEF)
			r = PROTO_ERR_TYPE;
	} else if (len <= sizeof(a->netdef_bytes)) {
		memcpy(a->netdef_bytes, in, len);
		a->netdef_len = len;
		r = 0;
	} else {
		r = PROTO_ERR_MALFORMED;
	}
	if (!r)
		r = proto_netdef_decode(&a->net, a->netdef_bytes, a->netdef_len);
	if (!r)
		r = proto_netdef_verify(&a->net, pinned);
	if (r)
		snprintf(errbuf, errlen, "network definition: %s", proto_strerror(r));
	return r;
}

int reg_auth_new(const uint8_t *netdef, size_t len, const uint8_t *pinned_admin,
		 struct reg_auth **out, char *errbuf, size_t errlen)
{
	struct reg_auth *a = calloc(1, sizeof(*a));
	int r;

	if (!a)
		return -ENOMEM;
	r = load_netdef(a, netdef, len, pinned_admin, errbuf, errlen);
	if (!r) {
		r = reg_replay_new(REG_SIG_WINDOW, REG_REPLAY_CACHE_MAX, &a->replay);
		if (r)
			snprintf(errbuf, errlen, "replay cache: out of memory");
	}
	if (!r && pthread_mutex_init(&a->lock, NULL) != 0)
		r = -ENOMEM;
	if (r) {
		reg_replay_free(a->replay);
		free(a);
		return r;
	}
	*out = a;
	return 0;
}

void reg_auth_free(struct reg_auth *a)
{
	if (!a)
		return;
	reg_replay_free(a->replay);
	proto_revoke_free(a->rl);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

const struct proto_netdef *reg_auth_netdef(const struct reg_auth *a)
{
	return &a->net;
}

const uint8_t *reg_auth_netdef_bytes(const struct reg_auth *a, size_t *len)
{
	*len = a->netdef_len;
	return a->netdef_bytes;
}

int reg_auth_request(struct reg_auth *a, const struct proto_sigreq_in *hdr, const char *method,
		     const char *uri, const uint8_t *body, size_t len, int64_t now,
		     uint8_t signer[PROTO_KEY_LEN], struct reg_err *e)
{
	struct proto_sigreq_msg msg = {
		.network = a->net.name,
		.method = method,
		.path = uri,
		.body = body,
		.body_len = len,
	};
	uint8_t key[PROTO_KEY_LEN], id[PROTO_SIGREQ_ID_LEN];
	int r;

	if (!hdr->key && !hdr->timestamp && !hdr->nonce && !hdr->signature)
		return fail(e, 401, REG_E_UNSIGNED, "this resource needs a signed request");
	if (now < 0)
		return fail(e, 503, REG_E_BUSY, "registry clock is before 1970");
	r = proto_sigreq_verify(hdr, &msg, (uint64_t)now, REG_SIG_WINDOW, key, id);
	if (r == PROTO_ERR_STALE)
		return fail(e, 401, REG_E_STALE,
			    "timestamp is more than %d s from the registry's clock",
			    REG_SIG_WINDOW);
	if (r == -EINVAL)
		return fail(e, 401, REG_E_UNSIGNED, "missing or malformed Scope-* headers");
	if (r)
		return fail(e, 401, REG_E_BAD_SIG, "signature does not verify");
	pthread_mutex_lock(&a->lock);
	r = reg_replay_check(a->replay, id, now);
	pthread_mutex_unlock(&a->lock);
	if (r == -EEXIST)
		return fail(e, 401, REG_E_REPLAYED, "this signed request was already seen");
	if (r)
		return fail(e, 503, REG_E_BUSY, "replay cache full; retry later");
	memcpy(signer, key, PROTO_KEY_LEN);
	return 0;
}

/* Map a verification outcome of src/proto to the API. */
static int cert_fail(struct reg_err *e, int r)
{
	switch (r) {
	case PROTO_ERR_NETWORK:
		return fail(e, 403, REG_E_WRONG_NETWORK, "certificate is for another network");
	case PROTO_ERR_SIG:
		return fail(e, 403, REG_E_CERT_SIG, "certificate is not signed by the admin key");
	case PROTO_ERR_NOTYET:
		return fail(e, 403, REG_E_CERT_NOTYET, "certificate is not valid yet");
	case PROTO_ERR_EXPIRED:
		return fail(e, 403, REG_E_CERT_EXPIRED, "certificate expired");
	case PROTO_ERR_ADDR:
		return fail(e, 403, REG_E_CERT_ADDR, "overlay address outside the network");
	case PROTO_ERR_REVOKED:
		return fail(e, 403, REG_E_REVOKED, "certificate or identity revoked");
	default:
		return fail(e, 403, REG_E_BAD_CERT, "certificate refused: %s", proto_strerror(r));
	}
}

int reg_auth_cert(struct reg_auth *a, const uint8_t *cert, size_t len, int64_t now,
		  struct proto_cert **out, struct reg_err *e)
{
	struct proto_cert *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	r = proto_cert_decode(c, cert, len);
	if (r) {
		free(c);
		return fail(e, 400, REG_E_BAD_CERT, "not a canonical certificate: %s",
			    proto_strerror(r));
	}
	pthread_mutex_lock(&a->lock);
	r = proto_cert_verify(c, &a->net, a->rl, now < 0 ? 0 : (uint64_t)now);
	pthread_mutex_unlock(&a->lock);
	if (r) {
		free(c);
		return cert_fail(e, r);
	}
	*out = c;
	return 0;
}

int reg_auth_standing(struct reg_auth *a, const uint8_t certfp[PROTO_FP_LEN],
		      const uint8_t ident[PROTO_KEY_LEN], int64_t not_after, int64_t now,
		      struct reg_err *e)
{
	int revoked = 0;

	if (now >= not_after)
		return cert_fail(e, PROTO_ERR_EXPIRED);
	pthread_mutex_lock(&a->lock);
	if (a->rl)
		revoked = proto_revoke_has(a->rl, PROTO_REVOKE_CERT, certfp) ||
			  proto_revoke_has(a->rl, PROTO_REVOKE_IDENTITY, ident);
	pthread_mutex_unlock(&a->lock);
	return revoked ? cert_fail(e, PROTO_ERR_REVOKED) : 0;
}

static int record_fail(struct reg_err *e, int r, const char *what)
{
	if (r == PROTO_ERR_NETWORK)
		return fail(e, 403, REG_E_WRONG_NETWORK, "%s is for another network", what);
	if (r == PROTO_ERR_SIG || r == PROTO_ERR_ADMIN)
		return fail(e, 403, REG_E_RECORD_SIG, "%s is not signed by the admin key", what);
	if (r == -ENOMEM)
		return r;
	return fail(e, 400, REG_E_BAD_RECORD, "%s: %s", what, proto_strerror(r));
}

int reg_auth_kill(struct reg_auth *a, const uint8_t *rec, size_t len, struct proto_kill *out,
		  struct reg_err *e)
{
	int r = proto_kill_decode(out, rec, len);

	if (!r)
		r = proto_kill_verify(out, &a->net);
	return r ? record_fail(e, r, "kill switch") : 0;
}

int reg_auth_revoke_check(struct reg_auth *a, const uint8_t *rec, size_t len,
			  struct proto_revoke **out, struct reg_err *e)
{
	struct proto_revoke *rl = NULL;
	int r = proto_revoke_decode(&rl, rec, len);

	if (!r)
		r = proto_revoke_verify(rl, &a->net);
	if (r) {
		proto_revoke_free(rl);
		return record_fail(e, r, "revocation list");
	}
	pthread_mutex_lock(&a->lock);
	r = proto_revoke_replaces(a->rl, rl);
	pthread_mutex_unlock(&a->lock);
	if (r) {
		proto_revoke_free(rl);
		if (r == PROTO_ERR_OLD)
			return fail(e, 409, REG_E_STALE_SERIAL,
				    "revocation list is not newer than the current one");
		return record_fail(e, r, "revocation list");
	}
	*out = rl;
	return 0;
}

void reg_auth_revoke_install(struct reg_auth *a, struct proto_revoke *rl)
{
	struct proto_revoke *old;

	pthread_mutex_lock(&a->lock);
	old = a->rl;
	a->rl = rl;
	pthread_mutex_unlock(&a->lock);
	proto_revoke_free(old);
}

size_t reg_auth_replay_count(struct reg_auth *a)
{
	size_t n;

	pthread_mutex_lock(&a->lock);
	n = reg_replay_count(a->replay);
	pthread_mutex_unlock(&a->lock);
	return n;
}
