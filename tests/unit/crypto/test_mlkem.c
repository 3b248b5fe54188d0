// SPDX-License-Identifier: GPL-2.0-only
/*
 * ML-KEM against FIPS 203 (final) vectors: NIST ACVP keyGen and encapDecap,
 * C2SP/CCTV unlucky, strcmp, modulus and intermediate vectors (only the
 * parts valid for the final standard: ../shared/vectors/ml-kem/SOURCE.md),
 * and the CCTV accumulated 10,000-iteration hashes, which are written here
 * so that test runs without the vectors folder. Internals (reductions,
 * compression, NTT) are checked exhaustively or against a schoolbook
 * product by including mlkem.c.
 *
 * SCOPE_MLKEM_ITERATIONS lowers the accumulated test's iteration count (for
 * slow sanitizer or valgrind builds); the hashes are then not compared and
 * the case says so in its SKIP reason. The normal build runs all 10,000.
 */
#include <errno.h>

#include "crypto/mlkem.c"
#include "test.h"

static const enum cry_mlkem_param all_params[] = { CRY_MLKEM512, CRY_MLKEM768, CRY_MLKEM1024 };

/* splitmix64: reproducible test data without rand(). */
static uint64_t rng_state = 0x6d6c6b656dULL;

static int param_of(const char *name, enum cry_mlkem_param *p)
{
	if (strncmp(name, "ML-KEM-512", 10) == 0)
		*p = CRY_MLKEM512;
	else if (strncmp(name, "ML-KEM-768", 10) == 0)
		*p = CRY_MLKEM768;
	else if (strncmp(name, "ML-KEM-1024", 11) == 0)
		*p = CRY_MLKEM1024;
	else
		return 0;
	return 1;
}

/* ---- Internals ----------------------------------------------------------- */

static int16_t modq(int32_t a)
{
	a %= Q;
	return (int16_t)(a < 0 ? a + Q : a);
}

static void test_barrett_montgomery(void)
{
	int32_t a;
	unsigned int bad = 0;

	for (a = -32768; a <= 32767; a++) {
		int16_t r = barrett_reduce((int16_t)a);

		bad += r < -(Q - 1) / 2 || r > (Q - 1) / 2 || modq(r) != modq(a);
	}
	CHECK_EQ(bad, 0);
	/* mont_reduce(a) * 2^16 == a (mod q) on a sweep of the allowed range */
	for (a = -(Q << 15) + 1; a < (Q << 15); a += 997) {
		int16_t r = mont_reduce(a);

		bad += r <= -Q || r >= Q || modq((int32_t)((int64_t)r * 65536 % Q)) != modq(a);
	}
	CHECK_EQ(bad, 0);
}

/* Compress_d against the exact definition, every x and every d used. */
static void test_compress_exact(void)
{
	static const unsigned int ds[] = { 1, 4, 5, 10, 11 };
	unsigned int i, bad = 0;
	int32_t x;

	for (i = 0; i < SC_ARRAY_SIZE(ds); i++) {
		uint32_t d = ds[i];

		for (x = -(Q - 1); x < Q; x++) {
			uint32_t u = (uint32_t)modq(x);
			/* round(2^d u / q), half up, by exact integer arithmetic */
			uint32_t want = (((u << d) * 2 + Q) / (2 * Q)) & ((1u << d) - 1);

			bad += compress((int16_t)x, d) != want;
		}
	}
	CHECK_EQ(bad, 0);
}

static uint32_t powmod(uint32_t b, uint32_t e)
{
	uint32_t r = 1;

	for (; e; e >>= 1, b = b * b % Q)
		if (e & 1)
			r = r * b % Q;
	return r;
}

static void test_zetas(void)
{
	unsigned int i, j, rev;

	for (i = 0; i < 128; i++) {
		for (rev = 0, j = 0; j < 7; j++)
			rev |= ((i >> j) & 1) << (6 - j);
		CHECK_EQ(modq(zetas[i]), (int32_t)(powmod(17, rev) * 65536u % Q));
		CHECK(zetas[i] >= -(Q - 1) / 2 && zetas[i] <= (Q - 1) / 2);
	}
}

