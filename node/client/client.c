/* SPDX-License-Identifier: Apache-2.0 */
/*
 * client.c - opening a client, the cluster map it routes by, and the
 * one-off calls (lists, counters, admin) that need no routing.
 * client_op.c runs chunk operations; client_obj.c objects.
 */
#include "client/client_int.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/util.h"

int client_fail(struct client *cl, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cl->err, sizeof(cl->err), fmt, ap);
	va_end(ap);
	return err;
}

const char *client_errmsg(const struct client *cl)
{
	return cl->err[0] ? cl->err : "unknown error";
}

int client_open_deps(const struct client_cfg *cfg, const struct client_deps *deps,
		     struct client **out)
{
	struct client *cl = calloc(1, sizeof(*cl));
	struct rpc_cfg rcfg, ccfg;
	int err;

	if (!cl)
		return -ENOMEM;
	cl->cfg = *cfg;
	cl->deps = *deps;
	if (!cl->deps.env)
		cl->deps.env = env_real();
	if (!cl->cfg.concurrency)
		cl->cfg.concurrency = 8;
	if (!cl->cfg.chunk_size)
		cl->cfg.chunk_size = 4u << 20;
	if (!cl->cfg.timeout_ms)
		cl->cfg.timeout_ms = 10000;
	cl->now = env_now(cl->deps.env);
	if (cfg->node) {
		if (net_addr_parse(cfg->node, FERRY_PORT_DEFAULT, &cl->node)) {
			err = -EINVAL;
			goto fail;
		}
	} else {
		cl->clustered = 1;
		cl->map = calloc(1, sizeof(*cl->map));
		cl->tmp = calloc(1, sizeof(*cl->tmp));
		cl->map_buf = malloc(MAP_MAX_LEN);
		if (!cl->map || !cl->tmp || !cl->map_buf) {
			err = -ENOMEM;
			goto fail;
		}
		if (!cfg->ctl || net_addr_parse(cfg->ctl, CTL_PORT_DEFAULT, &cl->ctl)) {
			err = -EINVAL;
			goto fail;
		}
		net_addr_format(&cl->ctl, cl->ctl_str, sizeof(cl->ctl_str));
		cl->node = cl->ctl; /* until a chunk says otherwise */
		if (deps->map_cache) {
			snprintf(cl->cache_dir, sizeof(cl->cache_dir), "%s/ferry-map-%s",
				 deps->map_cache, cl->ctl_str);
			for (char *q = cl->cache_dir + strlen(cl->cache_dir) - strlen(cl->ctl_str);
			     *q; q++)
				if (*q == ':' || *q == '[' || *q == ']')
					*q = '_';
			/* A client that starts while ctl is away still has a map. */
			if (map_load(cl->tmp, cl->cache_dir) == 0) {
				map_copy(cl->map, cl->tmp);
				cl->map_cached = 1;
			}
		}
	}
	net_addr_format(&cl->node, cl->node_str, sizeof(cl->node_str));
	rpc_cfg_default(&rcfg);
	rcfg.cluster = cfg->cluster;
	rcfg.timeout_ms = cl->cfg.timeout_ms;
	rcfg.max_msg = MAX(MAX(cl->cfg.chunk_size, 64u << 10), (uint32_t)MAP_MAX_LEN) + 4096;
	if (cfg->mtu)
		rcfg.mtu = cfg->mtu;
	rcfg.env = cl->deps.env;
	err = rpc_client_open(&rcfg, deps->t, &cl->rpc);
	if (err)
		goto fail;
	/* ctl (and nodes asked for their map) get a short timeout: when ctl
	 * is away the last map must keep working without delay. */
	ccfg = rcfg;
	ccfg.timeout_ms = MIN(cl->cfg.timeout_ms, 1000u);
	err = rpc_client_open(&ccfg, deps->ctl_t, &cl->ctl_rpc);
	if (err)
		goto fail;
	*out = cl;
	return 0;
fail:
	client_close(cl);
	return err;
}

