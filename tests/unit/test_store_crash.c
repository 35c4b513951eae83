/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_store_crash - power loss at every write and flush of a mixed workload.
 *
 * The store runs on an in-memory disk behind the storage ops table that
 * models a volatile write cache: completed writes are pending until a flush
 * (or are durable at once with FUA). For crash point N the workload runs
 * from a freshly formatted disk until the Nth write-or-flush, which does
 * not complete; every later request fails. The post-crash disk is the
 * durable image plus a random choice of the pending writes: each dropped,
 * applied, or torn at 512-byte sectors. The store is then reopened and
 * must hold, for every chunk, the last acknowledged state or (for the one
 * op in flight) its new state, never anything else; fsck must be clean.
 * The workload mixes PUTs of sizes around block edges, unaligned WRITEs
 * (copy-on-write), 4 KiB-aligned WRITEs done in place through the journal
 * (1-4 blocks, overlapping, the last block included), DELETEs, tombstones
 * (DELETE with a version: over a live chunk, over an older tombstone, over
 * nothing, and the same delete again), PURGEs of live chunks and of
 * tombstones, and PUTs with an explicit version (over a tombstone too; just
 * above the chunk's, at or below the one-flush watermark, or above the
 * clock), and same-version repairs (the chunk's bytes again at its own
 * version, STORE_OPF_SAMEVER); a state is live bytes + version, a
 * tombstone + version, or nothing, and STAT must say which. On the legacy
 * disk the first tombstone adds the feature bit to both superblocks, crash
 * points included. A last pass repairs a chunk with a corrupt block (three
 * sizes, both disks) and crashes at every event of it, each post-crash
 * image kind: the chunk is the old copy (-EBADMSG, only if the repair was
 * not acknowledged) or the repaired one, told apart by its blocks. PUTs and
 * copy-on-write WRITEs commit with one flush (ONEFLUSH), with the watermark
 * raised every 24 KiB so crashes land inside its superblock writes too. The
 * crashed image is also fsck'ed as it is (leftovers, pending journal
 * replays and torn one-flush records are stale, never problems). Four
 * passes: flush commits (every crash point), FUA commits, a disk without
 * the journal/one-flush features (two-flush commits, copy-on-write only),
 * and flush commits with every PUT a scatter PUT (op.iov: the data written
 * straight from 512-byte aligned pieces by vectored requests, which the
 * backend lands at sector granularity like any other write; one in seven
 * with a misaligned piece, gathered through the bounce buffer), each of
 * the last three at every third point.
 *
 * Env: STORE_CRASH_OPS (workload length), STORE_CRASH_STRIDE (test every
 * k-th crash point; default 1 = all).
 */
#include "lib/store_fixture.h"
#include "lib/test.h"
#include "common/crc32c.h"
#include "common/log.h"
#include "storage/store_int.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PG 4096u
#define DEV_SIZE (16u << 20)
#define MAX_CHUNK (16u << 10)
#define NIDS 6

/* ---- page-shared disk images (cheap clones) ---- */

struct img {
	uint8_t **pg;   /* DEV_SIZE / PG pages */
	uint8_t *own;   /* 1 = this image owns (may write) the page */
};

static uint8_t *zero_page;

static struct img *img_new(void)
{
	struct img *m = calloc(1, sizeof(*m));

	m->pg = calloc(DEV_SIZE / PG, sizeof(*m->pg));
	m->own = calloc(DEV_SIZE / PG, 1);
	for (size_t i = 0; i < DEV_SIZE / PG; i++)
		m->pg[i] = zero_page;
	return m;
}

static struct img *img_clone(const struct img *src)
{
	struct img *m = calloc(1, sizeof(*m));

	m->pg = malloc(DEV_SIZE / PG * sizeof(*m->pg));
	memcpy(m->pg, src->pg, DEV_SIZE / PG * sizeof(*m->pg));
	m->own = calloc(DEV_SIZE / PG, 1);
	return m;
}

static void img_free(struct img *m)
{
	for (size_t i = 0; i < DEV_SIZE / PG; i++)
		if (m->own[i])
			free(m->pg[i]);
	free(m->pg);
	free(m->own);
	free(m);
}

static void img_write(struct img *m, uint64_t off, const uint8_t *d, uint32_t len)
{
	while (len) {
		size_t p = off / PG, o = off % PG, n = PG - o < len ? PG - o : len;

		if (!m->own[p]) {
			uint8_t *c = malloc(PG);
			memcpy(c, m->pg[p], PG);
			m->pg[p] = c;
			m->own[p] = 1;
		}
		memcpy(m->pg[p] + o, d, n);
		off += n;
		d += n;
		len -= (uint32_t)n;
	}
}

static void img_read(const struct img *m, uint64_t off, uint8_t *d, uint32_t len)
{
	while (len) {
		size_t p = off / PG, o = off % PG, n = PG - o < len ? PG - o : len;

		memcpy(d, m->pg[p] + o, n);
		off += n;
		d += n;
		len -= (uint32_t)n;
	}
}

/* ---- the crash-simulating backend ---- */

struct pw {
	uint64_t off;   /* byte offset */
	uint32_t len;   /* bytes */
	uint64_t seq;   /* write order */
	uint8_t *data;  /* copy */
};