/* NTT^-1(NTT(a) o NTT(b)) == a * b in Z_q[X]/(X^256 + 1). */
static void test_ntt_schoolbook(void)
{
	int trial, i, j;

	for (trial = 0; trial < 20; trial++) {
		struct poly a, b, r;
		struct poly_cache bz;
		int32_t want[N] = { 0 }, acc[N];

		for (i = 0; i < N; i++) {
			a.c[i] = (int16_t)((int)(t_rng64(&rng_state) % (2 * Q - 1)) - (Q - 1));
			b.c[i] = (int16_t)((int)(t_rng64(&rng_state) % (2 * Q - 1)) - (Q - 1));
		}
		for (i = 0; i < N; i++)
			for (j = 0; j < N; j++) {
				int32_t prod = modq((int32_t)a.c[i] * b.c[j]);

				if (i + j < N)
					want[i + j] = modq(want[i + j] + prod);
				else
					want[i + j - N] = modq(want[i + j - N] - prod);
			}
		poly_ntt(&a);
		poly_ntt(&b);
		poly_mulcache(&bz, &b);
		memset(acc, 0, sizeof(acc));
		basemul_acc(acc, &a, &b, &bz);
		poly_from_acc(&r, acc);
		poly_invntt(&r);
		for (i = 0; i < N; i++) {
			CHECK(r.c[i] > -Q && r.c[i] < Q);
			CHECK_EQ(modq(r.c[i]), want[i]);
		}
	}
}

static void test_sizes(void)
{
	static const size_t want[3][3] = { { 800, 1632, 768 },
					   { 1184, 2400, 1088 },
					   { 1568, 3168, 1568 } };
	size_t i;

	for (i = 0; i < 3; i++) {
		CHECK_EQ(cry_mlkem_ek_len(all_params[i]), want[i][0]);
		CHECK_EQ(cry_mlkem_dk_len(all_params[i]), want[i][1]);
		CHECK_EQ(cry_mlkem_ct_len(all_params[i]), want[i][2]);
	}
	CHECK_EQ(cry_mlkem_ek_len((enum cry_mlkem_param)3), 0);
	CHECK_EQ(cry_mlkem_dk_len((enum cry_mlkem_param)(-1)), 0);
}

/* ---- Minimal readers for the vector files -------------------------------- */

/* The test object with this tcId in an ACVP file, and where it ends. */
static const char *json_test(const char *buf, unsigned int tc, const char **end)
{
	char pat[32];
	const char *p;

	snprintf(pat, sizeof(pat), "\"tcId\": %u,", tc);
	p = strstr(buf, pat);
	if (p && end)
		*end = strchr(p, '}');
	return p;
}

/* Value of "NAME = HEX" in a CCTV text file (first such line), decoded. */
static uint8_t *txt_hex(const char *buf, const char *name, size_t *len)
{
	char pat[40], *hex;
	const char *p;
	uint8_t *out;

	snprintf(pat, sizeof(pat), "\n%s = ", name);
	if (strncmp(buf, pat + 1, strlen(pat + 1)) == 0)
		p = buf + strlen(pat + 1);
	else if ((p = strstr(buf, pat)))
		p += strlen(pat);
	else
		return NULL;
	hex = strndup(p, strcspn(p, "\r\n"));
	out = hex ? t_unhex(hex, len) : NULL;
	free(hex);
	return out;
}

/* ---- ACVP ---------------------------------------------------------------- */

struct acvp {
	char *prompt, *results;
};

static int acvp_load(struct acvp *a, const char *mode)
{
	char rel[128];
	const char *path;

	memset(a, 0, sizeof(*a));
	snprintf(rel, sizeof(rel), "ml-kem/acvp/ML-KEM-%s-FIPS203_prompt.json", mode);
	path = t_vector(rel);
	if (path)
		a->prompt = t_slurp(path, NULL);
	snprintf(rel, sizeof(rel), "ml-kem/acvp/ML-KEM-%s-FIPS203_expectedResults.json", mode);
	path = path ? t_vector(rel) : NULL;
	if (path)
		a->results = t_slurp(path, NULL);
	if (!path)
		return 0;
	CHECK(a->prompt && a->results);
	return a->prompt && a->results;
}

static void acvp_free(struct acvp *a)
{
	free(a->prompt);
	free(a->results);
}

/* Calls fn for each test of each group whose "function" is func (any when
 * NULL); counts[param] counts the tests seen. */
typedef void (*acvp_fn)(enum cry_mlkem_param p, const char *tst, const char *tend, const char *res,
			const char *rend);

static void acvp_each(const struct acvp *a, const char *func, acvp_fn fn, unsigned int counts[3])
{
	const char *g = strstr(a->prompt, "\"tgId\":"), *gnext;

	while (g) {
		const char *ps = strstr(g, "\"parameterSet\": \""),
			   *fs = strstr(g, "\"function\": \"");
		const char *t;
		enum cry_mlkem_param p;

		gnext = strstr(g + 1, "\"tgId\":");
		CHECK(ps != NULL);
		if (!ps || !param_of(ps + 17, &p))
			return;
		if (func &&
		    (!fs || (gnext && fs > gnext) || strncmp(fs + 13, func, strlen(func)) != 0 ||
		     fs[13 + strlen(func)] != '"')) {
			g = gnext;
			continue;
		}
		for (t = strstr(g, "\"tcId\":"); t && (!gnext || t < gnext);
		     t = strstr(t + 1, "\"tcId\":")) {
			const char *tend = strchr(t, '}'), *res, *rend = NULL;
			unsigned int tc = (unsigned int)strtoul(t + 7, NULL, 10);

			res = json_test(a->results, tc, &rend);
			CHECK(res != NULL && tend != NULL && rend != NULL);
			if (!res || !tend || !rend)
				return;
			fn(p, t, tend, res, rend);
			counts[p]++;
		}
		g = gnext;
	}
}

