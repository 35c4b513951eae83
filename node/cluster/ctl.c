/* SPDX-License-Identifier: Apache-2.0 */
/* ctl.c - the control plane library and its driver (see ctl.h). */
#include "cluster/ctl.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cluster/ctl_msg.h"
#include "common/log.h"
#include "common/util.h"
#include "net/rpc.h"

#define CTL_SAVE_RETRY_NS (100ull * 1000000ull) /* a failed save is retried this soon */
#define CTL_LEASE_SLACK_NS (20ull * 1000000ull) /* added to 1.1 x lease */

struct ctl {
	struct ctl_cfg cfg;
	struct ctl_deps deps;
	struct rpc_srv *srv;
	struct cmap map;
	struct cmap tmp;               /* a registering node's map (adoption) */
	uint8_t *enc;                  /* encoding buffer (MAP_MAX_LEN) */
	int dirty;                     /* the map changed: save before answering */
	uint64_t save_retry_ns;        /* next save attempt after a failure */
	uint64_t down_ns, out_ns;      /* thresholds */
	uint64_t lease_ns;             /* lease length granted */
	uint64_t now;                  /* time of the current poll */
	/* counters */
	uint64_t registers, heartbeats, getmaps, unknown, refused, saves, save_errors;
	uint64_t leases, lease_waits, adopted, bogus_epochs, cleans, admin;
};

static uint64_t ctl_lease_bound(const struct ctl *c)
{
	return c->lease_ns + c->lease_ns / 10 + CTL_LEASE_SLACK_NS;
}

/* The epoch moves on (why: logged with the node it is about, if any). */
static void ctl_bump(struct ctl *c, const char *why, const struct map_node *n)
{
	char u[37], a[64];

	if (c->map.epoch >= MAP_EPOCH_MAX) {
		log_err("ctl: the epoch is at its limit (%llu); the map cannot change",
			(unsigned long long)c->map.epoch);
		return;
	}
	c->map.epoch++;
	c->dirty = 1;
	if (n)
		log_info("ctl: epoch %llu: node %s (%s, zone %s) %s",
			 (unsigned long long)c->map.epoch, util_uuid_format(n->uuid, u),
			 net_addr_format(&n->addr, a, sizeof(a)), n->zone, why);
	else
		log_info("ctl: epoch %llu: %s", (unsigned long long)c->map.epoch, why);
}

/* A node (re)enters service: it holds nothing anyone may rely on until the
 * next clean epoch. Call after ctl_bump. */
static void ctl_node_up(struct ctl *c, struct map_node *n)
{
	n->up_since = c->map.epoch;
	n->since_ns = c->now;
}

