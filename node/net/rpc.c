/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rpc.c - reliable messages over datagrams; see rpc.h for the protocol.
 */
#include "net/rpc.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"

#define RPC_UNIT         FERRY_FRAG_ALIGN /* reassembly granularity */
#define RPC_CLI_BUCKETS  1024             /* power of two */
#define RPC_RX_BATCH     64
#define RPC_MAX_RTO_MS   1000
#define RPC_SMALL_RESP   4096             /* answers kept whole after the final ACK */
#define RPC_ZC_MIN_FRAG  1024             /* smallest fragment a held request expects */
#define RPC_STALE_MS     2000             /* an answer nobody acked for this long is stale */
/* Message buffers are 4 KiB aligned and sized in whole 4 KiB blocks, so the
 * storage engine can read and write them with O_DIRECT as they are. */
#define RPC_BUF_ALIGN    4096

static uint64_t rpc_buf_size(uint32_t len)
{
	return ((uint64_t)len + RPC_BUF_ALIGN - 1) / RPC_BUF_ALIGN * RPC_BUF_ALIGN;
}

/* Message buffers of one block (most answers, small PUTs) are recycled
 * through a per-server stack instead of malloc/free: musl gives freed
 * pages back to the kernel, which cost a madvise per request. */
#define RPC_BUF_CACHE 1024

struct rpc_buf_cache {
	void *bufs[RPC_BUF_CACHE];
	uint32_t n;
};

static void *rpc_buf_alloc(struct rpc_buf_cache *bc, uint32_t len)
{
	if (rpc_buf_size(len) == RPC_BUF_ALIGN && bc->n)
		return bc->bufs[--bc->n];
	return aligned_alloc(RPC_BUF_ALIGN, rpc_buf_size(len));
}

static void rpc_buf_free(struct rpc_buf_cache *bc, void *buf, uint64_t size)
{
	if (buf && size == RPC_BUF_ALIGN && bc->n < RPC_BUF_CACHE)
		bc->bufs[bc->n++] = buf;
	else
		free(buf);
}

void rpc_cfg_default(struct rpc_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mtu = 1500;
	cfg->max_msg = (4u << 20) + (64u << 10);
	cfg->mem_budget = 512ull << 20;
	cfg->max_reqs = 65536;
	cfg->window = 256;
	cfg->rto_ms = 20;
	cfg->timeout_ms = 10000;
	cfg->recv_idle_ms = 5000;
	cfg->retain_ms = 30000;
}

char *rpc_call_describe(const struct rpc_call *c, char *buf, size_t cap)
{
	if (c->resp_msg_len)
		snprintf(buf, cap, "sent %u times, request %u/%u bytes acked, response %u/%u bytes",
			 c->resent + 1, c->req_acked, c->req_len, c->resp_contig, c->resp_msg_len);
	else
		snprintf(buf, cap, "sent %u times, request %u/%u bytes acked, no response",
			 c->resent + 1, c->req_acked, c->req_len);
	return buf;
}

size_t rpc_counters_format(const struct rpc_counters *c, char *buf, size_t cap)
{
	size_t off = 0;
	int n;

#define RPC_PUT(name, val)                                                                    \
	do {                                                                                  \
		n = snprintf(buf + off, cap - off, "rpc_%s %llu\n", name,                     \
			     (unsigned long long)(val));                                      \
		if (n < 0 || (size_t)n >= cap - off)                                          \
			return off;                                                           \
		off += (size_t)n;                                                             \
	} while (0)
	RPC_PUT("rx_datagrams", c->rx_datagrams);
	RPC_PUT("tx_datagrams", c->tx_datagrams);
	for (int i = 1; i < WIRE_ERR_MAX; i++) {
		char name[48];
		snprintf(name, sizeof(name), "drop_%s", wire_err_name((enum wire_err)i));
		RPC_PUT(name, c->drop[i]);
	}
	RPC_PUT("drop_unexpected", c->drop_unexpected);
	RPC_PUT("drop_busy", c->drop_busy);
	RPC_PUT("drop_too_big", c->drop_too_big);
	RPC_PUT("dup_frags", c->dup_frags);
	RPC_PUT("requests", c->requests);
	RPC_PUT("retransmits", c->retransmits);
	RPC_PUT("fast_retransmits", c->fast_retransmits);
	RPC_PUT("acks_tx", c->acks_tx);
	RPC_PUT("timeouts", c->timeouts);
	RPC_PUT("payload_copied_bytes", c->payload_copied);
	RPC_PUT("zc_rx_bytes", c->zc_rx_bytes);
	RPC_PUT("zc_tx_bytes", c->zc_tx_bytes);
	RPC_PUT("zc_rx_spills", c->zc_rx_spills);
	RPC_PUT("zc_tx_spills", c->zc_tx_spills);
	RPC_PUT("zc_tx_noframes", c->zc_tx_noframes);
	RPC_PUT("tracked", c->tracked);
	RPC_PUT("table", c->table);
#undef RPC_PUT
	return off;
}

/* ---------------------------------------------------- reassembly bitmap */

static uint32_t rpc_units(uint32_t len)
{
	return DIV_ROUND_UP(len, RPC_UNIT);
}

static int rpc_map_test(const uint8_t *map, uint32_t bit)
{
	return map[bit >> 3] & (1u << (bit & 7));
}

static void rpc_map_set(uint8_t *map, uint32_t bit)
{
	map[bit >> 3] = (uint8_t)(map[bit >> 3] | (1u << (bit & 7)));
}

/*
 * rpc_frag_place - account fragment [off, off+len) of a msg_len message in
 * map and advance *contig. Returns 1 if the fragment is new, 0 if it is a
 * duplicate, -1 if it is misaligned (not a Ferry sender).
 */
static int rpc_frag_place(uint8_t *map, uint32_t msg_len, uint32_t off, uint32_t len,
			  uint32_t *contig)
{
	uint32_t first, last;

	if (off % RPC_UNIT || (len % RPC_UNIT && off + len != msg_len))
		return -1;
	if (len == 0)
		return msg_len == 0 ? 1 : -1;
	first = off / RPC_UNIT;
	last = rpc_units(off + len);
	if (rpc_map_test(map, first))
		return 0;
	for (uint32_t b = first; b < last; b++)
		rpc_map_set(map, b);
	while (*contig < msg_len && rpc_map_test(map, *contig / RPC_UNIT)) {
		*contig += RPC_UNIT;
		if (*contig > msg_len)
			*contig = msg_len;
	}
	return 1;
}

/* ------------------------------------------------------------------ server */

enum rpc_sreq_state {
	SREQ_RECV = 0, /* receiving request fragments */
	SREQ_EXEC,     /* handed to the handler */
	SREQ_RESP,     /* answering */
	SREQ_DONE,     /* answer fully acknowledged; kept for retries */
};

struct rpc_sreq {
	struct rpc_sreq *hnext, **hpprev; /* hash chain (O(1) unlink) */
	struct rpc_sreq *lnext, *lprev;   /* age list lst (oldest first) */
	struct rpc_sreq *anext;           /* ack-pending list */
	struct net_addr peer;             /* client address */
	uint32_t session;                 /* client session */
	uint64_t req_id;                  /* request id within session */
	struct ferry_hdr hdr;             /* request header (first datagram) */
	uint8_t state;                    /* enum rpc_sreq_state */
	uint8_t lst;                      /* which age list: RPC_L_* */
	uint8_t stale;                    /* DONE because its client went quiet, not acked */
	uint8_t ack_pending;              /* on the ack list */
	uint8_t resp_sent0;               /* empty answer was sent once */
	uint8_t dupacks;                  /* ACKs in a row that did not advance */
	uint8_t *req_buf;                 /* request payload */
	uint8_t *req_map;                 /* received units */
	uint32_t req_len;                 /* hdr.msg_len */
	uint32_t req_contig;              /* contiguous request bytes */
	uint8_t *resp_buf;                /* answer payload */
	uint32_t resp_cap;                /* its allocation */
	uint32_t resp_len;                /* answer length */
	int32_t status;                   /* answer status */
	uint32_t resp_acked;              /* answer bytes acked by the client */
	uint32_t resp_next;               /* next answer byte to send */
	uint32_t peer_window;             /* client's advertised window */
	uint64_t req_mem;                 /* bytes of req_buf + req_map charged */
	uint64_t last_ns;                 /* last activity */
	/* Zero copy (see "zero copy" below): a held request has req_buf NULL
	 * and its fragments in rq; a lent answer has resp_buf NULL and lives
	 * in the TX frames of rs. */
	struct rpc_pieces *rq;            /* request fragments held in RX buffers */
	struct rpc_pieces *rs;            /* answer in TX frames lent by the transport */
	struct iovec one_iov;             /* a contiguous buffer as an iovec */
};

