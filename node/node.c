/* SPDX-License-Identifier: Apache-2.0 */
/*
 * node.c - the storage node: request handlers over the store, and the
 * run-to-completion loop (receive a batch, execute, answer, flush).
 */
#include "node.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "net/rpc.h"
#include "net/transport.h"
#include "net/xsk.h"
#include "storage/store.h"

#define NODE_RX_BATCH  64
#define NODE_TICK_MS   10
#define NODE_LIST_MAX  1024 /* entries per LIST answer */
#define NODE_MAX_QUEUES 16

/* One receive path: a transport (a NIC queue or a UDP socket) and the RPC
 * server state of the clients that reach the node through it. */
struct node_path {
	struct transport *t;
	struct rpc_srv *srv;
};

struct node {
	const struct node_cfg *cfg;
	struct store *store;
	struct store_info info;
	struct node_path paths[NODE_MAX_QUEUES];
	uint32_t npaths;
	uint64_t cluster_id;           /* first 8 bytes of the cluster UUID */
	uint64_t ops[FERRY_OP_MAX];    /* requests served per op */
	uint64_t op_errors;            /* requests answered with an error */
	uint64_t start_ns;
};

static uint64_t node_cluster_id(const uint8_t uuid[16])
{
	uint64_t id;

	memcpy(&id, uuid, sizeof(id));
	return id;
}

/* "name value\n" lines describing the node: its counters and CPU time. */
static uint32_t node_stats_text(struct node *n, char *buf, uint32_t cap)
{
	static const char *const op_names[FERRY_OP_MAX] = {
		[FERRY_OP_PING] = "ping", [FERRY_OP_PUT] = "put", [FERRY_OP_GET] = "get",
		[FERRY_OP_DELETE] = "delete", [FERRY_OP_STAT] = "stat", [FERRY_OP_LIST] = "list",
		[FERRY_OP_WRITE] = "write", [FERRY_OP_STATS] = "stats",
	};
	struct rusage ru;
	char uuid[37];
	size_t off = 0;
	int k;

	store_get_info(n->store, &n->info);
	getrusage(RUSAGE_SELF, &ru);
	k = snprintf(buf, cap,
		     "node_id %s\nuptime_ms %llu\ncpu_user_us %llu\ncpu_sys_us %llu\n"
		     "store_chunks %llu\nstore_used_bytes %llu\nstore_capacity_bytes %llu\n"
		     "op_errors %llu\n",
		     util_uuid_format(n->info.node, uuid),
		     (unsigned long long)((util_now_ns() - n->start_ns) / 1000000),
		     (unsigned long long)ru.ru_utime.tv_sec * 1000000ull +
			     (unsigned long long)ru.ru_utime.tv_usec,
		     (unsigned long long)ru.ru_stime.tv_sec * 1000000ull +
			     (unsigned long long)ru.ru_stime.tv_usec,
		     (unsigned long long)n->info.chunks, (unsigned long long)n->info.used,
		     (unsigned long long)n->info.capacity, (unsigned long long)n->op_errors);
	if (k > 0)
		off = MIN((size_t)k, cap - 1);
	for (int op = 1; op < FERRY_OP_MAX; op++) {
		if (!op_names[op])
			continue;
		k = snprintf(buf + off, cap - off, "ops_%s %llu\n", op_names[op],
			     (unsigned long long)n->ops[op]);
		if (k > 0)
			off += MIN((size_t)k, cap - off - 1);
	}
	for (uint32_t i = 0; i < n->npaths; i++) {
		/* Counters of every path, summed per name by readers when > 1. */
		off += rpc_counters_format(rpc_srv_counters(n->paths[i].srv), buf + off, cap - off);
		off += n->paths[i].t->ops->stats(n->paths[i].t, buf + off, cap - off);
	}
	return (uint32_t)off;
}

static void node_reply_version(struct rpc_srv *srv, struct rpc_sreq *r, int err, uint64_t version)
{
	uint8_t *out = err ? NULL : rpc_sreq_reply_buf(srv, r, sizeof(version));

	if (out) {
		memcpy(out, &version, sizeof(version));
		rpc_sreq_reply(srv, r, 0, sizeof(version));
	} else {
		rpc_sreq_reply(srv, r, err ? err : -ENOMEM, 0);
	}
}

