// SPDX-License-Identifier: GPL-2.0-only
/*
 * BLAKE2s, HMAC-BLAKE2s and WireGuard's KDF: the BLAKE2 reference KATs,
 * RFC 7693, the two WireGuard construction constants, and OpenSSL's own
 * BLAKE2S-256 / BLAKE2SMAC / HMAC as independent references.
 */
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "crypto/blake2s.h"
#include "test.h"

static void hex_in(uint8_t *out, size_t *n, const char *hex, size_t hexlen)
{
	size_t i;

	for (i = 0; i + 1 < hexlen + 1 && i < hexlen / 2; i++) {
		unsigned int v;

		sscanf(hex + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
	*n = hexlen / 2;
}

/* blake2s-kat.txt: 256 keyed records "in:\t..", "key:\t..", "hash:\t..". */
static void test_kat_txt(void)
{
	const char *path = t_vector("blake2s/blake2s-kat.txt");
	char *buf, *p;
	unsigned int records = 0;

	if (!path)
		return;
	buf = t_slurp(path, NULL);
	CHECK(buf != NULL);
	if (!buf)
		return;
	for (p = strstr(buf, "in:\t"); p; p = strstr(p, "in:\t")) {
		uint8_t in[256], key[32], want[32], got[32];
		size_t inlen, keylen, wantlen;
		char *k = strstr(p, "key:\t"), *h = strstr(p, "hash:\t");

		CHECK(k && h);
		if (!k || !h)
			break;
		hex_in(in, &inlen, p + 4, strcspn(p + 4, "\n"));
		hex_in(key, &keylen, k + 5, strcspn(k + 5, "\n"));
		hex_in(want, &wantlen, h + 6, strcspn(h + 6, "\n"));
		CHECK_EQ(cry_blake2s(got, 32, key, keylen, in, inlen), 0);
		CHECK_MEM(got, want, 32);
		records++;
		p = h;
	}
	CHECK_EQ(records, 256);
	free(buf);
}

static char *json_str(char *p, const char *field, char **val, size_t *len)
{
	char pat[32];
	char *q;

	snprintf(pat, sizeof(pat), "\"%s\": \"", field);
	q = strstr(p, pat);
	if (!q)
		return NULL;
	*val = q + strlen(pat);
	*len = strcspn(*val, "\"");
	return *val + *len;
}

/* blake2-kat.json: the 512 BLAKE2s entries, unkeyed and keyed. */
static void test_kat_json(void)
{
	const char *path = t_vector("blake2s/blake2-kat.json");
	unsigned int unkeyed = 0, keyed = 0;
	char *buf, *p;

	if (!path)
		return;
	buf = t_slurp(path, NULL);
	CHECK(buf != NULL);
	if (!buf)
		return;
	for (p = strstr(buf, "\"hash\": \"blake2s\""); p; p = strstr(p, "\"hash\": \"blake2s\"")) {
		uint8_t in[256], key[32], want[32], got[32];
		size_t inlen, keylen, wantlen, l;
		char *v;

		p = json_str(p, "in", &v, &l);
		hex_in(in, &inlen, v, l);
		p = json_str(p, "key", &v, &l);
		hex_in(key, &keylen, v, l);
		p = json_str(p, "out", &v, &l);
		hex_in(want, &wantlen, v, l);
		CHECK_EQ(cry_blake2s(got, 32, key, keylen, in, inlen), 0);
		CHECK_MEM(got, want, 32);
		if (keylen)
			keyed++;
		else
			unkeyed++;
	}
	CHECK_EQ(unkeyed, 256);
	CHECK_EQ(keyed, 256);
	free(buf);
}

static void selftest_seq(uint8_t *out, size_t len, uint32_t seed)
{
	uint32_t a = 0xDEAD4BAD * seed, b = 1, t;
	size_t i;

	for (i = 0; i < len; i++) {
		t = a + b;
		a = b;
		b = t;
		out[i] = (uint8_t)(t >> 24);
	}
}

/* RFC 7693 Appendix E: output lengths 16..32 and short keys. The grand hash
 * is a figure from the RFC, so this case runs without the vectors folder. */
static void test_rfc7693_selftest(void)
{
	static const size_t md_len[] = { 16, 20, 28, 32 };
	static const size_t in_len[] = { 0, 3, 64, 65, 255, 1024 };
	uint8_t in[1024], md[32], key[32], grand[32], want[32];
	struct cry_blake2s ctx;
	size_t i, j, n;

	hex_in(want, &n, "6a411f08ce25adcdfb02aba641451cec53c598b24f4fc787fbdc88797f4c1dfe", 64);
	CHECK_EQ(cry_blake2s_init(&ctx, 32, NULL, 0), 0);
	for (i = 0; i < SC_ARRAY_SIZE(md_len); i++) {
		for (j = 0; j < SC_ARRAY_SIZE(in_len); j++) {
			selftest_seq(in, in_len[j], (uint32_t)in_len[j]);
			CHECK_EQ(cry_blake2s(md, md_len[i], NULL, 0, in, in_len[j]), 0);
			cry_blake2s_update(&ctx, md, md_len[i]);
			selftest_seq(key, md_len[i], (uint32_t)md_len[i]);
			CHECK_EQ(cry_blake2s(md, md_len[i], key, md_len[i], in, in_len[j]), 0);
			cry_blake2s_update(&ctx, md, md_len[i]);
		}
	}
	cry_blake2s_final(&ctx, grand);
	CHECK_MEM(grand, want, 32);

	/* Appendix B: "abc". */
	hex_in(want, &n, "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982", 64);
	CHECK_EQ(cry_blake2s(md, 32, NULL, 0, "abc", 3), 0);
	CHECK_MEM(md, want, 32);
}

/* WireGuard's construction and identifier hashes (the paper, section 5.4). */
static void test_wireguard_constants(void)
{
	static const char construction[] = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
	static const char identifier[] = "WireGuard v1 zx2c4 Jason@zx2c4.com";
	uint8_t ci[32], hi[32], want[32];
	struct cry_blake2s s;
	size_t n;

	cry_blake2s(ci, 32, NULL, 0, construction, strlen(construction));
	hex_in(want, &n, "60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36", 64);
	CHECK_MEM(ci, want, 32);
	cry_blake2s_init(&s, 32, NULL, 0);
	cry_blake2s_update(&s, ci, 32);
	cry_blake2s_update(&s, identifier, strlen(identifier));
	cry_blake2s_final(&s, hi);
	hex_in(want, &n, "2211b361081ac566691243db458ad5322d9c6c662293e8b70ee19c65ba079ef3", 64);
	CHECK_MEM(hi, want, 32);
}

static void ossl_blake2smac(uint8_t *out, size_t outlen, const uint8_t *key, size_t keylen,
			    const uint8_t *in, size_t n)
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "BLAKE2SMAC", NULL);
	EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
	OSSL_PARAM params[2];
	size_t len;

	params[0] = OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &outlen);
	params[1] = OSSL_PARAM_construct_end();
	/* OpenSSL 3.0 applies a size passed to init after keying; set it first. */
	EVP_MAC_CTX_set_params(ctx, params);
	EVP_MAC_init(ctx, key, keylen, NULL);
	EVP_MAC_update(ctx, in, n);
	EVP_MAC_final(ctx, out, &len, outlen);
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
}

