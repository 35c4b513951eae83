/* SPDX-License-Identifier: Apache-2.0 */
/*
 * recover.c - walks that bring every chunk to its write chain.
 *
 * On every new map (and again a second after a walk that had work) a node
 * walks its own chunks, tombstones included, and asks every other member of
 * each chunk's write chain (place.h) what it holds (COPY_STAT):
 *   - a member with an older version gets ours (COPY_PUT, or COPY_DELETE for
 *     a tombstone); so does one without the chunk - absence never deletes
 *     anything: a copy nobody else has is the one to spread, never to drop;
 *   - a copy of a chunk whose write chain no longer includes this node is
 *     dropped (conditionally: only if it is still the version confirmed)
 *     once at least min_copies members confirmed a version >= ours;
 *   - a tombstone is kept and spread like data, so that it overrides older
 *     copies wherever they surface, until the cluster is clean with no
 *     node away (no old copy can come back): then absence counts as
 *     deletion and every member drops its tombstone - once the epoch is a
 *     later one than the tombstone's (heads count versions up from what
 *     they hold; an epoch's first version is above every earlier one);
 *   - equal versions with different checksums: a member that is not the
 *     head repairs its copy from the head's.
 * A walk that confirmed every chunk and left nothing undone at one epoch is
 * reported to ctl (walk_epoch), which is how ctl knows an epoch is clean.
 * Copies are throttled by a token bucket (recovery_mb_s); STATs are not.
 */
#include "cluster/member_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"

#define RECOVER_RETRY_NS (1000ull * 1000000ull) /* re-walk after a walk with work */

void recover_init(struct member *m)
{
	memset(&m->rec, 0, sizeof(m->rec));
	for (int i = 0; i < RECOVER_TASKS; i++)
		m->rec.tasks[i].m = m;
}

void recover_fini(struct member *m)
{
	for (int i = 0; i < RECOVER_TASKS; i++) {
		free(m->rec.tasks[i].buf);
		m->rec.tasks[i].buf = NULL;
	}
}

void recover_kick(struct member *m)
{
	m->rec.want_walk = 1;
	m->rec.next_walk_ns = 0;
}

static void rtask_end(struct rtask *t)
{
	free(t->buf);
	t->buf = NULL;
	t->phase = RT_IDLE;
	if (t->check) {
		/* A check that could not confirm enough copies looks again. */
		t->check = 0;
		t->m->rec.checks--;
		if (commit_unsure(t->m, t->id))
			commit_check_later(t->m, t->id, 1);
	}
}

/* The walk could not confirm this chunk, or keeps a copy it should drop:
 * it is not clean, and another walk follows. (A commit check is not part
 * of a walk: it reschedules itself instead.) */
static void rtask_unclean(struct rtask *t)
{
	if (t->check)
		return;
	t->m->rec.walk_bad++;
	t->m->rec.walk_work++;
}

/* What the task learnt about how many disks hold our version: enough
 * (min_copies, ours included), and it is committed (commit.c). */
static void rtask_commit(struct rtask *t, int copies, int sure)
{
	if (sure && (uint32_t)copies >= t->m->map.min_copies)
		commit_done(t->m, t->id, t->version);
}

static void rtask_purge_done(struct storeq_op *op)
{
	struct rtask *t = (struct rtask *)op;
	int res = op->sop.res;

	if (res == 0) {
		t->m->rec.ctr.purged++;
		if (t->tomb && t->version >> 32 > t->m->gc_epoch)
			t->m->gc_epoch = t->version >> 32;
	}
	else if (res != -ESTALE && res != -ENOENT)
		rtask_unclean(t); /* changed meanwhile (-ESTALE, -ENOENT) is fine */
	rtask_end(t);
}