/* One fragment in a transport buffer: a held RX datagram's payload or a
 * lent TX frame's payload slot. */
struct rpc_piece {
	uint8_t *data;                    /* payload */
	uint32_t off, len;                /* its place in the message */
	uint64_t handle;                  /* net_pkt.handle / TX frame */
};

struct rpc_pieces {
	uint32_t n, cap;                  /* pieces used / allocated */
	int iov_ready;                    /* iov holds the pieces in message order */
	struct iovec *iov;                /* cap entries, after p[] in the same block */
	struct rpc_piece p[];             /* cap entries */
};

struct rpc_srv {
	struct rpc_cfg cfg;
	struct transport *t;
	rpc_handler_fn handler;
	void *handler_arg;
	uint32_t frag;                    /* fragment payload size */
	struct rpc_buf_cache bufs;        /* recycled one-block message buffers */
	struct rpc_sreq **buckets;        /* by (peer, session, req_id) */
	uint32_t bucket_mask;             /* buckets - 1: grows with nreqs (rpc_srv_grow) */
	uint32_t bucket_max;              /* largest mask: 2 x max_reqs buckets */
	struct rpc_sreq *old[3], *young[3]; /* age lists' ends, per RPC_L_* */
	struct rpc_sreq *acks;            /* requests owing an ACK */
	uint32_t nreqs;                   /* requests tracked, answered ones included */
	uint32_t nactive;                 /* of which still receiving, executing or answering */
	uint64_t mem;
	uint32_t hold_max;                /* RX datagrams the transport lets us keep (0: none) */
	uint32_t held;                    /* RX datagrams kept now */
	struct rpc_counters ctr;
};

/* Bucket of a request: a multiply-xorshift mix of the key's words. Every
 * received datagram looks its request up, so this stays a handful of
 * instructions, and the table is sized so chains stay short. */
static uint32_t rpc_srv_hash(const struct rpc_srv *srv, const struct net_addr *peer,
			     uint32_t session, uint64_t req_id)
{
	uint64_t ip0, ip1, h;

	memcpy(&ip0, peer->ip, 8);
	memcpy(&ip1, peer->ip + 8, 8);
	h = req_id * 0x9e3779b97f4a7c15ull;
	h ^= ((uint64_t)session << 16 | peer->port) * 0xc2b2ae3d27d4eb4full;
	h ^= (ip0 ^ (ip1 * 0x165667b19e3779f9ull)) * 0xff51afd7ed558ccdull;
	h ^= h >> 32;
	return (uint32_t)h & srv->bucket_mask;
}

/*
 * Three age lists, each ordered by last activity, so the reaper only ever
 * looks at what is due:
 *   RPC_L_ACTIVE    being received or executed: a half-received request
 *                   times out after recv_idle_ms;
 *   RPC_L_ANSWERING its answer going out: an answer nobody acked for
 *                   RPC_STALE_MS goes stale - to RPC_L_DONE, no longer
 *                   sharing the window credits, and out of lent TX frames;
 *   RPC_L_DONE      answered (or stale), remembered for retain_ms.
 * One list ordered for all would have the reaper walk every answer younger
 * than retain_ms on each tick.
 */
enum { RPC_L_ACTIVE = 0, RPC_L_ANSWERING = 1, RPC_L_DONE = 2 };


static void rpc_age_unlink(struct rpc_srv *srv, struct rpc_sreq *r)
{
	if (r->lprev)
		r->lprev->lnext = r->lnext;
	else
		srv->old[r->lst] = r->lnext;
	if (r->lnext)
		r->lnext->lprev = r->lprev;
	else
		srv->young[r->lst] = r->lprev;
	r->lnext = r->lprev = NULL;
}

static void rpc_age_push(struct rpc_srv *srv, struct rpc_sreq *r, uint8_t lst)
{
	r->lst = lst;
	r->lprev = srv->young[lst];
	r->lnext = NULL;
	if (srv->young[lst])
		srv->young[lst]->lnext = r;
	else
		srv->old[lst] = r;
	srv->young[lst] = r;
}

/* rpc_age_move - put r at the young end of list lst. */
static void rpc_age_move(struct rpc_srv *srv, struct rpc_sreq *r, uint8_t lst)
{
	rpc_age_unlink(srv, r);
	rpc_age_push(srv, r, lst);
}

static void rpc_touch(struct rpc_srv *srv, struct rpc_sreq *r, uint64_t now)
{
	r->last_ns = now;
	if (srv->young[r->lst] != r)
		rpc_age_move(srv, r, r->lst);
}

static void rpc_zc_drop_req(struct rpc_srv *srv, struct rpc_sreq *r);
static void rpc_zc_drop_resp(struct rpc_srv *srv, struct rpc_sreq *r);

static void rpc_sreq_free_req(struct rpc_srv *srv, struct rpc_sreq *r)
{
	rpc_zc_drop_req(srv, r);
	rpc_buf_free(&srv->bufs, r->req_buf, r->req_buf ? rpc_buf_size(r->req_len) : 0);
	free(r->req_map);
	r->req_buf = r->req_map = NULL;
	srv->mem -= r->req_mem;
	r->req_mem = 0;
}

static void rpc_sreq_free_resp(struct rpc_srv *srv, struct rpc_sreq *r)
{
	rpc_zc_drop_resp(srv, r);
	rpc_buf_free(&srv->bufs, r->resp_buf, r->resp_cap);
	r->resp_buf = NULL;
	srv->mem -= r->resp_cap;
	r->resp_cap = 0;
}


/* -------------------------------------------------------------- zero copy */
/*
 * On a transport that lets us keep received datagrams (rx_hold_max: AF_XDP)
 * a request's fragments stay in the RX buffers they arrived in ("held")
 * instead of being copied into a message buffer; the handler gets them as
 * an iovec (rpc_sreq_payload_iov) that the storage engine writes to disk
 * from directly, and they go back to the NIC once the request is answered.
 * On a transport that lends TX frames (txz_*) an answer can be built in the
 * frames it will be sent from (rpc_sreq_reply_iov): the engine reads into
 * them, and they are sent, and resent on loss, as they are.
 *
 * Where that cannot apply the pieces are "spilled": copied into an ordinary
 * buffer and given back (counted in zc_*_spills and payload_copied):
 *   - the handler wants the payload contiguous (rpc_sreq_payload);
 *   - keeping one more fragment would exceed rx_hold_max or the piece table
 *     (sized for fragments of RPC_ZC_MIN_FRAG or more), or a fragment
 *     overlaps received ones only in part;
 *   - an answer went stale in lent frames (RPC_STALE_MS without an ACK: its
 *     client is gone, or its final ACK was lost): the frames go back.
 */
/* rpc_zc_new - a piece table for cap pieces and their iovec, one block. */
static struct rpc_pieces *rpc_zc_new(uint32_t cap)
{
	struct rpc_pieces *ps = malloc(sizeof(*ps) + (size_t)cap * (sizeof(ps->p[0]) +
								     sizeof(struct iovec)));

	if (!ps)
		return NULL;
	ps->n = 0;
	ps->cap = cap;
	ps->iov_ready = 0;
	ps->iov = (struct iovec *)(void *)&ps->p[cap];
	return ps;
}

static void rpc_zc_drop_req(struct rpc_srv *srv, struct rpc_sreq *r)
{
	struct rpc_pieces *ps = r->rq;
	struct net_pkt pk[64];
	uint32_t k = 0;

	if (!ps)
		return;
	for (uint32_t i = 0; i < ps->n; i++) {
		pk[k].data = ps->p[i].data;
		pk[k].len = ps->p[i].len;
		pk[k].handle = ps->p[i].handle;
		if (++k == 64 || i + 1 == ps->n) {
			srv->t->ops->rx_release(srv->t, pk, (int)k);
			k = 0;
		}
	}
	srv->held -= ps->n;
	free(ps);
	r->rq = NULL;
}

