/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_status.c - `ferry status`: the cluster as ctl sees it.
 *
 * Node table (id, address, zone, state, chunks, used / capacity, ops/s,
 * recovery and repair figures the node last reported) and cluster health:
 * epoch and clean epoch, degraded chunks (each counted by its chain head),
 * recovery progress, corrupt chunks found and repaired. --json prints the
 * same as one JSON object. `ferry lost` tells ctl a node's disk is gone for
 * good.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_client.h"
#include "cluster/map.h"
#include "common/util.h"

static int status_json;

static const char *status_bytes(uint64_t b, char *buf, size_t cap)
{
	const char *u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)b;
	int i = 0;

	while (v >= 1024 && i < 4) {
		v /= 1024;
		i++;
	}
	snprintf(buf, cap, i ? "%.1f %s" : "%.0f %s", v, u[i]);
	return buf;
}

static int cmd_status_run(int argc, char **argv)
{
	struct client *cl;
	const struct cmap *m;
	uint64_t degraded = 0, pending = 0, copied = 0, bytes = 0, chunks = 0, used = 0, cap = 0;
	uint64_t bad = 0, repaired = 0;
	uint32_t states[5] = { 0 }, full = 0;
	char u[37], a[64], b1[32], b2[32];

	(void)argc;
	(void)argv;
	if (cli_client.node && !cli_client.ctl) {
		fprintf(stderr, "ferry status: needs --ctl ADDR:PORT (or FERRY_CTL); for one "
				"node's counters use ferry stat --node-stats\n");
		return CLI_EXIT_USAGE;
	}
	cli_client.node = NULL;
	cl = cli_client_open("status");
	if (!cl)
		return CLI_EXIT_FAIL;
	m = client_map(cl);
	if (!m) {
		int rc = cli_client_error("status", cl);
		client_close(cl);
		return rc;
	}
	for (uint32_t i = 0; i < m->n; i++) {
		const struct map_node *n = &m->nodes[i];
		states[n->state <= MAP_LOST ? n->state : 0]++;
		full += !!(n->flags & MAP_NF_FULL);
		bad += n->bad_chunks;
		repaired += n->repaired;
		if (n->state == MAP_OUT || n->state == MAP_LOST)
			continue;
		degraded += n->degraded;
		pending += n->rec_pending;
		copied += n->rec_copied;
		bytes += n->rec_bytes;
		chunks += n->chunks;
		used += n->used;
		cap += n->capacity;
	}
	if (status_json) {
		printf("{\"cluster\":\"%s\",\"epoch\":%llu,\"clean_epoch\":%llu,\"replicas\":%u,"
		       "\"min_copies\":%u,\"nodes\":[",
		       util_uuid_format(m->cluster, u), (unsigned long long)m->epoch,
		       (unsigned long long)m->clean_epoch, m->replicas, m->min_copies);
		for (uint32_t i = 0; i < m->n; i++) {
			const struct map_node *n = &m->nodes[i];
			printf("%s{\"id\":\"%s\",\"address\":\"%s\",\"zone\":\"%s\",\"state\":\"%s\","
			       "\"weight\":%.3f,\"chunks\":%llu,\"used\":%llu,\"capacity\":%llu,"
			       "\"ops_per_s\":%llu,\"degraded\":%llu,\"recovery_pending\":%llu,"
			       "\"recovery_copied\":%llu,\"recovery_bytes\":%llu,\"full\":%s,"
			       "\"failed\":%s,\"up_since\":%llu,\"current\":%s,"
			       "\"bad_chunks\":%llu,\"repaired\":%llu}",
			       i ? "," : "", util_uuid_format(n->uuid, u),
			       net_addr_format(&n->addr, a, sizeof(a)), n->zone,
			       map_state_name(n->state), n->weight / (double)MAP_WEIGHT_ONE,
			       (unsigned long long)n->chunks, (unsigned long long)n->used,
			       (unsigned long long)n->capacity, (unsigned long long)n->ops_per_s,
			       (unsigned long long)n->degraded, (unsigned long long)n->rec_pending,
			       (unsigned long long)n->rec_copied, (unsigned long long)n->rec_bytes,
			       n->flags & MAP_NF_FULL ? "true" : "false",
			       n->flags & MAP_NF_FAILED ? "true" : "false",
			       (unsigned long long)n->up_since, map_continuous(m, i) ? "true" : "false",
			       (unsigned long long)n->bad_chunks, (unsigned long long)n->repaired);
		}
		printf("],\"health\":{\"up\":%u,\"down\":%u,\"out\":%u,\"lost\":%u,\"full\":%u,"
		       "\"clean\":%s,\"degraded_chunks\":%llu,\"recovery_pending\":%llu,"
		       "\"recovery_copied\":%llu,\"recovery_bytes\":%llu,\"bad_chunks\":%llu,"
		       "\"repaired\":%llu}}\n",
		       states[MAP_UP], states[MAP_DOWN], states[MAP_OUT], states[MAP_LOST], full,
		       m->clean_epoch == m->epoch ? "true" : "false",
		       (unsigned long long)degraded, (unsigned long long)pending,
		       (unsigned long long)copied, (unsigned long long)bytes,
		       (unsigned long long)bad, (unsigned long long)repaired);
		client_close(cl);
		return CLI_EXIT_OK;
	}
	printf("cluster %s  epoch %llu (clean %llu)  R=%u  min copies %u\n"
	       "nodes: %u up, %u down, %u out, %u lost, %u full\n\n",
	       util_uuid_format(m->cluster, u), (unsigned long long)m->epoch,
	       (unsigned long long)m->clean_epoch, m->replicas, m->min_copies, states[MAP_UP],
	       states[MAP_DOWN], states[MAP_OUT], states[MAP_LOST], full);
	printf("%-36s  %-21s  %-8s  %-9s  %8s  %21s  %7s  %9s  %9s\n", "ID", "ADDRESS", "ZONE",
	       "STATE", "CHUNKS", "USED / CAPACITY", "OPS/S", "REC.PEND", "BAD/FIXED");
	for (uint32_t i = 0; i < m->n; i++) {
		const struct map_node *n = &m->nodes[i];
		char uc[48], st[16], bf[24];

		snprintf(uc, sizeof(uc), "%s / %s", status_bytes(n->used, b1, sizeof(b1)),
			 status_bytes(n->capacity, b2, sizeof(b2)));
		/* "syncing": up, but not yet trusted to hold every acknowledged
		 * write (until the next clean epoch) */
		snprintf(st, sizeof(st), "%s%s", map_state_name(n->state),
			 n->flags & MAP_NF_FAILED ? ",failed" : n->flags & MAP_NF_FULL ? ",full" :
			 n->state == MAP_UP && !map_continuous(m, i) ? ",syncing" : "");
		snprintf(bf, sizeof(bf), "%llu/%llu", (unsigned long long)n->bad_chunks,
			 (unsigned long long)n->repaired);
		printf("%-36s  %-21s  %-8s  %-9s  %8llu  %21s  %7llu  %9llu  %9s\n",
		       util_uuid_format(n->uuid, u), net_addr_format(&n->addr, a, sizeof(a)),
		       n->zone[0] ? n->zone : "-", st, (unsigned long long)n->chunks, uc,
		       (unsigned long long)n->ops_per_s, (unsigned long long)n->rec_pending, bf);
	}
	printf("\nhealth: %s; %llu chunk copies in %s of %s\n",
	       states[MAP_DOWN] || states[MAP_OUT] || degraded || pending ||
	       m->clean_epoch != m->epoch ? "DEGRADED" : "ok",
	       (unsigned long long)chunks, status_bytes(used, b1, sizeof(b1)),
	       status_bytes(cap, b2, sizeof(b2)));
	printf("degraded chunks: %llu   recovery: %llu chunks pending, %llu copies made (%s)%s\n",
	       (unsigned long long)degraded, (unsigned long long)pending,
	       (unsigned long long)copied, status_bytes(bytes, b1, sizeof(b1)),
	       m->clean_epoch != m->epoch ? ", not clean yet" : "");
	printf("corrupt chunks found: %llu   repaired from replicas: %llu\n",
	       (unsigned long long)bad, (unsigned long long)repaired);
	client_close(cl);
	return CLI_EXIT_OK;
}

