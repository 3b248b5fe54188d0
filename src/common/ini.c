// SPDX-License-Identifier: GPL-2.0-only
#include "common/ini.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int fail(struct sc_ini_error *err, unsigned int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct sc_ini_error *err, unsigned int line, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		err->line = line;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static bool is_name_char(char c, bool section)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || (section && c == '-');
}

static bool valid_name(const char *s, bool section)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!is_name_char(*s, section))
			return false;
	return true;
}

/* Trim s in place (it is NUL-terminated within the owned copy). */
static char *trim(char *s)
{
	char *e = s + strlen(s);

	while (is_space(*s))
		s++;
	while (e > s && is_space(e[-1]))
		*--e = '\0';
	return s;
}

struct parser {
	struct sc_ini *ini;
	struct sc_ini_error *err;
	const char *section;
	unsigned int line;
	size_t cap;
};

static int add_entry(struct parser *p, const char *key, const char *value)
{
	struct sc_ini *ini = p->ini;

	if (ini->n == SC_INI_ENTRIES_MAX)
		return fail(p->err, p->line, "more than %u entries", SC_INI_ENTRIES_MAX);
	if (ini->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		struct sc_ini_entry *e = realloc(ini->entries, cap * sizeof(*e));

		if (!e)
			return -ENOMEM;
		ini->entries = e;
		p->cap = cap;
	}
	ini->entries[ini->n++] = (struct sc_ini_entry){
		.section = p->section,
		.section_n = (unsigned int)ini->n_sections - 1,
		.key = key,
		.value = value,
		.line = p->line,
	};
	return 0;
}

static int parse_line(struct parser *p, char *s)
{
	char *hash = strchr(s, '#'), *eq;

	if (hash)
		*hash = '\0';
	s = trim(s);
	if (!*s)
		return 0;
	if (*s == '[') {
		char *end = s + strlen(s) - 1;

		if (*end != ']')
			return fail(p->err, p->line, "section header without ']'");
		*end = '\0';
		s = trim(s + 1);
		if (!valid_name(s, true))
			return fail(p->err, p->line, "invalid section name");
		p->section = s;
		p->ini->n_sections++;
		return 0;
	}
	eq = strchr(s, '=');
	if (!eq)
		return fail(p->err, p->line, "expected 'Key = Value' or '[Section]'");
	if (!p->section)
		return fail(p->err, p->line, "key before the first [Section]");
	*eq = '\0';
	s = trim(s);
	if (!valid_name(s, false))
		return fail(p->err, p->line, "invalid key name");
	eq = trim(eq + 1);
	if (!*eq)
		return fail(p->err, p->line, "'%s' has no value", s);
	return add_entry(p, s, eq);
}

static int parse_all(struct parser *p)
{
	char *s = p->ini->text, *end = s + p->ini->text_len;
	int r;

	while (s < end) {
		char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);

		p->line++;
		if (n > SC_INI_LINE_MAX)
			return fail(p->err, p->line, "line longer than %u bytes", SC_INI_LINE_MAX);
		s[n] = '\0'; /* the copy has one spare byte at the end */
		r = parse_line(p, s);
		if (r)
			return r;
		s += n + 1;
	}
	return 0;
}

int sc_ini_parse(const char *text, size_t len, struct sc_ini **out, struct sc_ini_error *err)
{
	struct parser p = { .err = err };
	struct sc_ini *ini;
	int r;

	if (len > SC_INI_SIZE_MAX)
		return fail(err, 0, "file larger than %u bytes", SC_INI_SIZE_MAX);
	if (memchr(text, '\0', len))
		return fail(err, 0, "NUL byte in the file");
	ini = calloc(1, sizeof(*ini));
	if (!ini)
		return -ENOMEM;
	ini->text = malloc(len + 1);
	if (!ini->text) {
		free(ini);
		return -ENOMEM;
	}
	memcpy(ini->text, text, len);
	ini->text[len] = '\0';
	ini->text_len = len;
	p.ini = ini;
	r = parse_all(&p);
	if (r) {
		if (r == -ENOMEM && err)
			fail(err, 0, "out of memory");
		sc_ini_free(ini);
		return r;
	}
	*out = ini;
	return 0;
}

void sc_ini_free(struct sc_ini *ini)
{
	if (!ini)
		return;
	explicit_bzero(ini->text, ini->text_len + 1);
	free(ini->text);
	free(ini->entries);
	free(ini);
}

bool sc_ini_key_is(const char *key, const char *name)
{
	return strcasecmp(key, name) == 0;
}