static void rpc_zc_drop_resp(struct rpc_srv *srv, struct rpc_sreq *r)
{
	struct rpc_pieces *ps = r->rs;

	if (!ps)
		return;
	for (uint32_t i = 0; i < ps->n; i++)
		srv->t->ops->txz_free(srv->t, ps->p[i].handle);
	free(ps);
	r->rs = NULL;
}

/* Would fragment [off, off+len) fit the held pieces of r? No when the table
 * or the hold budget is full, or when it overlaps received units in part
 * (a whole duplicate fits: it is dropped, not kept). */
static int rpc_zc_fits(const struct rpc_srv *srv, const struct rpc_sreq *r, uint32_t off,
		       uint32_t len)
{
	uint32_t first = off / RPC_UNIT, last = rpc_units(off + len);
	int dup = rpc_map_test(r->req_map, first) != 0;

	for (uint32_t b = first + 1; b < last; b++)
		if ((rpc_map_test(r->req_map, b) != 0) != dup)
			return 0;
	return dup || (r->rq->n < r->rq->cap && srv->held < srv->hold_max);
}

/* rpc_zc_gather - ps's pieces copied into a new message buffer of len bytes
 * (counted); NULL when there is no memory. */
static uint8_t *rpc_zc_gather(struct rpc_srv *srv, const struct rpc_pieces *ps, uint32_t len)
{
	uint8_t *buf = rpc_buf_alloc(&srv->bufs, len);

	for (uint32_t i = 0; buf && i < ps->n; i++) {
		memcpy(buf + ps->p[i].off, ps->p[i].data, ps->p[i].len);
		srv->ctr.payload_copied += ps->p[i].len;
	}
	return buf;
}

/* rpc_zc_spill_req - copy r's held fragments into a message buffer and give
 * the RX buffers back. 0 or -ENOMEM. */
static int rpc_zc_spill_req(struct rpc_srv *srv, struct rpc_sreq *r)
{
	uint8_t *buf = rpc_zc_gather(srv, r->rq, r->req_len);

	if (!buf)
		return -ENOMEM;
	srv->ctr.zc_rx_spills++;
	rpc_zc_drop_req(srv, r);
	r->req_buf = buf;
	r->req_mem += rpc_buf_size(r->req_len);
	srv->mem += rpc_buf_size(r->req_len);
	return 0;
}

/* rpc_zc_keep - keep the datagram of fragment [off, off+len) in r. */
static void rpc_zc_keep(struct rpc_srv *srv, struct rpc_sreq *r, const struct net_pkt *pkt,
			const uint8_t *payload, uint32_t off, uint32_t len)
{
	r->rq->p[r->rq->n++] = (struct rpc_piece){ (uint8_t *)payload, off, len, pkt->handle };
	srv->held++;
	srv->ctr.zc_rx_bytes += len;
}

/* rpc_zc_iov - ps's pieces as an iovec in message order (built once). */
static struct iovec *rpc_zc_iov(struct rpc_pieces *ps)
{
	if (ps->iov_ready)
		return ps->iov;
	/* Fragments mostly arrive in order: an insertion sort is linear then. */
	for (uint32_t i = 1; i < ps->n; i++) {
		struct rpc_piece x = ps->p[i];
		uint32_t j = i;

		while (j > 0 && ps->p[j - 1].off > x.off) {
			ps->p[j] = ps->p[j - 1];
			j--;
		}
		ps->p[j] = x;
	}
	for (uint32_t i = 0; i < ps->n; i++)
		ps->iov[i] = (struct iovec){ ps->p[i].data, ps->p[i].len };
	ps->iov_ready = 1;
	return ps->iov;
}

/* rpc_zc_lend - an answer of len bytes in n = len / frag (rounded up) TX
 * frames lent by the transport; all or nothing. 0 or -errno. */
static int rpc_zc_lend(struct rpc_srv *srv, struct rpc_sreq *r, uint32_t len)
{
	uint32_t n = DIV_ROUND_UP(len, srv->frag);
	struct rpc_pieces *ps;

	ps = rpc_zc_new(n);
	if (!ps)
		return -ENOMEM;
	ps->iov_ready = 1;
	for (uint32_t i = 0; i < n; i++) {
		struct rpc_piece *pc = &ps->p[i];
		uint32_t cap = 0;

		if (srv->t->ops->txz_alloc(srv->t, &pc->handle, &pc->data, &cap) < 0)
			goto fail;
		ps->n = i + 1;
		if (cap < srv->frag)
			goto fail;
		pc->off = i * srv->frag;
		pc->len = MIN(srv->frag, len - pc->off);
		ps->iov[i] = (struct iovec){ pc->data, pc->len };
	}
	r->rs = ps;
	return 0;
fail:
	for (uint32_t i = 0; i < ps->n; i++)
		srv->t->ops->txz_free(srv->t, ps->p[i].handle);
	free(ps);
	return -ENOBUFS;
}

/* rpc_zc_trim - the answer is len bytes: give back the frames beyond. */
static void rpc_zc_trim(struct rpc_srv *srv, struct rpc_sreq *r, uint32_t len)
{
	struct rpc_pieces *ps = r->rs;
	uint32_t keep = DIV_ROUND_UP(len, srv->frag);

	while (ps->n > keep)
		srv->t->ops->txz_free(srv->t, ps->p[--ps->n].handle);
	if (keep)
		ps->p[keep - 1].len = len - ps->p[keep - 1].off;
	else
		rpc_zc_drop_resp(srv, r);
}

/* rpc_zc_spill_resp - copy r's answer out of its lent frames. */
static int rpc_zc_spill_resp(struct rpc_srv *srv, struct rpc_sreq *r)
{
	uint8_t *buf = rpc_zc_gather(srv, r->rs, r->resp_len);

	if (!buf)
		return -ENOMEM;
	srv->ctr.zc_tx_spills++;
	rpc_zc_drop_resp(srv, r);
	r->resp_buf = buf;
	r->resp_cap = (uint32_t)rpc_buf_size(r->resp_len);
	srv->mem += r->resp_cap;
	return 0;
}

static void rpc_sreq_destroy(struct rpc_srv *srv, struct rpc_sreq *r)
{
	*r->hpprev = r->hnext;
	if (r->hnext)
		r->hnext->hpprev = r->hpprev;
	if (r->ack_pending) {
		struct rpc_sreq **ap = &srv->acks;
		while (*ap && *ap != r)
			ap = &(*ap)->anext;
		if (*ap)
			*ap = r->anext;
	}
	rpc_age_unlink(srv, r);
	rpc_sreq_free_req(srv, r);
	rpc_sreq_free_resp(srv, r);
	srv->mem -= sizeof(*r);
	srv->nreqs--;
	if (r->state != SREQ_DONE)
		srv->nactive--;
	free(r);
}

static struct rpc_sreq *rpc_sreq_find(struct rpc_srv *srv, const struct net_addr *peer,
				      uint32_t session, uint64_t req_id)
{
	struct rpc_sreq *r = srv->buckets[rpc_srv_hash(srv, peer, session, req_id)];

	for (; r; r = r->hnext)
		if (r->req_id == req_id && r->session == session && net_addr_equal(&r->peer, peer))
			return r;
	return NULL;
}

/* Make room for one more request by forgetting the oldest answered ones;
 * requests being received or answered are never evicted (their clients
 * would only retry into the same squeeze). */
static int rpc_srv_make_room(struct rpc_srv *srv, uint64_t need)
{
	struct rpc_sreq *r = srv->old[RPC_L_DONE];

	while ((srv->nreqs >= srv->cfg.max_reqs || srv->mem + need > srv->cfg.mem_budget) && r) {
		struct rpc_sreq *next = r->lnext;
		rpc_sreq_destroy(srv, r);
		r = next;
	}
	return (srv->nreqs < srv->cfg.max_reqs && srv->mem + need <= srv->cfg.mem_budget) ? 0
											   : -ENOMEM;
}

