/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_version.c - `ferry version`. */
#include <bpf/libbpf.h>
#include <stdio.h>

#include "cli/cli.h"
#include "ferry_wire.h"

#ifndef FERRY_BUILD_VERSION
#define FERRY_BUILD_VERSION "unknown"
#endif

static int cmd_version_run(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	/* liburing 2.3 has no version call; the build pins it (mk/sysroot.sh). */
	printf("ferry %s (wire protocol %d, libbpf %u.%u, liburing 2.3)\n", FERRY_BUILD_VERSION,
	       FERRY_VERSION, libbpf_major_version(), libbpf_minor_version());
	return CLI_EXIT_OK;
}

static const struct opt_def version_opts[] = { { 0 } };

const struct cmd_def cmd_version = {
	.name = "version", .args = "", .min_args = 0, .max_args = 0,
	.summary = "Print the version.", .opts = version_opts, .run = cmd_version_run,
};
