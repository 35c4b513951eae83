/* SPDX-License-Identifier: Apache-2.0 */
/*
 * chain.c - chain replication and recovery copies (see member.h).
 *
 * Versions are (epoch << 32 | counter): the head of a chunk's write chain
 * assigns one above its local version of the chunk and at least the first
 * of its epoch. Only one node heads a chunk in an epoch (leases, ctl.h),
 * and a later epoch's versions are above every earlier one's, so a new head
 * never reuses or goes below a version an old head gave - whatever the
 * clocks say, and whatever a node that was away holds when it comes back.
 *
 * A write: the head stores its version, forwards it to its successor, each
 * member stores and forwards, and each answers its predecessor once its
 * successor answered: the client's acknowledgement means every member of
 * the write chain has the version durably. When the head stored but cannot
 * get the write down the chain, it answers INDOUBT with the version: the
 * write may still take effect (recovery spreads it unless something newer
 * supersedes it). The client may retry with that version (hdr.offset); the
 * head, if it holds every acknowledged write (a reader), then finishes the
 * same version, or says it was superseded - a write is never applied twice.
 *
 * A member that stored a version its successor has yet to take marks it
 * (commit.c): if the chain shrinks and this node becomes the tail, no read
 * sees that version until it is on min_copies disks.
 *
 * The head runs one write of a chunk at a time (3FS locks the chunk at the
 * head too): the next waits until the previous is answered. So versions of
 * a chunk go down the chain one after another - a forward never overtakes
 * an older one, a WRITE merges into the version before it - and the order
 * of a chunk's versions is the order its writes took effect.
 *
 * Every request here is asynchronous: a small state machine of store ops
 * (through the node's queue) and one forward.
 */
#include "cluster/member_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"

#define CHAIN_TRIES 4 /* version races a head retries before giving up */

static uint32_t chain_cap(uint64_t len)
{
	return (uint32_t)((len + 4095) / 4096 * 4096);
}

uint64_t chain_next_version(uint64_t epoch, uint64_t lv)
{
	uint64_t v = MAX(lv + 1, epoch << 32 | 1);

	return v >> 32 == epoch ? v : 0;
}

static int chain_is_head(const struct chain_req *cr)
{
	return cr->kind == CH_PUT || cr->kind == CH_WRITE || cr->kind == CH_DELETE;
}

static int chain_is_delete(const struct chain_req *cr)
{
	if (cr->redrive)
		return cr->redrive == 2;
	return cr->kind == CH_DELETE || cr->kind == CH_REPL_DELETE || cr->kind == CH_COPY_DELETE;
}

static uint32_t chain_bucket(const uint8_t id[16])
{
	uint64_t h;

	memcpy(&h, id + 8, sizeof(h));
	h ^= (uint64_t)id[0] << 56 | (uint64_t)id[1] << 48 | (uint64_t)id[2] << 40 | id[3];
	return (uint32_t)((h * 0x9e3779b97f4a7c15ull) >> 56) % CHAIN_BUCKETS;
}

/* The head write of chunk id in progress, or NULL. */
static struct chain_req *chain_active(struct member *m, const uint8_t id[16])
{
	struct chain_req *a = m->active[chain_bucket(id)];

	while (a && memcmp(a->id, id, 16))
		a = a->hnext;
	return a;
}

static void chain_activate(struct member *m, struct chain_req *cr)
{
	uint32_t b = chain_bucket(cr->id);

	cr->active = 1;
	cr->hnext = m->active[b];
	m->active[b] = cr;
}

static void chain_stat(struct chain_req *cr);

/* An active head write is over: the next one of its chunk starts. */
static void chain_deactivate(struct chain_req *cr)
{
	struct member *m = cr->m;
	struct chain_req **pp = &m->active[chain_bucket(cr->id)], *next = cr->wait_head;

	while (*pp != cr)
		pp = &(*pp)->hnext;
	*pp = cr->hnext;
	cr->active = 0;
	if (!next)
		return;
	next->wait_head = next->wnext;
	next->wait_tail = next->wait_head ? cr->wait_tail : NULL;
	chain_activate(m, next);
	chain_stat(next);
}