static void rpc_srv_hash_insert(struct rpc_srv *srv, struct rpc_sreq *r)
{
	uint32_t b = rpc_srv_hash(srv, &r->peer, r->session, r->req_id);

	r->hnext = srv->buckets[b];
	if (r->hnext)
		r->hnext->hpprev = &r->hnext;
	r->hpprev = &srv->buckets[b];
	srv->buckets[b] = r;
}

/*
 * rpc_srv_grow - double the request table. It starts small and grows with
 * the requests tracked (load factor 1/2) up to 2 x max_reqs buckets: every
 * datagram looks its request up, and a table much larger than its contents
 * costs a cache miss per lookup (measured: 84% of rpc_srv_input under a
 * 4 KiB GET load with a fixed 128k-bucket table).
 */
static void rpc_srv_grow(struct rpc_srv *srv)
{
	uint32_t old_n = srv->bucket_mask + 1;
	struct rpc_sreq **old = srv->buckets;
	struct rpc_sreq **nb = calloc((size_t)old_n * 2, sizeof(*nb));

	if (!nb)
		return;
	srv->buckets = nb;
	srv->bucket_mask = old_n * 2 - 1;
	for (uint32_t i = 0; i < old_n; i++) {
		struct rpc_sreq *r = old[i], *next;

		for (; r; r = next) {
			next = r->hnext;
			rpc_srv_hash_insert(srv, r);
		}
	}
	free(old);
}

static struct rpc_sreq *rpc_sreq_create(struct rpc_srv *srv, const struct net_pkt *pkt,
					const struct ferry_hdr *h, uint64_t now)
{
	/* Payload held in RX buffers when the transport allows: a piece
	 * table instead of a message buffer. */
	uint32_t zc_cap = srv->hold_max && h->msg_len ? DIV_ROUND_UP(h->msg_len, RPC_ZC_MIN_FRAG) : 0;
	uint64_t buf_mem = zc_cap ? sizeof(struct rpc_pieces) +
					    zc_cap * (sizeof(struct rpc_piece) + sizeof(struct iovec))
				  : rpc_buf_size(h->msg_len);
	uint64_t req_mem = h->msg_len ? buf_mem + rpc_units(h->msg_len) / 8 + 1 : 0;
	uint64_t need = sizeof(struct rpc_sreq) + req_mem;
	struct rpc_sreq *r;

	if (rpc_srv_make_room(srv, need))
		return NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	if (h->msg_len) {
		if (zc_cap)
			r->rq = rpc_zc_new(zc_cap);
		else
			r->req_buf = rpc_buf_alloc(&srv->bufs, h->msg_len);
		r->req_map = calloc(1, rpc_units(h->msg_len) / 8 + 1);
		if ((!r->req_buf && !r->rq) || !r->req_map) {
			rpc_buf_free(&srv->bufs, r->req_buf, rpc_buf_size(h->msg_len));
			free(r->rq);
			free(r->req_map);
			free(r);
			return NULL;
		}
	}
	r->peer = pkt->peer;
	r->session = h->session;
	r->req_id = h->req_id;
	r->hdr = *h;
	r->req_len = h->msg_len;
	r->peer_window = h->window ? h->window : 1;
	r->req_mem = req_mem;
	srv->mem += need;
	srv->nreqs++;
	srv->nactive++;
	if (srv->nreqs > srv->bucket_mask / 2 && srv->bucket_mask < srv->bucket_max)
		rpc_srv_grow(srv); /* best effort: chains just get longer without */
	rpc_srv_hash_insert(srv, r);
	r->last_ns = now;
	rpc_age_push(srv, r, RPC_L_ACTIVE);
	return r;
}

/* The credits one request may use: the receive side's capacity shared by the
 * requests in progress (answered ones remembered for retries use none). */
static uint32_t rpc_srv_window(struct rpc_srv *srv)
{
	uint32_t credits = srv->t->ops->rx_credits(srv->t);
	uint32_t active = srv->nactive ? srv->nactive : 1;
	uint32_t w = credits / active;

	if (w > srv->cfg.window)
		w = srv->cfg.window;
	return w ? w : 1;
}

static void rpc_srv_tx(struct rpc_srv *srv, const struct net_addr *to, struct ferry_hdr *h,
		       const void *payload, uint32_t len)
{
	struct iovec iov[2] = { { h, sizeof(*h) }, { (void *)payload, len } };

	h->frag_len = (uint16_t)len;
	wire_seal(h, payload, len);
	if (srv->t->ops->tx(srv->t, to, iov, len ? 2 : 1) == -ENOBUFS) {
		srv->t->ops->tx_flush(srv->t);
		srv->t->ops->tx(srv->t, to, iov, len ? 2 : 1);
	}
	srv->ctr.tx_datagrams++;
}

static void rpc_srv_send_ack(struct rpc_srv *srv, struct rpc_sreq *r)
{
	struct ferry_hdr h;

	wire_hdr_init(&h, FERRY_OP_ACK);
	h.flags = FERRY_F_RESP;
	h.session = r->session;
	h.req_id = r->req_id;
	h.cluster = srv->cfg.cluster;
	h.ack = r->req_contig;
	h.window = (uint16_t)MIN(rpc_srv_window(srv), 65535u);
	rpc_srv_tx(srv, &r->peer, &h, NULL, 0);
	srv->ctr.acks_tx++;
}

static void rpc_srv_queue_ack(struct rpc_srv *srv, struct rpc_sreq *r)
{
	if (r->ack_pending)
		return;
	r->ack_pending = 1;
	r->anext = srv->acks;
	srv->acks = r;
}

/* Send answer fragments from resp_next while the client's window allows. */
/* The header every fragment of r's answer shares. */
static void rpc_srv_resp_hdr(struct rpc_srv *srv, struct rpc_sreq *r, struct ferry_hdr *hp,
			     uint16_t extra_flags)
{
	struct ferry_hdr h;

	wire_hdr_init(&h, r->hdr.op);
	h.flags = (uint16_t)(FERRY_F_RESP | extra_flags);
	h.session = r->session;
	h.req_id = r->req_id;
	h.status = r->status;
	h.epoch = r->hdr.epoch;
	h.cluster = srv->cfg.cluster;
	memcpy(h.chunk, r->hdr.chunk, sizeof(h.chunk));
	h.offset = r->hdr.offset;
	h.length = r->hdr.length;
	h.msg_len = r->resp_len;
	h.window = (uint16_t)MIN(rpc_srv_window(srv), 65535u);
	*hp = h;
}

/* rpc_srv_txz - send fragment h (frag_off, frag_len set) of a lent answer
 * from its TX frame. */
static void rpc_srv_txz(struct rpc_srv *srv, struct rpc_sreq *r, struct ferry_hdr *h)
{
	const struct rpc_piece *pc = &r->rs->p[h->frag_off / srv->frag];
	int err;

	wire_seal(h, pc->data, h->frag_len);
	err = srv->t->ops->txz_send(srv->t, pc->handle, &r->peer, h, h->frag_len);
	if (err == -ENOBUFS) {
		srv->t->ops->tx_flush(srv->t);
		err = srv->t->ops->txz_send(srv->t, pc->handle, &r->peer, h, h->frag_len);
	}
	/* -EBUSY: the frame's previous send is still on its way; as good as a
	 * resend (and the client's timer covers a loss of it). */
	srv->ctr.tx_datagrams++;
}

/* Send the answer fragment at byte off (resp_next is left alone). */
static void rpc_srv_send_frag(struct rpc_srv *srv, struct rpc_sreq *r, struct ferry_hdr *h,
			      uint32_t off, uint16_t extra_flags)
{
	uint32_t len = MIN(srv->frag, r->resp_len - off);

	h->frag_off = off;
	h->flags = (uint16_t)(FERRY_F_RESP | extra_flags);
	if (off + len == r->resp_len)
		h->flags |= FERRY_F_LAST;
	h->payload_crc = 0;
	h->hdr_crc = 0;
	if (r->rs) {
		h->frag_len = (uint16_t)len;
		rpc_srv_txz(srv, r, h);
		return;
	}
	rpc_srv_tx(srv, &r->peer, h, r->resp_buf + off, len);
}

