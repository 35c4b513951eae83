/* SPDX-License-Identifier: Apache-2.0 */
/* recover.c - re-replication and rebalancing walks (see recover.h). */
#include "cluster/recover.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/place.h"
#include "common/log.h"
#include "common/util.h"

#define RECOVER_TASKS 16
#define RECOVER_PAGE  64
#define RECOVER_RETRY_NS (1000ull * 1000000ull) /* re-walk after a walk with work */

enum rtask_phase { RT_IDLE = 0, RT_STAT, RT_THROTTLED, RT_COPY };

struct rtask {
	struct recover *rv;
	uint8_t phase;                 /* enum rtask_phase */
	uint8_t id[16];                /* chunk */
	uint64_t version, size;        /* our copy */
	uint16_t peers[MAP_MAX_R];     /* map indices of the other chain members */
	int npeers;
	int in_chain, head;            /* this node is in the chain / its head */
	int64_t peer_ver[MAP_MAX_R];   /* 0 absent, -1 unknown (error), else version */
	struct rpc_call calls[MAP_MAX_R];
	struct ferry_chunk_stat st[MAP_MAX_R];
	uint8_t vbuf[MAP_MAX_R][8];
	int pending;                   /* calls in flight */
	int copy_failed;
	uint8_t *buf;                  /* chunk bytes for copies */
};

struct recover {
	struct recover_cfg cfg;
	struct rtask tasks[RECOVER_TASKS];
	uint8_t cursor[16];            /* walk position */
	struct store_list_entry page[RECOVER_PAGE];
	uint32_t page_n, page_i;
	int walking, walk_eof, want_walk, suspect, suspect_walk;
	uint64_t walk_work, walk_degraded; /* this walk's figures */
	uint64_t next_walk_ns;
	double tokens;                 /* copy budget, bytes */
	uint64_t tokens_ns;
	struct recover_counters ctr;
};

int recover_open(const struct recover_cfg *cfg, struct recover **out)
{
	struct recover *rv = calloc(1, sizeof(*rv));

	if (!rv)
		return -ENOMEM;
	rv->cfg = *cfg;
	for (int i = 0; i < RECOVER_TASKS; i++)
		rv->tasks[i].rv = rv;
	*out = rv;
	return 0;
}

void recover_close(struct recover *rv)
{
	if (!rv)
		return;
	for (int i = 0; i < RECOVER_TASKS; i++)
		free(rv->tasks[i].buf);
	free(rv);
}

void recover_kick(struct recover *rv, int suspect)
{
	rv->want_walk = 1;
	rv->next_walk_ns = 0;
	if (suspect)
		rv->suspect = 1;
}

int recover_reads_blocked(const struct recover *rv)
{
	return rv->suspect || rv->suspect_walk;
}

void recover_get_counters(const struct recover *rv, struct recover_counters *out)
{
	*out = rv->ctr;
	out->active = rv->walking;
}

static void rtask_end(struct rtask *t)
{
	free(t->buf);
	t->buf = NULL;
	t->phase = RT_IDLE;
}

/* All STATs are in: decide what this chunk needs. */
static void rtask_decide(struct rtask *t);

static void rtask_copy_done(struct rpc_call *c)
{
	struct rtask *t = c->arg;
	struct recover *rv = t->rv;

	if (c->err || c->status) {
		t->copy_failed = 1;
		rv->ctr.errors++;
	} else {
		rv->ctr.copies++;
		rv->ctr.copy_bytes += t->size;
	}
	if (--t->pending > 0)
		return;
	if (!t->in_chain && !t->copy_failed) {
		/* Every member now has our version or newer: the move is done. */
		int err = store_delete(rv->cfg.store, t->id);
		if (!err || err == -ENOENT)
			rv->ctr.deleted += !err;
	}
	rtask_end(t);
}

static void rtask_stat_done(struct rpc_call *c)
{
	struct rtask *t = c->arg;
	int k = (int)(c - t->calls);

	if (!c->err && c->status == 0 && c->resp_len == sizeof(t->st[k]))
		t->peer_ver[k] = (int64_t)t->st[k].version;
	else if (!c->err && c->status == FERRY_ST_NOENT)
		t->peer_ver[k] = 0;
	else
		t->peer_ver[k] = -1;
	if (--t->pending == 0)
		rtask_decide(t);
}