static void chain_free(struct chain_req *cr)
{
	struct member *m = cr->m;
	uint64_t took = m->now - cr->start_ns;

	if (took > m->c_req_max_ns && cr->start_ns <= m->now)
		m->c_req_max_ns = took; /* the slowest request (counters: where time goes) */

	/* Stored here, not seen committed: find out (and spread it) soon. */
	if (cr->marked && !cr->committed)
		commit_check_later(m, cr->id, 0);
	if (cr->active)
		chain_deactivate(cr);
	if (cr->prev)
		cr->prev->next = cr->next;
	else
		m->reqs = cr->next;
	if (cr->next)
		cr->next->prev = cr->prev;
	free(cr->owned);
	free(cr);
}

/* Answer and forget. */
static void chain_reply(struct chain_req *cr, int status)
{
	rpc_sreq_reply(cr->srv, cr->r, status, 0);
	chain_free(cr);
}

static void chain_reply_version(struct chain_req *cr, int status, uint64_t version)
{
	member_reply_version(cr->srv, cr->r, status, version);
	chain_free(cr);
}

/* The write chain took cr's version: the request is done. A WRITE that
 * found the chunk deleted answers NOENT only now, with the tombstone known
 * to be down the chain: never from a head's state that might not last. */
/* One of our store ops failed (a definite failure: nothing was stored).
 * One that failed its checksums found our copy bad: repair it from a
 * replica (repair.c) - a peer's STAT or copy may be the only reader that
 * ever looks at it, and while it stays bad that peer's walks never end
 * clean. */
static void chain_store_failed(struct chain_req *cr, int res)
{
	if (res == -EBADMSG)
		repair_enqueue(cr->m, cr->id);
	chain_reply(cr, res);
}

static void chain_committed(struct chain_req *cr)
{
	cr->committed = 1;
	commit_done(cr->m, cr->id, cr->version);
	if (cr->kind == CH_WRITE && cr->redrive)
		chain_reply(cr, FERRY_ST_NOENT);
	else
		chain_reply_version(cr, 0, cr->version);
}

static void chain_store(struct chain_req *cr);
static void chain_forward(struct chain_req *cr);

/* The head stored, but the chain did not take it: the write is in doubt.
 * The answer names our write's version - for a retry, still the one the
 * client named, whatever version was being sent down the chain for it. */
static void chain_indoubt(struct chain_req *cr)
{
	char hex[33];

	log_debug("chain: %s %s in doubt at version %llx (hint %llx)",
		  cr->kind == CH_DELETE ? "DELETE" : cr->kind == CH_WRITE ? "WRITE" : "PUT",
		  util_hex(cr->id, 16, hex), (unsigned long long)cr->version,
		  (unsigned long long)cr->hint);
	if (cr->kind == CH_WRITE && cr->redrive) {
		chain_reply(cr, FERRY_ST_NOTREADY); /* nothing of the WRITE's was stored */
		return;
	}
	cr->m->c_indoubt++;
	chain_reply_version(cr, FERRY_ST_INDOUBT, cr->hint ? cr->hint : cr->version);
}

/* A version race at the head (another write of the chunk got in between):
 * start over from the local version, a few times. */
static void chain_race(struct chain_req *cr)
{
	if (++cr->tries >= CHAIN_TRIES) {
		chain_reply(cr, FERRY_ST_NOTREADY); /* nothing of ours was stored */
		return;
	}
	cr->hint = 0;
	chain_stat(cr);
}

/* ------------------------------------------------------------ forward */

