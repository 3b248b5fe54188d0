// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>

#include "common/parse.h"
#include "test.h"

static void test_parse_u64(void)
{
	static const struct {
		const char *s;
		uint64_t min, max;
		int ret;
		uint64_t v;
	} v[] = {
		{ "0", 0, 10, 0, 0 },
		{ "10", 0, 10, 0, 10 },
		{ "11", 0, 10, -ERANGE, 0 },
		{ "18446744073709551615", 0, UINT64_MAX, 0, UINT64_MAX },
		{ "18446744073709551616", 0, UINT64_MAX, -ERANGE, 0 },
		{ "", 0, 10, -EINVAL, 0 },
		{ "-1", 0, 10, -EINVAL, 0 },
		{ "+1", 0, 10, -EINVAL, 0 },
		{ " 1", 0, 10, -EINVAL, 0 },
		{ "1 ", 0, 10, -EINVAL, 0 },
		{ "01", 0, 10, -EINVAL, 0 },
		{ "0x1", 0, 10, -EINVAL, 0 },
		{ "5", 6, 10, -ERANGE, 0 },
	};
	size_t i;

	for (i = 0; i < SC_ARRAY_SIZE(v); i++) {
		uint64_t out = 12345;
		int ret = sc_parse_u64(v[i].s, v[i].min, v[i].max, &out);

		CHECK_EQ(ret, v[i].ret);
		if (ret == 0)
			CHECK(out == v[i].v);
		else
			CHECK(out == 12345);
	}
}

static const struct t_case cases[] = {
	T(test_parse_u64),
};

int main(void)
{
	return t_main("common-parse", cases, SC_ARRAY_SIZE(cases));
}
