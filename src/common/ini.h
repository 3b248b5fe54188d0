/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * INI files in the dialect wg-quick(8) reads, for scoped's configuration:
 *
 *	# comment            (a '#' anywhere starts a comment, as in wg-quick)
 *	[Interface]          section names: letters, digits, '_' and '-'
 *	PrivateKey = ...     key = value; whitespace around both is trimmed
 *	[Peer]               sections may repeat (one per peer)
 *	PublicKey = ...
 *
 * The parser only splits: it knows no keys. It is all-or-nothing: any bad
 * line fails the whole file with its line number and a reason, and nothing
 * is returned. Refused: a key before the first section, a line that is
 * neither section, key=value nor comment, an empty key or value, a NUL
 * byte, a line longer than SC_INI_LINE_MAX, more than SC_INI_ENTRIES_MAX
 * entries, a file over SC_INI_SIZE_MAX. Keys compare case-insensitively
 * (wg-quick does), so sc_ini_key_is() is the way to match them.
 *
 * Values may be secrets (private keys): sc_ini_free() wipes the text.
 */
#ifndef SC_INI_H
#define SC_INI_H

#include <stdbool.h>
#include <stddef.h>

#define SC_INI_SIZE_MAX	   (1u << 20)
#define SC_INI_LINE_MAX	   4096
#define SC_INI_ENTRIES_MAX 65536
#define SC_INI_ERR_LEN	   128

struct sc_ini_entry {
	const char *section;	/* as written, e.g. "Peer" */
	unsigned int section_n; /* 0 for the first section of the file, 1 for the next... */
	const char *key;
	const char *value;
	unsigned int line; /* 1-based, for error messages of the caller */
};

struct sc_ini {
	struct sc_ini_entry *entries;
	size_t n;
	size_t n_sections;
	char *text; /* owned copy the entries point into */
	size_t text_len;
};

struct sc_ini_error {
	unsigned int line; /* 0: not about one line (size, memory) */
	char msg[SC_INI_ERR_LEN];
};

/* Parse len bytes of text. 0 with *out set, or -EINVAL (err says where and
 * why) or -ENOMEM. err may be NULL. */
int sc_ini_parse(const char *text, size_t len, struct sc_ini **out, struct sc_ini_error *err);
/* Wipe and free. NULL ok. */
void sc_ini_free(struct sc_ini *ini);
/* Case-insensitive key (or section name) comparison. */
bool sc_ini_key_is(const char *key, const char *name);

#endif