int client_open(const struct client_cfg *cfg, struct client **out)
{
	struct client_deps deps = { .env = env_real() };
	struct net_addr any, peer;
	struct transport *t = NULL, *ct = NULL;
	const char *cache = getenv("FERRY_MAP_CACHE");
	int err;

	if (net_addr_parse(cfg->node ? cfg->node : cfg->ctl ? cfg->ctl : "", FERRY_PORT_DEFAULT,
			   &peer))
		return -EINVAL;
	memset(&any, 0, sizeof(any));
	any.family = peer.family;
	err = udp_transport_open(&any, &t);
	if (err)
		return err;
	err = udp_transport_open(&any, &ct);
	if (err) {
		t->ops->close(t);
		return err;
	}
	deps.t = t;
	deps.ctl_t = ct;
	deps.map_cache = cache && *cache ? cache : "/tmp";
	err = client_open_deps(cfg, &deps, out);
	if (err) {
		t->ops->close(t);
		ct->ops->close(ct);
		return err;
	}
	(*out)->own_t = t;
	(*out)->own_ctl_t = ct;
	return 0;
}

void client_close(struct client *cl)
{
	if (!cl)
		return;
	/* Ops still in flight end here, cancelled. */
	if (cl->rpc)
		rpc_client_cancel_all(cl->rpc);
	if (cl->ctl_rpc)
		rpc_client_cancel_all(cl->ctl_rpc);
	rpc_client_close(cl->rpc);
	rpc_client_close(cl->ctl_rpc);
	if (cl->own_t)
		cl->own_t->ops->close(cl->own_t);
	if (cl->own_ctl_t)
		cl->own_ctl_t->ops->close(cl->own_ctl_t);
	free(cl->map);
	free(cl->tmp);
	free(cl->map_buf);
	free(cl);
}

int client_call_result(struct client *cl, const struct rpc_call *c)
{
	net_addr_format(&c->peer, cl->node_str, sizeof(cl->node_str));
	if (c->err == -ETIMEDOUT) {
		const struct rpc_counters *rc = rpc_client_counters(cl->rpc);
		char how[96], drops[160] = "";
		size_t k = 0;

		/* Datagrams this client threw away say whether answers came. */
		for (int e = 1; e < WIRE_ERR_MAX && k < sizeof(drops); e++)
			if (rc->drop[e])
				k += (size_t)snprintf(drops + k, sizeof(drops) - k, ", dropped %llu %s",
						      (unsigned long long)rc->drop[e],
						      wire_err_name((enum wire_err)e));
		if (rc->drop_unexpected && k < sizeof(drops))
			snprintf(drops + k, sizeof(drops) - k, ", dropped %llu unexpected",
				 (unsigned long long)rc->drop_unexpected);
		return client_fail(cl, c->err, "node %s did not answer (timed out after %u ms: %s%s)",
				   cl->node_str, cl->cfg.timeout_ms,
				   rpc_call_describe(c, how, sizeof(how)), drops);
	}
	if (c->err)
		return client_fail(cl, c->err, "request to node %s failed: %s", cl->node_str,
				   strerror(-c->err));
	if (c->status)
		return client_fail(cl, c->status, "node %s: %s", cl->node_str,
				   strerror(-c->status));
	return 0;
}

int client_sync_call(struct client *cl, struct rpc_client *rpc, struct rpc_call *c)
{
	rpc_client_call(rpc, c);
	return client_call_result(cl, c);
}

void client_rpc_poll(struct client *cl, uint64_t now)
{
	struct transport *ts[2] = { cl->deps.t, cl->deps.ctl_t };
	struct rpc_client *rs[2] = { cl->rpc, cl->ctl_rpc };

	for (int k = 0; k < 2; k++) {
		struct net_pkt pkts[64];
		int n;

		while ((n = ts[k]->ops->rx_burst(ts[k], pkts, 64)) > 0) {
			for (int i = 0; i < n; i++)
				rpc_client_input(rs[k], &pkts[i]);
			ts[k]->ops->rx_release(ts[k], pkts, n);
		}
		rpc_client_tick(rs[k], now);
	}
}

/* ------------------------------------------------------------- the map */

static void client_map_next(struct client *cl);

