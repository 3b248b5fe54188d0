// SPDX-License-Identifier: GPL-2.0-only
/*
 * KEX messages (proto/kex.h): round trips and canonical bytes of the three
 * types, the PSK derivation against an independent construction, a whole
 * exchange through encode/decode, and every refusal: wrong signer, sender
 * or recipient, another network, version mismatch, a ciphertext bound to
 * another ek, a wrong confirmation, structural damage, truncation and
 * trailing bytes.
 */
#include <errno.h>
#include <stdlib.h>

#include "crypto/ct.h"
#include "crypto/keccak.h"
#include "crypto/x25519.h"
#include "fixtures.h"
#include "proto/kex.h"

#define NOW 1750000000ull

/* Peers of "lab": alpha (identity seed 0xa0.., WireGuard key 0x41..),
 * bravo (0xb0.., 0x81..), and charlie of "lab" or of network "other". */
struct peer {
	struct proto_cert cert;
	uint8_t seed[32];
};

static void mk_peer(struct peer *p, const char *net, const char *name, uint8_t seed0, uint8_t wg0)
{
	uint8_t admin[32];

	fx_cert_fields(&p->cert);
	memset(p->cert.network, 0, sizeof(p->cert.network));
	memcpy(p->cert.network, net, strlen(net));
	memset(p->cert.name, 0, sizeof(p->cert.name));
	memcpy(p->cert.name, name, strlen(name));
	fx_seq(p->seed, 32, seed0);
	CHECK_EQ(cry_ed25519_pubkey(p->cert.identity, p->seed), 0);
	fx_seq(p->cert.wgkey, 32, wg0);
	fx_admin_seed(admin);
	CHECK_EQ(proto_cert_sign(&p->cert, admin), 0);
}

static struct peer alpha, bravo, charlie;

static void setup(void)
{
	mk_peer(&alpha, "lab", "alpha", 0xa0, 0x41);
	mk_peer(&bravo, "lab", "bravo", 0xb0, 0x81);
	mk_peer(&charlie, "lab", "charlie", 0xc0, 0x11);
}

/* The header of a message from a to b. */
static void hdr(struct proto_kex *m, uint8_t type, const struct peer *a, const struct peer *b,
		uint64_t v)
{
	memset(m, 0, sizeof(*m));
	m->type = type;
	memcpy(m->network, a->cert.network, sizeof(m->network));
	memcpy(m->from, a->cert.name, sizeof(m->from));
	memcpy(m->from_id, a->cert.identity, 32);
	memcpy(m->from_wg, a->cert.wgkey, 32);
	memcpy(m->to, b->cert.name, sizeof(m->to));
	memcpy(m->to_wg, b->cert.wgkey, 32);
	m->version = v;
	fx_seq(m->nonce, PROTO_KEX_NONCE_LEN, type);
	m->issued = NOW;
}

/* An EK from alpha to bravo for version v, with its secret key. */
static void mk_ek(struct proto_kex *ek, uint8_t dk[32], uint64_t v, uint8_t seed0)
{
	hdr(ek, PROTO_T_KEX_EK, &alpha, &bravo, v);
	fx_seq(dk, 32, seed0);
	CHECK_EQ(cry_xwing_pubkey(ek->ek, dk), 0);
	CHECK_EQ(proto_kex_sign(ek, alpha.seed), 0);
}

/* bravo's CT answering ek, and bravo's PSK. */
static void mk_ct(struct proto_kex *ct, uint8_t psk[32], const struct proto_kex *ek, uint8_t e0)
{
	uint8_t nonce[PROTO_KEX_NONCE_LEN], eseed[CRY_XWING_ESEED];

	fx_seq(nonce, sizeof(nonce), 0x33);
	fx_seq(eseed, sizeof(eseed), e0);
	proto_kex_reply(ct, ek, PROTO_T_KEX_CT, bravo.cert.identity, nonce, NOW + 1);
	CHECK_EQ(proto_kex_encaps(ct, psk, ek, eseed), 0);
	CHECK_EQ(proto_kex_sign(ct, bravo.seed), 0);
}

