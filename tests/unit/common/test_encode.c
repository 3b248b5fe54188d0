// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>

#include "common/encode.h"
#include "test.h"

/* RFC 4648 section 10 vectors. */
static void test_b64_rfc4648(void)
{
	static const struct {
		const char *in, *out;
	} v[] = {
		{ "", "" },
		{ "f", "Zg==" },
		{ "fo", "Zm8=" },
		{ "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" },
		{ "fooba", "Zm9vYmE=" },
		{ "foobar", "Zm9vYmFy" },
	};
	char out[32];
	uint8_t back[16];
	size_t i;

	for (i = 0; i < SC_ARRAY_SIZE(v); i++) {
		size_t n = strlen(v[i].in);

		sc_b64_encode(out, (const uint8_t *)v[i].in, n);
		CHECK(strcmp(out, v[i].out) == 0);
		CHECK_EQ(sc_b64_decode(back, n, v[i].out, strlen(v[i].out)), 0);
		CHECK_MEM(back, v[i].in, n);
	}
}

/* Every byte value through every position survives a round trip, which
 * exercises all 64 characters of the branch-free mapping. */
static void test_b64_all_bytes(void)
{
	uint8_t in[256], back[256];
	char out[SC_B64_LEN(256) + 1];
	size_t n, i;

	for (i = 0; i < 256; i++)
		in[i] = (uint8_t)(i * 7 + 3);
	for (n = 0; n <= 256; n += 1) {
		sc_b64_encode(out, in, n);
		CHECK_EQ(strlen(out), SC_B64_LEN(n));
		CHECK_EQ(sc_b64_decode(back, n, out, strlen(out)), 0);
		CHECK_MEM(back, in, n);
	}
}

static void test_b64_rejects(void)
{
	uint8_t out[4] = { 0xaa, 0xaa, 0xaa, 0xaa };
	static const char *bad2[] = {
		"Zm8",	 /* short */
		"Zm8==", /* long */
		"Zm9=",	 /* non-canonical: trailing bits set under the padding */
		"Z!8=",	 /* bad character */
		"Zm8A",	 /* padding missing */
		"Z=8=",	 /* padding in the middle */
	};
	size_t i;

	for (i = 0; i < SC_ARRAY_SIZE(bad2); i++)
		CHECK_EQ(sc_b64_decode(out, 2, bad2[i], strlen(bad2[i])), -EINVAL);
	/* Nothing was written by the failures. */
	CHECK(out[0] == 0xaa && out[1] == 0xaa);
}

static void test_hex(void)
{
	const uint8_t in[] = { 0x00, 0x01, 0x7f, 0x80, 0xab, 0xff };
	uint8_t back[6] = { 0 };
	char out[13];

	sc_hex_encode(out, in, sizeof(in));
	CHECK(strcmp(out, "00017f80abff") == 0);
	CHECK_EQ(sc_hex_decode(back, 6, "00017F80ABff", 12), 0);
	CHECK_MEM(back, in, 6);
	CHECK_EQ(sc_hex_decode(back, 6, "00017f80abf", 11), -EINVAL);
	CHECK_EQ(sc_hex_decode(back, 6, "00017f80abfg", 12), -EINVAL);
	CHECK_EQ(sc_hex_decode(back, 1, "0x", 2), -EINVAL);
}

static const struct t_case cases[] = {
	T(test_b64_rfc4648),
	T(test_b64_all_bytes),
	T(test_b64_rejects),
	T(test_hex),
};

int main(void)
{
	return t_main("common-encode", cases, SC_ARRAY_SIZE(cases));
}
