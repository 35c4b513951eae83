/* SPDX-License-Identifier: Apache-2.0 */
/*
 * member.c - the gate every request passes, the map the node serves under
 * (and keeps on its disk), the ctl link, counters (see member.h).
 */
#include "cluster/member_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/log.h"
#include "common/util.h"

/* The node's copy of the map it serves under: a chunk of its own. */
static const uint8_t member_map_id[16] = { MEMBER_LOCAL_KIND, 'f', 'e', 'r', 'r', 'y', '-',
					   'm', 'a', 'p' };
#define MEMBER_MAP_CAP ((MAP_MAX_LEN + 4095) / 4096 * 4096)
#define MEMBER_MAP_RETRY_NS (1000ull * 1000000ull) /* a failed save of the map, again */

void member_reply_version(struct rpc_srv *srv, struct rpc_sreq *r, int status, uint64_t version)
{
	uint8_t *out = rpc_sreq_reply_buf(srv, r, sizeof(version));

	if (out) {
		memcpy(out, &version, sizeof(version));
		rpc_sreq_reply(srv, r, status, sizeof(version));
	} else {
		rpc_sreq_reply(srv, r, status ? status : -ENOMEM, 0);
	}
}

int member_write_chain(struct member *m, const uint8_t id[16], uint16_t chain[MAP_MAX_CHAIN],
		       int *pos, int *nreaders)
{
	struct member_wc *wc = &m->wc;
	int n;

	/* A request asks for its chunk's chain at the gate, when storing and
	 * when forwarding: remember the last one (per map installed). */
	if (wc->gen == m->map_gen && wc->gen && !memcmp(wc->id, id, 16)) {
		memcpy(chain, wc->chain, sizeof(wc->chain[0]) * (size_t)MAX(wc->n, 0));
		*pos = wc->pos;
		*nreaders = wc->nreaders;
		return wc->n;
	}
	n = place_write_chain(&m->map, id, chain, nreaders);
	*pos = -1;
	for (int i = 0; i < n && m->self >= 0; i++)
		if (chain[i] == (uint16_t)m->self)
			*pos = i;
	wc->gen = m->map_gen;
	memcpy(wc->id, id, 16);
	memcpy(wc->chain, chain, sizeof(wc->chain[0]) * (size_t)MAX(n, 0));
	wc->n = n;
	wc->pos = *pos;
	wc->nreaders = *nreaders;
	return n;
}

const struct cmap *member_map(const struct member *m)
{
	return &m->map;
}

/* ------------------------------------------------------------ the gate */

/* Ops that name a chunk (and so must not name one of the node's own). */
static int member_chunk_op(uint8_t op)
{
	switch (op) {
	case FERRY_OP_PUT: case FERRY_OP_GET: case FERRY_OP_DELETE: case FERRY_OP_STAT:
	case FERRY_OP_WRITE: case FERRY_OP_REPL_PUT: case FERRY_OP_REPL_DELETE:
	case FERRY_OP_COPY_PUT: case FERRY_OP_COPY_DELETE: case FERRY_OP_COPY_GET:
		return 1;
	default:
		return 0;
	}
}

static int member_refuse(struct rpc_srv *srv, struct rpc_sreq *r, int status, uint64_t *ctr)
{
	(*ctr)++;
	rpc_sreq_reply(srv, r, status, 0);
	return 1;
}

static int member_getmap(struct member *m, struct rpc_srv *srv, struct rpc_sreq *r)
{
	/* The map this node runs under: clients fall back on it while ctl is
	 * away. */
	uint32_t mlen = (uint32_t)map_encoded_len(&m->map);
	uint8_t *out = m->map.epoch ? rpc_sreq_reply_buf(srv, r, mlen) : NULL;
	int elen = out ? map_encode(&m->map, out, mlen) : (m->map.epoch ? -ENOMEM : -ENOENT);

	rpc_sreq_reply(srv, r, elen < 0 ? elen : 0, elen < 0 ? 0 : (uint32_t)elen);
	return 1;
}

