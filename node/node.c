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
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "net/rpc.h"
#include "net/transport.h"
#include "storage/store.h"

#define NODE_RX_BATCH  64
#define NODE_TICK_MS   10
#define NODE_LIST_MAX  1024 /* entries per LIST answer */

struct node {
	const struct node_cfg *cfg;
	struct store *store;
	struct store_info info;
	struct transport *t;
	struct rpc_srv *srv;
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
	off += rpc_counters_format(rpc_srv_counters(n->srv), buf + off, cap - off);
	off += n->t->ops->stats(n->t, buf + off, cap - off);
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

/* One pass of the loop: returns the number of datagrams handled. */
static int node_loop_once(struct node *n, int wait_ms)
{
	struct net_pkt pkts[NODE_RX_BATCH];
	int cnt = n->t->ops->rx_burst(n->t, pkts, NODE_RX_BATCH);
	uint64_t now;

	if (cnt == 0 && wait_ms) {
		struct pollfd pfd = { .fd = n->t->ops->poll_fd(n->t), .events = POLLIN };
		if (pfd.fd >= 0)
			poll(&pfd, 1, wait_ms);
		cnt = n->t->ops->rx_burst(n->t, pkts, NODE_RX_BATCH);
	}
	if (cnt < 0)
		return cnt;
	now = util_now_ns();
	for (int i = 0; i < cnt; i++)
		rpc_srv_input(n->srv, &pkts[i], now);
	if (cnt)
		n->t->ops->rx_release(n->t, pkts, cnt);
	rpc_srv_flush(n->srv);
	return cnt;
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

	if (cfg->transport == NODE_TRANSPORT_XDP) {
		log_err("node: --transport xdp is not available in this build");
		err = -EOPNOTSUPP;
		goto out_store;
	}
	err = udp_transport_open(&local, &n.t);
	if (err) {
		log_err("node: cannot listen on %s: %s", cfg->listen, strerror(-err));
		goto out_store;
	}
	rpc_cfg_default(&rcfg);
	rcfg.cluster = n.cluster_id;
	rcfg.max_msg = MAX(n.info.max_chunk, 64u << 10) + 4096;
	if (cfg->mtu)
		rcfg.mtu = cfg->mtu;
	err = rpc_srv_open(&rcfg, n.t, node_handle, &n, &n.srv);
	if (err)
		goto out_t;
	log_info("node %s serving %s on %s (transport %s, %llu chunks)",
		 util_uuid_format(n.info.node, uuid), cfg->disk,
		 net_addr_format(&n.t->local, addr, sizeof(addr)), n.t->ops->name,
		 (unsigned long long)n.info.chunks);

	while (!*cfg->stop) {
		uint64_t now;
		err = node_loop_once(&n, NODE_TICK_MS);
		if (err < 0 && err != -EINTR) {
			log_err("node: receive failed: %s", strerror(-err));
			break;
		}
		now = util_now_ns();
		if (now - last_tick > NODE_TICK_MS * 1000000ull) {
			rpc_srv_tick(n.srv, now);
			last_tick = now;
		}
	}
	err = err < 0 && err != -EINTR ? err : 0;
	log_info("node stopping");
	rpc_srv_close(n.srv);
out_t:
	n.t->ops->close(n.t);
out_store:
	store_close(n.store);
	return err;
}
