/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_objects.c - put, get, rm, ls, stat: named objects on a node.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_client.h"
#include "common/util.h"

static int cmd_put_run(int argc, char **argv)
{
	struct client *cl = cli_client_open("put");
	int rc = CLI_EXIT_OK;

	(void)argc;
	if (!cl)
		return CLI_EXIT_FAIL;
	if (client_obj_put_file(cl, argv[0], argv[1]))
		rc = cli_client_error("put", cl);
	client_close(cl);
	return rc;
}

static const struct opt_def put_opts[] = {
	CLI_CLIENT_OPTS,
	{ "chunk-size", 0, OPT_SIZE, &cli_client.chunk_size, "SIZE",
	  "bytes per chunk (default 4m)", NULL },
	{ 0 },
};

const struct cmd_def cmd_put = {
	.name = "put", .args = "FILE NAME", .min_args = 2, .max_args = 2,
	.summary = "Store FILE as the object NAME (replacing it atomically).",
	.opts = put_opts, .run = cmd_put_run,
};

static int cmd_get_run(int argc, char **argv)
{
	struct client *cl = cli_client_open("get");
	int rc = CLI_EXIT_OK;

	(void)argc;
	if (!cl)
		return CLI_EXIT_FAIL;
	if (client_obj_get_file(cl, argv[0], argv[1]))
		rc = cli_client_error("get", cl);
	client_close(cl);
	return rc;
}

static const struct opt_def client_opts[] = {
	CLI_CLIENT_OPTS,
	{ 0 },
};

const struct cmd_def cmd_get = {
	.name = "get", .args = "NAME OUT", .min_args = 2, .max_args = 2,
	.summary = "Fetch the object NAME into the file OUT (written whole or not at all).",
	.opts = client_opts, .run = cmd_get_run,
};

static int cmd_rm_run(int argc, char **argv)
{
	struct client *cl = cli_client_open("rm");
	int rc = CLI_EXIT_OK;

	if (!cl)
		return CLI_EXIT_FAIL;
	for (int i = 0; i < argc; i++)
		if (client_obj_rm(cl, argv[i]))
			rc = cli_client_error("rm", cl);
	client_close(cl);
	return rc;
}

const struct cmd_def cmd_rm = {
	.name = "rm", .args = "NAME...", .min_args = 1, .max_args = -1,
	.summary = "Remove objects.",
	.opts = client_opts, .run = cmd_rm_run,
};

static int cmd_ls_print(void *arg, const struct manifest *m)
{
	(void)arg;
	printf("%12llu  %s\n", (unsigned long long)m->size, m->name);
	return 0;
}

static int cmd_ls_chunks;

/* ls --chunks: the raw chunks one node holds ("id version size" lines). */
static int cmd_ls_chunks_run(struct client *cl)
{
	static struct ferry_list_entry ents[1024];
	uint8_t cursor[16] = { 0 };
	uint32_t n;

	do {
		if (client_chunk_list(cl, cursor, ents, 1024, &n))
			return cli_client_error("ls", cl);
		for (uint32_t i = 0; i < n; i++) {
			char hex[33];
			printf("%s %llu %llu\n", util_hex(ents[i].chunk, 16, hex),
			       (unsigned long long)ents[i].version, (unsigned long long)ents[i].size);
		}
	} while (n);
	return CLI_EXIT_OK;
}

static int cmd_ls_run(int argc, char **argv)
{
	struct client *cl = cli_client_open("ls");
	int rc = CLI_EXIT_OK;

	(void)argc;
	(void)argv;
	if (!cl)
		return CLI_EXIT_FAIL;
	if (cmd_ls_chunks) {
		if (!cli_client.node && !getenv("FERRY_NODE")) {
			fprintf(stderr, "ferry ls: --chunks lists one node: give --node ADDR:PORT\n");
			rc = CLI_EXIT_USAGE;
		} else {
			rc = cmd_ls_chunks_run(cl);
		}
		client_close(cl);
		return rc;
	}
	if (client_obj_list(cl, cmd_ls_print, NULL))
		rc = cli_client_error("ls", cl);
	client_close(cl);
	return rc;
}

static const struct opt_def ls_opts[] = {
	CLI_CLIENT_OPTS,
	{ "chunks", 0, OPT_FLAG, &cmd_ls_chunks, NULL,
	  "list the raw chunks of one node (id version size)", NULL },
	{ 0 },
};

const struct cmd_def cmd_ls = {
	.name = "ls", .args = "", .min_args = 0, .max_args = 0,
	.summary = "List objects (size and name), or one node's chunks.",
	.opts = ls_opts, .run = cmd_ls_run,
};

static int cmd_stat_node;

static int cmd_stat_run(int argc, char **argv)
{
	struct client *cl = cli_client_open("stat");
	int rc = CLI_EXIT_OK;

	if (!cl)
		return CLI_EXIT_FAIL;
	if (cmd_stat_node) {
		static char buf[65536];
		if (argc) {
			fprintf(stderr, "ferry stat: --node-stats takes no NAME\n");
			rc = CLI_EXIT_USAGE;
		} else if (client_node_stats(cl, buf, sizeof(buf))) {
			rc = cli_client_error("stat", cl);
		} else {
			fputs(buf, stdout);
		}
		client_close(cl);
		return rc;
	}
	if (argc != 1) {
		fprintf(stderr, "ferry stat: expected NAME (or --node-stats)\n");
		client_close(cl);
		return CLI_EXIT_USAGE;
	}
	struct manifest m;
	if (client_obj_stat(cl, argv[0], &m)) {
		rc = cli_client_error("stat", cl);
	} else {
		printf("name        %s\nsize        %llu\nchunks      %u\nchunk_size  %u\n"
		       "generation  %016llx\n",
		       m.name, (unsigned long long)m.size, m.nchunks, m.chunk_size,
		       (unsigned long long)m.generation);
	}
	client_close(cl);
	return rc;
}

static const struct opt_def stat_opts[] = {
	CLI_CLIENT_OPTS,
	{ "node-stats", 0, OPT_FLAG, &cmd_stat_node, NULL,
	  "print the node's counters instead", NULL },
	{ 0 },
};

const struct cmd_def cmd_stat = {
	.name = "stat", .args = "[NAME]", .min_args = 0, .max_args = 1,
	.summary = "Show an object's size and layout, or the node's counters.",
	.opts = stat_opts, .run = cmd_stat_run,
};