int member_handle(struct member *m, struct rpc_srv *srv, struct rpc_sreq *r)
{
	const struct ferry_hdr *h = rpc_sreq_hdr(r);
	uint16_t chain[MAP_MAX_CHAIN];
	int pos, nr, n;

	if (member_chunk_op(h->op) && h->chunk[0] == MEMBER_LOCAL_KIND)
		return member_refuse(srv, r, -EINVAL, &m->c_bad_local_ids);
	if (h->op == FERRY_OP_CTL_GETMAP)
		return member_getmap(m, srv, r);
	if (h->epoch == 0) {
		switch (h->op) {
		case FERRY_OP_PUT:
		case FERRY_OP_WRITE:
		case FERRY_OP_DELETE:
			/* A write that bypasses the chain would be a copy nobody
			 * versions: a clustered node takes writes only by the map. */
			return member_refuse(srv, r, FERRY_ST_CLUSTERED, &m->c_clustered);
		case FERRY_OP_REPL_PUT: case FERRY_OP_REPL_DELETE: case FERRY_OP_COPY_PUT:
		case FERRY_OP_COPY_DELETE: case FERRY_OP_COPY_STAT: case FERRY_OP_COPY_GET:
			rpc_sreq_reply(srv, r, -EINVAL, 0);
			return 1;
		default:
			return 0; /* PING, STATS, LIST, and raw reads of this node's disk */
		}
	}
	switch (h->op) {
	case FERRY_OP_PUT: case FERRY_OP_WRITE: case FERRY_OP_DELETE: case FERRY_OP_GET:
	case FERRY_OP_STAT: case FERRY_OP_REPL_PUT: case FERRY_OP_REPL_DELETE:
	case FERRY_OP_COPY_PUT: case FERRY_OP_COPY_DELETE: case FERRY_OP_COPY_STAT:
	case FERRY_OP_COPY_GET:
		break;
	default:
		return 0;
	}
	if (h->epoch != m->map.epoch) {
		if (h->epoch > m->map.epoch)
			nodectl_want_map(m->nc, h->epoch); /* we are behind: catch up */
		return member_refuse(srv, r, FERRY_ST_STALE, &m->c_stale);
	}
	n = member_write_chain(m, h->chunk, chain, &pos, &nr);
	switch (h->op) {
	case FERRY_OP_COPY_STAT:
		chain_start(m, srv, r, CH_COPY_STAT);
		return 1;
	case FERRY_OP_COPY_GET:
		chain_start(m, srv, r, CH_COPY_GET);
		return 1;
	case FERRY_OP_COPY_PUT:
	case FERRY_OP_COPY_DELETE:
		/* Recovery needs no lease (it acknowledges nothing to clients),
		 * but a copy goes only to members of the write chain. */
		if (pos < 0)
			return member_refuse(srv, r, FERRY_ST_NOTHEAD, &m->c_nothead);
		chain_start(m, srv, r, h->op == FERRY_OP_COPY_PUT ? CH_COPY_PUT : CH_COPY_DELETE);
		return 1;
	default:
		break;
	}
	/* Serving reads and acknowledging writes needs a lease on this epoch. */
	if (!nodectl_lease(m->nc, m->map.epoch, m->now))
		return member_refuse(srv, r, FERRY_ST_NOLEASE, &m->c_nolease);
	switch (h->op) {
	case FERRY_OP_GET:
	case FERRY_OP_STAT:
		/* Reads at the tail, and only when it holds every acknowledged
		 * write (place.h). */
		if (nr == 0)
			return member_refuse(srv, r, FERRY_ST_NOTREADY, &m->c_notready);
		if (pos != n - 1)
			return member_refuse(srv, r, FERRY_ST_NOTHEAD, &m->c_nothead);
		return 0;
	case FERRY_OP_PUT:
	case FERRY_OP_WRITE:
	case FERRY_OP_DELETE:
		if (pos != 0)
			return member_refuse(srv, r, FERRY_ST_NOTHEAD, &m->c_nothead);
		if ((uint32_t)n < m->map.min_copies)
			return member_refuse(srv, r, FERRY_ST_NOTREADY, &m->c_notready);
		/* A WRITE merges into the chunk and a retry must see what was
		 * acknowledged: both need a head that holds it all. */
		if ((h->op == FERRY_OP_WRITE || h->offset) && pos < n - nr)
			return member_refuse(srv, r, FERRY_ST_NOTREADY, &m->c_notready);
		chain_start(m, srv, r,
			    h->op == FERRY_OP_PUT ? CH_PUT : h->op == FERRY_OP_WRITE ? CH_WRITE
										 : CH_DELETE);
		return 1;
	case FERRY_OP_REPL_PUT:
	case FERRY_OP_REPL_DELETE:
		if (pos <= 0)
			return member_refuse(srv, r, FERRY_ST_NOTHEAD, &m->c_nothead);
		chain_start(m, srv, r, h->op == FERRY_OP_REPL_PUT ? CH_REPL_PUT : CH_REPL_DELETE);
		return 1;
	default:
		return 0;
	}
}

