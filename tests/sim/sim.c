/* SPDX-License-Identifier: Apache-2.0 */
/* sim.c - the deterministic cluster simulator (see sim.h). */
#include "sim/sim.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"
#include "cluster/ctl.h"
#include "cluster/map.h"
#include "cluster/place.h"
#include "common/env.h"
#include "common/log.h"
#include "common/util.h"
#include "node.h"
#include "sim/check.h"
#include "sim/simdisk.h"
#include "sim/simnet.h"
#include "storage/store.h"
#include "storage/store_int.h"

#define SIM_MAX_NODES    7
#define SIM_MAX_CLIENTS  5
#define SIM_TRACE_LINES  300
#define SIM_TRACE_LEN    200
#define SIM_DATA_PORT    7480
#define SIM_LINK_PORT    40000 /* a node's and a client's ctl-traffic socket */
#define SIM_CLIENT_PORT  40001
#define SIM_ADMIN_PORT   40003
#define SIM_CHUNK_MAX    (16u << 10) /* largest chunk the workload makes (PUT 8 KiB, WRITE to 9 KiB) */
#define SIM_DISK_MAX_CHUNK (64u << 10)
#define SIM_SPIN_LIMIT   200000 /* polls at one instant before it is a livelock */
#define MS               1000000ull
#define SEC              1000000000ull

enum { SP_CTL = 1, SP_NODE, SP_CLIENT, SP_ADMIN };
enum { PH_FAULTS = 1, PH_HEAL, PH_FINAL, PH_DONE };

struct sim;

/* A line of the trace, kept raw: formatting every line costs more than the
 * simulation, and only a failure prints them. */
struct sim_tline {
	uint64_t t;                /* simulated time */
	char who[8];               /* process */
	uint8_t is_op;             /* 1: a client op's outcome (the fields below) */
	uint8_t kind, maybe;       /* op: enum chk_kind, in doubt */
	uint32_t key, off, len, got; /* op */
	int err;                   /* op */
	uint64_t op_id, version;   /* op */
	char text[SIM_TRACE_LEN];  /* a log line */
};

/* One simulated process: its clock, its randomness, when it wants to run. */
struct sim_proc {
	struct sim *s;
	int kind;                  /* SP_* */
	int idx;                   /* within its kind */
	char name[12];             /* "ctl", "n2", "c1" */
	int host;                  /* simnet host */
	uint32_t ip;               /* its address */
	struct env env;            /* what the library under test gets */
	struct rng rng;            /* its randomness */
	int64_t offset_ns;         /* clock: local = offset + now * (1 + ppm/1e6) + jump */
	int32_t ppm;
	uint64_t jump_ns;
	uint64_t wake;             /* sim time it must run at latest */
	int dirty;                 /* input arrived */
	int up;                    /* running */
	uint64_t restart_at;       /* down: when it comes back (UINT64_MAX: not planned) */
	uint64_t pause_until;      /* paused (not run) until then */
	uint32_t incarnation;      /* restarts so far */
};

struct sim_node {
	struct sim_proc p;
	uint8_t uuid[16];
	char zone[8];
	struct simdisk *disk;
	struct store *store;
	struct transport *t, *ctl_t;
	struct node *node;
	int lost;                  /* its disk is gone for good: it never comes back */
	int declared;              /* ctl was told so */
	int damaged;               /* counted against the damage budget */
};

struct sim_ctl {
	struct sim_proc p;
	struct transport *t;
	struct ctl *ctl;
	uint8_t *state;            /* its state "disk": the saved map */
	size_t state_len;
	int have_state;
	int wipe;                  /* the next restart loses the state */
};

struct sim_client {
	struct sim_proc p;
	struct transport *t, *ctl_t;
	struct client *cl;
	struct client_op op;       /* the op in flight */
	int busy;
	uint8_t *wbuf, *rbuf;
	uint32_t pid;              /* process id in the history; new after an UNKNOWN */
	uint64_t next_op;          /* when to start the next op */
	uint64_t call_ns;          /* the op in flight: when it started */
	uint32_t key;              /* ... its key */
	uint8_t kind;              /* ... enum chk_kind */
	uint32_t off, len;         /* ... WRITE offset, payload bytes */
	uint64_t op_id;            /* ... its id */
	uint32_t final_key;        /* final phase: next key to do */
	int final_step;            /* final phase: 0 read, 1 write, 2 read back */
};

/* The operator: declares lost disks lost, as an admin would. */
struct sim_admin {
	struct sim_proc p;
	struct transport *t;
	struct rpc_client *rpc;
	struct rpc_call call;
	struct ctl_admin req;
	struct ctl_reply rep;
	int busy;
	int target;                /* node being declared */
};

/* A cut in the network, healed at a time. */
struct sim_cut {
	int a, b;                  /* hosts: a -> b is cut */
	uint64_t heal_at;
};

struct sim {
	struct sim_opts opts;
	/* knobs: the swarm this seed drew */
	uint32_t nnodes, nclients, replicas, min_copies, keys, zones;
	uint32_t down_ms, out_ms, heartbeat_ms;
	uint64_t fault_ns, heal_ns;
	uint64_t think_ns;          /* mean pause between a client's ops */
	uint64_t quiet_from, quiet_until; /* clients rest in [from, until): traffic comes in
				       bursts, and a resting cluster costs little to simulate */
	uint32_t w_kill, w_power_all, w_partition, w_ctl, w_net, w_clock, w_pause, w_damage;
	uint64_t disk_size;
	double scrub_mb_s, recovery_mb_s;
	struct rng rng;             /* the simulator's own draws (faults, workload) */
	uint64_t now;
	int phase;
	uint64_t phase_end;
	struct simnet *net;
	struct sim_ctl ctl;
	struct sim_node nodes[SIM_MAX_NODES];
	struct sim_client clients[SIM_MAX_CLIENTS];
	struct sim_admin admin;
	struct sim_proc *procs[SIM_MAX_NODES + SIM_MAX_CLIENTS + 2];
	int nprocs;
	struct sim_proc *cur;       /* running now (for the trace) */
	struct sim_cut cuts[64];
	int ncuts;
	uint64_t net_calm_at;       /* network faults end then */
	struct chk_history *hist;
	uint64_t next_op_id;
	uint32_t next_pid;
	uint64_t next_fault;
	int damage_left;            /* disks that may still be damaged for good */
	uint32_t flip_node;         /* +1: the node whose disk takes flips */
	struct sim_tline trace[SIM_TRACE_LINES]; /* the last lines, formatted when printed */
	uint64_t trace_n;
	char *faultlog;
	size_t faultlog_len, faultlog_cap;
	int failed;
	char why[512];
	struct sim_result *res;
	uint64_t hash;
};

/* ------------------------------------------------------------ clocks */

static uint64_t sim_local(const struct sim_proc *p, uint64_t now)
{
	__int128 drift = (__int128)now * p->ppm / 1000000;

	return (uint64_t)((__int128)p->offset_ns + now + drift + p->jump_ns);
}

/* The simulated time at which p's clock reads local (at least now). */
static uint64_t sim_at(const struct sim_proc *p, uint64_t local, uint64_t now)
{
	__int128 base = (__int128)local - p->offset_ns - p->jump_ns;
	uint64_t t;

	if (local == UINT64_MAX)
		return UINT64_MAX;
	if (base <= 0)
		return now;
	t = (uint64_t)((base * 1000000 + (1000000 + p->ppm) - 1) / (1000000 + p->ppm));
	while (sim_local(p, t) < local)
		t++;
	return t < now ? now : t;
}

static uint64_t sim_env_now(void *ctx)
{
	struct sim_proc *p = ctx;

	return sim_local(p, p->s->now);
}

static uint64_t sim_env_rand(void *ctx)
{
	struct sim_proc *p = ctx;

	return rng_next(&p->rng);
}

/* ------------------------------------------------------------ trace, failures */