/* Drop our copy - only if it is still the version the members confirmed. */
static void rtask_purge(struct rtask *t)
{
	struct store_op *sop = &t->op.sop;
	char hex[33];

	log_debug("recover: purge %s version %llx%s (in chain %d)", util_hex(t->id, 16, hex),
		  (unsigned long long)t->version, t->tomb ? " (tombstone)" : "", t->in_chain);
	t->phase = RT_PURGE;
	memset(sop, 0, offsetof(struct store_op, priv));
	sop->type = STORE_OP_PURGE;
	memcpy(sop->id, t->id, 16);
	sop->version = t->version;
	t->op.done = rtask_purge_done;
	t->m->rec.walk_work++;
	storeq_submit(t->m->cfg.q, &t->op);
}

static void rtask_copy_done(struct rpc_call *c)
{
	struct rtask *t = c->arg;
	struct recover *rv = &t->m->rec;

	if (c->err || c->status) {
		t->failed = 1;
		rv->ctr.errors++;
	} else if (t->tomb) {
		rv->ctr.tomb_copies++;
	} else {
		rv->ctr.copies++;
		rv->ctr.copy_bytes += t->size;
	}
	if (--t->pending > 0)
		return;
	if (t->failed)
		rtask_unclean(t);
	else
		t->confirmed += t->npush; /* each took ours (or held a newer one) */
	rtask_commit(t, 1 + t->confirmed, !t->failed);
	rtask_end(t); /* the next walk confirms, and drops ours if it moved */
}

static int rtask_start_copies(struct rtask *t)
{
	struct member *m = t->m;
	uint32_t got = 0;
	int err;

	if (m->map.epoch != t->epoch)
		return -ESTALE;
	if (!t->tomb) {
		t->buf = malloc(t->size ? t->size : 1);
		if (!t->buf)
			return -ENOMEM;
		struct store_stat st;

		err = t->size ? store_get(m->cfg.store, t->id, 0, (uint32_t)t->size, t->buf, &got)
			      : 0;
		if (!err && got != t->size)
			err = -EIO;
		/* The bytes must be the version the members were asked about:
		 * a write may have replaced it since the listing (a read that
		 * started before it returns the old bytes whole, so checking
		 * after the read is enough). */
		if (!err && (store_stat(m->cfg.store, t->id, &st) || st.version != t->version ||
			     st.size != t->size))
			err = -ESTALE;
		if (err == -EBADMSG)
			repair_enqueue(m, t->id); /* never spread a corrupt copy */
		if (err)
			return err;
	}
	t->phase = RT_COPY;
	t->failed = 0;
	t->pending = 0;
	for (int k = 0; k < t->npeers; k++) {
		struct rpc_call *c = &t->calls[k];

		if (!t->push[k])
			continue;
		memset(c, 0, sizeof(*c));
		c->peer = m->map.nodes[t->peers[k]].addr;
		c->op = t->tomb ? FERRY_OP_COPY_DELETE : FERRY_OP_COPY_PUT;
		memcpy(c->chunk, t->id, 16);
		c->offset = t->version;
		c->epoch = t->epoch;
		if (!t->tomb) {
			c->length = (uint32_t)t->size;
			c->req = t->buf;
			c->req_len = (uint32_t)t->size;
		}
		c->resp = t->vbuf[k];
		c->resp_cap = sizeof(t->vbuf[k]);
		c->done = rtask_copy_done;
		c->arg = t;
		t->pending++;
		if (rpc_client_start(m->cfg.rpc, c)) {
			t->pending--;
			t->failed = 1;
		}
	}
	if (t->pending == 0) {
		rtask_unclean(t);
		rtask_end(t);
	}
	return 0;
}