static size_t enc(const struct proto_kex *m, uint8_t *buf)
{
	size_t len = 0;

	CHECK_EQ(proto_kex_encode(m, buf, PROTO_KEX_RECORD_MAX, &len), 0);
	return len;
}

/* Decode, compare with the original, re-encode to the same bytes. */
static void round_trip(const struct proto_kex *m, size_t expect_len)
{
	uint8_t buf[PROTO_KEX_RECORD_MAX], buf2[PROTO_KEX_RECORD_MAX];
	struct proto_kex d;
	size_t len = enc(m, buf), len2;

	CHECK_EQ(len, expect_len);
	CHECK_EQ(proto_record_type(buf, len), m->type);
	CHECK_EQ(proto_kex_decode(&d, buf, len), 0);
	CHECK_EQ(d.type, m->type);
	CHECK(strcmp(d.network, m->network) == 0);
	CHECK(strcmp(d.from, m->from) == 0 && strcmp(d.to, m->to) == 0);
	CHECK_MEM(d.from_id, m->from_id, 32);
	CHECK_MEM(d.from_wg, m->from_wg, 32);
	CHECK_MEM(d.to_wg, m->to_wg, 32);
	CHECK_EQ(d.version, m->version);
	CHECK_MEM(d.nonce, m->nonce, PROTO_KEX_NONCE_LEN);
	CHECK_EQ(d.issued, m->issued);
	CHECK_MEM(d.signature, m->signature, PROTO_SIG_LEN);
	CHECK_MEM(d.fingerprint, m->fingerprint, PROTO_FP_LEN);
	len2 = enc(&d, buf2);
	CHECK_EQ(len2, len);
	CHECK_MEM(buf2, buf, len);
	CHECK_EQ(proto_kex_verify(&d, &alpha.cert, &bravo.cert) == 0 ||
			 proto_kex_verify(&d, &bravo.cert, &alpha.cert) == 0,
		 1);
}

/* Header fields: 6 + 3+3 (lab) + 3+5 + 35 + 35 + 3+5 + 35 + 11 + 19 + 11;
 * EK + 3+1216; CT + 35 + 3+1120; ACK + 3 * 35; signature 67. */
#define HDR_LEN (6 + 6 + 8 + 35 + 35 + 8 + 35 + 11 + 19 + 11)

static void test_kex_round_trip(void)
{
	struct proto_kex ek, ct, ack;
	uint8_t dk[32], psk[32];

	setup();
	mk_ek(&ek, dk, 7, 0x10);
	round_trip(&ek, HDR_LEN + 3 + CRY_XWING_PK + 67);
	mk_ct(&ct, psk, &ek, 0x20);
	round_trip(&ct, HDR_LEN + 35 + 3 + CRY_XWING_CT + 67);
	CHECK(strcmp(ct.from, "bravo") == 0 && strcmp(ct.to, "alpha") == 0);
	CHECK_EQ(ct.version, 7);
	proto_kex_reply(&ack, &ct, PROTO_T_KEX_ACK, alpha.cert.identity, ek.nonce, NOW + 2);
	CHECK_EQ(proto_kex_ack_fill(&ack, &ct, psk), 0);
	CHECK_EQ(proto_kex_sign(&ack, alpha.seed), 0);
	round_trip(&ack, HDR_LEN + 3 * 35 + 67);
	CHECK(HDR_LEN + 3 + CRY_XWING_PK + 67 <= PROTO_KEX_RECORD_MAX);
	CHECK(strcmp(proto_kex_type_name(PROTO_T_KEX_CT), "ct") == 0);
	CHECK(strcmp(proto_kex_type_name(4), "?") == 0);
}