static void acvp_keygen_one(enum cry_mlkem_param p, const char *t, const char *tend, const char *r,
			    const char *rend)
{
	size_t dl = 0, zl = 0, ekl = 0, dkl = 0;
	uint8_t *d = t_json_hex(t, tend, "d", &dl), *z = t_json_hex(t, tend, "z", &zl);
	uint8_t *ek = t_json_hex(r, rend, "ek", &ekl), *dk = t_json_hex(r, rend, "dk", &dkl);
	uint8_t gek[CRY_MLKEM_EK_MAX], gdk[CRY_MLKEM_DK_MAX];

	CHECK(d && z && ek && dk && dl == 32 && zl == 32);
	CHECK(ekl == cry_mlkem_ek_len(p) && dkl == cry_mlkem_dk_len(p));
	if (d && z && ek && dk && ekl == cry_mlkem_ek_len(p) && dkl == cry_mlkem_dk_len(p)) {
		CHECK_EQ(cry_mlkem_keygen_derand(p, gek, gdk, d, z), 0);
		CHECK_MEM(gek, ek, ekl);
		CHECK_MEM(gdk, dk, dkl);
	}
	free(d);
	free(z);
	free(ek);
	free(dk);
}

static void test_acvp_keygen(void)
{
	struct acvp a;
	unsigned int counts[3] = { 0 };

	if (!acvp_load(&a, "keyGen"))
		goto out;
	acvp_each(&a, NULL, acvp_keygen_one, counts);
	CHECK_EQ(counts[0], 25);
	CHECK_EQ(counts[1], 25);
	CHECK_EQ(counts[2], 25);
out:
	acvp_free(&a);
}

static void acvp_encaps_one(enum cry_mlkem_param p, const char *t, const char *tend, const char *r,
			    const char *rend)
{
	size_t ekl = 0, ml = 0, cl = 0, kl = 0;
	uint8_t *ek = t_json_hex(t, tend, "ek", &ekl), *m = t_json_hex(t, tend, "m", &ml);
	uint8_t *c = t_json_hex(r, rend, "c", &cl), *k = t_json_hex(r, rend, "k", &kl);
	uint8_t gc[CRY_MLKEM_CT_MAX], gk[32];

	CHECK(ek && m && c && k && ml == 32 && kl == 32 && cl == cry_mlkem_ct_len(p));
	if (ek && m && c && k && ml == 32 && kl == 32 && cl == cry_mlkem_ct_len(p)) {
		CHECK_EQ(cry_mlkem_encaps_derand(p, gc, gk, ek, ekl, m), 0);
		CHECK_MEM(gc, c, cl);
		CHECK_MEM(gk, k, 32);
	}
	free(ek);
	free(m);
	free(c);
	free(k);
}

static void acvp_decaps_one(enum cry_mlkem_param p, const char *t, const char *tend, const char *r,
			    const char *rend)
{
	size_t dkl = 0, cl = 0, kl = 0;
	uint8_t *dk = t_json_hex(t, tend, "dk", &dkl), *c = t_json_hex(t, tend, "c", &cl);
	uint8_t *k = t_json_hex(r, rend, "k", &kl);
	uint8_t gk[32];

	CHECK(dk && c && k && kl == 32);
	if (dk && c && k && kl == 32) {
		CHECK_EQ(cry_mlkem_decaps(p, gk, dk, dkl, c, cl), 0);
		CHECK_MEM(gk, k, 32);
	}
	free(dk);
	free(c);
	free(k);
}

/* testPassed of the result object: 1, 0, or -1 when missing. */
static int acvp_passed(const char *r, const char *rend)
{
	const char *p = strstr(r, "\"testPassed\": ");

	if (!p || p > rend)
		return -1;
	return strncmp(p + 14, "true", 4) == 0;
}

static unsigned int keycheck_fail[3];

static void acvp_dkcheck_one(enum cry_mlkem_param p, const char *t, const char *tend, const char *r,
			     const char *rend)
{
	size_t dkl = 0;
	uint8_t *dk = t_json_hex(t, tend, "dk", &dkl);
	int want = acvp_passed(r, rend);

	CHECK(dk && want >= 0);
	if (dk && want >= 0) {
		CHECK_EQ(cry_mlkem_check_dk(p, dk, dkl), want ? 0 : -EINVAL);
		keycheck_fail[p] += !want;
	}
	free(dk);
}