static void rtask_decide(struct rtask *t)
{
	struct member *m = t->m;
	struct recover *rv = &m->rec;
	/* Absence means deletion only when no old copy can come back: the
	 * cluster is clean and nobody is away. */
	int gc_ok = m->map.clean_epoch == m->map.epoch && map_absent(&m->map) == 0;
	int need = 0, confirmed = 0, unknown = 0, good = 1;

	for (int k = 0; k < t->npeers; k++) {
		int64_t pv = t->peer_ver[k];

		t->push[k] = 0;
		if (pv < 0) {
			unknown = 1;
			continue;
		}
		if ((uint64_t)pv >= t->version || (t->tomb && pv == 0 && gc_ok)) {
			confirmed++;
			good++;
			if ((uint64_t)pv == t->version && !t->tomb && !t->peer_tomb[k] &&
			    t->peer_crc[k] != t->crc) {
				/* Same version, other bytes: the head's copy is the
				 * one; the others repair from it. */
				rv->ctr.crc_mismatch++;
				if (!t->head && t->peers[k] == (uint16_t)t->head_idx)
					repair_enqueue(m, t->id);
			}
			continue;
		}
		t->push[k] = 1;
		need++;
	}
	t->confirmed = confirmed;
	t->npush = need;
	if (t->head && !t->check && (unknown || need || (uint32_t)good < m->map.replicas))
		rv->walk_degraded++;
	if (unknown) {
		rv->ctr.errors++;
		rtask_unclean(t);
		rtask_end(t);
		return;
	}
	if (need) {
		if (!t->check)
			rv->walk_work++;
		t->phase = RT_THROTTLED; /* recover_step starts the copies within budget */
		return;
	}
	rtask_commit(t, 1 + confirmed, 1);
	/* Fewer disks than min_copies hold it (the chain is short of live
	 * members): not clean - a restarted node must not read from an epoch
	 * in which a copy of its might be the only one (commit.c). */
	if (t->in_chain && (uint32_t)(1 + confirmed) < m->map.min_copies)
		rtask_unclean(t);
	if (t->check) {
		rtask_end(t); /* moves and collections are for walks */
		return;
	}
	if (!t->in_chain) {
		/* Moved away: ours goes once enough members hold as much. */
		if ((uint32_t)confirmed >= m->map.min_copies) {
			rtask_purge(t);
			return;
		}
		rv->ctr.kept++;
		rtask_unclean(t);
		rtask_end(t);
		return;
	}
	if (t->tomb && gc_ok && t->version >> 32 < m->map.epoch) {
		/* Every member has it or has dropped it, and no older copy can
		 * come back: the tombstone has done its work. Not one of this
		 * epoch's, though: its head counts the chunk's versions up from
		 * the local one, and must never hand out this version again
		 * while another member may still hold the tombstone. */
		rtask_purge(t);
		return;
	}
	rtask_end(t);
}

static void rtask_stat_done(struct rpc_call *c)
{
	struct rtask *t = c->arg;
	int k = (int)(c - t->calls);

	t->peer_tomb[k] = 0;
	t->peer_crc[k] = 0;
	if (!c->err && c->status == 0 && c->resp_len == sizeof(t->st[k])) {
		t->peer_ver[k] = (int64_t)t->st[k].version;
		t->peer_tomb[k] = !!(t->st[k].flags & FERRY_STAT_TOMBSTONE);
		t->peer_crc[k] = t->st[k].crc;
	} else if (!c->err && c->status == FERRY_ST_NOENT) {
		t->peer_ver[k] = 0;
	} else {
		t->peer_ver[k] = -1;
	}
	if (--t->pending == 0)
		rtask_decide(t);
}

