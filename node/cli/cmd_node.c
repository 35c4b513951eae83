/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_node.c - `ferry node`: serve a disk. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "common/log.h"
#include "common/util.h"
#include "node.h"

static struct {
	const char *disk, *listen, *iface, *transport, *cluster, *ctl, *zone, *log;
	uint32_t queues, mtu;
	double scrub, weight, recovery;
	int xdp_generic, copy_payload;
} node_opt = { .recovery = 64 };

static volatile sig_atomic_t node_stop;

static void node_on_signal(int sig)
{
	(void)sig;
	node_stop = 1;
}

static int cmd_node_run(int argc, char **argv)
{
	struct node_cfg cfg = { 0 };
	struct sigaction sa = { 0 };
	uint8_t cluster[16];
	int err;

	(void)argc;
	(void)argv;
	if (!node_opt.disk || !node_opt.listen) {
		fprintf(stderr, "ferry node: --disk and --listen are required\n");
		return CLI_EXIT_USAGE;
	}
	cfg.disk = node_opt.disk;
	cfg.listen = node_opt.listen;
	cfg.iface = node_opt.iface;
	cfg.queues = node_opt.queues;
	cfg.mtu = node_opt.mtu;
	cfg.ctl = node_opt.ctl;
	cfg.zone = node_opt.zone;
	cfg.scrub_mb_s = node_opt.scrub;
	cfg.weight = node_opt.weight;
	cfg.recovery_mb_s = node_opt.recovery;
	cfg.xdp_generic = node_opt.xdp_generic;
	cfg.copy_payload = node_opt.copy_payload;
	cfg.stop = &node_stop;
	if (!node_opt.transport || strcmp(node_opt.transport, "auto") == 0)
		cfg.transport = NODE_TRANSPORT_AUTO;
	else if (strcmp(node_opt.transport, "udp") == 0)
		cfg.transport = NODE_TRANSPORT_UDP;
	else if (strcmp(node_opt.transport, "xdp") == 0)
		cfg.transport = NODE_TRANSPORT_XDP;
	else {
		fprintf(stderr, "ferry node: unknown transport '%s' (udp, xdp or auto)\n",
			node_opt.transport);
		return CLI_EXIT_USAGE;
	}
	if (cfg.transport == NODE_TRANSPORT_XDP && !cfg.iface) {
		fprintf(stderr, "ferry node: --transport xdp needs --iface IFNAME\n");
		return CLI_EXIT_USAGE;
	}
	if (node_opt.cluster) {
		if (util_uuid_parse(node_opt.cluster, cluster)) {
			fprintf(stderr, "ferry node: bad cluster UUID '%s'\n", node_opt.cluster);
			return CLI_EXIT_USAGE;
		}
		cfg.cluster = cluster;
	}
	if (node_opt.log) {
		int lvl = log_level_parse(node_opt.log);
		if (lvl < 0) {
			fprintf(stderr, "ferry node: bad log level '%s'\n", node_opt.log);
			return CLI_EXIT_USAGE;
		}
		log_set_level((enum log_level)lvl);
	}
	sa.sa_handler = node_on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	err = node_run(&cfg);
	return err ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

static const struct opt_def node_opts[] = {
	{ "disk", 'd', OPT_STR, &node_opt.disk, "PATH", "block device or file to serve", NULL },
	{ "listen", 'l', OPT_STR, &node_opt.listen, "ADDR:PORT", "data address", NULL },
	{ "transport", 't', OPT_STR, &node_opt.transport, "udp|xdp|auto",
	  "data path (auto: xdp when --iface is given)", NULL },
	{ "iface", 'i', OPT_STR, &node_opt.iface, "IFNAME", "NIC whose queues AF_XDP takes", NULL },
	{ "queues", 'q', OPT_U32, &node_opt.queues, "N", "NIC queues to serve (default 1)", NULL },
	{ "mtu", 0, OPT_U32, &node_opt.mtu, "BYTES", "path MTU (default: 1500)", NULL },
	{ "xdp-generic", 0, OPT_FLAG, &node_opt.xdp_generic, NULL,
	  "allow generic (skb) XDP when native attach fails", NULL },
	{ "copy-payload", 0, OPT_FLAG, &node_opt.copy_payload, NULL,
	  "copy payload between frames and disk buffers (no zero copy; for comparison)", NULL },
	{ "cluster", 0, OPT_STR, &node_opt.cluster, "UUID",
	  "refuse a disk of any other cluster", NULL },
	{ "ctl", 0, OPT_STR, &node_opt.ctl, "ADDR:PORT", "control plane to join", NULL },
	{ "zone", 0, OPT_STR, &node_opt.zone, "NAME", "failure domain", NULL },
	{ "weight", 0, OPT_DOUBLE, &node_opt.weight, "W",
	  "placement weight relative to 1.0 (default 1)", NULL },
	{ "recovery-rate", 0, OPT_DOUBLE, &node_opt.recovery, "MB/S",
	  "re-replication and rebalancing copy rate (default 64; 0: unlimited)", NULL },
	{ "scrub-rate", 0, OPT_DOUBLE, &node_opt.scrub, "MB/S",
	  "background scrub rate (0: off)", NULL },
	{ "log-level", 0, OPT_STR, &node_opt.log, "LEVEL", "err, warn, info or debug", NULL },
	{ 0 },
};

const struct cmd_def cmd_node = {
	.name = "node", .args = "", .min_args = 0, .max_args = 0,
	.summary = "Serve chunks from a disk over UDP or AF_XDP.",
	.opts = node_opts, .run = cmd_node_run,
};
