/* SPDX-License-Identifier: Apache-2.0 */
/*
 * node.c - the storage node: request handlers over the store, and the
 * run-to-completion loop (receive a batch, execute, answer, flush).
 */
#include "node.h"

#include <errno.h>
#include <stddef.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cluster/map.h"
#include "cluster/nodectl.h"
#include "cluster/place.h"
#include "cluster/recover.h"
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
#define NODE_MAX_OPS   1024 /* store ops in flight; more are answered -EBUSY */

/* One receive path: a transport (a NIC queue or a UDP socket) and the RPC
 * server state of the clients that reach the node through it. */
struct node_path {
	struct transport *t;
	struct rpc_srv *srv;
	struct rpc_client *fwd;  /* the node's client (answers to its forwards); NULL: none */
};

/* A data operation in the store on behalf of one request. */
struct node_op {
	struct store_op sop;       /* first: the callback casts back */
	struct node *n;
	struct rpc_srv *srv;       /* the path the request came in on */
	struct rpc_sreq *r;        /* the request to answer */
	struct node_op *next;      /* free list / wait FIFO */
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
	struct node_op *op_pool;       /* NODE_MAX_OPS preallocated ops */
	struct node_op *free_ops;      /* unused ones */
	struct node_op *wait_head, *wait_tail; /* refused by the store for now */
	uint32_t ops_inflight;         /* ops started and not yet answered */
	uint64_t start_ns;
	/* cluster (all idle without --ctl) */
	struct nodectl *nc;            /* link to ctl */
	struct cmap map;               /* the map this node serves under */
	struct rpc_client *fwd;        /* client on paths[0]'s transport: chain forwards, recovery */
	struct recover *rec;           /* re-replication / rebalancing */
	uint64_t vclock;               /* last version assigned or seen (hybrid clock) */
	uint64_t c_stale, c_nothead, c_fwd, c_fwd_fail, c_conflicts, c_reads_blocked;
};