/* Persist before anything that depends on the new epoch leaves this process. */
static void ctl_save(struct ctl *c)
{
	int err;

	if (!c->dirty)
		return;
	err = c->deps.state.save(c->deps.state.ctx, &c->map);
	if (err) {
		c->save_errors++;
		c->save_retry_ns = c->now + CTL_SAVE_RETRY_NS;
		log_err("ctl: cannot save the map: %s", strerror(-err));
		return; /* stays dirty: nothing that depends on it is answered */
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

/* May node i get a lease on the current epoch now? Only if it serves under
 * it, and no node can still hold a lease on an older epoch. */
static int ctl_may_lease(struct ctl *c, uint32_t i)
{
	const struct map_node *n = &c->map.nodes[i];
	uint64_t e = c->map.epoch;

	if (n->state != MAP_UP || n->acked_epoch != e || c->dirty)
		return 0;
	for (uint32_t j = 0; j < c->map.n; j++) {
		const struct map_node *o = &c->map.nodes[j];

		if (o->lease_epoch < e && o->acked_epoch < e && o->lease_end_ns > c->now)
			return 0;
	}
	return 1;
}

static void ctl_reply_ok(struct ctl *c, struct rpc_srv *srv, struct rpc_sreq *r, uint32_t flags,
			 int node)
{
	struct ctl_reply *rep;

	ctl_save(c);
	if (c->dirty) {
		/* Nothing that depends on an unsaved map leaves ctl; the node
		 * asks again with its next heartbeat. */
		rpc_sreq_reply(srv, r, -EAGAIN, 0);
		return;
	}
	rep = rpc_sreq_reply_buf(srv, r, sizeof(*rep));
	if (!rep) {
		rpc_sreq_reply(srv, r, -ENOMEM, 0);
		return;
	}
	memset(rep, 0, sizeof(*rep));
	rep->epoch = c->map.epoch;
	rep->flags = flags;
	if (node >= 0) {
		struct map_node *n = &c->map.nodes[node];

		if (ctl_may_lease(c, (uint32_t)node)) {
			rep->lease_ms = (uint32_t)(c->lease_ns / 1000000ull);
			rep->lease_epoch = c->map.epoch;
			n->lease_epoch = c->map.epoch;
			n->lease_end_ns = c->now + ctl_lease_bound(c);
			c->leases++;
		} else if (n->state == MAP_UP && n->acked_epoch == c->map.epoch) {
			c->lease_waits++;
		}
	}
	rpc_sreq_reply(srv, r, 0, sizeof(*rep));
}

static void ctl_take_figures(struct ctl *c, struct map_node *n, const struct ctl_hello *h)
{
	uint64_t dt = c->now - n->last_hb_ns;

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
	n->repaired = h->repaired;
	n->bad_chunks = h->bad_chunks;
	n->last_hb_ns = c->now;
	if (h->epoch <= c->map.epoch && h->epoch > n->acked_epoch)
		n->acked_epoch = h->epoch;
	if (h->walk_epoch <= c->map.epoch)
		n->walk_epoch = h->walk_epoch;
}

/* Full and near-full: a node at the full ratio leaves placement (its data
 * moves away, it takes no new copies) until it is below nearfull. */
static void ctl_check_full(struct ctl *c, struct map_node *n)
{
	double ratio;

	if (!n->capacity || n->state != MAP_UP)
		return;
	ratio = (double)n->used / (double)n->capacity;
	if (!(n->flags & MAP_NF_FULL) && ratio >= c->cfg.full_ratio) {
		n->flags |= MAP_NF_FULL;
		ctl_bump(c, "is full: out of placement", n);
	} else if ((n->flags & MAP_NF_FULL) && ratio < c->cfg.nearfull_ratio) {
		n->flags &= (uint8_t)~MAP_NF_FULL;
		ctl_bump(c, "is below nearfull: back in placement", n);
		ctl_node_up(c, n); /* it missed the writes of while it was full */
	}
}

/*
 * A node knows a newer map than ours (we lost our state, or it was restored
 * from an older copy): take the nodes it knows that we do not, continue
 * above its epoch, and trust nobody to read until the next clean epoch -
 * we cannot know what happened between our map and its. Returns 0, or
 * -EINVAL when the claim is not believable.
 */
static int ctl_adopt(struct ctl *c, const struct cmap *m, const char *who)
{
	uint64_t old = c->map.epoch;

	if (m->epoch > MAP_EPOCH_MAX - 1 || m->epoch > c->map.epoch + CTL_EPOCH_JUMP) {
		c->bogus_epochs++;
		return -EINVAL;
	}
	for (uint32_t k = 0; k < m->n; k++) {
		const struct map_node *mn = &m->nodes[k];
		struct map_node *n;

		if (map_find(&c->map, mn->uuid) >= 0 || c->map.n >= MAP_MAX_NODES)
			continue;
		n = &c->map.nodes[c->map.n++];
		*n = *mn;
		if (n->state == MAP_UP)
			n->state = MAP_DOWN; /* until it says otherwise */
		n->last_hb_ns = n->since_ns = c->now;
		n->acked_epoch = n->walk_epoch = n->lease_epoch = 0;
		n->lease_end_ns = c->now + ctl_lease_bound(c);
	}
	if (!c->cfg.replicas)
		c->map.replicas = m->replicas;
	if (!c->cfg.min_copies)
		c->map.min_copies = m->min_copies;
	if (c->map.min_copies > c->map.replicas)
		c->map.min_copies = c->map.replicas;
	/* Above anything the ctl before could have published that no node
	 * saw (while every node was away, say): clients may hold those. */
	c->map.epoch = MIN(m->epoch + CTL_EPOCH_GAP, MAP_EPOCH_MAX - 1);
	c->map.clean_epoch = m->clean_epoch < c->map.clean_epoch ? m->clean_epoch
								   : c->map.clean_epoch;
	ctl_bump(c, "continuing above a node's newer map", NULL);
	for (uint32_t i = 0; i < c->map.n; i++)
		c->map.nodes[i].up_since = c->map.epoch; /* nobody continuous */
	c->adopted++;
	log_warn("ctl: node %s served under epoch %llu, ours was %llu: adopted its map; "
		 "reads wait for the next clean epoch", who, (unsigned long long)m->epoch,
		 (unsigned long long)old);
	return 0;
}

static void ctl_hello(struct ctl *c, struct rpc_srv *srv, struct rpc_sreq *r, int reg)
{
	static const uint8_t zero[16];
	uint32_t len;
	const uint8_t *p = rpc_sreq_payload(srv, r, &len);
	const char *what = reg ? "registration" : "heartbeat";
	struct ctl_hello h;
	struct net_addr addr;
	struct map_node *n;
	char u[37], cu[37], mu[37], a[64], a2[64];
	uint32_t flags = 0, weight, mlen;
	const uint8_t *mp;
	int i;

	if (ctl_hello_parse(p, len, reg, &h, &mp, &mlen)) {
		ctl_refuse(srv, r, -EINVAL, c, "malformed %s", what);
		return;
	}
	memset(&addr, 0, sizeof(addr));
	addr.family = h.family;
	addr.port = h.port;
	memcpy(addr.ip, h.ip, 16);
	/* (u, the node's UUID as text, is formatted where a message needs it:
	 * not for every heartbeat) */
	u[0] = 0;
	if (memcmp(c->map.cluster, zero, 16) == 0 && !reg) {
		util_uuid_format(h.node, u);
		/* A ctl that lost its state: make the node register (with its
		 * map), which names the cluster again. */
		c->unknown++;
		ctl_refuse(srv, r, -ENOENT, c, "node %s is not registered", u);
		return;
	}
	if (memcmp(c->map.cluster, zero, 16) == 0 && reg) {
		util_uuid_format(h.node, u);
		memcpy(c->map.cluster, h.cluster, 16); /* the first node names the cluster */
		c->dirty = 1;
		log_info("ctl: serving cluster %s (adopted from node %s)",
			 util_uuid_format(h.cluster, cu), u);
	}
	if (memcmp(c->map.cluster, h.cluster, 16) != 0) {
		util_uuid_format(h.node, u);
		ctl_refuse(srv, r, -EXDEV, c,
			   "node %s has a disk of cluster %s; this ctl serves cluster %s", u,
			   util_uuid_format(h.cluster, cu), util_uuid_format(c->map.cluster, mu));
		return;
	}
	if (h.epoch > c->map.epoch) {
		util_uuid_format(h.node, u);
		/* The node knows a newer map. With it (a registration carries
		 * the node's last map) we can continue from there; without,
		 * make it register. */
		if (!reg || !mp) {
			c->unknown++;
			ctl_refuse(srv, r, -ENOENT, c, "node %s knows epoch %llu; register with its map",
				   u, (unsigned long long)h.epoch);
			return;
		}
		if (map_parse(mp, mlen, &c->tmp) || c->tmp.epoch != h.epoch ||
		    memcmp(c->tmp.cluster, c->map.cluster, 16) ||
		    ctl_adopt(c, &c->tmp, u)) {
			ctl_refuse(srv, r, -EINVAL, c,
				   "node %s claims epoch %llu, which ctl (at %llu) does not believe",
				   u, (unsigned long long)h.epoch, (unsigned long long)c->map.epoch);
			return;
		}
	}
	i = map_find(&c->map, h.node);
	if (i < 0 && !reg) {
		util_uuid_format(h.node, u);
		c->unknown++;
		ctl_refuse(srv, r, -ENOENT, c, "node %s is not registered", u);
		return;
	}
	n = i >= 0 ? &c->map.nodes[i] : NULL;
	if (n && n->state == MAP_LOST) {
		util_uuid_format(h.node, u);
		ctl_refuse(srv, r, -ESTALE, c,
			   "node %s was declared lost; format its disk to join as a new node", u);
		return;
	}
	if (n && n->state == MAP_UP && !net_addr_equal(&n->addr, &addr) &&
	    c->now - n->last_hb_ns < c->down_ns) {
		util_uuid_format(h.node, u);
		ctl_refuse(srv, r, -EADDRINUSE, c,
			   "node %s is already up at %s; refusing a second claim from %s", u,
			   net_addr_format(&n->addr, a, sizeof(a)), net_addr_format(&addr, a2, sizeof(a2)));
		return;
	}
	weight = h.weight ? MIN(h.weight, (uint32_t)MAP_WEIGHT_MAX) : MAP_WEIGHT_ONE;
	if (!n) {
		if (c->map.n >= MAP_MAX_NODES) {
			ctl_refuse(srv, r, -ENOSPC, c, "the map is full (%d nodes)", MAP_MAX_NODES);
			return;
		}
		n = &c->map.nodes[c->map.n++];
		memset(n, 0, sizeof(*n));
		memcpy(n->uuid, h.node, 16);
		n->addr = addr;
		memcpy(n->zone, h.zone, MAP_ZONE_LEN);
		n->weight = weight;
		n->state = MAP_UP;
		ctl_bump(c, "joined", n);
		ctl_node_up(c, n);
	} else {
		int changed = !net_addr_equal(&n->addr, &addr);

		if (reg) {
			changed |= strcmp(n->zone, h.zone) != 0;
			changed |= n->weight != weight;
			memcpy(n->zone, h.zone, MAP_ZONE_LEN);
			n->weight = weight;
		}
		n->addr = addr;
		if (h.flags & CTL_HELLO_STORE_FAILED) {
			if (!(n->flags & MAP_NF_FAILED) || n->state != MAP_OUT) {
				n->flags |= MAP_NF_FAILED;
				n->state = MAP_OUT;
				n->since_ns = c->now;
				ctl_bump(c, "reports a failed store: out", n);
			}
		} else if (n->state != MAP_UP) {
			flags |= CTL_REPLY_REJOIN;
			n->state = MAP_UP;
			n->flags &= (uint8_t)~MAP_NF_FAILED;
			ctl_bump(c, "is back up", n);
			ctl_node_up(c, n);
		} else if (reg) {
			/* Restarted before it was missed: what it had not made
			 * durable is gone, and a damaged disk may have lost more.
			 * A new epoch gives its chains fresh versions, and it reads
			 * again only from the next clean epoch. */
			flags |= CTL_REPLY_REJOIN;
			ctl_bump(c, "restarted", n);
			ctl_node_up(c, n);
		} else if (changed) {
			ctl_bump(c, "changed address, zone or weight", n);
		}
	}
	if (reg)
		c->registers++;
	else
		c->heartbeats++;
	ctl_take_figures(c, n, &h);
	ctl_check_full(c, n);
	ctl_reply_ok(c, srv, r, flags, (int)(n - c->map.nodes));
}

static void ctl_admin(struct ctl *c, struct rpc_srv *srv, struct rpc_sreq *r)
{
	uint32_t len;
	const uint8_t *p = rpc_sreq_payload(srv, r, &len);
	struct ctl_admin a;
	struct map_node *n;
	char u[37];
	int i;

	if (ctl_admin_parse(p, len, &a)) {
		ctl_refuse(srv, r, -EINVAL, c, "malformed or unknown admin request");
		return;
	}
	i = map_find(&c->map, a.node);
	if (i < 0) {
		ctl_refuse(srv, r, -ENOENT, c, "no node %s in the map", util_uuid_format(a.node, u));
		return;
	}
	n = &c->map.nodes[i];
	if (n->state == MAP_UP) {
		ctl_refuse(srv, r, -EBUSY, c, "node %s is up: only a node that is down or out "
			   "can be declared lost", util_uuid_format(a.node, u));
		return;
	}
	c->admin++;
	if (n->state != MAP_LOST) {
		n->state = MAP_LOST;
		n->since_ns = c->now;
		ctl_bump(c, "declared lost by an admin", n);
	}
	ctl_reply_ok(c, srv, r, 0, -1);
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
	case FERRY_OP_CTL_ADMIN:
		ctl_admin(c, srv, r);
		return;
	case FERRY_OP_CTL_GETMAP: {
		int len;
		uint8_t *out;

		c->getmaps++;
		ctl_save(c);
		if (c->dirty) {
			rpc_sreq_reply(srv, r, -EAGAIN, 0);
			return;
		}
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
			     "ctl_epoch %llu\nctl_clean_epoch %llu\nctl_nodes %u\nctl_registers %llu\n"
			     "ctl_heartbeats %llu\nctl_getmaps %llu\nctl_unknown_node_msgs %llu\n"
			     "ctl_refused %llu\nctl_saves %llu\nctl_save_errors %llu\n"
			     "ctl_leases %llu\nctl_lease_waits %llu\nctl_adopted_maps %llu\n"
			     "ctl_bogus_epochs %llu\nctl_clean_epochs %llu\nctl_admin %llu\n",
			     (unsigned long long)c->map.epoch, (unsigned long long)c->map.clean_epoch,
			     c->map.n, (unsigned long long)c->registers,
			     (unsigned long long)c->heartbeats, (unsigned long long)c->getmaps,
			     (unsigned long long)c->unknown, (unsigned long long)c->refused,
			     (unsigned long long)c->saves, (unsigned long long)c->save_errors,
			     (unsigned long long)c->leases, (unsigned long long)c->lease_waits,
			     (unsigned long long)c->adopted, (unsigned long long)c->bogus_epochs,
			     (unsigned long long)c->cleans, (unsigned long long)c->admin);
		rpc_sreq_reply(srv, r, 0, k > 0 ? MIN((uint32_t)k, cap) : 0);
		return;
	}
	default:
		rpc_sreq_reply(srv, r, -EOPNOTSUPP, 0);
	}
}

