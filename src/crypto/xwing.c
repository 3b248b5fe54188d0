// SPDX-License-Identifier: GPL-2.0-only
/*
 * X-Wing, written from draft-connolly-cfrg-xwing-kem-10 section 5, on
 * cry_mlkem (ML-KEM-768) and cry_x25519 (OpenSSL).
 */
#include "crypto/xwing.h"

#include <errno.h>
#include <string.h>

#include "crypto/ct.h"
#include "crypto/keccak.h"
#include "crypto/mlkem.h"
#include "crypto/rand.h"
#include "crypto/x25519.h"

#define PK_M CRY_MLKEM768_EK
#define CT_M CRY_MLKEM768_CT

_Static_assert(CRY_XWING_PK == PK_M + 32, "pk = pk_M || pk_X");
_Static_assert(CRY_XWING_CT == CT_M + 32, "ct = ct_M || ct_X");

/* The draft's XWingLabel, the ASCII art \.//^\ */
static const uint8_t xwing_label[6] = { 0x5c, 0x2e, 0x2f, 0x2f, 0x5e, 0x5c };

/* The expanded decapsulation key (draft section 5.2, expandDecapsulationKey). */
struct expanded {
	uint8_t seed[96]; /* d || z || sk_X */
	uint8_t pk_m[PK_M];
	uint8_t sk_m[CRY_MLKEM768_DK];
	uint8_t pk_x[32];
};

static int expand_key(struct expanded *x, const uint8_t sk[CRY_XWING_SK])
{
	int ret;

	cry_shake256(x->seed, sizeof(x->seed), sk, CRY_XWING_SK);
	ret = cry_mlkem_keygen_derand(CRY_MLKEM768, x->pk_m, x->sk_m, x->seed, x->seed + 32);
	if (!ret)
		ret = cry_x25519_pubkey(x->pk_x, x->seed + 64);
	return ret;
}

/* SHA3-256(ss_M || ss_X || ct_X || pk_X || XWingLabel) (section 5.3) */
static void combiner(uint8_t ss[CRY_XWING_SS], const uint8_t ss_m[32], const uint8_t ss_x[32],
		     const uint8_t ct_x[32], const uint8_t pk_x[32])
{
	struct cry_keccak h;

	cry_sha3_256_init(&h);
	cry_keccak_absorb(&h, ss_m, 32);
	cry_keccak_absorb(&h, ss_x, 32);
	cry_keccak_absorb(&h, ct_x, 32);
	cry_keccak_absorb(&h, pk_x, 32);
	cry_keccak_absorb(&h, xwing_label, sizeof(xwing_label));
	cry_keccak_squeeze(&h, ss, CRY_XWING_SS);
	cry_keccak_wipe(&h);
}

int cry_xwing_pubkey(uint8_t pk[CRY_XWING_PK], const uint8_t sk[CRY_XWING_SK])
{
	struct expanded x;
	int ret = expand_key(&x, sk);

	if (!ret) {
		memcpy(pk, x.pk_m, PK_M);
		memcpy(pk + PK_M, x.pk_x, 32);
	}
	cry_wipe(&x, sizeof(x));
	return ret;
}

int cry_xwing_keygen(uint8_t pk[CRY_XWING_PK], uint8_t sk[CRY_XWING_SK])
{
	uint8_t seed[CRY_XWING_SK];
	int ret = cry_random(seed, sizeof(seed));

	if (!ret)
		ret = cry_xwing_pubkey(pk, seed);
	if (!ret)
		memcpy(sk, seed, sizeof(seed));
	cry_wipe(seed, sizeof(seed));
	return ret;
}

int cry_xwing_encaps_derand(uint8_t ct[CRY_XWING_CT], uint8_t ss[CRY_XWING_SS], const uint8_t *pk,
			    size_t pklen, const uint8_t eseed[CRY_XWING_ESEED])
{
	struct {
		uint8_t ct[CRY_XWING_CT];
		uint8_t ss_m[32], ss_x[32];
	} w;
	const uint8_t *ek_x, *pk_x;
	uint8_t *ct_x = w.ct + CT_M;
	int ret;

	if (!pk || pklen != CRY_XWING_PK || !ct || !ss || !eseed)
		return -EINVAL;
	ek_x = eseed + 32;
	pk_x = pk + PK_M;
	/* section 5.4: ct_X = X25519(ek_X, 9), ss_X = X25519(ek_X, pk_X) */
	ret = cry_mlkem_encaps_derand(CRY_MLKEM768, w.ct, w.ss_m, pk, PK_M, eseed);
	if (!ret)
		ret = cry_x25519_pubkey(ct_x, ek_x);
	if (!ret)
		ret = cry_x25519(w.ss_x, ek_x, pk_x);
	if (ret)
		goto out;
	combiner(ss, w.ss_m, w.ss_x, ct_x, pk_x);
	memcpy(ct, w.ct, CRY_XWING_CT);
out:
	cry_wipe(&w, sizeof(w));
	return ret;
}

int cry_xwing_encaps(uint8_t ct[CRY_XWING_CT], uint8_t ss[CRY_XWING_SS], const uint8_t *pk,
		     size_t pklen)
{
	uint8_t eseed[CRY_XWING_ESEED];
	int ret = cry_random(eseed, sizeof(eseed));

	if (!ret)
		ret = cry_xwing_encaps_derand(ct, ss, pk, pklen, eseed);
	cry_wipe(eseed, sizeof(eseed));
	return ret;
}

int cry_xwing_decaps(uint8_t ss[CRY_XWING_SS], const uint8_t *ct, size_t ctlen,
		     const uint8_t sk[CRY_XWING_SK])
{
	struct {
		struct expanded x;
		uint8_t ss_m[32], ss_x[32];
	} w;
	const uint8_t *ct_x;
	int ret;

	if (!ct || ctlen != CRY_XWING_CT || !ss || !sk)
		return -EINVAL;
	ct_x = ct + CT_M;
	/* section 5.5 */
	ret = expand_key(&w.x, sk);
	if (!ret)
		ret = cry_mlkem_decaps(CRY_MLKEM768, w.ss_m, w.x.sk_m, sizeof(w.x.sk_m), ct, CT_M);
	if (!ret)
		ret = cry_x25519(w.ss_x, w.x.seed + 64, ct_x);
	if (!ret)
		combiner(ss, w.ss_m, w.ss_x, ct_x, w.x.pk_x);
	cry_wipe(&w, sizeof(w));
	return ret;
}
