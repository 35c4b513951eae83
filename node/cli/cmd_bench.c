/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_bench.c - `ferry bench`: a load generator for one node.
 *
 * Keeps --concurrency chunk requests in flight against --keys chunk ids
 * (uniform or zipf), for --count operations or --duration, and reports
 * ops/s, MB/s, latency percentiles from a log-linear histogram, errors by
 * kind, and the node's own CPU time per operation (from its counters, read
 * before and after). With --ctl the keys are placed on the cluster's map
 * as clients place them: PUTs go to the chain's head (acknowledged when the
 * tail has them), GETs to the tail, and node CPU is summed over the up
 * nodes. Every run is bounded in time: requests time out
 * (--timeout) and the whole run stops at --duration or 4x the expected
 * time, whichever applies, so a dead node yields errors, not a hang.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cluster/map.h"
#include "cluster/place.h"
#include "common/hist.h"
#include "common/util.h"
#include "net/rpc.h"
#include "net/transport.h"
#include "net/xsk.h"

#define BENCH_KIND 0x03 /* first byte of bench chunk ids: never an object's */
#define BENCH_MAX_CONC 4096

static struct {
	const char *node, *ctl, *op, *dist, *transport, *iface, *local;
	uint64_t size, count;
	uint32_t duration_ms, concurrency, keys, timeout_ms, mtu, get_pct;
	double zipf_s;
	int json, no_preload;
} bo = {
	.size = 4096, .concurrency = 32, .keys = 1000, .timeout_ms = 2000, .get_pct = 90,
	.zipf_s = 0.99,
};

enum bench_op { BENCH_GET, BENCH_PUT, BENCH_MIXED };

struct bench_slot {
	struct rpc_call call;
	uint8_t *buf;         /* response buffer (GET) */
	uint8_t version[8];   /* PUT answer */
	uint64_t t0;          /* issue time, ns */
	int busy;
	int is_get;           /* for re-routing a retry */
	uint32_t retries;     /* stale-map retries of this op */
};

struct bench_errors {
	uint64_t timeout, noent, stale, nospc, badcrc, busy, other;
	int other_last;       /* the last status counted as other */
};

struct bench {
	struct rpc_client *rpc;
	struct transport *t;
	struct net_addr node;       /* --node, or the ctl with --ctl */
	struct cmap *map;           /* --ctl: the cluster map */
	enum bench_op op;
	double *zipf_cdf;     /* keys entries, or NULL for uniform */
	uint8_t *payload;     /* PUT bytes */
	uint64_t rng;
	struct hist lat;
	struct bench_errors err;
	uint64_t done, bytes;
	uint64_t map_retries;       /* ops re-sent after a stale-map answer */
	uint64_t conflict_retries;  /* PUTs re-sent after a version conflict (-EAGAIN) */
};

static int bench_fetch_map(struct bench *b);

static volatile sig_atomic_t bench_stop;

static void bench_on_signal(int sig)
{
	(void)sig;
	bench_stop = 1;
}

