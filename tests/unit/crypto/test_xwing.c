// SPDX-License-Identifier: GPL-2.0-only
#include "test.h"

static void test_todo(void)
{
	t_skip("being written");
}

static const struct t_case cases[] = { T(test_todo) };

int main(void)
{
	return t_main("crypto-xwing", cases, SC_ARRAY_SIZE(cases));
}