struct cdisk {
	struct img *cur;            /* what reads see */
	struct img *dur;            /* what survives power loss */
	struct pw *pend;            /* completed, not yet durable */
	size_t npend, cappend;
	struct pw *fua;             /* FUA writes since the last flush (supersede pend) */
	size_t nfua, capfua;
	struct store_io_req *q[512]; /* queued */
	uint64_t qseq[512];         /* write seq completed when each was queued */
	size_t nq;
	size_t nsub;                /* q[0, nsub) have been submitted */
	uint64_t rng;               /* completion order (same in every run) */
	long events;                /* writes + flushes seen */
	long crash_at;              /* event number that crashes; 0 = never */
	int crashed;
	uint64_t seq;
};

static void pw_push(struct pw **a, size_t *n, size_t *cap, uint64_t off, const void *d,
		    uint32_t len, uint64_t seq)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		*a = realloc(*a, *cap * sizeof(**a));
	}
	(*a)[*n].off = off;
	(*a)[*n].len = len;
	(*a)[*n].seq = seq;
	(*a)[*n].data = malloc(len);
	memcpy((*a)[*n].data, d, len);
	(*n)++;
}

static void pw_clear(struct pw *a, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		free(a[i].data);
	*n = 0;
}

static int cd_queue(void *ctx, struct store_io_req *r)
{
	struct cdisk *d = ctx;

	if (d->nq == 512)
		return -EAGAIN;
	/* A flush covers only the writes that had completed when it was queued
	 * (not those queued beside it), as on a real device. */
	d->qseq[d->nq] = d->seq;
	d->q[d->nq++] = r;
	return 0;
}

static void cd_do(struct cdisk *d, struct store_io_req *r, uint64_t covers)
{
	static uint8_t vbuf[MAX_CHUNK]; /* a vectored request's bytes */
	uint8_t *io = r->buf ? r->buf : vbuf;

	REQUIRE(r->off + r->len <= DEV_SIZE);
	REQUIRE(r->off % 512 == 0 && r->len % 512 == 0);
	REQUIRE(r->buf || r->len <= sizeof(vbuf));
	/* Vectored writes land exactly as one-buffer ones: in 512-byte sectors. */
	if (r->kind == STORE_IO_WRITE && !r->buf)
		store_fixture_req_out(r, vbuf);
	if (r->kind != STORE_IO_READ)
		d->events++;
	if (!d->crashed && d->crash_at && d->events == d->crash_at && r->kind != STORE_IO_READ) {
		d->crashed = 1;
		/* The request in flight at power loss may land in part. */
		if (r->kind == STORE_IO_WRITE)
			pw_push(&d->pend, &d->npend, &d->cappend, r->off, io, r->len, ++d->seq);
	}
	if (d->crashed) {
		r->res = -EIO;
		return;
	}
	switch (r->kind) {
	case STORE_IO_READ:
		img_read(d->cur, r->off, io, r->len);
		if (!r->buf)
			store_fixture_req_in(r, vbuf);
		break;
	case STORE_IO_WRITE:
		img_write(d->cur, r->off, io, r->len);
		d->seq++;
		if (r->fua) {
			img_write(d->dur, r->off, io, r->len);
			pw_push(&d->fua, &d->nfua, &d->capfua, r->off, io, r->len, d->seq);
		} else {
			pw_push(&d->pend, &d->npend, &d->cappend, r->off, io, r->len, d->seq);
		}
		break;
	default: {
		/* Apply the covered pending writes and the FUA writes (already
		 * durable) together in write order, so the newest bytes win. */
		size_t keep = 0, nall = 0, kf = 0;
		struct pw **all = malloc((d->npend + d->nfua) * sizeof(*all));
		uint64_t minkeep = UINT64_MAX;

		for (size_t i = 0; i < d->npend; i++)
			if (d->pend[i].seq <= covers)
				all[nall++] = &d->pend[i];
		for (size_t i = 0; i < d->nfua; i++)
			all[nall++] = &d->fua[i];
		for (size_t i = 1; i < nall; i++) /* insertion sort by seq */
			for (size_t j = i; j > 0 && all[j - 1]->seq > all[j]->seq; j--) {
				struct pw *t = all[j];
				all[j] = all[j - 1];
				all[j - 1] = t;
			}
		for (size_t i = 0; i < nall; i++)
			img_write(d->dur, all[i]->off, all[i]->data, all[i]->len);
		free(all);
		for (size_t i = 0; i < d->npend; i++) {
			if (d->pend[i].seq <= covers) {
				free(d->pend[i].data);
			} else {
				if (d->pend[i].seq < minkeep)
					minkeep = d->pend[i].seq;
				d->pend[keep++] = d->pend[i];
			}
		}
		d->npend = keep;
		/* FUA writes older than every pending write can no longer matter. */
		for (size_t i = 0; i < d->nfua; i++) {
			if (d->fua[i].seq < minkeep)
				free(d->fua[i].data);
			else
				d->fua[kf++] = d->fua[i];
		}
		d->nfua = kf;
		break;
	}
	}
	r->res = r->kind == STORE_IO_FLUSH ? 0 : (int)r->len;
}

static int cd_submit(void *ctx)
{
	struct cdisk *d = ctx;

	d->nsub = d->nq;
	return 0;
}

