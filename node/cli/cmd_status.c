/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_status.c - `ferry status`: the cluster as ctl sees it.
 *
 * Node table (id, address, zone, state, chunks, used / capacity, ops/s,
 * recovery figures the node last reported) and cluster health: epoch,
 * degraded chunks (each counted by its chain head), recovery progress.
 * --json prints the same as one JSON object.
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
	uint32_t states[4] = { 0 };
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
		states[n->state & 3]++;
		if (n->state == MAP_OUT)
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
		printf("{\"cluster\":\"%s\",\"epoch\":%llu,\"replicas\":%u,\"nodes\":[",
		       util_uuid_format(m->cluster, u), (unsigned long long)m->epoch, m->replicas);
		for (uint32_t i = 0; i < m->n; i++) {
			const struct map_node *n = &m->nodes[i];
			printf("%s{\"id\":\"%s\",\"address\":\"%s\",\"zone\":\"%s\",\"state\":\"%s\","
			       "\"weight\":%.3f,\"chunks\":%llu,\"used\":%llu,\"capacity\":%llu,"
			       "\"ops_per_s\":%llu,\"degraded\":%llu,\"recovery_pending\":%llu,"
			       "\"recovery_copied\":%llu,\"recovery_bytes\":%llu}",
			       i ? "," : "", util_uuid_format(n->uuid, u),
			       net_addr_format(&n->addr, a, sizeof(a)), n->zone,
			       map_state_name(n->state), n->weight / (double)MAP_WEIGHT_ONE,
			       (unsigned long long)n->chunks, (unsigned long long)n->used,
			       (unsigned long long)n->capacity, (unsigned long long)n->ops_per_s,
			       (unsigned long long)n->degraded, (unsigned long long)n->rec_pending,
			       (unsigned long long)n->rec_copied, (unsigned long long)n->rec_bytes);
		}
		printf("],\"health\":{\"up\":%u,\"down\":%u,\"out\":%u,\"degraded_chunks\":%llu,"
		       "\"recovery_pending\":%llu,\"recovery_copied\":%llu,\"recovery_bytes\":%llu}}\n",
		       states[MAP_UP], states[MAP_DOWN], states[MAP_OUT],
		       (unsigned long long)degraded, (unsigned long long)pending,
		       (unsigned long long)copied, (unsigned long long)bytes);
		client_close(cl);
		return CLI_EXIT_OK;
	}
	printf("cluster %s  epoch %llu  R=%u  nodes: %u up, %u down, %u out\n\n",
	       util_uuid_format(m->cluster, u), (unsigned long long)m->epoch, m->replicas,
	       states[MAP_UP], states[MAP_DOWN], states[MAP_OUT]);
	printf("%-36s  %-21s  %-8s  %-5s  %8s  %21s  %7s  %9s\n", "ID", "ADDRESS", "ZONE", "STATE",
	       "CHUNKS", "USED / CAPACITY", "OPS/S", "REC.PEND");
	for (uint32_t i = 0; i < m->n; i++) {
		const struct map_node *n = &m->nodes[i];
		char uc[48];

		snprintf(uc, sizeof(uc), "%s / %s", status_bytes(n->used, b1, sizeof(b1)),
			 status_bytes(n->capacity, b2, sizeof(b2)));
		printf("%-36s  %-21s  %-8s  %-5s  %8llu  %21s  %7llu  %9llu\n",
		       util_uuid_format(n->uuid, u), net_addr_format(&n->addr, a, sizeof(a)),
		       n->zone[0] ? n->zone : "-", map_state_name(n->state),
		       (unsigned long long)n->chunks, uc, (unsigned long long)n->ops_per_s,
		       (unsigned long long)n->rec_pending);
	}
	printf("\nhealth: %s; %llu chunk copies in %s of %s\n",
	       states[MAP_DOWN] || degraded || pending ? "DEGRADED" : "ok",
	       (unsigned long long)chunks, status_bytes(used, b1, sizeof(b1)),
	       status_bytes(cap, b2, sizeof(b2)));
	printf("degraded chunks: %llu   recovery: %llu chunks pending, %llu copies made (%s)\n",
	       (unsigned long long)degraded, (unsigned long long)pending,
	       (unsigned long long)copied, status_bytes(bytes, b1, sizeof(b1)));
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
