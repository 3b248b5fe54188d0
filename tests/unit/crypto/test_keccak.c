// SPDX-License-Identifier: GPL-2.0-only
/*
 * Keccak, SHA-3, SHAKE and HKDF-SHA3-256. OpenSSL's EVP implementations are
 * the independent reference: every length from 0 to a few blocks, absorbed
 * and squeezed in odd pieces, must give OpenSSL's one-shot output. HKDF is
 * checked against RFC 5869 spelled out by hand on OpenSSL's HMAC.
 */
#include <errno.h>

#include <openssl/evp.h>

#include "crypto/keccak.h"
#include "test.h"

/* Deterministic test data (splitmix64): reproducible failures, no rand(). */
static uint64_t rng_state = 0x5c09e5eedULL;

/* OpenSSL one-shot digest or XOF of in[0..n) into out[0..outlen). */
static int ossl_digest(const EVP_MD *md, uint8_t *out, size_t outlen, const uint8_t *in, size_t n)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx && EVP_DigestInit_ex(ctx, md, NULL) == 1 && EVP_DigestUpdate(ctx, in, n) == 1;

	if (ok && (EVP_MD_get_flags(md) & EVP_MD_FLAG_XOF))
		ok = EVP_DigestFinalXOF(ctx, out, outlen) == 1;
	else if (ok)
		ok = EVP_DigestFinal_ex(ctx, out, NULL) == 1;
	EVP_MD_CTX_free(ctx);
	return ok;
}

static void test_sha3_abc(void)
{
	static const char want[] =
		"3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532";
	unsigned char *w = t_unhex(want, NULL);
	uint8_t got[32];

	cry_sha3_256(got, "abc", 3);
	CHECK(w != NULL);
	if (w)
		CHECK_MEM(got, w, 32);
	free(w);
}

/* Keccak-f[1600] of the zero state: first lane from the Keccak team's
 * KeccakF-1600-IntermediateValues.txt. */
static void test_permute_zero(void)
{
	uint64_t a[25] = { 0 };

	cry_keccak_permute(a);
	CHECK(a[0] == 0xf1258f7940e1dde7ULL);
	CHECK(a[24] == 0xeaf1ff7b5ceca249ULL);
}

enum kind { K_SHA3_256, K_SHA3_512, K_SHAKE128, K_SHAKE256 };

static void kinit(struct cry_keccak *k, enum kind kind)
{
	switch (kind) {
	case K_SHA3_256:
		cry_sha3_256_init(k);
		break;
	case K_SHA3_512:
		cry_sha3_512_init(k);
		break;
	case K_SHAKE128:
		cry_shake128_init(k);
		break;
	case K_SHAKE256:
		cry_shake256_init(k);
		break;
	}
}

static const EVP_MD *kmd(enum kind kind)
{
	switch (kind) {
	case K_SHA3_256:
		return EVP_sha3_256();
	case K_SHA3_512:
		return EVP_sha3_512();
	case K_SHAKE128:
		return EVP_shake128();
	default:
		return EVP_shake256();
	}
}

/* One-shot functions, as opposed to the incremental API. */
static void koneshot(enum kind kind, uint8_t *out, size_t outlen, const uint8_t *in, size_t n)
{
	switch (kind) {
	case K_SHA3_256:
		cry_sha3_256(out, in, n);
		break;
	case K_SHA3_512:
		cry_sha3_512(out, in, n);
		break;
	case K_SHAKE128:
		cry_shake128(out, outlen, in, n);
		break;
	case K_SHAKE256:
		cry_shake256(out, outlen, in, n);
		break;
	}
}

/* Absorb in random pieces (0 included), squeeze in random odd pieces. */
static void incremental(enum kind kind, uint8_t *out, size_t outlen, const uint8_t *in, size_t n)
{
	struct cry_keccak k;
	size_t off = 0, piece;

	kinit(&k, kind);
	while (off < n) {
		piece = (size_t)(t_rng64(&rng_state) % 211); /* SC_MIN evaluates twice */
		piece = SC_MIN(piece, n - off);
		cry_keccak_absorb(&k, in + off, piece);
		off += piece;
	}
	for (off = 0; off < outlen; off += piece) {
		piece = (size_t)(t_rng64(&rng_state) % 337) | 1;
		piece = SC_MIN(piece, outlen - off);
		cry_keccak_squeeze(&k, out + off, piece);
	}
	cry_keccak_wipe(&k);
	CHECK(k.rate == 0 && k.a[0] == 0);
}

static void check_kind(enum kind kind, size_t n, size_t outlen)
{
	static uint8_t in[1200], want[1100], got[1100];

	t_rng_fill(&rng_state, in, n);
	CHECK(ossl_digest(kmd(kind), want, outlen, in, n));
	koneshot(kind, got, outlen, in, n);
	CHECK_MEM(got, want, outlen);
	memset(got, 0, sizeof(got));
	incremental(kind, got, outlen, in, n);
	CHECK_MEM(got, want, outlen);
}