static void chain_fwd_done(struct rpc_call *c)
{
	struct chain_req *cr = c->arg;
	struct member *m = cr->m;
	int32_t st = c->err ? -ETIMEDOUT : c->status;

	if (c->err)
		m->c_fwd_fail++;
	if (st == 0) {
		chain_committed(cr);
		return;
	}
	if (st == FERRY_ST_VERSION && c->resp_len == 8) {
		uint64_t theirs;

		memcpy(&theirs, cr->fwd_resp, 8);
		m->c_conflicts++;
		if (!chain_is_head(cr)) {
			chain_reply_version(cr, FERRY_ST_VERSION, theirs);
			return;
		}
		/* A member holds a newer version than the one we assigned (a
		 * forward of another write overtook ours): write ours again,
		 * above it - ours is then the later of the two concurrent
		 * writes. A WRITE merges again, into what is there now. */
		if (++cr->tries < CHAIN_TRIES && theirs < UINT64_MAX && !cr->redrive &&
		    chain_next_version(cr->epoch, theirs)) {
			cr->floor = MAX(cr->floor, theirs);
			if (cr->kind == CH_WRITE) {
				chain_stat(cr);
				return;
			}
			cr->version = chain_next_version(cr->epoch, theirs);
			chain_store(cr);
			return;
		}
	}
	if (chain_is_head(cr))
		chain_indoubt(cr);
	else
		chain_reply(cr, st);
}

/* Our version of cr's chunk is stored (or about to be) and not known to be
 * on min_copies disks: no read may see it until it is (commit.c). */
static void chain_mark(struct chain_req *cr)
{
	cr->marked = 1;
	commit_mark(cr->m, cr->id, cr->version); /* the highest version marked counts */
}

static void chain_forward(struct chain_req *cr)
{
	struct member *m = cr->m;
	uint16_t chain[MAP_MAX_CHAIN];
	int pos, nr, n, err;

	if (m->map.epoch != cr->epoch) {
		/* The map moved on while we stored: this epoch's chain is over. */
		chain_mark(cr);
		if (chain_is_head(cr))
			chain_indoubt(cr);
		else
			chain_reply(cr, FERRY_ST_STALE);
		return;
	}
	n = member_write_chain(m, cr->id, chain, &pos, &nr);
	if (pos < 0) {
		chain_mark(cr);
		if (chain_is_head(cr))
			chain_indoubt(cr);
		else
			chain_reply(cr, FERRY_ST_NOTHEAD);
		return;
	}
	if (pos + 1 >= n) { /* the tail: committed */
		chain_committed(cr);
		return;
	}
	chain_mark(cr);
	memset(&cr->fwd, 0, sizeof(cr->fwd));
	cr->fwd.peer = m->map.nodes[chain[pos + 1]].addr;
	cr->fwd.op = chain_is_delete(cr) ? FERRY_OP_REPL_DELETE : FERRY_OP_REPL_PUT;
	memcpy(cr->fwd.chunk, cr->id, 16);
	cr->fwd.offset = cr->version;
	cr->fwd.epoch = cr->epoch;
	if (!chain_is_delete(cr)) {
		cr->fwd.req = cr->data;
		cr->fwd.req_len = cr->data_len;
		cr->fwd.length = cr->data_len;
	}
	cr->fwd.resp = cr->fwd_resp;
	cr->fwd.resp_cap = sizeof(cr->fwd_resp);
	cr->fwd.done = chain_fwd_done;
	cr->fwd.arg = cr;
	cr->phase = CP_FORWARD;
	m->c_fwd++;
	err = rpc_client_start(m->cfg.rpc, &cr->fwd);
	if (err) {
		if (chain_is_head(cr))
			chain_indoubt(cr);
		else
			chain_reply(cr, err);
	}
}

/* ------------------------------------------------------------ store */