/* The exact bytes of an ACK, built by hand, and its signature checked
 * directly with Ed25519 over label || 0 || body. */
static void test_kex_canonical_bytes(void)
{
	uint8_t buf[PROTO_KEX_RECORD_MAX], want[PROTO_KEX_RECORD_MAX], *w = want, msg[600];
	struct proto_kex ack;
	size_t len, i, l;

	setup();
	hdr(&ack, PROTO_T_KEX_ACK, &bravo, &alpha, 0x0102030405060708ull);
	fx_seq(ack.ek_hash, 32, 0x01);
	fx_seq(ack.ct_hash, 32, 0x21);
	fx_seq(ack.mac, 32, 0x41);
	CHECK_EQ(proto_kex_sign(&ack, bravo.seed), 0);
	len = enc(&ack, buf);

	memcpy(w, "SCOP\x01\x12", 6), w += 6;
	memcpy(w, "\x01\x00\x03lab", 6), w += 6;
	memcpy(w,
	       "\x02\x00\x05"
	       "bravo",
	       8),
		w += 8;
	memcpy(w, "\x03\x00\x20", 3), memcpy(w + 3, bravo.cert.identity, 32), w += 35;
	memcpy(w, "\x04\x00\x20", 3), memcpy(w + 3, bravo.cert.wgkey, 32), w += 35;
	memcpy(w,
	       "\x05\x00\x05"
	       "alpha",
	       8),
		w += 8;
	memcpy(w, "\x06\x00\x20", 3), memcpy(w + 3, alpha.cert.wgkey, 32), w += 35;
	memcpy(w, "\x07\x00\x08\x01\x02\x03\x04\x05\x06\x07\x08", 11), w += 11;
	memcpy(w, "\x08\x00\x10", 3), fx_seq(w + 3, 16, PROTO_T_KEX_ACK), w += 19;
	memcpy(w, "\x09\x00\x08\x00\x00\x00\x00\x68\x4e\xe1\x80", 11), w += 11;
	for (i = 0; i < 3; i++) {
		w[0] = (uint8_t)(0x10 + i), w[1] = 0, w[2] = 32;
		fx_seq(w + 3, 32, (uint8_t)(0x01 + 0x20 * i));
		w += 35;
	}
	CHECK_EQ((size_t)(w - want) + 67, len);
	CHECK_MEM(buf, want, (size_t)(w - want));
	CHECK_MEM(buf + len - 67, "\xff\x00\x40", 3);
	/* The signature, independently. */
	l = strlen(PROTO_KEX_ACK_LABEL) + 1;
	memcpy(msg, PROTO_KEX_ACK_LABEL, l);
	memcpy(msg + l, buf, len - 67);
	CHECK_EQ(cry_ed25519_verify(buf + len - 64, bravo.cert.identity, msg, l + len - 67), 0);
	/* Another type's label does not verify it. */
	memcpy(msg, PROTO_KEX_CT_LABEL, l - 1);
	CHECK(cry_ed25519_verify(buf + len - 64, bravo.cert.identity, msg, l - 1 + len - 67) != 0);
	/* The fingerprint names the body. */
	cry_sha3_256(msg, buf, len - 67);
	CHECK_MEM(ack.fingerprint, msg, 32);
}