static void client_map_done(struct rpc_call *c)
{
	struct client *cl = c->arg;
	int from_ctl = cl->map_src < 0;

	if (!c->err && !c->status && map_parse(cl->map_buf, c->resp_len, cl->tmp) == 0 &&
	    (cl->map->epoch == 0 || (cl->map_cached && from_ctl) ||
	     !memcmp(cl->tmp->cluster, cl->map->cluster, 16))) {
		/* A cached map only stood in for ctl's: ctl's own wins, even if
		 * older or another cluster's (the address may now serve a new
		 * cluster, or a ctl that lost its state). */
		if (cl->tmp->epoch >= cl->map->epoch || (cl->map_cached && from_ctl)) {
			int changed = cl->tmp->epoch != cl->map->epoch;

			map_copy(cl->map, cl->tmp);
			/* Keep it for clients that start while ctl is away. */
			if (changed && from_ctl && cl->cache_dir[0]) {
				mkdir(cl->cache_dir, 0700);
				map_save(cl->map, cl->cache_dir);
			}
		}
		if (from_ctl || cl->tmp->epoch >= cl->map->epoch) {
			cl->map_cached = 0;
			cl->map_busy = 0;
			cl->map_round_ok = 1;
			return;
		}
	}
	/* ctl is away (or said something useless): each node serves the map
	 * it runs under. Nodes check epochs, so nothing is written under a
	 * stale map. */
	client_map_next(cl);
}

/* Ask the next source of this round: ctl first, then the up nodes of our map. */
static void client_map_next(struct client *cl)
{
	struct rpc_call *c = &cl->map_call;
	int src = cl->map_src;

	for (;;) {
		const struct net_addr *to;

		if (src < 0 && cl->map_src == -2) {
			src = -1;
			to = &cl->ctl;
		} else {
			src++;
			while ((uint32_t)src < cl->map->n && cl->map->nodes[src].state != MAP_UP)
				src++;
			if ((uint32_t)src >= cl->map->n) {
				cl->map_cached = 0;
				cl->map_busy = 0; /* this round is over; the last map stays */
				cl->map_round_ok = 0;
				return;
			}
			to = &cl->map->nodes[src].addr;
		}
		cl->map_src = src;
		memset(c, 0, sizeof(*c));
		c->peer = *to;
		c->op = FERRY_OP_CTL_GETMAP;
		c->resp = cl->map_buf;
		c->resp_cap = MAP_MAX_LEN;
		c->done = client_map_done;
		c->arg = cl;
		if (rpc_client_start(cl->ctl_rpc, c) == 0)
			return;
	}
}

void client_want_map(struct client *cl)
{
	if (!cl->clustered || cl->map_busy)
		return;
	cl->map_busy = 1;
	cl->map_rounds++;
	cl->map_src = -2; /* start with ctl */
	client_map_next(cl);
}

const struct cmap *client_map(struct client *cl)
{
	struct rpc_call c;

	if (!cl->clustered) {
		client_fail(cl, -EINVAL, "no ctl given (use --ctl ADDR:PORT or FERRY_CTL)");
		errno = EINVAL;
		return NULL;
	}
	/* What ctl says now, even if it is behind what this client routed by
	 * (a ctl that lost its state): that is what status must show. */
	memset(&c, 0, sizeof(c));
	c.peer = cl->ctl;
	c.op = FERRY_OP_CTL_GETMAP;
	c.resp = cl->map_buf;
	c.resp_cap = MAP_MAX_LEN;
	rpc_client_call(cl->ctl_rpc, &c);
	if (!c.err && !c.status && map_parse(cl->map_buf, c.resp_len, cl->tmp) == 0) {
		if (cl->tmp->epoch >= cl->map->epoch &&
		    (cl->map->epoch == 0 || !memcmp(cl->tmp->cluster, cl->map->cluster, 16)))
			map_copy(cl->map, cl->tmp);
		return cl->tmp;
	}
	/* ctl is away: the nodes' maps. */
	client_want_map(cl);
	while (cl->map_busy)
		if (rpc_client_poll(cl->ctl_rpc, 100) < 0)
			break;
	if (cl->map->epoch == 0) {
		client_fail(cl, -EHOSTUNREACH, "ctl %s did not answer", cl->ctl_str);
		errno = EHOSTUNREACH;
		return NULL;
	}
	return cl->map;
}

