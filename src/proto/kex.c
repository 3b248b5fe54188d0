// SPDX-License-Identifier: GPL-2.0-only
#include "proto/kex.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/compiler.h"
#include "crypto/ct.h"
#include "crypto/keccak.h"
#include "crypto/x25519.h"
#include "proto/addr.h"
#include "proto/cert.h"

enum {
	KX_NETWORK = 0x01,
	KX_FROM = 0x02,
	KX_FROM_ID = 0x03,
	KX_FROM_WG = 0x04,
	KX_TO = 0x05,
	KX_TO_WG = 0x06,
	KX_VERSION = 0x07,
	KX_NONCE = 0x08,
	KX_ISSUED = 0x09,
	/* payload: EK: ek; CT: ek hash, ct; ACK: ek hash, ct hash, mac */
	KX_P1 = 0x10,
	KX_P2 = 0x11,
	KX_P3 = 0x12,
};

/* Every field required, once, of a fixed or bounded length. */
#define F(tag, lo, hi)                           \
	{                                        \
		tag, PROTO_F_REQUIRED, lo, hi, 1 \
	}
static const struct proto_field ek_fields[] = {
	F(KX_NETWORK, 1, PROTO_NET_NAME_MAX),
	F(KX_FROM, 1, PROTO_PEER_NAME_MAX),
	F(KX_FROM_ID, PROTO_KEY_LEN, PROTO_KEY_LEN),
	F(KX_FROM_WG, PROTO_KEY_LEN, PROTO_KEY_LEN),
	F(KX_TO, 1, PROTO_PEER_NAME_MAX),
	F(KX_TO_WG, PROTO_KEY_LEN, PROTO_KEY_LEN),
	F(KX_VERSION, 8, 8),
	F(KX_NONCE, PROTO_KEX_NONCE_LEN, PROTO_KEX_NONCE_LEN),
	F(KX_ISSUED, 8, 8),
	F(KX_P1, CRY_XWING_PK, CRY_XWING_PK),
};
static const struct proto_field ct_fields[] = {
	F(KX_NETWORK, 1, PROTO_NET_NAME_MAX),
	F(KX_FROM, 1, PROTO_PEER_NAME_MAX),
	F(KX_FROM_ID, PROTO_KEY_LEN, PROTO_KEY_LEN),
	F(KX_FROM_WG, PROTO_KEY_LEN, PROTO_KEY_LEN),
	F(KX_TO, 1, PROTO_PEER_NAME_MAX),
	F(KX_TO_WG, PROTO_KEY_LEN, PROTO_KEY_LEN),
	F(KX_VERSION, 8, 8),
	F(KX_NONCE, PROTO_KEX_NONCE_LEN, PROTO_KEX_NONCE_LEN),
	F(KX_ISSUED, 8, 8),
	F(KX_P1, PROTO_KEX_HASH_LEN, PROTO_KEX_HASH_LEN),
	F(KX_P2, CRY_XWING_CT, CRY_XWING_CT),
};
static const struct proto_field ack_fields[] = {
	F(KX_NETWORK, 1, PROTO_NET_NAME_MAX),
	F(KX_FROM, 1, PROTO_PEER_NAME_MAX),
	F(KX_FROM_ID, PROTO_KEY_LEN, PROTO_KEY_LEN),
	F(KX_FROM_WG, PROTO_KEY_LEN, PROTO_KEY_LEN),
	F(KX_TO, 1, PROTO_PEER_NAME_MAX),
	F(KX_TO_WG, PROTO_KEY_LEN, PROTO_KEY_LEN),
	F(KX_VERSION, 8, 8),
	F(KX_NONCE, PROTO_KEX_NONCE_LEN, PROTO_KEX_NONCE_LEN),
	F(KX_ISSUED, 8, 8),
	F(KX_P1, PROTO_KEX_HASH_LEN, PROTO_KEX_HASH_LEN),
	F(KX_P2, PROTO_KEX_HASH_LEN, PROTO_KEX_HASH_LEN),
	F(KX_P3, PROTO_KEX_MAC_LEN, PROTO_KEX_MAC_LEN),
};
#undef F

