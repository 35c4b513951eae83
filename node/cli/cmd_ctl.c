/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_ctl.c - `ferry ctl`: the control plane. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cluster/ctl.h"
#include "common/log.h"
#include "common/util.h"

static struct {
	const char *listen, *state, *cluster, *log;
	uint32_t replicas, min_copies, down_after, out_after, lease;
	double full, nearfull;
} ctl_opt;

static volatile sig_atomic_t ctl_stop;

static void ctl_on_signal(int sig)
{
	(void)sig;
	ctl_stop = 1;
}

static int cmd_ctl_run(int argc, char **argv)
{
	struct ctl_cfg cfg = { 0 };
	struct sigaction sa = { 0 };
	uint8_t cluster[16];

	(void)argc;
	(void)argv;
	if (!ctl_opt.listen || !ctl_opt.state) {
		fprintf(stderr, "ferry ctl: --listen and --state are required\n");
		return CLI_EXIT_USAGE;
	}
	if (ctl_opt.replicas > 8) {
		fprintf(stderr, "ferry ctl: --replicas must be 1..8\n");
		return CLI_EXIT_USAGE;
	}
	if (ctl_opt.cluster) {
		if (util_uuid_parse(ctl_opt.cluster, cluster)) {
			fprintf(stderr, "ferry ctl: bad cluster UUID '%s'\n", ctl_opt.cluster);
			return CLI_EXIT_USAGE;
		}
		cfg.cluster = cluster;
	}
	if (ctl_opt.log) {
		int lvl = log_level_parse(ctl_opt.log);
		if (lvl < 0) {
			fprintf(stderr, "ferry ctl: bad log level '%s'\n", ctl_opt.log);
			return CLI_EXIT_USAGE;
		}
		log_set_level((enum log_level)lvl);
	}
	if (mkdir(ctl_opt.state, 0700) && errno != EEXIST) {
		fprintf(stderr, "ferry ctl: cannot create %s: %s\n", ctl_opt.state, strerror(errno));
		return CLI_EXIT_FAIL;
	}
	if (ctl_opt.min_copies > 8) {
		fprintf(stderr, "ferry ctl: --min-copies must be 1..--replicas\n");
		return CLI_EXIT_USAGE;
	}
	if (ctl_opt.full < 0 || ctl_opt.full > 1 || ctl_opt.nearfull < 0 || ctl_opt.nearfull > 1) {
		fprintf(stderr, "ferry ctl: --full-ratio and --nearfull-ratio are fractions (0..1)\n");
		return CLI_EXIT_USAGE;
	}
	cfg.replicas = ctl_opt.replicas;
	cfg.min_copies = ctl_opt.min_copies;
	cfg.down_after_ms = ctl_opt.down_after;
	cfg.out_after_ms = ctl_opt.out_after;
	cfg.lease_ms = ctl_opt.lease;
	cfg.full_ratio = ctl_opt.full;
	cfg.nearfull_ratio = ctl_opt.nearfull;
	sa.sa_handler = ctl_on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return ctl_run(&cfg, ctl_opt.listen, ctl_opt.state, &ctl_stop) ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

static const struct opt_def ctl_opts[] = {
	{ "listen", 'l', OPT_STR, &ctl_opt.listen, "ADDR:PORT", "control address (port 7481)", NULL },
	{ "state", 's', OPT_STR, &ctl_opt.state, "DIR", "where the map is persisted", NULL },
	{ "replicas", 'r', OPT_U32, &ctl_opt.replicas, "R",
	  "copies of every chunk (default 3, or the saved map's)", NULL },
	{ "min-copies", 0, OPT_U32, &ctl_opt.min_copies, "N",
	  "live copies a write needs before it is acknowledged (default R - R/2, or the "
	  "saved map's)", NULL },
	{ "down-after", 0, OPT_MS, &ctl_opt.down_after, "TIME",
	  "heartbeat silence before a node is down (default 3s)", NULL },
	{ "out-after", 0, OPT_MS, &ctl_opt.out_after, "TIME",
	  "time down before a node is out and re-replicated (default 30s)", NULL },
	{ "lease", 0, OPT_MS, &ctl_opt.lease, "TIME",
	  "lease a node serves under (default and at most half of --down-after)", NULL },
	{ "full-ratio", 0, OPT_DOUBLE, &ctl_opt.full, "F",
	  "disk use that takes a node out of placement (default 0.95)", NULL },
	{ "nearfull-ratio", 0, OPT_DOUBLE, &ctl_opt.nearfull, "F",
	  "disk use below which a full node comes back (default 0.85)", NULL },
	{ "cluster", 0, OPT_STR, &ctl_opt.cluster, "UUID",
	  "serve this cluster only (default: the first node's)", NULL },
	{ "log-level", 0, OPT_STR, &ctl_opt.log, "LEVEL", "err, warn, info or debug", NULL },
	{ 0 },
};

const struct cmd_def cmd_ctl = {
	.name = "ctl", .args = "", .min_args = 0, .max_args = 0,
	.summary = "Run the control plane: membership, epochs, the cluster map.",
	.opts = ctl_opts, .run = cmd_ctl_run,
};
