/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_fault.c - `ferry fault`: TEST ONLY, hidden. Attach bpf/fault.bpf.c to
 * an interface and keep it there until SIGINT/SIGTERM.
 *
 *   ferry fault --iface IF [--drop PM] [--corrupt PM] [--dup PM] [--port P]
 *               [--hook xdp|tc|tc-ingress|tc-egress] [--xdp-mode native|generic]
 *
 * Rates are per mille (50 = 5%). The attachments are bpf_links, so killing
 * the process (even with -9) removes them. On SIGUSR1 and at exit the
 * counters are printed as "fault_<name> value" lines on stdout; the line
 * "fault: attached ..." on stdout says the faults are in force.
 * --hook tc attaches at tcx ingress and egress (duplication works only at TC).
 */
#include <errno.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#include "cli/cli.h"
#include "common/log.h"
#include "net/xdp_link.h"
#include "ferry_abi.h"
#include "fault.skel.h"

static const char *fault_iface;
static uint32_t fault_drop, fault_corrupt, fault_dup, fault_port;
static const char *fault_hook = "xdp";
static const char *fault_xdp_mode = "auto";

static const struct opt_def fault_opts[] = {
	{ "iface", 'i', OPT_STR, &fault_iface, "IF", "interface to attach to (required)" },
	{ "drop", 0, OPT_U32, &fault_drop, "PM", "drop rate, per mille" },
	{ "corrupt", 0, OPT_U32, &fault_corrupt, "PM", "corrupt one payload byte, per mille" },
	{ "dup", 0, OPT_U32, &fault_dup, "PM", "duplicate, per mille (tc hooks only)" },
	{ "port", 'p', OPT_U32, &fault_port, "PORT", "only UDP to/from this port (default: all UDP)" },
	{ "hook", 0, OPT_STR, &fault_hook, "HOOK", "xdp (ingress), tc (both), tc-ingress, tc-egress" },
	{ "xdp-mode", 0, OPT_STR, &fault_xdp_mode, "MODE", "native (default) or generic" },
	{ NULL },
};

static const char *const fault_ctr_names[FERRY_FAULT_CTR_MAX] = {
	[FERRY_FAULT_SEEN] = "seen",
	[FERRY_FAULT_MATCHED] = "matched",
	[FERRY_FAULT_DROPPED] = "dropped",
	[FERRY_FAULT_CORRUPTED] = "corrupted",
	[FERRY_FAULT_DUPLICATED] = "duplicated",
	[FERRY_FAULT_DUP_FAIL] = "dup_fail",
};

static void fault_print(struct fault_bpf *skel)
{
	unsigned long long c[FERRY_FAULT_CTR_MAX];
	int i;

	if (xdp_link_sum_percpu(bpf_map__fd(skel->maps.fault_counters), FERRY_FAULT_CTR_MAX, c))
		return;
	for (i = 0; i < FERRY_FAULT_CTR_MAX; i++)
		printf("fault_%s %llu\n", fault_ctr_names[i], c[i]);
	fflush(stdout);
}

static int fault_run(int argc, char **argv)
{
	struct fault_bpf *skel = NULL;
	int links[2] = { -1, -1 }, nlinks = 0, ifindex, mode, ret = CLI_EXIT_FAIL, sig = 0, i;
	int xdp = !strcmp(fault_hook, "xdp");
	int tc_in = !strcmp(fault_hook, "tc") || !strcmp(fault_hook, "tc-ingress");
	int tc_out = !strcmp(fault_hook, "tc") || !strcmp(fault_hook, "tc-egress");
	enum xdp_link_mode got;
	sigset_t set;

	(void)argc;
	(void)argv;
	if (!fault_iface) {
		fprintf(stderr, "fault: --iface is required\n");
		return CLI_EXIT_USAGE;
	}
	if (!xdp && !tc_in && !tc_out) {
		fprintf(stderr, "fault: unknown --hook '%s'\n", fault_hook);
		return CLI_EXIT_USAGE;
	}
	mode = xdp_link_mode_parse(fault_xdp_mode);
	if (mode < 0 || fault_drop > 1000 || fault_corrupt > 1000 || fault_dup > 1000 ||
	    fault_port > 65535) {
		fprintf(stderr, "fault: rates are 0..1000 per mille, port 0..65535, "
				"xdp-mode native|generic\n");
		return CLI_EXIT_USAGE;
	}
	if (xdp && fault_dup)
		fprintf(stderr, "fault: --dup ignored at the xdp hook (XDP cannot clone); "
				"use --hook tc\n");
	ifindex = (int)if_nametoindex(fault_iface);
	if (!ifindex) {
		fprintf(stderr, "fault: no interface '%s'\n", fault_iface);
		return CLI_EXIT_FAIL;
	}

	/* Block the signals before attaching so none is lost in between. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);

	skel = fault_bpf__open();
	if (!skel) {
		fprintf(stderr, "fault: open BPF object: %s\n", strerror(errno));
		goto out;
	}
	skel->rodata->fault_cfg.port = (__u16)fault_port;
	skel->rodata->fault_cfg.drop_pm = (__u16)fault_drop;
	skel->rodata->fault_cfg.corrupt_pm = (__u16)fault_corrupt;
	skel->rodata->fault_cfg.dup_pm = (__u16)fault_dup;
	if (fault_bpf__load(skel)) {
		fprintf(stderr, "fault: load BPF object: %s\n", strerror(errno));
		goto out;
	}
	if (xdp) {
		links[nlinks] = xdp_link_attach(bpf_program__fd(skel->progs.fault_xdp), ifindex,
						(enum xdp_link_mode)mode, &got);
		if (links[nlinks] < 0) {
			fprintf(stderr, "fault: attach XDP to %s: %s\n", fault_iface,
				strerror(-links[nlinks]));
			goto out;
		}
		nlinks++;
	}
	if (tc_in) {
		links[nlinks] = xdp_link_tcx_attach(bpf_program__fd(skel->progs.fault_tc_ingress),
						    ifindex, 0);
		if (links[nlinks] < 0) {
			fprintf(stderr, "fault: attach tc ingress to %s: %s\n", fault_iface,
				strerror(-links[nlinks]));
			goto out;
		}
		nlinks++;
	}
	if (tc_out) {
		links[nlinks] = xdp_link_tcx_attach(bpf_program__fd(skel->progs.fault_tc_egress),
						    ifindex, 1);
		if (links[nlinks] < 0) {
			fprintf(stderr, "fault: attach tc egress to %s: %s\n", fault_iface,
				strerror(-links[nlinks]));
			goto out;
		}
		nlinks++;
	}
	printf("fault: attached to %s hook %s drop %u corrupt %u dup %u port %u (per mille)\n",
	       fault_iface, fault_hook, fault_drop, fault_corrupt, fault_dup, fault_port);
	fflush(stdout);
	for (;;) {
		if (sigwait(&set, &sig))
			break;
		if (sig != SIGUSR1)
			break;
		fault_print(skel);
	}
	fault_print(skel);
	ret = CLI_EXIT_OK;
out:
	for (i = nlinks - 1; i >= 0; i--)
		close(links[i]);
	fault_bpf__destroy(skel);
	return ret;
}

const struct cmd_def cmd_fault = {
	.name = "fault",
	.args = "",
	.summary = "test only: inject UDP loss/corruption/duplication on an interface",
	.min_args = 0,
	.max_args = 0,
	.opts = fault_opts,
	.run = fault_run,
};