static uint64_t bench_rand(struct bench *b)
{
	/* splitmix64 */
	uint64_t z = (b->rng += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void bench_key_id(uint32_t key, uint8_t id[16])
{
	uint64_t a = key * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull;
	uint64_t c = (a ^ (a >> 29)) * 0xbf58476d1ce4e5b9ull;

	memcpy(id, &a, 8);
	memcpy(id + 8, &c, 8);
	id[0] = BENCH_KIND;
}

static int bench_zipf_init(struct bench *b, uint32_t n, double s)
{
	double sum = 0;

	b->zipf_cdf = malloc(n * sizeof(double));
	if (!b->zipf_cdf)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		sum += 1.0 / pow((double)(i + 1), s);
		b->zipf_cdf[i] = sum;
	}
	for (uint32_t i = 0; i < n; i++)
		b->zipf_cdf[i] /= sum;
	return 0;
}

static uint32_t bench_pick_key(struct bench *b)
{
	double u;
	uint32_t lo = 0, hi = bo.keys - 1;

	if (!b->zipf_cdf)
		return (uint32_t)(bench_rand(b) % bo.keys);
	u = (double)(bench_rand(b) >> 11) / 9007199254740992.0;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (b->zipf_cdf[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* Scatter ranks over ids so hot keys are not neighbours. */
	return (uint32_t)(((uint64_t)lo * 2654435761u) % bo.keys);
}

/* Where a call for chunk id goes: the node, or its write chain's head
 * (writes) or tail (reads; cluster/place.h). Returns 0, or -EHOSTUNREACH
 * when the map has no node for it now. */
static int bench_route(struct bench *b, struct rpc_call *c, int is_get)
{
	uint16_t chain[MAP_MAX_CHAIN];
	int n, nr, target;

	if (!b->map) {
		c->peer = b->node;
		return 0;
	}
	n = place_write_chain(b->map, c->chunk, chain, &nr);
	target = is_get ? (nr > 0 ? chain[n - 1] : -1) : (n > 0 ? chain[0] : -1);
	if (target < 0)
		return -EHOSTUNREACH;
	c->peer = b->map->nodes[target].addr;
	c->epoch = b->map->epoch;
	return 0;
}

static void bench_start(struct bench *b, struct bench_slot *s, int is_get, uint32_t key)
{
	memset(&s->call, 0, sizeof(s->call));
	bench_key_id(key, s->call.chunk);
	int err = bench_route(b, &s->call, is_get);
	if (is_get) {
		s->call.op = FERRY_OP_GET;
		s->call.length = (uint32_t)bo.size;
		s->call.resp = s->buf;
		s->call.resp_cap = (uint32_t)bo.size;
	} else {
		s->call.op = FERRY_OP_PUT;
		s->call.length = (uint32_t)bo.size;
		s->call.req = b->payload;
		s->call.req_len = (uint32_t)bo.size;
		s->call.resp = s->version;
		s->call.resp_cap = sizeof(s->version);
	}
	s->t0 = util_now_ns();
	s->is_get = is_get;
	s->retries = 0;
	if (!err)
		err = rpc_client_start(b->rpc, &s->call);
	s->busy = err == 0;
	if (err) {
		b->err.other++;
		b->err.other_last = err;
	}
}

/*
 * A cluster refused before doing anything: "stale map", "not the head", "not
 * ready" (-EAGAIN: a version race at the head, or too few copies up), "no
 * lease" (an epoch change in progress): as the client library does, fetch
 * the map if that is the reason and send the op again (same latency clock).
 * Returns 1 when the op was re-sent.
 */
static int bench_retry(struct bench *b, struct bench_slot *s)
{
	int e = s->call.err ? s->call.err : s->call.status;

	if (!b->map || (e != FERRY_ST_STALE && e != FERRY_ST_NOTHEAD && e != FERRY_ST_NOTREADY &&
			e != FERRY_ST_NOLEASE) ||
	    s->retries >= 8)
		return 0;
	if (e == FERRY_ST_NOTREADY || e == FERRY_ST_NOLEASE)
		b->conflict_retries++;
	else
		b->map_retries++;
	if (s->call.resp_epoch > b->map->epoch || e == FERRY_ST_NOTHEAD || e == FERRY_ST_NOTREADY)
		bench_fetch_map(b);
	s->retries++;
	return bench_route(b, &s->call, s->is_get) == 0 && rpc_client_start(b->rpc, &s->call) == 0;
}

static void bench_account(struct bench *b, struct bench_slot *s, int record)
{
	int e = s->call.err ? s->call.err : s->call.status;

	s->busy = 0;
	switch (e) {
	case 0:
		break;
	case -ETIMEDOUT: b->err.timeout++; return;
	case FERRY_ST_NOENT: b->err.noent++; return;
	case FERRY_ST_STALE: b->err.stale++; return;
	case FERRY_ST_NOSPC: b->err.nospc++; return;
	case FERRY_ST_BADCRC: b->err.badcrc++; return;
	case FERRY_ST_BUSY: b->err.busy++; return;
	default: b->err.other++; b->err.other_last = e; return;
	}
	if (!record)
		return;
	hist_record(&b->lat, util_now_ns() - s->t0);
	b->done++;
	b->bytes += bo.size;
}

static uint64_t bench_errors_total(const struct bench_errors *e)
{
	return e->timeout + e->noent + e->stale + e->nospc + e->badcrc + e->busy + e->other;
}

/*
 * bench_run - keep conc slots busy until total ops were issued (total > 0)
 * or deadline passes; op_for() decides GET (1) or PUT (0) per op; keys
 * cycle in order when sequential (preload).
 */
static void bench_run(struct bench *b, struct bench_slot *slots, uint32_t conc, uint64_t total,
		      uint64_t deadline, int preload)
{
	uint64_t issued = 0;
	uint32_t active = 0;

	while (!bench_stop) {
		uint64_t now = util_now_ns();
		int more = (total ? issued < total : 1) && now < deadline;

		for (uint32_t i = 0; i < conc && more; i++) {
			int is_get;
			uint32_t key;

			if (slots[i].busy)
				continue;
			if (preload) {
				is_get = 0;
				key = (uint32_t)issued;
			} else {
				is_get = b->op == BENCH_GET ||
					 (b->op == BENCH_MIXED && bench_rand(b) % 100 < bo.get_pct);
				key = bench_pick_key(b);
			}
			bench_start(b, &slots[i], is_get, key);
			issued++;
			active += slots[i].busy;
			more = total ? issued < total : 1;
		}
		if (!active)
			break;
		if (rpc_client_poll(b->rpc, 50) < 0)
			break;
		for (uint32_t i = 0; i < conc; i++)
			if (slots[i].busy && slots[i].call.state == 0 && !bench_retry(b, &slots[i])) {
				bench_account(b, &slots[i], !preload);
				active--;
			}
	}
	rpc_client_cancel_all(b->rpc);
	for (uint32_t i = 0; i < conc; i++)
		slots[i].busy = 0;
}

/* CPU (user + sys, µs) of the node at addr from its STATS answer; -1 if
 * unavailable. */
static double bench_cpu_at(struct bench *b, const struct net_addr *addr)
{
	static char text[65536];
	struct rpc_call c = { 0 };
	double user = -1, sys = -1;

	c.peer = *addr;
	c.op = FERRY_OP_STATS;
	c.resp = (uint8_t *)text;
	c.resp_cap = sizeof(text) - 1;
	if (rpc_client_call(b->rpc, &c) || c.status)
		return -1;
	text[c.resp_len] = 0;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		unsigned long long v;
		if (sscanf(line, "cpu_user_us %llu", &v) == 1)
			user = (double)v;
		else if (sscanf(line, "cpu_sys_us %llu", &v) == 1)
			sys = (double)v;
	}
	return user < 0 || sys < 0 ? -1 : user + sys;
}

/* CPU of the node, or of every up node of the cluster. */
static double bench_node_cpu_us(struct bench *b)
{
	double sum = 0;

	if (!b->map)
		return bench_cpu_at(b, &b->node);
	for (uint32_t i = 0; i < b->map->n; i++) {
		double v;
		if (b->map->nodes[i].state != MAP_UP)
			continue;
		v = bench_cpu_at(b, &b->map->nodes[i].addr);
		if (v < 0)
			return -1;
		sum += v;
	}
	return sum;
}

/* Fetch the cluster map from ctl at b->node; 0 or -errno (printed). The
 * current map stays in use when the fetch fails. */
static int bench_fetch_map(struct bench *b)
{
	struct rpc_call c = { 0 };
	uint8_t *buf = malloc(MAP_MAX_LEN);
	struct cmap *m = malloc(sizeof(*m));
	int err = -ENOMEM;

	if (!buf || !m)
		goto out;
	c.peer = b->node;
	c.op = FERRY_OP_CTL_GETMAP;
	c.resp = buf;
	c.resp_cap = MAP_MAX_LEN;
	err = rpc_client_call(b->rpc, &c);
	if (!err)
		err = c.status;
	if (!err)
		err = map_parse(buf, c.resp_len, m);
	if (err) {
		fprintf(stderr, "ferry bench: no cluster map from ctl %s: %s\n", bo.ctl,
			err == -ETIMEDOUT ? "did not answer" : strerror(-err));
		goto out;
	}
	if (b->map) {
		map_copy(b->map, m);
	} else {
		b->map = m;
		m = NULL;
	}
out:
	free(buf);
	free(m);
	return err;
}

static int bench_open_transport(struct bench *b)
{
	struct net_addr local;
	int err;

	if (!bo.transport || strcmp(bo.transport, "udp") == 0) {
		memset(&local, 0, sizeof(local));
		local.family = b->node.family;
		return udp_transport_open(&local, &b->t);
	}
	if (strcmp(bo.transport, "xdp") != 0) {
		fprintf(stderr, "ferry bench: unknown transport '%s' (udp or xdp)\n", bo.transport);
		return -EINVAL;
	}
	if (!bo.iface || !bo.local) {
		fprintf(stderr, "ferry bench: --transport xdp needs --iface IF and --local IP:PORT\n");
		return -EINVAL;
	}
	if (net_addr_parse(bo.local, 0, &local) || !local.port) {
		fprintf(stderr, "ferry bench: bad --local address '%s' (IP:PORT)\n", bo.local);
		return -EINVAL;
	}
	struct xsk_transport_cfg cfg = { .ifname = bo.iface, .local = local };
	err = xsk_transport_open(&cfg, &b->t);
	if (err)
		fprintf(stderr, "ferry bench: cannot open AF_XDP on %s: %s\n", bo.iface,
			strerror(-err));
	return err;
}

static void bench_print(struct bench *b, double secs, double cpu_us)
{
	double ops = (double)b->done / secs, mbs = (double)b->bytes / secs / 1e6;
	double p50 = (double)hist_percentile(&b->lat, 50) / 1e3;
	double p99 = (double)hist_percentile(&b->lat, 99) / 1e3;
	double p999 = (double)hist_percentile(&b->lat, 99.9) / 1e3;
	double cpu_op = cpu_us >= 0 && b->done ? cpu_us / (double)b->done : -1;
	const struct bench_errors *e = &b->err;

	if (bo.json) {
		printf("{\"op\":\"%s\",\"replicas\":%u,\"size\":%llu,\"concurrency\":%u,\"keys\":%u,\"dist\":\"%s\","
		       "\"transport\":\"%s\",\"ops\":%llu,\"seconds\":%.3f,\"ops_per_s\":%.1f,"
		       "\"mb_per_s\":%.2f,\"lat_us\":{\"p50\":%.1f,\"p99\":%.1f,\"p999\":%.1f,"
		       "\"mean\":%.1f,\"max\":%.1f},\"errors\":{\"total\":%llu,\"timeout\":%llu,"
		       "\"noent\":%llu,\"stale\":%llu,\"nospc\":%llu,\"badcrc\":%llu,\"busy\":%llu,"
		       "\"other\":%llu,\"other_last\":%d},\"map_retries\":%llu,"
		       "\"conflict_retries\":%llu,\"node_cpu_us\":%.0f,"
		       "\"node_cpu_us_per_op\":%.3f}\n",
		       bo.op, b->map ? b->map->replicas : 1, (unsigned long long)bo.size,
		       bo.concurrency, bo.keys,
		       bo.dist ? bo.dist : "uniform", bo.transport ? bo.transport : "udp",
		       (unsigned long long)b->done, secs, ops, mbs, p50, p99, p999,
		       hist_mean(&b->lat) / 1e3, (double)b->lat.max / 1e3,
		       (unsigned long long)bench_errors_total(e), (unsigned long long)e->timeout,
		       (unsigned long long)e->noent, (unsigned long long)e->stale,
		       (unsigned long long)e->nospc, (unsigned long long)e->badcrc,
		       (unsigned long long)e->busy, (unsigned long long)e->other, e->other_last,
		       (unsigned long long)b->map_retries, (unsigned long long)b->conflict_retries,
		       cpu_us, cpu_op);
		return;
	}
	printf("%-6s %8s %5s %10s %10s %9s %9s %9s %9s %8s %12s\n", "op", "size", "conc", "ops",
	       "ops/s", "MB/s", "p50 us", "p99 us", "p99.9 us", "errors", "node us/op");
	char cpu_s[32] = "n/a";
	if (cpu_op >= 0)
		snprintf(cpu_s, sizeof(cpu_s), "%.2f", cpu_op);
	printf("%-6s %8llu %5u %10llu %10.0f %9.1f %9.1f %9.1f %9.1f %8llu %12s\n", bo.op,
	       (unsigned long long)bo.size, bo.concurrency, (unsigned long long)b->done, ops, mbs,
	       p50, p99, p999, (unsigned long long)bench_errors_total(e), cpu_s);
	if (cpu_op >= 0)
		printf("node CPU per op: %.2f us (process user+sys; kernel softirq work on other "
		       "CPUs is not included)\n", cpu_op);
	if (bench_errors_total(e))
		printf("errors: timeout %llu, noent %llu, stale %llu, nospc %llu, badcrc %llu, "
		       "busy %llu, other %llu\n",
		       (unsigned long long)e->timeout, (unsigned long long)e->noent,
		       (unsigned long long)e->stale, (unsigned long long)e->nospc,
		       (unsigned long long)e->badcrc, (unsigned long long)e->busy,
		       (unsigned long long)e->other);
	if (b->map_retries || b->conflict_retries)
		printf("re-sent: %llu after a stale map, %llu after a version conflict\n",
		       (unsigned long long)b->map_retries, (unsigned long long)b->conflict_retries);
}

static int bench_check_args(struct bench *b)
{
	if (bo.node && bo.ctl) {
		fprintf(stderr, "ferry bench: give --node or --ctl, not both\n");
		return -EINVAL;
	}
	if (!bo.node && !bo.ctl && !(bo.node = getenv("FERRY_NODE")) &&
	    !(bo.ctl = getenv("FERRY_CTL"))) {
		fprintf(stderr, "ferry bench: no target (use --node ADDR:PORT or --ctl ADDR:PORT)\n");
		return -EINVAL;
	}
	if (net_addr_parse(bo.ctl ? bo.ctl : bo.node, FERRY_PORT_DEFAULT, &b->node)) {
		fprintf(stderr, "ferry bench: bad address '%s'\n", bo.ctl ? bo.ctl : bo.node);
		return -EINVAL;
	}
	if (!bo.op || strcmp(bo.op, "get") == 0)
		b->op = BENCH_GET, bo.op = "get";
	else if (strcmp(bo.op, "put") == 0)
		b->op = BENCH_PUT;
	else if (strcmp(bo.op, "mixed") == 0)
		b->op = BENCH_MIXED;
	else {
		fprintf(stderr, "ferry bench: unknown op '%s' (get, put or mixed)\n", bo.op);
		return -EINVAL;
	}
	if (bo.size == 0 && b->op != BENCH_PUT) {
		fprintf(stderr, "ferry bench: --size must be at least 1 byte for %s\n", bo.op);
		return -EINVAL;
	}
	if (bo.size > (4u << 20)) {
		fprintf(stderr, "ferry bench: --size %llu is beyond the 4 MiB chunk limit\n",
			(unsigned long long)bo.size);
		return -EINVAL;
	}
	if (bo.concurrency == 0 || bo.concurrency > BENCH_MAX_CONC) {
		fprintf(stderr, "ferry bench: --concurrency must be 1..%d\n", BENCH_MAX_CONC);
		return -EINVAL;
	}
	if (bo.keys == 0) {
		fprintf(stderr, "ferry bench: --keys must be at least 1\n");
		return -EINVAL;
	}
	if (bo.get_pct > 100) {
		fprintf(stderr, "ferry bench: --get-percent must be 0..100\n");
		return -EINVAL;
	}
	if (bo.dist && strcmp(bo.dist, "uniform") != 0 && strcmp(bo.dist, "zipf") != 0) {
		fprintf(stderr, "ferry bench: unknown distribution '%s' (uniform or zipf)\n", bo.dist);
		return -EINVAL;
	}
	if (bo.dist && strcmp(bo.dist, "zipf") == 0 && !(bo.zipf_s > 0 && bo.zipf_s < 10)) {
		fprintf(stderr, "ferry bench: --zipf-s must be in (0, 10)\n");
		return -EINVAL;
	}
	return 0;
}

static int cmd_bench_run(int argc, char **argv)
{
	struct bench b = { 0 };
	struct bench_slot *slots = NULL;
	struct rpc_cfg rcfg;
	struct sigaction sa = { 0 };
	double cpu0, cpu1, secs;
	uint64_t t0, t1, deadline;
	int rc = CLI_EXIT_FAIL, err;

	(void)argc;
	(void)argv;
	if (bench_check_args(&b))
		return CLI_EXIT_USAGE;
	if (!bo.count && !bo.duration_ms)
		bo.count = 1000;
	sa.sa_handler = bench_on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	hist_init(&b.lat);
	util_random(&b.rng, sizeof(b.rng));
	if (bo.dist && strcmp(bo.dist, "zipf") == 0 && bench_zipf_init(&b, bo.keys, bo.zipf_s))
		goto out;
	b.payload = malloc(bo.size + 1);
	slots = calloc(bo.concurrency, sizeof(*slots));
	if (!b.payload || !slots)
		goto out;
	for (uint64_t i = 0; i < bo.size; i++)
		b.payload[i] = (uint8_t)bench_rand(&b);
	for (uint32_t i = 0; i < bo.concurrency; i++)
		if (!(slots[i].buf = malloc(bo.size + 1)))
			goto out;
	if (bench_open_transport(&b))
		goto out;
	rpc_cfg_default(&rcfg);
	rcfg.timeout_ms = bo.timeout_ms;
	if (bo.mtu)
		rcfg.mtu = bo.mtu;
	err = rpc_client_open(&rcfg, b.t, &b.rpc);
	if (err) {
		fprintf(stderr, "ferry bench: %s\n", strerror(-err));
		goto out;
	}
	if (bo.ctl && bench_fetch_map(&b))
		goto out;
	if (b.op != BENCH_PUT && !bo.no_preload && bo.size) {
		/* Every key exists before the timed run; bounded like the run. */
		struct bench_errors saved;
		bench_run(&b, slots, bo.concurrency, bo.keys,
			  util_now_ns() + 120ull * 1000000000ull, 1);
		saved = b.err;
		if (bench_errors_total(&saved)) {
			fprintf(stderr, "ferry bench: preloading %u keys of %llu bytes failed: timeout "
					"%llu, noent %llu, stale %llu, nospc %llu, badcrc %llu, busy %llu, "
					"other %llu%s%s\n", bo.keys, (unsigned long long)bo.size,
				(unsigned long long)saved.timeout, (unsigned long long)saved.noent,
				(unsigned long long)saved.stale, (unsigned long long)saved.nospc,
				(unsigned long long)saved.badcrc, (unsigned long long)saved.busy,
				(unsigned long long)saved.other, saved.other_last ? ", last: " : "",
				saved.other_last ? strerror(-saved.other_last) : "");
			goto out;
		}
	}
	cpu0 = bench_node_cpu_us(&b);
	t0 = util_now_ns();
	if (bo.duration_ms)
		deadline = t0 + (uint64_t)bo.duration_ms * 1000000ull;
	else
		deadline = t0 + 300ull * 1000000000ull; /* a count never runs past 5 min */
	bench_run(&b, slots, bo.concurrency, bo.duration_ms ? 0 : bo.count, deadline, 0);
	t1 = util_now_ns();
	cpu1 = bench_node_cpu_us(&b);
	secs = (double)(t1 - t0) / 1e9;
	bench_print(&b, secs > 0 ? secs : 1e-9, cpu0 >= 0 && cpu1 >= 0 ? cpu1 - cpu0 : -1);
	rc = bench_errors_total(&b.err) ? CLI_EXIT_FAIL : CLI_EXIT_OK;
out:
	if (b.rpc)
		rpc_client_close(b.rpc);
	if (b.t)
		b.t->ops->close(b.t);
	for (uint32_t i = 0; slots && i < bo.concurrency; i++)
		free(slots[i].buf);
	free(slots);
	free(b.payload);
	free(b.zipf_cdf);
	free(b.map);
	return rc;
}

static const struct opt_def bench_opts[] = {
	{ "node", 'n', OPT_STR, &bo.node, "ADDR:PORT", "node to load (default: $FERRY_NODE)", NULL },
	{ "ctl", 0, OPT_STR, &bo.ctl, "ADDR:PORT",
	  "load a cluster: route by its map (default: $FERRY_CTL)", NULL },
	{ "op", 'o', OPT_STR, &bo.op, "get|put|mixed", "operation (default get)", NULL },
	{ "size", 's', OPT_SIZE, &bo.size, "SIZE", "bytes per operation (default 4k)", NULL },
	{ "count", 0, OPT_U64, &bo.count, "N", "operations to run (default 1000)", NULL },
	{ "duration", 'd', OPT_MS, &bo.duration_ms, "TIME", "run for TIME instead of --count", NULL },
	{ "concurrency", 'c', OPT_U32, &bo.concurrency, "N", "requests in flight (default 32)", NULL },
	{ "keys", 'k', OPT_U32, &bo.keys, "N", "distinct chunks (default 1000)", NULL },
	{ "dist", 0, OPT_STR, &bo.dist, "uniform|zipf", "key distribution (default uniform)", NULL },
	{ "zipf-s", 0, OPT_DOUBLE, &bo.zipf_s, "S", "zipf exponent (default 0.99)", NULL },
	{ "get-percent", 0, OPT_U32, &bo.get_pct, "P", "GET share of --op mixed (default 90)", NULL },
	{ "transport", 't', OPT_STR, &bo.transport, "udp|xdp", "client transport (default udp)", NULL },
	{ "iface", 'i', OPT_STR, &bo.iface, "IF", "interface for --transport xdp", NULL },
	{ "local", 0, OPT_STR, &bo.local, "IP:PORT", "client address for --transport xdp", NULL },
	{ "timeout", 0, OPT_MS, &bo.timeout_ms, "TIME", "per-request timeout (default 2s)", NULL },
	{ "mtu", 0, OPT_U32, &bo.mtu, "BYTES", "path MTU (default 1500)", NULL },
	{ "no-preload", 0, OPT_FLAG, &bo.no_preload, NULL, "do not write the keys before GETs", NULL },
	{ "json", 0, OPT_FLAG, &bo.json, NULL, "print one JSON object", NULL },
	{ 0 },
};

const struct cmd_def cmd_bench = {
	.name = "bench", .args = "", .min_args = 0, .max_args = 0,
	.summary = "Load a node with chunk GETs/PUTs; report ops/s, MB/s, latency, node CPU.",
	.opts = bench_opts, .run = cmd_bench_run,
};
