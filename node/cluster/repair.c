/* SPDX-License-Identifier: Apache-2.0 */
/*
 * repair.c - repair of corrupt copies from healthy replicas.
 *
 * A chunk found corrupt - by the node's scrub (node.c, at --scrub-rate), by
 * a read that failed its checksums (a client's, or a peer's STAT or copy
 * through chain.c), or by recovery seeing another
 * member's copy of the same version with other bytes - is queued here. One
 * at a time, the node fetches the whole chunk from the members of its write
 * chain in turn (COPY_GET: the member's store verified every block it
 * read, and every datagram carries its own checksum) and installs it at
 * the same version over its own copy (STORE_OPF_SAMEVER). A member that
 * holds a newer version needs no repair from us: recovery brings it.
 */
#include "cluster/member_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"

void repair_init(struct member *m)
{
	struct repair *rp = &m->rep;

	memset(rp, 0, sizeof(*rp));
	rp->m = m;
	rp->cap = m->max_chunk + 8;
}

void repair_fini(struct member *m)
{
	free(m->rep.buf);
	m->rep.buf = NULL;
}

void repair_enqueue(struct member *m, const uint8_t id[16])
{
	struct repair *rp = &m->rep;

	for (uint32_t i = 0; i < rp->count; i++)
		if (!memcmp(rp->ids[(rp->head + i) % REPAIR_QUEUE], id, 16))
			return;
	if (rp->busy && !memcmp(rp->id, id, 16))
		return;
	rp->bad++;
	if (rp->count == REPAIR_QUEUE) {
		rp->failed++; /* the scrub finds it again on its next pass */
		return;
	}
	memcpy(rp->ids[(rp->head + rp->count) % REPAIR_QUEUE], id, 16);
	rp->count++;
}

static void repair_end(struct repair *rp, int ok)
{
	char hex[33];

	if (ok) {
		rp->repaired++;
		log_info("node: chunk %s repaired from a replica (version %llu)",
			 util_hex(rp->id, 16, hex), (unsigned long long)rp->version);
	} else {
		rp->failed++;
		log_warn("node: chunk %s is corrupt and no replica could repair it",
			 util_hex(rp->id, 16, hex));
	}
	rp->busy = 0;
}

static void repair_try_next(struct repair *rp);

static void repair_installed(struct storeq_op *op)
{
	struct repair *rp = (struct repair *)op;

	if (op->sop.res == -ESTALE) {
		/* A newer version arrived meanwhile: nothing left to repair. */
		rp->busy = 0;
		return;
	}
	repair_end(rp, op->sop.res == 0);
}

static void repair_fetched(struct rpc_call *c)
{
	struct repair *rp = c->arg;
	struct store_op *sop = &rp->op.sop;
	uint64_t v;

	if (c->err || c->status || c->resp_len < 8) {
		repair_try_next(rp);
		return;
	}
	memcpy(&v, rp->buf, 8);
	if (v > rp->version) {
		rp->busy = 0; /* ours is merely old: recovery brings the newer one */
		return;
	}
	if (v < rp->version) {
		repair_try_next(rp);
		return;
	}
	memset(sop, 0, offsetof(struct store_op, priv));
	sop->type = STORE_OP_PUT;
	sop->flags = STORE_OPF_SAMEVER;
	memcpy(sop->id, rp->id, 16);
	sop->version = rp->version;
	sop->buf = rp->buf + 8;
	sop->len = c->resp_len - 8;
	sop->buf_cap = sop->len;
	rp->op.done = repair_installed;
	storeq_submit(rp->m->cfg.q, &rp->op);
}

static void repair_try_next(struct repair *rp)
{
	struct member *m = rp->m;
	struct rpc_call *c = &rp->call;

	while (++rp->peer < rp->nchain) {
		if (rp->chain[rp->peer] == (uint16_t)m->self)
			continue;
		memset(c, 0, sizeof(*c));
		c->peer = m->map.nodes[rp->chain[rp->peer]].addr;
		c->op = FERRY_OP_COPY_GET;
		memcpy(c->chunk, rp->id, 16);
		c->epoch = m->map.epoch;
		c->resp = rp->buf;
		c->resp_cap = rp->cap;
		c->done = repair_fetched;
		c->arg = rp;
		if (rpc_client_start(m->cfg.rpc, c) == 0)
			return;
	}
	repair_end(rp, 0);
}

static void repair_begin(struct repair *rp)
{
	struct member *m = rp->m;
	struct store_list_entry st;
	int pos, nr;

	memcpy(rp->id, rp->ids[rp->head], 16);
	rp->head = (rp->head + 1) % REPAIR_QUEUE;
	rp->count--;
	/* The version from the index: a copy whose record no longer reads
	 * (STAT fails its checksums too) is repaired all the same. */
	if (store_lookup(m->cfg.store, rp->id, &st) || (st.flags & STORE_LIST_TOMBSTONE))
		return; /* gone, or a tombstone: nothing to repair */
	if (!rp->buf && !(rp->buf = malloc(rp->cap))) {
		repair_end(rp, 0);
		return;
	}
	rp->busy = 1;
	rp->version = st.version;
	rp->nchain = member_write_chain(m, rp->id, rp->chain, &pos, &nr);
	rp->peer = -1;
	repair_try_next(rp);
}

int repair_step(struct member *m, uint64_t now)
{
	struct repair *rp = &m->rep;
	int did = 0;

	(void)now;
	if (!rp->busy && rp->count && m->map.epoch && m->self >= 0) {
		repair_begin(rp);
		did = 1;
	}
	return did;
}