/* Send answer fragments from resp_next while the client's window allows. */
static void rpc_srv_send_resp(struct rpc_srv *srv, struct rpc_sreq *r, uint16_t extra_flags)
{
	struct ferry_hdr h;
	uint32_t window_bytes = r->peer_window * srv->frag;

	rpc_srv_resp_hdr(srv, r, &h, extra_flags);
	if (r->resp_len == 0) {
		if (!r->resp_sent0 || extra_flags) {
			h.flags |= FERRY_F_LAST;
			rpc_srv_tx(srv, &r->peer, &h, NULL, 0);
			r->resp_sent0 = 1;
		}
		return;
	}
	while (r->resp_next < r->resp_len && r->resp_next - r->resp_acked < window_bytes) {
		rpc_srv_send_frag(srv, r, &h, r->resp_next, extra_flags);
		r->resp_next += MIN(srv->frag, r->resp_len - r->resp_next);
	}
}

uint8_t *rpc_sreq_payload(struct rpc_srv *srv, struct rpc_sreq *r, uint32_t *len)
{
	*len = r->req_len;
	if (r->rq && rpc_zc_spill_req(srv, r) < 0)
		return NULL;
	return r->req_buf;
}

int rpc_sreq_payload_held(const struct rpc_sreq *r)
{
	return r->rq != NULL;
}

const struct iovec *rpc_sreq_payload_iov(struct rpc_sreq *r, int *iovcnt)
{
	if (r->rq) {
		*iovcnt = (int)r->rq->n;
		return rpc_zc_iov(r->rq);
	}
	r->one_iov = (struct iovec){ r->req_buf, r->req_len };
	*iovcnt = r->req_len ? 1 : 0;
	return &r->one_iov;
}

const struct ferry_hdr *rpc_sreq_hdr(const struct rpc_sreq *r)
{
	return &r->hdr;
}

const struct net_addr *rpc_sreq_peer(const struct rpc_sreq *r)
{
	return &r->peer;
}

void *rpc_sreq_reply_buf(struct rpc_srv *srv, struct rpc_sreq *r, uint32_t len)
{
	rpc_zc_drop_resp(srv, r);
	if (len <= r->resp_cap)
		return r->resp_buf;
	rpc_sreq_free_resp(srv, r);
	if (srv->mem + rpc_buf_size(len) > srv->cfg.mem_budget) {
		errno = ENOMEM;
		return NULL;
	}
	r->resp_buf = rpc_buf_alloc(&srv->bufs, len);
	if (!r->resp_buf) {
		errno = ENOMEM;
		return NULL;
	}
	r->resp_cap = (uint32_t)rpc_buf_size(len);
	srv->mem += r->resp_cap;
	return r->resp_buf;
}

const struct iovec *rpc_sreq_reply_iov(struct rpc_srv *srv, struct rpc_sreq *r, uint32_t len,
				       int *iovcnt)
{
	void *buf;

	if (len && srv->t->ops->txz_alloc && !srv->cfg.no_zc) {
		rpc_sreq_free_resp(srv, r);
		if (rpc_zc_lend(srv, r, len) == 0) {
			*iovcnt = (int)r->rs->n;
			return r->rs->iov;
		}
		srv->ctr.zc_tx_noframes++;
	}
	buf = rpc_sreq_reply_buf(srv, r, len);
	if (!buf && len)
		return NULL;
	r->one_iov = (struct iovec){ buf, len };
	*iovcnt = len ? 1 : 0;
	return &r->one_iov;
}

void rpc_sreq_reply(struct rpc_srv *srv, struct rpc_sreq *r, int32_t status, uint32_t len)
{
	if (r->rs) {
		uint32_t have = r->rs->p[r->rs->n - 1].off + r->rs->p[r->rs->n - 1].len;

		len = MIN(len, have);
		rpc_zc_trim(srv, r, len);
		srv->ctr.zc_tx_bytes += len;
	} else if (len > r->resp_cap) {
		len = r->resp_cap; /* a handler bug must not read past the buffer */
	}
	r->status = status;
	r->resp_len = len;
	r->resp_acked = 0;
	r->resp_next = 0;
	r->state = SREQ_RESP;
	rpc_age_move(srv, r, RPC_L_ANSWERING);
	rpc_sreq_free_req(srv, r);
	srv->ctr.requests++;
	rpc_srv_send_resp(srv, r, 0);
}

/*
 * Requests whose execution changes nothing: once their answer is complete
 * they need no remembering for idempotency. A late duplicate of one runs
 * again, harmlessly, and its client drops the answer as unexpected. Under a
 * read load this keeps the request table (and its cache footprint) to the
 * requests in flight instead of every answer of the last retain_ms.
 */
static int rpc_op_read_only(uint8_t op)
{
	switch (op) {
	case FERRY_OP_PING:
	case FERRY_OP_GET:
	case FERRY_OP_STAT:
	case FERRY_OP_LIST:
	case FERRY_OP_STATS:
	case FERRY_OP_CTL_GETMAP:
		return 1;
	default:
		return 0;
	}
}

/* rpc_sreq_stale - nobody acked r's answer for RPC_STALE_MS: its client is
 * gone or lost the final ACK. Stop sharing credits with it, give lent TX
 * frames back (copying the answer out, so a late retry still gets it), and
 * keep it for retries like an acknowledged one. */
static void rpc_sreq_stale(struct rpc_srv *srv, struct rpc_sreq *r)
{
	if (r->rs && rpc_zc_spill_resp(srv, r) < 0)
		rpc_sreq_free_resp(srv, r); /* no memory: a retry then times out */
	r->state = SREQ_DONE;
	r->stale = 1;
	srv->nactive--;
	rpc_age_move(srv, r, RPC_L_DONE);
}

/* rpc_sreq_revive - answer a DONE request again (its client retried). */
static void rpc_sreq_revive(struct rpc_srv *srv, struct rpc_sreq *r)
{
	r->state = SREQ_RESP;
	r->stale = 0;
	srv->nactive++;
	rpc_age_move(srv, r, RPC_L_ANSWERING);
}

static void rpc_srv_on_ack(struct rpc_srv *srv, struct rpc_sreq *r, const struct ferry_hdr *h)
{
	if (r->state != SREQ_RESP && r->state != SREQ_DONE)
		return; /* still executing: the answer will come */
	uint32_t prev = r->resp_acked;

	r->peer_window = h->window ? h->window : 1;
	if (h->ack > r->resp_acked && h->ack <= r->resp_len)
		r->resp_acked = h->ack;
	if (r->rs && r->resp_acked < r->resp_len)
		r->resp_acked -= r->resp_acked % srv->frag; /* frames are whole fragments */
	if (r->state == SREQ_DONE) {
		if (!r->stale || !r->resp_buf)
			return; /* a repeated final ACK */
		rpc_sreq_revive(srv, r); /* the client of a stale answer is back */
	}
	if ((h->flags & FERRY_F_LAST) && r->resp_acked == r->resp_len) {
		/* Final ACK: keep small answers for retries, drop big ones. A
		 * request that changes nothing is not remembered at all. */
		r->state = SREQ_DONE;
		srv->nactive--;
		rpc_age_move(srv, r, RPC_L_DONE);
		if (rpc_op_read_only(r->hdr.op)) {
			rpc_sreq_destroy(srv, r);
			return;
		}
		if (r->resp_cap > RPC_SMALL_RESP || r->rs)
			rpc_sreq_free_resp(srv, r);
		return;
	}
	if (h->flags & FERRY_F_RETRY) {
		/* The client saw no progress: go back to what it has. */
		r->resp_next = r->resp_acked;
		srv->ctr.retransmits++;
		rpc_srv_send_resp(srv, r, FERRY_F_RETRY);
		return;
	}
	/* Fast retransmit: the client keeps acknowledging the same offset while
	 * later fragments arrive, so the one at that offset was lost. Resend
	 * it once without waiting for the client's timeout (as TCP does after
	 * three duplicate ACKs); a second loss of it is the timeout's job. */
	if (r->resp_acked == prev && r->resp_next > prev) {
		if (++r->dupacks == 3) {
			struct ferry_hdr fh;

			rpc_srv_resp_hdr(srv, r, &fh, 0);
			rpc_srv_send_frag(srv, r, &fh, prev, FERRY_F_RETRY);
			srv->ctr.fast_retransmits++;
		}
	} else {
		r->dupacks = 0;
	}
	if (r->resp_next < r->resp_acked)
		r->resp_next = r->resp_acked;
	rpc_srv_send_resp(srv, r, 0);
}