static void chain_restat_done(struct storeq_op *op)
{
	struct chain_req *cr = (struct chain_req *)op;
	const struct store_stat *st = &op->sop.stat;
	int res = op->sop.res;
	uint64_t lv = res == 0 || res == -ENOENT ? st->version : 0;
	int tomb = res == -ENOENT && (st->flags & STORE_STAT_TOMBSTONE);

	if (res && res != -ENOENT) {
		chain_store_failed(cr, res);
		return;
	}
	switch (cr->kind) {
	case CH_REPL_PUT:
	case CH_REPL_DELETE:
		if (lv == cr->version && tomb == chain_is_delete(cr)) {
			chain_forward(cr); /* a retry: we have it; see it down the chain */
			return;
		}
		chain_reply_version(cr, FERRY_ST_VERSION, lv);
		return;
	case CH_COPY_PUT:
	case CH_COPY_DELETE:
		/* We hold this version or a newer one: the copy is not needed. */
		chain_reply_version(cr, 0, lv);
		return;
	default:
		chain_race(cr);
		return;
	}
}

static void chain_store_done(struct storeq_op *op)
{
	struct chain_req *cr = (struct chain_req *)op;
	int res = op->sop.res;
	char hex[33];

	log_debug("chain: kind %u %s stored version %llx%s: %d", cr->kind, util_hex(cr->id, 16, hex),
		  (unsigned long long)cr->version, chain_is_delete(cr) ? " (tombstone)" : "", res);
	if (res == -ESTALE) {
		/* The store holds this version or a newer one. */
		cr->phase = CP_RESTAT;
		memset(&op->sop, 0, offsetof(struct store_op, priv));
		op->sop.type = STORE_OP_STAT;
		memcpy(op->sop.id, cr->id, 16);
		op->done = chain_restat_done;
		storeq_submit(cr->m->cfg.q, op);
		return;
	}
	if (res) {
		/* Nothing stored (ENOSPC, EIO, ...): a definite failure. */
		if (res == -EBADMSG)
			repair_enqueue(cr->m, cr->id); /* a WRITE read a bad block */
		if (chain_is_head(cr) && cr->tries)
			chain_indoubt(cr); /* an earlier version of ours may be out there */
		else
			chain_reply(cr, res);
		return;
	}
	if (cr->kind == CH_COPY_PUT || cr->kind == CH_COPY_DELETE) {
		chain_reply_version(cr, 0, cr->version);
		return;
	}
	chain_forward(cr);
}

static void chain_store(struct chain_req *cr)
{
	struct store_op *sop = &cr->op.sop;
	struct member *m = cr->m;

	if (commit_reserve(m)) {
		/* Nothing stored: a definite failure (but see chain_store_done). */
		if (chain_is_head(cr) && cr->tries)
			chain_indoubt(cr);
		else
			chain_reply(cr, -ENOMEM);
		return;
	}
	if (cr->kind == CH_COPY_PUT || cr->kind == CH_COPY_DELETE) {
		/* A recovery copy: with ours and the sender's, two disks hold
		 * it; with min_copies above that, it is unsure until checked. */
		if (m->map.min_copies > 2)
			chain_mark(cr);
	} else {
		uint16_t chain[MAP_MAX_CHAIN];
		int pos, nr, n = member_write_chain(m, cr->id, chain, &pos, &nr);

		if (pos < 0 || pos + 1 < n)
			chain_mark(cr); /* a successor must take it before it counts */
	}
	cr->phase = CP_STORE;
	memset(sop, 0, offsetof(struct store_op, priv));
	memcpy(sop->id, cr->id, 16);
	sop->version = cr->version;
	if (chain_is_delete(cr)) {
		sop->type = STORE_OP_DELETE; /* with a version: a tombstone */
	} else {
		sop->type = STORE_OP_PUT;
		sop->buf = cr->data;
		sop->len = cr->data_len;
		sop->buf_cap = cr->data == cr->owned ? cr->owned_cap : chain_cap(cr->data_len);
	}
	cr->op.done = chain_store_done;
	storeq_submit(cr->m->cfg.q, &cr->op);
}

/* ------------------------------------------------------------ read */