/* Header fields at their largest, then each payload. */
#define KEX_HDR_MAX                                                               \
	(PROTO_HDR_LEN + 3 + PROTO_NET_NAME_MAX + 2 * (3 + PROTO_PEER_NAME_MAX) + \
	 3 * (3 + PROTO_KEY_LEN) + 2 * (3 + 8) + 3 + PROTO_KEX_NONCE_LEN + PROTO_SIG_FIELD)
#define KEX_EK_MAX  (KEX_HDR_MAX + 3 + CRY_XWING_PK)
#define KEX_CT_MAX  (KEX_HDR_MAX + 3 + PROTO_KEX_HASH_LEN + 3 + CRY_XWING_CT)
#define KEX_ACK_MAX (KEX_HDR_MAX + 3 * 3 + 2 * PROTO_KEX_HASH_LEN + PROTO_KEX_MAC_LEN)
_Static_assert(KEX_EK_MAX <= PROTO_KEX_RECORD_MAX, "EK fits PROTO_KEX_RECORD_MAX");
_Static_assert(KEX_CT_MAX <= PROTO_KEX_RECORD_MAX, "CT fits PROTO_KEX_RECORD_MAX");
_Static_assert(KEX_ACK_MAX <= PROTO_KEX_RECORD_MAX, "ACK fits PROTO_KEX_RECORD_MAX");

static const struct proto_schema schemas[] = {
	{ PROTO_T_KEX_EK, PROTO_KEX_EK_LABEL, ek_fields, SC_ARRAY_SIZE(ek_fields), KEX_EK_MAX },
	{ PROTO_T_KEX_CT, PROTO_KEX_CT_LABEL, ct_fields, SC_ARRAY_SIZE(ct_fields), KEX_CT_MAX },
	{ PROTO_T_KEX_ACK, PROTO_KEX_ACK_LABEL, ack_fields, SC_ARRAY_SIZE(ack_fields),
	  KEX_ACK_MAX },
};

static const struct proto_schema *schema_of(uint8_t type)
{
	size_t i;

	for (i = 0; i < SC_ARRAY_SIZE(schemas); i++)
		if (schemas[i].type == type)
			return &schemas[i];
	return NULL;
}

static size_t name_len(const char *s, size_t cap)
{
	return strnlen(s, cap);
}

static int check(const struct proto_kex *m)
{
	size_t fn = name_len(m->from, sizeof(m->from)), tn = name_len(m->to, sizeof(m->to));

	if (!schema_of(m->type) ||
	    !proto_net_name_valid(m->network, name_len(m->network, sizeof(m->network))) ||
	    !proto_peer_name_valid(m->from, fn) || !proto_peer_name_valid(m->to, tn) || !m->version)
		return -EINVAL;
	/* Nobody exchanges keys with itself: the PSK info needs two keys. */
	if ((fn == tn && memcmp(m->from, m->to, fn) == 0) ||  /* not secret */
	    memcmp(m->from_wg, m->to_wg, PROTO_KEY_LEN) == 0) /* not secret */
		return -EINVAL;
	return 0;
}

static int write_body(const struct proto_kex *m, uint8_t *buf, size_t cap, struct proto_w *w)
{
	proto_w_start(w, buf, cap, m->type);
	proto_w_bytes(w, KX_NETWORK, m->network, strlen(m->network));
	proto_w_bytes(w, KX_FROM, m->from, strlen(m->from));
	proto_w_bytes(w, KX_FROM_ID, m->from_id, PROTO_KEY_LEN);
	proto_w_bytes(w, KX_FROM_WG, m->from_wg, PROTO_KEY_LEN);
	proto_w_bytes(w, KX_TO, m->to, strlen(m->to));
	proto_w_bytes(w, KX_TO_WG, m->to_wg, PROTO_KEY_LEN);
	proto_w_u64(w, KX_VERSION, m->version);
	proto_w_bytes(w, KX_NONCE, m->nonce, PROTO_KEX_NONCE_LEN);
	proto_w_u64(w, KX_ISSUED, m->issued);
	switch (m->type) {
	case PROTO_T_KEX_EK:
		proto_w_bytes(w, KX_P1, m->ek, CRY_XWING_PK);
		break;
	case PROTO_T_KEX_CT:
		proto_w_bytes(w, KX_P1, m->ek_hash, PROTO_KEX_HASH_LEN);
		proto_w_bytes(w, KX_P2, m->ct, CRY_XWING_CT);
		break;
	default:
		proto_w_bytes(w, KX_P1, m->ek_hash, PROTO_KEX_HASH_LEN);
		proto_w_bytes(w, KX_P2, m->ct_hash, PROTO_KEX_HASH_LEN);
		proto_w_bytes(w, KX_P3, m->mac, PROTO_KEX_MAC_LEN);
		break;
	}
	return w->err;
}