/* Start examining one chunk in task t. Returns 1 if it took the task. */
static int rtask_begin(struct rtask *t, const struct store_list_entry *e)
{
	struct member *m = t->m;
	struct recover *rv = &m->rec;
	uint16_t chain[MAP_MAX_CHAIN];
	int pos, nr, n;

	if (e->id[0] == MEMBER_LOCAL_KIND)
		return 0;
	if (!t->check)
		rv->ctr.scanned++;
	n = member_write_chain(m, e->id, chain, &pos, &nr);
	memcpy(t->id, e->id, 16);
	t->version = e->version;
	t->size = e->size;
	t->tomb = !!(e->flags & STORE_LIST_TOMBSTONE);
	t->crc = 0;
	t->epoch = m->map.epoch;
	t->npeers = 0;
	t->in_chain = pos >= 0;
	t->head = pos == 0;
	t->head_idx = n > 0 ? chain[0] : -1;
	for (int i = 0; i < n; i++)
		if (i != pos)
			t->peers[t->npeers++] = chain[i];
	if (t->npeers == 0) {
		rtask_commit(t, 1, 1);
		if (t->check)
			return 0;
		if (t->head && m->map.replicas > 1)
			rv->walk_degraded++;
		if (!t->in_chain) {
			rv->ctr.kept++; /* nobody to give it to: keep it */
			rtask_unclean(t);
		} else if (m->map.min_copies > 1) {
			rtask_unclean(t); /* the only copy (see rtask_decide) */
		}
		return 0;
	}
	if (!t->tomb) {
		struct store_stat st;

		/* Our checksum, to compare with members that hold the same version. */
		if (store_stat(m->cfg.store, t->id, &st) == 0 && st.version == t->version)
			t->crc = st.crc;
	}
	t->phase = RT_STAT;
	t->pending = 0;
	t->failed = 0;
	for (int k = 0; k < t->npeers; k++) {
		struct rpc_call *c = &t->calls[k];

		memset(c, 0, sizeof(*c));
		c->peer = m->map.nodes[t->peers[k]].addr;
		c->op = FERRY_OP_COPY_STAT;
		memcpy(c->chunk, t->id, 16);
		c->epoch = t->epoch;
		c->resp = (uint8_t *)&t->st[k];
		c->resp_cap = sizeof(t->st[k]);
		c->done = rtask_stat_done;
		c->arg = t;
		t->peer_ver[k] = -1;
		t->pending++;
		if (rpc_client_start(m->cfg.rpc, c))
			t->pending--;
	}
	if (t->pending == 0)
		rtask_decide(t);
	return 1;
}

/* Start a commit check (commit.c) in idle task t: the chunk's copies, as a
 * walk would look at them, ours pushed to members that lack it. Returns 1
 * if t took one; 0 with *more cleared when none is due. */
static int recover_check(struct rtask *t, uint64_t now, int *more)
{
	struct member *m = t->m;
	struct store_list_entry e;
	struct store_stat st;
	uint64_t marked;
	int err;

	if (!commit_next_due(m, now, e.id)) {
		*more = 0;
		return 0;
	}
	marked = commit_unsure(m, e.id);
	err = store_stat(m->cfg.store, e.id, &st);
	if (err && !(err == -ENOENT && (st.flags & STORE_STAT_TOMBSTONE))) {
		commit_done(m, e.id, UINT64_MAX); /* nothing here a read could see */
		return 0;
	}
	if (st.version < marked) {
		/* The marked version never made it to the disk: what is there
		 * is what a read would see, and what needs checking. */
		commit_done(m, e.id, UINT64_MAX);
		commit_mark(m, e.id, st.version);
	}
	e.version = st.version;
	e.size = err ? 0 : st.size;
	e.flags = err ? STORE_LIST_TOMBSTONE : 0;
	t->check = 1;
	m->rec.checks++;
	if (rtask_begin(t, &e))
		return 1;
	t->check = 0; /* settled without asking anyone (or nobody to ask yet) */
	m->rec.checks--;
	if (commit_unsure(m, e.id))
		commit_check_later(m, e.id, 1);
	return 0;
}

static int recover_next_entry(struct recover *rv, struct member *m, struct store_list_entry *e)
{
	if (rv->page_i >= rv->page_n) {
		if (rv->walk_eof)
			return 0;
		rv->page_i = rv->page_n = 0;
		if (store_list(m->cfg.store, rv->cursor, rv->page, ARRAY_SIZE(rv->page), &rv->page_n) ||
		    rv->page_n == 0) {
			rv->walk_eof = 1;
			return 0;
		}
	}
	*e = rv->page[rv->page_i++];
	return 1;
}

static double recover_rate(const struct member *m)
{
	return m->cfg.recovery_mb_s * 1e6;
}

