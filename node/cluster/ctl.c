/* SPDX-License-Identifier: Apache-2.0 */
/* ctl.c - the control plane server (see ctl.h, ctl_proto.h). */
#include "cluster/ctl.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cluster/ctl_proto.h"
#include "cluster/map.h"
#include "common/log.h"
#include "common/util.h"
#include "net/rpc.h"
#include "net/transport.h"

#define CTL_TICK_MS 100

struct ctl {
	const struct ctl_cfg *cfg;
	struct cmap map;
	uint8_t *enc;                  /* encoding buffer (MAP_MAX_LEN) */
	int dirty;                     /* epoch changed: save before answering */
	uint64_t down_ns, out_ns;      /* thresholds */
	/* counters */
	uint64_t registers, heartbeats, getmaps, unknown, refused, saves, save_errors;
};

static void ctl_bump(struct ctl *c, const char *why, const struct map_node *n)
{
	char u[37], a[64];

	c->map.epoch++;
	c->dirty = 1;
	log_info("ctl: epoch %llu: node %s (%s, zone %s) %s",
		 (unsigned long long)c->map.epoch, util_uuid_format(n->uuid, u),
		 net_addr_format(&n->addr, a, sizeof(a)), n->zone, why);
}

/* Persist before anything that depends on the new epoch leaves this process. */
static void ctl_save(struct ctl *c)
{
	int err;

	if (!c->dirty)
		return;
	err = map_save(&c->map, c->cfg->state_dir);
	if (err) {
		c->save_errors++;
		log_err("ctl: cannot save the map in %s: %s", c->cfg->state_dir, strerror(-err));
		return; /* stays dirty: retried on the next tick */
	}
	c->saves++;
	c->dirty = 0;
}