/* ------------------------------------------------------------ the map */

static void member_map_saved(struct storeq_op *op)
{
	struct member *m = (struct member *)((char *)op - offsetof(struct member, map_op));
	uint64_t epoch;

	m->map_saving = 0;
	if (op->sop.res) {
		log_warn("node: cannot keep the map on disk: %s", strerror(-op->sop.res));
		m->map_retry_ns = m->now + MEMBER_MAP_RETRY_NS; /* tried again then */
		return;
	}
	memcpy(&epoch, m->map_buf + offsetof(struct map_wire_hdr, epoch), sizeof(epoch));
	m->map_saved = epoch;
	/* Only a map on disk is served under: a node that restarts must never
	 * come back below an epoch it acknowledged writes in (a ctl that lost
	 * its state rebuilds its epoch from these). */
	nodectl_set_map(m->nc, &m->map);
	nodectl_hello_now(m->nc);
}

static void member_map_save(struct member *m)
{
	struct store_op *sop = &m->map_op.sop;
	int len;

	if (m->map_saving || m->map_saved == m->map.epoch || !m->map.epoch ||
	    m->now < m->map_retry_ns)
		return;
	len = map_encode(&m->map, m->map_buf, MEMBER_MAP_CAP);
	if (len < 0)
		return;
	memset(sop, 0, offsetof(struct store_op, priv));
	sop->type = STORE_OP_PUT;
	memcpy(sop->id, member_map_id, 16);
	sop->buf = m->map_buf;
	sop->len = (uint32_t)len;
	sop->buf_cap = MEMBER_MAP_CAP;
	m->map_op.done = member_map_saved;
	m->map_saving = 1;
	storeq_submit(m->cfg.q, &m->map_op);
}

static void member_map_install(struct member *m, const struct cmap *nm)
{
	map_copy(&m->map, nm);
	m->map_gen++;
	m->self = map_find(&m->map, m->info.node);
	m->c_maps++;
	if (m->self < 0)
		log_warn("node: not in the map of epoch %llu yet", (unsigned long long)m->map.epoch);
	member_map_save(m);
	recover_kick(m);
}

/* The map kept on the store at the last run, if it is this cluster's. */
static void member_map_load(struct member *m)
{
	uint32_t got = 0;
	int err = store_get(m->cfg.store, member_map_id, 0, MEMBER_MAP_CAP, m->map_buf, &got);

	if (err == -ENOENT)
		return;
	if (err || map_parse(m->map_buf, got, &m->map) ||
	    memcmp(m->map.cluster, m->info.cluster, 16)) {
		log_warn("node: the map kept on disk is unreadable (%s); starting without",
			 err ? strerror(-err) : "malformed");
		memset(&m->map, 0, sizeof(m->map));
		return;
	}
	m->map_saved = m->map.epoch;
	m->map_gen++;
	m->self = map_find(&m->map, m->info.node);
}

/* ------------------------------------------------------------ lifecycle */

