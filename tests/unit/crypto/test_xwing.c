// SPDX-License-Identifier: GPL-2.0-only
/*
 * X-Wing: the draft's three test vectors (keygen from the seed, encaps with
 * a fixed eseed, decaps), the combiner recomputed from its parts, random
 * round trips, and the error cases of the header's contract.
 */
#include <errno.h>

#include "crypto/keccak.h"
#include "crypto/mlkem.h"
#include "crypto/x25519.h"
#include "crypto/xwing.h"
#include "test.h"

static void check_vector(const char *obj, const char *end)
{
	size_t l[5] = { 0 };
	uint8_t *sk = t_json_hex(obj, end, "sk", &l[0]), *pk = t_json_hex(obj, end, "pk", &l[1]);
	uint8_t *eseed = t_json_hex(obj, end, "eseed", &l[2]),
		*ct = t_json_hex(obj, end, "ct", &l[3]);
	uint8_t *ss = t_json_hex(obj, end, "ss", &l[4]);
	uint8_t gpk[CRY_XWING_PK], gct[CRY_XWING_CT], gss[CRY_XWING_SS];

	CHECK(sk && pk && eseed && ct && ss);
	CHECK(l[0] == CRY_XWING_SK && l[1] == CRY_XWING_PK && l[2] == CRY_XWING_ESEED &&
	      l[3] == CRY_XWING_CT && l[4] == CRY_XWING_SS);
	if (!sk || !pk || !eseed || !ct || !ss || l[0] != CRY_XWING_SK || l[1] != CRY_XWING_PK ||
	    l[2] != CRY_XWING_ESEED || l[3] != CRY_XWING_CT || l[4] != CRY_XWING_SS)
		goto out;
	CHECK_EQ(cry_xwing_pubkey(gpk, sk), 0);
	CHECK_MEM(gpk, pk, CRY_XWING_PK);
	CHECK_EQ(cry_xwing_encaps_derand(gct, gss, pk, l[1], eseed), 0);
	CHECK_MEM(gct, ct, CRY_XWING_CT);
	CHECK_MEM(gss, ss, CRY_XWING_SS);
	memset(gss, 0, sizeof(gss));
	CHECK_EQ(cry_xwing_decaps(gss, ct, l[3], sk), 0);
	CHECK_MEM(gss, ss, CRY_XWING_SS);
out:
	free(sk);
	free(pk);
	free(eseed);
	free(ct);
	free(ss);
}

static void test_vectors(void)
{
	const char *path = t_vector("xwing/test-vectors.json");
	char *buf;
	const char *obj;
	unsigned int n = 0;

	if (!path)
		return;
	buf = t_slurp(path, NULL);
	CHECK(buf != NULL);
	if (!buf)
		return;
	/* a JSON array of flat objects: each runs from '{' to the next '}' */
	for (obj = strchr(buf, '{'); obj; obj = strchr(obj + 1, '{')) {
		const char *end = strchr(obj, '}');

		CHECK(end != NULL);
		if (!end)
			break;
		check_vector(obj, end);
		n++;
	}
	CHECK_EQ(n, 3);
	free(buf);
}

/* ss recomputed from the components, independently of xwing.c's code. */
static void test_combiner_by_hand(void)
{
	static const uint8_t label[6] = { 0x5c, 0x2e, 0x2f, 0x2f, 0x5e, 0x5c };
	uint8_t sk[32], pk[CRY_XWING_PK], eseed[64], ct[CRY_XWING_CT], ss[32];
	uint8_t expanded[96], ek_m[CRY_MLKEM768_EK], dk_m[CRY_MLKEM768_DK];
	uint8_t ss_m[32], ss_x[32], buf[32 * 4 + 6], want[32];
	unsigned int i;

	for (i = 0; i < 32; i++)
		sk[i] = (uint8_t)(i * 7 + 1);
	for (i = 0; i < 64; i++)
		eseed[i] = (uint8_t)(255 - i);
	CHECK_EQ(cry_xwing_pubkey(pk, sk), 0);
	cry_shake256(expanded, 96, sk, 32);
	CHECK_EQ(cry_mlkem_keygen_derand(CRY_MLKEM768, ek_m, dk_m, expanded, expanded + 32), 0);
	CHECK_MEM(pk, ek_m, CRY_MLKEM768_EK);
	CHECK_EQ(cry_x25519_pubkey(buf, expanded + 64), 0);
	CHECK_MEM(pk + CRY_MLKEM768_EK, buf, 32);

	CHECK_EQ(cry_xwing_encaps_derand(ct, ss, pk, sizeof(pk), eseed), 0);
	CHECK_EQ(cry_mlkem_decaps(CRY_MLKEM768, ss_m, dk_m, sizeof(dk_m), ct, CRY_MLKEM768_CT), 0);
	CHECK_EQ(cry_x25519(ss_x, expanded + 64, ct + CRY_MLKEM768_CT), 0);
	memcpy(buf, ss_m, 32);
	memcpy(buf + 32, ss_x, 32);
	memcpy(buf + 64, ct + CRY_MLKEM768_CT, 32);
	memcpy(buf + 96, pk + CRY_MLKEM768_EK, 32);
	memcpy(buf + 128, label, 6);
	cry_sha3_256(want, buf, sizeof(buf));
	CHECK_MEM(ss, want, 32);
}

