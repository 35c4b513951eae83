/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli.h - the subcommands of the ferry binary.
 *
 * Each command lives in node/cli/cmd_<name>.c and defines one
 * `const struct cmd_def cmd_<name>` (see common/opt.h); node/main.c lists
 * them in cli_commands[]. Commands print; nothing below them does.
 * Exit codes: 0 success, 1 operation failed, 2 usage error.
 */
#ifndef FERRY_CLI_H
#define FERRY_CLI_H

#include "common/opt.h"

#define CLI_EXIT_OK    0
#define CLI_EXIT_FAIL  1
#define CLI_EXIT_USAGE 2

extern const struct cmd_def cmd_node, cmd_put, cmd_get, cmd_rm, cmd_ls, cmd_stat,
	cmd_version, cmd_format, cmd_fsck, cmd_fault, cmd_bench, cmd_ctl, cmd_status, cmd_lost;

/* cli_run - parse argv against cmd and run it; returns the exit code. */
int cli_run(const struct cmd_def *cmd, int argc, char **argv);

#endif
