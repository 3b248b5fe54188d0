/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Scope's unit-test harness: one header, TAP output (meson reads it with
 * protocol: 'tap').
 *
 *	static void test_thing(void) { CHECK(1 + 1 == 2); }
 *	static const struct t_case cases[] = { T(test_thing) };
 *	int main(void) { return t_main("suite", cases, SC_ARRAY_SIZE(cases)); }
 *
 * A case fails if any CHECK in it fails; t_skip() marks it skipped (used when
 * ../shared/vectors is absent). Every run ends with a line
 * "# suite: N passed, M failed, K skipped" that .ci/run adds up.
 */
#ifndef SCOPE_TEST_H
#define SCOPE_TEST_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/compiler.h"

struct t_case {
	const char *name;
	void (*fn)(void);
};

#define T(fn)           \
	{               \
#fn, fn \
	}

struct t_state {
	unsigned int failed_checks;
	int skipped;
	char skip_reason[160];
};

static struct t_state t_cur;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "# %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
			t_cur.failed_checks++;                                                     \
		}                                                                                  \
	} while (0)

#define CHECK_EQ(a, b)                                                                      \
	do {                                                                                \
		long long _a = (long long)(a), _b = (long long)(b);                         \
		if (_a != _b) {                                                             \
			fprintf(stderr, "# %s:%d: CHECK_EQ(%s, %s) failed: %lld != %lld\n", \
				__FILE__, __LINE__, #a, #b, _a, _b);                        \
			t_cur.failed_checks++;                                              \
		}                                                                           \
	} while (0)

#define CHECK_MEM(a, b, n)                                                                         \
	do {                                                                                       \
		if (memcmp((a), (b), (n)) != 0) {                                                  \
			fprintf(stderr, "# %s:%d: CHECK_MEM(%s, %s) failed\n", __FILE__, __LINE__, \
				#a, #b);                                                           \
			t_cur.failed_checks++;                                                     \
		}                                                                                  \
	} while (0)

__attribute__((format(printf, 1, 2))) SC_UNUSED static void t_skip(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t_cur.skip_reason, sizeof(t_cur.skip_reason), fmt, ap);
	va_end(ap);
	t_cur.skipped = 1;
}

/* Path of a file under ../shared/vectors, or NULL (and the case skipped) if absent. */
SC_UNUSED static const char *t_vector(const char *rel)
{
	static char path[1024];
	const char *base = getenv("SCOPE_VECTORS");
	FILE *f;

	if (!base)
		base = "../shared/vectors";
	snprintf(path, sizeof(path), "%s/%s", base, rel);
	f = fopen(path, "rb");
	if (!f) {
		t_skip("vector file %s absent", path);
		return NULL;
	}
	fclose(f);
	return path;
}

/* Read a whole file into a NUL-terminated heap buffer (caller frees). */
SC_UNUSED static char *t_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0, r;

	if (!f)
		return NULL;
	do {
		if (cap - n < 65536) {
			char *nb = realloc(buf, cap + 65536 * 4 + 1);

			if (!nb) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
			cap += 65536 * 4;
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
	} while (r > 0);
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

/* Decode hex into a fresh heap buffer; returns NULL on bad hex. */
SC_UNUSED static unsigned char *t_unhex(const char *hex, size_t *len)
{
	size_t n = strlen(hex), i;
	unsigned char *out;

	if (n % 2)
		return NULL;
	out = malloc(n / 2 + 1);
	if (!out)
		return NULL;
	for (i = 0; i < n / 2; i++) {
		unsigned int v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1) {
			free(out);
			return NULL;
		}
		out[i] = (unsigned char)v;
	}
	if (len)
		*len = n / 2;
	return out;
}

/* Deterministic test data (splitmix64): reproducible failures, no rand(). */
SC_UNUSED static uint64_t t_rng64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

SC_UNUSED static void t_rng_fill(uint64_t *state, uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)t_rng64(state);
}

/* Hex value of "key": "..." in [obj, end) (end may be NULL) of a vector
 * JSON file, decoded into a fresh buffer (caller frees), or NULL. */
SC_UNUSED static uint8_t *t_json_hex(const char *obj, const char *end, const char *key, size_t *len)
{
	char pat[32], *hex;
	const char *p, *q;
	uint8_t *out;

	snprintf(pat, sizeof(pat), "\"%s\": \"", key);
	p = strstr(obj, pat);
	if (!p || (end && p >= end))
		return NULL;
	p += strlen(pat);
	q = strchr(p, '"');
	if (!q)
		return NULL;
	hex = strndup(p, (size_t)(q - p));
	out = hex ? t_unhex(hex, len) : NULL;
	free(hex);
	return out;
}

SC_UNUSED static int t_main(const char *suite, const struct t_case *cases, size_t n)
{
	unsigned int pass = 0, fail = 0, skip = 0;
	const char *only = getenv("T_ONLY");
	size_t i;

	printf("1..%zu\n", n);
	for (i = 0; i < n; i++) {
		memset(&t_cur, 0, sizeof(t_cur));
		if (only && strcmp(only, cases[i].name) != 0) {
			printf("ok %zu - %s # SKIP not selected by T_ONLY\n", i + 1, cases[i].name);
			skip++;
			continue;
		}
		cases[i].fn();
		if (t_cur.failed_checks) {
			printf("not ok %zu - %s\n", i + 1, cases[i].name);
			fail++;
		} else if (t_cur.skipped) {
			printf("ok %zu - %s # SKIP %s\n", i + 1, cases[i].name, t_cur.skip_reason);
			skip++;
		} else {
			printf("ok %zu - %s\n", i + 1, cases[i].name);
			pass++;
		}
		fflush(stdout);
	}
	printf("# %s: %u passed, %u failed, %u skipped\n", suite, pass, fail, skip);
	return fail ? 1 : 0;
}

#endif