static const struct opt_def status_opts[] = {
	CLI_CLIENT_OPTS,
	{ "json", 0, OPT_FLAG, &status_json, NULL, "print JSON", NULL },
	{ 0 },
};

const struct cmd_def cmd_status = {
	.name = "status", .args = "", .min_args = 0, .max_args = 0,
	.summary = "Show the cluster: nodes, states, usage, health, recovery.",
	.opts = status_opts, .run = cmd_status_run,
};

static int cmd_lost_run(int argc, char **argv)
{
	uint8_t uuid[16];
	struct client *cl;
	int err;

	(void)argc;
	if (util_uuid_parse(argv[0], uuid)) {
		fprintf(stderr, "ferry lost: bad node UUID '%s'\n", argv[0]);
		return CLI_EXIT_USAGE;
	}
	cli_client.node = NULL;
	cl = cli_client_open("lost");
	if (!cl)
		return CLI_EXIT_FAIL;
	err = client_ctl_lost(cl, uuid);
	if (err) {
		int rc = cli_client_error("lost", cl);
		client_close(cl);
		return rc;
	}
	printf("node %s declared lost: its copies are no longer waited for\n", argv[0]);
	client_close(cl);
	return CLI_EXIT_OK;
}

static const struct opt_def lost_opts[] = {
	CLI_CLIENT_OPTS,
	{ 0 },
};

const struct cmd_def cmd_lost = {
	.name = "lost", .args = "NODE-UUID", .min_args = 1, .max_args = 1,
	.summary = "Declare a down or out node's disk lost for good (admin).",
	.opts = lost_opts, .run = cmd_lost_run,
};