static void acvp_ekcheck_one(enum cry_mlkem_param p, const char *t, const char *tend, const char *r,
			     const char *rend)
{
	size_t ekl = 0;
	uint8_t *ek = t_json_hex(t, tend, "ek", &ekl);
	uint8_t c[CRY_MLKEM_CT_MAX], k[32];
	int want = acvp_passed(r, rend);

	CHECK(ek && want >= 0);
	if (ek && want >= 0) {
		CHECK_EQ(cry_mlkem_check_ek(p, ek, ekl), want ? 0 : -EINVAL);
		CHECK_EQ(cry_mlkem_encaps(p, c, k, ek, ekl), want ? 0 : -EINVAL);
		keycheck_fail[p] += !want;
	}
	free(ek);
}

static void test_acvp_encaps(void)
{
	struct acvp a;
	unsigned int counts[3] = { 0 };

	if (!acvp_load(&a, "encapDecap"))
		goto out;
	acvp_each(&a, "encapsulation", acvp_encaps_one, counts);
	CHECK_EQ(counts[0] + counts[1] + counts[2], 75);
	CHECK(counts[0] == 25 && counts[1] == 25 && counts[2] == 25);
out:
	acvp_free(&a);
}

static void test_acvp_decaps(void)
{
	struct acvp a;
	unsigned int counts[3] = { 0 };

	if (!acvp_load(&a, "encapDecap"))
		goto out;
	acvp_each(&a, "decapsulation", acvp_decaps_one, counts);
	CHECK(counts[0] == 10 && counts[1] == 10 && counts[2] == 10);
out:
	acvp_free(&a);
}

static void test_acvp_keychecks(void)
{
	struct acvp a;
	unsigned int dcounts[3] = { 0 }, ecounts[3] = { 0 }, i;

	if (!acvp_load(&a, "encapDecap"))
		goto out;
	memset(keycheck_fail, 0, sizeof(keycheck_fail));
	acvp_each(&a, "decapsulationKeyCheck", acvp_dkcheck_one, dcounts);
	acvp_each(&a, "encapsulationKeyCheck", acvp_ekcheck_one, ecounts);
	for (i = 0; i < 3; i++) {
		CHECK_EQ(dcounts[i], 10);
		CHECK_EQ(ecounts[i], 10);
		CHECK_EQ(keycheck_fail[i], 10); /* 5 bad dk + 5 bad ek per set */
	}
out:
	acvp_free(&a);
}

/* ---- CCTV ---------------------------------------------------------------- */

static const char *const set_names[] = { "ML-KEM-512", "ML-KEM-768", "ML-KEM-1024" };

static char *cctv_load(const char *dir, enum cry_mlkem_param p)
{
	char rel[128];
	const char *path;
	char *buf;

	snprintf(rel, sizeof(rel), "ml-kem/%s/%s.txt", dir, set_names[p]);
	path = t_vector(rel);
	if (!path)
		return NULL;
	buf = t_slurp(path, NULL);
	CHECK(buf != NULL);
	return buf;
}

/* KeyGen_internal(d, z), Encaps_internal(ek, m) and Decaps(dk, c) of one
 * file holding d, z, ek, dk, m, K, c (keygen skipped when d is absent or
 * the file's keys come from the FIPS 203 draft). */
static void kat_full(enum cry_mlkem_param p, const char *buf, int keygen)
{
	size_t l[7] = { 0 };
	uint8_t *d = txt_hex(buf, "d", &l[0]), *z = txt_hex(buf, "z", &l[1]);
	uint8_t *ek = txt_hex(buf, "ek", &l[2]), *dk = txt_hex(buf, "dk", &l[3]);
	uint8_t *m = txt_hex(buf, "m", &l[4]), *k = txt_hex(buf, "K", &l[5]);
	uint8_t *c = txt_hex(buf, "c", &l[6]);
	uint8_t gek[CRY_MLKEM_EK_MAX], gdk[CRY_MLKEM_DK_MAX], gc[CRY_MLKEM_CT_MAX], gk[32];

	CHECK(ek && dk && m && k && c && l[5] == 32 && l[6] == cry_mlkem_ct_len(p));
	if (!ek || !dk || !m || !k || !c || l[5] != 32 || l[6] != cry_mlkem_ct_len(p))
		goto out;
	if (keygen) {
		CHECK(d && z);
		if (d && z) {
			CHECK_EQ(cry_mlkem_keygen_derand(p, gek, gdk, d, z), 0);
			CHECK_EQ(l[2], cry_mlkem_ek_len(p));
			CHECK_MEM(gek, ek, l[2]);
			CHECK_MEM(gdk, dk, l[3]);
		}
	}
	CHECK_EQ(cry_mlkem_encaps_derand(p, gc, gk, ek, l[2], m), 0);
	CHECK_MEM(gc, c, l[6]);
	CHECK_MEM(gk, k, 32);
	memset(gk, 0, sizeof(gk));
	CHECK_EQ(cry_mlkem_decaps(p, gk, dk, l[3], c, l[6]), 0);
	CHECK_MEM(gk, k, 32);
out:
	free(d);
	free(z);
	free(ek);
	free(dk);
	free(m);
	free(k);
	free(c);
}