static uint32_t cd_rand(struct cdisk *d)
{
	d->rng ^= d->rng << 13;
	d->rng ^= d->rng >> 7;
	d->rng ^= d->rng << 17;
	return (uint32_t)d->rng;
}

/* The device completes a random subset of the submitted requests, in any
 * order (at least one when the caller waits): an op's requests can still be
 * in flight when the next op starts, as with a real queue. */
static int cd_reap(void *ctx, int wait)
{
	struct cdisk *d = ctx;
	struct store_io_req *done[512];
	size_t ndone = 0, keep = 0;

	if (wait)
		cd_submit(d);
	if (wait && !d->nsub)
		return -EDEADLK; /* the engine waits for nothing: a bug */
	for (size_t i = 0; i < d->nq; i++) {
		int run = i < d->nsub && (cd_rand(d) % 2 || (wait && !ndone && i + 1 == d->nsub));

		if (run) {
			cd_do(d, d->q[i], d->qseq[i]);
			done[ndone++] = d->q[i];
		} else {
			d->q[keep] = d->q[i];
			d->qseq[keep] = d->qseq[i];
			keep++;
		}
	}
	d->nsub -= ndone;
	d->nq = keep;
	for (size_t i = 0; i < ndone; i++)
		done[i]->done(done[i]);
	return (int)ndone;
}

static int cd_fd(void *ctx)
{
	(void)ctx;
	return -1;
}

static int cd_register(void *ctx, int idx, void *base, size_t len)
{
	(void)ctx;
	(void)idx;
	(void)base;
	(void)len;
	return 0;
}

static uint64_t cd_size(void *ctx)
{
	(void)ctx;
	return DEV_SIZE;
}

static void cd_close(void *ctx)
{
	(void)ctx; /* the test owns the disk */
}

static const struct store_io_ops cd_ops = {
	.queue = cd_queue, .submit = cd_submit, .reap = cd_reap, .fd = cd_fd,
	.register_buf = cd_register, .size = cd_size, .close = cd_close,
};

static struct cdisk *cd_new(const struct img *base)
{
	struct cdisk *d = calloc(1, sizeof(*d));

	d->cur = img_clone(base);
	d->dur = img_clone(base);
	d->rng = 0x853c49e6748fea9bull;
	return d;
}

static void cd_free(struct cdisk *d)
{
	img_free(d->cur);
	img_free(d->dur);
	pw_clear(d->pend, &d->npend);
	pw_clear(d->fua, &d->nfua);
	free(d->pend);
	free(d->fua);
	free(d);
}

/* ---- workload and model ---- */

static uint64_t rng_state;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)rng_state;
}

struct cstate {
	int present;               /* chunk exists */
	int tomb;                  /* no chunk, a tombstone (present = 0) */
	uint32_t size;             /* bytes */
	uint64_t version;          /* version (0 = unknown: the clock's next) */
	uint8_t data[MAX_CHUNK];   /* content */
};

static struct cstate acked[NIDS];   /* last acknowledged state per id */
static struct cstate flight;        /* new state of the op in flight at the crash */
static int flight_id;               /* its id, -1 none */

static const uint8_t cluster[16] = { 0xc7 };
static uint64_t n_inplace;          /* in-place WRITEs of the reference runs */
static uint64_t n_replays;          /* journal replays done by the reopens */
static uint64_t n_torn;             /* one-flush records dropped by the reopens */
static int counting, fsck_errs;     /* fsck errors logged (see quiet_sink) */
static int commit_fua;              /* store_cfg.commit_fua of this pass */
static int scatter;                 /* PUTs of this pass are scatter PUTs */
static uint64_t n_sdirect, n_sbounce; /* scatter PUTs that went direct, bounced */
static uint64_t n_tomb, n_purge, n_vput; /* tombstones, PURGEs, versioned PUTs acked */
static uint64_t n_repair;           /* same-version repairs acked */

static void put_done(struct store_op *op)
{
	*(int *)op->user = 1;
}

/* put_scatter - PUT b[0, sz) as pieces of 3584 or 1024 bytes (by op number
 * k), each 512-byte aligned with a gap after it; when k % 7 == 0 piece 1 is
 * 8 bytes off alignment (the bounce path). Returns res or -errno. */
static int put_scatter(struct store *s, const uint8_t id[16], const uint8_t *b, uint32_t sz,
		       int k, uint64_t want, uint32_t flags, uint64_t *ver)
{
	enum { STRIDE = PG + 512 };
	static uint8_t mem[(MAX_CHUNK / 1024 + 1) * STRIDE] __attribute__((aligned(PG)));
	static struct iovec iov[MAX_CHUNK / 1024 + 1];
	static struct store_op op;
	struct store_counters c0, c1;
	uint32_t psz = k % 2 ? 1024 : 3584, at = 0;
	int n = 0, done = 0, ret;

	for (; at < sz; n++) {
		uint32_t len = sz - at < psz ? sz - at : psz;

		iov[n].iov_base = mem + (size_t)n * STRIDE + (n == 1 && k % 7 == 0 ? 8 : 0);
		iov[n].iov_len = len;
		memcpy(iov[n].iov_base, b + at, len);
		at += len;
	}
	memset(&op, 0, sizeof(op));
	op.type = STORE_OP_PUT;
	memcpy(op.id, id, 16);
	op.len = sz;
	op.iov = iov;
	op.iovcnt = n;
	op.version = want;
	op.flags = flags;
	op.cb = put_done;
	op.user = &done;
	store_get_counters(s, &c0);
	ret = store_submit(s, &op);
	while (ret == 0 && !done)
		ret = store_poll(s, 1) < 0 ? -EIO : 0;
	if (ret == 0)
		*ver = op.version;
	store_get_counters(s, &c1);
	n_sdirect += c1.direct_ops - c0.direct_ops;
	n_sbounce += c1.bounce - c0.bounce;
	return ret < 0 ? ret : op.res;
}