/* The placement state a node had, as the clean map records it. */
static uint8_t ctl_clean_state(const struct map_node *n)
{
	if ((n->state == MAP_UP || n->state == MAP_DOWN) && !(n->flags & MAP_NF_FULL))
		return n->state;
	return MAP_OUT;
}

/* Every up node finished a walk at this epoch with nothing left undone, and
 * too few data holders are away for an acknowledged write to be only on
 * them: every chunk's live members now hold its latest version. */
static void ctl_check_clean(struct ctl *c)
{
	uint32_t up = 0;

	if (c->map.clean_epoch == c->map.epoch || c->dirty ||
	    map_absent(&c->map) >= c->map.min_copies)
		return;
	for (uint32_t i = 0; i < c->map.n; i++) {
		const struct map_node *n = &c->map.nodes[i];

		if (n->state != MAP_UP)
			continue;
		if (n->walk_epoch != c->map.epoch)
			return;
		up++;
	}
	if (!up)
		return;
	ctl_bump(c, "clean: every copy is where the map says", NULL);
	c->map.clean_epoch = c->map.epoch;
	for (uint32_t i = 0; i < c->map.n; i++) {
		struct map_node *n = &c->map.nodes[i];

		n->clean_state = ctl_clean_state(n);
		n->clean_weight = n->weight;
		memcpy(n->clean_zone, n->zone, MAP_ZONE_LEN);
	}
	c->cleans++;
}

