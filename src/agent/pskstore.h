/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The PSK files of the key-exchange driver (agent/kexd.h, docs/pq.md "The
 * driver"): state_dir/psk/ (mode 0700), one file per peer, named by the
 * peer's certificate name ([a-z0-9][a-z0-9_-]*, never "." or "..", so a
 * safe file name), mode 0600, replaced atomically (temporary file, fsync,
 * rename, fsync of the directory).
 *
 * A small text format, one field a line, in this order and nothing else:
 *
 *	scope-psk 1
 *	peer <the peer's WireGuard key, base64>
 *	max <highest version used>
 *	confirmed <highest version confirmed>
 *	working <last version traffic proved, 0: none>
 *	psk <version> <installed, wall ns since the epoch> <key, base64>
 *	... (0..POL_PSK_KEEP_MAX psk lines, oldest first)
 *
 * Parsing is all-or-nothing and checks what pol_psk_restore will (versions
 * strictly increasing, working among them, newest <= confirmed <= max);
 * the caller still compares the peer key with the certificate's. Keys are
 * secret: every buffer that held the text or a key is wiped.
 */
#ifndef AGENT_PSKSTORE_H
#define AGENT_PSKSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "policy/pskver.h"
#include "proto/limits.h"

#define KEXD_STORE_DIR	    "psk"
#define KEXD_STORE_FILE_MAX 1024 /* a full file is about 600 bytes */

struct kexd_store_psk {
	uint64_t version;
	uint64_t installed_ns; /* wall clock */
	uint8_t key[PROTO_KEX_PSK_LEN];
};

struct kexd_store_file {
	uint8_t wg[PROTO_KEY_LEN];
	uint64_t max_v, confirmed, working;
	size_t n;
	struct kexd_store_psk psk[POL_PSK_KEEP_MAX]; /* oldest first */
};

/* Create (if missing) state_dir and state_dir/psk with mode 0700, tighten
 * an existing psk directory that is looser, and open it. 0 and *dfd,
 * -EPERM (owned by another user), or the errno of mkdir/open. */
int kexd_store_open(const char *state_dir, int *dfd);
/* The text of f. 0, -EINVAL (f breaks the rules above), -ENOBUFS. */
int kexd_store_format(const struct kexd_store_file *f, char *out, size_t cap, size_t *len);
/* Parse in[0, len). 0, or -EINVAL; *out is written only on success. */
int kexd_store_parse(const char *in, size_t len, struct kexd_store_file *out);
/* Read and parse the file of peer name in dfd. 0, -ENOENT, -EINVAL (not a
 * regular file, malformed), -EFBIG, or an I/O errno. */
int kexd_store_load(int dfd, const char *name, struct kexd_store_file *out);
/* Replace the file of peer name. 0, -EINVAL, or an I/O errno; on error the
 * previous file stays. */
int kexd_store_save(int dfd, const char *name, const struct kexd_store_file *f);

#endif