static void sim_tline_format(const struct sim_tline *l, char *out, size_t cap)
{
	if (!l->is_op) {
		snprintf(out, cap, "[%10.6f %-4s] %s", (double)l->t / 1e9, l->who, l->text);
		return;
	}
	snprintf(out, cap, "[%10.6f %-4s] op %" PRIu64 " %s key %u off %u len %u: %s%s (got %u, "
		 "v %" PRIx64 ")", (double)l->t / 1e9, l->who, l->op_id,
		 l->kind == CHK_PUT ? "PUT" : l->kind == CHK_GET ? "GET" :
		 l->kind == CHK_DELETE ? "DELETE" : "WRITE", l->key, l->off, l->len,
		 l->err ? strerror(-l->err) : "ok", l->maybe ? " (maybe)" : "", l->got, l->version);
}

static struct sim_tline *sim_tline_new(struct sim *s, const char *who)
{
	struct sim_tline *l = &s->trace[s->trace_n++ % SIM_TRACE_LINES];

	l->t = s->now;
	l->is_op = 0;
	strncpy(l->who, who, sizeof(l->who) - 1);
	l->who[sizeof(l->who) - 1] = 0;
	return l;
}

static void sim_tline_done(struct sim *s, const struct sim_tline *l)
{
	char out[SIM_TRACE_LEN + 64];

	if (!s->opts.verbose)
		return;
	sim_tline_format(l, out, sizeof(out));
	fprintf(stderr, "%s\n", out);
}

static void sim_sink(enum log_level lvl, const char *line, void *arg)
{
	struct sim *s = arg;
	struct sim_tline *l = sim_tline_new(s, s->cur ? s->cur->name : "sim");

	(void)lvl;
	strncpy(l->text, line, sizeof(l->text) - 1);
	l->text[sizeof(l->text) - 1] = 0;
	sim_tline_done(s, l);
}

