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

	/* --node, --ctl, $FERRY_NODE, $FERRY_CTL: the first given wins. */
	cfg.node = cli_client.node;
	cfg.ctl = cli_client.ctl;
	if (!cfg.node && !cfg.ctl) {
		cfg.node = getenv("FERRY_NODE");
		if (!cfg.node || !*cfg.node) {
			cfg.node = NULL;
			cfg.ctl = getenv("FERRY_CTL");
		}
	}
	if ((!cfg.node || !*cfg.node) && (!cfg.ctl || !*cfg.ctl)) {
		fprintf(stderr, "ferry %s: no node or ctl given (use --node ADDR:PORT, --ctl "
				"ADDR:PORT, FERRY_NODE or FERRY_CTL)\n", cmd);
		return NULL;
	}
	if (cfg.node && cfg.ctl && cli_client.node)
		cfg.ctl = NULL; /* --node: that one node */
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
		fprintf(stderr, "ferry %s: bad %s address '%s' (expected IP:PORT)\n", cmd,
			cfg.node ? "node" : "ctl", cfg.node ? cfg.node : cfg.ctl);
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
