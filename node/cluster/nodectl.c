/* SPDX-License-Identifier: Apache-2.0 */
/* nodectl.c - register, heartbeat, fetch the map (see nodectl.h). */
#include "cluster/nodectl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "net/rpc.h"

struct nodectl {
	struct nodectl_cfg cfg;
	struct net_addr ctl;
	struct transport *t;
	struct rpc_client *rpc;
	struct cmap map;               /* last map (epoch 0 = none yet) */
	struct cmap tmp;               /* parse target */
	int registered;                /* ctl accepted our registration */
	int rejoined;                  /* ctl said we had been down/out */
	int fatal;                     /* refused: -errno */
	uint64_t ctl_epoch;            /* newest epoch seen */
	uint64_t next_hello_ns;        /* next registration/heartbeat */
	int new_map;                   /* a fresh map awaits nodectl_poll's caller */
	/* calls (one of each kind in flight at most) */
	struct rpc_call hello_call, map_call;
	struct ctl_hello hello_buf;
	struct ctl_reply reply_buf;
	uint8_t *map_buf;
	int hello_busy, map_busy;
	uint64_t missed;               /* heartbeats ctl did not answer */
};

static void nodectl_hello_done(struct rpc_call *c)
{
	struct nodectl *nc = c->arg;
	int reg = c->op == FERRY_OP_CTL_REGISTER;

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
	if (c->status) {
		nc->reply_buf.msg[sizeof(nc->reply_buf.msg) - 1] = 0;
		log_err("node: ctl %s refused this node: %s", reg ? "registration" : "heartbeat",
			c->resp_len == sizeof(nc->reply_buf) ? nc->reply_buf.msg : strerror(-c->status));
		if (c->status == -EXDEV || c->status == -EADDRINUSE || c->status == -EINVAL)
			nc->fatal = c->status;
		return;
	}
	if (c->resp_len != sizeof(nc->reply_buf))
		return;
	if (reg) {
		char a[64];
		nc->registered = 1;
		log_info("node: registered with ctl %s (epoch %llu%s)",
			 net_addr_format(&nc->ctl, a, sizeof(a)),
			 (unsigned long long)nc->reply_buf.epoch,
			 nc->reply_buf.flags & CTL_REPLY_REJOIN ? ", rejoining" : "");
	}
	if (nc->reply_buf.flags & CTL_REPLY_REJOIN)
		nc->rejoined = 1;
	if (nc->reply_buf.epoch > nc->ctl_epoch)
		nc->ctl_epoch = nc->reply_buf.epoch;
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
	if (nc->tmp.epoch != nc->map.epoch) {
		nc->new_map = 1;
		log_info("node: map epoch %llu (%u nodes)", (unsigned long long)nc->tmp.epoch,
			 nc->tmp.n);
	}
	nc->map = nc->tmp; /* figures change without a new epoch too */
}

int nodectl_open(const struct nodectl_cfg *cfg, struct nodectl **out)
{
	struct nodectl *nc = calloc(1, sizeof(*nc));
	struct net_addr any;
	struct rpc_cfg rcfg;
	int err;

	if (!nc)
		return -ENOMEM;
	nc->cfg = *cfg;
	if (!nc->cfg.heartbeat_ms)
		nc->cfg.heartbeat_ms = 300; /* ctl --down-after should be >= 3 of these */
	nc->map_buf = malloc(MAP_MAX_LEN);
	err = nc->map_buf ? net_addr_parse(cfg->ctl, CTL_PORT_DEFAULT, &nc->ctl) : -ENOMEM;
	if (err)
		goto fail;
	memset(&any, 0, sizeof(any));
	any.family = nc->ctl.family;
	err = udp_transport_open(&any, &nc->t);
	if (err)
		goto fail;
	rpc_cfg_default(&rcfg);
	rcfg.max_msg = MAP_MAX_LEN + 4096;
	rcfg.timeout_ms = nc->cfg.heartbeat_ms; /* the next heartbeat retries */
	err = rpc_client_open(&rcfg, nc->t, &nc->rpc);
	if (err)
		goto fail_t;
	*out = nc;
	return 0;
fail_t:
	nc->t->ops->close(nc->t);
fail:
	free(nc->map_buf);
	free(nc);
	return err;
}

void nodectl_close(struct nodectl *nc)
{
	if (!nc)
		return;
	rpc_client_close(nc->rpc);
	nc->t->ops->close(nc->t);
	free(nc->map_buf);
	free(nc);
}

int nodectl_poll(struct nodectl *nc, const struct ctl_hello *fig)
{
	uint64_t now = util_now_ns();

	rpc_client_poll(nc->rpc, 0);
	if (nc->fatal)
		return nc->fatal;
	if (!nc->hello_busy && now >= nc->next_hello_ns) {
		struct rpc_call *c = &nc->hello_call;

		nc->hello_buf = nc->cfg.hello;
		nc->hello_buf.magic = CTL_MAGIC;
		nc->hello_buf.len = sizeof(nc->hello_buf);
		nc->hello_buf.epoch = nc->map.epoch;
		nc->hello_buf.capacity = fig->capacity;
		nc->hello_buf.used = fig->used;
		nc->hello_buf.chunks = fig->chunks;
		nc->hello_buf.ops_total = fig->ops_total;
		nc->hello_buf.rec_pending = fig->rec_pending;
		nc->hello_buf.rec_copied = fig->rec_copied;
		nc->hello_buf.rec_bytes = fig->rec_bytes;
		nc->hello_buf.degraded = fig->degraded;
		memset(c, 0, sizeof(*c));
		c->peer = nc->ctl;
		c->op = nc->registered ? FERRY_OP_CTL_HEARTBEAT : FERRY_OP_CTL_REGISTER;
		c->req = (const uint8_t *)&nc->hello_buf;
		c->req_len = sizeof(nc->hello_buf);
		c->resp = (uint8_t *)&nc->reply_buf;
		c->resp_cap = sizeof(nc->reply_buf);
		c->done = nodectl_hello_done;
		c->arg = nc;
		if (rpc_client_start(nc->rpc, c) == 0)
			nc->hello_busy = 1;
		nc->next_hello_ns = now + (uint64_t)nc->cfg.heartbeat_ms * 1000000ull;
	}
	if (!nc->map_busy && nc->registered && nc->ctl_epoch != nc->map.epoch) {
		struct rpc_call *c = &nc->map_call;

		memset(c, 0, sizeof(*c));
		c->peer = nc->ctl;
		c->op = FERRY_OP_CTL_GETMAP;
		c->resp = nc->map_buf;
		c->resp_cap = MAP_MAX_LEN;
		c->done = nodectl_map_done;
		c->arg = nc;
		if (rpc_client_start(nc->rpc, c) == 0)
			nc->map_busy = 1;
	}
	rpc_client_poll(nc->rpc, 0);
	if (nc->new_map) {
		nc->new_map = 0;
		return 1;
	}
	return 0;
}

void nodectl_want_map(struct nodectl *nc, uint64_t epoch)
{
	if (epoch > nc->ctl_epoch)
		nc->ctl_epoch = epoch;
}

const struct cmap *nodectl_map(const struct nodectl *nc)
{
	return &nc->map;
}

int nodectl_rejoined(struct nodectl *nc)
{
	int r = nc->rejoined;

	nc->rejoined = 0;
	return r;
}

int nodectl_fd(struct nodectl *nc)
{
	return nc->t->ops->poll_fd(nc->t);
}