static void chain_copy_get_check(struct storeq_op *op)
{
	struct chain_req *cr = (struct chain_req *)op;
	uint64_t size = cr->w_off;
	uint8_t *out;

	if (op->sop.res || op->sop.stat.version != cr->version || op->sop.stat.size != size) {
		chain_reply(cr, FERRY_ST_NOTREADY); /* it changed: ask again */
		return;
	}
	out = rpc_sreq_reply_buf(cr->srv, cr->r, (uint32_t)size + 8);
	if (!out) {
		chain_reply(cr, -ENOMEM);
		return;
	}
	memcpy(out, &cr->version, 8);
	memcpy(out + 8, cr->owned, size);
	rpc_sreq_reply(cr->srv, cr->r, 0, (uint32_t)size + 8);
	chain_free(cr);
}

static void chain_read_done(struct storeq_op *op)
{
	struct chain_req *cr = (struct chain_req *)op;
	struct store_op *sop = &op->sop;
	uint64_t size = sop->len;

	if (sop->res || sop->got != size) {
		chain_store_failed(cr, sop->res ? sop->res : -EIO);
		return;
	}
	if (cr->redrive) {
		/* The head's version, read back, goes down the chain again. */
		cr->data = cr->owned;
		cr->data_len = (uint32_t)size;
		chain_forward(cr);
		return;
	}
	if (cr->kind == CH_COPY_GET) {
		/* Still that version? (A write may have replaced it since the
		 * STAT; a read that started before returns the old bytes whole.) */
		cr->w_off = size;
		memset(sop, 0, offsetof(struct store_op, priv));
		sop->type = STORE_OP_STAT;
		memcpy(sop->id, cr->id, 16);
		cr->op.done = chain_copy_get_check;
		storeq_submit(cr->m->cfg.q, &cr->op);
		return;
	}
	/* WRITE: lay the new bytes over the chunk and store it whole. The
	 * read may have filled the rest of its last block with the padding on
	 * disk: a gap past the old end must read as zeros. */
	memset(cr->owned + size, 0, cr->owned_cap - size);
	memcpy(cr->owned + cr->w_off, cr->payload, cr->len);
	cr->data = cr->owned;
	cr->data_len = (uint32_t)MAX(size, cr->w_off + cr->len);
	chain_store(cr);
}

/* A buffer of cap bytes (rounded up) for the chunk read or merged here; 0,
 * or -ENOMEM after answering the request. */
static int chain_own(struct chain_req *cr, uint64_t cap)
{
	free(cr->owned);
	cr->owned_cap = chain_cap(MAX(cap, 1));
	cr->owned = aligned_alloc(4096, cr->owned_cap);
	if (!cr->owned) {
		chain_reply(cr, -ENOMEM);
		return -ENOMEM;
	}
	return 0;
}

static void chain_read(struct chain_req *cr, uint64_t size)
{
	struct store_op *sop = &cr->op.sop;

	cr->phase = CP_READ;
	memset(sop, 0, offsetof(struct store_op, priv));
	sop->type = STORE_OP_GET;
	memcpy(sop->id, cr->id, 16);
	sop->len = (uint32_t)size;
	sop->buf = cr->owned;
	sop->buf_cap = cr->owned_cap;
	cr->op.done = chain_read_done;
	storeq_submit(cr->m->cfg.q, &cr->op);
}

/* ------------------------------------------------------------ stat */