static void test_kex_psk_derivation(void)
{
	uint8_t ss[32], a[32], b[32], x[32], y[32], info[8 + 64 + 8];
	size_t n;

	fx_seq(ss, 32, 0x55);
	fx_seq(a, 32, 0x80); /* higher */
	fx_seq(b, 32, 0x10);
	CHECK_EQ(proto_kex_psk(x, ss, "lab", a, b, 3), 0);
	CHECK_EQ(proto_kex_psk(y, ss, "lab", b, a, 3), 0);
	CHECK_MEM(x, y, 32);
	/* Independently: info = "lab" || lower || higher || 3 as 8 bytes. */
	memcpy(info, "lab", 3);
	memcpy(info + 3, b, 32);
	memcpy(info + 35, a, 32);
	memset(info + 67, 0, 8);
	info[74] = 3;
	n = 75;
	CHECK_EQ(cry_hkdf_sha3_256(y, 32, ss, 32, (const uint8_t *)"scope psk v1", 12, info, n), 0);
	CHECK_MEM(x, y, 32);
	/* Every input changes it. */
	CHECK_EQ(proto_kex_psk(y, ss, "lab", a, b, 4), 0);
	CHECK(memcmp(x, y, 32) != 0);
	CHECK_EQ(proto_kex_psk(y, ss, "lab2", a, b, 3), 0);
	CHECK(memcmp(x, y, 32) != 0);
	b[31] ^= 1;
	CHECK_EQ(proto_kex_psk(y, ss, "lab", a, b, 3), 0);
	CHECK(memcmp(x, y, 32) != 0);
	ss[0] ^= 1;
	CHECK_EQ(proto_kex_psk(y, ss, "lab", a, b, 3), 0);
	CHECK(memcmp(x, y, 32) != 0);
	/* Refusals leave the output alone. */
	memcpy(y, x, 32);
	CHECK_EQ(proto_kex_psk(y, ss, "lab", a, a, 3), -EINVAL);
	CHECK_EQ(proto_kex_psk(y, ss, "lab", a, b, 0), -EINVAL);
	CHECK_EQ(proto_kex_psk(y, ss, "Lab", a, b, 3), -EINVAL);
	CHECK_EQ(proto_kex_psk(y, ss, "toolongnet", a, b, 3), -EINVAL);
	CHECK_MEM(y, x, 32);
}

/* A whole exchange through the wire format: both PSKs equal, both
 * confirmations check, and each mismatch is refused by name. */