/* Vectors whose SampleNTT needs more than 575 XOF bytes (final FIPS 203). */
static void test_cctv_unlucky(void)
{
	size_t i;

	for (i = 0; i < 3; i++) {
		char *buf = cctv_load("cctv-pr13-fips203-final/unluckysample", all_params[i]);

		if (buf)
			kat_full(all_params[i], buf, 1);
		free(buf);
	}
}

/* Intermediate values: only Encaps/Decaps are valid for final FIPS 203; the
 * file's keys come from the draft's G(d), so our keygen must differ. */
static void test_cctv_intermediate(void)
{
	size_t i;

	for (i = 0; i < 3; i++) {
		char *buf = cctv_load("cctv/intermediate", all_params[i]);
		uint8_t *d, *z, *ek, gek[CRY_MLKEM_EK_MAX], gdk[CRY_MLKEM_DK_MAX];
		size_t dl = 0, zl = 0, ekl = 0;

		if (!buf)
			continue;
		kat_full(all_params[i], buf, 0);
		d = txt_hex(buf, "d", &dl);
		z = txt_hex(buf, "z", &zl);
		ek = txt_hex(buf, "ek", &ekl);
		CHECK(d && z && ek && ekl == cry_mlkem_ek_len(all_params[i]));
		if (d && z && ek && ekl == cry_mlkem_ek_len(all_params[i])) {
			CHECK_EQ(cry_mlkem_keygen_derand(all_params[i], gek, gdk, d, z), 0);
			CHECK(memcmp(gek, ek, ekl) != 0);
		}
		free(d);
		free(z);
		free(ek);
		free(buf);
	}
}

/* Decaps must compare all of c, not stop at a zero byte. */
static void test_cctv_strcmp(void)
{
	size_t i;

	for (i = 0; i < 3; i++) {
		char *buf = cctv_load("cctv/strcmp", all_params[i]);
		size_t dkl = 0, cl = 0, kl = 0;
		uint8_t *dk, *c, *k, gk[32];

		if (!buf)
			continue;
		dk = txt_hex(buf, "dk", &dkl);
		c = txt_hex(buf, "c", &cl);
		k = txt_hex(buf, "K", &kl);
		CHECK(dk && c && k && kl == 32);
		if (dk && c && k && kl == 32) {
			CHECK_EQ(cry_mlkem_decaps(all_params[i], gk, dk, dkl, c, cl), 0);
			CHECK_MEM(gk, k, 32);
		}
		free(dk);
		free(c);
		free(k);
		free(buf);
	}
}

/* Every line of modulus/ML-KEM-N.txt.gz is an ek with one coefficient in
 * [q, 4095]: the check and encaps must reject all. gzip -dc avoids a zlib
 * dependency for a test. */
static void test_cctv_modulus(void)
{
	static const unsigned int want_lines[3] = { 775, 780, 1040 };
	static char line[8192];
	size_t i;

	for (i = 0; i < 3; i++) {
		char rel[128], cmd[1200];
		const char *path;
		unsigned int lines = 0, rejected = 0;
		FILE *f;

		snprintf(rel, sizeof(rel), "ml-kem/cctv/modulus/%s.txt.gz", set_names[i]);
		path = t_vector(rel);
		if (!path)
			continue;
		CHECK(strchr(path, '\'') == NULL);
		snprintf(cmd, sizeof(cmd), "gzip -dc '%s'", path);
		f = popen(cmd, "r");
		CHECK(f != NULL);
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			uint8_t *ek, c[CRY_MLKEM_CT_MAX], k[32];
			size_t ekl = 0;

			line[strcspn(line, "\r\n")] = '\0';
			ek = t_unhex(line, &ekl);
			CHECK(ek && ekl == cry_mlkem_ek_len(all_params[i]));
			if (ek) {
				rejected +=
					cry_mlkem_check_ek(all_params[i], ek, ekl) == -EINVAL &&
					cry_mlkem_encaps(all_params[i], c, k, ek, ekl) == -EINVAL;
			}
			lines++;
			free(ek);
		}
		CHECK_EQ(pclose(f), 0);
		CHECK_EQ(lines, want_lines[i]);
		CHECK_EQ(rejected, lines);
	}
}

/* ---- Accumulated (CCTV README, PR 13 for final FIPS 203) ---------------- */