int rpc_srv_input(struct rpc_srv *srv, const struct net_pkt *pkt, uint64_t now)
{
	struct ferry_hdr h;
	const uint8_t *payload;
	enum wire_err werr;
	struct rpc_sreq *r;
	int placed, kept = 0;

	srv->ctr.rx_datagrams++;
	werr = wire_check(pkt->data, pkt->len, srv->cfg.cluster, &h, &payload);
	if (werr != WIRE_OK) {
		srv->ctr.drop[werr]++;
		return 0;
	}
	r = rpc_sreq_find(srv, &pkt->peer, h.session, h.req_id);
	if (h.op == FERRY_OP_ACK) {
		if (!r || (h.flags & FERRY_F_RESP)) {
			srv->ctr.drop_unexpected++;
			return 0;
		}
		rpc_touch(srv, r, now);
		rpc_srv_on_ack(srv, r, &h);
		return 0;
	}
	if (h.flags & FERRY_F_RESP) {
		srv->ctr.drop_unexpected++;
		return 0;
	}
	if (h.msg_len > srv->cfg.max_msg) {
		srv->ctr.drop_too_big++;
		return 0;
	}
	if (!r) {
		r = rpc_sreq_create(srv, pkt, &h, now);
		if (!r) {
			srv->ctr.drop_busy++;
			return 0;
		}
	} else if (h.msg_len != r->req_len || h.op != r->hdr.op) {
		srv->ctr.drop[WIRE_ERR_LENGTH]++; /* same id, another request */
		return 0;
	}
	rpc_touch(srv, r, now);
	if (h.window)
		r->peer_window = h.window;
	if (r->state != SREQ_RECV) {
		srv->ctr.dup_frags++;
		if (r->state == SREQ_RESP && (h.flags & FERRY_F_RETRY)) {
			/* The client has seen nothing of the answer. */
			r->resp_next = r->resp_acked;
			srv->ctr.retransmits++;
			rpc_srv_send_resp(srv, r, FERRY_F_RETRY);
		} else if (r->state == SREQ_DONE && (h.flags & FERRY_F_RETRY) && r->resp_buf) {
			rpc_sreq_revive(srv, r);
			r->resp_acked = r->resp_next = 0;
			srv->ctr.retransmits++;
			rpc_srv_send_resp(srv, r, FERRY_F_RETRY);
		}
		return 0;
	}
	if (r->rq && h.frag_len && !rpc_zc_fits(srv, r, h.frag_off, h.frag_len) &&
	    rpc_zc_spill_req(srv, r) < 0) {
		srv->ctr.drop_busy++;
		return 0;
	}
	placed = rpc_frag_place(r->req_map, r->req_len, h.frag_off, h.frag_len, &r->req_contig);
	if (placed < 0) {
		srv->ctr.drop[WIRE_ERR_LENGTH]++;
		return 0;
	}
	if (placed == 0) {
		srv->ctr.dup_frags++;
		if (h.flags & FERRY_F_RETRY)
			rpc_srv_queue_ack(srv, r);
		return 0;
	}
	if (h.frag_len && r->rq) {
		rpc_zc_keep(srv, r, pkt, payload, h.frag_off, h.frag_len);
		kept = 1;
	} else if (h.frag_len) {
		memcpy(r->req_buf + h.frag_off, payload, h.frag_len);
		srv->ctr.payload_copied += h.frag_len;
	}
	if (r->req_contig < r->req_len) {
		rpc_srv_queue_ack(srv, r);
		return kept;
	}
	r->state = SREQ_EXEC;
	srv->handler(srv->handler_arg, srv, r);
	return kept;
}

void rpc_srv_flush(struct rpc_srv *srv)
{
	while (srv->acks) {
		struct rpc_sreq *r = srv->acks;
		srv->acks = r->anext;
		r->ack_pending = 0;
		if (r->state == SREQ_RECV)
			rpc_srv_send_ack(srv, r);
	}
	srv->t->ops->tx_flush(srv->t);
}

void rpc_srv_tick(struct rpc_srv *srv, uint64_t now)
{
	uint64_t recv_idle = (uint64_t)srv->cfg.recv_idle_ms * 1000000ull;
	uint64_t retain = (uint64_t)srv->cfg.retain_ms * 1000000ull;
	uint64_t stale = (uint64_t)RPC_STALE_MS * 1000000ull;
	struct rpc_sreq *r, *next;

	/* Executing requests are left alone (their answer will come). */
	for (r = srv->old[RPC_L_ACTIVE]; r && now - r->last_ns >= recv_idle; r = next) {
		next = r->lnext;
		if (r->state == SREQ_RECV) {
			srv->ctr.timeouts++;
			rpc_sreq_destroy(srv, r);
		}
	}
	for (r = srv->old[RPC_L_ANSWERING]; r && now - r->last_ns >= stale; r = next) {
		next = r->lnext;
		rpc_sreq_stale(srv, r);
	}
	for (r = srv->old[RPC_L_DONE]; r && now - r->last_ns >= retain; r = next) {
		next = r->lnext;
		rpc_sreq_destroy(srv, r);
	}
}

uint64_t rpc_srv_next_deadline(struct rpc_srv *srv)
{
	/* The oldest entry of each age list is the next one due - but the
	 * tick leaves executing requests alone (their answer will come), so
	 * the active list's first one still being received is. */
	uint64_t due = UINT64_MAX;
	const uint64_t ms = 1000000ull;
	struct rpc_sreq *r;

	for (r = srv->old[RPC_L_ACTIVE]; r && r->state != SREQ_RECV; r = r->lnext)
		;
	if (r)
		due = MIN(due, r->last_ns + srv->cfg.recv_idle_ms * ms);
	if ((r = srv->old[RPC_L_ANSWERING]))
		due = MIN(due, r->last_ns + RPC_STALE_MS * ms);
	if ((r = srv->old[RPC_L_DONE]))
		due = MIN(due, r->last_ns + srv->cfg.retain_ms * ms);
	return due;
}

const struct rpc_counters *rpc_srv_counters(struct rpc_srv *srv)
{
	srv->ctr.tracked = srv->nreqs;
	srv->ctr.table = (uint64_t)srv->bucket_mask + 1;
	return &srv->ctr;
}

uint32_t rpc_srv_active(struct rpc_srv *srv)
{
	return srv->nactive;
}

int rpc_srv_open(const struct rpc_cfg *cfg, struct transport *t, rpc_handler_fn fn, void *arg,
		 struct rpc_srv **out)
{
	struct rpc_srv *srv = calloc(1, sizeof(*srv));
	uint32_t max_udp;

	if (!srv)
		return -ENOMEM;
	srv->cfg = *cfg;
	srv->t = t;
	srv->handler = fn;
	srv->handler_arg = arg;
	srv->bucket_mask = 1023;
	srv->bucket_max = 1023;
	while (srv->bucket_max < 2 * cfg->max_reqs - 1 && srv->bucket_max < (1u << 24) - 1)
		srv->bucket_max = srv->bucket_max << 1 | 1;
	srv->buckets = calloc((size_t)srv->bucket_mask + 1, sizeof(*srv->buckets));
	if (!srv->buckets) {
		free(srv);
		return -ENOMEM;
	}
	max_udp = cfg->mtu > 28 ? cfg->mtu - 28 : 0;
	if (t->max_payload && t->max_payload < max_udp)
		max_udp = t->max_payload;
	srv->frag = wire_frag_payload(max_udp);
	if (t->ops->rx_hold_max && !cfg->no_zc && !cfg->no_zc_rx)
		srv->hold_max = t->ops->rx_hold_max(t);
	*out = srv;
	return 0;
}

void rpc_srv_close(struct rpc_srv *srv)
{
	if (!srv)
		return;
	for (int l = RPC_L_ACTIVE; l <= RPC_L_DONE; l++)
		while (srv->old[l])
			rpc_sreq_destroy(srv, srv->old[l]);
	while (srv->bufs.n)
		free(srv->bufs.bufs[--srv->bufs.n]);
	free(srv->buckets);
	free(srv);
}

/* ------------------------------------------------------------------ client */