/* ------------------------------------------------------------- one-offs */

static void client_call_init(struct client *cl, struct rpc_call *c, uint8_t op, const uint8_t id[16])
{
	memset(c, 0, sizeof(*c));
	c->peer = cl->node;
	c->op = op;
	if (id)
		memcpy(c->chunk, id, 16);
}

/* A LIST answer in c: check it, count entries, move the cursor past them. */
static int client_list_result(struct client *cl, const struct rpc_call *c,
			      const struct ferry_list_entry *out, uint8_t cursor[16], uint32_t *n)
{
	if (c->resp_len % sizeof(*out))
		return client_fail(cl, -EBADMSG, "node %s sent a malformed LIST answer",
				   cl->node_str);
	*n = c->resp_len / (uint32_t)sizeof(*out);
	if (*n)
		memcpy(cursor, out[*n - 1].chunk, 16);
	return 0;
}

int client_list_at(struct client *cl, const struct net_addr *at, uint8_t cursor[16],
		   struct ferry_list_entry *out, uint32_t max, uint32_t *n)
{
	struct rpc_call c;
	int err;

	client_call_init(cl, &c, FERRY_OP_LIST, cursor);
	c.peer = *at;
	c.length = max;
	c.resp = (uint8_t *)out;
	c.resp_cap = max * (uint32_t)sizeof(*out);
	err = client_sync_call(cl, cl->rpc, &c);
	return err ? err : client_list_result(cl, &c, out, cursor, n);
}

int client_chunk_list(struct client *cl, uint8_t cursor[16], struct ferry_list_entry *out,
		      uint32_t max, uint32_t *n)
{
	if (cl->clustered)
		return client_fail(cl, -EINVAL, "listing raw chunks needs one node (--node)");
	return client_list_at(cl, &cl->node, cursor, out, max, n);
}

int client_node_stats_at(struct client *cl, const struct net_addr *addr, char *buf, uint32_t cap)
{
	struct rpc_call c;
	int err;

	if (cap == 0)
		return -EINVAL;
	client_call_init(cl, &c, FERRY_OP_STATS, NULL);
	c.peer = *addr;
	c.resp = (uint8_t *)buf;
	c.resp_cap = cap - 1;
	err = client_sync_call(cl, cl->rpc, &c);
	buf[err ? 0 : c.resp_len] = 0;
	return err;
}

int client_ctl_stats(struct client *cl, char *buf, uint32_t cap)
{
	if (!cl->clustered)
		return client_fail(cl, -EINVAL, "no ctl given");
	return client_node_stats_at(cl, &cl->ctl, buf, cap);
}

int client_node_stats(struct client *cl, char *buf, uint32_t cap)
{
	if (cl->clustered)
		return client_fail(cl, -EINVAL, "node counters need one node (--node)");
	return client_node_stats_at(cl, &cl->node, buf, cap);
}

int client_ctl_lost(struct client *cl, const uint8_t node[16])
{
	struct ctl_admin a = { .magic = CTL_MAGIC, .cmd = CTL_ADMIN_LOST };
	struct ctl_reply rep;
	struct rpc_call c;
	int err;

	if (!cl->clustered)
		return client_fail(cl, -EINVAL, "no ctl given (use --ctl ADDR:PORT or FERRY_CTL)");
	memcpy(a.node, node, 16);
	client_call_init(cl, &c, FERRY_OP_CTL_ADMIN, NULL);
	c.peer = cl->ctl;
	c.req = (const uint8_t *)&a;
	c.req_len = sizeof(a);
	c.resp = (uint8_t *)&rep;
	c.resp_cap = sizeof(rep);
	err = client_sync_call(cl, cl->rpc, &c);
	if (err && c.err == 0 && c.resp_len == sizeof(rep)) {
		rep.msg[sizeof(rep.msg) - 1] = 0;
		return client_fail(cl, err, "ctl %s: %s", cl->ctl_str, rep.msg);
	}
	return err;
}