static void accumulated(enum cry_mlkem_param p, unsigned int iters, uint8_t out[32])
{
	static uint8_t ek[CRY_MLKEM_EK_MAX], dk[CRY_MLKEM_DK_MAX], c[CRY_MLKEM_CT_MAX],
		cr[CRY_MLKEM_CT_MAX];
	uint8_t d[32], z[32], m[32], k[32], k2[32], kr[32];
	size_t ekl = cry_mlkem_ek_len(p), dkl = cry_mlkem_dk_len(p), cl = cry_mlkem_ct_len(p);
	struct cry_keccak rng, acc;
	unsigned int i, bad = 0;

	cry_shake128_init(&rng);
	cry_shake128_init(&acc);
	for (i = 0; i < iters; i++) {
		cry_keccak_squeeze(&rng, d, 32);
		cry_keccak_squeeze(&rng, z, 32);
		cry_keccak_squeeze(&rng, m, 32);
		cry_keccak_squeeze(&rng, cr, cl);
		bad += cry_mlkem_keygen_derand(p, ek, dk, d, z) != 0;
		bad += cry_mlkem_encaps_derand(p, c, k, ek, ekl, m) != 0;
		bad += cry_mlkem_decaps(p, k2, dk, dkl, c, cl) != 0;
		bad += memcmp(k, k2, 32) != 0;
		bad += cry_mlkem_decaps(p, kr, dk, dkl, cr, cl) != 0;
		cry_keccak_absorb(&acc, ek, ekl);
		cry_keccak_absorb(&acc, dk, dkl);
		cry_keccak_absorb(&acc, c, cl);
		cry_keccak_absorb(&acc, k, 32);
		cry_keccak_absorb(&acc, kr, 32);
	}
	CHECK_EQ(bad, 0);
	cry_keccak_squeeze(&acc, out, 32);
}

static void test_accumulated(void)
{
	static const char *const want[3] = {
		"705dcffc87f4e67e35a09dcaa31772e86f3341bd3ccf1e78a5fef99ae6a35a13",
		"f959d18d3d1180121433bf0e05f11e7908cf9d03edc150b2b07cb90bef5bc1c1",
		"e3bf82b013307b2e9d47dde791ff6dfc82e694e6382404abdb948b908b75bad5",
	};
	const char *env = getenv("SCOPE_MLKEM_ITERATIONS");
	unsigned int iters = 10000;
	size_t i;

	if (env) {
		char *e;
		unsigned long v = strtoul(env, &e, 10);

		CHECK(*env && !*e && v > 0 && v <= 10000);
		if (*env && !*e && v > 0 && v <= 10000)
			iters = (unsigned int)v;
	}
	for (i = 0; i < 3; i++) {
		uint8_t got[32], *w = t_unhex(want[i], NULL);

		accumulated(all_params[i], iters, got);
		CHECK(w != NULL);
		if (w && iters == 10000)
			CHECK_MEM(got, w, 32);
		free(w);
	}
	if (iters != 10000)
		t_skip("SCOPE_MLKEM_ITERATIONS=%u: ran, hashes not compared", iters);
}

/* ---- Properties and negative cases --------------------------------------- */

static void test_roundtrip_random(void)
{
	size_t i;
	int n;

	for (i = 0; i < 3; i++) {
		enum cry_mlkem_param p = all_params[i];
		size_t ekl = cry_mlkem_ek_len(p), dkl = cry_mlkem_dk_len(p);
		size_t cl = cry_mlkem_ct_len(p);

		for (n = 0; n < 30; n++) {
			uint8_t ek[CRY_MLKEM_EK_MAX], dk[CRY_MLKEM_DK_MAX], c[CRY_MLKEM_CT_MAX];
			uint8_t k[32], k2[32];

			CHECK_EQ(cry_mlkem_keygen(p, ek, dk), 0);
			CHECK_EQ(cry_mlkem_check_ek(p, ek, ekl), 0);
			CHECK_EQ(cry_mlkem_check_dk(p, dk, dkl), 0);
			CHECK_EQ(cry_mlkem_encaps(p, c, k, ek, ekl), 0);
			CHECK_EQ(cry_mlkem_decaps(p, k2, dk, dkl, c, cl), 0);
			CHECK_MEM(k, k2, 32);
		}
	}
}

/* One d gives unrelated keys per parameter set (G(d || k)), and the same
 * inputs give the same outputs. */
static void test_derand_deterministic(void)
{
	uint8_t d[32], z[32], ek1[CRY_MLKEM_EK_MAX], dk1[CRY_MLKEM_DK_MAX];
	uint8_t ek2[CRY_MLKEM_EK_MAX], dk2[CRY_MLKEM_DK_MAX];
	size_t rho768 = 1152, rho1024 = 1536;

	t_rng_fill(&rng_state, d, 32);
	t_rng_fill(&rng_state, z, 32);
	CHECK_EQ(cry_mlkem_keygen_derand(CRY_MLKEM768, ek1, dk1, d, z), 0);
	CHECK_EQ(cry_mlkem_keygen_derand(CRY_MLKEM768, ek2, dk2, d, z), 0);
	CHECK_MEM(ek1, ek2, CRY_MLKEM768_EK);
	CHECK_MEM(dk1, dk2, CRY_MLKEM768_DK);
	CHECK_EQ(cry_mlkem_keygen_derand(CRY_MLKEM1024, ek2, dk2, d, z), 0);
	CHECK(memcmp(ek1 + rho768, ek2 + rho1024, 32) != 0);
	/* z is stored last in dk */
	CHECK_MEM(dk1 + CRY_MLKEM768_DK - 32, z, 32);
}