static void node_handle(void *arg, struct rpc_srv *srv, struct rpc_sreq *r)
{
	struct node *n = arg;
	const struct ferry_hdr *h = rpc_sreq_hdr(r);
	uint32_t len;
	uint8_t *payload = rpc_sreq_payload(r, &len);
	struct iovec iov = { payload, len };
	uint64_t version = 0;
	int err = 0;

	n->ops[h->op]++;
	switch (h->op) {
	case FERRY_OP_PING: {
		uint8_t *out = rpc_sreq_reply_buf(srv, r, 16);
		if (!out) {
			err = -ENOMEM;
			break;
		}
		memcpy(out, n->info.node, 16);
		rpc_sreq_reply(srv, r, 0, 16);
		return;
	}
	case FERRY_OP_PUT:
		if (len != h->length) {
			err = -EINVAL;
			break;
		}
		err = store_put(n->store, h->chunk, &iov, 1, &version);
		node_reply_version(srv, r, err, version);
		n->op_errors += err != 0;
		return;
	case FERRY_OP_WRITE:
		if (len != h->length) {
			err = -EINVAL;
			break;
		}
		err = store_write(n->store, h->chunk, h->offset, &iov, 1, &version);
		node_reply_version(srv, r, err, version);
		n->op_errors += err != 0;
		return;
	case FERRY_OP_GET: {
		uint32_t want = MIN(h->length, n->info.max_chunk);
		uint32_t got = 0;
		uint8_t *out = want ? rpc_sreq_reply_buf(srv, r, want) : NULL;

		if (want && !out) {
			err = -ENOMEM;
			break;
		}
		err = want ? store_get(n->store, h->chunk, h->offset, want, out, &got) : 0;
		if (!want) {
			struct store_stat st;
			err = store_stat(n->store, h->chunk, &st);
		}
		n->op_errors += err != 0;
		rpc_sreq_reply(srv, r, err, err ? 0 : got);
		return;
	}
	case FERRY_OP_DELETE:
		err = store_delete(n->store, h->chunk);
		break;
	case FERRY_OP_STAT: {
		struct store_stat st;
		struct ferry_chunk_stat *out;

		err = store_stat(n->store, h->chunk, &st);
		if (err)
			break;
		out = rpc_sreq_reply_buf(srv, r, sizeof(*out));
		if (!out) {
			err = -ENOMEM;
			break;
		}
		memset(out, 0, sizeof(*out));
		out->size = st.size;
		out->version = st.version;
		out->crc = st.crc;
		rpc_sreq_reply(srv, r, 0, sizeof(*out));
		return;
	}
	case FERRY_OP_LIST: {
		uint32_t max = MIN(h->length ? h->length : NODE_LIST_MAX, NODE_LIST_MAX);
		struct store_list_entry ents[64];
		struct ferry_list_entry *out = rpc_sreq_reply_buf(srv, r, max * sizeof(*out));
		uint8_t cursor[16];
		uint32_t total = 0;

		if (!out) {
			err = -ENOMEM;
			break;
		}
		memcpy(cursor, h->chunk, 16);
		while (total < max) {
			uint32_t got = 0;
			err = store_list(n->store, cursor, ents, MIN(64u, max - total), &got);
			if (err || got == 0)
				break;
			for (uint32_t i = 0; i < got; i++, total++) {
				memcpy(out[total].chunk, ents[i].id, 16);
				out[total].version = ents[i].version;
				out[total].size = ents[i].size;
			}
		}
		n->op_errors += err != 0;
		rpc_sreq_reply(srv, r, err, err ? 0 : total * (uint32_t)sizeof(*out));
		return;
	}
	case FERRY_OP_STATS: {
		uint32_t cap = 16384;
		char *out = rpc_sreq_reply_buf(srv, r, cap);
		if (!out) {
			err = -ENOMEM;
			break;
		}
		rpc_sreq_reply(srv, r, 0, node_stats_text(n, out, cap));
		return;
	}
	default:
		err = -EOPNOTSUPP;
		break;
	}
	n->op_errors += err != 0;
	rpc_sreq_reply(srv, r, err, 0);
}

/* One pass over a path: returns the number of datagrams handled. */
static int node_path_poll(struct node_path *p)
{
	struct net_pkt pkts[NODE_RX_BATCH];
	int cnt = p->t->ops->rx_burst(p->t, pkts, NODE_RX_BATCH);
	uint64_t now;

	if (cnt <= 0) {
		rpc_srv_flush(p->srv);
		return cnt;
	}
	now = util_now_ns();
	for (int i = 0; i < cnt; i++)
		rpc_srv_input(p->srv, &pkts[i], now);
	p->t->ops->rx_release(p->t, pkts, cnt);
	rpc_srv_flush(p->srv);
	return cnt;
}

/* Sleep until a path has work or wait_ms passes. */
static void node_wait(struct node *n, int wait_ms)
{
	struct pollfd pfd[NODE_MAX_QUEUES];
	nfds_t k = 0;

	for (uint32_t i = 0; i < n->npaths; i++) {
		int fd = n->paths[i].t->ops->poll_fd(n->paths[i].t);
		if (fd >= 0)
			pfd[k++] = (struct pollfd){ .fd = fd, .events = POLLIN };
	}
	if (k)
		poll(pfd, k, wait_ms);
}