int recover_step(struct member *m, uint64_t now)
{
	struct recover *rv = &m->rec;
	double rate = recover_rate(m);
	int did = 0, busy = 0, checks_due;

	if (m->map.epoch == 0 || m->self < 0)
		return 0;
	/* refill the copy budget: at most one second's worth (or one chunk) */
	if (rate > 0) {
		double cap = rate > m->max_chunk ? rate : m->max_chunk;
		rv->tokens += rate * (double)(now - rv->tokens_ns) / 1e9;
		if (rv->tokens > cap)
			rv->tokens = cap;
	}
	rv->tokens_ns = now;
	if (rv->walking && m->map.epoch != rv->walk_start_epoch && !rv->walk_eof) {
		/* The map moved on: this walk cannot vouch for the new epoch.
		 * Let the tasks in flight finish and walk again. */
		rv->walk_eof = 1;
		rv->walk_bad++;
		rv->want_walk = 1;
		rv->next_walk_ns = 0;
	}
	if (!rv->walking && rv->want_walk && now >= rv->next_walk_ns) {
		memset(rv->cursor, 0, sizeof(rv->cursor));
		rv->page_n = rv->page_i = 0;
		rv->walk_eof = 0;
		rv->walking = 1;
		rv->want_walk = 0;
		rv->walk_start_epoch = m->map.epoch;
		rv->walk_work = rv->walk_degraded = rv->walk_bad = 0;
		did = 1;
	}
	checks_due = m->commit.next_check && m->commit.next_check <= now;
	if (!rv->walking && !rv->checks && !checks_due)
		return did; /* a walk ends only with every task idle */
	for (int i = 0; i < RECOVER_TASKS; i++) {
		struct rtask *t = &rv->tasks[i];

		if (t->phase == RT_THROTTLED && (rate <= 0 || rv->tokens >= (double)t->size)) {
			int err;

			if (rate > 0)
				rv->tokens -= (double)t->size;
			err = rtask_start_copies(t);
			if (err) {
				rv->ctr.errors++;
				rtask_unclean(t);
				rtask_end(t);
			}
			did = 1;
		}
		while (t->phase == RT_IDLE && checks_due) {
			did = 1;
			if (recover_check(t, now, &checks_due))
				break;
		}
		while (t->phase == RT_IDLE && rv->walking && !rv->walk_eof) {
			struct store_list_entry e;

			if (!recover_next_entry(rv, m, &e))
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
		if (!rv->walk_bad && m->map.epoch == rv->walk_start_epoch)
			rv->walk_epoch = rv->walk_start_epoch;
		if (rv->walk_work && !rv->want_walk) {
			/* verify (and finish what failed) with another walk */
			rv->want_walk = 1;
			rv->next_walk_ns = now + RECOVER_RETRY_NS;
		}
		did = 1;
	}
	return did;
}

uint64_t recover_next_deadline(struct member *m)
{
	struct recover *rv = &m->rec;
	double rate = recover_rate(m);
	uint64_t due = UINT64_MAX;
	int idle = 0;

	if (m->map.epoch == 0 || m->self < 0)
		return UINT64_MAX;
	if (!rv->walking && rv->want_walk)
		due = rv->next_walk_ns;
	if (!rv->walking && !rv->checks)
		return MIN(due, commit_next_deadline(m));
	for (int i = 0; i < RECOVER_TASKS; i++) {
		const struct rtask *t = &rv->tasks[i];

		if (t->phase == RT_IDLE) {
			if (rv->walking && !rv->walk_eof)
				return m->now; /* more chunks to look at */
			idle = 1;
		}
		if (t->phase == RT_THROTTLED) {
			double lack = (double)t->size - rv->tokens;
			uint64_t at = lack <= 0 || rate <= 0 ? m->now
							     : rv->tokens_ns + (uint64_t)(lack / rate * 1e9) + 1;
			due = MIN(due, at);
		}
	}
	if (idle)
		due = MIN(due, commit_next_deadline(m)); /* a free task takes a due check */
	if (rv->walking && rv->walk_eof) {
		int busy = 0;

		for (int i = 0; i < RECOVER_TASKS; i++)
			busy |= rv->tasks[i].phase != RT_IDLE;
		if (!busy)
			return m->now; /* the walk's end is to be recorded */
	}
	return due;
}
