/* SPDX-License-Identifier: Apache-2.0 */
#include "cli/cli.h"

#include <stdio.h>

int cli_run(const struct cmd_def *cmd, int argc, char **argv)
{
	char **pos;
	int npos;
	int r = opt_parse(cmd, argc, argv, &pos, &npos);

	if (r == 1)
		return CLI_EXIT_OK; /* --help */
	if (r < 0)
		return CLI_EXIT_USAGE;
	return cmd->run(npos, pos);
}