enum rpc_call_state {
	CALL_IDLE = 0,
	CALL_SENDING,   /* request not fully acknowledged */
	CALL_WAITING,   /* request delivered, no answer yet */
	CALL_RECEIVING, /* answer arriving */
};

struct rpc_client {
	struct rpc_cfg cfg;
	struct transport *t;
	uint32_t frag;
	uint32_t session;
	uint64_t next_req_id;
	struct rpc_call *buckets[RPC_CLI_BUCKETS]; /* calls in progress by req_id */
	struct rpc_call *calls;      /* every call in progress (timers walk this) */
	uint32_t inflight;
	struct rpc_counters ctr;
};

static uint32_t rpc_cli_hash(uint64_t req_id)
{
	return (uint32_t)((req_id * 0x9e3779b97f4a7c15ull) >> 40) & (RPC_CLI_BUCKETS - 1);
}

int rpc_client_open(const struct rpc_cfg *cfg, struct transport *t, struct rpc_client **out)
{
	struct rpc_client *cl = calloc(1, sizeof(*cl));
	uint32_t max_udp;

	if (!cl)
		return -ENOMEM;
	cl->cfg = *cfg;
	cl->t = t;
	max_udp = cfg->mtu > 28 ? cfg->mtu - 28 : 0;
	if (t->max_payload && t->max_payload < max_udp)
		max_udp = t->max_payload;
	cl->frag = wire_frag_payload(max_udp);
	if (!cl->cfg.env)
		cl->cfg.env = env_real();
	/* A fresh session per client: a server keys what it remembers by
	 * (peer, session, request id), so a restarted process must not reuse
	 * its predecessor's ids. */
	cl->session = (uint32_t)env_rand(cl->cfg.env);
	cl->next_req_id = env_rand(cl->cfg.env) >> 1; /* room to count up */
	*out = cl;
	return 0;
}

static void rpc_call_unlink(struct rpc_client *cl, struct rpc_call *c)
{
	struct rpc_call **pp = &cl->buckets[rpc_cli_hash(c->req_id)];

	while (*pp && *pp != c)
		pp = &(*pp)->next;
	if (*pp)
		*pp = c->next;
	c->next = NULL;
	if (c->lprev)
		c->lprev->lnext = c->lnext;
	else
		cl->calls = c->lnext;
	if (c->lnext)
		c->lnext->lprev = c->lprev;
	c->lnext = c->lprev = NULL;
	cl->inflight--;
}

static struct rpc_call *rpc_call_find(struct rpc_client *cl, uint64_t req_id)
{
	struct rpc_call *c = cl->buckets[rpc_cli_hash(req_id)];

	while (c && c->req_id != req_id)
		c = c->next;
	return c;
}

static void rpc_call_finish(struct rpc_client *cl, struct rpc_call *c, int err)
{
	rpc_call_unlink(cl, c);
	free(c->resp_map);
	c->resp_map = NULL;
	c->err = err;
	c->state = CALL_IDLE;
	if (err)
		cl->ctr.timeouts += err == -ETIMEDOUT;
	else
		cl->ctr.requests++;
	if (c->done)
		c->done(c);
}

static void rpc_cli_tx(struct rpc_client *cl, const struct net_addr *to, struct ferry_hdr *h,
		       const void *payload, uint32_t len)
{
	struct iovec iov[2] = { { h, sizeof(*h) }, { (void *)payload, len } };

	h->frag_len = (uint16_t)len;
	wire_seal(h, payload, len);
	if (cl->t->ops->tx(cl->t, to, iov, len ? 2 : 1) == -ENOBUFS) {
		cl->t->ops->tx_flush(cl->t);
		cl->t->ops->tx(cl->t, to, iov, len ? 2 : 1);
	}
	cl->ctr.tx_datagrams++;
}

static void rpc_call_hdr(struct rpc_client *cl, const struct rpc_call *c, struct ferry_hdr *h,
			 uint8_t op)
{
	wire_hdr_init(h, op);
	h->session = cl->session;
	h->req_id = c->req_id;
	h->epoch = c->epoch;
	h->cluster = cl->cfg.cluster;
	memcpy(h->chunk, c->chunk, sizeof(h->chunk));
	h->offset = c->offset;
	h->length = c->length;
	h->window = (uint16_t)MIN(cl->cfg.window, 65535u);
}

/* Send request fragments from req_next within the server's window. */
static void rpc_call_send_req(struct rpc_client *cl, struct rpc_call *c, uint16_t flags)
{
	struct ferry_hdr h;
	uint32_t window_bytes = c->srv_window * cl->frag;

	rpc_call_hdr(cl, c, &h, c->op);
	h.msg_len = c->req_len;
	if (c->req_len == 0) {
		if (!c->req_sent0 || flags) {
			h.flags = (uint16_t)(FERRY_F_LAST | flags);
			rpc_cli_tx(cl, &c->peer, &h, NULL, 0);
			c->req_sent0 = 1;
		}
		return;
	}
	while (c->req_next < c->req_len && c->req_next - c->req_acked < window_bytes) {
		uint32_t len = MIN(cl->frag, c->req_len - c->req_next);

		h.frag_off = c->req_next;
		h.flags = flags;
		if (c->req_next + len == c->req_len)
			h.flags |= FERRY_F_LAST;
		rpc_cli_tx(cl, &c->peer, &h, c->req + c->req_next, len);
		c->req_next += len;
	}
}

static void rpc_call_send_ack(struct rpc_client *cl, struct rpc_call *c, uint16_t flags)
{
	struct ferry_hdr h;

	rpc_call_hdr(cl, c, &h, FERRY_OP_ACK);
	h.flags = flags;
	h.ack = c->resp_contig;
	rpc_cli_tx(cl, &c->peer, &h, NULL, 0);
	cl->ctr.acks_tx++;
}

/* Send the one request fragment at req_next (used for fast retransmit). */
static void rpc_call_send_one(struct rpc_client *cl, struct rpc_call *c)
{
	struct ferry_hdr h;
	uint32_t len = MIN(cl->frag, c->req_len - c->req_next);

	rpc_call_hdr(cl, c, &h, c->op);
	h.msg_len = c->req_len;
	h.frag_off = c->req_next;
	h.flags = FERRY_F_RETRY;
	if (c->req_next + len == c->req_len)
		h.flags |= FERRY_F_LAST;
	rpc_cli_tx(cl, &c->peer, &h, c->req + c->req_next, len);
}

int rpc_client_start(struct rpc_client *cl, struct rpc_call *c)
{
	uint64_t now = env_now(cl->cfg.env);
	uint32_t b;

	if (c->req_len > cl->cfg.max_msg)
		return -EMSGSIZE;
	c->req_id = ++cl->next_req_id;
	c->err = 0;
	c->status = 0;
	c->resp_len = 0;
	c->resp_epoch = 0;
	c->resent = 0;
	c->start_ns = c->progress_ns = now;
	c->deadline_ns = now + (uint64_t)cl->cfg.timeout_ms * 1000000ull;
	c->rto_ms = cl->cfg.rto_ms;
	c->req_acked = c->req_next = 0;
	c->srv_window = 32; /* until the server says otherwise */
	c->resp_contig = c->resp_msg_len = 0;
	c->resp_map = NULL;
	c->resp_map_bits = 0;
	c->ack_pending = 0;
	c->req_sent0 = 0;
	c->dupacks = 0;
	c->state = CALL_SENDING;
	b = rpc_cli_hash(c->req_id);
	c->next = cl->buckets[b];
	cl->buckets[b] = c;
	c->lprev = NULL;
	c->lnext = cl->calls;
	if (cl->calls)
		cl->calls->lprev = c;
	cl->calls = c;
	cl->inflight++;
	rpc_call_send_req(cl, c, 0);
	return 0;
}

