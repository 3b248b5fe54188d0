// SPDX-License-Identifier: GPL-2.0-only
/*
 * ML-KEM and X-Wing on hostile inputs: encapsulation keys, decapsulation
 * keys and ciphertexts of any length and content come from peers or the
 * registry. Never crash or read out of bounds, and stay consistent:
 * - a key passes the check exactly when encaps / decaps accept it;
 * - encaps is deterministic in (ek, m);
 * - decaps of a fresh encaps returns its key, and of any other ciphertext
 *   of the right length returns J(z || c) (implicit rejection).
 *
 * Input: byte 0 picks the parameter set, byte 1 the mode, the rest is data.
 *
 * mlkem.c is included rather than linked so that it is compiled here, with
 * the fuzzer's coverage instrumentation (the libraries are built without).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/keccak.h"
#include "crypto/mlkem.c"
#include "crypto/xwing.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The same 32 bytes every time (a seed, m or d) taken from the input. */
static void seed_of(uint8_t out[32], const uint8_t *data, size_t size, uint8_t tag)
{
	struct cry_keccak k;

	cry_shake256_init(&k);
	cry_keccak_absorb(&k, &tag, 1);
	cry_keccak_absorb(&k, data, size);
	cry_keccak_squeeze(&k, out, 32);
}

/* Arbitrary ek: check and encaps agree; encaps is deterministic. */
static void fuzz_ek(enum cry_mlkem_param p, const uint8_t *ek, size_t eklen)
{
	uint8_t c[CRY_MLKEM_CT_MAX], c2[CRY_MLKEM_CT_MAX], k[32], k2[32], m[32];
	int chk = cry_mlkem_check_ek(p, ek, eklen), ret;

	seed_of(m, ek, eklen, 1);
	ret = cry_mlkem_encaps_derand(p, c, k, ek, eklen, m);
	if (ret != chk || (ret != 0 && ret != -EINVAL))
		abort();
	if (ret)
		return;
	if (cry_mlkem_encaps_derand(p, c2, k2, ek, eklen, m) != 0 ||
	    memcmp(c, c2, cry_mlkem_ct_len(p)) != 0 || memcmp(k, k2, 32) != 0)
		abort();
}

/* Data read as 12-bit values reduced mod q: a valid ek the check accepts. */
static void fuzz_valid_ek(enum cry_mlkem_param p, const uint8_t *data, size_t size)
{
	uint8_t ek[CRY_MLKEM_EK_MAX] = { 0 };
	size_t eklen = cry_mlkem_ek_len(p), i;

	memcpy(ek, data, size < eklen ? size : eklen);
	for (i = 0; i + 32 < eklen; i += 3) {
		unsigned int a = (ek[i] | ek[i + 1] << 8) & 0xfff;
		unsigned int b = (ek[i + 1] >> 4) | ek[i + 2] << 4;

		a %= 3329;
		b %= 3329;
		ek[i] = (uint8_t)a;
		ek[i + 1] = (uint8_t)((a >> 8) | (b << 4));
		ek[i + 2] = (uint8_t)(b >> 4);
	}
	if (cry_mlkem_check_ek(p, ek, eklen) != 0)
		abort();
	fuzz_ek(p, ek, eklen);
}

/* Arbitrary dk (any length): the check and decaps agree. */
static void fuzz_dk(enum cry_mlkem_param p, const uint8_t *dk, size_t dklen)
{
	uint8_t c[CRY_MLKEM_CT_MAX] = { 0 }, k[32];
	int chk = cry_mlkem_check_dk(p, dk, dklen);
	int ret = cry_mlkem_decaps(p, k, dk, dklen, c, cry_mlkem_ct_len(p));

	if (ret != chk || (ret != 0 && ret != -EINVAL))
		abort();
}

/* A key pair from the input, then its dk with a valid hash but the
 * polynomial part and z replaced by input bytes: decaps must accept it. */
static void fuzz_dk_rehashed(enum cry_mlkem_param p, const uint8_t *data, size_t size)
{
	uint8_t ek[CRY_MLKEM_EK_MAX], dk[CRY_MLKEM_DK_MAX], d[32], z[32];
	uint8_t c[CRY_MLKEM_CT_MAX] = { 0 }, k[32];
	size_t eklen = cry_mlkem_ek_len(p), dklen = cry_mlkem_dk_len(p), pke = dklen - eklen - 64;

	seed_of(d, data, size, 2);
	seed_of(z, data, size, 3);
	if (cry_mlkem_keygen_derand(p, ek, dk, d, z) != 0)
		abort();
	memcpy(dk, data, size < pke ? size : pke);
	if (size > pke)
		memcpy(dk + dklen - 32, data + pke, size - pke < 32 ? size - pke : 32);
	memcpy(c, data, size < sizeof(c) ? size : sizeof(c));
	if (cry_mlkem_check_dk(p, dk, dklen) != 0 ||
	    cry_mlkem_decaps(p, k, dk, dklen, c, cry_mlkem_ct_len(p)) != 0)
		abort();
}