static void test_bad_lengths_and_args(void)
{
	static uint8_t ek[CRY_MLKEM_EK_MAX + 1], dk[CRY_MLKEM_DK_MAX + 1], c[CRY_MLKEM_CT_MAX + 1];
	uint8_t k[32], m[32] = { 0 }, d[32] = { 0 }, z[32] = { 0 }, kbefore[32];
	enum cry_mlkem_param bogus = (enum cry_mlkem_param)3;
	size_t i;

	for (i = 0; i < 3; i++) {
		enum cry_mlkem_param p = all_params[i];
		size_t ekl = cry_mlkem_ek_len(p), dkl = cry_mlkem_dk_len(p);
		size_t cl = cry_mlkem_ct_len(p);

		CHECK_EQ(cry_mlkem_keygen_derand(p, ek, dk, d, z), 0);
		CHECK_EQ(cry_mlkem_encaps_derand(p, c, k, ek, ekl, m), 0);
		memset(k, 0xa5, sizeof(k));
		memcpy(kbefore, k, sizeof(k));
		CHECK_EQ(cry_mlkem_check_ek(p, ek, ekl - 1), -EINVAL);
		CHECK_EQ(cry_mlkem_check_ek(p, ek, ekl + 1), -EINVAL);
		CHECK_EQ(cry_mlkem_check_ek(p, ek, 0), -EINVAL);
		CHECK_EQ(cry_mlkem_check_ek(p, NULL, ekl), -EINVAL);
		CHECK_EQ(cry_mlkem_encaps(p, c, k, ek, ekl + 1), -EINVAL);
		CHECK_EQ(cry_mlkem_encaps_derand(p, c, k, ek, ekl - 1, m), -EINVAL);
		CHECK_EQ(cry_mlkem_check_dk(p, dk, dkl - 1), -EINVAL);
		CHECK_EQ(cry_mlkem_check_dk(p, dk, dkl + 1), -EINVAL);
		CHECK_EQ(cry_mlkem_decaps(p, k, dk, dkl + 1, c, cl), -EINVAL);
		CHECK_EQ(cry_mlkem_decaps(p, k, dk, dkl - 1, c, cl), -EINVAL);
		CHECK_EQ(cry_mlkem_decaps(p, k, dk, dkl, c, cl - 1), -EINVAL);
		CHECK_EQ(cry_mlkem_decaps(p, k, dk, dkl, c, cl + 1), -EINVAL);
		CHECK_EQ(cry_mlkem_decaps(p, k, dk, dkl, NULL, cl), -EINVAL);
		CHECK_EQ(cry_mlkem_decaps(p, k, NULL, dkl, c, cl), -EINVAL);
		CHECK_MEM(k, kbefore, 32); /* outputs untouched on failure */
		CHECK_EQ(cry_mlkem_decaps(p, NULL, dk, dkl, c, cl), -EINVAL);
		CHECK_EQ(cry_mlkem_encaps(p, NULL, k, ek, ekl), -EINVAL);
		CHECK_EQ(cry_mlkem_keygen(p, NULL, dk), -EINVAL);
	}
	CHECK_EQ(cry_mlkem_keygen(bogus, ek, dk), -EINVAL);
	CHECK_EQ(cry_mlkem_keygen_derand(bogus, ek, dk, d, z), -EINVAL);
	CHECK_EQ(cry_mlkem_check_ek(bogus, ek, 800), -EINVAL);
	CHECK_EQ(cry_mlkem_check_dk(bogus, dk, 1632), -EINVAL);
	CHECK_EQ(cry_mlkem_encaps(bogus, c, k, ek, 800), -EINVAL);
	CHECK_EQ(cry_mlkem_decaps(bogus, k, dk, 1632, c, 768), -EINVAL);
}

/* Set the 12-bit coefficient idx of an encoded polynomial vector. */
static void set_coeff(uint8_t *t, size_t idx, unsigned int v)
{
	uint8_t *b = t + 3 * (idx / 2);

	if (idx % 2 == 0) {
		b[0] = (uint8_t)v;
		b[1] = (uint8_t)((b[1] & 0xf0) | (v >> 8));
	} else {
		b[1] = (uint8_t)((b[1] & 0x0f) | (v << 4));
		b[2] = (uint8_t)(v >> 4);
	}
}