static int node_open_paths(struct node *n, const struct net_addr *local, struct rpc_cfg *rcfg)
{
	const struct node_cfg *cfg = n->cfg;
	int use_xdp = cfg->transport == NODE_TRANSPORT_XDP ||
		      (cfg->transport == NODE_TRANSPORT_AUTO && cfg->iface);
	uint32_t queues = cfg->queues ? cfg->queues : 1;
	int err = 0;

	if (queues > NODE_MAX_QUEUES) {
		log_err("node: at most %d queues", NODE_MAX_QUEUES);
		return -EINVAL;
	}
	if (!use_xdp)
		queues = 1;
	for (uint32_t q = 0; q < queues; q++) {
		struct node_path *p = &n->paths[n->npaths];

		if (use_xdp) {
			struct xsk_transport_cfg xcfg = {
				.ifname = cfg->iface,
				.queue_id = q,
				.local = *local,
				.cluster = n->cluster_id,
				.bind_mode = XSK_BIND_AUTO,
				.xdp_mode = cfg->xdp_generic ? XDP_LINK_GENERIC : XDP_LINK_AUTO,
			};
			if (local->family != AF_INET) {
				log_err("node: AF_XDP serves IPv4 addresses only");
				return -EAFNOSUPPORT;
			}
			err = xsk_transport_open(&xcfg, &p->t);
			if (err) {
				log_err("node: cannot open AF_XDP on %s queue %u: %s", cfg->iface, q,
					strerror(-err));
				return err;
			}
		} else {
			err = udp_transport_open(local, &p->t);
			if (err) {
				log_err("node: cannot listen on %s: %s", cfg->listen, strerror(-err));
				return err;
			}
		}
		err = rpc_srv_open(rcfg, p->t, node_handle, n, &p->srv);
		if (err) {
			p->t->ops->close(p->t);
			return err;
		}
		n->npaths++;
	}
	return 0;
}

int node_run(const struct node_cfg *cfg)
{
	struct node n = { .cfg = cfg };
	struct store_cfg scfg = { .path = cfg->disk, .cluster = cfg->cluster,
				  .scrub_mb_s = cfg->scrub_mb_s };
	struct net_addr local;
	struct rpc_cfg rcfg;
	char addr[64], uuid[37];
	uint64_t last_tick = 0;
	int err;

	n.start_ns = util_now_ns();
	err = net_addr_parse(cfg->listen, FERRY_PORT_DEFAULT, &local);
	if (err) {
		log_err("node: bad listen address '%s'", cfg->listen);
		return err;
	}
	err = store_open(&scfg, &n.store);
	if (err) {
		log_err("node: cannot open store %s: %s", cfg->disk, strerror(-err));
		return err;
	}
	store_get_info(n.store, &n.info);
	n.cluster_id = node_cluster_id(n.info.cluster);

	rpc_cfg_default(&rcfg);
	rcfg.cluster = n.cluster_id;
	rcfg.max_msg = MAX(n.info.max_chunk, 64u << 10) + 4096;
	if (cfg->mtu)
		rcfg.mtu = cfg->mtu;
	err = node_open_paths(&n, &local, &rcfg);
	if (err)
		goto out;
	log_info("node %s serving %s on %s (transport %s, %u queue%s, %llu chunks)",
		 util_uuid_format(n.info.node, uuid), cfg->disk,
		 net_addr_format(&local, addr, sizeof(addr)), n.paths[0].t->ops->name, n.npaths,
		 n.npaths == 1 ? "" : "s", (unsigned long long)n.info.chunks);

	while (!*cfg->stop) {
		int busy = 0;
		uint64_t now;

		for (uint32_t i = 0; i < n.npaths; i++) {
			int cnt = node_path_poll(&n.paths[i]);
			if (cnt < 0 && cnt != -EINTR && cnt != -EAGAIN) {
				log_err("node: receive failed: %s", strerror(-cnt));
				err = cnt;
				goto stop;
			}
			busy += cnt > 0;
		}
		if (!busy)
			node_wait(&n, NODE_TICK_MS);
		now = util_now_ns();
		if (now - last_tick > NODE_TICK_MS * 1000000ull) {
			for (uint32_t i = 0; i < n.npaths; i++)
				rpc_srv_tick(n.paths[i].srv, now);
			last_tick = now;
		}
	}
stop:
	log_info("node stopping");
out:
	for (uint32_t i = 0; i < n.npaths; i++) {
		rpc_srv_close(n.paths[i].srv);
		n.paths[i].t->ops->close(n.paths[i].t);
	}
	store_close(n.store);
	return err;
}