int proto_kex_sign(struct proto_kex *m, const uint8_t identity_seed[32])
{
	uint8_t buf[PROTO_KEX_RECORD_MAX], pub[PROTO_KEY_LEN], sig[PROTO_SIG_LEN];
	struct proto_w w;
	int ret = check(m);

	if (!ret)
		ret = cry_ed25519_pubkey(pub, identity_seed) ? -EIO : 0;
	/* A message signed by another key than the one it names would never
	 * verify: refuse to make it. */
	if (!ret && memcmp(pub, m->from_id, PROTO_KEY_LEN) != 0) /* not secret: public keys */
		ret = -EINVAL;
	if (!ret)
		ret = write_body(m, buf, sizeof(buf), &w);
	if (!ret)
		ret = proto_rec_sign(schema_of(m->type), buf, w.len, identity_seed, sig);
	if (ret)
		return ret;
	memcpy(m->signature, sig, PROTO_SIG_LEN);
	proto_fingerprint(m->fingerprint, buf, w.len);
	return 0;
}

int proto_kex_encode(const struct proto_kex *m, uint8_t *out, size_t cap, size_t *len)
{
	struct proto_w w;
	int ret = check(m);

	if (!ret)
		ret = write_body(m, out, cap, &w);
	return ret ?: proto_w_finish(&w, m->signature, len);
}

static int copy_name(char *dst, const uint8_t *v, size_t n, bool net)
{
	if (net ? !proto_net_name_valid((const char *)v, n)
		: !proto_peer_name_valid((const char *)v, n))
		return PROTO_ERR_MALFORMED;
	memcpy(dst, v, n);
	return 0;
}

static int kx_field(void *ctx, uint8_t tag, const uint8_t *v, size_t n)
{
	struct proto_kex *m = ctx;

	switch (tag) {
	case KX_NETWORK:
		return copy_name(m->network, v, n, true);
	case KX_FROM:
		return copy_name(m->from, v, n, false);
	case KX_FROM_ID:
		memcpy(m->from_id, v, n);
		return 0;
	case KX_FROM_WG:
		memcpy(m->from_wg, v, n);
		return 0;
	case KX_TO:
		return copy_name(m->to, v, n, false);
	case KX_TO_WG:
		memcpy(m->to_wg, v, n);
		return 0;
	case KX_VERSION:
		m->version = proto_get_u64(v);
		return 0;
	case KX_NONCE:
		memcpy(m->nonce, v, n);
		return 0;
	case KX_ISSUED:
		m->issued = proto_get_u64(v);
		return 0;
	case KX_P1:
		memcpy(m->type == PROTO_T_KEX_EK ? m->ek : m->ek_hash, v, n);
		return 0;
	case KX_P2:
		memcpy(m->type == PROTO_T_KEX_CT ? m->ct : m->ct_hash, v, n);
		return 0;
	default: /* KX_P3, only in an ACK (the schema allows no other tag) */
		memcpy(m->mac, v, n);
		return 0;
	}
}

int proto_kex_decode(struct proto_kex *out, const uint8_t *in, size_t len)
{
	const struct proto_schema *s;
	struct proto_kex *m;
	const uint8_t *sig;
	size_t body;
	int ret = proto_record_type(in, len);

	if (ret < 0)
		return ret;
	s = schema_of((uint8_t)ret);
	if (!s)
		return PROTO_ERR_TYPE;
	/* On the heap: 2.6 KiB, and decode may run deep in a handler. */
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->type = s->type;
	ret = proto_rec_parse(s, in, len, kx_field, m, &body, &sig);
	if (!ret && check(m))
		ret = PROTO_ERR_MALFORMED;
	if (!ret) {
		memcpy(m->signature, sig, PROTO_SIG_LEN);
		proto_fingerprint(m->fingerprint, in, body);
		*out = *m;
	}
	free(m);
	return ret;
}

