/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * scopectl subcommands: one file per subcommand (or family), one entry in
 * the table below each. A command returns the process exit status: 0 on
 * success, 1 on misuse or failure, after writing a specific message to
 * stderr.
 */
#ifndef CTL_CTL_H
#define CTL_CTL_H

#include <stdio.h>

struct ctl_io {
	FILE *in;
	FILE *out;
	FILE *err;
};

struct ctl_cmd {
	const char *name;
	const char *usage;   /* arguments, shown after the name */
	const char *summary; /* one line */
	int (*run)(const struct ctl_io *io, int argc, char **argv);
};

/* The command table, terminated by an entry with name NULL. */
extern const struct ctl_cmd ctl_commands[];

/* Find a command by name; NULL if unknown. */
const struct ctl_cmd *ctl_find(const char *name);
/* Print the usage of every command. */
void ctl_usage(FILE *f, const char *prog);

int ctl_genkey(const struct ctl_io *io, int argc, char **argv);
int ctl_pubkey(const struct ctl_io *io, int argc, char **argv);
int ctl_genpsk(const struct ctl_io *io, int argc, char **argv);
/* The trust model (docs/certs.md); init is in net.c. */
int ctl_init(const struct ctl_io *io, int argc, char **argv);
int ctl_net(const struct ctl_io *io, int argc, char **argv);
int ctl_genid(const struct ctl_io *io, int argc, char **argv);
int ctl_idpub(const struct ctl_io *io, int argc, char **argv);
int ctl_cert(const struct ctl_io *io, int argc, char **argv);
int ctl_revoke(const struct ctl_io *io, int argc, char **argv);
int ctl_kill(const struct ctl_io *io, int argc, char **argv);
/* The running daemon, over its control socket (status.c). */
int ctl_status(const struct ctl_io *io, int argc, char **argv);

#endif