static void ctl_refuse(struct rpc_srv *srv, struct rpc_sreq *r, int status, struct ctl *c,
		       const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void ctl_refuse(struct rpc_srv *srv, struct rpc_sreq *r, int status, struct ctl *c,
		       const char *fmt, ...)
{
	struct ctl_reply *rep = rpc_sreq_reply_buf(srv, r, sizeof(*rep));
	va_list ap;

	c->refused += status != -ENOENT;
	if (!rep) {
		rpc_sreq_reply(srv, r, status, 0);
		return;
	}
	memset(rep, 0, sizeof(*rep));
	rep->epoch = c->map.epoch;
	va_start(ap, fmt);
	vsnprintf(rep->msg, sizeof(rep->msg), fmt, ap);
	va_end(ap);
	if (status != -ENOENT)
		log_warn("ctl: refused: %s", rep->msg);
	rpc_sreq_reply(srv, r, status, sizeof(*rep));
}

static void ctl_reply_ok(struct ctl *c, struct rpc_srv *srv, struct rpc_sreq *r, uint32_t flags)
{
	struct ctl_reply *rep = rpc_sreq_reply_buf(srv, r, sizeof(*rep));

	ctl_save(c);
	if (!rep) {
		rpc_sreq_reply(srv, r, -ENOMEM, 0);
		return;
	}
	memset(rep, 0, sizeof(*rep));
	rep->epoch = c->map.epoch;
	rep->flags = flags;
	rpc_sreq_reply(srv, r, 0, sizeof(*rep));
}

static void ctl_take_figures(struct map_node *n, const struct ctl_hello *h, uint64_t now)
{
	uint64_t dt = now - n->last_hb_ns;

	if (n->last_hb_ns && dt > 0 && h->ops_total >= n->ops_total)
		n->ops_per_s = (h->ops_total - n->ops_total) * 1000000000ull / dt;
	n->ops_total = h->ops_total;
	n->capacity = h->capacity;
	n->used = h->used;
	n->chunks = h->chunks;
	n->rec_pending = h->rec_pending;
	n->rec_copied = h->rec_copied;
	n->rec_bytes = h->rec_bytes;
	n->degraded = h->degraded;
	n->last_hb_ns = now;
}

static void ctl_hello(struct ctl *c, struct rpc_srv *srv, struct rpc_sreq *r, int reg)
{
	static const uint8_t zero[16];
	uint32_t len;
	const uint8_t *p = rpc_sreq_payload(srv, r, &len);
	struct ctl_hello h;
	struct net_addr addr;
	struct map_node *n;
	char u[37], cu[37], mu[37], a[64], a2[64];
	uint64_t now = util_now_ns();
	uint32_t flags = 0;
	int i;

	if (len != sizeof(h)) {
		ctl_refuse(srv, r, -EINVAL, c, "malformed %s", reg ? "registration" : "heartbeat");
		return;
	}
	memcpy(&h, p, sizeof(h));
	h.zone[MAP_ZONE_LEN - 1] = 0;
	if (h.magic != CTL_MAGIC || h.len != sizeof(h) ||
	    (h.family != AF_INET && h.family != AF_INET6) || h.port == 0) {
		ctl_refuse(srv, r, -EINVAL, c, "malformed %s", reg ? "registration" : "heartbeat");
		return;
	}
	memset(&addr, 0, sizeof(addr));
	addr.family = h.family;
	addr.port = h.port;
	memcpy(addr.ip, h.ip, 16);
	util_uuid_format(h.node, u);
	if (memcmp(c->map.cluster, zero, 16) == 0 && reg) {
		memcpy(c->map.cluster, h.cluster, 16); /* the first node names the cluster */
		c->dirty = 1;
		log_info("ctl: serving cluster %s (adopted from node %s)",
			 util_uuid_format(h.cluster, cu), u);
	}
	if (memcmp(c->map.cluster, h.cluster, 16) != 0) {
		ctl_refuse(srv, r, -EXDEV, c,
			   "node %s has a disk of cluster %s; this ctl serves cluster %s", u,
			   util_uuid_format(h.cluster, cu), util_uuid_format(c->map.cluster, mu));
		return;
	}
	i = map_find(&c->map, h.node);
	if (i < 0 && !reg) {
		c->unknown++;
		ctl_refuse(srv, r, -ENOENT, c, "node %s is not registered", u);
		return;
	}
	if (h.epoch > c->map.epoch) {
		/* A node has seen a newer map than ours (ctl lost its state):
		 * epochs must never go back, or nodes would keep a different map
		 * of the same number. */
		log_info("ctl: node %s knows epoch %llu: continuing from %llu", u,
			 (unsigned long long)h.epoch, (unsigned long long)h.epoch + 1);
		c->map.epoch = h.epoch + 1;
		c->dirty = 1;
	}
	n = i >= 0 ? &c->map.nodes[i] : NULL;
	if (n && n->state == MAP_UP && !net_addr_equal(&n->addr, &addr) &&
	    now - n->last_hb_ns < c->down_ns) {
		ctl_refuse(srv, r, -EADDRINUSE, c,
			   "node %s is already up at %s; refusing a second claim from %s", u,
			   net_addr_format(&n->addr, a, sizeof(a)), net_addr_format(&addr, a2, sizeof(a2)));
		return;
	}
	if (!n) {
		if (c->map.n >= MAP_MAX_NODES) {
			ctl_refuse(srv, r, -ENOSPC, c, "the map is full (%d nodes)", MAP_MAX_NODES);
			return;
		}
		n = &c->map.nodes[c->map.n++];
		memset(n, 0, sizeof(*n));
		memcpy(n->uuid, h.node, 16);
		n->addr = addr;
		snprintf(n->zone, sizeof(n->zone), "%s", h.zone);
		n->weight = h.weight ? MIN(h.weight, 1000000u) : MAP_WEIGHT_ONE;
		n->state = MAP_UP;
		n->since_ns = now;
		ctl_bump(c, "joined", n);
	} else {
		int changed = !net_addr_equal(&n->addr, &addr);

		if (reg) {
			changed |= strcmp(n->zone, h.zone) != 0;
			changed |= h.weight && n->weight != MIN(h.weight, 1000000u);
			snprintf(n->zone, sizeof(n->zone), "%s", h.zone);
			if (h.weight)
				n->weight = MIN(h.weight, 1000000u);
		}
		n->addr = addr;
		if (n->state != MAP_UP) {
			flags |= CTL_REPLY_REJOIN;
			n->state = MAP_UP;
			n->since_ns = now;
			ctl_bump(c, "is back up", n);
		} else if (changed) {
			ctl_bump(c, "changed address, zone or weight", n);
		}
	}
	if (reg)
		c->registers++;
	else
		c->heartbeats++;
	ctl_take_figures(n, &h, now);
	ctl_reply_ok(c, srv, r, flags);
}

static void ctl_handle(void *arg, struct rpc_srv *srv, struct rpc_sreq *r)
{
	struct ctl *c = arg;
	const struct ferry_hdr *h = rpc_sreq_hdr(r);

	switch (h->op) {
	case FERRY_OP_CTL_REGISTER:
	case FERRY_OP_CTL_HEARTBEAT:
		ctl_hello(c, srv, r, h->op == FERRY_OP_CTL_REGISTER);
		return;
	case FERRY_OP_CTL_GETMAP: {
		int len;
		uint8_t *out;

		c->getmaps++;
		ctl_save(c);
		len = map_encode(&c->map, c->enc, MAP_MAX_LEN);
		out = len > 0 ? rpc_sreq_reply_buf(srv, r, (uint32_t)len) : NULL;
		if (!out) {
			rpc_sreq_reply(srv, r, len < 0 ? len : -ENOMEM, 0);
			return;
		}
		memcpy(out, c->enc, (size_t)len);
		rpc_sreq_reply(srv, r, 0, (uint32_t)len);
		return;
	}
	case FERRY_OP_STATS: {
		uint32_t cap = 4096;
		char *out = rpc_sreq_reply_buf(srv, r, cap);
		int k;

		if (!out) {
			rpc_sreq_reply(srv, r, -ENOMEM, 0);
			return;
		}
		k = snprintf(out, cap,
			     "ctl_epoch %llu\nctl_nodes %u\nctl_registers %llu\nctl_heartbeats %llu\n"
			     "ctl_getmaps %llu\nctl_unknown_node_msgs %llu\nctl_refused %llu\n"
			     "ctl_saves %llu\nctl_save_errors %llu\n",
			     (unsigned long long)c->map.epoch, c->map.n,
			     (unsigned long long)c->registers, (unsigned long long)c->heartbeats,
			     (unsigned long long)c->getmaps, (unsigned long long)c->unknown,
			     (unsigned long long)c->refused, (unsigned long long)c->saves,
			     (unsigned long long)c->save_errors);
		rpc_sreq_reply(srv, r, 0, k > 0 ? MIN((uint32_t)k, cap) : 0);
		return;
	}
	default:
		rpc_sreq_reply(srv, r, -EOPNOTSUPP, 0);
	}
}

/* Heartbeat deadlines: up -> down after down_after of silence, down -> out
 * after out_after. */
static void ctl_tick(struct ctl *c, uint64_t now)
{
	for (uint32_t i = 0; i < c->map.n; i++) {
		struct map_node *n = &c->map.nodes[i];

		/* (last_hb_ns may be a little after now: set by this batch) */
		if (n->state == MAP_UP && now > n->last_hb_ns && now - n->last_hb_ns > c->down_ns) {
			n->state = MAP_DOWN;
			n->since_ns = now;
			n->ops_per_s = 0;
			ctl_bump(c, "missed heartbeats: down", n);
		} else if (n->state == MAP_DOWN && now > n->since_ns && now - n->since_ns > c->out_ns) {
			n->state = MAP_OUT;
			n->since_ns = now;
			ctl_bump(c, "down past the grace period: out", n);
		}
	}
	ctl_save(c);
}

int ctl_run(const struct ctl_cfg *cfg)
{
	struct ctl *c = calloc(1, sizeof(*c));
	struct transport *t = NULL;
	struct rpc_srv *srv = NULL;
	struct net_addr local;
	struct rpc_cfg rcfg;
	char a[64];
	uint64_t now, last_tick = 0;
	int err;

	if (!c)
		return -ENOMEM;
	c->cfg = cfg;
	c->down_ns = (uint64_t)(cfg->down_after_ms ? cfg->down_after_ms : 3000) * 1000000ull;
	c->out_ns = (uint64_t)(cfg->out_after_ms ? cfg->out_after_ms : 30000) * 1000000ull;
	c->enc = malloc(MAP_MAX_LEN);
	if (!c->enc) {
		err = -ENOMEM;
		goto out;
	}
	err = net_addr_parse(cfg->listen, CTL_PORT_DEFAULT, &local);
	if (err) {
		log_err("ctl: bad listen address '%s'", cfg->listen);
		goto out;
	}
	err = map_load(&c->map, cfg->state_dir);
	now = util_now_ns();
	if (err == -ENOENT) {
		memset(&c->map, 0, sizeof(c->map));
		c->map.replicas = cfg->replicas ? cfg->replicas : 3;
		if (cfg->cluster)
			memcpy(c->map.cluster, cfg->cluster, 16);
		c->dirty = 1;
	} else if (err) {
		log_err("ctl: cannot load %s/%s: %s", cfg->state_dir, MAP_FILE, strerror(-err));
		goto out;
	} else {
		if (cfg->cluster && memcmp(cfg->cluster, c->map.cluster, 16) != 0) {
			char u1[37], u2[37];
			log_err("ctl: %s/%s is the map of cluster %s, not %s", cfg->state_dir,
				MAP_FILE, util_uuid_format(c->map.cluster, u1),
				util_uuid_format(cfg->cluster, u2));
			err = -EXDEV;
			goto out;
		}
		if (cfg->replicas && cfg->replicas != c->map.replicas) {
			c->map.replicas = cfg->replicas;
			c->map.epoch++;
			c->dirty = 1;
		}
		/* Everyone gets a fresh deadline: silence while ctl was away is
		 * not the nodes' fault. */
		for (uint32_t i = 0; i < c->map.n; i++)
			c->map.nodes[i].last_hb_ns = c->map.nodes[i].since_ns = now;
	}
	if (c->map.replicas == 0 || c->map.replicas > MAP_MAX_R) {
		log_err("ctl: --replicas must be 1..%d", MAP_MAX_R);
		err = -EINVAL;
		goto out;
	}
	c->dirty = 1;
	ctl_save(c);
	if (c->dirty) {
		err = -EIO;
		goto out;
	}
	err = udp_transport_open(&local, &t);
	if (err) {
		log_err("ctl: cannot listen on %s: %s", cfg->listen, strerror(-err));
		goto out;
	}
	rpc_cfg_default(&rcfg);
	rcfg.max_msg = 64u << 10;
	rcfg.mem_budget = 64ull << 20;
	err = rpc_srv_open(&rcfg, t, ctl_handle, c, &srv);
	if (err)
		goto out;
	log_info("ctl: started on %s (state %s, epoch %llu, %u nodes, R=%u)",
		 net_addr_format(&local, a, sizeof(a)), cfg->state_dir,
		 (unsigned long long)c->map.epoch, c->map.n, c->map.replicas);
	while (!*cfg->stop) {
		struct net_pkt pkts[64];
		int n = t->ops->rx_burst(t, pkts, 64);

		if (n < 0 && n != -EINTR && n != -EAGAIN) {
			log_err("ctl: receive failed: %s", strerror(-n));
			err = n;
			break;
		}
		now = util_now_ns();
		for (int i = 0; i < n; i++)
			rpc_srv_input(srv, &pkts[i], now);
		if (n > 0)
			t->ops->rx_release(t, pkts, n);
		rpc_srv_flush(srv);
		if (now - last_tick >= CTL_TICK_MS * 1000000ull) {
			now = util_now_ns();
			ctl_tick(c, now);
			rpc_srv_tick(srv, now);
			last_tick = now;
		}
		if (n <= 0) {
			struct pollfd pfd = { .fd = t->ops->poll_fd(t), .events = POLLIN };
			poll(&pfd, 1, CTL_TICK_MS / 2);
		}
	}
	log_info("ctl: stopping at epoch %llu", (unsigned long long)c->map.epoch);
out:
	rpc_srv_close(srv);
	if (t)
		t->ops->close(t);
	free(c->enc);
	free(c);
	return err;
}