int member_open(const struct member_cfg *cfg, struct member **out)
{
	struct member *m = calloc(1, sizeof(*m));
	struct nodectl_cfg ncfg = { 0 };
	int err;

	if (!m)
		return -ENOMEM;
	m->cfg = *cfg;
	if (!m->cfg.env)
		m->cfg.env = env_real();
	m->self = -1;
	m->now = env_now(m->cfg.env);
	store_get_info(cfg->store, &m->info);
	m->max_chunk = m->info.max_chunk;
	m->map_buf = aligned_alloc(4096, MEMBER_MAP_CAP);
	if (!m->map_buf) {
		err = -ENOMEM;
		goto fail;
	}
	if (cfg->zone && strlen(cfg->zone) >= MAP_ZONE_LEN) {
		log_err("node: zone name '%s' is longer than %d bytes", cfg->zone, MAP_ZONE_LEN - 1);
		err = -EINVAL;
		goto fail;
	}
	if (cfg->self.family == AF_INET && !memcmp(cfg->self.ip, "\0\0\0\0", 4)) {
		log_err("node: --listen needs a concrete address to join a cluster (peers use it)");
		err = -EINVAL;
		goto fail;
	}
	member_map_load(m);
	/* Tombstones collected before a restart are forgotten: assume any up
	 * to the last epoch this store saw. */
	m->gc_epoch = MAX(m->map.epoch, m->info.max_version >> 32);
	ncfg.ctl = cfg->ctl;
	ncfg.t = cfg->ctl_t;
	ncfg.env = m->cfg.env;
	ncfg.heartbeat_ms = cfg->heartbeat_ms;
	memcpy(ncfg.hello.cluster, m->info.cluster, 16);
	memcpy(ncfg.hello.node, m->info.node, 16);
	memcpy(ncfg.hello.ip, cfg->self.ip, 16);
	ncfg.hello.family = cfg->self.family;
	ncfg.hello.port = cfg->self.port;
	ncfg.hello.weight = cfg->weight ? cfg->weight : MAP_WEIGHT_ONE;
	snprintf(ncfg.hello.zone, sizeof(ncfg.hello.zone), "%s", cfg->zone ? cfg->zone : "");
	err = nodectl_open(&ncfg, &m->nc);
	if (err)
		goto fail;
	if (m->map.epoch)
		nodectl_set_map(m->nc, &m->map);
	recover_init(m);
	repair_init(m);
	if (m->map.epoch)
		recover_kick(m);
	*out = m;
	return 0;
fail:
	free(m->map_buf);
	free(m);
	return err;
}

void member_close(struct member *m)
{
	if (!m)
		return;
	chain_close_all(m);
	recover_fini(m);
	repair_fini(m);
	commit_fini(m);
	nodectl_close(m->nc);
	free(m->map_buf);
	free(m);
}

/* ------------------------------------------------------------ the loop */

static void member_figures(struct member *m, struct ctl_hello *fig)
{
	memset(fig, 0, sizeof(*fig));
	store_get_info(m->cfg.store, &m->info);
	fig->capacity = m->info.capacity;
	fig->used = m->info.used;
	fig->chunks = m->info.chunks;
	fig->max_version = m->info.max_version;
	fig->rec_pending = m->rec.ctr.pending;
	fig->rec_copied = m->rec.ctr.copies;
	fig->rec_bytes = m->rec.ctr.copy_bytes;
	fig->degraded = m->rec.ctr.degraded;
	fig->walk_epoch = m->rec.walk_epoch;
	fig->repaired = m->rep.repaired;
	fig->bad_chunks = m->rep.bad;
	fig->flags = m->info.failed ? CTL_HELLO_STORE_FAILED : 0;
}

void member_now(struct member *m, uint64_t now)
{
	m->now = now;
}

int member_poll(struct member *m, uint64_t now)
{
	struct ctl_hello fig;
	int did = 0, r;

	m->now = now;
	member_figures(m, &fig);
	r = nodectl_poll(m->nc, now, &fig);
	if (r < 0)
		return r;
	if (r == 1) {
		member_map_install(m, nodectl_map(m->nc));
		did = 1;
	}
	member_map_save(m);
	did |= recover_step(m, now);
	did |= repair_step(m, now);
	return did;
}

uint64_t member_next_deadline(struct member *m)
{
	uint64_t due = nodectl_next_deadline(m->nc);

	if (!m->map_saving && m->map_saved != m->map.epoch && m->map.epoch)
		due = MIN(due, MAX(m->now, m->map_retry_ns));

	due = MIN(due, recover_next_deadline(m));
	if (m->rep.count && !m->rep.busy)
		due = MIN(due, m->now);
	return due;
}