static bool name_is(const char *a, const char *b, size_t cap)
{
	size_t n = strnlen(a, cap);

	return n == strnlen(b, cap) && memcmp(a, b, n) == 0; /* not secret */
}

static bool key_is(const uint8_t *a, const uint8_t *b)
{
	return memcmp(a, b, PROTO_KEY_LEN) == 0; /* not secret: public keys */
}

int proto_kex_verify(const struct proto_kex *m, const struct proto_cert *from,
		     const struct proto_cert *to)
{
	uint8_t buf[PROTO_KEX_RECORD_MAX];
	struct proto_w w;
	int ret;

	if (check(m))
		return PROTO_ERR_MALFORMED;
	if (!name_is(m->network, from->network, sizeof(m->network)) ||
	    !name_is(m->network, to->network, sizeof(m->network)))
		return PROTO_ERR_NETWORK;
	if (!name_is(m->from, from->name, sizeof(m->from)) || !key_is(m->from_id, from->identity) ||
	    !key_is(m->from_wg, from->wgkey))
		return PROTO_ERR_KEX_SENDER;
	if (!name_is(m->to, to->name, sizeof(m->to)) || !key_is(m->to_wg, to->wgkey))
		return PROTO_ERR_KEX_RECIPIENT;
	ret = write_body(m, buf, sizeof(buf), &w);
	return ret
		       ?: proto_rec_verify(schema_of(m->type), buf, w.len, from->identity,
					   m->signature);
}

void proto_kex_hash(uint8_t out[PROTO_KEX_HASH_LEN], const uint8_t *in, size_t n)
{
	cry_sha3_256(out, in, n);
}

int proto_kex_psk(uint8_t psk[PROTO_KEX_PSK_LEN], const uint8_t ss[CRY_XWING_SS],
		  const char *network, const uint8_t wg_a[PROTO_KEY_LEN],
		  const uint8_t wg_b[PROTO_KEY_LEN], uint64_t v)
{
	uint8_t info[PROTO_NET_NAME_MAX + 2 * PROTO_KEY_LEN + 8], *p = info;
	size_t n = strnlen(network, PROTO_NET_NAME_MAX + 1);
	/* Public keys, compared as 32-byte big-endian numbers. */
	int c = memcmp(wg_a, wg_b, PROTO_KEY_LEN); /* not secret */
	int i, ret;

	if (!proto_net_name_valid(network, n) || !c || !v)
		return -EINVAL;
	/* The network name is the only variable-length part and comes first,
	 * followed by 72 fixed bytes: the info parses one way only. */
	memcpy(p, network, n);
	p += n;
	memcpy(p, c < 0 ? wg_a : wg_b, PROTO_KEY_LEN);
	memcpy(p + PROTO_KEY_LEN, c < 0 ? wg_b : wg_a, PROTO_KEY_LEN);
	p += 2 * PROTO_KEY_LEN;
	for (i = 0; i < 8; i++)
		*p++ = (uint8_t)(v >> (56 - 8 * i));
	ret = cry_hkdf_sha3_256(psk, PROTO_KEX_PSK_LEN, ss, CRY_XWING_SS,
				(const uint8_t *)PROTO_KEX_PSK_SALT, strlen(PROTO_KEX_PSK_SALT),
				info, (size_t)(p - info));
	return ret ? -EIO : 0;
}