static void test_kex_exchange(void)
{
	uint8_t buf[PROTO_KEX_RECORD_MAX], dk[32], dk2[32], pa[32], pb[32], pc[32], bad[32];
	uint8_t eseed[CRY_XWING_ESEED];
	struct proto_kex ek, ek2, ct, ct2, d, ack_a, ack_b;
	size_t len;

	setup();
	mk_ek(&ek, dk, 5, 0x10);
	len = enc(&ek, buf);
	CHECK_EQ(proto_kex_decode(&d, buf, len), 0);
	CHECK_EQ(proto_kex_verify(&d, &alpha.cert, &bravo.cert), 0);
	mk_ct(&ct, pb, &d, 0x20);
	len = enc(&ct, buf);
	CHECK_EQ(proto_kex_decode(&d, buf, len), 0);
	CHECK_EQ(proto_kex_verify(&d, &bravo.cert, &alpha.cert), 0);
	CHECK_EQ(proto_kex_decaps(pa, &d, &ek, dk), 0);
	CHECK_MEM(pa, pb, 32);
	CHECK(!cry_is_zero(pa, 32));
	/* The PSK is the derivation of the X-Wing secret. */
	{
		uint8_t ss[32];

		CHECK_EQ(cry_xwing_decaps(ss, ct.ct, CRY_XWING_CT, dk), 0);
		CHECK_EQ(proto_kex_psk(pc, ss, "lab", alpha.cert.wgkey, bravo.cert.wgkey, 5), 0);
		CHECK_MEM(pc, pa, 32);
	}
	/* Confirmations, both directions. */
	proto_kex_reply(&ack_a, &ct, PROTO_T_KEX_ACK, alpha.cert.identity, ek.nonce, NOW);
	CHECK_EQ(proto_kex_ack_fill(&ack_a, &ct, pa), 0);
	CHECK_EQ(proto_kex_sign(&ack_a, alpha.seed), 0);
	CHECK_EQ(proto_kex_verify(&ack_a, &alpha.cert, &bravo.cert), 0);
	CHECK_EQ(proto_kex_ack_check(&ack_a, &ct, pb), 0);
	proto_kex_reply(&ack_b, &ack_a, PROTO_T_KEX_ACK, bravo.cert.identity, ek.nonce, NOW);
	CHECK_EQ(proto_kex_ack_fill(&ack_b, &ct, pb), 0);
	CHECK_EQ(proto_kex_ack_check(&ack_b, &ct, pa), 0);
	/* The two directions' MACs differ: one cannot be reflected as the other. */
	CHECK(memcmp(ack_a.mac, ack_b.mac, 32) != 0);
	memcpy(ack_b.mac, ack_a.mac, 32);
	CHECK_EQ(proto_kex_ack_check(&ack_b, &ct, pa), PROTO_ERR_KEX_MAC);
	/* Another PSK: the MAC does not match. */
	memcpy(bad, pa, 32);
	bad[0] ^= 1;
	CHECK_EQ(proto_kex_ack_check(&ack_a, &ct, bad), PROTO_ERR_KEX_MAC);
	/* An ACK of another version or for another ciphertext. */
	d = ack_a;
	d.version = 6;
	CHECK_EQ(proto_kex_ack_check(&d, &ct, pb), PROTO_ERR_KEX_VERSION);
	d = ack_a;
	d.ct_hash[0] ^= 1;
	CHECK_EQ(proto_kex_ack_check(&d, &ct, pb), PROTO_ERR_KEX_BINDING);
	d = ack_a;
	d.ek_hash[0] ^= 1;
	CHECK_EQ(proto_kex_ack_check(&d, &ct, pb), PROTO_ERR_KEX_BINDING);
	CHECK_EQ(proto_kex_ack_check(&ek, &ct, pb), -EINVAL);

	/* A ciphertext bound to another ek: refused before decapsulating. */
	mk_ek(&ek2, dk2, 5, 0x30);
	mk_ct(&ct2, pc, &ek2, 0x40);
	memcpy(bad, pa, 32);
	CHECK_EQ(proto_kex_decaps(bad, &ct2, &ek, dk), PROTO_ERR_KEX_BINDING);
	CHECK_MEM(bad, pa, 32);
	/* The right ct under another version. */
	d = ct;
	d.version = 4;
	CHECK_EQ(proto_kex_decaps(bad, &d, &ek, dk), PROTO_ERR_KEX_VERSION);
	/* Not from ek's recipient (charlie answers alpha's EK to bravo). */
	d = ct;
	memcpy(d.from, "charlie", 8);
	memcpy(d.from_wg, charlie.cert.wgkey, 32);
	CHECK_EQ(proto_kex_decaps(bad, &d, &ek, dk), PROTO_ERR_KEX_BINDING);
	CHECK_EQ(proto_kex_decaps(bad, &ek, &ek, dk), -EINVAL);
	CHECK_MEM(bad, pa, 32);
	/* A wrong dk gives another PSK (ML-KEM implicit rejection), never the
	 * right one: the confirmation is what catches it. */
	CHECK_EQ(proto_kex_decaps(bad, &ct, &ek, dk2), 0);
	CHECK(memcmp(bad, pa, 32) != 0);
	CHECK_EQ(proto_kex_ack_check(&ack_a, &ct, bad), PROTO_ERR_KEX_MAC);
	/* Encapsulating to a malformed ek (ML-KEM modulus check fails). */
	d = ek;
	memset(d.ek, 0xff, 384);
	fx_seq(eseed, sizeof(eseed), 0x70);
	CHECK(proto_kex_encaps(&ct2, pc, &d, eseed) != 0);
	CHECK(proto_kex_encaps(&ct2, pc, &ct, eseed) == -EINVAL);
}

