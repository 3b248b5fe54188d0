// SPDX-License-Identifier: GPL-2.0-only
/* scopectl: the operator CLI. Arguments and wiring only; commands live in src/ctl. */
#include <stdio.h>
#include <string.h>

#include "ctl/ctl.h"

int main(int argc, char **argv)
{
	const struct ctl_io io = { stdin, stdout, stderr };
	const struct ctl_cmd *cmd;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
		ctl_usage(argc < 2 ? stderr : stdout, "scopectl");
		return argc < 2 ? 1 : 0;
	}
	cmd = ctl_find(argv[1]);
	if (!cmd) {
		fprintf(stderr, "scopectl: unknown command '%s' (try scopectl help)\n", argv[1]);
		return 1;
	}
	return cmd->run(&io, argc - 1, argv + 1);
}