static int rtask_start_copies(struct rtask *t)
{
	struct recover *rv = t->rv;
	const struct cmap *m = rv->cfg.map;
	uint32_t got = 0;
	int err;

	t->buf = malloc(t->size ? t->size : 1);
	if (!t->buf)
		return -ENOMEM;
	err = t->size ? store_get(rv->cfg.store, t->id, 0, (uint32_t)t->size, t->buf, &got) : 0;
	if (!err && got != t->size)
		err = -EIO;
	if (err)
		return err;
	t->phase = RT_COPY;
	t->copy_failed = 0;
	for (int k = 0; k < t->npeers; k++) {
		struct rpc_call *c = &t->calls[k];

		if (t->peer_ver[k] < 0)
			t->copy_failed = 1; /* unconfirmed: never delete ours on its account */
		if (t->peer_ver[k] < 0 || (uint64_t)t->peer_ver[k] >= t->version)
			continue;
		memset(c, 0, sizeof(*c));
		c->peer = m->nodes[t->peers[k]].addr;
		c->op = FERRY_OP_COPY_PUT;
		memcpy(c->chunk, t->id, 16);
		c->offset = t->version;
		c->length = (uint32_t)t->size;
		c->req = t->buf;
		c->req_len = (uint32_t)t->size;
		c->resp = t->vbuf[k];
		c->resp_cap = sizeof(t->vbuf[k]);
		c->done = rtask_copy_done;
		c->arg = t;
		t->pending++;
		if (rpc_client_start(rv->cfg.rpc, c)) {
			t->pending--;
			t->copy_failed = 1;
		}
	}
	if (t->pending == 0) {
		rv->ctr.errors += t->copy_failed;
		rtask_end(t);
	}
	return 0;
}

static void rtask_decide(struct rtask *t)
{
	struct recover *rv = t->rv;
	int absent_all = 1, newer = 0, unknown = 0, need = 0, good = 1;
	uint32_t r = rv->cfg.map->replicas;

	for (int k = 0; k < t->npeers; k++) {
		if (t->peer_ver[k] < 0) {
			unknown = 1;
			absent_all = 0;
			continue;
		}
		if (t->peer_ver[k] > 0)
			absent_all = 0;
		if ((uint64_t)t->peer_ver[k] > t->version)
			newer = 1;
		if ((uint64_t)t->peer_ver[k] < t->version)
			need++;
		else
			good++;
	}
	if (t->head && (unknown || need || (uint32_t)good < r))
		rv->walk_degraded++;
	if (unknown) {
		rv->ctr.errors++;
		rv->walk_work++; /* look again */
	}
	if (rv->suspect_walk && t->in_chain && t->npeers && !unknown && (newer || absent_all)) {
		/* Rejoined with a stale copy, or one deleted while we were away. */
		if (store_delete(rv->cfg.store, t->id) == 0)
			rv->ctr.deleted++;
		rv->walk_work++;
		rtask_end(t);
		return;
	}
	if (!t->in_chain && !unknown && need == 0) {
		/* Moved away and everyone has it: drop ours. */
		if (store_delete(rv->cfg.store, t->id) == 0)
			rv->ctr.deleted++;
		rv->walk_work++;
		rtask_end(t);
		return;
	}
	if (need == 0) {
		rtask_end(t);
		return;
	}
	rv->walk_work++;
	t->phase = RT_THROTTLED; /* recover_step starts the copies within budget */
}

