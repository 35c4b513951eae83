/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_format.c - `ferry format --disk PATH --cluster UUID [--node UUID]
 * [--max-chunk SIZE]`: write an empty store (format v1, see
 * storage/store_format.h) and print the UUIDs it carries.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "common/util.h"
#include "storage/store.h"

static const char *format_disk;    /* --disk */
static const char *format_cluster; /* --cluster */
static const char *format_node;    /* --node */
static uint64_t format_max_chunk;  /* --max-chunk */

static int cmd_format_run(int argc, char **argv)
{
	struct store_format_cfg cfg;
	struct store_cfg ocfg = { 0 };
	struct store_info info;
	struct store *s;
	char a[37], b[37], c[37];
	int ret;

	(void)argc;
	(void)argv;
	memset(&cfg, 0, sizeof(cfg));
	if (!format_disk || !format_cluster) {
		fprintf(stderr, "format: --disk and --cluster are required\n");
		return CLI_EXIT_USAGE;
	}
	if (util_uuid_parse(format_cluster, cfg.cluster) < 0) {
		fprintf(stderr, "format: --cluster %s is not a UUID\n", format_cluster);
		return CLI_EXIT_USAGE;
	}
	if (format_node) {
		if (util_uuid_parse(format_node, cfg.node) < 0) {
			fprintf(stderr, "format: --node %s is not a UUID\n", format_node);
			return CLI_EXIT_USAGE;
		}
	} else if (util_uuid_random(cfg.node) < 0) {
		fprintf(stderr, "format: cannot generate a node UUID\n");
		return CLI_EXIT_FAIL;
	}
	if (format_max_chunk > 64u << 20 || (format_max_chunk && format_max_chunk < 4096)) {
		fprintf(stderr, "format: --max-chunk must be between 4k and 64m\n");
		return CLI_EXIT_USAGE;
	}
	cfg.max_chunk = (uint32_t)format_max_chunk;
	ret = store_format(format_disk, &cfg);
	if (ret < 0) {
		fprintf(stderr, "format: %s: %s\n", format_disk, strerror(-ret));
		return CLI_EXIT_FAIL;
	}
	/* Read it back: proves the format opens, and gives the disk UUID. */
	ocfg.path = format_disk;
	ocfg.read_only = 1;
	ocfg.queue_depth = 8;
	ret = store_open(&ocfg, &s);
	if (ret < 0) {
		fprintf(stderr, "format: %s: written but does not open: %s\n", format_disk,
			strerror(-ret));
		return CLI_EXIT_FAIL;
	}
	store_get_info(s, &info);
	store_close(s);
	printf("cluster %s\nnode %s\ndisk %s\ncapacity %llu\nmax_chunk %u\n",
	       util_uuid_format(info.cluster, a), util_uuid_format(info.node, b),
	       util_uuid_format(info.disk, c), (unsigned long long)info.capacity, info.max_chunk);
	return CLI_EXIT_OK;
}

static const struct opt_def format_opts[] = {
	{ "disk", 'd', OPT_STR, &format_disk, "PATH", "block device or file to format" },
	{ "cluster", 'c', OPT_STR, &format_cluster, "UUID", "cluster UUID" },
	{ "node", 'n', OPT_STR, &format_node, "UUID", "node UUID (default: random)" },
	{ "max-chunk", 0, OPT_SIZE, &format_max_chunk, "SIZE", "largest chunk (default 4m)" },
	{ 0 }
};

const struct cmd_def cmd_format = {
	.name = "format", .args = "", .min_args = 0, .max_args = 0,
	.summary = "Write an empty chunk store to a disk.", .opts = format_opts,
	.run = cmd_format_run,
};