/* put_repair - a same-version repair: PUT b[0, sz) with STORE_OPF_SAMEVER
 * at version v, through the asynchronous op. Returns res or -errno. */
static int put_repair(struct store *s, const uint8_t id[16], const uint8_t *b, uint32_t sz,
		      uint64_t v)
{
	static struct store_op op;
	int done = 0, ret;

	memset(&op, 0, sizeof(op));
	op.type = STORE_OP_PUT;
	memcpy(op.id, id, 16);
	op.buf = (void *)b;
	op.len = op.buf_cap = sz;
	op.version = v;
	op.flags = STORE_OPF_SAMEVER;
	op.cb = put_done;
	op.user = &done;
	ret = store_submit(s, &op);
	while (ret == 0 && !done)
		ret = store_poll(s, 1) < 0 ? -EIO : 0;
	return ret < 0 ? ret : op.res;
}

static void mkid(int i, uint8_t id[16])
{
	memset(id, 0, 16);
	id[0] = 0xa0;
	id[15] = (uint8_t)i;
}

enum { W_PUT, W_REPAIR, W_VPUT, W_WRITE, W_AWRITE, W_DELETE, W_TOMB, W_PURGE, W_REOPEN };

/* pick_version - an explicit version above id i's record: just above it
 * (usually below the clock, so at or below the one-flush watermark: two
 * flushes), or above the clock (one flush). */
static uint64_t pick_version(const struct store *s, int i)
{
	if (rnd() % 2)
		return s->next_version + rnd() % 3;
	return acked[i].version + 1 + rnd() % 3;
}