/* Start examining one chunk in task t. Returns 1 if it needed a task. */
static int rtask_begin(struct rtask *t, const struct store_list_entry *e)
{
	struct recover *rv = t->rv;
	const struct cmap *m = rv->cfg.map;
	uint16_t chain[MAP_MAX_R];
	int n = place_chain(m, e->id, chain), self = map_find(m, rv->cfg.self);

	rv->ctr.scanned++;
	memcpy(t->id, e->id, 16);
	t->version = e->version;
	t->size = e->size;
	t->npeers = 0;
	t->in_chain = 0;
	t->head = n > 0 && chain[0] == self;
	for (int i = 0; i < n; i++) {
		if (chain[i] == self)
			t->in_chain = 1;
		else
			t->peers[t->npeers++] = chain[i];
	}
	if (t->npeers == 0) {
		if (t->head && m->replicas > 1)
			rv->walk_degraded++;
		return 0;
	}
	t->phase = RT_STAT;
	t->pending = 0;
	for (int k = 0; k < t->npeers; k++) {
		struct rpc_call *c = &t->calls[k];

		memset(c, 0, sizeof(*c));
		c->peer = m->nodes[t->peers[k]].addr;
		c->op = FERRY_OP_STAT;
		memcpy(c->chunk, t->id, 16);
		c->resp = (uint8_t *)&t->st[k];
		c->resp_cap = sizeof(t->st[k]);
		c->done = rtask_stat_done;
		c->arg = t;
		t->peer_ver[k] = -1;
		t->pending++;
		if (rpc_client_start(rv->cfg.rpc, c))
			t->pending--;
	}
	if (t->pending == 0)
		rtask_decide(t);
	return 1;
}

static int recover_next_entry(struct recover *rv, struct store_list_entry *e)
{
	if (rv->page_i >= rv->page_n) {
		if (rv->walk_eof)
			return 0;
		rv->page_i = rv->page_n = 0;
		if (store_list(rv->cfg.store, rv->cursor, rv->page, RECOVER_PAGE, &rv->page_n) ||
		    rv->page_n == 0) {
			rv->walk_eof = 1;
			return 0;
		}
	}
	*e = rv->page[rv->page_i++];
	return 1;
}

int recover_step(struct recover *rv, uint64_t now)
{
	int did = 0, busy = 0;
	double rate = rv->cfg.rate_mb_s * 1e6;

	if (rv->cfg.map->epoch == 0)
		return 0;
	/* refill the copy budget: at most one second's worth (or one chunk) */
	if (rate > 0) {
		double cap = rate > rv->cfg.max_chunk ? rate : rv->cfg.max_chunk;
		rv->tokens += rate * (double)(now - rv->tokens_ns) / 1e9;
		if (rv->tokens > cap)
			rv->tokens = cap;
	}
	rv->tokens_ns = now;
	if (!rv->walking && rv->want_walk && now >= rv->next_walk_ns) {
		memset(rv->cursor, 0, sizeof(rv->cursor));
		rv->page_n = rv->page_i = 0;
		rv->walk_eof = 0;
		rv->walking = 1;
		rv->want_walk = 0;
		rv->walk_work = rv->walk_degraded = 0;
		rv->suspect_walk = rv->suspect;
		rv->suspect = 0;
	}
	for (int i = 0; i < RECOVER_TASKS; i++) {
		struct rtask *t = &rv->tasks[i];

		if (t->phase == RT_THROTTLED && (rate <= 0 || rv->tokens >= (double)t->size)) {
			if (rate > 0)
				rv->tokens -= (double)t->size;
			if (rtask_start_copies(t)) {
				rv->ctr.errors++;
				rtask_end(t);
			}
			did = 1;
		}
		while (t->phase == RT_IDLE && rv->walking) {
			struct store_list_entry e;

			if (!recover_next_entry(rv, &e))
				break;
			did = 1;
			if (rtask_begin(t, &e))
				break;
		}
		busy |= t->phase != RT_IDLE;
	}
	if (rv->walking && rv->walk_eof && !busy) {
		rv->walking = 0;
		rv->ctr.walks++;
		rv->ctr.pending = rv->walk_work;
		rv->ctr.degraded = rv->walk_degraded;
		if (rv->suspect_walk)
			log_info("recover: rejoin walk done (%llu chunks needed work)",
				 (unsigned long long)rv->walk_work);
		rv->suspect_walk = 0;
		if (rv->walk_work) {
			/* verify (and finish what failed) with another walk */
			rv->want_walk = 1;
			rv->next_walk_ns = now + RECOVER_RETRY_NS;
		}
	}
	return did;
}