/* Every input length up to 3 SHAKE128 blocks hits each padding position. */
static void test_vs_openssl_all_lengths(void)
{
	size_t n;

	for (n = 0; n <= 3 * CRY_SHAKE128_RATE + 1; n++) {
		check_kind(K_SHA3_256, n, 32);
		check_kind(K_SHA3_512, n, 64);
		check_kind(K_SHAKE128, n, 1 + n % 97);
		check_kind(K_SHAKE256, n, 1 + n % 89);
	}
}

/* Random input lengths and long outputs squeezed across many blocks. */
static void test_vs_openssl_random(void)
{
	int i;

	for (i = 0; i < 400; i++) {
		size_t n = t_rng64(&rng_state) % 1200, outlen = 1 + t_rng64(&rng_state) % 1100;

		check_kind(K_SHA3_256, n, 32);
		check_kind(K_SHA3_512, n, 64);
		check_kind(K_SHAKE128, n, outlen);
		check_kind(K_SHAKE256, n, outlen);
	}
}

/* HMAC-SHA3-256 over OpenSSL's EVP_Q_mac, for the hand-written HKDF. */
static void hmac(uint8_t out[32], const uint8_t *key, size_t keylen, const uint8_t *in, size_t n)
{
	size_t len = 0;

	CHECK(EVP_Q_mac(NULL, "HMAC", NULL, "SHA3-256", NULL, key, keylen, in, n, out, 32, &len) !=
	      NULL);
	CHECK_EQ(len, 32);
}

/* RFC 5869 section 2: PRK = HMAC(salt, IKM), T(i) = HMAC(PRK, T(i-1) | info | i). */
static void hkdf_manual(uint8_t *out, size_t outlen, const uint8_t *ikm, size_t ikmlen,
			const uint8_t *salt, size_t saltlen, const uint8_t *info, size_t infolen)
{
	static const uint8_t zeros[32];
	uint8_t prk[32], t[32], buf[32 + 300 + 1];
	size_t done = 0, tlen = 0;
	unsigned int i;

	if (saltlen == 0) {
		salt = zeros;
		saltlen = sizeof(zeros);
	}
	hmac(prk, salt, saltlen, ikm, ikmlen);
	for (i = 1; done < outlen; i++) {
		memcpy(buf, t, tlen);
		memcpy(buf + tlen, info, infolen);
		buf[tlen + infolen] = (uint8_t)i;
		hmac(t, prk, 32, buf, tlen + infolen + 1);
		tlen = 32;
		memcpy(out + done, t, SC_MIN((size_t)32, outlen - done));
		done += SC_MIN((size_t)32, outlen - done);
	}
}

static void test_hkdf(void)
{
	static const size_t outlens[] = { 1, 31, 32, 33, 64, 100, 255 * 32 };
	static uint8_t want[255 * 32], got[255 * 32];
	uint8_t ikm[80], salt[70], info[300];
	size_t i, j;

	for (i = 0; i < SC_ARRAY_SIZE(outlens); i++) {
		for (j = 0; j < 6; j++) {
			size_t ikmlen = j == 0 ? 0 : t_rng64(&rng_state) % sizeof(ikm);
			size_t saltlen = j == 1 ? 0 : t_rng64(&rng_state) % sizeof(salt);
			size_t infolen = j == 2 ? 0 : t_rng64(&rng_state) % sizeof(info);

			t_rng_fill(&rng_state, ikm, sizeof(ikm));
			t_rng_fill(&rng_state, salt, sizeof(salt));
			t_rng_fill(&rng_state, info, sizeof(info));
			hkdf_manual(want, outlens[i], ikm, ikmlen, salt, saltlen, info, infolen);
			CHECK_EQ(cry_hkdf_sha3_256(got, outlens[i], j == 0 ? NULL : ikm, ikmlen,
						   salt, saltlen, info, infolen),
				 0);
			CHECK_MEM(got, want, outlens[i]);
		}
	}
}

static void test_hkdf_bad_args(void)
{
	uint8_t out[32], ikm[32] = { 1 };

	CHECK_EQ(cry_hkdf_sha3_256(out, 0, ikm, 32, NULL, 0, NULL, 0), -EINVAL);
	CHECK_EQ(cry_hkdf_sha3_256(out, 255 * 32 + 1, ikm, 32, NULL, 0, NULL, 0), -EINVAL);
	CHECK_EQ(cry_hkdf_sha3_256(NULL, 32, ikm, 32, NULL, 0, NULL, 0), -EINVAL);
	CHECK_EQ(cry_hkdf_sha3_256(out, 32, NULL, 5, NULL, 0, NULL, 0), -EINVAL);
	CHECK_EQ(cry_hkdf_sha3_256(out, 32, ikm, 32, NULL, 3, NULL, 0), -EINVAL);
	CHECK_EQ(cry_hkdf_sha3_256(out, 32, ikm, 32, NULL, 0, NULL, 3), -EINVAL);
}

static const struct t_case cases[] = {
	T(test_sha3_abc),	   T(test_permute_zero), T(test_vs_openssl_all_lengths),
	T(test_vs_openssl_random), T(test_hkdf),	 T(test_hkdf_bad_args),
};

int main(void)
{
	return t_main("crypto-keccak", cases, SC_ARRAY_SIZE(cases));
}