/* A response datagram for call c. Returns 1 when the call completed. */
static int rpc_call_on_resp(struct rpc_client *cl, struct rpc_call *c, const struct ferry_hdr *h,
			    const uint8_t *payload)
{
	int placed;

	if (h->op == FERRY_OP_ACK) {
		if (c->state != CALL_SENDING)
			return 0;
		if (h->ack > c->req_acked && h->ack <= c->req_len) {
			c->req_acked = h->ack;
			c->progress_ns = env_now(cl->cfg.env);
			c->rto_ms = cl->cfg.rto_ms;
			c->dupacks = 0;
		} else if (h->ack == c->req_acked && c->req_next > c->req_acked &&
			   ++c->dupacks == 3) {
			/* Fast retransmit of the fragment the server is missing. */
			uint32_t next = c->req_next;

			c->req_next = c->req_acked;
			rpc_call_send_one(cl, c);
			c->req_next = next;
			cl->ctr.fast_retransmits++;
		}
		c->srv_window = h->window ? h->window : 1;
		rpc_call_send_req(cl, c, 0);
		return 0;
	}
	if (h->op != c->op)
		return 0;
	if (c->state == CALL_SENDING || c->state == CALL_WAITING) {
		/* The first answer datagram: the request got through whole. */
		if (h->msg_len > c->resp_cap) {
			rpc_call_finish(cl, c, -EMSGSIZE);
			return 1;
		}
		c->req_acked = c->req_len;
		c->resp_msg_len = h->msg_len;
		c->status = h->status;
		c->resp_epoch = h->epoch;
		c->resp_map_bits = rpc_units(h->msg_len);
		c->resp_map = calloc(1, c->resp_map_bits / 8 + 1);
		if (!c->resp_map) {
			rpc_call_finish(cl, c, -ENOMEM);
			return 1;
		}
		c->state = CALL_RECEIVING;
	} else if (h->msg_len != c->resp_msg_len) {
		cl->ctr.drop[WIRE_ERR_LENGTH]++;
		return 0;
	}
	placed = rpc_frag_place(c->resp_map, c->resp_msg_len, h->frag_off, h->frag_len,
				&c->resp_contig);
	if (placed < 0) {
		cl->ctr.drop[WIRE_ERR_LENGTH]++;
		return 0;
	}
	if (placed == 0) {
		cl->ctr.dup_frags++;
		return 0;
	}
	if (h->frag_len) {
		memcpy(c->resp + h->frag_off, payload, h->frag_len);
		cl->ctr.payload_copied += h->frag_len;
	}
	c->progress_ns = env_now(cl->cfg.env);
	c->rto_ms = cl->cfg.rto_ms;
	if (c->resp_contig >= c->resp_msg_len) {
		c->resp_len = c->resp_msg_len;
		rpc_call_send_ack(cl, c, FERRY_F_LAST);
		rpc_call_finish(cl, c, 0);
		return 1;
	}
	c->ack_pending = 1;
	return 0;
}

static void rpc_client_timers(struct rpc_client *cl, uint64_t now, int *completed)
{
	struct rpc_call *c = cl->calls, *next;

	for (; c; c = next) {
		next = c->lnext;
		if (now >= c->deadline_ns) {
			rpc_call_finish(cl, c, -ETIMEDOUT);
			(*completed)++;
		} else if (now - c->progress_ns >= (uint64_t)c->rto_ms * 1000000ull) {
			cl->ctr.retransmits++;
			c->resent++;
			c->progress_ns = now;
			c->rto_ms = MIN(c->rto_ms * 2, RPC_MAX_RTO_MS);
			if (c->state == CALL_SENDING && c->req_acked < c->req_len) {
				c->req_next = c->req_acked;
				rpc_call_send_req(cl, c, FERRY_F_RETRY);
			} else if (c->state == CALL_SENDING && c->req_len == 0) {
				rpc_call_send_req(cl, c, FERRY_F_RETRY);
			} else {
				/* Request delivered; ask for the answer again
				 * from what we have. */
				if (c->state == CALL_SENDING)
					c->state = CALL_WAITING;
				rpc_call_send_ack(cl, c, FERRY_F_RETRY);
			}
		}
	}
}

uint64_t rpc_client_next_deadline(struct rpc_client *cl)
{
	uint64_t soonest = UINT64_MAX;

	for (struct rpc_call *c = cl->calls; c; c = c->lnext) {
		uint64_t t = c->progress_ns + (uint64_t)c->rto_ms * 1000000ull;

		if (c->deadline_ns < t)
			t = c->deadline_ns;
		if (c->ack_pending)
			t = 0; /* an ACK waits for the next tick */
		if (t < soonest)
			soonest = t;
	}
	return soonest;
}

static int rpc_client_next_timeout(struct rpc_client *cl, uint64_t now, int timeout_ms)
{
	uint64_t soonest = rpc_client_next_deadline(cl);

	if (soonest != UINT64_MAX) {
		int ms = soonest <= now ? 0 : (int)DIV_ROUND_UP(soonest - now, 1000000ull);
		if (timeout_ms < 0 || ms < timeout_ms)
			timeout_ms = ms;
	}
	return timeout_ms;
}

int rpc_client_input(struct rpc_client *cl, const struct net_pkt *pkt)
{
	struct ferry_hdr h;
	const uint8_t *payload;
	enum wire_err werr;
	struct rpc_call *c;

	cl->ctr.rx_datagrams++;
	werr = wire_check(pkt->data, pkt->len, cl->cfg.cluster, &h, &payload);
	if (werr != WIRE_OK) {
		cl->ctr.drop[werr]++;
		return 0;
	}
	c = (h.flags & FERRY_F_RESP) && h.session == cl->session ? rpc_call_find(cl, h.req_id)
								 : NULL;
	if (!c || !net_addr_equal(&c->peer, &pkt->peer)) {
		cl->ctr.drop_unexpected++;
		return 0;
	}
	return rpc_call_on_resp(cl, c, &h, payload);
}

int rpc_client_tick(struct rpc_client *cl, uint64_t now)
{
	int completed = 0;

	/* One ACK per call per batch. */
	for (struct rpc_call *c = cl->calls; c; c = c->lnext)
		if (c->ack_pending) {
			c->ack_pending = 0;
			rpc_call_send_ack(cl, c, 0);
		}
	rpc_client_timers(cl, now, &completed);
	cl->t->ops->tx_flush(cl->t);
	return completed;
}

int rpc_client_next_ms(struct rpc_client *cl, int timeout_ms)
{
	return rpc_client_next_timeout(cl, env_now(cl->cfg.env), timeout_ms);
}

int rpc_client_poll(struct rpc_client *cl, int timeout_ms)
{
	struct net_pkt pkts[RPC_RX_BATCH];
	struct transport *t = cl->t;
	int completed = 0;
	int n;
	uint64_t now = env_now(cl->cfg.env);

	t->ops->tx_flush(t);
	n = t->ops->rx_burst(t, pkts, RPC_RX_BATCH);
	if (n == 0) {
		struct pollfd pfd = { .fd = t->ops->poll_fd(t), .events = POLLIN };
		int wait = rpc_client_next_timeout(cl, now, timeout_ms);
		if (pfd.fd >= 0 && wait != 0) {
			if (poll(&pfd, 1, wait) < 0 && errno != EINTR)
				return -errno;
		}
		n = t->ops->rx_burst(t, pkts, RPC_RX_BATCH);
	}
	if (n < 0)
		return n;
	for (int i = 0; i < n; i++)
		completed += rpc_client_input(cl, &pkts[i]);
	if (n > 0)
		t->ops->rx_release(t, pkts, n);
	completed += rpc_client_tick(cl, env_now(cl->cfg.env));
	return completed;
}

int rpc_client_call(struct rpc_client *cl, struct rpc_call *c)
{
	int err = rpc_client_start(cl, c);

	if (err)
		return err;
	while (c->state != CALL_IDLE) {
		err = rpc_client_poll(cl, 100);
		if (err < 0) {
			rpc_call_finish(cl, c, err);
			break;
		}
	}
	return c->err;
}

void rpc_client_cancel_all(struct rpc_client *cl)
{
	while (cl->calls)
		rpc_call_finish(cl, cl->calls, -ECANCELED);
}

uint32_t rpc_client_inflight(struct rpc_client *cl)
{
	return cl->inflight;
}

const struct rpc_counters *rpc_client_counters(struct rpc_client *cl)
{
	return &cl->ctr;
}

struct transport *rpc_client_transport(struct rpc_client *cl)
{
	return cl->t;
}

void rpc_client_close(struct rpc_client *cl)
{
	if (!cl)
		return;
	rpc_client_cancel_all(cl);
	free(cl);
}