/* Run the workload (seeded) on d until it ends or the disk crashes. */
static void run_workload(struct cdisk *d, int nops, struct store **sp)
{
	struct store_cfg cfg = { .cluster = cluster, .queue_depth = 16, .commit_fua = commit_fua };
	struct store *s = NULL;
	static uint8_t buf[MAX_CHUNK];

	memset(acked, 0, sizeof(acked));
	flight_id = -1;
	rng_state = 0x9e3779b97f4a7c15ull;
	if (store_open_io(&cfg, &cd_ops, d, 0, &s) < 0) {
		REQUIRE(d->crashed);
		*sp = NULL;
		return;
	}
	for (int k = 0; k < nops; k++) {
		uint32_t r = rnd() % 100;
		int kind = r < 27 ? W_PUT : r < 31 ? W_REPAIR : r < 40 ? W_VPUT : r < 50 ? W_WRITE :
			   r < 66 ? W_AWRITE : r < 78 ? W_DELETE : r < 91 ? W_TOMB :
			   r < 99 ? W_PURGE : W_REOPEN;
		int i = (int)(rnd() % NIDS), ret;
		uint8_t id[16];
		uint64_t ver = 0, want = 0;

		mkid(i, id);
		if ((kind == W_WRITE || kind == W_AWRITE) && !acked[i].present)
			kind = W_PUT;
		if (kind == W_AWRITE && acked[i].size == 0)
			kind = W_WRITE;
		if ((kind == W_DELETE || kind == W_PURGE) && !acked[i].present && !acked[i].tomb)
			kind = W_PUT;
		if (kind == W_REPAIR && !acked[i].present)
			kind = W_PUT;
		if (kind == W_VPUT) {
			kind = W_PUT; /* over whatever the id has: a tombstone, too */
			want = pick_version(s, i);
		}
		flight = acked[i];
		flight.version = want; /* 0: unknown until acked */
		if (kind == W_PUT) {
			/* Sizes around block edges: 0, < 4K, 4K, multi-block, max. */
			static const uint32_t sizes[] = { 0, 1, 100, 4095, 4096, 4097, 8192,
							  12000, MAX_CHUNK };
			uint32_t sz = sizes[rnd() % 9];
			struct iovec iov = { buf, sz };

			for (uint32_t b = 0; b < sz; b++)
				buf[b] = (uint8_t)rnd();
			flight.present = 1;
			flight.tomb = 0;
			flight.size = sz;
			memcpy(flight.data, buf, sz);
			flight_id = i;
			if (scatter) {
				ret = put_scatter(s, id, buf, sz, k, want, 0, &ver);
			} else if (want) {
				ret = store_put_version(s, id, &iov, 1, want);
				ver = want;
			} else {
				ret = store_put(s, id, &iov, 1, &ver);
			}
			n_vput += want && ret == 0;
		} else if (kind == W_WRITE || kind == W_AWRITE) {
			uint32_t off = rnd() % (acked[i].size + 2048);
			uint32_t len = 1 + rnd() % 6000;
			struct iovec iov = { buf, len };

			if (kind == W_AWRITE) {
				/* 4 KiB-aligned, in place: 1..4 blocks from any block of
				 * the chunk (overlapping earlier ones, the last block
				 * included: a write there may fill its slack); one in
				 * eight grows past the extent (copy-on-write). */
				uint32_t nb = (acked[i].size + PG - 1) / PG, b0 = rnd() % nb;
				uint32_t m = 1 + rnd() % 4;

				if (rnd() % 8 && b0 + m > nb)
					m = nb - b0;
				off = b0 * PG;
				len = m * PG;
			} else if (rnd() % 2) {
				off &= ~4095u; /* aligned half the time */
			}
			if (off >= MAX_CHUNK)
				off = MAX_CHUNK - 1;
			if (off + len > MAX_CHUNK)
				len = MAX_CHUNK - off;
			iov.iov_len = len;
			for (uint32_t b = 0; b < len; b++)
				buf[b] = (uint8_t)rnd();
			if (off > flight.size)
				memset(flight.data + flight.size, 0, off - flight.size);
			memcpy(flight.data + off, buf, len);
			if (off + len > flight.size)
				flight.size = off + len;
			flight_id = i;
			ret = store_write(s, id, off, &iov, 1, &ver);
		} else if (kind == W_REPAIR) {
			/* The chunk's own bytes again at its own version (what a
			 * replica's good copy is): old and new state are the same,
			 * in new space; a crash must leave one whole copy. */
			flight.version = acked[i].version;
			flight_id = i;
			if (scatter)
				ret = put_scatter(s, id, acked[i].data, acked[i].size, k,
						  acked[i].version, STORE_OPF_SAMEVER, &ver);
			else
				ret = put_repair(s, id, acked[i].data, acked[i].size,
						 acked[i].version);
			ver = acked[i].version;
			n_repair += ret == 0;
		} else if (kind == W_DELETE) {
			/* Version 0: the record goes, live or tombstone. */
			flight.present = flight.tomb = 0;
			flight_id = i;
			ret = store_delete(s, id);
		} else if (kind == W_TOMB) {
			/* Over a live chunk, an older tombstone, or nothing; one in
			 * eight on a tombstone is the same delete again (a retry). */
			want = acked[i].tomb && rnd() % 8 == 0 ? acked[i].version : pick_version(s, i);
			flight.present = 0;
			flight.tomb = 1;
			flight.size = 0;
			flight.version = want;
			flight_id = i;
			ret = store_delete_version(s, id, want);
			ver = want;
			n_tomb += ret == 0;
		} else if (kind == W_PURGE) {
			flight.present = flight.tomb = 0;
			flight_id = i;
			ret = store_purge(s, id, acked[i].version);
			n_purge += ret == 0;
		} else {
			struct store_counters ctr;

			flight_id = -1;
			store_get_counters(s, &ctr);
			if (!d->crash_at) /* the reference run */
				n_inplace += ctr.writes_inplace;
			store_close(s);
			s = NULL;
			ret = store_open_io(&cfg, &cd_ops, d, 0, &s);
			if (ret < 0) {
				REQUIRE(d->crashed);
				*sp = NULL;
				return;
			}
			continue;
		}
		if (ret < 0) {
			if (!d->crashed)
				fprintf(stderr, "op %d kind %d on id %d failed: %d\n", k, kind, i, ret);
			REQUIRE(d->crashed);
			*sp = s;
			return;
		}
		flight.version = ver;
		acked[i] = flight;
		flight_id = -1;
	}
	*sp = s;
}

/* Build the post-crash image: durable + some of the pending writes. */
static struct img *crash_image(struct cdisk *d, int variant)
{
	struct img *m = img_clone(d->dur);

	for (size_t i = 0; i < d->npend; i++) {
		struct pw *w = &d->pend[i];
		uint32_t mode = variant == 0 ? 0 : variant == 1 ? 1 : rnd() % 3;

		if (mode == 0)
			continue;
		for (uint32_t o = 0; o < w->len; o += 512) {
			int covered = 0;

			if (mode == 2 && rnd() % 2)
				continue; /* torn: this sector did not land */
			/* A newer FUA write to the sector supersedes this one. */
			for (size_t f = 0; f < d->nfua; f++)
				if (d->fua[f].seq > w->seq && w->off + o >= d->fua[f].off &&
				    w->off + o < d->fua[f].off + d->fua[f].len)
					covered = 1;
			if (!covered)
				img_write(m, w->off + o, w->data + o, 512);
		}
	}
	return m;
}

/* shows - does the reopened chunk (STAT result ret and st; its bytes
 * got[0, n)) have state c? A version c does not know (0: the clock's next,
 * not acknowledged before the crash) must be above `above`. */
static int shows(const struct cstate *c, int ret, const struct store_stat *st,
		 const uint8_t *got, uint32_t n, uint64_t above)
{
	int vok = c->version ? st->version == c->version : st->version > above;

	if (c->present)
		return ret == 0 && c->size == n && memcmp(c->data, got, n) == 0 && vok;
	if (c->tomb)
		return ret == -ENOENT && st->flags == STORE_STAT_TOMBSTONE && vok;
	return ret == -ENOENT && st->flags == 0;
}