static void test_roundtrip(void)
{
	int i;

	for (i = 0; i < 20; i++) {
		uint8_t sk[32], pk[CRY_XWING_PK], pk2[CRY_XWING_PK], ct[CRY_XWING_CT];
		uint8_t ss[32], ss2[32];

		CHECK_EQ(cry_xwing_keygen(pk, sk), 0);
		CHECK_EQ(cry_xwing_pubkey(pk2, sk), 0);
		CHECK_MEM(pk, pk2, sizeof(pk));
		CHECK_EQ(cry_xwing_encaps(ct, ss, pk, sizeof(pk)), 0);
		CHECK_EQ(cry_xwing_decaps(ss2, ct, sizeof(ct), sk), 0);
		CHECK_MEM(ss, ss2, 32);
	}
}

/* A changed ct_M decapsulates to a different key through ML-KEM's implicit
 * rejection; a changed ct_X changes ss_X and the hashed ct_X. */
static void test_tampered(void)
{
	uint8_t sk[32], pk[CRY_XWING_PK], ct[CRY_XWING_CT], ss[32], ss2[32];

	CHECK_EQ(cry_xwing_keygen(pk, sk), 0);
	CHECK_EQ(cry_xwing_encaps(ct, ss, pk, sizeof(pk)), 0);
	ct[100] ^= 1;
	CHECK_EQ(cry_xwing_decaps(ss2, ct, sizeof(ct), sk), 0);
	CHECK(memcmp(ss, ss2, 32) != 0);
	ct[100] ^= 1;
	ct[CRY_XWING_CT - 5] ^= 4;
	CHECK_EQ(cry_xwing_decaps(ss2, ct, sizeof(ct), sk), 0);
	CHECK(memcmp(ss, ss2, 32) != 0);
	ct[CRY_XWING_CT - 5] ^= 4;
	CHECK_EQ(cry_xwing_decaps(ss2, ct, sizeof(ct), sk), 0);
	CHECK_MEM(ss, ss2, 32);
}

static void test_errors(void)
{
	uint8_t sk[32], pk[CRY_XWING_PK + 1], ct[CRY_XWING_CT + 1], ss[32], before[32];
	uint8_t eseed[64] = { 1 };

	CHECK_EQ(cry_xwing_keygen(pk, sk), 0);
	CHECK_EQ(cry_xwing_encaps(ct, ss, pk, CRY_XWING_PK), 0);
	memset(ss, 0x5a, sizeof(ss));
	memcpy(before, ss, sizeof(ss));
	CHECK_EQ(cry_xwing_encaps(ct, ss, pk, CRY_XWING_PK - 1), -EINVAL);
	CHECK_EQ(cry_xwing_encaps(ct, ss, pk, CRY_XWING_PK + 1), -EINVAL);
	CHECK_EQ(cry_xwing_encaps(ct, ss, NULL, CRY_XWING_PK), -EINVAL);
	CHECK_EQ(cry_xwing_encaps_derand(ct, ss, pk, CRY_XWING_PK, NULL), -EINVAL);
	CHECK_EQ(cry_xwing_decaps(ss, ct, CRY_XWING_CT - 1, sk), -EINVAL);
	CHECK_EQ(cry_xwing_decaps(ss, ct, CRY_XWING_CT + 1, sk), -EINVAL);
	CHECK_EQ(cry_xwing_decaps(ss, NULL, CRY_XWING_CT, sk), -EINVAL);
	CHECK_MEM(ss, before, 32);

	/* pk_X = 0 is a low-order point: X25519 gives zero, refused */
	memset(pk + CRY_MLKEM768_EK, 0, 32);
	CHECK_EQ(cry_xwing_encaps_derand(ct, ss, pk, CRY_XWING_PK, eseed), -EINVAL);
	CHECK_MEM(ss, before, 32);
	CHECK_EQ(cry_xwing_keygen(pk, sk), 0);
	CHECK_EQ(cry_xwing_encaps(ct, ss, pk, CRY_XWING_PK), 0);
	memset(ct + CRY_MLKEM768_CT, 0, 32);
	memcpy(before, ss, sizeof(ss));
	CHECK_EQ(cry_xwing_decaps(ss, ct, CRY_XWING_CT, sk), -EINVAL);
	CHECK_MEM(ss, before, 32);

	/* the ML-KEM modulus check applies to pk_M: first coefficient = 4095 */
	pk[0] = 0xff;
	pk[1] |= 0x0f;
	CHECK_EQ(cry_xwing_encaps(ct, ss, pk, CRY_XWING_PK), -EINVAL);
}

static const struct t_case cases[] = {
	T(test_vectors),  T(test_combiner_by_hand), T(test_roundtrip),
	T(test_tampered), T(test_errors),
};

int main(void)
{
	return t_main("crypto-xwing", cases, SC_ARRAY_SIZE(cases));
}
