/* SPDX-License-Identifier: Apache-2.0 */
/*
 * node.c - the storage node library: request handlers over the store, and
 * the run-to-completion poll (receive a batch, execute, answer, flush).
 * The cluster protocol is node/cluster/member.h; the `ferry node` driver
 * is node_run.c.
 */
#include "node.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cluster/map.h"
#include "cluster/member.h"
#include "common/log.h"
#include "common/util.h"
#include "net/rpc.h"
#include "storage/storeq.h"

#define NODE_RX_BATCH  64
#define NODE_RX_ROUNDS 4    /* batches per path per poll, so one path cannot starve others */
#define NODE_LIST_MAX  1024 /* entries per LIST answer */
#define NODE_MAX_OPS   1024 /* store ops in flight; more are answered -EBUSY */
#define NODE_SCRUB_TICK_NS (100ull * 1000000ull) /* the scrub's token bucket is checked this often */

/* One receive path: a transport (a NIC queue or a UDP socket) and the RPC
 * server state of the clients that reach the node through it. */
struct node_path {
	struct transport *t;
	struct rpc_srv *srv;
};

/* A data operation in the store on behalf of one request. */
struct node_op {
	struct storeq_op qop;      /* first: the callback casts back */
	struct node *n;
	struct rpc_srv *srv;       /* the path the request came in on */
	struct rpc_sreq *r;        /* the request to answer */
	struct node_op *next;      /* free list */
	uint64_t start_ns;         /* when it was started */
};

struct node {
	struct node_cfg cfg;
	struct node_deps deps;
	struct store *store;
	struct store_info info;
	struct storeq q;               /* every store op of this node goes through it */
	struct node_path paths[NODE_MAX_QUEUES];
	uint32_t npaths;
	uint64_t now;                  /* time of the current poll */
	uint64_t ops[FERRY_OP_MAX];    /* requests served per op */
	uint64_t op_errors;            /* requests answered with an error */
	struct node_op *op_pool;       /* NODE_MAX_OPS ops, reserved, touched as needed */
	uint32_t op_fresh;             /* op_pool[op_fresh..] never used yet */
	struct node_op *free_ops;      /* used and returned */
	uint64_t start_ns;
	uint64_t scrub_next_ns;        /* next scrub step */
	uint64_t scrub_bad;            /* chunks scrub found corrupt */
	uint64_t poll_max_ns;          /* the longest node_poll (a loop that blocks) */
	uint64_t op_max_ns;            /* the slowest data op (start to store completion) */
	uint32_t ops_inflight;         /* data ops started, not completed */
	uint64_t read_bad;             /* reads that found a chunk corrupt */
	/* cluster (NULL without ctl) */
	struct rpc_client *fwd;        /* node-to-node calls on paths[0]'s transport */
	struct member *member;         /* the cluster protocol */
};