static void chain_stat_done(struct storeq_op *op)
{
	struct chain_req *cr = (struct chain_req *)op;
	struct member *m = cr->m;
	const struct store_stat *st = &op->sop.stat;
	int res = op->sop.res;
	int tomb = res == -ENOENT && (st->flags & STORE_STAT_TOMBSTONE);
	uint64_t lv = res == 0 || tomb ? st->version : 0;

	if (res && res != -ENOENT) {
		chain_store_failed(cr, res);
		return;
	}
	switch (cr->kind) {
	case CH_COPY_STAT: {
		struct ferry_chunk_stat *out;

		if (!lv) {
			chain_reply(cr, FERRY_ST_NOENT);
			return;
		}
		out = rpc_sreq_reply_buf(cr->srv, cr->r, sizeof(*out));
		if (!out) {
			chain_reply(cr, -ENOMEM);
			return;
		}
		memset(out, 0, sizeof(*out));
		out->version = lv;
		out->size = tomb ? 0 : st->size;
		out->crc = tomb ? 0 : st->crc;
		out->flags = tomb ? FERRY_STAT_TOMBSTONE : 0;
		rpc_sreq_reply(cr->srv, cr->r, 0, sizeof(*out));
		chain_free(cr);
		return;
	}
	case CH_COPY_GET:
		if (res) {
			chain_reply(cr, FERRY_ST_NOENT);
			return;
		}
		cr->version = lv;
		if (chain_own(cr, st->size) == 0)
			chain_read(cr, st->size);
		return;
	case CH_WRITE: {
		uint64_t size;

		if (res && tomb) {
			/* Deleted: nothing to write into - once that delete is
			 * surely down the chain (it may be one still in doubt). */
			cr->version = lv;
			cr->redrive = 2;
			chain_forward(cr);
			return;
		}
		if (res) {
			chain_reply(cr, FERRY_ST_NOENT); /* never written (or long gone) */
			return;
		}
		cr->version = chain_next_version(cr->epoch, MAX(lv, cr->floor));
		if (!cr->version) {
			chain_reply(cr, -EOVERFLOW);
			return;
		}
		size = MAX(st->size, cr->w_off + cr->len);
		if (chain_own(cr, size))
			return;
		memset(cr->owned, 0, cr->owned_cap); /* a gap past the old end reads as zeros */
		if (st->size) {
			chain_read(cr, st->size);
			return;
		}
		memcpy(cr->owned + cr->w_off, cr->payload, cr->len);
		cr->data = cr->owned;
		cr->data_len = (uint32_t)size;
		chain_store(cr);
		return;
	}
	default: /* CH_PUT, CH_DELETE */
		if (cr->hint && lv >= cr->hint) {
			/* An in-doubt write retried. Its version is here (ours), or a
			 * later write's is; either way the write counts once it is
			 * down the chain, and the answer waits for that: the head's
			 * current version goes down the chain again. */
			cr->version = lv;
			log_debug("chain: retry of in-doubt %llx finds %llx%s", (unsigned long long)cr->hint,
				  (unsigned long long)lv, tomb ? " (tombstone)" : "");
			if (lv == cr->hint && tomb == (cr->kind == CH_DELETE)) {
				m->c_redrive++;
				chain_forward(cr); /* ours: the client sent the same bytes */
				return;
			}
			if (cr->hint >> 32 != cr->epoch) {
				/* Ours came from an earlier epoch's head; the later
				 * version here need not be built on it (this head may
				 * never have seen it). Whether it ever took effect
				 * cannot be told here: its fate stays unknown. */
				m->c_indoubt++;
				chain_reply_version(cr, FERRY_ST_INDOUBT, 0);
				return;
			}
			/* This head gave ours and every later version of the epoch,
			 * one write at a time: ours took effect before them. */
			m->c_absorbed++;
			cr->redrive = tomb ? 2 : 1;
			if (tomb) {
				chain_forward(cr);
				return;
			}
			if (chain_own(cr, st->size) == 0)
				chain_read(cr, st->size);
			return;
		}
		if (cr->hint && !lv && cr->hint >> 32 <= m->gc_epoch) {
			/* Nothing here: our write never came, or it did and a later
			 * delete's tombstone has been collected since. Applying it
			 * now could bring back a deleted chunk: its fate stays
			 * unknown (INDOUBT with no version: no more retries). */
			m->c_indoubt++;
			chain_reply_version(cr, FERRY_ST_INDOUBT, 0);
			return;
		}
		cr->version = chain_next_version(cr->epoch, MAX(lv, cr->floor));
		if (!cr->version) {
			chain_reply(cr, -EOVERFLOW);
			return;
		}
		chain_store(cr);
		return;
	}
}

