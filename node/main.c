/* SPDX-License-Identifier: Apache-2.0 */
/*
 * main.c - the ferry binary: one entry, many subcommands.
 *
 * As PID 1 (the node image's /init) it becomes the init process; otherwise
 * argv[1] names a subcommand from cli_commands[].
 */
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/util.h"
#include "init/init.h"

static const struct cmd_def *const cli_commands[] = {
	&cmd_node, &cmd_ctl, &cmd_status, &cmd_lost, &cmd_put, &cmd_get, &cmd_rm, &cmd_ls, &cmd_stat,
	&cmd_format, &cmd_fsck,
	&cmd_bench, &cmd_version,
	&cmd_fault, /* test tool: fault injection on an interface */
};

static void main_usage(FILE *f)
{
	fprintf(f, "usage: ferry COMMAND [OPTIONS] [ARGS]\n\n"
		   "Ferry: a distributed chunk store whose nodes own their disks through\n"
		   "io_uring and their NIC queues through AF_XDP.\n\ncommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(cli_commands); i++)
		fprintf(f, "  %-10s %s\n", cli_commands[i]->name, cli_commands[i]->summary);
	fprintf(f, "\nRun 'ferry COMMAND --help' for a command's options.\n");
}

/* PID 1 of the node image: executed by the kernel as /init. (PID 1 of a test's
 * PID namespace runs subcommands as usual: it was not executed as /init.) */
static int main_is_init(void)
{
	const char *fn = (const char *)getauxval(AT_EXECFN);

	return getpid() == 1 && fn && strcmp(fn, "/init") == 0;
}

int main(int argc, char **argv)
{
	if (main_is_init())
		init_main(argc, argv); /* never returns */
	if (argc < 2) {
		main_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		main_usage(stdout);
		return CLI_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0)
		argv[1] = (char *)"version";
	for (size_t i = 0; i < ARRAY_SIZE(cli_commands); i++)
		if (strcmp(argv[1], cli_commands[i]->name) == 0)
			return cli_run(cli_commands[i], argc - 1, argv + 1);
	fprintf(stderr, "ferry: unknown command '%s' (see ferry --help)\n", argv[1]);
	return CLI_EXIT_USAGE;
}
