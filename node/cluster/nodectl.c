/* SPDX-License-Identifier: Apache-2.0 */
/* nodectl.c - register, heartbeat, fetch the map, hold the lease (see nodectl.h). */
#include "cluster/nodectl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/ctl_msg.h"
#include "common/log.h"
#include "common/util.h"
#include "net/rpc.h"

struct nodectl {
	struct nodectl_cfg cfg;
	struct rpc_client *rpc;
	struct cmap map;               /* the newest map ctl gave (epoch 0 = none) */
	uint64_t served;               /* the epoch the node serves under (heartbeats say it) */
	struct cmap tmp;               /* parse target */
	int registered;                /* ctl accepted our registration */
	int rejoined;                  /* ctl said we had been down/out */
	int fatal;                     /* refused: -errno */
	uint64_t ctl_epoch;            /* newest epoch seen */
	uint64_t next_hello_ns;        /* next registration/heartbeat */
	uint64_t hello_sent_ns;        /* when the heartbeat in flight was sent */
	uint64_t lease_epoch;          /* the lease held: its epoch ... */
	uint64_t lease_end_ns;         /* ... and when it ends (0: none) */
	int new_map;                   /* a newer map awaits nodectl_poll's caller */
	/* calls (one of each kind in flight at most) */
	struct rpc_call hello_call, map_call;
	uint8_t *hello_buf;            /* struct ctl_hello [+ our map, registering] */
	struct ctl_reply reply_buf;    /* where the answer lands */
	struct ctl_reply reply;        /* ... checked (ctl_reply_parse) */
	uint8_t *map_buf;
	int hello_busy, map_busy;
	uint64_t missed;               /* heartbeats ctl did not answer */
};

static void nodectl_hello_done(struct rpc_call *c)
{
	struct nodectl *nc = c->arg;
	int reg = c->op == FERRY_OP_CTL_REGISTER;
	const struct ctl_reply *rep = &nc->reply;
	int well_formed;

	nc->hello_busy = 0;
	if (c->err) {
		nc->missed++;
		log_debug("node: no answer from ctl (%s)", strerror(-c->err));
		return; /* ctl unreachable: keep the last map, try again */
	}
	if (c->status == -ENOENT && !reg) {
		nc->registered = 0; /* ctl lost us (fresh state): register again */
		nc->next_hello_ns = 0;
		return;
	}
	if (c->status == -EAGAIN)
		return; /* ctl could not save its map yet: the next heartbeat */
	well_formed = ctl_reply_parse((const uint8_t *)&nc->reply_buf, c->resp_len, &nc->reply) == 0;
	if (c->status) {
		log_err("node: ctl %s refused this node: %s", reg ? "registration" : "heartbeat",
			well_formed ? rep->msg : strerror(-c->status));
		if (c->status == -EXDEV || c->status == -EADDRINUSE || c->status == -EINVAL ||
		    c->status == -ESTALE)
			nc->fatal = c->status;
		return;
	}
	if (!well_formed) {
		log_warn("node: ctl sent a malformed answer (%u bytes)", c->resp_len);
		return;
	}
	if (reg) {
		char a[64];
		nc->registered = 1;
		log_info("node: registered with ctl %s (epoch %llu%s)",
			 net_addr_format(&nc->cfg.ctl, a, sizeof(a)), (unsigned long long)rep->epoch,
			 rep->flags & CTL_REPLY_REJOIN ? ", rejoining" : "");
	}
	if (rep->flags & CTL_REPLY_REJOIN)
		nc->rejoined = 1;
	if (rep->epoch > nc->ctl_epoch)
		nc->ctl_epoch = rep->epoch;
	/* The lease counts from when we sent the heartbeat: an answer that
	 * took long gives a shorter lease, never a longer one. */
	if (rep->lease_ms && rep->lease_epoch >= nc->lease_epoch) {
		nc->lease_epoch = rep->lease_epoch;
		nc->lease_end_ns = nc->hello_sent_ns + (uint64_t)rep->lease_ms * 1000000ull;
	}
}

static void nodectl_map_done(struct rpc_call *c)
{
	struct nodectl *nc = c->arg;

	nc->map_busy = 0;
	if (c->err || c->status)
		return;
	if (map_parse(nc->map_buf, c->resp_len, &nc->tmp)) {
		log_warn("node: ctl sent a malformed map (%u bytes)", c->resp_len);
		return;
	}
	if (memcmp(nc->tmp.cluster, nc->cfg.hello.cluster, 16) != 0) {
		log_warn("node: ctl sent the map of another cluster; ignored");
		return;
	}
	nc->ctl_epoch = nc->tmp.epoch; /* ctl is the authority on epochs */
	if (nc->tmp.epoch < nc->map.epoch)
		return; /* never back to an older map */
	if (nc->tmp.epoch != nc->map.epoch) {
		nc->new_map = 1;
		log_info("node: map epoch %llu (%u nodes, clean %llu)",
			 (unsigned long long)nc->tmp.epoch, nc->tmp.n,
			 (unsigned long long)nc->tmp.clean_epoch);
	}
	nc->map = nc->tmp; /* figures change without a new epoch too */
}