/* Heartbeat deadlines: up -> down after down_after of silence, down -> out
 * after out_after. */
static int ctl_tick(struct ctl *c)
{
	int did = 0;

	for (uint32_t i = 0; i < c->map.n; i++) {
		struct map_node *n = &c->map.nodes[i];

		/* (last_hb_ns may be a little after now: set by this batch) */
		if (n->state == MAP_UP && c->now > n->last_hb_ns &&
		    c->now - n->last_hb_ns > c->down_ns) {
			n->state = MAP_DOWN;
			n->since_ns = c->now;
			n->ops_per_s = 0;
			ctl_bump(c, "missed heartbeats: down", n);
			did = 1;
		} else if (n->state == MAP_DOWN && c->now > n->since_ns &&
			   c->now - n->since_ns > c->out_ns) {
			n->state = MAP_OUT;
			n->since_ns = c->now;
			ctl_bump(c, "down past the grace period: out", n);
			did = 1;
		}
	}
	ctl_check_clean(c);
	if (c->dirty && c->now >= c->save_retry_ns)
		ctl_save(c);
	return did;
}

uint64_t ctl_next_deadline(struct ctl *c)
{
	uint64_t due = rpc_srv_next_deadline(c->srv);

	for (uint32_t i = 0; i < c->map.n; i++) {
		const struct map_node *n = &c->map.nodes[i];

		if (n->state == MAP_UP)
			due = MIN(due, n->last_hb_ns + c->down_ns + 1);
		else if (n->state == MAP_DOWN)
			due = MIN(due, n->since_ns + c->out_ns + 1);
	}
	if (c->dirty)
		due = MIN(due, c->save_retry_ns);
	return due;
}

