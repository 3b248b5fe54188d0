// SPDX-License-Identifier: GPL-2.0-only
#include "common/jsondepth.h"
#include "test.h"

static unsigned depth(const char *s, unsigned max)
{
	return sc_json_depth(s, strlen(s), max);
}

static void test_depths(void)
{
	CHECK_EQ(depth("", 8), 0u);
	CHECK_EQ(depth("42", 8), 0u);
	CHECK_EQ(depth("{}", 8), 1u);
	CHECK_EQ(depth("{\"a\":[1,{\"b\":[]}]}", 8), 4u);
	CHECK_EQ(depth("[][][]", 8), 1u);
	/* Brackets in strings do not count; escaped quotes do not end them. */
	CHECK_EQ(depth("[\"[[[[\"]", 8), 1u);
	CHECK_EQ(depth("[\"\\\"[[[\"]", 8), 1u);
	CHECK_EQ(depth("[\"\\\\\",[[]]]", 8), 3u);
	/* Stray closers never go below zero. */
	CHECK_EQ(depth("]]]][", 8), 1u);
}

/* Past max the scan stops and says max + 1, however deep the text. */
static void test_cap(void)
{
	static char deep[100001];

	memset(deep, '[', sizeof(deep) - 1);
	CHECK_EQ(sc_json_depth(deep, sizeof(deep) - 1, 8), 9u);
	CHECK_EQ(depth("[[[[[[[[]]]]]]]]", 8), 8u);
	CHECK_EQ(depth("[[[[[[[[[]]]]]]]]]", 8), 9u);
}

static const struct t_case cases[] = {
	T(test_depths),
	T(test_cap),
};

int main(void)
{
	return t_main("common-jsondepth", cases, SC_ARRAY_SIZE(cases));
}
