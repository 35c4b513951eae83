/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_fsck.c - `ferry fsck --disk PATH`: verify both superblocks, every
 * record, every block checksum and the allocation (store_fsck). Problems are
 * logged one per line; exit 0 when clean, 1 otherwise.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "storage/store.h"

static const char *fsck_disk; /* --disk */

static int cmd_fsck_run(int argc, char **argv)
{
	struct store_fsck_report rep;
	int ret;

	(void)argc;
	(void)argv;
	if (!fsck_disk) {
		fprintf(stderr, "fsck: --disk is required\n");
		return CLI_EXIT_USAGE;
	}
	ret = store_fsck(fsck_disk, &rep);
	if (ret < 0) {
		fprintf(stderr, "fsck: %s: cannot check: %s\n", fsck_disk, strerror(-ret));
		return CLI_EXIT_FAIL;
	}
	printf("chunks %llu\nblocks_used %llu\nslots_used %llu\nleftover_records %llu\n"
	       "problems %llu\n",
	       (unsigned long long)rep.chunks, (unsigned long long)rep.blocks_used,
	       (unsigned long long)rep.slots_used, (unsigned long long)rep.stale,
	       (unsigned long long)rep.problems);
	if (rep.stale)
		printf("note: %llu leftover records of an interrupted write; the next open "
		       "erases them\n", (unsigned long long)rep.stale);
	if (ret > 0) {
		fprintf(stderr, "fsck: %s: %d problems\n", fsck_disk, ret);
		return CLI_EXIT_FAIL;
	}
	return CLI_EXIT_OK;
}

static const struct opt_def fsck_opts[] = {
	{ "disk", 'd', OPT_STR, &fsck_disk, "PATH", "block device or file to check" },
	{ 0 }
};

const struct cmd_def cmd_fsck = {
	.name = "fsck", .args = "", .min_args = 0, .max_args = 0,
	.summary = "Check a chunk store disk (superblocks, records, checksums, space).",
	.opts = fsck_opts, .run = cmd_fsck_run,
};