int ctl_poll(struct ctl *c, uint64_t now)
{
	struct transport *t = c->deps.t;
	struct net_pkt pkts[64];
	int n, did = 0;

	c->now = now;
	for (;;) {
		n = t->ops->rx_burst(t, pkts, 64);
		if (n <= 0)
			break;
		for (int i = 0; i < n; i++)
			rpc_srv_input(c->srv, &pkts[i], now);
		t->ops->rx_release(t, pkts, n);
		did = 1;
	}
	did |= ctl_tick(c);
	rpc_srv_tick(c->srv, now);
	rpc_srv_flush(c->srv);
	return did;
}

const struct cmap *ctl_map(const struct ctl *c)
{
	return &c->map;
}

int ctl_open(const struct ctl_cfg *cfg, const struct ctl_deps *deps, struct ctl **out)
{
	struct ctl *c = calloc(1, sizeof(*c));
	struct rpc_cfg rcfg;
	int err;

	if (!c)
		return -ENOMEM;
	c->cfg = *cfg;
	c->deps = *deps;
	if (!c->deps.env)
		c->deps.env = env_real();
	c->now = env_now(c->deps.env);
	c->down_ns = (uint64_t)(cfg->down_after_ms ? cfg->down_after_ms : 3000) * 1000000ull;
	c->out_ns = (uint64_t)(cfg->out_after_ms ? cfg->out_after_ms : 30000) * 1000000ull;
	/* A lease must be over before its holder can be marked down. */
	c->lease_ns = cfg->lease_ms ? (uint64_t)cfg->lease_ms * 1000000ull : c->down_ns / 2;
	if (c->lease_ns > c->down_ns / 2)
		c->lease_ns = c->down_ns / 2;
	if (!c->cfg.full_ratio)
		c->cfg.full_ratio = 0.95;
	if (!c->cfg.nearfull_ratio)
		c->cfg.nearfull_ratio = 0.85;
	if (c->cfg.nearfull_ratio >= c->cfg.full_ratio || c->cfg.full_ratio > 1) {
		log_err("ctl: the nearfull ratio must be below the full ratio, which is at most 1");
		err = -EINVAL;
		goto fail;
	}
	c->enc = malloc(MAP_MAX_LEN);
	if (!c->enc) {
		err = -ENOMEM;
		goto fail;
	}
	err = c->deps.state.load(c->deps.state.ctx, &c->map);
	if (err == -ENOENT) {
		memset(&c->map, 0, sizeof(c->map));
		c->map.replicas = cfg->replicas ? cfg->replicas : 3;
		if (cfg->cluster)
			memcpy(c->map.cluster, cfg->cluster, 16);
	} else if (err) {
		log_err("ctl: cannot load the saved map: %s", strerror(-err));
		goto fail;
	} else {
		if (cfg->cluster && memcmp(cfg->cluster, c->map.cluster, 16) != 0) {
			char u1[37], u2[37];
			log_err("ctl: the saved map is of cluster %s, not %s",
				util_uuid_format(c->map.cluster, u1), util_uuid_format(cfg->cluster, u2));
			err = -EXDEV;
			goto fail;
		}
		if (cfg->replicas && cfg->replicas != c->map.replicas) {
			c->map.replicas = cfg->replicas;
			ctl_bump(c, "replica count changed", NULL);
		}
		/* Everyone gets a fresh deadline (silence while ctl was away is
		 * not the nodes' fault) and may hold a lease an earlier run of
		 * ctl granted. */
		for (uint32_t i = 0; i < c->map.n; i++) {
			struct map_node *n = &c->map.nodes[i];

			n->last_hb_ns = n->since_ns = c->now;
			n->lease_end_ns = c->now + ctl_lease_bound(c);
		}
	}
	if (c->map.replicas == 0 || c->map.replicas > MAP_MAX_R) {
		log_err("ctl: --replicas must be 1..%d", MAP_MAX_R);
		err = -EINVAL;
		goto fail;
	}
	if (cfg->min_copies)
		c->map.min_copies = cfg->min_copies;
	else if (!c->map.min_copies)
		c->map.min_copies = c->map.replicas - c->map.replicas / 2;
	if (c->map.min_copies > c->map.replicas) {
		if (cfg->min_copies) {
			log_err("ctl: --min-copies %u is above the replica count %u", cfg->min_copies,
				c->map.replicas);
			err = -EINVAL;
			goto fail;
		}
		c->map.min_copies = c->map.replicas;
	}
	c->dirty = 1;
	ctl_save(c);
	if (c->dirty) {
		err = -EIO;
		goto fail;
	}
	rpc_cfg_default(&rcfg);
	rcfg.max_msg = 64u << 10; /* a registration carries the node's map */
	rcfg.mem_budget = 64ull << 20;
	rcfg.env = c->deps.env;
	err = rpc_srv_open(&rcfg, c->deps.t, ctl_handle, c, &c->srv);
	if (err)
		goto fail;
	*out = c;
	return 0;
fail:
	free(c->enc);
	free(c);
	return err;
}