int proto_kex_mac(uint8_t mac[PROTO_KEX_MAC_LEN], const uint8_t psk[PROTO_KEX_PSK_LEN],
		  const uint8_t sender_wg[PROTO_KEY_LEN], const uint8_t ek_hash[PROTO_KEX_HASH_LEN],
		  const uint8_t ct_hash[PROTO_KEX_HASH_LEN])
{
	uint8_t info[PROTO_KEY_LEN + 2 * PROTO_KEX_HASH_LEN];

	memcpy(info, sender_wg, PROTO_KEY_LEN);
	memcpy(info + PROTO_KEY_LEN, ek_hash, PROTO_KEX_HASH_LEN);
	memcpy(info + PROTO_KEY_LEN + PROTO_KEX_HASH_LEN, ct_hash, PROTO_KEX_HASH_LEN);
	return cry_hkdf_sha3_256(mac, PROTO_KEX_MAC_LEN, psk, PROTO_KEX_PSK_LEN,
				 (const uint8_t *)PROTO_KEX_MAC_SALT, strlen(PROTO_KEX_MAC_SALT),
				 info, sizeof(info))
		       ? -EIO
		       : 0;
}

void proto_kex_reply(struct proto_kex *out, const struct proto_kex *in, uint8_t type,
		     const uint8_t identity[PROTO_KEY_LEN],
		     const uint8_t nonce[PROTO_KEX_NONCE_LEN], uint64_t issued)
{
	struct proto_kex r = { .type = type, .version = in->version, .issued = issued };

	/* Built aside so out may be in. */
	memcpy(r.network, in->network, sizeof(r.network));
	memcpy(r.from, in->to, sizeof(r.from));
	memcpy(r.from_id, identity, PROTO_KEY_LEN);
	memcpy(r.from_wg, in->to_wg, PROTO_KEY_LEN);
	memcpy(r.to, in->from, sizeof(r.to));
	memcpy(r.to_wg, in->from_wg, PROTO_KEY_LEN);
	memcpy(r.nonce, nonce, PROTO_KEX_NONCE_LEN);
	*out = r;
}

int proto_kex_encaps(struct proto_kex *ct_msg, uint8_t psk[PROTO_KEX_PSK_LEN],
		     const struct proto_kex *ek, const uint8_t eseed[CRY_XWING_ESEED])
{
	uint8_t ss[CRY_XWING_SS], ct[CRY_XWING_CT], out[PROTO_KEX_PSK_LEN];
	int ret;

	if (ek->type != PROTO_T_KEX_EK || check(ek))
		return -EINVAL;
	ret = cry_xwing_encaps_derand(ct, ss, ek->ek, CRY_XWING_PK, eseed);
	if (!ret)
		ret = proto_kex_psk(out, ss, ek->network, ek->from_wg, ek->to_wg, ek->version);
	if (!ret) {
		proto_kex_hash(ct_msg->ek_hash, ek->ek, CRY_XWING_PK);
		memcpy(ct_msg->ct, ct, CRY_XWING_CT);
		memcpy(psk, out, PROTO_KEX_PSK_LEN);
	}
	cry_wipe(ss, sizeof(ss));
	cry_wipe(out, sizeof(out));
	return ret;
}

/* ct answers ek: same network and version, sent back by ek's recipient. */
static int answers(const struct proto_kex *reply, const struct proto_kex *req)
{
	if (reply->version != req->version)
		return PROTO_ERR_KEX_VERSION;
	if (!name_is(reply->network, req->network, sizeof(reply->network)) ||
	    !name_is(reply->from, req->to, sizeof(reply->from)) ||
	    !name_is(reply->to, req->from, sizeof(reply->to)) ||
	    !key_is(reply->from_wg, req->to_wg) || !key_is(reply->to_wg, req->from_wg))
		return PROTO_ERR_KEX_BINDING;
	return 0;
}

