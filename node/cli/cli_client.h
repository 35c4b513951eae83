/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli_client.h - options every client command shares (--node, --timeout, ...)
 * and opening a client from them.
 */
#ifndef FERRY_CLI_CLIENT_H
#define FERRY_CLI_CLIENT_H

#include "client/client.h"
#include "common/opt.h"

struct cli_client_opts {
	const char *node;      /* --node, else $FERRY_NODE */
	const char *ctl;       /* --ctl, else $FERRY_CTL (when no node is given) */
	uint32_t timeout_ms;   /* --timeout */
	uint32_t concurrency;  /* --concurrency */
	uint32_t mtu;          /* --mtu */
	uint64_t chunk_size;   /* --chunk-size */
};

extern struct cli_client_opts cli_client;

#define CLI_CLIENT_OPTS                                                                        \
	{ "node", 'n', OPT_STR, &cli_client.node, "ADDR:PORT",                                 \
	  "one node to talk to (default: $FERRY_NODE)", NULL },                                \
	{ "ctl", 0, OPT_STR, &cli_client.ctl, "ADDR:PORT",                                     \
	  "the cluster's ctl, when no node is given (default: $FERRY_CTL)", NULL },            \
	{ "timeout", 0, OPT_MS, &cli_client.timeout_ms, "TIME",                                \
	  "give up on a request after TIME (default 10s)", NULL },                             \
	{ "concurrency", 'c', OPT_U32, &cli_client.concurrency, "N",                           \
	  "chunk requests in flight (default 8)", NULL },                                      \
	{ "mtu", 0, OPT_U32, &cli_client.mtu, "BYTES", "path MTU (default 1500)", NULL }

/* cli_client_open - open a client from cli_client; prints the error line
 * and returns NULL on failure. cmd names the command in messages. */
struct client *cli_client_open(const char *cmd);
/* cli_client_error - print "ferry CMD: <client's message>" and return CLI_EXIT_FAIL. */
int cli_client_error(const char *cmd, struct client *cl);

#endif