static void test_kex_verify_refusals(void)
{
	struct peer mallory, other;
	struct proto_kex ek, m;
	uint8_t dk[32];

	setup();
	mk_peer(&mallory, "lab", "alpha", 0xd0, 0x41); /* alpha's name and wg, own identity */
	mk_peer(&other, "other", "bravo", 0xb0, 0x81);
	mk_ek(&ek, dk, 1, 0x10);
	CHECK_EQ(proto_kex_verify(&ek, &alpha.cert, &bravo.cert), 0);
	/* Wrong signer: signing with a key other than from_id is refused... */
	m = ek;
	CHECK_EQ(proto_kex_sign(&m, bravo.seed), -EINVAL);
	CHECK_MEM(m.signature, ek.signature, 64);
	/* ...and a message naming alpha's identity but signed by mallory fails. */
	memcpy(m.from_id, mallory.cert.identity, 32);
	CHECK_EQ(proto_kex_sign(&m, mallory.seed), 0);
	memcpy(m.from_id, alpha.cert.identity, 32);
	CHECK_EQ(proto_kex_verify(&m, &alpha.cert, &bravo.cert), PROTO_ERR_SIG);
	/* mallory's own message is genuine only under mallory's certificate. */
	memcpy(m.from_id, mallory.cert.identity, 32);
	CHECK_EQ(proto_kex_verify(&m, &mallory.cert, &bravo.cert), 0);
	CHECK_EQ(proto_kex_verify(&m, &alpha.cert, &bravo.cert), PROTO_ERR_KEX_SENDER);
	/* Verified against the wrong sender or recipient certificate. */
	CHECK_EQ(proto_kex_verify(&ek, &charlie.cert, &bravo.cert), PROTO_ERR_KEX_SENDER);
	CHECK_EQ(proto_kex_verify(&ek, &alpha.cert, &charlie.cert), PROTO_ERR_KEX_RECIPIENT);
	CHECK_EQ(proto_kex_verify(&ek, &alpha.cert, &alpha.cert), PROTO_ERR_KEX_RECIPIENT);
	CHECK_EQ(proto_kex_verify(&ek, &alpha.cert, &other.cert), PROTO_ERR_NETWORK);
	/* Each bound field changed after signing. */
	m = ek;
	m.to_wg[0] ^= 1;
	CHECK_EQ(proto_kex_verify(&m, &alpha.cert, &bravo.cert), PROTO_ERR_KEX_RECIPIENT);
	m = ek;
	m.from_wg[0] ^= 1;
	CHECK_EQ(proto_kex_verify(&m, &alpha.cert, &bravo.cert), PROTO_ERR_KEX_SENDER);
	m = ek;
	m.version++;
	CHECK_EQ(proto_kex_verify(&m, &alpha.cert, &bravo.cert), PROTO_ERR_SIG);
	m = ek;
	m.nonce[3] ^= 1;
	CHECK_EQ(proto_kex_verify(&m, &alpha.cert, &bravo.cert), PROTO_ERR_SIG);
	m = ek;
	m.issued++;
	CHECK_EQ(proto_kex_verify(&m, &alpha.cert, &bravo.cert), PROTO_ERR_SIG);
	m = ek;
	m.ek[1000] ^= 1;
	CHECK_EQ(proto_kex_verify(&m, &alpha.cert, &bravo.cert), PROTO_ERR_SIG);
	/* The same body under another type (and so another label). */
	m = ek;
	m.type = PROTO_T_KEX_CT;
	CHECK_EQ(proto_kex_verify(&m, &alpha.cert, &bravo.cert), PROTO_ERR_SIG);
	m.type = 3;
	CHECK_EQ(proto_kex_verify(&m, &alpha.cert, &bravo.cert), PROTO_ERR_MALFORMED);
	/* Structs that would not decode are not signed or encoded. */
	m = ek;
	m.version = 0;
	CHECK_EQ(proto_kex_sign(&m, alpha.seed), -EINVAL);
	m = ek;
	memcpy(m.to, "alpha", 6);
	CHECK_EQ(proto_kex_sign(&m, alpha.seed), -EINVAL);
	m = ek;
	memcpy(m.to_wg, m.from_wg, 32);
	CHECK_EQ(proto_kex_sign(&m, alpha.seed), -EINVAL);
	m = ek;
	m.from[0] = 'A';
	CHECK_EQ(proto_kex_sign(&m, alpha.seed), -EINVAL);
	m = ek;
	m.network[0] = 0;
	CHECK_EQ(proto_kex_sign(&m, alpha.seed), -EINVAL);
	{
		uint8_t buf[PROTO_KEX_RECORD_MAX];
		size_t len;

		m.network[0] = 'l';
		CHECK_EQ(proto_kex_encode(&m, buf, 100, &len), -ENOBUFS);
		m.version = 0;
		CHECK_EQ(proto_kex_encode(&m, buf, sizeof(buf), &len), -EINVAL);
	}
	CHECK(strcmp(proto_kex_strerror(PROTO_ERR_KEX_RECIPIENT),
		     "KEX message addressed to another peer") == 0);
	CHECK(strcmp(proto_kex_strerror(PROTO_ERR_SIG), "bad signature") == 0);
}

