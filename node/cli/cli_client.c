/* SPDX-License-Identifier: Apache-2.0 */
#include "cli/cli_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

struct cli_client_opts cli_client;

struct client *cli_client_open(const char *cmd)
{
	struct client_cfg cfg = { 0 };
	struct client *cl;
	int err;

	cfg.node = cli_client.node ? cli_client.node : getenv("FERRY_NODE");
	if (!cfg.node || !*cfg.node) {
		fprintf(stderr, "ferry %s: no node given (use --node ADDR:PORT or FERRY_NODE)\n",
			cmd);
		return NULL;
	}
	cfg.timeout_ms = cli_client.timeout_ms;
	cfg.concurrency = cli_client.concurrency;
	cfg.mtu = cli_client.mtu;
	if (cli_client.chunk_size > (64u << 20) || (cli_client.chunk_size &&
						    cli_client.chunk_size < 4096)) {
		fprintf(stderr, "ferry %s: --chunk-size must be between 4k and 64m\n", cmd);
		return NULL;
	}
	cfg.chunk_size = (uint32_t)cli_client.chunk_size;
	err = client_open(&cfg, &cl);
	if (err == -EINVAL) {
		fprintf(stderr, "ferry %s: bad node address '%s' (expected IP:PORT)\n", cmd,
			cfg.node);
		return NULL;
	}
	if (err) {
		fprintf(stderr, "ferry %s: cannot open a client: %s\n", cmd, strerror(-err));
		return NULL;
	}
	return cl;
}

int cli_client_error(const char *cmd, struct client *cl)
{
	fprintf(stderr, "ferry %s: %s\n", cmd, client_errmsg(cl));
	return CLI_EXIT_FAIL;
}