/* A request waiting for its chain successor's answer. */
struct node_fwd {
	struct rpc_call call;          /* to the successor */
	struct node *n;
	struct rpc_srv *srv;           /* where the request came in */
	struct rpc_sreq *r;            /* the request (EXEC until answered) */
	uint64_t version;              /* the version the head assigned */
	uint8_t *buf;                  /* owned payload (WRITE merged into a PUT) */
	uint8_t vbuf[8];               /* successor's answer */
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
		[FERRY_OP_REPL_PUT] = "repl_put", [FERRY_OP_REPL_DELETE] = "repl_delete",
		[FERRY_OP_COPY_PUT] = "copy_put",
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
	if (n->rec) {
		struct recover_counters rc;

		recover_get_counters(n->rec, &rc);
		k = snprintf(buf + off, cap - off,
			     "map_epoch %llu\ncluster_stale %llu\ncluster_not_head %llu\n"
			     "cluster_forwards %llu\ncluster_forward_failures %llu\n"
			     "cluster_version_conflicts %llu\ncluster_reads_blocked %llu\n"
			     "recovery_walks %llu\nrecovery_scanned %llu\nrecovery_pending %llu\n"
			     "recovery_copies %llu\nrecovery_copy_bytes %llu\nrecovery_deleted %llu\n"
			     "recovery_degraded %llu\nrecovery_errors %llu\nrecovery_active %llu\n",
			     (unsigned long long)n->map.epoch, (unsigned long long)n->c_stale,
			     (unsigned long long)n->c_nothead, (unsigned long long)n->c_fwd,
			     (unsigned long long)n->c_fwd_fail, (unsigned long long)n->c_conflicts,
			     (unsigned long long)n->c_reads_blocked, (unsigned long long)rc.walks,
			     (unsigned long long)rc.scanned, (unsigned long long)rc.pending,
			     (unsigned long long)rc.copies, (unsigned long long)rc.copy_bytes,
			     (unsigned long long)rc.deleted, (unsigned long long)rc.degraded,
			     (unsigned long long)rc.errors, (unsigned long long)rc.active);
		if (k > 0)
			off += MIN((size_t)k, cap - off - 1);
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
			     "store_vec_fixed_ios %llu\n",
			     (unsigned long long)copied, (unsigned long long)sc.bounce,
			     (unsigned long long)sc.bounce_bytes, (unsigned long long)sc.direct_ops,
			     n->info.vec_fixed, (unsigned long long)sc.vec_fixed);
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

/*
 * Data operations run asynchronously: the handler submits a store op and
 * returns; the store batches every op of a receive batch into one io_uring
 * submission, and the completion callback answers the request. An op the
 * store cannot take right now (-EBUSY: another write to the same chunk is in
 * flight; -EAGAIN: no bounce buffer) waits in a FIFO and is resubmitted
 * after the next completions, so per-chunk order is kept.
 */
static void node_op_done(struct store_op *sop)
{
	struct node_op *op = (struct node_op *)sop;
	struct node *n = op->n;
	struct rpc_srv *srv = op->srv;
	struct rpc_sreq *r = op->r;

	n->op_errors += sop->res != 0;
	switch (sop->type) {
	case STORE_OP_PUT:
	case STORE_OP_WRITE:
		node_reply_version(srv, r, sop->res, sop->version);
		break;
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
	op->next = n->free_ops;
	n->free_ops = op;
	n->ops_inflight--;
}

static void node_op_submit(struct node *n, struct node_op *op)
{
	int err;

	if (n->wait_head) { /* keep order behind ops already waiting */
		n->wait_tail->next = op;
		n->wait_tail = op;
		op->next = NULL;
		return;
	}
	err = store_submit(n->store, &op->sop);
	if (err == -EBUSY || err == -EAGAIN) {
		op->next = NULL;
		n->wait_head = n->wait_tail = op;
		return;
	}
	if (err) {
		op->sop.res = err;
		node_op_done(&op->sop);
	}
}

/* Resubmit waiting ops until the store refuses again. */
static void node_op_retry(struct node *n)
{
	while (n->wait_head) {
		struct node_op *op = n->wait_head;
		int err = store_submit(n->store, &op->sop);

		if (err == -EBUSY || err == -EAGAIN)
			return;
		n->wait_head = op->next;
		if (!n->wait_head)
			n->wait_tail = NULL;
		if (err) {
			op->sop.res = err;
			node_op_done(&op->sop);
		}
	}
}

/* Start a store op for request r on buf (cap bytes) or on the pieces iov;
 * answers -EBUSY when the node has too many in flight (the client retries). */
static void node_op_start(struct node *n, struct rpc_srv *srv, struct rpc_sreq *r, int type,
			  void *buf, uint32_t len, uint32_t cap, const struct iovec *iov, int iovcnt)
{
	const struct ferry_hdr *h = rpc_sreq_hdr(r);
	struct node_op *op = n->free_ops;

	if (!op) {
		n->op_errors++;
		rpc_sreq_reply(srv, r, FERRY_ST_BUSY, 0);
		return;
	}
	n->free_ops = op->next;
	n->ops_inflight++;
	memset(&op->sop, 0, offsetof(struct store_op, priv));
	op->sop.type = type;
	memcpy(op->sop.id, h->chunk, STORE_ID_LEN);
	op->sop.off = h->offset;
	op->sop.len = len;
	op->sop.buf = buf;
	op->sop.buf_cap = cap;
	op->sop.iov = iov;
	op->sop.iovcnt = iovcnt;
	op->sop.cb = node_op_done;
	op->n = n;
	op->srv = srv;
	op->r = r;
	op->next = NULL;
	node_op_submit(n, op);
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


/* ------------------------------------------------------------ cluster */

/* Versions are a hybrid clock: above every version this node assigned or
 * stored, and at least the wall clock in microseconds, so that a new head
 * (whose store counter may be far behind) still assigns a chunk a version
 * above the one its previous head gave it. */
static uint64_t node_next_version(struct node *n)
{
	struct timespec ts;
	uint64_t us;

	clock_gettime(CLOCK_REALTIME, &ts);
	us = (uint64_t)ts.tv_sec * 1000000ull + (uint64_t)ts.tv_nsec / 1000;
	n->vclock = MAX(n->vclock + 1, us);
	return n->vclock;
}

static int node_self(const struct node *n)
{
	return map_find(&n->map, n->info.node);
}

/* A client or peer request stamped with epoch e: 0 if it matches ours. */
static int node_check_epoch(struct node *n, uint64_t e)
{
	if (n->map.epoch && e == n->map.epoch)
		return 0;
	if (e > n->map.epoch && n->nc)
		nodectl_want_map(n->nc, e); /* we are behind: catch up */
	n->c_stale++;
	return FERRY_ST_STALE;
}

/* Position of this node in chunk id's live chain (-1: not in it); *succ =
 * map index of the next member or -1. */
static int node_chain_pos(struct node *n, const uint8_t id[16], int *succ)
{
	uint16_t chain[MAP_MAX_R];
	int len = place_chain(&n->map, id, chain), self = node_self(n);

	*succ = -1;
	for (int i = 0; i < len; i++)
		if (chain[i] == self) {
			if (i + 1 < len)
				*succ = chain[i + 1];
			return i;
		}
	return -1;
}

static void node_fwd_free(struct node_fwd *f)
{
	free(f->buf);
	free(f);
}

static void node_fwd_done(struct rpc_call *c)
{
	struct node_fwd *f = c->arg;
	struct node *n = f->n;
	int32_t st = c->err ? -ETIMEDOUT : c->status;

	if (c->err)
		n->c_fwd_fail++;
	if (st == FERRY_ST_VERSION && c->resp_len == 8) {
		uint64_t theirs;

		/* The successor holds a newer version: remember it so our next
		 * assignment is above it; the client retries. */
		memcpy(&theirs, f->vbuf, 8);
		n->vclock = MAX(n->vclock, theirs);
		n->c_conflicts++;
		st = -EAGAIN;
	}
	if (c->op == FERRY_OP_REPL_PUT)
		node_reply_version(f->srv, f->r, st, f->version);
	else
		rpc_sreq_reply(f->srv, f->r, st == FERRY_ST_NOENT ? 0 : st, 0);
	n->op_errors += st != 0;
	node_fwd_free(f);
}

/* Forward op for chunk id to map node succ; the answer completes r. */
static void node_forward(struct node *n, struct rpc_srv *srv, struct rpc_sreq *r, uint8_t op,
			 int succ, uint64_t version, const uint8_t *payload, uint32_t len,
			 uint8_t *owned)
{
	const struct ferry_hdr *h = rpc_sreq_hdr(r);
	struct node_fwd *f = calloc(1, sizeof(*f));
	int err;

	if (!f) {
		free(owned);
		rpc_sreq_reply(srv, r, -ENOMEM, 0);
		return;
	}
	f->n = n;
	f->srv = srv;
	f->r = r;
	f->version = version;
	f->buf = owned;
	f->call.peer = n->map.nodes[succ].addr;
	f->call.op = op;
	memcpy(f->call.chunk, h->chunk, 16);
	f->call.offset = version;
	f->call.length = len;
	f->call.epoch = n->map.epoch;
	f->call.req = payload;
	f->call.req_len = len;
	f->call.resp = f->vbuf;
	f->call.resp_cap = sizeof(f->vbuf);
	f->call.done = node_fwd_done;
	f->call.arg = f;
	n->c_fwd++;
	err = rpc_client_start(n->fwd, &f->call);
	if (err) {
		node_fwd_free(f);
		rpc_sreq_reply(srv, r, err, 0);
	}
}

/* Store version v of chunk id unless we hold a newer one. 0, or
 * FERRY_ST_VERSION with *have = our newer version. */
static int node_install(struct node *n, const uint8_t id[16], const uint8_t *p, uint32_t len,
			uint64_t v, uint64_t *have)
{
	struct iovec iov = { (void *)p, len };
	struct store_stat st;

	n->vclock = MAX(n->vclock, v);
	if (store_stat(n->store, id, &st) == 0 && st.version >= v) {
		*have = st.version;
		return st.version == v ? 0 : FERRY_ST_VERSION; /* == : a retry */
	}
	*have = v;
	return store_put_version(n->store, id, &iov, 1, v);
}

/* A client PUT/WRITE/DELETE with a map epoch, or a chain forward:
 * returns 1 when it answered (now or later), 0 for the standalone path. */
static int node_handle_cluster(struct node *n, struct rpc_srv *srv, struct rpc_sreq *r)
{
	const struct ferry_hdr *h = rpc_sreq_hdr(r);
	uint32_t len = 0;
	uint8_t *payload = NULL, *owned = NULL;
	uint64_t v, have = 0;
	int pos, succ, err;

	/* The chain path stores with synchronous calls and forwards the payload
	 * whole: it takes it contiguous (a copy where it was held). A client
	 * PUT/WRITE without an epoch is for this node alone (node_handle). */
	if (h->op == FERRY_OP_COPY_PUT || h->op == FERRY_OP_REPL_PUT ||
	    ((h->op == FERRY_OP_PUT || h->op == FERRY_OP_WRITE) && h->epoch)) {
		payload = rpc_sreq_payload(srv, r, &len);
		if (!payload && len) {
			rpc_sreq_reply(srv, r, -ENOMEM, 0);
			return 1;
		}
	}
	switch (h->op) {
	case FERRY_OP_CTL_GETMAP: {
		/* The map this node runs under: clients fall back on it while ctl
		 * is away. */
		uint32_t mlen = (uint32_t)(sizeof(struct map_wire_hdr) +
					   n->map.n * sizeof(struct map_wire_node));
		uint8_t *out = n->map.epoch ? rpc_sreq_reply_buf(srv, r, mlen) : NULL;
		int elen = out ? map_encode(&n->map, out, mlen) : -ENOENT;

		rpc_sreq_reply(srv, r, elen < 0 ? elen : 0, elen < 0 ? 0 : (uint32_t)elen);
		return 1;
	}
	case FERRY_OP_COPY_PUT:
		/* Recovery copy: versioned, never forwarded, epoch-free. */
		if (len != h->length || h->offset == 0) {
			rpc_sreq_reply(srv, r, -EINVAL, 0);
			return 1;
		}
		err = node_install(n, h->chunk, payload, len, h->offset, &have);
		node_reply_version(srv, r, err == FERRY_ST_VERSION ? 0 : err, have);
		return 1;
	case FERRY_OP_GET:
	case FERRY_OP_STAT:
		if (h->epoch == 0)
			return 0;
		if ((err = node_check_epoch(n, h->epoch)) == 0 && n->rec &&
		    recover_reads_blocked(n->rec)) {
			n->c_reads_blocked++;
			err = -EAGAIN; /* rejoining: our copies may be stale; ask another */
		}
		if (err) {
			rpc_sreq_reply(srv, r, err, 0);
			return 1;
		}
		return 0;
	case FERRY_OP_PUT:
	case FERRY_OP_WRITE:
	case FERRY_OP_DELETE:
		if (h->epoch == 0)
			return 0; /* --node: this node alone */
		break;
	case FERRY_OP_REPL_PUT:
	case FERRY_OP_REPL_DELETE:
		break;
	default:
		return 0;
	}
	err = node_check_epoch(n, h->epoch);
	if (err) {
		rpc_sreq_reply(srv, r, err, 0);
		return 1;
	}
	pos = node_chain_pos(n, h->chunk, &succ);
	if (pos < 0 || (pos != 0 && h->op != FERRY_OP_REPL_PUT && h->op != FERRY_OP_REPL_DELETE)) {
		n->c_nothead++;
		rpc_sreq_reply(srv, r, FERRY_ST_NOTHEAD, 0);
		return 1;
	}
	switch (h->op) {
	case FERRY_OP_WRITE: {
		/* Merge into a whole-chunk PUT so every replica gets the same bytes
		 * and version. */
		struct store_stat st;
		uint32_t got = 0, size;

		if (len != h->length || h->offset > n->info.max_chunk ||
		    len > n->info.max_chunk - h->offset) {
			rpc_sreq_reply(srv, r, len != h->length ? -EINVAL : -EFBIG, 0);
			return 1;
		}
		err = store_stat(n->store, h->chunk, &st);
		if (err) {
			rpc_sreq_reply(srv, r, err, 0);
			return 1;
		}
		size = (uint32_t)MAX(st.size, h->offset + len);
		owned = calloc(1, size ? size : 1);
		if (!owned) {
			rpc_sreq_reply(srv, r, -ENOMEM, 0);
			return 1;
		}
		err = st.size ? store_get(n->store, h->chunk, 0, (uint32_t)st.size, owned, &got) : 0;
		if (err) {
			free(owned);
			rpc_sreq_reply(srv, r, err, 0);
			return 1;
		}
		memcpy(owned + h->offset, payload, len);
		payload = owned;
		len = size;
		v = node_next_version(n);
		goto put;
	}
	case FERRY_OP_PUT:
		if (len != h->length) {
			rpc_sreq_reply(srv, r, -EINVAL, 0);
			return 1;
		}
		v = node_next_version(n);
	put: {
		struct iovec iov = { payload, len };
		err = store_put_version(n->store, h->chunk, &iov, 1, v);
		break;
	}
	case FERRY_OP_REPL_PUT:
		if (len != h->length || h->offset == 0) {
			rpc_sreq_reply(srv, r, -EINVAL, 0);
			return 1;
		}
		v = h->offset;
		err = node_install(n, h->chunk, payload, len, v, &have);
		if (err == FERRY_ST_VERSION) {
			/* payload: our newer version, so the head can go above it */
			uint8_t *out = rpc_sreq_reply_buf(srv, r, sizeof(have));

			if (out)
				memcpy(out, &have, sizeof(have));
			rpc_sreq_reply(srv, r, FERRY_ST_VERSION, out ? sizeof(have) : 0);
			return 1;
		}
		break;
	default: /* DELETE, REPL_DELETE */
		v = 0;
		err = store_delete(n->store, h->chunk);
		if (err == -ENOENT)
			err = 0; /* the rest of the chain may still have it */
		break;
	}
	if (err) {
		free(owned);
		n->op_errors++;
		rpc_sreq_reply(srv, r, err, 0);
		return 1;
	}
	if (succ < 0) {
		free(owned);
		if (v)
			node_reply_version(srv, r, 0, v);
		else
			rpc_sreq_reply(srv, r, 0, 0);
		return 1;
	}
	/* Acknowledge only when the rest of the chain (down to the tail) has it. */
	node_forward(n, srv, r, v ? FERRY_OP_REPL_PUT : FERRY_OP_REPL_DELETE, succ, v, payload,
		     v ? len : 0, owned);
	return 1;
}

static void node_handle(void *arg, struct rpc_srv *srv, struct rpc_sreq *r)
{
	struct node *n = arg;
	const struct ferry_hdr *h = rpc_sreq_hdr(r);
	uint32_t len = h->msg_len;
	int err = 0;

	n->ops[h->op]++;
	if (n->nc && node_handle_cluster(n, srv, r))
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

/* Receive one batch on a path and run it through the RPC layer; returns the
 * number of datagrams handled. Answers go out in node_flush. */
static int node_path_poll(struct node_path *p)
{
	struct net_pkt pkts[NODE_RX_BATCH];
	int cnt = p->t->ops->rx_burst(p->t, pkts, NODE_RX_BATCH);
	uint64_t now;

	if (cnt <= 0)
		return cnt;
	int nrel = 0;

	now = util_now_ns();
	for (int i = 0; i < cnt; i++) {
		/* Responses are answers to this node's own forwards and copies;
		 * everything else is a request (or a client's ACK) for the server,
		 * which may keep the buffer (a PUT fragment bound for the disk). */
		const struct ferry_hdr *h = (const struct ferry_hdr *)pkts[i].data;
		if (p->fwd && pkts[i].len >= FERRY_HDR_LEN && (h->flags & FERRY_F_RESP))
			rpc_client_input(p->fwd, &pkts[i]);
		else if (rpc_srv_input(p->srv, &pkts[i], now))
			continue;
		pkts[nrel++] = pkts[i];
	}
	p->t->ops->rx_release(p->t, pkts, nrel);
	return cnt;
}

/* Push the batch's store ops to the device, run completions (which answer
 * requests), and send everything queued. Returns completions run. */
static int node_flush(struct node *n)
{
	int done = 0;

	if (n->ops_inflight) {
		done = store_poll(n->store, 0);
		if (done < 0)
			done = 0;
		node_op_retry(n);
	}
	for (uint32_t i = 0; i < n->npaths; i++)
		rpc_srv_flush(n->paths[i].srv);
	return done;
}

/* Sleep until a path or the store has work, or wait_ms passes. */
static void node_wait(struct node *n, int wait_ms)
{
	struct pollfd pfd[NODE_MAX_QUEUES + 2]; /* + store, ctl */
	nfds_t k = 0;

	for (uint32_t i = 0; i < n->npaths; i++) {
		int fd = n->paths[i].t->ops->poll_fd(n->paths[i].t);
		if (fd >= 0)
			pfd[k++] = (struct pollfd){ .fd = fd, .events = POLLIN };
	}
	if (n->ops_inflight)
		pfd[k++] = (struct pollfd){ .fd = store_fd(n->store), .events = POLLIN };
	if (n->nc)
		pfd[k++] = (struct pollfd){ .fd = nodectl_fd(n->nc), .events = POLLIN };
	if (k)
		poll(pfd, k, wait_ms);
}

/* The UMEM of an AF_XDP path becomes an io_uring fixed buffer of the store:
 * PUT fragments are written from, and GET answers read into, its frames. */
static void node_register_umem(struct node *n, struct transport *t)
{
	size_t len = 0;
	void *base;
	int reg;

	if (xsk_transport_umem(t, &base, &len) < 0)
		return;
	reg = store_register_region(n->store, base, len);
	store_get_info(n->store, &n->info);
	if (reg < 0)
		log_warn("node: UMEM not registered with io_uring (%s); the disk still reads and "
			 "writes the frames, as plain buffers", strerror(-reg));
	else
		log_info("node: zero copy: UMEM (%zu MiB) is io_uring fixed buffer %d; vectored "
			 "IO on it %s", len >> 20, reg,
			 n->info.vec_fixed ? "READV/WRITEV_FIXED" : "READV/WRITEV (kernel < 6.15)");
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
				.xdp_mode = cfg->xdp_generic ? XDP_LINK_NATIVE_OR_GENERIC : XDP_LINK_AUTO,
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
			if (!cfg->copy_payload)
				node_register_umem(n, p->t);
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

/* Join the cluster: ctl link, forwarding client, recovery. */
static int node_cluster_open(struct node *n, const struct net_addr *local,
			     const struct rpc_cfg *rcfg)
{
	const struct node_cfg *cfg = n->cfg;
	struct nodectl_cfg ncfg = { .ctl = cfg->ctl };
	struct recover_cfg rvcfg = { 0 };
	struct rpc_cfg fcfg = *rcfg;
	int err;

	memcpy(ncfg.hello.cluster, n->info.cluster, 16);
	memcpy(ncfg.hello.node, n->info.node, 16);
	memcpy(ncfg.hello.ip, local->ip, 16);
	ncfg.hello.family = local->family;
	ncfg.hello.port = local->port;
	ncfg.hello.weight = cfg->weight > 0 ? (uint32_t)(cfg->weight * MAP_WEIGHT_ONE + 0.5)
					    : MAP_WEIGHT_ONE;
	snprintf(ncfg.hello.zone, sizeof(ncfg.hello.zone), "%s", cfg->zone ? cfg->zone : "");
	if (cfg->zone && strlen(cfg->zone) >= MAP_ZONE_LEN) {
		log_err("node: zone name '%s' is longer than %d bytes", cfg->zone, MAP_ZONE_LEN - 1);
		return -EINVAL;
	}
	if (local->family == AF_INET && !memcmp(local->ip, "\0\0\0\0", 4)) {
		log_err("node: --listen needs a concrete address to join a cluster (peers use it)");
		return -EINVAL;
	}
	/* A forward must fail (and the client retry) before the client gives up. */
	fcfg.timeout_ms = 3000;
	err = rpc_client_open(&fcfg, n->paths[0].t, &n->fwd);
	if (err)
		return err;
	for (uint32_t i = 0; i < n->npaths; i++)
		n->paths[i].fwd = n->fwd;
	err = nodectl_open(&ncfg, &n->nc);
	if (err) {
		log_err("node: bad --ctl address '%s'", cfg->ctl);
		return err;
	}
	rvcfg.store = n->store;
	rvcfg.rpc = n->fwd;
	rvcfg.map = &n->map;
	rvcfg.self = n->info.node;
	rvcfg.max_chunk = n->info.max_chunk;
	rvcfg.rate_mb_s = cfg->recovery_mb_s;
	return recover_open(&rvcfg, &n->rec);
}

static void node_cluster_close(struct node *n)
{
	for (uint32_t i = 0; i < n->npaths; i++)
		n->paths[i].fwd = NULL;
	if (n->fwd)
		rpc_client_close(n->fwd); /* ends forwards: their requests get -ECANCELED */
	recover_close(n->rec);
	nodectl_close(n->nc);
	n->fwd = NULL;
	n->rec = NULL;
	n->nc = NULL;
}

/* The cluster's share of a loop pass: forward timers, ctl, recovery.
 * Returns 1 if it did work, -errno when ctl refused this node. */
static int node_cluster_poll(struct node *n, uint64_t *last_ctl_ns)
{
	uint64_t now = util_now_ns();
	int did = 0, r;

	if (!n->nc)
		return 0;
	did |= rpc_client_tick(n->fwd, now) > 0;
	if (now - *last_ctl_ns >= 5000000ull) {
		struct ctl_hello fig = { 0 };
		struct recover_counters rc;

		*last_ctl_ns = now;
		store_get_info(n->store, &n->info);
		recover_get_counters(n->rec, &rc);
		fig.capacity = n->info.capacity;
		fig.used = n->info.used;
		fig.chunks = n->info.chunks;
		for (int op = 0; op < FERRY_OP_MAX; op++)
			fig.ops_total += n->ops[op];
		fig.rec_pending = rc.pending;
		fig.rec_copied = rc.copies;
		fig.rec_bytes = rc.copy_bytes;
		fig.degraded = rc.degraded;
		r = nodectl_poll(n->nc, &fig);
		if (r < 0)
			return r;
		if (nodectl_rejoined(n->nc))
			recover_kick(n->rec, 1);
		if (r == 1) {
			n->map = *nodectl_map(n->nc);
			if (node_self(n) < 0)
				log_warn("node: not in the map of epoch %llu yet",
					 (unsigned long long)n->map.epoch);
			recover_kick(n->rec, 0);
		}
	}
	did |= recover_step(n->rec, now);
	return did;
}

int node_run(const struct node_cfg *cfg)
{
	struct node n = { .cfg = cfg };
	struct store_cfg scfg = { .path = cfg->disk, .cluster = cfg->cluster,
				  .scrub_mb_s = cfg->scrub_mb_s };
	struct net_addr local;
	struct rpc_cfg rcfg;
	char addr[64], uuid[37];
	uint64_t last_tick = 0, last_ctl = 0;
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
	n.op_pool = calloc(NODE_MAX_OPS, sizeof(*n.op_pool));
	if (!n.op_pool) {
		err = -ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < NODE_MAX_OPS; i++) {
		n.op_pool[i].next = n.free_ops;
		n.free_ops = &n.op_pool[i];
	}

	rpc_cfg_default(&rcfg);
	rcfg.cluster = n.cluster_id;
	rcfg.max_msg = MAX(n.info.max_chunk, 64u << 10) + 4096;
	if (cfg->mtu)
		rcfg.mtu = cfg->mtu;
	rcfg.no_zc = cfg->copy_payload;
	/* A disk that would not take frame-sized pieces (a file: store.h
	 * piece_align) gets requests copied on arrival, as they come, rather
	 * than held and copied whole at the end. */
	rcfg.no_zc_rx = n.info.piece_align > FERRY_FRAG_ALIGN;
	err = node_open_paths(&n, &local, &rcfg);
	if (err)
		goto out;
	if (cfg->ctl) {
		err = node_cluster_open(&n, &local, &rcfg);
		if (err)
			goto out;
	}
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
		busy += node_flush(&n);
		err = node_cluster_poll(&n, &last_ctl);
		if (err < 0)
			goto stop; /* refused by ctl: the reason is logged */
		busy += err;
		err = 0;
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
	/* Every started op finishes (and is answered) before state goes away. */
	while (n.ops_inflight) {
		node_op_retry(&n);
		if (store_poll(n.store, 1) < 0)
			break;
	}
	node_flush(&n);
out:
	node_cluster_close(&n);
	for (uint32_t i = 0; i < n.npaths; i++) {
		rpc_srv_close(n.paths[i].srv);
		n.paths[i].t->ops->close(n.paths[i].t);
	}
	store_close(n.store);
	free(n.op_pool);
	return err;
}