/* Random inputs, fed in random pieces, against OpenSSL. */
static void test_against_openssl(void)
{
	uint8_t in[700], key[32], a[32], b[32];
	unsigned int seed = 1, iter;

	for (iter = 0; iter < 300; iter++) {
		size_t n = (size_t)(rand_r(&seed) % sizeof(in)), i, off = 0;
		size_t keylen = 1 + (size_t)(rand_r(&seed) % 32);
		size_t outlen = 1 + (size_t)(rand_r(&seed) % 32);
		struct cry_blake2s s;
		unsigned int len;

		for (i = 0; i < n; i++)
			in[i] = (uint8_t)rand_r(&seed);
		for (i = 0; i < keylen; i++)
			key[i] = (uint8_t)rand_r(&seed);

		/* Unkeyed 32-byte digest in random pieces. */
		cry_blake2s_init(&s, 32, NULL, 0);
		while (off < n) {
			size_t r = (size_t)(rand_r(&seed) % 130);
			size_t piece = SC_MIN(n - off, r);

			cry_blake2s_update(&s, in + off, piece);
			off += piece;
		}
		cry_blake2s_final(&s, a);
		EVP_Digest(in, n, b, &len, EVP_blake2s256(), NULL);
		CHECK_MEM(a, b, 32);

		/* Keyed, any output length. */
		cry_blake2s(a, outlen, key, keylen, in, n);
		ossl_blake2smac(b, outlen, key, keylen, in, n);
		CHECK_MEM(a, b, outlen);

		/* HMAC-BLAKE2s, key up to 80 bytes (longer than the block too). */
		cry_hmac_blake2s(a, in, n % 81, in + 1, n ? n - 1 : 0);
		HMAC(EVP_blake2s256(), in, (int)(n % 81), in + 1, n ? n - 1 : 0, b, &len);
		CHECK_MEM(a, b, 32);
	}
}

static void test_bad_lengths(void)
{
	struct cry_blake2s s;
	uint8_t out[33], key[33] = { 0 };

	CHECK(cry_blake2s_init(&s, 0, NULL, 0) < 0);
	CHECK(cry_blake2s_init(&s, 33, NULL, 0) < 0);
	CHECK(cry_blake2s(out, 32, key, 33, "", 0) < 0);
}

/* KDF_n against HMAC chaining done with OpenSSL's HMAC(BLAKE2S-256). */
static void test_wg_kdf(void)
{
	uint8_t key[32], input[40], o1[32], o2[32], o3[32], t0[32], t[33], w[32];
	unsigned int len, i;

	for (i = 0; i < 32; i++)
		key[i] = (uint8_t)(i + 1);
	for (i = 0; i < 40; i++)
		input[i] = (uint8_t)(0xa0 + i);
	cry_wg_kdf(o1, o2, o3, key, input, sizeof(input));

	HMAC(EVP_blake2s256(), key, 32, input, sizeof(input), t0, &len);
	t[0] = 1;
	HMAC(EVP_blake2s256(), t0, 32, t, 1, w, &len);
	CHECK_MEM(o1, w, 32);
	memcpy(t, w, 32);
	t[32] = 2;
	HMAC(EVP_blake2s256(), t0, 32, t, 33, w, &len);
	CHECK_MEM(o2, w, 32);
	memcpy(t, w, 32);
	t[32] = 3;
	HMAC(EVP_blake2s256(), t0, 32, t, 33, w, &len);
	CHECK_MEM(o3, w, 32);

	/* Fewer outputs give the same prefix. */
	cry_wg_kdf(w, NULL, NULL, key, input, sizeof(input));
	CHECK_MEM(w, o1, 32);
}

static const struct t_case cases[] = {
	T(test_kat_txt),	  T(test_kat_json),
	T(test_rfc7693_selftest), T(test_wireguard_constants),
	T(test_against_openssl),  T(test_bad_lengths),
	T(test_wg_kdf),
};

int main(void)
{
	return t_main("crypto-blake2s", cases, SC_ARRAY_SIZE(cases));
}
