/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the trust-model commands (init, cert, revoke, kill) share: reading
 * capped files, writing files atomically, key and record files, and error
 * messages. Files are written to a temporary name in the same directory and
 * then linked (new files: never overwriting) or renamed (replacements) into
 * place, so a reader sees the old file or the whole new one, and an error
 * leaves nothing behind.
 */
#ifndef CTL_FILES_H
#define CTL_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ctl/ctl.h"

struct proto_netdef;

/* File names inside a network directory made by scopectl init. */
#define CTL_ADMIN_KEY "admin.key"
#define CTL_ADMIN_PUB "admin.pub"
#define CTL_NETWORK   "network.scope"
#define CTL_REVOKED   "revoked.scope"

/* Print "cmd: message" on io->err; returns 1 (the exit status). */
__attribute__((format(printf, 3, 4))) int ctl_fail(const struct ctl_io *io, const char *cmd,
						   const char *fmt, ...);

/* Wall-clock Unix seconds. */
uint64_t ctl_now(void);

/* Read a whole file ("-": io->in) of at most max bytes into a fresh buffer
 * with a NUL after it. 0, -EFBIG, -ENOMEM or -errno of open/read. */
int ctl_read_file(const struct ctl_io *io, const char *path, size_t max, uint8_t **out,
		  size_t *len);
/* Write data atomically with the given mode. Without replace, an existing
 * path is refused with -EEXIST. 0 or -errno; on error nothing is left. */
int ctl_write_file(const char *path, const void *data, size_t len, mode_t mode, bool replace);
/* dir + "/" + name into out[cap]. 0 or -ENAMETOOLONG. */
int ctl_path(char *out, size_t cap, const char *dir, const char *name);

/* A 32-byte key from 44 base64 characters. 0 or -EINVAL. */
int ctl_parse_key(const char *s, uint8_t key[32]);
/* A private key file: 44 base64 characters and an optional newline, not
 * readable by group or others (-EPERM). 0 or -errno. */
int ctl_read_seed(const char *path, uint8_t seed[32]);
/* A Unix time in seconds. 0 or -EINVAL. */
int ctl_parse_time(const char *s, uint64_t *out);

/* Read an armored record file of the given type into a fresh buffer.
 * On error a message is printed and 1 returned. */
int ctl_read_record(const struct ctl_io *io, const char *cmd, const char *path, uint8_t type,
		    uint8_t **bin, size_t *len);
/* Armor a record to path (new file, mode 0644) or to io->out if path is
 * NULL. Prints a message and returns 1 on error. */
int ctl_write_record(const struct ctl_io *io, const char *cmd, const char *path, const uint8_t *bin,
		     size_t len, bool replace);

/* Load and verify a network definition: self-signed, and by pin if given.
 * Prints a message and returns 1 on error. */
int ctl_load_netdef(const struct ctl_io *io, const char *cmd, const char *path, const uint8_t *pin,
		    struct proto_netdef *n);
/* Load DIR/admin.key and DIR/network.scope and check that the key is the
 * network's admin key. Prints a message and returns 1 on error. */
int ctl_load_admin(const struct ctl_io *io, const char *cmd, const char *dir, uint8_t seed[32],
		   struct proto_netdef *n);

/* Load a revocation list and verify it against net. Prints a message and
 * returns 1 on error. */
struct proto_revoke;
int ctl_load_revoke(const struct ctl_io *io, const char *cmd, const char *path,
		    const struct proto_netdef *net, struct proto_revoke **out);

/* "2025-06-15T12:00:00Z" */
void ctl_format_time(char out[32], uint64_t t);

/* Arguments of the inspect subcommands: [--json] FILE ("-": stdin).
 * 0, or 1 after a message. */
int ctl_inspect_args(const struct ctl_io *io, const char *cmd, int argc, char **argv, int *json,
		     const char **path);

/* Print a JSON object (a json_t *, consumed) on io->out. 0 or 1. */
int ctl_print_json(const struct ctl_io *io, const char *cmd, void *json);

#endif