static void chain_stat(struct chain_req *cr)
{
	struct store_op *sop = &cr->op.sop;

	cr->phase = CP_STAT;
	memset(sop, 0, offsetof(struct store_op, priv));
	sop->type = STORE_OP_STAT;
	memcpy(sop->id, cr->id, 16);
	cr->op.done = chain_stat_done;
	storeq_submit(cr->m->cfg.q, &cr->op);
}

/* ------------------------------------------------------------ start */

void chain_start(struct member *m, struct rpc_srv *srv, struct rpc_sreq *r, uint8_t kind)
{
	const struct ferry_hdr *h = rpc_sreq_hdr(r);
	struct chain_req *cr = calloc(1, sizeof(*cr));
	int need_payload = kind == CH_PUT || kind == CH_WRITE || kind == CH_REPL_PUT ||
			   kind == CH_COPY_PUT;

	if (!cr) {
		rpc_sreq_reply(srv, r, -ENOMEM, 0);
		return;
	}
	cr->m = m;
	cr->srv = srv;
	cr->r = r;
	cr->kind = kind;
	cr->epoch = h->epoch;
	cr->start_ns = m->now;
	memcpy(cr->id, h->chunk, 16);
	cr->next = m->reqs;
	if (m->reqs)
		m->reqs->prev = cr;
	m->reqs = cr;
	if (need_payload) {
		/* The chain path takes the payload contiguous (a copy where it
		 * was held in receive frames): it is stored and forwarded. */
		cr->payload = rpc_sreq_payload(srv, r, &cr->len);
		if (!cr->payload && cr->len) {
			chain_reply(cr, -ENOMEM);
			return;
		}
		if (cr->len != h->length) {
			chain_reply(cr, -EINVAL);
			return;
		}
		cr->data = cr->payload;
		cr->data_len = cr->len;
	}
	switch (kind) {
	case CH_PUT:
	case CH_DELETE:
	case CH_WRITE: {
		struct chain_req *a;

		if (kind == CH_WRITE) {
			cr->w_off = h->offset;
			if (h->offset > m->max_chunk || cr->len > m->max_chunk - h->offset) {
				chain_reply(cr, -EFBIG);
				return;
			}
		} else {
			cr->hint = h->offset;
			if (cr->len > m->max_chunk) {
				chain_reply(cr, -EFBIG);
				return;
			}
		}
		a = chain_active(m, cr->id);
		if (a) { /* one write of a chunk at a time: wait for it */
			if (a->wait_tail)
				a->wait_tail->wnext = cr;
			else
				a->wait_head = cr;
			a->wait_tail = cr;
			return;
		}
		chain_activate(m, cr);
		chain_stat(cr);
		return;
	}
	case CH_COPY_STAT:
	case CH_COPY_GET:
		chain_stat(cr);
		return;
	default: /* forwards and copies carry the version */
		cr->version = h->offset;
		if (!cr->version || (!chain_is_delete(cr) && cr->len > m->max_chunk)) {
			chain_reply(cr, -EINVAL);
			return;
		}
		if (cr->version >> 32 > m->map.epoch) {
			/* Versions are minted by heads of an epoch we have: one
			 * from beyond it is a bug or a forgery. */
			m->c_future++;
			chain_reply(cr, FERRY_ST_FUTURE);
			return;
		}
		chain_store(cr);
		return;
	}
}

void chain_close_all(struct member *m)
{
	/* The node drained the store queue and the forwarding client's calls
	 * were cancelled (answering their requests); what is left never
	 * started an op: writes queued behind another of their chunk. Those
	 * go first, so that ending an active one starts none of them. */
	for (;;) {
		struct chain_req *cr = m->reqs, *w;

		while (cr && !(cr->active && cr->wait_head))
			cr = cr->next;
		if (!cr)
			break;
		w = cr->wait_head;
		cr->wait_head = cr->wait_tail = NULL;
		while (w) {
			struct chain_req *next = w->wnext;

			chain_reply(w, -ECANCELED);
			w = next;
		}
	}
	while (m->reqs)
		chain_reply(m->reqs, -ECANCELED);
}
