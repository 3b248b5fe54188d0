// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>

#include "common/ini.h"
#include "test.h"

static struct sc_ini *parse(const char *s, struct sc_ini_error *err)
{
	struct sc_ini *ini = NULL;

	if (sc_ini_parse(s, strlen(s), &ini, err))
		return NULL;
	return ini;
}

/* A wg-quick file: sections repeat, comments anywhere, whitespace trimmed,
 * CRLF accepted, '=' inside a value kept (base64 padding). */
static void test_wg_quick_file(void)
{
	static const char f[] = "# wg0\n"
				"[Interface]\r\n"
				"  PrivateKey =  yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=  \n"
				"Address = 10.0.0.1/24, fd00::1/64 # two\n"
				"\n"
				"[Peer]\n"
				"PublicKey=xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\n"
				"[ Peer ]\n"
				"AllowedIPs = 0.0.0.0/0\n";
	struct sc_ini *ini = parse(f, NULL);

	CHECK(ini != NULL);
	if (!ini)
		return;
	CHECK_EQ(ini->n, 4u);
	CHECK_EQ(ini->n_sections, 3u);
	CHECK(!strcmp(ini->entries[0].section, "Interface"));
	CHECK(!strcmp(ini->entries[0].value, "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="));
	CHECK_EQ(ini->entries[0].line, 3u);
	CHECK(!strcmp(ini->entries[1].value, "10.0.0.1/24, fd00::1/64"));
	CHECK(sc_ini_key_is(ini->entries[2].key, "publickey"));
	CHECK_EQ(ini->entries[2].section_n, 1u);
	CHECK_EQ(ini->entries[3].section_n, 2u);
	CHECK(!strcmp(ini->entries[3].section, "Peer"));
	sc_ini_free(ini);
}

/* Each bad file is refused with the line it failed on. */
static void test_refusals(void)
{
	static const struct {
		const char *text;
		unsigned int line;
	} bad[] = {
		{ "Key = v\n", 1 },		    /* before any section */
		{ "[Interface]\nnot a pair\n", 2 }, /* no '=' */
		{ "[Interface]\nKey =\n", 2 },	    /* empty value */
		{ "[Interface]\n = v\n", 2 },	    /* empty key */
		{ "[Interface]\nKe y = v\n", 2 },   /* space in key */
		{ "[Inter face]\n", 1 },	    /* space in section */
		{ "[Interface\nKey = v\n", 1 },	    /* no ']' */
		{ "[]\n", 1 },			    /* empty section */
		{ "[Interface]\nA = 1\n[Peer]\nB\n", 4 },
	};
	struct sc_ini_error err;
	struct sc_ini *ini;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&err, 0, sizeof(err));
		ini = (struct sc_ini *)1;
		CHECK_EQ(sc_ini_parse(bad[i].text, strlen(bad[i].text), &ini, &err), -EINVAL);
		CHECK(ini == (struct sc_ini *)1); /* untouched */
		CHECK_EQ(err.line, bad[i].line);
		CHECK(err.msg[0] != '\0');
	}
	/* A NUL byte anywhere. */
	CHECK_EQ(sc_ini_parse("[A]\nk = v\0x\n", 10, &ini, &err), -EINVAL);
}

static void test_caps(void)
{
	size_t n = SC_INI_LINE_MAX + 20;
	char *s = malloc(n + 1);
	struct sc_ini_error err;
	struct sc_ini *ini = NULL;

	memcpy(s, "[A]\nk = ", 8);
	memset(s + 8, 'x', n - 8);
	s[n] = '\0';
	CHECK_EQ(sc_ini_parse(s, n, &ini, &err), -EINVAL);
	CHECK_EQ(err.line, 2u);
	/* Exactly the longest allowed line is fine. */
	CHECK_EQ(sc_ini_parse(s, 4 + SC_INI_LINE_MAX, &ini, &err), 0);
	sc_ini_free(ini);
	free(s);
	CHECK_EQ(sc_ini_parse("", SC_INI_SIZE_MAX + 1, &ini, &err), -EINVAL);
	CHECK_EQ(err.line, 0u);
	/* An empty file and a comment-only file are valid and empty. */
	CHECK_EQ(sc_ini_parse("# x\n\n", 5, &ini, NULL), 0);
	CHECK_EQ(ini->n, 0u);
	sc_ini_free(ini);
}

static const struct t_case cases[] = {
	T(test_wg_quick_file),
	T(test_refusals),
	T(test_caps),
};

int main(void)
{
	return t_main("common-ini", cases, SC_ARRAY_SIZE(cases));
}