/* Reopen the crashed disk and check every invariant; returns failures. */
static int verify(struct img *m, long point)
{
	struct cdisk *d = cd_new(m);
	struct store_cfg cfg = { .cluster = cluster, .queue_depth = 16 };
	struct store_fsck_report rep;
	struct store *s;
	static uint8_t got[MAX_CHUNK + 4096];
	int bad = 0, present = 0, tombs = 0, ret;

	/* fsck of the crashed image itself: leftovers and pending journal
	 * replays are stale (a read-write open fixes them), never problems. */
	fsck_errs = 0;
	counting = 1;
	ret = store_fsck_io(&cd_ops, d, &rep);
	counting = 0;
	if (ret < 0 || fsck_errs) {
		fprintf(stderr, "crash point %ld: fsck before reopen %d (%d problems besides an "
			"old superblock copy)\n", point, ret, fsck_errs);
		bad++;
	}

	ret = store_open_io(&cfg, &cd_ops, d, 0, &s);
	if (ret < 0) {
		fprintf(stderr, "crash point %ld: reopen failed: %d\n", point, ret);
		cd_free(d);
		return 1;
	}
	{
		struct store_counters ctr;

		store_get_counters(s, &ctr);
		n_replays += ctr.replays;
		n_torn += ctr.torn;
	}
	for (int i = 0; i < NIDS; i++) {
		uint8_t id[16];
		struct store_stat st;
		uint32_t n = 0;
		int in_flight = flight_id == i;

		mkid(i, id);
		memset(&st, 0, sizeof(st));
		ret = store_stat(s, id, &st);
		if (ret == 0) {
			present++;
			if (store_get(s, id, 0, MAX_CHUNK, got, &n) < 0 || n != st.size) {
				fprintf(stderr, "crash point %ld: id %d unreadable\n", point, i);
				bad++;
				continue;
			}
			if (st.crc != crc32c(0, got, n)) {
				fprintf(stderr, "crash point %ld: id %d stat crc wrong\n", point, i);
				bad++;
			}
		} else if (ret == -ENOENT) {
			tombs += st.flags == STORE_STAT_TOMBSTONE;
		} else {
			fprintf(stderr, "crash point %ld: id %d: stat %d\n", point, i, ret);
			bad++;
			continue;
		}
		if (shows(&acked[i], ret, &st, got, n, 0))
			continue;
		if (in_flight && shows(&flight, ret, &st, got, n, acked[i].version))
			continue;
		fprintf(stderr, "crash point %ld: id %d is neither old nor new (stat %d flags %u "
			"size %u v%llu; acked %d/%d/%u v%llu; in flight %d: %d/%d v%llu)\n", point,
			i, ret, st.flags, n, (unsigned long long)st.version, acked[i].present,
			acked[i].tomb, acked[i].size, (unsigned long long)acked[i].version,
			in_flight, flight.present, flight.tomb, (unsigned long long)flight.version);
		bad++;
	}
	{
		struct store_info info;

		store_get_info(s, &info);
		if (info.chunks != (uint64_t)present || info.tombstones != (uint64_t)tombs) {
			fprintf(stderr, "crash point %ld: %llu chunks, %llu tombstones, expected "
				"%d, %d\n", point, (unsigned long long)info.chunks,
				(unsigned long long)info.tombstones, present, tombs);
			bad++;
		}
	}
	store_close(s);
	/* fsck the repaired image: clean, no leftovers. */
	d->crash_at = 0;
	ret = store_fsck_io(&cd_ops, d, &rep);
	if (ret != 0 || rep.stale) {
		fprintf(stderr, "crash point %ld: fsck %d, stale %llu\n", point, ret,
			(unsigned long long)rep.stale);
		bad++;
	}
	cd_free(d);
	return bad;
}

/* ---- same-version repair of a corrupt chunk, a crash at every event ---- */

#define NREP 3
static const uint32_t rep_size[NREP] = { 12000, 100, MAX_CHUNK };
static uint8_t rep_data[NREP][MAX_CHUNK]; /* the chunks' (good) bytes */
static uint64_t rep_ver[NREP];             /* their versions */
static uint32_t rep_oldblk;                /* the corrupt copy's first block */
static int rep_acked;                      /* the repair was acknowledged */
static long rep_old, rep_new;              /* outcomes seen after crashes */

/* repair_setup - on a copy of start: PUT the NREP chunks, close (the
 * watermark rises past them: bit rot in them reads as -EBADMSG, not as a
 * torn write), then flip a bit in the last block of chunk victim. */
static struct img *repair_setup(const struct img *start, int victim)
{
	struct store_cfg cfg = { .cluster = cluster, .queue_depth = 16 };
	struct cdisk *d = cd_new(start);
	struct img *m = img_new();
	struct store *s;
	uint64_t off;
	uint8_t id[16], b;

	REQUIRE(store_open_io(&cfg, &cd_ops, d, 0, &s) == 0);
	for (int i = 0; i < NREP; i++) {
		struct iovec iov = { rep_data[i], rep_size[i] };

		for (uint32_t k = 0; k < rep_size[i]; k++)
			rep_data[i][k] = (uint8_t)rnd();
		mkid(10 + i, id);
		REQUIRE(store_put(s, id, &iov, 1, &rep_ver[i]) == 0);
	}
	mkid(10 + victim, id);
	rep_oldblk = store_index_find(s, id)->block;
	off = s->g.data_off + ((uint64_t)rep_oldblk + (rep_size[victim] - 1) / PG) * PG + 33;
	store_close(s);
	for (uint64_t o = 0; o < DEV_SIZE; o += PG) /* a deep copy: d goes */
		img_write(m, o, d->cur->pg[o / PG], PG);
	cd_free(d);
	img_read(m, off, &b, 1);
	b ^= 0x20;
	img_write(m, off, &b, 1);
	return m;
}