static void sim_trace(struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sim_trace(struct sim *s, const char *fmt, ...)
{
	char line[SIM_TRACE_LEN];
	struct sim_proc *cur = s->cur;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	s->cur = NULL;
	sim_sink(LOG_LVL_INFO, line, s);
	s->cur = cur;
}

/* A fault, in the schedule printed with a failure. */
static void sim_fault(struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sim_fault(struct sim *s, const char *fmt, ...)
{
	char line[256];
	int k;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	sim_trace(s, "FAULT %s", line);
	s->res->faults++;
	if (s->faultlog_len + 300 > s->faultlog_cap) {
		size_t cap = s->faultlog_cap ? s->faultlog_cap * 2 : 8192;
		char *p = realloc(s->faultlog, cap);

		if (!p)
			return;
		s->faultlog = p;
		s->faultlog_cap = cap;
	}
	k = snprintf(s->faultlog + s->faultlog_len, s->faultlog_cap - s->faultlog_len,
		     "  %10.3f s  %s\n", (double)s->now / 1e9, line);
	if (k > 0)
		s->faultlog_len += (size_t)k;
}

static void sim_fail(struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sim_fail(struct sim *s, const char *fmt, ...)
{
	va_list ap;

	if (s->failed)
		return;
	s->failed = 1;
	va_start(ap, fmt);
	vsnprintf(s->why, sizeof(s->why), fmt, ap);
	va_end(ap);
	sim_trace(s, "FAILED: %s", s->why);
}

static void sim_hash(struct sim *s, uint64_t v)
{
	s->hash = (s->hash ^ v) * 0x100000001b3ull;
}

/* ------------------------------------------------------------ processes */

static void sim_proc_init(struct sim *s, struct sim_proc *p, int kind, int idx, uint32_t ip)
{
	p->s = s;
	p->kind = kind;
	p->idx = idx;
	snprintf(p->name, sizeof(p->name), "%s%d", kind == SP_CTL ? "ctl" : kind == SP_NODE ? "n" :
		 kind == SP_CLIENT ? "c" : "op", kind == SP_CTL || kind == SP_ADMIN ? 0 : idx);
	if (kind == SP_CTL)
		snprintf(p->name, sizeof(p->name), "ctl");
	if (kind == SP_ADMIN)
		snprintf(p->name, sizeof(p->name), "op");
	p->ip = ip;
	p->host = simnet_host(s->net, ip);
	/* Clocks start anywhere and run at rates within 0.1% of each other:
	 * the bound leases rely on (ctl.h). */
	p->offset_ns = (int64_t)(SEC + rng_below(&s->rng, 1000 * SEC));
	p->ppm = (int32_t)rng_below(&s->rng, 2001) - 1000;
	p->env.now_ns = sim_env_now;
	p->env.rand64 = sim_env_rand;
	p->env.ctx = p;
	p->wake = UINT64_MAX;
	p->restart_at = UINT64_MAX;
	rng_seed(&p->rng, rng_next(&s->rng));
	s->procs[s->nprocs++] = p;
}

/* ctl's state "disk" */
static int sim_ctl_load(void *ctx, struct cmap *m)
{
	struct sim_ctl *c = ctx;

	if (!c->have_state)
		return -ENOENT;
	return map_parse(c->state, c->state_len, m);
}

static int sim_ctl_save(void *ctx, const struct cmap *m)
{
	struct sim_ctl *c = ctx;
	int len = map_encode(m, c->state, MAP_MAX_LEN);

	if (len < 0)
		return len;
	c->state_len = (size_t)len;
	c->have_state = 1;
	return 0;
}

static void sim_ctl_start(struct sim *s)
{
	struct sim_ctl *c = &s->ctl;
	struct ctl_cfg cfg = {
		.replicas = s->replicas, .min_copies = s->min_copies,
		.down_after_ms = s->down_ms, .out_after_ms = s->out_ms,
	};
	struct ctl_deps deps = { .env = &c->p.env, .state = { sim_ctl_load, sim_ctl_save, c } };
	int err;

	if (c->wipe) {
		c->have_state = 0;
		c->wipe = 0;
	}
	c->t = simnet_open(s->net, c->p.host, CTL_PORT_DEFAULT);
	deps.t = c->t;
	s->cur = &c->p;
	err = ctl_open(&cfg, &deps, &c->ctl);
	s->cur = NULL;
	if (err) {
		sim_fail(s, "ctl did not start: %s", strerror(-err));
		simnet_close(c->t);
		return;
	}
	c->p.up = 1;
	c->p.incarnation++;
	c->p.restart_at = UINT64_MAX;
	c->p.dirty = 1;
}

static void sim_ctl_kill(struct sim *s)
{
	struct sim_ctl *c = &s->ctl;

	if (!c->p.up)
		return;
	simnet_close(c->t);
	s->cur = &c->p;
	ctl_close(c->ctl);
	s->cur = NULL;
	c->ctl = NULL;
	c->p.up = 0;
	c->p.wake = UINT64_MAX;
}

static int sim_node_start(struct sim *s, struct sim_node *n)
{
	struct store_cfg scfg = { .path = n->p.name, .scrub_mb_s = s->scrub_mb_s };
	struct node_cfg cfg = {
		.mtu = SIMNET_MTU, .zone = n->zone, .scrub_mb_s = s->scrub_mb_s, .weight = 1.0,
		.recovery_mb_s = s->recovery_mb_s, .heartbeat_ms = s->heartbeat_ms,
	};
	struct node_deps deps = { .env = &n->p.env, .npaths = 1 };
	int err;

	if (!simdisk_powered(n->disk))
		simdisk_power_on(n->disk);
	s->cur = &n->p;
	err = store_open_io(&scfg, &simdisk_ops, n->disk, 0, &n->store);
	if (err) {
		s->cur = NULL;
		sim_trace(s, "%s: store does not open: %s", n->p.name, strerror(-err));
		return err;
	}
	n->t = simnet_open(s->net, n->p.host, SIM_DATA_PORT);
	n->ctl_t = simnet_open(s->net, n->p.host, SIM_LINK_PORT);
	deps.store = n->store;
	deps.paths[0] = n->t;
	deps.ctl_t = n->ctl_t;
	deps.self = simnet_addr(n->p.ip, SIM_DATA_PORT);
	deps.ctl = simnet_addr(s->ctl.p.ip, CTL_PORT_DEFAULT);
	err = node_open(&cfg, &deps, &n->node);
	s->cur = NULL;
	if (err) {
		simnet_close(n->t);
		simnet_close(n->ctl_t);
		store_close(n->store);
		sim_trace(s, "%s: node does not start: %s", n->p.name, strerror(-err));
		return err;
	}
	n->p.up = 1;
	n->p.incarnation++;
	n->p.restart_at = UINT64_MAX;
	n->p.dirty = 1;
	n->p.pause_until = 0;
	return 0;
}

/* kill -9 and power loss at once: what the disk had not made durable is
 * dropped or torn; the process says nothing more. */
static void sim_node_kill(struct sim *s, struct sim_node *n)
{
	if (!n->p.up)
		return;
	simdisk_power_loss(n->disk);
	simnet_close(n->t);
	simnet_close(n->ctl_t);
	s->cur = &n->p;
	node_close(n->node);
	store_close(n->store);
	s->cur = NULL;
	n->node = NULL;
	n->store = NULL;
	n->p.up = 0;
	n->p.wake = UINT64_MAX;
}

/* ------------------------------------------------------------ the admin */

static void sim_admin_done(struct rpc_call *c)
{
	struct sim_admin *a = (struct sim_admin *)((char *)c - offsetof(struct sim_admin, call));
	struct sim_node *n = &a->p.s->nodes[a->target];

	a->busy = 0;
	if (!c->err && c->status == 0) {
		n->declared = 1;
		sim_trace(a->p.s, "op: %s declared lost", n->p.name);
	}
}

/* Declare lost nodes lost, one call at a time (retried while ctl is away
 * or still thinks the node up). */
static void sim_admin_work(struct sim *s)
{
	struct sim_admin *a = &s->admin;

	if (a->busy || !s->ctl.p.up)
		return;
	for (uint32_t i = 0; i < s->nnodes; i++) {
		struct sim_node *n = &s->nodes[i];

		if (!n->lost || n->declared)
			continue;
		a->target = (int)i;
		memset(&a->req, 0, sizeof(a->req));
		a->req.magic = CTL_MAGIC;
		a->req.cmd = CTL_ADMIN_LOST;
		memcpy(a->req.node, n->uuid, 16);
		memset(&a->call, 0, sizeof(a->call));
		a->call.peer = simnet_addr(s->ctl.p.ip, CTL_PORT_DEFAULT);
		a->call.op = FERRY_OP_CTL_ADMIN;
		a->call.req = (const uint8_t *)&a->req;
		a->call.req_len = sizeof(a->req);
		a->call.resp = (uint8_t *)&a->rep;
		a->call.resp_cap = sizeof(a->rep);
		a->call.done = sim_admin_done;
		if (rpc_client_start(a->rpc, &a->call) == 0)
			a->busy = 1;
		return;
	}
}

static void sim_admin_poll(struct sim *s)
{
	struct sim_admin *a = &s->admin;
	struct net_pkt pkts[16];
	int n;

	while ((n = a->t->ops->rx_burst(a->t, pkts, 16)) > 0) {
		for (int i = 0; i < n; i++)
			rpc_client_input(a->rpc, &pkts[i]);
		a->t->ops->rx_release(a->t, pkts, n);
	}
	sim_admin_work(s);
	rpc_client_tick(a->rpc, sim_local(&a->p, s->now));
	a->p.wake = sim_at(&a->p, rpc_client_next_deadline(a->rpc), s->now);
	if (!a->busy && (s->phase == PH_HEAL || s->phase == PH_FINAL))
		a->p.wake = MIN(a->p.wake, s->now + 200 * MS);
}

/* ------------------------------------------------------------ the workload */

static void sim_chunk_id(uint32_t key, uint8_t id[16])
{
	memset(id, 0, 16);
	id[0] = 0x5a; /* not a manifest, data or bench chunk */
	memcpy(id + 1, &key, sizeof(key));
	memcpy(id + 8, "sim-key", 7);
}

static void sim_record(struct sim *s, struct sim_client *c)
{
	struct client_op *op = &c->op;
	struct chk_op h = {
		.client = c->pid, .key = c->key, .kind = c->kind, .call_ns = c->call_ns,
		.ret_ns = s->now, .id = c->op_id,
	};
	char why[160];
	int err;

	s->res->ops++;
	if (op->err == 0 || (op->err == -ENOENT && (c->kind == CHK_GET || c->kind == CHK_WRITE))) {
		h.outcome = CHK_OK;
		h.noent = op->err == -ENOENT;
		s->res->ops_ok++;
	} else if (op->maybe) {
		h.outcome = CHK_UNKNOWN;
		h.giveup_ns = s->now; /* the client is done with it: check.h bounds it from here */
		s->res->ops_unknown++;
	} else {
		h.outcome = CHK_FAIL;
		s->res->ops_failed++;
	}
	switch (c->kind) {
	case CHK_PUT:
		h.data = c->wbuf;
		h.len = c->len;
		break;
	case CHK_WRITE:
		h.data = c->wbuf;
		h.len = c->len;
		h.off = c->off;
		break;
	case CHK_GET:
		if (h.outcome == CHK_OK && !h.noent) {
			h.data = c->rbuf;
			h.len = op->got;
			if (s->opts.break_read_at && s->now >= s->opts.break_read_at * SEC &&
			    op->got) {
				c->rbuf[op->got / 2] ^= 0x10; /* a test of the checks */
				s->opts.break_read_at = 0;
			}
			if (chk_verify(c->rbuf, op->got, c->key, why, sizeof(why))) {
				char desc[256];

				chk_describe(c->rbuf, op->got, c->key, desc, sizeof(desc));
				sim_fail(s, "integrity: %s read key %u (op %" PRIu64 ") and got bytes "
					 "no write made: %s [%s]", c->p.name, c->key, c->op_id, why,
					 desc);
			}
		}
		break;
	default:
		break;
	}
	sim_hash(s, (uint64_t)op->err * 31 + op->maybe + op->got);
	{
		struct sim_tline *l = sim_tline_new(s, c->p.name);

		l->is_op = 1;
		l->kind = c->kind;
		l->maybe = (uint8_t)op->maybe;
		l->key = c->key;
		l->off = c->off;
		l->len = c->len;
		l->got = op->got;
		l->err = op->err;
		l->op_id = c->op_id;
		l->version = op->version;
		sim_tline_done(s, l);
	}
	err = chk_history_add(s->hist, &h);
	if (err)
		sim_fail(s, "history: cannot record op %" PRIu64 ": %s", c->op_id, strerror(-err));
	if (h.outcome == CHK_UNKNOWN)
		c->pid = s->next_pid++; /* Knossos: a process with an op in doubt is gone */
	if (s->phase == PH_FINAL && h.outcome != CHK_OK)
		sim_fail(s, "liveness: %s's final %s of key %u failed after the cluster healed: "
			 "%s%s", c->p.name, c->kind == CHK_PUT ? "write" : "read", c->key,
			 strerror(-op->err), op->maybe ? " (in doubt)" : "");
}

static void sim_op_done(struct client_op *op)
{
	struct sim_client *c = op->arg;
	struct sim *s = c->p.s;

	c->busy = 0;
	sim_record(s, c);
	c->next_op = s->now + (s->think_ns ? rng_below(&s->rng, 2 * s->think_ns) : 0);
}

static void sim_op_start(struct sim *s, struct sim_client *c, uint8_t kind, uint32_t key)
{
	struct client_op *op = &c->op;
	uint32_t r;

	memset(op, 0, sizeof(*op));
	sim_chunk_id(key, op->id);
	op->done = sim_op_done;
	op->arg = c;
	c->key = key;
	c->kind = kind;
	c->op_id = ++s->next_op_id;
	c->off = c->len = 0;
	switch (kind) {
	case CHK_PUT:
		r = (uint32_t)rng_below(&s->rng, 128);
		c->len = r ? r * 64 : 0; /* 0 to 8 KiB, sometimes empty */
		chk_fill(c->wbuf, c->len, key, c->op_id, 0);
		op->op = FERRY_OP_PUT;
		op->req = c->wbuf;
		op->req_len = c->len;
		break;
	case CHK_WRITE:
		c->off = (uint32_t)rng_below(&s->rng, 128) * 64;
		c->len = ((uint32_t)rng_below(&s->rng, 16) + 1) * 64;
		chk_fill(c->wbuf, c->len, key, c->op_id, c->off);
		op->op = FERRY_OP_WRITE;
		op->off = c->off;
		op->req = c->wbuf;
		op->req_len = c->len;
		break;
	case CHK_DELETE:
		op->op = FERRY_OP_DELETE;
		break;
	default:
		op->op = FERRY_OP_GET;
		op->resp = c->rbuf;
		op->resp_cap = SIM_CHUNK_MAX;
		break;
	}
	c->call_ns = s->now;
	c->busy = 1;
	s->cur = &c->p;
	if (client_submit(c->cl, op)) {
		c->busy = 0;
		sim_fail(s, "%s cannot submit an op", c->p.name);
	}
	s->cur = NULL;
	c->p.dirty = 1;
}

/* Start the client's next op if it is time. */
static void sim_client_work(struct sim *s, struct sim_client *c)
{
	uint32_t r;

	if (c->busy)
		return;
	if (s->phase == PH_FAULTS) {
		if (s->now < c->next_op)
			return;
		if (s->now >= s->quiet_from && s->now < s->quiet_until) {
			c->next_op = s->quiet_until + rng_below(&s->rng, s->think_ns + 1);
			return;
		}
		r = (uint32_t)rng_below(&s->rng, 100);
		sim_op_start(s, c, r < 35 ? CHK_PUT : r < 75 ? CHK_GET : r < 85 ? CHK_DELETE : CHK_WRITE,
			     (uint32_t)rng_below(&s->rng, s->keys));
		return;
	}
	if (s->phase != PH_FINAL || c->final_key >= s->keys)
		return;
	/* Final: this client's share of the keys - read what survived, write,
	 * read it back. Every one must succeed. */
	sim_op_start(s, c, c->final_step == 1 ? CHK_PUT : CHK_GET, c->final_key);
	if (++c->final_step == 3) {
		c->final_step = 0;
		c->final_key += s->nclients;
	}
}

/* ------------------------------------------------------------ running processes */

static void sim_poll_proc(struct sim *s, struct sim_proc *p)
{
	uint64_t local = sim_local(p, s->now), due = UINT64_MAX;
	int r;

	s->cur = p;
	p->dirty = 0;
	s->res->events++;
	switch (p->kind) {
	case SP_CTL:
		ctl_poll(s->ctl.ctl, local);
		due = ctl_next_deadline(s->ctl.ctl);
		break;
	case SP_NODE: {
		struct sim_node *n = (struct sim_node *)p;

		r = node_poll(n->node, local);
		if (r < 0) {
			s->cur = NULL;
			sim_trace(s, "%s stopped: %s", p->name, strerror(-r));
			/* refused by ctl: a node that must not run; it stays down */
			sim_node_kill(s, n);
			return;
		}
		due = node_next_deadline(n->node);
		break;
	}
	case SP_CLIENT: {
		struct sim_client *c = (struct sim_client *)p;

		client_poll(c->cl, local);
		sim_client_work(s, c);
		due = client_next_deadline(c->cl);
		if (!c->busy && (s->phase == PH_FAULTS ||
				 (s->phase == PH_FINAL && c->final_key < s->keys)))
			due = MIN(due, sim_local(p, MAX(c->next_op, s->now)));
		break;
	}
	case SP_ADMIN:
		sim_admin_poll(s);
		s->cur = NULL;
		return;
	}
	s->cur = NULL;
	p->wake = sim_at(p, due, s->now);
}

static void sim_woke(void *arg, int host)
{
	struct sim *s = arg;

	for (int i = 0; i < s->nprocs; i++)
		if (s->procs[i]->host == host)
			s->procs[i]->dirty = 1;
}

/* ------------------------------------------------------------ faults */

static struct sim_node *sim_pick_node(struct sim *s, int up)
{
	uint32_t cand[SIM_MAX_NODES], k = 0;

	for (uint32_t i = 0; i < s->nnodes; i++)
		if (!s->nodes[i].lost && s->nodes[i].p.up == up)
			cand[k++] = i;
	return k ? &s->nodes[cand[rng_below(&s->rng, k)]] : NULL;
}

static void sim_cut(struct sim *s, int a, int b, uint64_t heal_at)
{
	if (s->ncuts == (int)ARRAY_SIZE(s->cuts))
		return;
	simnet_cut(s->net, a, b, 1);
	s->cuts[s->ncuts++] = (struct sim_cut){ a, b, heal_at };
}

static void sim_heal_cuts(struct sim *s, int all)
{
	for (int i = 0; i < s->ncuts;) {
		if (all || s->now >= s->cuts[i].heal_at) {
			simnet_cut(s->net, s->cuts[i].a, s->cuts[i].b, 0);
			s->cuts[i] = s->cuts[--s->ncuts];
			continue;
		}
		i++;
	}
	/* overlapping cuts of one pair: whatever is still listed stays cut */
	for (int i = 0; i < s->ncuts; i++)
		simnet_cut(s->net, s->cuts[i].a, s->cuts[i].b, 1);
}

static uint64_t sim_between(struct sim *s, uint64_t lo, uint64_t hi)
{
	return lo + (hi > lo ? rng_below(&s->rng, hi - lo + 1) : 0);
}

static void sim_fault_partition(struct sim *s)
{
	uint64_t heal = s->now + sim_between(s, 200 * MS, 12 * SEC);
	struct sim_node *n = sim_pick_node(s, 1);
	uint32_t kind = (uint32_t)rng_below(&s->rng, 6);

	if (!n)
		return;
	switch (kind) {
	case 0: /* node <-> ctl */
		sim_cut(s, n->p.host, s->ctl.p.host, heal);
		sim_cut(s, s->ctl.p.host, n->p.host, heal);
		sim_fault(s, "partition %s <-> ctl for %.1f s", n->p.name, (heal - s->now) / 1e9);
		break;
	case 1: /* node -> ctl only: its heartbeats are lost, ctl's answers would arrive */
		sim_cut(s, n->p.host, s->ctl.p.host, heal);
		sim_fault(s, "partition %s -> ctl (one way) for %.1f s", n->p.name,
			  (heal - s->now) / 1e9);
		break;
	case 2: { /* node <-> node, or one way */
		struct sim_node *o = sim_pick_node(s, 1);
		int oneway = (int)rng_below(&s->rng, 2);

		if (!o || o == n)
			return;
		sim_cut(s, n->p.host, o->p.host, heal);
		if (!oneway)
			sim_cut(s, o->p.host, n->p.host, heal);
		sim_fault(s, "partition %s %s %s for %.1f s", n->p.name, oneway ? "->" : "<->",
			  o->p.name, (heal - s->now) / 1e9);
		break;
	}
	case 3: { /* a client <-> a node */
		struct sim_client *c = &s->clients[rng_below(&s->rng, s->nclients)];

		sim_cut(s, c->p.host, n->p.host, heal);
		sim_cut(s, n->p.host, c->p.host, heal);
		sim_fault(s, "partition %s <-> %s for %.1f s", c->p.name, n->p.name,
			  (heal - s->now) / 1e9);
		break;
	}
	case 4: /* node isolated from everyone */
		for (int i = 0; i < s->nprocs; i++) {
			int h = s->procs[i]->host;

			if (h == n->p.host)
				continue;
			sim_cut(s, n->p.host, h, heal);
			sim_cut(s, h, n->p.host, heal);
		}
		sim_fault(s, "partition: %s isolated for %.1f s", n->p.name, (heal - s->now) / 1e9);
		break;
	default: { /* a minority of nodes (maybe with ctl) split from the rest */
		uint8_t side[SIM_MAX_NODES] = { 0 };
		uint32_t k = (uint32_t)rng_below(&s->rng, s->nnodes / 2 + 1);
		int ctl_side = (int)rng_below(&s->rng, 2);
		char who[64] = "";

		if (!k)
			k = 1;
		for (uint32_t j = 0; j < k; j++) {
			uint32_t i = (uint32_t)rng_below(&s->rng, s->nnodes);
			side[i] = 1;
		}
		for (uint32_t i = 0; i < s->nnodes; i++) {
			if (side[i])
				snprintf(who + strlen(who), sizeof(who) - strlen(who), " %s",
					 s->nodes[i].p.name);
			for (uint32_t j = 0; j < s->nnodes; j++)
				if (side[i] && !side[j]) {
					sim_cut(s, s->nodes[i].p.host, s->nodes[j].p.host, heal);
					sim_cut(s, s->nodes[j].p.host, s->nodes[i].p.host, heal);
				}
			if (side[i] != ctl_side) {
				sim_cut(s, s->nodes[i].p.host, s->ctl.p.host, heal);
				sim_cut(s, s->ctl.p.host, s->nodes[i].p.host, heal);
			}
		}
		sim_fault(s, "partition: {%s%s } split from the rest for %.1f s", who,
			  ctl_side ? " ctl" : "", (heal - s->now) / 1e9);
		break;
	}
	}
}

static void sim_fault_kill(struct sim *s)
{
	struct sim_node *n = sim_pick_node(s, 1);
	uint32_t how = (uint32_t)rng_below(&s->rng, 3);
	uint64_t back;

	if (!n)
		return;
	/* back soon; after down; or after out */
	back = how == 0 ? sim_between(s, 100 * MS, (uint64_t)s->down_ms * MS / 2)
	     : how == 1 ? sim_between(s, (uint64_t)s->down_ms * MS, (uint64_t)s->out_ms * MS)
			: sim_between(s, (uint64_t)s->out_ms * MS, 3ull * s->out_ms * MS);
	sim_node_kill(s, n);
	n->p.restart_at = s->now + back;
	sim_fault(s, "kill -9 + power loss of %s; back in %.1f s", n->p.name, back / 1e9);
}

/* The scenario: the whole cluster loses power for longer than the
 * out window; ctl comes back first, then the nodes one by one. */
static void sim_fault_power_all(struct sim *s)
{
	uint64_t at = s->now + sim_between(s, 500 * MS, 3 * SEC);
	uint32_t order[SIM_MAX_NODES];

	sim_fault(s, "whole-cluster power loss: ctl back in %.1f s, nodes one by one after "
		  "the out window", (at - s->now) / 1e9);
	for (uint32_t i = 0; i < s->nnodes; i++) {
		sim_node_kill(s, &s->nodes[i]);
		order[i] = i;
	}
	sim_ctl_kill(s);
	s->ctl.p.restart_at = at;
	for (uint32_t i = s->nnodes; i > 1; i--) { /* any order */
		uint32_t j = (uint32_t)rng_below(&s->rng, i), t = order[i - 1];
		order[i - 1] = order[j];
		order[j] = t;
	}
	at += (uint64_t)s->out_ms * MS + sim_between(s, 0, (uint64_t)s->out_ms * MS);
	for (uint32_t i = 0; i < s->nnodes; i++) {
		struct sim_node *n = &s->nodes[order[i]];

		if (n->lost)
			continue;
		n->p.restart_at = at;
		at += sim_between(s, 200 * MS, (uint64_t)s->out_ms * MS);
	}
}

static void sim_fault_ctl(struct sim *s)
{
	uint64_t back = sim_between(s, 100 * MS, 5 * SEC);

	if (!s->ctl.p.up)
		return;
	sim_ctl_kill(s);
	s->ctl.p.restart_at = s->now + back;
	if (rng_chance(&s->rng, 200000)) {
		s->ctl.wipe = 1;
		sim_fault(s, "kill ctl and lose its state directory; back in %.1f s", back / 1e9);
	} else {
		sim_fault(s, "kill ctl; back in %.1f s", back / 1e9);
	}
}

static void sim_fault_net(struct sim *s)
{
	struct simnet_faults f = {
		.loss_pm = (uint32_t)rng_below(&s->rng, 60000),
		.dup_pm = (uint32_t)rng_below(&s->rng, 30000),
		.corrupt_pm = (uint32_t)rng_below(&s->rng, 5000),
		.delay_min_ns = 20000,
		.delay_max_ns = sim_between(s, 100000, 30 * MS),
	};
	uint64_t dur = sim_between(s, 1 * SEC, 20 * SEC);

	simnet_set_faults(s->net, &f);
	s->net_calm_at = s->now + dur;
	sim_fault(s, "network: loss %.1f%%, dup %.1f%%, corrupt %.2f%%, delay up to %.1f ms for "
		  "%.1f s", f.loss_pm / 1e4, f.dup_pm / 1e4, f.corrupt_pm / 1e4,
		  f.delay_max_ns / 1e6, dur / 1e9);
}

static void sim_net_calm(struct sim *s)
{
	struct simnet_faults f = { .delay_min_ns = 20000, .delay_max_ns = 300000 };

	simnet_set_faults(s->net, &f);
	s->net_calm_at = UINT64_MAX;
}

static void sim_fault_clock(struct sim *s)
{
	struct sim_proc *p = s->procs[rng_below(&s->rng, (uint64_t)s->nprocs)];

	if (p->kind == SP_CTL || p->kind == SP_ADMIN) {
		/* ctl's clock does not step (monotonic clocks do not); a stall
		 * of ctl is modelled as a pause instead, which is what a step
		 * of CLOCK_MONOTONIC would look like from outside */
		return;
	}
	p->jump_ns += sim_between(s, 10 * MS, 3 * SEC);
	p->dirty = 1;
	sim_fault(s, "clock of %s jumps forward (now %.3f s ahead)", p->name, p->jump_ns / 1e9);
}

static void sim_fault_pause(struct sim *s)
{
	struct sim_proc *p = s->procs[rng_below(&s->rng, (uint64_t)s->nprocs)];
	uint64_t dur = sim_between(s, 10 * MS, 4 * SEC);

	if (!p->up || p->kind == SP_ADMIN)
		return;
	p->pause_until = s->now + dur;
	sim_fault(s, "%s pauses for %.2f s", p->name, dur / 1e9);
}

/* Damage within the budget: a disk lost for good, a failed disk, or bit
 * flips on one node's disk. */
static void sim_fault_damage(struct sim *s)
{
	struct sim_node *n;
	uint32_t how = (uint32_t)rng_below(&s->rng, 3);

	if (s->damage_left <= 0 && !(how == 2 && s->flip_node))
		return;
	if (how == 2 && s->flip_node) {
		n = &s->nodes[s->flip_node - 1];
	} else {
		n = sim_pick_node(s, 1);
		if (!n || n->damaged)
			return;
	}
	if (how == 0) {
		sim_node_kill(s, n);
		n->lost = 1;
		n->damaged = 1;
		s->damage_left--;
		sim_fault(s, "%s's disk is destroyed: it never comes back", n->p.name);
	} else if (how == 1) {
		simdisk_fail(n->disk);
		n->damaged = 1;
		s->damage_left--;
		sim_fault(s, "%s's disk fails: every request gets EIO from now on", n->p.name);
	} else {
		struct simdisk_counters dc;
		int k = 1 + (int)rng_below(&s->rng, 8);

		if (!s->flip_node) {
			s->flip_node = (uint32_t)(n - s->nodes) + 1;
			n->damaged = 1;
			s->damage_left--;
		}
		simdisk_get_counters(n->disk, &dc);
		for (int i = 0; i < k; i++)
			simdisk_flip(n->disk, rng_below(&s->rng, s->disk_size / 512) * 512 +
						      rng_below(&s->rng, 512));
		sim_fault(s, "%d silent bit flips on %s's disk", k, n->p.name);
	}
}

static void sim_inject(struct sim *s)
{
	uint32_t total = s->w_kill + s->w_power_all + s->w_partition + s->w_ctl + s->w_net +
			 s->w_clock + s->w_pause + s->w_damage;
	uint32_t r = (uint32_t)rng_below(&s->rng, total ? total : 1);

	if (r < s->w_kill)
		sim_fault_kill(s);
	else if ((r -= s->w_kill) < s->w_power_all)
		sim_fault_power_all(s);
	else if ((r -= s->w_power_all) < s->w_partition)
		sim_fault_partition(s);
	else if ((r -= s->w_partition) < s->w_ctl)
		sim_fault_ctl(s);
	else if ((r -= s->w_ctl) < s->w_net)
		sim_fault_net(s);
	else if ((r -= s->w_net) < s->w_clock)
		sim_fault_clock(s);
	else if ((r -= s->w_clock) < s->w_pause)
		sim_fault_pause(s);
	else
		sim_fault_damage(s);
}

/* Restarts that are due. */
static void sim_restarts(struct sim *s)
{
	if (!s->ctl.p.up && s->now >= s->ctl.p.restart_at) {
		sim_ctl_start(s);
		sim_trace(s, "ctl restarted%s", s->ctl.have_state ? "" : " without state");
	}
	for (uint32_t i = 0; i < s->nnodes; i++) {
		struct sim_node *n = &s->nodes[i];

		if (n->p.up || n->lost || s->now < n->p.restart_at)
			continue;
		if (sim_node_start(s, n)) {
			/* a disk that cannot be opened (it failed) is lost */
			n->lost = 1;
			n->p.restart_at = UINT64_MAX;
			if (!n->damaged) {
				n->damaged = 1;
				s->damage_left--;
			}
			continue;
		}
		sim_trace(s, "%s restarted", n->p.name);
	}
}

/* ------------------------------------------------------------ the seed's knobs */

static void sim_knobs(struct sim *s)
{
	struct rng *r = &s->rng;

	s->nnodes = 3 + (uint32_t)rng_below(r, SIM_MAX_NODES - 2);
	s->replicas = 1 + (uint32_t)rng_below(r, MIN(3u, s->nnodes));
	if (s->replicas == 1 && rng_chance(r, 700000))
		s->replicas = 3; /* mostly replicated */
	/* min_copies = R tests the strongest promise (R - 1 disks lost for
	 * good); the default (R - R/2) the common setting */
	s->min_copies = rng_chance(r, 300000) ? s->replicas : s->replicas - s->replicas / 2;
	s->nclients = 2 + (uint32_t)rng_below(r, SIM_MAX_CLIENTS - 1);
	s->keys = 2 + (uint32_t)rng_below(r, 10);
	s->zones = 1 + (uint32_t)rng_below(r, s->nnodes);
	s->heartbeat_ms = 150 + 50 * (uint32_t)rng_below(r, 8);
	s->down_ms = s->heartbeat_ms * (4 + (uint32_t)rng_below(r, 8));
	s->out_ms = s->down_ms * (2 + (uint32_t)rng_below(r, 6));
	s->fault_ns = (30 + rng_below(r, 600)) * SEC;
	/* Between ops a client thinks 20-420 ms: with 2-5 clients on 2-11 keys,
	 * and ops that take tens of ms under faults, writers still race. */
	s->think_ns = (20 + rng_below(r, 400)) * MS;
	s->disk_size = 32ull << 20;
	s->scrub_mb_s = rng_chance(r, 500000) ? 0.02 : 0; /* a pass every few seconds */
	s->recovery_mb_s = rng_chance(r, 500000) ? 0 : 2.0;
	s->w_kill = (uint32_t)rng_below(r, 10);
	s->w_power_all = rng_chance(r, 400000) ? 1 + (uint32_t)rng_below(r, 2) : 0;
	s->w_partition = (uint32_t)rng_below(r, 10);
	s->w_ctl = (uint32_t)rng_below(r, 5);
	s->w_net = (uint32_t)rng_below(r, 6);
	s->w_clock = (uint32_t)rng_below(r, 4);
	s->w_pause = (uint32_t)rng_below(r, 4);
	s->w_damage = (uint32_t)rng_below(r, 3);
	/* Disks lost for good: fewer than min_copies (the durability promise),
	 * and enough nodes left to take writes afterwards (liveness). */
	s->damage_left = (int)MIN(s->min_copies - 1, s->nnodes - s->min_copies);
	if (s->opts.fault_s)
		s->fault_ns = s->opts.fault_s * SEC;
	/* healing takes at most: every node back (out window), a walk each,
	 * ctl's clean epoch - with plenty of room */
	s->heal_ns = 120 * SEC + 4ull * s->out_ms * MS;
}

static void sim_print_knobs(struct sim *s, FILE *f)
{
	fprintf(f, "  nodes %u, R %u, min copies %u, zones %u, clients %u, keys %u, think %.0f ms\n"
		   "  heartbeat %u ms, down after %u ms, out after %u ms, fault phase %.0f s\n"
		   "  scrub %.0f MB/s, recovery %s, weights kill %u power-all %u partition %u "
		   "ctl %u net %u clock %u pause %u damage %u (budget %d)\n",
		s->nnodes, s->replicas, s->min_copies, s->zones, s->nclients, s->keys,
		s->think_ns / 1e6, s->heartbeat_ms, s->down_ms, s->out_ms, s->fault_ns / 1e9, s->scrub_mb_s,
		s->recovery_mb_s > 0 ? "2 MB/s" : "unlimited", s->w_kill, s->w_power_all,
		s->w_partition, s->w_ctl, s->w_net, s->w_clock, s->w_pause, s->w_damage,
		(int)MIN(s->min_copies - 1, s->nnodes - s->min_copies));
}

/* ------------------------------------------------------------ setup */

static int sim_setup(struct sim *s)
{
	struct simdisk_cfg dcfg = { .size = 0 };
	uint8_t cluster[16];

	s->net = simnet_new(rng_next(&s->rng));
	s->hist = chk_history_new();
	if (!s->net || !s->hist)
		return -ENOMEM;
	sim_net_calm(s);
	for (int i = 0; i < 16; i++)
		cluster[i] = (uint8_t)rng_next(&s->rng);
	s->ctl.state = malloc(MAP_MAX_LEN);
	if (!s->ctl.state)
		return -ENOMEM;
	sim_proc_init(s, &s->ctl.p, SP_CTL, 0, 0x0a000002);
	for (uint32_t i = 0; i < s->nnodes; i++) {
		struct sim_node *n = &s->nodes[i];
		struct store_format_cfg fc = { .max_chunk = SIM_DISK_MAX_CHUNK,
					       .created = 1767225600 /* fixed: reproducible */ };
		uint8_t disk_uuid[16];
		int err;

		sim_proc_init(s, &n->p, SP_NODE, (int)i + 1, 0x0a000010 + i);
		for (int k = 0; k < 16; k++) {
			n->uuid[k] = (uint8_t)rng_next(&s->rng);
			disk_uuid[k] = (uint8_t)rng_next(&s->rng);
		}
		n->uuid[6] = (uint8_t)((n->uuid[6] & 0x0f) | 0x40);
		snprintf(n->zone, sizeof(n->zone), "z%u", i % s->zones);
		dcfg.size = s->disk_size;
		dcfg.seed = rng_next(&s->rng);
		n->disk = simdisk_new(&dcfg);
		if (!n->disk)
			return -ENOMEM;
		memcpy(fc.cluster, cluster, 16);
		memcpy(fc.node, n->uuid, 16);
		s->cur = &n->p;
		err = store_format_io(&simdisk_ops, n->disk, &fc, disk_uuid);
		s->cur = NULL;
		if (err)
			return err;
	}
	for (uint32_t i = 0; i < s->nclients; i++) {
		struct sim_client *c = &s->clients[i];
		struct client_cfg cfg = { .ctl = "10.0.0.2:7481", .timeout_ms = 3000,
					  .mtu = SIMNET_MTU };
		struct client_deps deps = { .env = &c->p.env };
		int err;

		sim_proc_init(s, &c->p, SP_CLIENT, (int)i + 1, 0x0a000040 + i);
		c->t = simnet_open(s->net, c->p.host, SIM_CLIENT_PORT);
		c->ctl_t = simnet_open(s->net, c->p.host, SIM_LINK_PORT);
		deps.t = c->t;
		deps.ctl_t = c->ctl_t;
		c->wbuf = malloc(SIM_CHUNK_MAX);
		c->rbuf = malloc(SIM_CHUNK_MAX);
		if (!c->wbuf || !c->rbuf)
			return -ENOMEM;
		s->cur = &c->p;
		err = client_open_deps(&cfg, &deps, &c->cl);
		s->cur = NULL;
		if (err)
			return err;
		c->pid = s->next_pid++;
		c->final_key = i;
		c->p.up = 1;
		c->next_op = 2 * SEC + rng_below(&s->rng, SEC); /* after the cluster forms */
		c->p.dirty = 1;
	}
	{
		struct sim_admin *a = &s->admin;
		struct rpc_cfg rcfg;

		sim_proc_init(s, &a->p, SP_ADMIN, 0, 0x0a000003);
		a->t = simnet_open(s->net, a->p.host, SIM_ADMIN_PORT);
		rpc_cfg_default(&rcfg);
		rcfg.timeout_ms = 1000;
		rcfg.env = &a->p.env;
		if (rpc_client_open(&rcfg, a->t, &a->rpc))
			return -ENOMEM;
		a->p.up = 1;
	}
	sim_ctl_start(s);
	for (uint32_t i = 0; i < s->nnodes; i++)
		s->nodes[i].p.restart_at = rng_below(&s->rng, 500 * MS);
	s->next_fault = 3 * SEC + rng_below(&s->rng, 5 * SEC);
	s->quiet_from = s->quiet_until = 0; /* the first burst is drawn at once */
	s->phase = PH_FAULTS;
	s->phase_end = s->fault_ns;
	if (s->opts.verbose)
		sim_print_knobs(s, stderr);
	return 0;
}

static void sim_teardown(struct sim *s)
{
	for (uint32_t i = 0; i < s->nclients; i++) {
		client_close(s->clients[i].cl);
		free(s->clients[i].wbuf);
		free(s->clients[i].rbuf);
	}
	for (uint32_t i = 0; i < s->nnodes; i++) {
		if (s->nodes[i].p.up)
			sim_node_kill(s, &s->nodes[i]);
		simdisk_free(s->nodes[i].disk);
	}
	sim_ctl_kill(s);
	rpc_client_close(s->admin.rpc);
	free(s->ctl.state);
	simnet_free(s->net);
	chk_history_free(s->hist);
	free(s->faultlog);
}

/* ------------------------------------------------------------ phases */

static void sim_start_heal(struct sim *s)
{
	sim_trace(s, "--- faults stop: heal ---");
	sim_heal_cuts(s, 1);
	sim_net_calm(s);
	for (int i = 0; i < s->nprocs; i++)
		s->procs[i]->pause_until = 0;
	if (!s->ctl.p.up)
		s->ctl.p.restart_at = s->now;
	for (uint32_t i = 0; i < s->nnodes; i++) {
		struct sim_node *n = &s->nodes[i];

		if (n->lost)
			continue;
		if (n->damaged && n->p.up && (uint32_t)(n - s->nodes) + 1 != s->flip_node) {
			/* a failed disk: its node is replaced - lost for good */
			sim_node_kill(s, n);
			n->lost = 1;
			continue;
		}
		if (!n->p.up)
			n->p.restart_at = s->now + rng_below(&s->rng, SEC);
	}
	s->admin.p.dirty = 1; /* declare what is lost lost */
	s->phase = PH_HEAL;
	s->phase_end = s->now + s->heal_ns;
}

/* Healed: ctl up, every node that is not lost up and at ctl's epoch, lost
 * ones declared, and that epoch clean. */
static int sim_healed(struct sim *s)
{
	const struct cmap *m;

	if (!s->ctl.p.up)
		return 0;
	m = ctl_map(s->ctl.ctl);
	if (m->epoch == 0 || m->clean_epoch != m->epoch)
		return 0;
	for (uint32_t i = 0; i < s->nnodes; i++) {
		struct sim_node *n = &s->nodes[i];
		int k = map_find(m, n->uuid);

		if (n->lost) {
			if (k >= 0 && m->nodes[k].state != MAP_LOST)
				return 0;
			continue;
		}
		/* ... and its walk at the clean epoch done: the copies that
		 * epoch's chains no longer include are gone */
		if (!n->p.up || k < 0 || m->nodes[k].state != MAP_UP ||
		    node_map(n->node)->epoch != m->epoch || m->nodes[k].walk_epoch != m->epoch)
			return 0;
	}
	for (uint32_t i = 0; i < s->nclients; i++)
		if (s->clients[i].busy)
			return 0;
	return 1;
}

static void sim_dump_state(struct sim *s, FILE *f)
{
	const struct cmap *m = s->ctl.p.up ? ctl_map(s->ctl.ctl) : NULL;

	if (m)
		fprintf(f, "  ctl: epoch %" PRIu64 ", clean %" PRIu64 ", min copies %u\n",
			m->epoch, m->clean_epoch, m->min_copies);
	else
		fprintf(f, "  ctl: down\n");
	for (uint32_t i = 0; i < s->nnodes; i++) {
		struct sim_node *n = &s->nodes[i];
		int k = m ? map_find(m, n->uuid) : -1;

		fprintf(f, "  %s: %s%s, map state %s, node map epoch %" PRIu64 ", walk epoch %" PRIu64
			   "\n", n->p.name, n->p.up ? "up" : "down", n->lost ? " (lost)" : "",
			k >= 0 ? map_state_name(m->nodes[k].state) : "-",
			n->p.up ? node_map(n->node)->epoch : 0, k >= 0 ? m->nodes[k].walk_epoch : 0);
	}
}

/* After the final ops: every key's live chain holds one version, the same
 * bytes, R copies where R nodes can hold them, and nothing lies elsewhere. */
static void sim_check_replicas(struct sim *s)
{
	const struct cmap *m = ctl_map(s->ctl.ctl);
	uint8_t *a = malloc(SIM_CHUNK_MAX), *b = malloc(SIM_CHUNK_MAX);
	uint32_t eligible = 0;

	if (!a || !b)
		goto out;
	for (uint32_t i = 0; i < m->n; i++)
		eligible += m->nodes[i].state == MAP_UP && !(m->nodes[i].flags & MAP_NF_FULL);
	for (uint32_t key = 0; key < s->keys && !s->failed; key++) {
		uint16_t chain[MAP_MAX_R];
		uint8_t id[16];
		int n;
		uint64_t ver = 0;
		uint32_t la = 0, copies = 0;

		sim_chunk_id(key, id);
		n = place_chain(m, id, chain);
		for (uint32_t i = 0; i < s->nnodes; i++) {
			struct sim_node *sn = &s->nodes[i];
			int k = map_find(m, sn->uuid), in = 0;
			struct store_stat st;
			uint32_t got = 0;
			int err;

			if (!sn->p.up)
				continue;
			for (int j = 0; j < n; j++)
				in |= k >= 0 && chain[j] == (uint16_t)k;
			err = store_stat(sn->store, id, &st);
			if (err == -ENOENT)
				continue; /* (a tombstone's leftovers are allowed while it is kept) */
			if (err) {
				sim_fail(s, "replicas: key %u on %s: stat: %s", key, sn->p.name,
					 strerror(-err));
				break;
			}
			if (!in) {
				sim_fail(s, "replicas: key %u has a copy (version %" PRIx64 ") on %s, "
					 "outside its chain", key, st.version, sn->p.name);
				break;
			}
			err = store_get(sn->store, id, 0, SIM_CHUNK_MAX, copies ? b : a, &got);
			if (err) {
				sim_fail(s, "replicas: key %u on %s: read: %s", key, sn->p.name,
					 strerror(-err));
				break;
			}
			if (copies && (st.version != ver || got != la || memcmp(a, b, got))) {
				sim_fail(s, "replicas: key %u: %s holds version %" PRIx64 " (%u bytes), "
					 "another member %" PRIx64 " (%u bytes)", key, sn->p.name,
					 st.version, got, ver, la);
				break;
			}
			ver = st.version;
			la = got;
			copies++;
		}
		if (!s->failed && copies && copies < MIN(s->replicas, eligible))
			sim_fail(s, "replicas: key %u has %u copies; R is %u with %u nodes up", key,
				 copies, s->replicas, eligible);
		sim_hash(s, ver);
	}
out:
	free(a);
	free(b);
}

/* Final ops are checked as they finish; PH_FINAL ends when every client has
 * done its share of the keys. */
static int sim_final_done(struct sim *s)
{
	for (uint32_t i = 0; i < s->nclients; i++)
		if (s->clients[i].busy || s->clients[i].final_key < s->keys)
			return 0;
	return 1;
}

/* ------------------------------------------------------------ the loop */

static uint64_t sim_next_time(struct sim *s)
{
	uint64_t t = MIN(simnet_next(s->net), s->phase_end);

	for (int i = 0; i < s->nprocs; i++) {
		struct sim_proc *p = s->procs[i];

		if (p->up)
			t = MIN(t, p->dirty ? MAX(s->now, p->pause_until) : MAX(p->wake, p->pause_until));
		else if (p->restart_at != UINT64_MAX)
			t = MIN(t, p->restart_at);
	}
	if (s->phase == PH_FAULTS)
		t = MIN(t, MIN(s->next_fault, s->quiet_until));
	for (int i = 0; i < s->ncuts; i++)
		t = MIN(t, s->cuts[i].heal_at);
	t = MIN(t, s->net_calm_at);
	return MAX(t, s->now);
}

static void sim_loop(struct sim *s)
{
	uint64_t last = UINT64_MAX, spins = 0;

	while (!s->failed && s->phase != PH_DONE) {
		uint64_t t = sim_next_time(s);

		if (t == last) {
			if (++spins > SIM_SPIN_LIMIT) {
				char who[128] = "";

				for (int i = 0; i < s->nprocs; i++)
					if (s->procs[i]->up && (s->procs[i]->dirty || s->procs[i]->wake <= t))
						snprintf(who + strlen(who), sizeof(who) - strlen(who), " %s",
							 s->procs[i]->name);
				sim_fail(s, "livelock: no progress in time at %.6f s: these keep asking "
					 "to run now:%s", t / 1e9, who);
				break;
			}
		} else {
			spins = 0;
			last = t;
		}
		s->now = t;
		simnet_set_now(s->net, t);
		simnet_deliver(s->net, t, sim_woke, s);
		if (s->ncuts)
			sim_heal_cuts(s, 0);
		if (t >= s->net_calm_at)
			sim_net_calm(s);
		if (s->phase == PH_FAULTS && t >= s->quiet_until) {
			/* the next burst of traffic, then the next rest */
			s->quiet_from = t + sim_between(s, 2 * SEC, 20 * SEC);
			s->quiet_until = s->quiet_from + sim_between(s, 5 * SEC, 120 * SEC);
		}
		if (s->phase == PH_FAULTS && t >= s->next_fault) {
			int quiet = t >= s->quiet_from && t < s->quiet_until;

			sim_inject(s);
			s->next_fault = t + sim_between(s, 300 * MS, quiet ? 30 * SEC : 8 * SEC);
		}
		sim_restarts(s);
		for (int i = 0; i < s->nprocs && !s->failed; i++) {
			struct sim_proc *p = s->procs[i];

			if (!p->up || t < p->pause_until || (!p->dirty && p->wake > t))
				continue;
			sim_poll_proc(s, p);
		}
		if (t < s->phase_end && !(s->phase == PH_HEAL && sim_healed(s)) &&
		    !(s->phase == PH_FINAL && sim_final_done(s)))
			continue;
		switch (s->phase) {
		case PH_FAULTS:
			sim_start_heal(s);
			break;
		case PH_HEAL:
			if (!sim_healed(s)) {
				sim_fail(s, "liveness: not healed %.0f s after the faults stopped",
					 s->heal_ns / 1e9);
				break;
			}
			sim_trace(s, "--- healed: final operations ---");
			s->phase = PH_FINAL;
			s->phase_end = s->now + 60 * SEC;
			for (uint32_t i = 0; i < s->nclients; i++) {
				s->clients[i].next_op = s->now;
				s->clients[i].p.dirty = 1;
			}
			break;
		case PH_FINAL:
			if (!sim_final_done(s)) {
				sim_fail(s, "liveness: the final operations did not finish in 60 s on "
					 "a healed cluster");
				break;
			}
			s->phase = PH_DONE;
			break;
		default:
			break;
		}
	}
}

int sim_run(const struct sim_opts *opts, struct sim_result *res)
{
	struct sim *s = calloc(1, sizeof(*s));
	FILE *rep = opts->report ? opts->report : stderr;
	struct chk_stats cs;
	/*
	 * settle: how long after the client gave up a write's request may still
	 * reach a head (check.h, "Bounded maybe-writes"). Simulated network
	 * delays are tens of ms; a process paused for seconds with the request
	 * in hand is covered by the version argument itself (a paused head's
	 * late versions are in an older epoch, or serialized before later
	 * writes). 2 s is slack on top of both, not a tight bound.
	 */
	struct chk_cfg ccfg = { .report = rep, .stats = &cs, .settle_ns = 2 * SEC };
	enum chk_result cr;
	int err, rc = 1;

	if (!s)
		return -ENOMEM;
	memset(res, 0, sizeof(*res));
	s->opts = *opts;
	s->res = res;
	s->hash = 0xcbf29ce484222325ull;
	rng_seed(&s->rng, opts->seed);
	sim_knobs(s);
	log_set_sink(sim_sink, s);
	log_set_level(opts->debug ? LOG_LVL_DEBUG : LOG_LVL_INFO);
	err = sim_setup(s);
	if (err) {
		fprintf(rep, "seed %" PRIu64 ": the simulator could not set up: %s\n", opts->seed,
			strerror(-err));
		rc = err;
		goto out;
	}
	sim_loop(s);
	if (!s->failed)
		sim_check_replicas(s);
	res->sim_ns = s->now;
	cr = chk_linearizable(s->hist, &ccfg);
	if (cr != CHK_LINEARIZABLE && !s->failed)
		sim_fail(s, "the history of %zu ops is %s (%u keys not linearizable, %u "
			 "inconclusive)", chk_history_len(s->hist), chk_result_name(cr),
			 cs.violations, cs.inconclusive);
	res->hash = s->hash ^ simnet_hash(s->net);
	res->ok = !s->failed;
	snprintf(res->why, sizeof(res->why), "%s", s->why);
	if (s->failed) {
		fprintf(rep, "\nSEED %" PRIu64 " FAILED: %s\n", opts->seed, s->why);
		fprintf(rep, "knobs:\n");
		sim_print_knobs(s, rep);
		fprintf(rep, "state:\n");
		sim_dump_state(s, rep);
		fprintf(rep, "fault schedule:\n%s", s->faultlog ? s->faultlog : "  (none)\n");
		fprintf(rep, "trace (last %d lines):\n", SIM_TRACE_LINES);
		for (uint64_t i = s->trace_n > SIM_TRACE_LINES ? s->trace_n - SIM_TRACE_LINES : 0;
		     i < s->trace_n; i++) {
			char out[SIM_TRACE_LEN + 64];

			sim_tline_format(&s->trace[i % SIM_TRACE_LINES], out, sizeof(out));
			fprintf(rep, "  %s\n", out);
		}
		fprintf(rep, "reproduce: make sim SEED=%" PRIu64 "\n", opts->seed);
	}
	rc = s->failed ? 1 : 0;
out:
	sim_teardown(s);
	log_set_sink(NULL, NULL);
	free(s);
	return rc;
}