/* q - 1 is accepted, q and 4095 are not, in either half of a 3-byte group. */
static void test_modulus_check(void)
{
	uint8_t ek[CRY_MLKEM_EK_MAX], dk[CRY_MLKEM_DK_MAX], c[CRY_MLKEM_CT_MAX], k[32];
	uint8_t d[32], z[32];
	size_t i;

	t_rng_fill(&rng_state, d, 32);
	t_rng_fill(&rng_state, z, 32);
	for (i = 0; i < 3; i++) {
		enum cry_mlkem_param p = all_params[i];
		size_t ekl = cry_mlkem_ek_len(p), ncoef = (ekl - 32) * 2 / 3, idx;

		CHECK_EQ(cry_mlkem_keygen_derand(p, ek, dk, d, z), 0);
		for (idx = 0; idx < ncoef; idx += 1 + t_rng64(&rng_state) % 97) {
			uint8_t save[3];

			memcpy(save, ek + 3 * (idx / 2), 3);
			set_coeff(ek, idx, Q - 1);
			CHECK_EQ(cry_mlkem_check_ek(p, ek, ekl), 0);
			set_coeff(ek, idx, Q);
			CHECK_EQ(cry_mlkem_check_ek(p, ek, ekl), -EINVAL);
			CHECK_EQ(cry_mlkem_encaps(p, c, k, ek, ekl), -EINVAL);
			set_coeff(ek, idx, 4095);
			CHECK_EQ(cry_mlkem_check_ek(p, ek, ekl), -EINVAL);
			memcpy(ek + 3 * (idx / 2), save, 3);
		}
		CHECK_EQ(cry_mlkem_check_ek(p, ek, ekl), 0);
	}
}

/* A modified ciphertext gives J(z || c'), not the real key; a modified hash
 * in dk fails the dk check and decaps. */
static void test_implicit_rejection(void)
{
	size_t i;

	for (i = 0; i < 3; i++) {
		enum cry_mlkem_param p = all_params[i];
		size_t ekl = cry_mlkem_ek_len(p), dkl = cry_mlkem_dk_len(p);
		size_t cl = cry_mlkem_ct_len(p);
		uint8_t ek[CRY_MLKEM_EK_MAX], dk[CRY_MLKEM_DK_MAX], c[CRY_MLKEM_CT_MAX];
		uint8_t k[32], k2[32], jz[32], zc[32 + CRY_MLKEM_CT_MAX];
		size_t pos;

		CHECK_EQ(cry_mlkem_keygen(p, ek, dk), 0);
		CHECK_EQ(cry_mlkem_encaps(p, c, k, ek, ekl), 0);
		for (pos = 0; pos < cl; pos += 1 + t_rng64(&rng_state) % 301) {
			uint8_t bit = (uint8_t)(1u << (t_rng64(&rng_state) % 8));

			c[pos] ^= bit;
			CHECK_EQ(cry_mlkem_decaps(p, k2, dk, dkl, c, cl), 0);
			memcpy(zc, dk + dkl - 32, 32);
			memcpy(zc + 32, c, cl);
			cry_shake256(jz, 32, zc, 32 + cl);
			CHECK_MEM(k2, jz, 32);
			CHECK(memcmp(k2, k, 32) != 0);
			c[pos] ^= bit;
		}
		CHECK_EQ(cry_mlkem_decaps(p, k2, dk, dkl, c, cl), 0);
		CHECK_MEM(k, k2, 32);
		/* the stored H(ek), then ek itself, changed inside dk */
		dk[dkl - 64] ^= 1;
		CHECK_EQ(cry_mlkem_check_dk(p, dk, dkl), -EINVAL);
		CHECK_EQ(cry_mlkem_decaps(p, k2, dk, dkl, c, cl), -EINVAL);
		dk[dkl - 64] ^= 1;
		dk[dkl - 64 - ekl + 5] ^= 0x10; /* a change to ek inside dk */
		CHECK_EQ(cry_mlkem_check_dk(p, dk, dkl), -EINVAL);
	}
}

static const struct t_case cases[] = {
	T(test_barrett_montgomery),
	T(test_compress_exact),
	T(test_zetas),
	T(test_ntt_schoolbook),
	T(test_sizes),
	T(test_acvp_keygen),
	T(test_acvp_encaps),
	T(test_acvp_decaps),
	T(test_acvp_keychecks),
	T(test_cctv_unlucky),
	T(test_cctv_intermediate),
	T(test_cctv_strcmp),
	T(test_cctv_modulus),
	T(test_accumulated),
	T(test_roundtrip_random),
	T(test_derand_deterministic),
	T(test_bad_lengths_and_args),
	T(test_modulus_check),
	T(test_implicit_rejection),
};

int main(void)
{
	return t_main("crypto-mlkem", cases, SC_ARRAY_SIZE(cases));
}