/* repair_run - open d, repair chunk victim with its good bytes at its own
 * version, close; until the crash. */
static void repair_run(struct cdisk *d, int victim)
{
	struct store_cfg cfg = { .cluster = cluster, .queue_depth = 16 };
	struct store *s;
	uint8_t id[16];

	rep_acked = 0;
	if (store_open_io(&cfg, &cd_ops, d, 0, &s) < 0) {
		REQUIRE(d->crashed);
		return;
	}
	mkid(10 + victim, id);
	if (put_repair(s, id, rep_data[victim], rep_size[victim], rep_ver[victim]) == 0)
		rep_acked = 1; /* its callback ran with 0 (the crash may follow) */
	else
		REQUIRE(d->crashed);
	store_close(s); /* drains the erase of the old copy's header */
}

/* verify_repair - reopen: every chunk at its version; the victim either
 * the old copy (reads -EBADMSG; only if the repair was not acknowledged)
 * or the new one (reads its good bytes), told apart by the winner's
 * blocks; fsck after: the old copy is the one problem, nothing stale. */
static int verify_repair(struct img *m, long point, int victim)
{
	struct store_cfg cfg = { .cluster = cluster, .queue_depth = 16 };
	struct cdisk *d = cd_new(m);
	struct store_fsck_report rep;
	static uint8_t got[MAX_CHUNK];
	struct store *s;
	int bad = 0, old = 0, ret;

	if (store_open_io(&cfg, &cd_ops, d, 0, &s) < 0) {
		fprintf(stderr, "repair crash point %ld: reopen failed\n", point);
		cd_free(d);
		return 1;
	}
	for (int i = 0; i < NREP; i++) {
		struct store_stat st;
		uint8_t id[16];
		uint32_t n = 0;

		mkid(10 + i, id);
		ret = store_stat(s, id, &st);
		if (ret != 0 || st.version != rep_ver[i]) {
			fprintf(stderr, "repair crash point %ld: chunk %d: stat %d v%llu\n", point,
				i, ret, (unsigned long long)st.version);
			bad++;
			continue;
		}
		ret = store_get(s, id, 0, MAX_CHUNK, got, &n);
		if (i == victim && store_index_find(s, id)->block == rep_oldblk) {
			old = 1; /* the corrupt copy won: it must read as such */
			if (ret != -EBADMSG || rep_acked) {
				fprintf(stderr, "repair crash point %ld: old copy: get %d, acked %d\n",
					point, ret, rep_acked);
				bad++;
			}
		} else if (ret != 0 || n != rep_size[i] || memcmp(got, rep_data[i], n) != 0) {
			fprintf(stderr, "repair crash point %ld: chunk %d: get %d (%u bytes)%s\n",
				point, i, ret, n, i == victim ? " (the repair)" : "");
			bad++;
		}
	}
	rep_old += old;
	rep_new += !old;
	store_close(s);
	ret = store_fsck_io(&cd_ops, d, &rep);
	if (ret != old || rep.stale) {
		fprintf(stderr, "repair crash point %ld: fsck %d, stale %llu (old copy %d)\n",
			point, ret, (unsigned long long)rep.stale, old);
		bad++;
	}
	cd_free(d);
	return bad;
}

/* repair_pass - for every victim, every crash point of its repair (the
 * open before it and the close after it included); returns failures. */
static long repair_pass(const struct img *start, long *tested, long *total)
{
	long bad = 0;

	for (int victim = 0; victim < NREP && bad <= 10; victim++) {
		struct img *img = repair_setup(start, victim);
		struct cdisk *r = cd_new(img);
		long events;

		repair_run(r, victim); /* reference run: count the events */
		REQUIRE(rep_acked);
		events = r->events;
		*total += events;
		cd_free(r);
		for (long n = 1; n <= events && bad <= 10; n++) {
			struct cdisk *c = cd_new(img);

			c->crash_at = n;
			repair_run(c, victim);
			REQUIRE(c->crashed);
			/* Few points: every post-crash image kind at each (the
			 * pending writes dropped, applied, torn). */
			for (int variant = 0; variant < 3; variant++) {
				struct img *m;

				rng_state = (uint64_t)n * 0x2545f4914f6cdd1dull + 7;
				m = crash_image(c, variant);
				bad += verify_repair(m, n, victim);
				img_free(m);
			}
			cd_free(c);
			(*tested)++;
		}
		img_free(img);
	}
	return bad;
}

static void quiet_sink(enum log_level lvl, const char *line, void *arg)
{
	(void)arg;
	/* An out-of-date superblock copy (crash between the two writes) is a
	 * problem fsck reports and open repairs; anything else must not be. */
	if (counting && lvl == LOG_LVL_ERR && !strstr(line, "superblock copy"))
		fsck_errs++;
	if (lvl == LOG_LVL_ERR && getenv("STORE_CRASH_VERBOSE"))
		fprintf(stderr, "%s\n", line);
}