/* J(z || c): what decaps returns for a ciphertext that is not the
 * encryption of what it decrypts to. */
static void reject_key(uint8_t out[32], const uint8_t *dk, size_t dklen, const uint8_t *c,
		       size_t clen)
{
	struct cry_keccak j;

	cry_shake256_init(&j);
	cry_keccak_absorb(&j, dk + dklen - 32, 32);
	cry_keccak_absorb(&j, c, clen);
	cry_keccak_squeeze(&j, out, 32);
}

/* A key pair and an encapsulation from the input; then the ciphertext XORed
 * with the rest of the input (any length). */
static void fuzz_ciphertext(enum cry_mlkem_param p, const uint8_t *data, size_t size)
{
	uint8_t ek[CRY_MLKEM_EK_MAX], dk[CRY_MLKEM_DK_MAX], c[CRY_MLKEM_CT_MAX + 64];
	uint8_t d[32], z[32], m[32], k[32], k2[32], kbar[32];
	size_t eklen = cry_mlkem_ek_len(p), dklen = cry_mlkem_dk_len(p);
	size_t ctlen = cry_mlkem_ct_len(p), clen = ctlen, i;
	int changed = 0, ret;

	seed_of(d, data, size, 4);
	seed_of(z, data, size, 5);
	seed_of(m, data, size, 6);
	if (cry_mlkem_keygen_derand(p, ek, dk, d, z) != 0 ||
	    cry_mlkem_encaps_derand(p, c, k, ek, eklen, m) != 0)
		abort();
	if (cry_mlkem_decaps(p, k2, dk, dklen, c, ctlen) != 0 || memcmp(k, k2, 32) != 0)
		abort();
	if (size > 0) {
		clen = (size_t)(ctlen - 32 + data[0] % 65); /* also lengths around ctlen */
		memset(c + ctlen, 0, sizeof(c) - ctlen);
	}
	for (i = 1; i < size && i - 1 < clen; i++) {
		c[i - 1] ^= data[i];
		changed |= data[i];
	}
	ret = cry_mlkem_decaps(p, k2, dk, dklen, c, clen);
	if (clen != ctlen) {
		if (ret != -EINVAL)
			abort();
		return;
	}
	if (ret != 0)
		abort();
	if (!changed && memcmp(k, k2, 32) != 0)
		abort();
	reject_key(kbar, dk, dklen, c, clen);
	if (changed && memcmp(k2, kbar, 32) != 0)
		abort();
}

/* X-Wing on an arbitrary pk and ct with a key from the input. */
static void fuzz_xwing(const uint8_t *data, size_t size)
{
	uint8_t sk[32], pk[CRY_XWING_PK], ct[CRY_XWING_CT], ss[32], ss2[32], eseed[64];
	int ret;

	seed_of(sk, data, size, 7);
	seed_of(eseed, data, size, 8);
	seed_of(eseed + 32, data, size, 9);
	ret = cry_xwing_encaps_derand(ct, ss, data, size, eseed);
	if (ret != 0 && ret != -EINVAL)
		abort();
	ret = cry_xwing_decaps(ss, data, size, sk);
	if (ret != 0 && ret != -EINVAL)
		abort();
	if (cry_xwing_pubkey(pk, sk) != 0 ||
	    cry_xwing_encaps_derand(ct, ss, pk, sizeof(pk), eseed) != 0 ||
	    cry_xwing_decaps(ss2, ct, sizeof(ct), sk) != 0 || memcmp(ss, ss2, 32) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum cry_mlkem_param p;

	if (size < 2 || size > 2 * CRY_MLKEM_DK_MAX)
		return 0;
	p = (enum cry_mlkem_param)(data[0] % 3);
	switch (data[1] % 6) {
	case 0:
		fuzz_ek(p, data + 2, size - 2);
		break;
	case 1:
		fuzz_valid_ek(p, data + 2, size - 2);
		break;
	case 2:
		fuzz_dk(p, data + 2, size - 2);
		break;
	case 3:
		fuzz_dk_rehashed(p, data + 2, size - 2);
		break;
	case 4:
		fuzz_ciphertext(p, data + 2, size - 2);
		break;
	default:
		fuzz_xwing(data + 2, size - 2);
		break;
	}
	return 0;
}
