// SPDX-License-Identifier: GPL-2.0-only
#include "ctl/ctl.h"

#include <string.h>

const struct ctl_cmd ctl_commands[] = {
	{ "genkey", "", "print a new WireGuard private key (as wg genkey)", ctl_genkey },
	{ "pubkey", "< private-key", "print the public key of a private key read from stdin",
	  ctl_pubkey },
	{ "genpsk", "", "print a new random preshared key (as wg genpsk)", ctl_genpsk },
	{ "init", "DIR --name N ...", "create a network: admin key and signed definition",
	  ctl_init },
	{ "net", "SUB ...", "network definition: inspect, update", ctl_net },
	{ "genid", "", "print a new node identity private key (Ed25519)", ctl_genid },
	{ "idpub", "< identity-key", "print the public key of an identity key read from stdin",
	  ctl_idpub },
	{ "cert", "SUB ...", "peer certificates: issue, inspect, verify", ctl_cert },
	{ "revoke", "SUB ...", "revocation list: add, inspect", ctl_revoke },
	{ "kill", "SUB ...", "kill switch: sign, inspect, verify", ctl_kill },
	{ "status", "[--json] [--interface IF]", "the running scoped: role, peers, paths",
	  ctl_status },
	{ NULL, NULL, NULL, NULL },
};

const struct ctl_cmd *ctl_find(const char *name)
{
	const struct ctl_cmd *c;

	for (c = ctl_commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

void ctl_usage(FILE *f, const char *prog)
{
	const struct ctl_cmd *c;

	fprintf(f, "usage: %s <command> [arguments]\n\ncommands:\n", prog);
	for (c = ctl_commands; c->name; c++)
		fprintf(f, "  %-8s %-16s %s\n", c->name, c->usage, c->summary);
}