int main(void)
{
	const char *e = getenv("STORE_CRASH_OPS");
	const char *st = getenv("STORE_CRASH_STRIDE");
	int nops = e ? atoi(e) : 450;
	long stride = st ? atol(st) : 1, total = 0, tested = 0, bad = 0;
	struct store_format_cfg fc = { .max_chunk = MAX_CHUNK };
	struct img *base, *legacy;
	struct cdisk *d;
	struct store *s;
	uint8_t disk[16] = { 0xd1 };
	uint64_t inplace_pass0 = 0;

	log_set_sink(quiet_sink, NULL);
	store_hwm_step_override = 2; /* raise the record mark often: crash inside it */
	store_verify_bytes_override = 24 << 10; /* and the one-flush watermark */
	zero_page = calloc(1, PG);
	memcpy(fc.cluster, cluster, 16);
	base = img_new();
	d = cd_new(base);
	REQUIRE(store_format_io(&cd_ops, d, &fc, disk) == 0);
	img_free(base);
	base = img_clone(d->cur);
	/* base shares d->cur's pages: keep d alive until the end. */
	{
		/* The same disk as formatted before the journal and one-flush
		 * features: two-flush commits, every WRITE copy-on-write. */
		uint8_t sbuf[PG];
		struct store_sb_disk sb;
		struct store_geom g;

		legacy = img_clone(base);
		img_read(legacy, 0, sbuf, PG);
		REQUIRE(store_sb_decode(sbuf, PG, &sb, &g) == 0);
		g.incompat = 0;
		memset(sbuf, 0, PG);
		store_sb_encode(sbuf, sb.cluster, sb.node, sb.disk, &g, sb.generation, sb.created);
		img_write(legacy, 0, sbuf, PG);
		img_write(legacy, g.dev_size - PG, sbuf, PG);
	}

	/* Pass 0 commits by flush (the default) and tests every crash point;
	 * pass 1 commits with FUA record writes and tests every third; pass 2
	 * runs on the legacy disk and tests every third; pass 3 is pass 0 with
	 * scatter PUTs, at every third. */
	for (int pass = 0; pass < 4 && bad <= 10; pass++) {
		long step = pass ? 3 * stride : stride, ptotal;
		struct img *start = pass == 2 ? legacy : base;
		struct cdisk *r = cd_new(start);

		commit_fua = pass == 1;
		scatter = pass == 3;
		/* Reference run: no crash; count the events. */
		run_workload(r, nops, &s);
		REQUIRE(s);
		{
			struct store_counters ctr;

			store_get_counters(s, &ctr);
			n_inplace += ctr.writes_inplace;
		}
		store_close(s);
		ptotal = r->events;
		total += ptotal;
		cd_free(r);
		if (pass == 0)
			inplace_pass0 = n_inplace;
		for (long n = 1; n <= ptotal && bad <= 10; n += step) {
			struct cdisk *c = cd_new(start);
			struct img *m;

			c->crash_at = n;
			run_workload(c, nops, &s);
			store_close(s); /* closing drains background erases: may crash */
			REQUIRE(c->crashed);
			rng_state = (uint64_t)n * 0x2545f4914f6cdd1dull + 1;
			m = crash_image(c, (int)(n % 3));
			bad += verify(m, n);
			img_free(m);
			cd_free(c);
			tested++;
		}
	}
	printf("crash points tested: %ld of %ld events (%d ops; flush, FUA, legacy disk, "
	       "scatter PUTs), failures: %ld\n", tested, total, nops, bad);
	/* Repairs of a corrupt chunk (multi-block, one block, max size), on
	 * the one-flush disk and the legacy one, at every crash point. */
	{
		long rtested = 0, rtotal = 0, rbad = 0;

		rng_state = 0x1234567;
		rbad += repair_pass(base, &rtested, &rtotal);
		rbad += repair_pass(legacy, &rtested, &rtotal);
		printf("repair crash points tested: %ld of %ld events, failures: %ld; the old "
		       "(corrupt) copy after %ld, the repair after %ld\n", rtested, rtotal, rbad,
		       rep_old, rep_new);
		CHECK(rbad == 0);
		CHECK(rep_old > 0 && rep_new > 0);
		bad += rbad;
	}
	printf("in-place WRITEs in the reference run: %llu (legacy disk: %llu); journal replays "
	       "at reopen: %llu; torn one-flush records dropped at reopen: %llu\n",
	       (unsigned long long)inplace_pass0, (unsigned long long)(n_inplace - 3 * inplace_pass0),
	       (unsigned long long)n_replays, (unsigned long long)n_torn);
	printf("acknowledged over all runs: %llu tombstones, %llu PURGEs, %llu versioned PUTs, "
	       "%llu same-version repairs\n", (unsigned long long)n_tomb,
	       (unsigned long long)n_purge, (unsigned long long)n_vput,
	       (unsigned long long)n_repair);
	CHECK(n_inplace == 3 * inplace_pass0); /* none on the legacy disk */
	CHECK(bad == 0);
	CHECK(n_inplace > 0);
	CHECK(n_replays > 0 || stride > 1);
	CHECK(n_torn > 0 || stride > 1);
	CHECK(tested > 0);
	CHECK(n_sdirect > 0 && n_sbounce > 0); /* both scatter paths ran */
	CHECK(n_tomb > 0 && n_purge > 0 && n_vput > 0 && n_repair > 0);
	img_free(legacy);
	img_free(base);
	cd_free(d);
	free(zero_page);
	return test_done();
}