void ctl_close(struct ctl *c)
{
	if (!c)
		return;
	rpc_srv_close(c->srv);
	free(c->enc);
	free(c);
}

/* ------------------------------------------------------------ the driver */

static int ctl_dir_load(void *ctx, struct cmap *m)
{
	return map_load(m, ctx);
}

static int ctl_dir_save(void *ctx, const struct cmap *m)
{
	return map_save(m, ctx);
}

struct ctl_state_ops ctl_state_dir(const char *dir)
{
	return (struct ctl_state_ops){ ctl_dir_load, ctl_dir_save, (void *)dir };
}

int ctl_run(const struct ctl_cfg *cfg, const char *listen, const char *state_dir,
	    volatile sig_atomic_t *stop)
{
	struct ctl_deps deps = { .env = env_real(), .state = ctl_state_dir(state_dir) };
	struct net_addr local;
	struct ctl *c = NULL;
	char a[64];
	int err;

	err = net_addr_parse(listen, CTL_PORT_DEFAULT, &local);
	if (err) {
		log_err("ctl: bad listen address '%s'", listen);
		return err;
	}
	err = udp_transport_open(&local, &deps.t);
	if (err) {
		log_err("ctl: cannot listen on %s: %s", listen, strerror(-err));
		return err;
	}
	err = ctl_open(cfg, &deps, &c);
	if (err)
		goto out;
	log_info("ctl: started on %s (state %s, epoch %llu, %u nodes, R=%u, min copies %u)",
		 net_addr_format(&local, a, sizeof(a)), state_dir,
		 (unsigned long long)c->map.epoch, c->map.n, c->map.replicas, c->map.min_copies);
	while (!*stop) {
		uint64_t now = env_now(deps.env), due;
		struct pollfd pfd = { .fd = deps.t->ops->poll_fd(deps.t), .events = POLLIN };
		int wait_ms;

		if (ctl_poll(c, now))
			continue;
		due = ctl_next_deadline(c);
		now = env_now(deps.env);
		wait_ms = due <= now ? 0 : (int)MIN((due - now + 999999) / 1000000, 1000ull);
		poll(&pfd, 1, wait_ms);
	}
	log_info("ctl: stopping at epoch %llu", (unsigned long long)c->map.epoch);
out:
	ctl_close(c);
	deps.t->ops->close(deps.t);
	return err;
}