static void test_kex_decode_refusals(void)
{
	uint8_t buf[PROTO_KEX_RECORD_MAX], raw[PROTO_KEX_RECORD_MAX + 8];
	struct proto_kex ek, ack, d, keep;
	struct proto_cert c;
	struct fx_tlv *t = malloc(sizeof(*t)), *t2 = malloc(sizeof(*t2));
	uint8_t dk[32], cbuf[PROTO_RECORD_MAX];
	size_t len, len2, i;

	setup();
	mk_ek(&ek, dk, 1, 0x10);
	hdr(&ack, PROTO_T_KEX_ACK, &bravo, &alpha, 9);
	CHECK_EQ(proto_kex_sign(&ack, bravo.seed), 0);
	memset(&keep, 0x5a, sizeof(keep));
	/* Truncated at every length, and a trailing byte: nothing written. */
	len = enc(&ek, buf);
	for (i = 0; i < len; i++) {
		d = keep;
		CHECK(proto_kex_decode(&d, buf, i) != 0);
		CHECK_MEM(&d, &keep, sizeof(d));
	}
	memcpy(raw, buf, len);
	raw[len] = 0;
	CHECK_EQ(proto_kex_decode(&d, raw, len + 1), PROTO_ERR_MALFORMED);
	/* Magic, version byte, types. */
	raw[0] = 'X';
	CHECK_EQ(proto_kex_decode(&d, raw, len), PROTO_ERR_MALFORMED);
	raw[0] = 'S';
	raw[4] = 2;
	CHECK_EQ(proto_kex_decode(&d, raw, len), PROTO_ERR_VERSION);
	raw[4] = 1;
	raw[5] = PROTO_T_KEX_CT; /* an EK's fields under the CT type */
	CHECK_EQ(proto_kex_decode(&d, raw, len), PROTO_ERR_MALFORMED);
	raw[5] = 19;
	CHECK_EQ(proto_kex_decode(&d, raw, len), PROTO_ERR_TYPE);
	fx_cert(&c);
	CHECK_EQ(proto_cert_encode(&c, cbuf, sizeof(cbuf), &len2), 0);
	CHECK_EQ(proto_kex_decode(&d, cbuf, len2), PROTO_ERR_TYPE);
	/* Every bit flip of the EK: decode refuses or verify does. */
	for (i = 0; i < len * 8; i += 7) {
		memcpy(raw, buf, len);
		raw[i / 8] ^= (uint8_t)(1u << (i % 8));
		if (proto_kex_decode(&d, raw, len) == 0)
			CHECK(proto_kex_verify(&d, &alpha.cert, &bravo.cert) != 0);
	}
	/* Structural damage of an ACK (its values fit the TLV editor). */
	len = enc(&ack, buf);
	CHECK_EQ(fx_split(t, buf, len), 0);
	CHECK_EQ(t->n, 13);
	for (i = 0; i + 1 < t->n; i++) { /* each field but the signature */
		*t2 = *t;
		fx_remove(t2, i);
		len2 = fx_join(raw, t2);
		CHECK_EQ(proto_kex_decode(&d, raw, len2), PROTO_ERR_MALFORMED);
		*t2 = *t;
		fx_dup(t2, i, i);
		len2 = fx_join(raw, t2);
		CHECK_EQ(proto_kex_decode(&d, raw, len2), PROTO_ERR_MALFORMED);
		if (i + 2 < t->n) {
			*t2 = *t;
			fx_swap(t2, i, i + 1);
			len2 = fx_join(raw, t2);
			CHECK_EQ(proto_kex_decode(&d, raw, len2), PROTO_ERR_MALFORMED);
		}
		if (t->f[i].tag == 0x01 || t->f[i].tag == 0x02 || t->f[i].tag == 0x05)
			continue; /* names: another length is another valid name */
		*t2 = *t;	  /* fixed lengths: one byte longer, one shorter */
		t2->f[i].v[t2->f[i].len] = 'a';
		t2->f[i].len++;
		len2 = fx_join(raw, t2);
		CHECK_EQ(proto_kex_decode(&d, raw, len2), PROTO_ERR_MALFORMED);
		t2->f[i].len -= 2;
		len2 = fx_join(raw, t2);
		CHECK_EQ(proto_kex_decode(&d, raw, len2), PROTO_ERR_MALFORMED);
	}
	/* Unknown tag, version 0, bad names, from == to. */
	*t2 = *t;
	fx_dup(t2, 12, 12);
	t2->f[12].tag = 0x13;
	len2 = fx_join(raw, t2);
	CHECK_EQ(proto_kex_decode(&d, raw, len2), PROTO_ERR_MALFORMED);
	*t2 = *t;
	memset(t2->f[fx_find(t2, 0x07)].v, 0, 8);
	len2 = fx_join(raw, t2);
	CHECK_EQ(proto_kex_decode(&d, raw, len2), PROTO_ERR_MALFORMED);
	*t2 = *t;
	t2->f[fx_find(t2, 0x02)].v[0] = '-';
	len2 = fx_join(raw, t2);
	CHECK_EQ(proto_kex_decode(&d, raw, len2), PROTO_ERR_MALFORMED);
	*t2 = *t;
	memcpy(t2->f[fx_find(t2, 0x05)].v, "bravo", 5);
	len2 = fx_join(raw, t2);
	CHECK_EQ(proto_kex_decode(&d, raw, len2), PROTO_ERR_MALFORMED);
	*t2 = *t;
	memcpy(t2->f[fx_find(t2, 0x06)].v, t2->f[fx_find(t2, 0x04)].v, 32);
	len2 = fx_join(raw, t2);
	CHECK_EQ(proto_kex_decode(&d, raw, len2), PROTO_ERR_MALFORMED);
	/* A signature field of the wrong length. */
	*t2 = *t;
	t2->f[12].len = 63;
	len2 = fx_join(raw, t2);
	CHECK_EQ(proto_kex_decode(&d, raw, len2), PROTO_ERR_MALFORMED);
	/* Untouched, it still decodes. */
	len2 = fx_join(raw, t);
	CHECK_EQ(proto_kex_decode(&d, raw, len2), 0);
	free(t);
	free(t2);
}

static const struct t_case cases[] = {
	T(test_kex_round_trip), T(test_kex_canonical_bytes), T(test_kex_psk_derivation),
	T(test_kex_exchange),	T(test_kex_verify_refusals), T(test_kex_decode_refusals),
};

int main(void)
{
	return t_main("proto-kex", cases, SC_ARRAY_SIZE(cases));
}