int nodectl_open(const struct nodectl_cfg *cfg, struct nodectl **out)
{
	struct nodectl *nc = calloc(1, sizeof(*nc));
	struct rpc_cfg rcfg;
	int err = -ENOMEM;

	if (!nc)
		return -ENOMEM;
	nc->cfg = *cfg;
	if (!nc->cfg.env)
		nc->cfg.env = env_real();
	if (!nc->cfg.heartbeat_ms)
		nc->cfg.heartbeat_ms = 300; /* ctl --down-after should be >= 3 of these */
	nc->map_buf = malloc(MAP_MAX_LEN);
	nc->hello_buf = malloc(sizeof(struct ctl_hello) + MAP_MAX_LEN);
	if (!nc->map_buf || !nc->hello_buf)
		goto fail;
	rpc_cfg_default(&rcfg);
	rcfg.max_msg = MAP_MAX_LEN + 4096;
	rcfg.timeout_ms = nc->cfg.heartbeat_ms; /* the next heartbeat retries */
	rcfg.env = nc->cfg.env;
	err = rpc_client_open(&rcfg, nc->cfg.t, &nc->rpc);
	if (err)
		goto fail;
	*out = nc;
	return 0;
fail:
	free(nc->map_buf);
	free(nc->hello_buf);
	free(nc);
	return err;
}

void nodectl_close(struct nodectl *nc)
{
	if (!nc)
		return;
	rpc_client_close(nc->rpc);
	free(nc->map_buf);
	free(nc->hello_buf);
	free(nc);
}

static void nodectl_send_hello(struct nodectl *nc, uint64_t now, const struct ctl_hello *fig)
{
	struct rpc_call *c = &nc->hello_call;
	struct ctl_hello h = nc->cfg.hello;
	uint32_t len = sizeof(h);
	int reg = !nc->registered;

	h.magic = CTL_MAGIC;
	h.len = sizeof(h);
	h.epoch = nc->served;
	h.capacity = fig->capacity;
	h.used = fig->used;
	h.chunks = fig->chunks;
	h.ops_total = fig->ops_total;
	h.rec_pending = fig->rec_pending;
	h.rec_copied = fig->rec_copied;
	h.rec_bytes = fig->rec_bytes;
	h.degraded = fig->degraded;
	h.walk_epoch = fig->walk_epoch;
	h.max_version = fig->max_version;
	h.repaired = fig->repaired;
	h.bad_chunks = fig->bad_chunks;
	h.flags = fig->flags;
	memcpy(nc->hello_buf, &h, sizeof(h));
	if (reg && nc->map.epoch) {
		int mlen = map_encode(&nc->map, nc->hello_buf + sizeof(h), MAP_MAX_LEN);

		if (mlen > 0)
			len += (uint32_t)mlen;
	}
	memset(c, 0, sizeof(*c));
	c->peer = nc->cfg.ctl;
	c->op = reg ? FERRY_OP_CTL_REGISTER : FERRY_OP_CTL_HEARTBEAT;
	c->epoch = nc->served;
	c->req = nc->hello_buf;
	c->req_len = len;
	c->resp = (uint8_t *)&nc->reply_buf;
	c->resp_cap = sizeof(nc->reply_buf);
	c->done = nodectl_hello_done;
	c->arg = nc;
	nc->hello_sent_ns = now;
	if (rpc_client_start(nc->rpc, c) == 0)
		nc->hello_busy = 1;
	nc->next_hello_ns = now + (uint64_t)nc->cfg.heartbeat_ms * 1000000ull;
}

int nodectl_poll(struct nodectl *nc, uint64_t now, const struct ctl_hello *fig)
{
	struct transport *t = nc->cfg.t;
	struct net_pkt pkts[32];
	int n;

	while ((n = t->ops->rx_burst(t, pkts, 32)) > 0) {
		for (int i = 0; i < n; i++)
			rpc_client_input(nc->rpc, &pkts[i]);
		t->ops->rx_release(t, pkts, n);
	}
	rpc_client_tick(nc->rpc, now);
	if (nc->fatal)
		return nc->fatal;
	if (!nc->hello_busy && now >= nc->next_hello_ns)
		nodectl_send_hello(nc, now, fig);
	if (!nc->map_busy && nc->registered && nc->ctl_epoch > nc->map.epoch) {
		struct rpc_call *c = &nc->map_call;

		memset(c, 0, sizeof(*c));
		c->peer = nc->cfg.ctl;
		c->op = FERRY_OP_CTL_GETMAP;
		c->resp = nc->map_buf;
		c->resp_cap = MAP_MAX_LEN;
		c->done = nodectl_map_done;
		c->arg = nc;
		if (rpc_client_start(nc->rpc, c) == 0)
			nc->map_busy = 1;
	}
	t->ops->tx_flush(t);
	if (nc->new_map) {
		nc->new_map = 0;
		return 1;
	}
	return 0;
}

uint64_t nodectl_next_deadline(struct nodectl *nc)
{
	uint64_t due = rpc_client_next_deadline(nc->rpc);

	if (!nc->hello_busy)
		due = MIN(due, nc->next_hello_ns);
	return due;
}

void nodectl_set_map(struct nodectl *nc, const struct cmap *m)
{
	if (m->epoch > nc->map.epoch)
		map_copy(&nc->map, m);
	if (m->epoch > nc->served)
		nc->served = m->epoch;
	if (m->epoch > nc->ctl_epoch)
		nc->ctl_epoch = m->epoch;
}

void nodectl_want_map(struct nodectl *nc, uint64_t epoch)
{
	if (epoch > nc->ctl_epoch && epoch <= MAP_EPOCH_MAX)
		nc->ctl_epoch = epoch;
}

void nodectl_hello_now(struct nodectl *nc)
{
	nc->next_hello_ns = 0;
}

const struct cmap *nodectl_map(const struct nodectl *nc)
{
	return &nc->map;
}

int nodectl_lease(const struct nodectl *nc, uint64_t epoch, uint64_t now)
{
	return nc->lease_epoch == epoch && epoch && now < nc->lease_end_ns;
}

uint64_t nodectl_lease_end(const struct nodectl *nc)
{
	return nc->lease_end_ns;
}

int nodectl_rejoined(struct nodectl *nc)
{
	int r = nc->rejoined;

	nc->rejoined = 0;
	return r;
}