int member_read_done(struct member *m, uint64_t epoch, const uint8_t id[16])
{
	if (epoch == 0)
		return 0; /* a raw read of this node's disk */
	if (epoch != m->map.epoch || !nodectl_lease(m->nc, epoch, m->now)) {
		m->c_nolease++;
		return FERRY_ST_NOLEASE;
	}
	if (m->commit_lost || commit_unsure(m, id)) {
		m->c_unsure_reads++;
		return FERRY_ST_NOTREADY;
	}
	return 0;
}

void member_bad_chunk(struct member *m, const uint8_t id[16])
{
	repair_enqueue(m, id);
}

size_t member_stats(struct member *m, char *buf, size_t cap)
{
	const struct recover_counters *rc = &m->rec.ctr;
	int k = snprintf(
		buf, cap,
		"map_epoch %llu\nmap_clean_epoch %llu\nmap_saved_epoch %llu\nlease_valid %d\n"
		"cluster_stale %llu\ncluster_no_lease %llu\ncluster_not_head %llu\n"
		"cluster_not_ready %llu\ncluster_clustered_refused %llu\ncluster_future_versions %llu\n"
		"cluster_local_id_refused %llu\ncluster_forwards %llu\ncluster_forward_failures %llu\n"
		"cluster_version_conflicts %llu\ncluster_in_doubt %llu\ncluster_retry_absorbed %llu\n"
		"cluster_retry_redriven %llu\ncluster_maps %llu\n"
		"recovery_walks %llu\nrecovery_walk_epoch %llu\nrecovery_scanned %llu\n"
		"recovery_pending %llu\nrecovery_copies %llu\nrecovery_copy_bytes %llu\n"
		"recovery_tombstone_copies %llu\nrecovery_purged %llu\nrecovery_kept %llu\n"
		"recovery_degraded %llu\nrecovery_errors %llu\nrecovery_crc_mismatch %llu\n"
		"recovery_active %llu\nrepair_bad_chunks %llu\n"
		"repair_repaired %llu\nrepair_failed %llu\nrepair_queued %u\n"
		"commit_marked %llu\ncommit_unsure_now %u\ncommit_unsure_reads %llu\n"
		"cluster_slowest_request_us %llu\n",
		(unsigned long long)m->map.epoch, (unsigned long long)m->map.clean_epoch,
		(unsigned long long)m->map_saved, nodectl_lease(m->nc, m->map.epoch, m->now),
		(unsigned long long)m->c_stale, (unsigned long long)m->c_nolease,
		(unsigned long long)m->c_nothead, (unsigned long long)m->c_notready,
		(unsigned long long)m->c_clustered, (unsigned long long)m->c_future,
		(unsigned long long)m->c_bad_local_ids, (unsigned long long)m->c_fwd,
		(unsigned long long)m->c_fwd_fail, (unsigned long long)m->c_conflicts,
		(unsigned long long)m->c_indoubt, (unsigned long long)m->c_absorbed,
		(unsigned long long)m->c_redrive, (unsigned long long)m->c_maps,
		(unsigned long long)rc->walks, (unsigned long long)m->rec.walk_epoch,
		(unsigned long long)rc->scanned, (unsigned long long)rc->pending,
		(unsigned long long)rc->copies, (unsigned long long)rc->copy_bytes,
		(unsigned long long)rc->tomb_copies, (unsigned long long)rc->purged,
		(unsigned long long)rc->kept, (unsigned long long)rc->degraded,
		(unsigned long long)rc->errors, (unsigned long long)rc->crc_mismatch,
		(unsigned long long)m->rec.walking, (unsigned long long)m->rep.bad,
		(unsigned long long)m->rep.repaired,
		(unsigned long long)m->rep.failed, m->rep.count,
		(unsigned long long)m->c_uncommitted, m->commit.n,
		(unsigned long long)m->c_unsure_reads,
		(unsigned long long)(m->c_req_max_ns / 1000));

	return k < 0 ? 0 : MIN((size_t)k, cap ? cap - 1 : 0);
}