int proto_kex_decaps(uint8_t psk[PROTO_KEX_PSK_LEN], const struct proto_kex *ct,
		     const struct proto_kex *ek, const uint8_t dk[CRY_XWING_SK])
{
	uint8_t h[PROTO_KEX_HASH_LEN], ss[CRY_XWING_SS], out[PROTO_KEX_PSK_LEN];
	int ret;

	if (ct->type != PROTO_T_KEX_CT || ek->type != PROTO_T_KEX_EK || check(ct) || check(ek))
		return -EINVAL;
	ret = answers(ct, ek);
	if (ret)
		return ret;
	proto_kex_hash(h, ek->ek, CRY_XWING_PK);
	if (memcmp(h, ct->ek_hash, sizeof(h)) != 0) /* not secret: hash of a public key */
		return PROTO_ERR_KEX_BINDING;
	ret = cry_xwing_decaps(ss, ct->ct, CRY_XWING_CT, dk);
	if (!ret)
		ret = proto_kex_psk(out, ss, ek->network, ek->from_wg, ek->to_wg, ek->version);
	if (!ret)
		memcpy(psk, out, PROTO_KEX_PSK_LEN);
	cry_wipe(ss, sizeof(ss));
	cry_wipe(out, sizeof(out));
	return ret;
}

int proto_kex_ack_fill(struct proto_kex *ack, const struct proto_kex *ct,
		       const uint8_t psk[PROTO_KEX_PSK_LEN])
{
	uint8_t ch[PROTO_KEX_HASH_LEN], mac[PROTO_KEX_MAC_LEN];
	int ret;

	if (ct->type != PROTO_T_KEX_CT)
		return -EINVAL;
	proto_kex_hash(ch, ct->ct, CRY_XWING_CT);
	ret = proto_kex_mac(mac, psk, ack->from_wg, ct->ek_hash, ch);
	if (ret)
		return ret;
	memcpy(ack->ek_hash, ct->ek_hash, PROTO_KEX_HASH_LEN);
	memcpy(ack->ct_hash, ch, PROTO_KEX_HASH_LEN);
	memcpy(ack->mac, mac, PROTO_KEX_MAC_LEN);
	return 0;
}

int proto_kex_ack_check(const struct proto_kex *ack, const struct proto_kex *ct,
			const uint8_t psk[PROTO_KEX_PSK_LEN])
{
	uint8_t ch[PROTO_KEX_HASH_LEN], mac[PROTO_KEX_MAC_LEN];
	int ret;

	if (ack->type != PROTO_T_KEX_ACK || ct->type != PROTO_T_KEX_CT || check(ack))
		return -EINVAL;
	if (ack->version != ct->version)
		return PROTO_ERR_KEX_VERSION;
	/* Either side may confirm: the ACK comes from one end of ct's pair. */
	if (!name_is(ack->network, ct->network, sizeof(ack->network)) ||
	    !((key_is(ack->from_wg, ct->from_wg) && key_is(ack->to_wg, ct->to_wg)) ||
	      (key_is(ack->from_wg, ct->to_wg) && key_is(ack->to_wg, ct->from_wg))))
		return PROTO_ERR_KEX_BINDING;
	proto_kex_hash(ch, ct->ct, CRY_XWING_CT);
	if (memcmp(ch, ack->ct_hash, sizeof(ch)) != 0 ||	/* not secret: public hashes */
	    memcmp(ct->ek_hash, ack->ek_hash, sizeof(ch)) != 0) /* not secret */
		return PROTO_ERR_KEX_BINDING;
	ret = proto_kex_mac(mac, psk, ack->from_wg, ack->ek_hash, ack->ct_hash);
	if (!ret && !cry_memeq(mac, ack->mac, sizeof(mac)))
		ret = PROTO_ERR_KEX_MAC;
	cry_wipe(mac, sizeof(mac));
	return ret;
}

const char *proto_kex_strerror(int err)
{
	switch (err) {
	case PROTO_ERR_KEX_SENDER:
		return "KEX message: sender is not the certificate's peer";
	case PROTO_ERR_KEX_RECIPIENT:
		return "KEX message addressed to another peer";
	case PROTO_ERR_KEX_VERSION:
		return "KEX message for another PSK version";
	case PROTO_ERR_KEX_BINDING:
		return "KEX message bound to another key or ciphertext";
	case PROTO_ERR_KEX_MAC:
		return "KEX confirmation does not match";
	default:
		return proto_strerror(err);
	}
}

const char *proto_kex_type_name(uint8_t type)
{
	switch (type) {
	case PROTO_T_KEX_EK:
		return "ek";
	case PROTO_T_KEX_CT:
		return "ct";
	case PROTO_T_KEX_ACK:
		return "ack";
	default:
		return "?";
	}
}