/* "name value\n" lines describing the node: its counters and CPU time. */
static uint32_t node_stats_text(struct node *n, char *buf, uint32_t cap)
{
	static const char *const op_names[FERRY_OP_MAX] = {
		[FERRY_OP_PING] = "ping", [FERRY_OP_PUT] = "put", [FERRY_OP_GET] = "get",
		[FERRY_OP_DELETE] = "delete", [FERRY_OP_STAT] = "stat", [FERRY_OP_LIST] = "list",
		[FERRY_OP_WRITE] = "write", [FERRY_OP_STATS] = "stats",
		[FERRY_OP_REPL_PUT] = "repl_put", [FERRY_OP_REPL_DELETE] = "repl_delete",
		[FERRY_OP_COPY_PUT] = "copy_put", [FERRY_OP_COPY_DELETE] = "copy_delete",
		[FERRY_OP_COPY_STAT] = "copy_stat", [FERRY_OP_COPY_GET] = "copy_get",
	};
	struct rusage ru;
	char uuid[37];
	size_t off = 0;
	int k;

	store_get_info(n->store, &n->info);
	getrusage(RUSAGE_SELF, &ru);
	k = snprintf(buf, cap,
		     "node_id %s\nuptime_ms %llu\ncpu_user_us %llu\ncpu_sys_us %llu\n"
		     "store_chunks %llu\nstore_tombstones %llu\nstore_used_bytes %llu\n"
		     "store_capacity_bytes %llu\nstore_failed %u\nop_errors %llu\n"
		     "scrub_bad_chunks %llu\nread_bad_chunks %llu\nnode_poll_max_us %llu\n"
		     "store_inflight %u\nstoreq_inflight %u\nstoreq_waited %llu\n"
		     "node_op_max_us %llu\nnode_ops_inflight %u\n",
		     util_uuid_format(n->info.node, uuid),
		     (unsigned long long)((n->now - n->start_ns) / 1000000),
		     (unsigned long long)ru.ru_utime.tv_sec * 1000000ull +
			     (unsigned long long)ru.ru_utime.tv_usec,
		     (unsigned long long)ru.ru_stime.tv_sec * 1000000ull +
			     (unsigned long long)ru.ru_stime.tv_usec,
		     (unsigned long long)n->info.chunks, (unsigned long long)n->info.tombstones,
		     (unsigned long long)n->info.used, (unsigned long long)n->info.capacity,
		     n->info.failed, (unsigned long long)n->op_errors,
		     (unsigned long long)n->scrub_bad, (unsigned long long)n->read_bad,
		     (unsigned long long)(n->poll_max_ns / 1000), store_inflight(n->store),
		     n->q.inflight, (unsigned long long)n->q.waits,
		     (unsigned long long)(n->op_max_ns / 1000), n->ops_inflight);
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
	if (n->member) {
		off += member_stats(n->member, buf + off, cap - off);
		off += rpc_counters_format(rpc_client_counters(n->fwd), buf + off, cap - off);
	}
	{
		/* Payload the node copied with its CPU: the RPC layer's copies
		 * (every path, and the node's own client) plus the store's. Zero
		 * on the AF_XDP path for aligned PUT/GET (xsk.h). */
		struct store_counters sc;
		uint64_t copied = n->fwd ? rpc_client_counters(n->fwd)->payload_copied : 0;

		store_get_counters(n->store, &sc);
		for (uint32_t i = 0; i < n->npaths; i++)
			copied += rpc_srv_counters(n->paths[i].srv)->payload_copied;
		copied += sc.bounce_bytes;
		k = snprintf(buf + off, cap - off,
			     "node_payload_copied_bytes %llu\nstore_bounce_ops %llu\n"
			     "store_bounce_bytes %llu\nstore_direct_ops %llu\nstore_vec_fixed %u\n"
			     "store_vec_fixed_ios %llu\nstore_scrub_blocks %llu\nstore_scrub_passes %llu\n",
			     (unsigned long long)copied, (unsigned long long)sc.bounce,
			     (unsigned long long)sc.bounce_bytes, (unsigned long long)sc.direct_ops,
			     n->info.vec_fixed, (unsigned long long)sc.vec_fixed,
			     (unsigned long long)sc.scrub_blocks, (unsigned long long)sc.scrub_passes);
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

/*
 * Data operations run asynchronously: the handler submits a store op and
 * returns; the store batches every op of a receive batch into one io_uring
 * submission, and the completion answers the request.
 */
static void node_op_done(struct storeq_op *qop)
{
	struct node_op *op = (struct node_op *)qop;
	struct store_op *sop = &qop->sop;
	struct node *n = op->n;
	struct rpc_srv *srv = op->srv;
	struct rpc_sreq *r = op->r;

	n->ops_inflight--;
	if (n->now > op->start_ns && n->now - op->start_ns > n->op_max_ns)
		n->op_max_ns = n->now - op->start_ns;
	if (n->member && (sop->type == STORE_OP_GET || sop->type == STORE_OP_STAT)) {
		int st = member_read_done(n->member, rpc_sreq_hdr(r)->epoch, sop->id);

		if (st) {
			rpc_sreq_reply(srv, r, st, 0);
			goto out;
		}
	}
	n->op_errors += sop->res != 0;
	if (sop->res == -EBADMSG && (sop->type == STORE_OP_GET || sop->type == STORE_OP_WRITE)) {
		/* Never wrong bytes: the client is told, and a clustered node
		 * repairs its copy from a replica. */
		n->read_bad++;
		if (n->member)
			member_bad_chunk(n->member, sop->id);
	}
	switch (sop->type) {
	case STORE_OP_PUT:
	case STORE_OP_WRITE: {
		uint8_t *out = sop->res ? NULL : rpc_sreq_reply_buf(srv, r, sizeof(sop->version));

		if (out) {
			memcpy(out, &sop->version, sizeof(sop->version));
			rpc_sreq_reply(srv, r, 0, sizeof(sop->version));
		} else {
			rpc_sreq_reply(srv, r, sop->res ? sop->res : -ENOMEM, 0);
		}
		break;
	}
	case STORE_OP_GET:
		rpc_sreq_reply(srv, r, sop->res, sop->res ? 0 : sop->got);
		break;
	case STORE_OP_STAT: {
		struct ferry_chunk_stat *out =
			sop->res ? NULL : rpc_sreq_reply_buf(srv, r, sizeof(*out));
		if (!out) {
			rpc_sreq_reply(srv, r, sop->res ? sop->res : -ENOMEM, 0);
			break;
		}
		memset(out, 0, sizeof(*out));
		out->size = sop->stat.size;
		out->version = sop->stat.version;
		out->crc = sop->stat.crc;
		rpc_sreq_reply(srv, r, 0, sizeof(*out));
		break;
	}
	default:
		rpc_sreq_reply(srv, r, sop->res, 0);
		break;
	}
out:
	op->next = n->free_ops;
	n->free_ops = op;
}

/* Start a store op for request r on buf (cap bytes) or on the pieces iov;
 * answers -EBUSY when the node has too many in flight (the client retries). */
static void node_op_start(struct node *n, struct rpc_srv *srv, struct rpc_sreq *r, int type,
			  void *buf, uint32_t len, uint32_t cap, const struct iovec *iov, int iovcnt)
{
	const struct ferry_hdr *h = rpc_sreq_hdr(r);
	struct node_op *op = n->free_ops;
	struct store_op *sop;

	if (op) {
		n->free_ops = op->next;
	} else if (n->op_fresh < NODE_MAX_OPS) {
		op = &n->op_pool[n->op_fresh++];
		memset(op, 0, sizeof(*op));
	} else {
		n->op_errors++;
		rpc_sreq_reply(srv, r, FERRY_ST_BUSY, 0);
		return;
	}
	sop = &op->qop.sop;
	memset(sop, 0, offsetof(struct store_op, priv));
	sop->type = type;
	memcpy(sop->id, h->chunk, STORE_ID_LEN);
	sop->off = h->offset;
	sop->len = len;
	sop->buf = buf;
	sop->buf_cap = cap;
	sop->iov = iov;
	sop->iovcnt = iovcnt;
	op->qop.done = node_op_done;
	op->n = n;
	op->srv = srv;
	op->r = r;
	op->start_ns = n->now;
	n->ops_inflight++;
	storeq_submit(&n->q, &op->qop);
}

static uint32_t node_buf_cap(uint32_t len)
{
	return (len + 4095u) / 4096u * 4096u; /* rpc buffers are whole 4 KiB blocks */
}

/* Do the pieces meet the store's direct rule for writes (store_info
 * piece_align: addresses and lengths but the last's)? */
static int node_pieces_aligned(const struct iovec *iov, int cnt, uint32_t align)
{
	for (int i = 0; i < cnt; i++)
		if (((uintptr_t)iov[i].iov_base & (align - 1)) ||
		    (i + 1 < cnt && (iov[i].iov_len & (align - 1))))
			return 0;
	return 1;
}

/* LIST: chunk entries after the cursor; tombstones and the node's own
 * chunks are not listed. */
static int node_list(struct node *n, struct rpc_srv *srv, struct rpc_sreq *r)
{
	const struct ferry_hdr *h = rpc_sreq_hdr(r);
	uint32_t max = MIN(h->length ? h->length : NODE_LIST_MAX, NODE_LIST_MAX);
	struct store_list_entry ents[64];
	struct ferry_list_entry *out = rpc_sreq_reply_buf(srv, r, max * sizeof(*out));
	uint8_t cursor[16];
	uint32_t total = 0;
	int err = 0;

	if (!out)
		return -ENOMEM;
	memcpy(cursor, h->chunk, 16);
	while (total < max) {
		uint32_t got = 0;
		err = store_list(n->store, cursor, ents, MIN(64u, max - total), &got);
		if (err || got == 0)
			break;
		for (uint32_t i = 0; i < got; i++) {
			if ((ents[i].flags & STORE_LIST_TOMBSTONE) || ents[i].id[0] == MEMBER_LOCAL_KIND)
				continue;
			memcpy(out[total].chunk, ents[i].id, 16);
			out[total].version = ents[i].version;
			out[total].size = ents[i].size;
			total++;
		}
	}
	/* A page that ends on skipped entries must still move the client's
	 * cursor: the last entry returned is where it resumes, so a page is
	 * only ever empty at the end. */
	n->op_errors += err != 0;
	rpc_sreq_reply(srv, r, err, err ? 0 : total * (uint32_t)sizeof(*out));
	return 0;
}

static void node_handle(void *arg, struct rpc_srv *srv, struct rpc_sreq *r)
{
	struct node *n = arg;
	const struct ferry_hdr *h = rpc_sreq_hdr(r);
	uint32_t len = h->msg_len;
	int err = 0;

	n->ops[h->op]++;
	if (n->member && member_handle(n->member, srv, r))
		return;
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
	case FERRY_OP_PUT: {
		/* Written to disk from the RX buffers the payload arrived in,
		 * when the disk takes them as they are. */
		int cnt = 0;
		const struct iovec *iov = NULL;
		uint8_t *payload;

		if (len != h->length) {
			err = -EINVAL;
			break;
		}
		if (rpc_sreq_payload_held(r))
			iov = rpc_sreq_payload_iov(r, &cnt);
		if (iov && node_pieces_aligned(iov, cnt, n->info.piece_align)) {
			node_op_start(n, srv, r, STORE_OP_PUT, NULL, len, 0, iov, cnt);
			return;
		}
		/* A message buffer (udp, copy mode), or pieces the disk would not
		 * take (a file: store_cfg.piece_align; odd frame layouts) copied
		 * into one: whole 4 KiB blocks the disk takes directly - rather
		 * than the store's two bounce buffers, one PUT at a time. */
		payload = rpc_sreq_payload(srv, r, &len);
		if (!payload && len) {
			err = -ENOMEM;
			break;
		}
		node_op_start(n, srv, r, STORE_OP_PUT, payload, len, node_buf_cap(len), NULL, 0);
		return;
	}
	case FERRY_OP_WRITE: {
		uint8_t *payload = rpc_sreq_payload(srv, r, &len);

		if (len != h->length || (!payload && len)) {
			err = len != h->length ? -EINVAL : -ENOMEM;
			break;
		}
		node_op_start(n, srv, r, STORE_OP_WRITE, payload, len, node_buf_cap(len), NULL, 0);
		return;
	}
	case FERRY_OP_GET: {
		/* Read from disk into the buffers the answer is sent from. */
		uint32_t want = MIN(h->length, n->info.max_chunk);
		const struct iovec *iov;
		int cnt = 0;

		if (!want) { /* a zero-length read answers whether the chunk exists */
			node_op_start(n, srv, r, STORE_OP_STAT, NULL, 0, 0, NULL, 0);
			return;
		}
		iov = rpc_sreq_reply_iov(srv, r, want, &cnt);
		if (!iov) {
			err = -ENOMEM;
			break;
		}
		node_op_start(n, srv, r, STORE_OP_GET, NULL, want, 0, iov, cnt);
		return;
	}
	case FERRY_OP_DELETE:
		node_op_start(n, srv, r, STORE_OP_DELETE, NULL, 0, 0, NULL, 0);
		return;
	case FERRY_OP_STAT:
		node_op_start(n, srv, r, STORE_OP_STAT, NULL, 0, 0, NULL, 0);
		return;
	case FERRY_OP_LIST:
		err = node_list(n, srv, r);
		if (!err)
			return;
		break;
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

/* Receive one batch on a path and run it through the RPC layer; returns the
 * number of datagrams handled. Answers go out at the end of node_poll. */
static int node_path_poll(struct node *n, struct node_path *p)
{
	struct net_pkt pkts[NODE_RX_BATCH];
	int cnt = p->t->ops->rx_burst(p->t, pkts, NODE_RX_BATCH);
	int nrel = 0;

	if (cnt <= 0)
		return cnt;
	for (int i = 0; i < cnt; i++) {
		/* Responses are answers to this node's own calls (forwards,
		 * recovery, repair); everything else is a request (or a client's
		 * ACK) for the server, which may keep the buffer (a PUT fragment
		 * bound for the disk). */
		const struct ferry_hdr *h = (const struct ferry_hdr *)pkts[i].data;
		if (n->fwd && pkts[i].len >= FERRY_HDR_LEN && (h->flags & FERRY_F_RESP))
			rpc_client_input(n->fwd, &pkts[i]);
		else if (rpc_srv_input(p->srv, &pkts[i], n->now))
			continue;
		pkts[nrel++] = pkts[i];
	}
	p->t->ops->rx_release(p->t, pkts, nrel);
	return cnt;
}

/* Reap store completions (which answer requests) until none is ready. */
static int node_reap(struct node *n)
{
	int did = 0;

	while (n->q.inflight) {
		int done = storeq_poll(&n->q, 0);

		if (done <= 0)
			break;
		did = 1;
	}
	return did;
}

/* The scrub at --scrub-rate: a corrupt chunk is counted and, in a cluster,
 * repaired from a replica. */
static int node_scrub(struct node *n)
{
	struct store_scrub_bad bad;
	int r;

	if (n->cfg.scrub_mb_s <= 0 || n->now < n->scrub_next_ns)
		return 0;
	r = store_scrub_step(n->store, n->now, &bad);
	if (r <= 0) {
		n->scrub_next_ns = n->now + NODE_SCRUB_TICK_NS;
		return 0;
	}
	if (r == STORE_SCRUB_BAD) {
		char hex[33];

		n->scrub_bad++;
		log_warn("node: scrub found chunk %s (version %llu) corrupt%s",
			 util_hex(bad.id, 16, hex), (unsigned long long)bad.version,
			 n->member ? "; repairing it from a replica" : "");
		if (n->member)
			member_bad_chunk(n->member, bad.id);
	}
	return 1;
}

int node_poll(struct node *n, uint64_t now)
{
	int did = 0, r;

	n->now = now;
	if (n->member)
		member_now(n->member, now);
	for (uint32_t i = 0; i < n->npaths; i++) {
		for (int round = 0; round < NODE_RX_ROUNDS; round++) {
			int cnt = node_path_poll(n, &n->paths[i]);

			if (cnt < 0 && cnt != -EINTR && cnt != -EAGAIN) {
				log_err("node: receive failed: %s", strerror(-cnt));
				return cnt;
			}
			if (cnt <= 0)
				break;
			did = 1;
		}
	}
	did |= node_reap(n);
	if (n->member) {
		r = member_poll(n->member, now);
		if (r < 0)
			return r; /* refused by ctl: the reason is logged */
		did |= r;
		did |= node_reap(n);
		rpc_client_tick(n->fwd, now);
	}
	did |= node_scrub(n);
	for (uint32_t i = 0; i < n->npaths; i++) {
		struct rpc_srv *srv = n->paths[i].srv;

		if (now >= rpc_srv_next_deadline(srv))
			rpc_srv_tick(srv, now);
		rpc_srv_flush(srv);
	}
	{
		uint64_t end = env_now(n->deps.env);

		if (end > now && end - now > n->poll_max_ns)
			n->poll_max_ns = end - now;
	}
	return did;
}

uint64_t node_next_deadline(struct node *n)
{
	uint64_t due = UINT64_MAX;

	for (uint32_t i = 0; i < n->npaths; i++)
		due = MIN(due, rpc_srv_next_deadline(n->paths[i].srv));
	if (n->member) {
		due = MIN(due, member_next_deadline(n->member));
		due = MIN(due, rpc_client_next_deadline(n->fwd));
	}
	if (n->cfg.scrub_mb_s > 0)
		due = MIN(due, n->scrub_next_ns);
	/* A store with no descriptor to wait on (a simulated disk) completes
	 * when polled. */
	if (n->q.inflight && store_fd(n->store) < 0)
		due = n->now;
	return due;
}

const struct cmap *node_map(const struct node *n)
{
	return n->member ? member_map(n->member) : NULL;
}

int node_pollfds(struct node *n, struct pollfd *pfd, int max)
{
	int k = 0;

	for (uint32_t i = 0; i < n->npaths && k < max; i++) {
		int fd = n->paths[i].t->ops->poll_fd(n->paths[i].t);
		if (fd >= 0)
			pfd[k++] = (struct pollfd){ .fd = fd, .events = POLLIN };
	}
	if (n->q.inflight && k < max && store_fd(n->store) >= 0)
		pfd[k++] = (struct pollfd){ .fd = store_fd(n->store), .events = POLLIN };
	if (n->deps.ctl_t && k < max && n->deps.ctl_t->ops->poll_fd(n->deps.ctl_t) >= 0)
		pfd[k++] = (struct pollfd){ .fd = n->deps.ctl_t->ops->poll_fd(n->deps.ctl_t),
					    .events = POLLIN };
	return k;
}

int node_open(const struct node_cfg *cfg, const struct node_deps *deps, struct node **out)
{
	struct node *n = calloc(1, sizeof(*n));
	struct rpc_cfg rcfg;
	int err;

	if (!n)
		return -ENOMEM;
	n->cfg = *cfg;
	n->deps = *deps;
	if (!n->deps.env)
		n->deps.env = env_real();
	n->store = deps->store;
	n->now = n->start_ns = env_now(n->deps.env);
	store_get_info(n->store, &n->info);
	storeq_init(&n->q, n->store);
	/* Reserved, not cleared: a node that only ever has a few ops in flight
	 * touches a few pages (a restart in the simulator costs no 1 MB). */
	n->op_pool = malloc(NODE_MAX_OPS * sizeof(*n->op_pool));
	if (!n->op_pool) {
		err = -ENOMEM;
		goto fail;
	}
	rpc_cfg_default(&rcfg);
	memcpy(&rcfg.cluster, n->info.cluster, sizeof(rcfg.cluster));
	rcfg.max_msg = MAX(n->info.max_chunk, 64u << 10) + 4096;
	if (cfg->mtu)
		rcfg.mtu = cfg->mtu;
	rcfg.no_zc = cfg->copy_payload;
	/* A disk that would not take frame-sized pieces (a file: store.h
	 * piece_align) gets requests copied on arrival, as they come, rather
	 * than held and copied whole at the end. */
	rcfg.no_zc_rx = n->info.piece_align > FERRY_FRAG_ALIGN;
	rcfg.env = n->deps.env;
	for (uint32_t i = 0; i < deps->npaths && i < NODE_MAX_QUEUES; i++) {
		n->paths[i].t = deps->paths[i];
		err = rpc_srv_open(&rcfg, deps->paths[i], node_handle, n, &n->paths[i].srv);
		if (err)
			goto fail;
		n->npaths++;
	}
	if (deps->ctl_t) {
		struct member_cfg mcfg = {
			.env = n->deps.env, .store = n->store, .q = &n->q, .ctl_t = deps->ctl_t,
			.ctl = deps->ctl, .self = deps->self, .zone = cfg->zone,
			.weight = cfg->weight > 0 ? (uint32_t)(cfg->weight * MAP_WEIGHT_ONE + 0.5)
						  : MAP_WEIGHT_ONE,
			.heartbeat_ms = cfg->heartbeat_ms, .recovery_mb_s = cfg->recovery_mb_s,
		};
		struct rpc_cfg fcfg = rcfg;

		/* A forward must fail (and the client retry) before the client
		 * gives up. */
		fcfg.timeout_ms = 3000;
		err = rpc_client_open(&fcfg, n->paths[0].t, &n->fwd);
		if (err)
			goto fail;
		mcfg.rpc = n->fwd;
		err = member_open(&mcfg, &n->member);
		if (err)
			goto fail;
	}
	*out = n;
	return 0;
fail:
	node_close(n);
	return err;
}

void node_close(struct node *n)
{
	if (!n)
		return;
	/* Every started op finishes (and is answered) before state goes away.
	 * Ending one can start another - a store op's completion forwards down
	 * the chain, a cancelled forward lets the next write of its chunk store
	 * - so drain and cancel until neither has anything left: the member's
	 * requests must not be freed with their calls still in the client. */
	for (;;) {
		storeq_drain(&n->q);
		if (!n->fwd || !rpc_client_inflight(n->fwd))
			break;
		rpc_client_cancel_all(n->fwd); /* forwards end: their requests are answered */
	}
	member_close(n->member);
	rpc_client_close(n->fwd);
	for (uint32_t i = 0; i < n->npaths; i++) {
		rpc_srv_flush(n->paths[i].srv);
		rpc_srv_close(n->paths[i].srv);
	}
	free(n->op_pool);
	free(n);
}
