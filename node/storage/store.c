/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store.c - the chunk store engine.
 *
 * On-disk format: see store_format.h. Device access: see store_io.h.
 *
 * How a mutation stays all-or-nothing (copy-on-write + one commit record):
 *
 *   PUT/WRITE  1. write the new data to freshly allocated blocks
 *              2. flush                      (the data is durable)
 *              3. write the new record, then flush (or: write it FUA)
 *                                            <- commit point; then ack
 *              4. erase the old record's header (plain write), free old space
 *   DELETE     1. flush                      (earlier erases are durable)
 *              2. erase the record header, then flush (or: FUA)
 *                                            <- commit point; then ack
 *              (PURGE is this DELETE, when the record has the op's version)
 *   TOMBSTONE  (a DELETE with a version: a record with no data)
 *              1. write the tombstone record, flush  <- commit point; then ack
 *              2. as 4 above
 *
 * A crash before 3 lands leaves the old record (old version) and garbage in
 * free blocks; after 3 the new record has the higher version and wins over
 * any old record still on disk, which open then erases. Step 1 of DELETE is
 * what makes that safe: the record it erases is the only one left for the
 * id, because every older one was erased by a write that completed before
 * this flush was issued (the same holds for every record write, which is
 * always preceded by a flush), so a deleted chunk can never come back as an
 * older version. A tombstone needs no flush before its record: it has no
 * data to order, and it replaces the record it succeeds the way a PUT does
 * (the higher version wins); only its removal (DELETE, PURGE) takes step 1.
 *
 * Flush vs FUA: durability before the ack comes from flushes, by default.
 * Data writes are plain writes followed by a flush because a chunk is many
 * blocks and one flush is shared by every op waiting at that moment (group
 * commit: ops whose writes completed while a flush was running wait for the
 * next one). The commit record could instead be written FUA (RWF_DSYNC on
 * O_DIRECT: durable on completion, no second flush) - cfg.commit_fua = 1 -
 * which is the better choice at low queue depth on an NVMe with a real FUA.
 * But a FUA write is not batched: on a regular file or a device without FUA
 * each RWF_DSYNC write becomes its own cache flush, while one flush commits
 * the records of a whole batch. On this project's test VM (a file on virtio)
 * the two measured the same within noise (store-bench --fua), so the default
 * is the one that is the same on every backend - flush with group commit -
 * and FUA is opt-in for NVMe where it helps at low queue depth.
 * Either way the data flush must precede the record: FUA on the record
 * alone would not order it after the data. Old-record erases need no
 * durability of their own: the next flush (every commit starts with one)
 * carries them.
 *
 * One-flush commit (disks with STORE_INCOMPAT_ONEFLUSH, version above the
 * watermark sb.verified - i.e. every local PUT/WRITE; a replica's version at
 * or below it takes the two-flush path above):
 *
 *   PUT/WRITE  1. write the new data and the new record together
 *              2. flush                      <- commit point; then ack
 *              3. as 4 above
 *
 * A crash before 2 completes can leave the record without (all of) its
 * data; open reads the data of every record above the watermark and drops
 * one that fails as a torn write, so the old record wins. The watermark is
 * raised at open (after that check), at close, and every STORE_VERIFY_BYTES
 * committed (riding on the superblock write of store_hwm_kick), to just
 * below the oldest version in flight - versions under it are acknowledged,
 * hence durable. The price: after a crash, bit rot in a chunk committed
 * since the last raise is indistinguishable from a torn write - the chunk
 * reverts to its previous version (or disappears if it had none) instead
 * of reading as -EBADMSG. commit_fua does not apply (the record alone
 * cannot order the data). The in-place WRITE below uses it too: steps 2
 * and 3 become one (temporary blocks and journal record under one flush),
 * and open accepts a journal above the watermark only if its target blocks
 * are current or its temporary blocks all match (store_scan_verify).
 *
 * In-place WRITE (4 KiB-aligned offset and length, not growing the extent,
 * disk with STORE_INCOMPAT_JOURNAL; see store_format.h for the record):
 *
 *   1. read the chunk's record (+ its partial last block if the write
 *      leaves it alone: the chunk crc is combined from the block crcs)
 *   2. write the new blocks to a temporary extent T, flush
 *   3. write the journal record J (new version, all new block crcs, names
 *      T and the target blocks) to fresh slots, flush (or FUA)
 *                                            <- commit point
 *      (ONEFLUSH: 2 and 3 together under one flush)
 *   4. write the blocks in place and the plain record P (same version) to
 *      fresh slots, flush
 *   5. index -> P; free T; erase the old record's and J's headers; ack
 *
 * Crash before J lands: the old record wins (T is free space). After: J has
 * the highest version and wins (also over P, which may be durable before
 * the blocks in place are), and open replays it - if the target blocks do
 * not match J's crcs it copies T over them (idempotent). T is freed only
 * after the blocks in place are durable, so a J outliving its retirement
 * (erase not durable) finds them current and never reads T. The cost is
 * about twice the written bytes plus two records, not the chunk size.
 * Readers cannot see blocks change: a GET/STAT of the chunk gets -EAGAIN
 * while an in-place WRITE of it runs, and a WRITE that finds a GET/STAT of
 * the chunk in flight takes the copy-on-write path.
 */
#include "storage/store_int.h"

#include "common/crc32c.h"
#include "common/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* small helpers */

/* The all-zero id: the LIST start cursor, never a chunk's name. */
static const uint8_t store_zero_id[STORE_ID_LEN];

static void store_uuid_str(const uint8_t u[16], char out[37])
{
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11],
		 u[12], u[13], u[14], u[15]);
}

/* store_balloc - 4 KiB-aligned memory for O_DIRECT, size rounded up. */
static void *store_balloc(size_t size)
{
	return aligned_alloc(STORE_BLOCK, (size + STORE_BLOCK - 1) & ~(size_t)(STORE_BLOCK - 1));
}

static uint32_t store_nblocks(uint64_t size)
{
	return (uint32_t)((size + STORE_BLOCK - 1) / STORE_BLOCK);
}

static uint64_t store_block_off(const struct store *s, uint64_t block)
{
	return s->g.data_off + block * STORE_BLOCK;
}

static uint64_t store_slot_off(const struct store *s, uint64_t slot)
{
	return s->g.rec_off + slot * STORE_SLOT;
}

/* ------------------------------------------------------------------------ */
/* index: open addressing, linear probing */

static uint64_t store_hash(const uint8_t id[16])
{
	uint64_t a, b;

	memcpy(&a, id, 8);
	memcpy(&b, id + 8, 8);
	a ^= b * 0x9e3779b97f4a7c15ull;
	a ^= a >> 33;
	a *= 0xff51afd7ed558ccdull;
	a ^= a >> 33;
	return a;
}

static int store_ix_init(struct store_index *ix, uint64_t cap)
{
	uint64_t c = 1024;

	while (c < cap)
		c <<= 1;
	ix->tab = malloc(c * sizeof(*ix->tab));
	if (!ix->tab)
		return -ENOMEM;
	for (uint64_t i = 0; i < c; i++)
		ix->tab[i].slot = STORE_ENT_FREE;
	ix->cap = c;
	ix->n = 0;
	ix->ntomb = 0;
	return 0;
}

static struct store_ent *store_ix_find(const struct store_index *ix, const uint8_t id[16])
{
	uint64_t m = ix->cap - 1, i = store_hash(id) & m;

	for (;; i = (i + 1) & m) {
		struct store_ent *e = &ix->tab[i];

		if (e->slot == STORE_ENT_FREE)
			return NULL;
		if (memcmp(e->id, id, 16) == 0)
			return e;
	}
}

static void store_ix_place(struct store_index *ix, const struct store_ent *e)
{
	uint64_t m = ix->cap - 1, i = store_hash(e->id) & m;

	while (ix->tab[i].slot != STORE_ENT_FREE)
		i = (i + 1) & m;
	ix->tab[i] = *e;
	ix->n++;
}

const struct store_ent *store_index_find(struct store *s, const uint8_t id[16])
{
	return store_ix_find(&s->ix, id);
}

/* store_ix_put - insert or replace; may grow the table (-ENOMEM). */
static int store_ix_put(struct store_index *ix, const struct store_ent *e)
{
	struct store_ent *cur = store_ix_find(ix, e->id);

	if (cur) {
		ix->ntomb += (uint64_t)store_ent_tomb(e) - (uint64_t)store_ent_tomb(cur);
		*cur = *e;
		return 0;
	}
	if ((ix->n + 1) * 4 > ix->cap * 3) {
		struct store_index nix;

		if (store_ix_init(&nix, ix->cap * 2) < 0)
			return -ENOMEM;
		for (uint64_t i = 0; i < ix->cap; i++)
			if (ix->tab[i].slot != STORE_ENT_FREE)
				store_ix_place(&nix, &ix->tab[i]);
		nix.ntomb = ix->ntomb;
		free(ix->tab);
		*ix = nix;
	}
	store_ix_place(ix, e);
	ix->ntomb += (uint64_t)store_ent_tomb(e);
	return 0;
}

static void store_ix_del(struct store_index *ix, struct store_ent *e)
{
	uint64_t m = ix->cap - 1, i = (uint64_t)(e - ix->tab), j = i;

	ix->ntomb -= (uint64_t)store_ent_tomb(e);
	/* Backward-shift deletion keeps probe chains intact without tombstones. */
	for (;;) {
		j = (j + 1) & m;
		if (ix->tab[j].slot == STORE_ENT_FREE)
			break;
		uint64_t h = store_hash(ix->tab[j].id) & m;
		/* Move j to i if its home h is not in the cyclic range (i, j]. */
		if ((i <= j) ? (h <= i || h > j) : (h <= i && h > j)) {
			ix->tab[i] = ix->tab[j];
			i = j;
		}
	}
	ix->tab[i].slot = STORE_ENT_FREE;
	ix->n--;
}

/* ------------------------------------------------------------------------ */
/* bitmap allocator */

static int store_bmap_init(struct store_bmap *b, uint64_t n)
{
	b->w = calloc((n + 63) / 64 + 1, 8);
	if (!b->w)
		return -ENOMEM;
	b->n = n;
	b->used = 0;
	b->cursor = 0;
	return 0;
}

static int store_bmap_test(const struct store_bmap *b, uint64_t i)
{
	return (b->w[i >> 6] >> (i & 63)) & 1;
}

/* store_bmap_set - mark [start, start+count) used; returns how many of them
 * were already used (fsck's double allocation). */
static uint64_t store_bmap_set(struct store_bmap *b, uint64_t start, uint64_t count)
{
	uint64_t dup = 0;

	for (uint64_t i = start; i < start + count; i++) {
		if (store_bmap_test(b, i))
			dup++;
		else
			b->used++;
		b->w[i >> 6] |= 1ull << (i & 63);
	}
	return dup;
}

static void store_bmap_clear(struct store_bmap *b, uint64_t start, uint64_t count)
{
	if (b->first_fit && start < b->cursor)
		b->cursor = start; /* first fit: the cursor is the lowest maybe-free bit */
	for (uint64_t i = start; i < start + count; i++) {
		if (store_bmap_test(b, i))
			b->used--;
		b->w[i >> 6] &= ~(1ull << (i & 63));
	}
}

static int store_bmap_find(const struct store_bmap *b, uint64_t from, uint64_t to,
			   uint64_t count, uint64_t *out)
{
	uint64_t run = 0, start = from, i = from;

	while (i < to) {
		if ((i & 63) == 0 && i + 64 <= to) {
			uint64_t w = b->w[i >> 6];

			if (w == ~0ull) {
				run = 0;
				i += 64;
				start = i;
				continue;
			}
			if (w == 0) {
				if (!run)
					start = i;
				run += 64;
				i += 64;
				if (run >= count) {
					*out = start;
					return 0;
				}
				continue;
			}
		}
		if (store_bmap_test(b, i)) {
			run = 0;
			start = i + 1;
		} else {
			if (!run)
				start = i;
			if (++run >= count) {
				*out = start;
				return 0;
			}
		}
		i++;
	}
	return -ENOSPC;
}

/* store_bmap_alloc - next-fit run of count free bits; -ENOSPC. */
static int store_bmap_alloc(struct store_bmap *b, uint64_t count, uint64_t *out)
{
	uint64_t start;

	if (count == 0) {
		*out = 0;
		return 0;
	}
	if (count > b->n - b->used)
		return -ENOSPC;
	if (store_bmap_find(b, b->cursor, b->n, count, &start) < 0 &&
	    (b->first_fit || store_bmap_find(b, 0, b->n, count, &start) < 0))
		return -ENOSPC;
	store_bmap_set(b, start, count);
	if (b->first_fit) {
		if (start == b->cursor)
			b->cursor = start + count;
	} else {
		b->cursor = start + count;
		if (b->cursor >= b->n)
			b->cursor = 0;
	}
	*out = start;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* synchronous device access (open, fsck, scrub) */

struct store_sync_req {
	struct store_io_req r;   /* the request */
	int done;                /* set by the callback */
};

static void store_sync_done(struct store_io_req *r)
{
	struct store_sync_req *sr = (struct store_sync_req *)r;

	sr->done = 1;
}

static int store_fixed_index(const struct store *s, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	for (int i = 0; i < STORE_IO_NBUFS; i++) {
		const uint8_t *b = s->regions[i].base;

		if (b && p >= b && p + len <= b + s->regions[i].len)
			return i;
	}
	return -1;
}

/* store_io_queue - queue r, submitting the batch when the ring is full. */
static int store_io_queue(struct store *s, struct store_io_req *r)
{
	int ret = s->io->queue(s->ioctx, r);

	if (ret == -EAGAIN) {
		ret = s->io->submit(s->ioctx);
		if (ret == 0)
			ret = s->io->queue(s->ioctx, r);
	}
	if (ret == 0) {
		s->io_inflight++;
		if (r->kind == STORE_IO_READ)
			s->ctr.bytes_read += r->len;
		else if (r->kind == STORE_IO_WRITE)
			s->ctr.bytes_written += r->len;
		else
			s->ctr.flushes++;
		if (!r->buf && r->iov && r->buf_index >= 0)
			s->ctr.vec_fixed++;
	}
	return ret;
}

int store_io_sync(struct store *s, int kind, void *buf, uint32_t len, uint64_t off, int fua)
{
	struct store_sync_req sr = { 0 };
	int ret;

	sr.r.kind = (uint8_t)kind;
	sr.r.fua = (uint8_t)fua;
	sr.r.buf = buf;
	sr.r.len = len;
	sr.r.off = off;
	sr.r.buf_index = (int16_t)(buf ? store_fixed_index(s, buf, len) : -1);
	sr.r.done = store_sync_done;
	ret = store_io_queue(s, &sr.r);
	if (ret < 0)
		return ret;
	ret = s->io->submit(s->ioctx);
	while (ret == 0 && !sr.done) {
		ret = s->io->reap(s->ioctx, 1);
		ret = ret < 0 ? ret : 0;
	}
	if (ret < 0)
		return ret;
	s->io_inflight--;
	if (sr.r.res < 0) {
		s->ctr.io_errors++;
		return sr.r.res;
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* format */

static int store_random(uint8_t *p, size_t n)
{
	FILE *f = fopen("/dev/urandom", "re");
	int ret = 0;

	if (!f)
		return -errno;
	if (fread(p, 1, n, f) != n)
		ret = -EIO;
	fclose(f);
	return ret;
}

int store_format_io(const struct store_io_ops *io, void *ctx,
		    const struct store_format_cfg *cfg, const uint8_t disk[16])
{
	struct store s0;
	struct store_geom g;
	uint8_t *buf = NULL;
	int ret;

	memset(&s0, 0, sizeof(s0));
	s0.io = io;
	s0.ioctx = ctx;
	ret = store_fmt_geom_for(io->size(ctx), cfg->max_chunk, &g);
	if (ret < 0) {
		log_err("store: cannot format a %llu-byte device (minimum %llu bytes, "
			"room for 4 chunks of max size)", (unsigned long long)io->size(ctx),
			(unsigned long long)STORE_MIN_DEV);
		return ret;
	}
	buf = store_balloc(STORE_BLOCK);
	if (!buf)
		return -ENOMEM;
	memset(buf, 0, STORE_BLOCK);
	/* Nothing but the superblocks: the record area need not be zeroed,
	 * since records are checksummed with a seed derived from the new disk
	 * UUID and only [0, rec_hwm = 0) is ever read (store_format.h). */
	/* In-place WRITEs, one-flush commits, tombstones (store_format.h). */
	g.incompat = STORE_INCOMPAT_JOURNAL | STORE_INCOMPAT_ONEFLUSH | STORE_INCOMPAT_TOMBSTONE;
	store_sb_encode(buf, cfg->cluster, cfg->node, disk, &g, 1,
			cfg->created ? cfg->created : (uint64_t)time(NULL));
	ret = store_io_sync(&s0, STORE_IO_WRITE, buf, STORE_BLOCK, g.dev_size - STORE_BLOCK, 1);
	if (ret == 0)
		ret = store_io_sync(&s0, STORE_IO_WRITE, buf, STORE_BLOCK, 0, 1);
	free(buf);
	return ret;
}

int store_format(const char *path, const struct store_format_cfg *cfg)
{
	const struct store_io_ops *io;
	void *ctx;
	uint8_t disk[16];
	int ret;

	ret = store_random(disk, 16);
	if (ret < 0)
		return ret;
	disk[6] = (disk[6] & 0x0f) | 0x40; /* UUID v4 */
	disk[8] = (disk[8] & 0x3f) | 0x80;
	ret = store_uring_open(path, 8, 0, &io, &ctx);
	if (ret < 0) {
		log_err("store: cannot open %s: %s", path, strerror(-ret));
		return ret;
	}
	ret = store_format_io(io, ctx, cfg, disk);
	io->close(ctx);
	return ret;
}

/* ------------------------------------------------------------------------ */
/* open: superblocks, record scan */

/* store_sb_load - pick the superblock; repairs the other copy unless read-only. */
static int store_sb_load(struct store *s, uint8_t *buf)
{
	struct store_sb_disk sb[2];
	struct store_geom g[2];
	uint64_t devsz = s->io->size(s->ioctx);
	int ret[2], rd[2] = { 0, 0 }, use, other;
	uint64_t off1;

	if (devsz < STORE_MIN_DEV) {
		log_err("store: device is %llu bytes, smaller than the minimum %llu",
			(unsigned long long)devsz, (unsigned long long)STORE_MIN_DEV);
		return -ENOSPC;
	}
	ret[0] = rd[0] = store_io_sync(s, STORE_IO_READ, buf, STORE_BLOCK, 0, 0);
	if (ret[0] == 0)
		ret[0] = store_sb_decode(buf, STORE_BLOCK, &sb[0], &g[0]);
	/* The copy is at the end of the formatted size; when the first copy is
	 * unreadable, at the end of the device. */
	off1 = (ret[0] == 0 ? g[0].dev_size : devsz & ~(uint64_t)(STORE_BLOCK - 1)) - STORE_BLOCK;
	if (off1 + STORE_BLOCK > devsz)
		ret[1] = -EINVAL;
	else
		ret[1] = rd[1] = store_io_sync(s, STORE_IO_READ, buf, STORE_BLOCK, off1, 0);
	if (ret[1] == 0)
		ret[1] = store_sb_decode(buf, STORE_BLOCK, &sb[1], &g[1]);
	if (ret[0] < 0 && ret[1] < 0) {
		/* A copy the device could not read may well be valid: that is a
		 * device error, not an unformatted disk. */
		int r = (ret[0] == -EPROTONOSUPPORT || ret[1] == -EPROTONOSUPPORT) ?
			-EPROTONOSUPPORT : rd[0] < 0 ? rd[0] : rd[1] < 0 ? rd[1] : -EINVAL;

		if (r != -EPROTONOSUPPORT && r != -EINVAL)
			log_err("store: cannot read the superblocks: %s", strerror(-r));
		else if (r == -EPROTONOSUPPORT)
			log_err("store: unsupported format version %u or incompat features 0x%llx",
				ret[0] == -EPROTONOSUPPORT ? sb[0].version : sb[1].version,
				(unsigned long long)(ret[0] == -EPROTONOSUPPORT ?
						     sb[0].incompat : sb[1].incompat));
		else
			log_err("store: no valid superblock (not formatted, or both copies corrupt)");
		return r;
	}
	if (ret[0] == 0 && ret[1] == 0)
		use = sb[1].generation > sb[0].generation ? 1 : 0;
	else
		use = ret[0] == 0 ? 0 : 1;
	other = !use;
	s->sb = sb[use];
	s->g = g[use];
	if (s->g.dev_size > devsz) {
		log_err("store: device is %llu bytes but was formatted for %llu (truncated?)",
			(unsigned long long)devsz, (unsigned long long)s->g.dev_size);
		return -EINVAL;
	}
	if (ret[other] < 0 || sb[other].generation != sb[use].generation ||
	    memcmp(sb[other].disk, sb[use].disk, 16) != 0) {
		if (s->fsck) {
			log_err("fsck: superblock copy %d is %s", other,
				ret[other] < 0 ? "corrupt" : "out of date");
			s->fsck_problems++;
		} else {
			log_warn("store: superblock copy %d is %s; using copy %d", other,
				 ret[other] < 0 ? "corrupt" : "out of date", use);
		}
		/* The rw open rewrites both copies below (generation bump). */
	}
	return 0;
}

static int store_sb_write_both(struct store *s, uint8_t *buf)
{
	int ret;

	memset(buf, 0, STORE_BLOCK);
	store_sb_encode(buf, s->sb.cluster, s->sb.node, s->sb.disk, &s->g, s->sb.generation,
			s->sb.created);
	/* One copy at a time, each FUA: a crash leaves at least one valid. */
	ret = store_io_sync(s, STORE_IO_WRITE, buf, STORE_BLOCK, 0, 1);
	if (ret == 0)
		ret = store_io_sync(s, STORE_IO_WRITE, buf, STORE_BLOCK,
				    s->g.dev_size - STORE_BLOCK, 1);
	return ret;
}

/* Read one record's version at slot (rare path: duplicate ids at open). */
static int store_rec_read(struct store *s, uint32_t slot, uint8_t *meta, struct store_rec *rec)
{
	uint32_t ns = (uint32_t)(s->g.nslots - slot < s->g.rec_max_slots ?
				 s->g.nslots - slot : s->g.rec_max_slots);
	int ret = store_io_sync(s, STORE_IO_READ, meta, ns * STORE_SLOT, store_slot_off(s, slot), 0);

	if (ret < 0)
		return ret;
	return store_rec_decode(meta, (size_t)ns * STORE_SLOT, &s->g, rec);
}

static int store_u32v_push(struct store_u32v *a, uint32_t x)
{
	if (a->n == a->cap) {
		size_t nc = a->cap ? a->cap * 2 : 64;
		uint32_t *nv = realloc(a->v, nc * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		a->v = nv;
		a->cap = nc;
	}
	a->v[a->n++] = x;
	return 0;
}

/* store_blocks_match - read n blocks at data block blk into buf; 0 if they
 * match rec's crcs from chunk block first on, -EBADMSG if not. */
static int store_blocks_match(struct store *s, const struct store_rec *rec, uint64_t blk,
			      uint32_t first, uint32_t n, uint8_t *buf)
{
	int ret = store_io_sync(s, STORE_IO_READ, buf, n * STORE_BLOCK, store_block_off(s, blk), 0);

	if (ret < 0)
		return ret;
	for (uint32_t i = 0; i < n; i++)
		if (crc32c(0, buf + (size_t)i * STORE_BLOCK, STORE_BLOCK) !=
		    store_rec_crc(rec, first + i))
			return -EBADMSG;
	return 0;
}

/*
 * store_scan_verify - was rec, a one-flush record above the watermark,
 * committed? A plain record: iff all its data blocks match. A journal
 * record: iff its target blocks are current (applied) or its temporary
 * blocks all match (written under the same flush as the record).
 * 0, -EBADMSG (torn) or -errno. *dbuf: a max-chunk buffer, allocated at
 * first use (the caller frees it).
 */
static int store_scan_verify(struct store *s, const struct store_rec *rec, uint8_t **dbuf)
{
	int ret;

	if (!*dbuf) {
		*dbuf = store_balloc((size_t)store_nblocks(s->g.max_chunk) * STORE_BLOCK);
		if (!*dbuf)
			return -ENOMEM;
	}
	if (!rec->jcount)
		return store_blocks_match(s, rec, rec->block, 0, rec->nblocks, *dbuf);
	ret = store_blocks_match(s, rec, rec->block + rec->jfirst, rec->jfirst, rec->jcount, *dbuf);
	if (ret == -EBADMSG)
		ret = store_blocks_match(s, rec, rec->jblock, rec->jfirst, rec->jcount, *dbuf);
	return ret;
}

/*
 * store_dup_ok - open's check of a record that ties with another of the
 * same id and version (store_rec_wins): 1 if its data verifies as
 * store_scan_verify says (a tombstone has none: 1), 0 if it does not, or
 * -errno when it could not be read (open fails: a transient device error
 * must not pick the copy).
 */
static int store_dup_ok(struct store *s, const struct store_rec *rec, uint8_t **dbuf)
{
	int r;

	if (!rec->nblocks)
		return 1;
	r = store_scan_verify(s, rec, dbuf);
	return r == -EBADMSG ? 0 : r < 0 ? r : 1;
}

/*
 * store_scan - read the record area, build index and allocation maps; the
 * slots of leftover records (stale versions, torn headers) go to *erase,
 * those of valid journal records to *jrn (see store_jreplay).
 *
 * Startup cost grows with the size of the record area - that is, with the
 * disk size (1/17 of it), not with the number of chunks - plus one hash
 * insert per chunk. The area is read sequentially in 4 MiB windows of 8
 * parallel reads. Measured (scripts/bench-store.sh): 1M chunks on a 9.8 GB
 * file (576 MiB of records) open in 1.0-1.4 s on the project VM.
 */
static int store_scan(struct store *s, struct store_u32v *erase, struct store_u32v *jrn)
{
	uint32_t win_slots = (4u << 20) / STORE_SLOT; /* 4 MiB windows */
	const uint32_t nreq = 8;
	uint32_t extra = s->g.rec_max_slots;
	uint8_t *buf = NULL, *meta = NULL, *dbuf = NULL;
	struct store_sync_req req[8];
	uint64_t slot = 0, max_version = 0;
	int ret = 0;

	if (win_slots > s->g.nslots)
		win_slots = (uint32_t)s->g.nslots;
	buf = store_balloc((size_t)(win_slots + extra) * STORE_SLOT + STORE_BLOCK);
	meta = store_balloc(s->meta_size);
	if (!buf || !meta) {
		ret = -ENOMEM;
		goto out;
	}
	/* Only [0, rec_hwm) can hold records (see store_format.h). */
	while (slot < s->g.rec_hwm) {
		uint64_t want = win_slots + extra, end_parse;
		uint64_t have = s->g.nslots - slot < want ? s->g.nslots - slot : want;
		uint64_t bytes = have * STORE_SLOT, per;

		/* One window in nreq parallel reads; the overlap of `extra` slots
		 * lets a record starting near the end of the window be parsed whole. */
		per = ((bytes + nreq - 1) / nreq + STORE_BLOCK - 1) & ~(uint64_t)(STORE_BLOCK - 1);
		for (uint32_t i = 0; i < nreq; i++) {
			uint64_t o = i * per;

			req[i].done = 1;
			if (o >= bytes)
				continue;
			memset(&req[i], 0, sizeof(req[i]));
			req[i].r.kind = STORE_IO_READ;
			req[i].r.buf = buf + o;
			req[i].r.len = (uint32_t)(bytes - o < per ? bytes - o : per);
			req[i].r.off = store_slot_off(s, slot) + o;
			req[i].r.buf_index = -1;
			req[i].r.done = store_sync_done;
			ret = store_io_queue(s, &req[i].r);
			if (ret < 0) {
				req[i].done = 1;
				break;
			}
		}
		if (ret == 0)
			ret = s->io->submit(s->ioctx);
		for (uint32_t i = 0; i < nreq; i++) {
			while (!req[i].done) {
				int r = s->io->reap(s->ioctx, 1);

				if (r < 0) {
					ret = r;
					goto out;
				}
			}
		}
		for (uint32_t i = 0; i < nreq; i++) {
			if ((uint64_t)i * per >= bytes)
				continue;
			s->io_inflight--;
			if (req[i].r.res < 0 && ret == 0)
				ret = req[i].r.res;
		}
		if (ret < 0)
			goto out;
		end_parse = s->g.rec_hwm - slot < win_slots ? s->g.rec_hwm - slot : win_slots;
		for (uint64_t i = 0; i < end_parse;) {
			struct store_rec rec;
			struct store_ent e, *cur;
			const uint8_t *p = buf + i * STORE_SLOT;
			int r = store_rec_decode(p, (size_t)(have - i) * STORE_SLOT, &s->g, &rec);

			if (r == -ENOENT) {
				i++;
				continue;
			}
			if (r < 0) {
				/* A header-looking slot that does not check out: a torn
				 * record write (crash) or corruption. Either way it is
				 * free space; erase it so it cannot confuse anyone. */
				if (memcmp(p, "FRC1", 4) == 0) {
					s->fsck_stale++;
					if (store_u32v_push(erase, (uint32_t)(slot + i)) < 0) {
						ret = -ENOMEM;
						goto out;
					}
				}
				i++;
				continue;
			}
			memset(&e, 0, sizeof(e));
			memcpy(e.id, rec.id, 16);
			e.block = rec.flags & STORE_REC_F_TOMBSTONE ? STORE_ENT_TOMB : (uint32_t)rec.block;
			e.slot = (uint32_t)(slot + i);
			e.size = (uint32_t)rec.size;
			e.crc0 = rec.nblocks ? store_rec_crc(&rec, 0) : 0;
			e.version = rec.version;
			if (rec.version > max_version)
				max_version = rec.version;
			if ((s->g.incompat & STORE_INCOMPAT_ONEFLUSH) && rec.version > s->g.verified &&
			    rec.nblocks) {
				/* One-flush commit above the watermark: its data may not
				 * have landed. A record whose blocks fail is a torn write
				 * (the older record of the id, if any, wins). */
				r = store_scan_verify(s, &rec, &dbuf);
				if (r < 0 && r != -EBADMSG) {
					ret = r;
					goto out;
				}
				if (r == -EBADMSG) {
					s->fsck_stale++;
					s->ctr.torn++;
					if (store_u32v_push(erase, (uint32_t)(slot + i)) < 0) {
						ret = -ENOMEM;
						goto out;
					}
					i += rec.nslots;
					continue;
				}
			}
			if (rec.jcount && store_u32v_push(jrn, (uint32_t)(slot + i)) < 0) {
				ret = -ENOMEM;
				goto out;
			}
			cur = store_ix_find(&s->ix, rec.id);
			if (cur) {
				uint32_t loser;
				int new_wins;

				if (cur->version != rec.version) {
					/* store_rec_wins' first rule, from the version in
					 * the index: no reread, whose failure must not
					 * decide which record is current. */
					new_wins = rec.version > cur->version;
				} else {
					/* Equal versions (an in-place WRITE's journal and
					 * plain records; a same-version repair and the
					 * copy it replaced): their data decides. */
					struct store_rec other;
					int ok_new, ok_cur;

					r = store_rec_read(s, cur->slot, meta, &other);
					ok_new = r < 0 ? r : store_dup_ok(s, &rec, &dbuf);
					ok_cur = ok_new < 0 ? ok_new : store_dup_ok(s, &other, &dbuf);
					if (ok_cur < 0) {
						/* It decoded once: a changed reread is the
						 * device's fault too. */
						ret = ok_cur == -EINVAL ? -EIO : ok_cur;
						goto out;
					}
					new_wins = store_rec_wins(&rec, ok_new, slot + i, &other, ok_cur,
								  cur->slot);
				}
				if (new_wins) {
					loser = cur->slot;
					(void)store_ix_put(&s->ix, &e); /* a replace: no allocation */
				} else {
					loser = e.slot;
				}
				s->fsck_stale++;
				if (store_u32v_push(erase, loser) < 0) {
					ret = -ENOMEM;
					goto out;
				}
				if (loser == e.slot) {
					i += rec.nslots;
					continue;
				}
			} else if (store_ix_put(&s->ix, &e) < 0) {
				ret = -ENOMEM;
				goto out;
			}
			i += rec.nslots;
		}
		slot += end_parse;
	}
	s->next_version = max_version + 1;
	/* The maps from the winners only. A loser's space may belong to a
	 * winner: a one-flush PUT may reuse space freed when an erase of the
	 * old header completed, and land with a crash that loses that erase
	 * (no flush between them). Two winners sharing space is a problem. */
	for (uint64_t k = 0; k < s->ix.cap; k++) {
		const struct store_ent *w = &s->ix.tab[k];
		uint32_t nb = store_nblocks(w->size);

		if (w->slot == STORE_ENT_FREE)
			continue;
		if (store_bmap_set(&s->slots, w->slot, store_fmt_rec_slots(nb)) ||
		    store_bmap_set(&s->blocks, w->block, nb)) {
			char hex[33];

			for (int h = 0; h < 16; h++)
				snprintf(hex + 2 * h, 3, "%02x", w->id[h]);
			log_err("store: chunk %s at slot %u overlaps space of another chunk",
				hex, w->slot);
			s->fsck_problems++;
		}
	}
out:
	free(dbuf);
	free(meta);
	free(buf);
	return ret;
}

static void store_hex(const uint8_t id[16], char hex[33])
{
	for (int k = 0; k < 16; k++)
		snprintf(hex + 2 * k, 3, "%02x", id[k]);
}

int store_jpending(const struct store *s, uint32_t slot)
{
	for (size_t i = 0; i < s->jpend.n; i++)
		if (s->jpend.v[i] == slot)
			return 1;
	return 0;
}

/*
 * store_jreplay - finish the in-place WRITE whose journal record at slot is
 * its chunk's winning record (a crash came between the commit and the
 * retirement; see "In-place WRITE" at the top). If blocks [jfirst, +jcount)
 * of the extent already match the record, nothing is left to do (this also
 * covers a journal record left live by an earlier replay, whose temporary
 * blocks may have been reused since); otherwise the temporary blocks, which
 * were durable with the record, are copied in place (the caller's flush
 * makes that durable). Read-only: only notes it.
 * Uses the (idle at open) bounce and meta buffers.
 */
static int store_jreplay(struct store *s, uint32_t slot)
{
	uint8_t *meta = s->meta_pool, *buf = s->bounce_pool;
	const struct store_ent *e;
	struct store_rec rec;
	char hex[33];
	int ret;

	ret = store_rec_read(s, slot, meta, &rec);
	if (ret < 0)
		return ret == -EINVAL ? 0 : ret;
	e = store_ix_find(&s->ix, rec.id);
	if (!rec.jcount || !e || e->slot != slot)
		return 0; /* lost to a newer or plain record: erased as a leftover */
	ret = store_blocks_match(s, &rec, rec.block + rec.jfirst, rec.jfirst, rec.jcount, buf);
	if (ret != -EBADMSG)
		return ret; /* current (0), or unreadable */
	store_hex(rec.id, hex);
	ret = store_blocks_match(s, &rec, rec.jblock, rec.jfirst, rec.jcount, buf);
	if (ret == -EBADMSG) {
		log_err("store: chunk %s: journal at slot %u: temporary blocks fail their "
			"checksums; cannot replay", hex, slot);
		s->fsck_problems++;
		return 0;
	}
	if (ret < 0)
		return ret;
	if (s->read_only) {
		s->fsck_stale++;
		if (!s->fsck)
			log_warn("store: chunk %s: in-place write at slot %u not replayed "
				 "(read-only); its blocks read as bad", hex, slot);
		return store_u32v_push(&s->jpend, slot);
	}
	ret = store_io_sync(s, STORE_IO_WRITE, buf, rec.jcount * STORE_BLOCK,
			    store_block_off(s, rec.block + rec.jfirst), 0);
	if (ret < 0)
		return ret;
	s->ctr.replays++;
	log_info("store: chunk %s: replayed an interrupted in-place write (%u blocks)", hex,
		 rec.jcount);
	return 0;
}

/* store_crc_mulmod - a * b modulo the crc32c polynomial (reflected bits). */
static uint32_t store_crc_mulmod(uint32_t a, uint32_t b)
{
	uint32_t m = 1u << 31, p = 0;

	for (;;) {
		if (a & m) {
			p ^= b;
			if ((a & (m - 1)) == 0)
				break;
		}
		m >>= 1;
		b = b & 1 ? (b >> 1) ^ 0x82f63b78u : b >> 1;
	}
	return p;
}

/* store_crc_shift_op - x^(8n) modulo the polynomial: the operator that
 * shifts a crc over n more bytes. */
static uint32_t store_crc_shift_op(uint64_t n)
{
	uint32_t p = 1u << 31, sq = 1u << 23; /* x^0, x^8 */

	for (; n; n >>= 1) {
		if (n & 1)
			p = store_crc_mulmod(sq, p);
		sq = store_crc_mulmod(sq, sq);
	}
	return p;
}

/* store_crc_combine - crc32c(A || B) from crc32c(A), crc32c(B) and B's
 * length, given op = store_crc_shift_op(len B). */
static uint32_t store_crc_combine(uint32_t ca, uint32_t cb, uint32_t op)
{
	return ca ? store_crc_mulmod(op, ca) ^ cb : cb;
}

static int store_alloc_buffers(struct store *s)
{
	size_t bytes;

	s->meta_size = ((s->g.rec_max_slots * STORE_SLOT + STORE_BLOCK - 1) & ~(STORE_BLOCK - 1)) +
		       STORE_META_TAIL;
	s->nmeta = s->qd;
	s->meta_pool = store_balloc((size_t)s->meta_size * s->nmeta);
	s->meta_free = calloc(s->nmeta, sizeof(*s->meta_free));
	s->bounce_size = (s->g.max_chunk + STORE_BLOCK - 1) & ~(STORE_BLOCK - 1);
	bytes = (size_t)s->bounce_size * STORE_NBOUNCE;
	s->bounce_pool = store_balloc(bytes);
	s->zero = store_balloc(STORE_BLOCK);
	if (!s->meta_pool || !s->meta_free || !s->bounce_pool || !s->zero)
		return -ENOMEM;
	memset(s->zero, 0, STORE_BLOCK);
	s->sbbuf = store_balloc(STORE_BLOCK);
	if (!s->sbbuf)
		return -ENOMEM;
	s->erase_pool = calloc(s->qd, sizeof(*s->erase_pool));
	if (!s->erase_pool)
		return -ENOMEM;
	for (uint32_t i = 0; i < s->qd; i++) {
		s->erase_pool[i].next = s->erase_free;
		s->erase_free = &s->erase_pool[i];
	}
	memset(s->meta_pool, 0, (size_t)s->meta_size * s->nmeta);
	for (uint32_t i = 0; i < s->nmeta; i++)
		s->meta_free[i] = s->nmeta - 1 - i;
	s->nmeta_free = s->nmeta;
	/* Fixed buffers 0 and 1: the store's pools. Failure is not fatal. */
	if (s->io->register_buf(s->ioctx, 0, s->meta_pool, (size_t)s->meta_size * s->nmeta) == 0) {
		s->regions[0].base = s->meta_pool;
		s->regions[0].len = (size_t)s->meta_size * s->nmeta;
	}
	if (s->io->register_buf(s->ioctx, 1, s->bounce_pool, bytes) == 0) {
		s->regions[1].base = s->bounce_pool;
		s->regions[1].len = bytes;
	}
	return 0;
}

int store_open_io(const struct store_cfg *cfg, const struct store_io_ops *io, void *ctx,
		  int fsck, struct store **out)
{
	struct store *s;
	struct store_u32v erase = { 0 }, jrn = { 0 };
	uint8_t *buf;
	int ret;

	s = calloc(1, sizeof(*s));
	buf = store_balloc(STORE_BLOCK);
	if (!s || !buf) {
		ret = -ENOMEM;
		goto err;
	}
	s->io = io;
	s->ioctx = ctx;
	s->fsck = fsck;
	s->read_only = cfg->read_only || fsck;
	s->qd = cfg->queue_depth ? cfg->queue_depth : 64;
	s->scrub_mb_s = cfg->scrub_mb_s;
	s->commit_fua = cfg->commit_fua ? 1 : 0;
	ret = store_sb_load(s, buf);
	if (ret < 0)
		goto err;
	if (cfg->cluster && memcmp(cfg->cluster, s->sb.cluster, 16) != 0) {
		char a[37], b[37];

		store_uuid_str(s->sb.cluster, a);
		store_uuid_str(cfg->cluster, b);
		log_err("store: %s belongs to cluster %s, not to this cluster %s", cfg->path ?
			cfg->path : "disk", a, b);
		ret = -EXDEV;
		goto err;
	}
	if (s->sb.ro_compat & ~STORE_RO_COMPAT_KNOWN) {
		log_warn("store: unknown ro_compat features 0x%llx; opening read-only",
			 (unsigned long long)s->sb.ro_compat);
		s->read_only = 1;
	}
	ret = store_alloc_buffers(s);
	if (ret < 0)
		goto err;
	s->vec_fixed = io->caps && (io->caps(ctx) & STORE_IO_CAP_VEC_FIXED);
	s->wpiece_align = cfg->piece_align ? cfg->piece_align
		: io->caps && (io->caps(ctx) & STORE_IO_CAP_FILE) ? STORE_BLOCK : STORE_SLOT;
	if (s->wpiece_align < STORE_SLOT || (s->wpiece_align & (s->wpiece_align - 1))) {
		ret = -EINVAL;
		goto err;
	}
	if (store_ix_init(&s->ix, 1024) < 0 || store_bmap_init(&s->blocks, s->g.nblocks) < 0 ||
	    store_bmap_init(&s->slots, s->g.nslots) < 0) {
		ret = -ENOMEM;
		goto err;
	}
	s->slots.first_fit = 1; /* keeps the record high-water mark low */
	s->crc_op_blk = store_crc_shift_op(STORE_BLOCK);
	ret = store_scan(s, &erase, &jrn);
	if (ret < 0)
		goto err;
	/* Replay interrupted in-place WRITEs (their journal records won). */
	for (size_t i = 0; i < jrn.n && ret == 0; i++)
		ret = store_jreplay(s, jrn.v[i]);
	if (ret < 0)
		goto err;
	if (!s->read_only) {
		/* Erase leftovers, make that (and any replay) durable, then bump
		 * the generation. */
		for (size_t i = 0; i < erase.n && ret == 0; i++)
			ret = store_io_sync(s, STORE_IO_WRITE, s->zero, STORE_SLOT,
					    store_slot_off(s, erase.v[i]), 0);
		if (ret == 0)
			ret = store_io_sync(s, STORE_IO_FLUSH, NULL, 0, 0, 0);
		s->sb.generation++;
		/* Every record left is verified or below the mark, and durable
		 * after that flush: raise the one-flush watermark past them. */
		if (s->g.incompat & STORE_INCOMPAT_ONEFLUSH)
			s->g.verified = s->next_version - 1;
		if (ret == 0)
			ret = store_sb_write_both(s, buf);
		if (ret < 0) {
			log_err("store: cannot write to the disk: %s", strerror(-ret));
			goto err;
		}
		if (erase.n)
			log_info("store: erased %zu leftover record headers (an interrupted "
				 "write, or an earlier format of this disk)", erase.n);
	}
	free(erase.v);
	free(jrn.v);
	free(buf);
	*out = s;
	return 0;
err:
	free(erase.v);
	free(jrn.v);
	free(buf);
	if (s) {
		s->io = NULL; /* the caller still owns the backend */
		store_close(s);
	}
	return ret;
}

int store_open(const struct store_cfg *cfg, struct store **out)
{
	const struct store_io_ops *io;
	void *ctx;
	int ret;

	ret = store_uring_open(cfg->path, cfg->queue_depth ? cfg->queue_depth : 64,
			       cfg->read_only, &io, &ctx);
	if (ret < 0) {
		log_err("store: cannot open %s: %s", cfg->path, strerror(-ret));
		return ret;
	}
	ret = store_open_io(cfg, io, ctx, 0, out);
	if (ret < 0)
		io->close(ctx);
	return ret;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	while (s->io && (s->inflight || s->io_inflight) && store_poll(s, 1) >= 0)
		;
	if (s->io && !s->read_only && !s->failed && s->sbbuf &&
	    (s->g.incompat & STORE_INCOMPAT_ONEFLUSH) && s->g.verified < s->next_version - 1) {
		/* Everything acknowledged is durable: raise the watermark so the
		 * next open verifies nothing (best effort). */
		s->g.verified = s->next_version - 1;
		s->sb.generation++;
		(void)store_sb_write_both(s, s->sbbuf);
	}
	if (s->io)
		s->io->close(s->ioctx);
	free(s->ix.tab);
	free(s->blocks.w);
	free(s->slots.w);
	free(s->meta_pool);
	free(s->meta_free);
	free(s->bounce_pool);
	free(s->zero);
	free(s->erase_pool);
	free(s->sbbuf);
	free(s->lsnap);
	free(s->jpend.v);
	free(s->defer[0]);
	free(s->defer[1]);
	free(s);
}

void store_get_info(struct store *s, struct store_info *out)
{
	memset(out, 0, sizeof(*out));
	memcpy(out->cluster, s->sb.cluster, 16);
	memcpy(out->node, s->sb.node, 16);
	memcpy(out->disk, s->sb.disk, 16);
	out->capacity = s->g.nblocks * STORE_BLOCK;
	out->used = s->blocks.used * STORE_BLOCK;
	out->chunks = s->ix.n - s->ix.ntomb;
	out->tombstones = s->ix.ntomb;
	out->max_version = s->next_version - 1;
	out->failed = (uint32_t)s->failed;
	out->max_chunk = s->g.max_chunk;
	out->format_version = s->sb.version;
	out->vec_fixed = (uint32_t)s->vec_fixed;
	out->piece_align = s->wpiece_align;
}

void store_get_counters(struct store *s, struct store_counters *out)
{
	*out = s->ctr;
}

/* ------------------------------------------------------------------------ */
/* async ops: state machine */

enum {
	ST_GET_READ = 1, /* reading data (+ record) */
	ST_STAT_READ,    /* reading the record */
	ST_WR_READ,      /* WRITE: reading the old chunk */
	ST_PUT_HWM,      /* waiting for the record high-water mark to rise */
	ST_PUT_DATA,     /* writing new data */
	ST_PUT_FLUSH,    /* waiting for the group flush */
	ST_PUT_REC,      /* writing the record */
	ST_PUT_RFLUSH,   /* waiting for the flush that commits the record */
	ST_PUT_ERASE,    /* erasing the old record header */
	ST_DEL_FLUSH,    /* DELETE: waiting for the flush */
	ST_DEL_ERASE,    /* DELETE: erasing the header */
	ST_DEL_RFLUSH,   /* DELETE: waiting for the flush that commits the erase */
	ST_IP_READ,      /* in-place WRITE: reading the record (+ last block) */
	ST_IP_DATA,      /* writing the new blocks to the temporary extent */
	ST_IP_FLUSH,     /* waiting for the flush that makes them durable */
	ST_IP_JREC,      /* writing the journal record */
	ST_IP_JFLUSH,    /* waiting for the flush that commits it */
	ST_IP_APPLY,     /* writing the blocks in place + the plain record */
	ST_IP_AFLUSH,    /* waiting for the flush that makes those durable */
	ST_IP_ERASE,     /* erasing the old and the journal record headers */
};

/* Device requests one op may have in flight at once: a direct scatter/gather
 * op's data (up to STORE_OP_NIO - 3 vectored requests of STORE_IO_IOV_MAX
 * pieces - 9216, a 4 MiB chunk in 512-byte frames is 8192 - then the last
 * piece's whole sectors and the scratch) plus a record. */
#define STORE_OP_NIO 12

struct store_op_priv {
	struct store_op *op;     /* the public op */
	struct store *s;         /* owner */
	struct store_op_priv *next; /* flush-wait / done list */
	struct store_op_priv *mnext; /* mutating list */
	int stage;               /* ST_* */
	int pending;             /* device requests outstanding */
	int err;                 /* first error */
	int mutating;            /* on the mutating list */
	int bounce;              /* bounce buffer index or -1 */
	int meta_i;              /* meta buffer index or -1 */
	uint8_t *data;           /* buffer the device reads/writes */
	uint8_t *meta;           /* record buffer */
	struct store_ent old;    /* entry at start */
	int had_old;             /* old is valid */
	int reader;              /* counted in s->readers[epoch] */
	uint32_t epoch;          /* reader epoch (0/1) */
	struct store_ent nw;     /* new entry being written */
	uint64_t new_size;       /* new chunk size */
	uint32_t b0, nb;         /* GET, in-place WRITE: first block, block count */
	struct store_op_priv *rnext; /* reading list */
	int rlisted;             /* on the reading list */
	int inplace;             /* WRITE done in place (ST_IP_*) */
	int tail;                /* in-place: last block read into the meta tail */
	uint32_t jslot;          /* in-place: journal record slot */
	uint32_t tblk;           /* in-place: first temporary block */
	int oneflush;            /* PUT: data and record under one flush */
	int tomb;                /* PUT path writing a tombstone (DELETE with a version) */
	uint64_t ver;            /* version assigned (0 = not yet) */
	int direct;              /* payload moves device <-> caller memory (direct_ops) */
	int vec;                 /* direct scatter/gather op (see store_vec_plan) */
	int vfull;               /* vec: pieces the device uses as they are */
	uint32_t vlast;          /* vec: then bytes of piece vfull, as one buffer */
	uint32_t vpart;          /* vec: then bytes (< the piece alignment) of it, through the scratch */
	uint32_t vtail;          /* vec: scratch bytes (vpart + the rest of the last block) */
	struct store_io_req io[STORE_OP_NIO]; /* device requests of the current stage */
};
_Static_assert(sizeof(struct store_op_priv) <= STORE_OP_PRIV, "STORE_OP_PRIV too small");

static struct store_op_priv *store_priv(struct store_op *op)
{
	return (struct store_op_priv *)(void *)op->priv;
}

static void store_op_advance(struct store_op_priv *p);

static void store_io_done(struct store_io_req *r)
{
	struct store_op_priv *p = r->owner;

	p->s->io_inflight--;
	if (r->res < 0) {
		p->s->ctr.io_errors++;
		if (r->kind != STORE_IO_READ)
			p->s->failed = 1;
		if (!p->err)
			p->err = r->res;
	}
	if (--p->pending == 0)
		store_op_advance(p);
}

/* store_op_req - the next free request of p's stage, zeroed; NULL if the
 * stage already uses all STORE_OP_NIO (cannot happen: see store_vec_plan). */
static struct store_io_req *store_op_req(struct store_op_priv *p)
{
	struct store_io_req *r;

	if (p->pending >= STORE_OP_NIO)
		return NULL;
	r = &p->io[p->pending];
	memset(r, 0, sizeof(*r));
	return r;
}

/* store_op_queue - queue r (kind, buffer, len, off filled in) for p. */
static int store_op_queue(struct store_op_priv *p, struct store_io_req *r)
{
	int ret;

	r->done = store_io_done;
	r->owner = p;
	p->pending++;
	ret = store_io_queue(p->s, r);
	if (ret < 0)
		p->pending--;
	return ret;
}

static int store_op_io(struct store_op_priv *p, int kind, void *buf, uint32_t len,
		       uint64_t off, int fua)
{
	struct store_io_req *r = store_op_req(p);

	if (!r)
		return -EOVERFLOW;
	r->kind = (uint8_t)kind;
	r->fua = (uint8_t)fua;
	r->buf = buf;
	r->len = len;
	r->off = off;
	r->buf_index = (int16_t)store_fixed_index(p->s, buf, len);
	return store_op_queue(p, r);
}

/* store_vec_region - the registered region holding all of iov[0, cnt), or
 * -1 (then the request is a plain READV/WRITEV). */
static int store_vec_region(const struct store *s, const struct iovec *iov, int cnt)
{
	int r = store_fixed_index(s, iov[0].iov_base, iov[0].iov_len);
	uintptr_t lo, hi;

	if (r < 0)
		return -1;
	lo = (uintptr_t)s->regions[r].base;
	hi = lo + s->regions[r].len;
	for (int i = 1; i < cnt; i++) {
		uintptr_t b = (uintptr_t)iov[i].iov_base;

		if (b < lo || b + iov[i].iov_len > hi)
			return -1;
	}
	return r;
}

/* store_op_iov - a vectored request over the caller's pieces iov[0, cnt)
 * (len bytes in all), passed to the backend as they are. */
static int store_op_iov(struct store_op_priv *p, int kind, const struct iovec *iov, int cnt,
			uint32_t len, uint64_t off)
{
	struct store_io_req *r = store_op_req(p);

	if (!r)
		return -EOVERFLOW;
	r->kind = (uint8_t)kind;
	r->iov = iov;
	r->iovcnt = (uint16_t)cnt;
	r->len = len;
	r->off = off;
	r->buf_index = (int16_t)(p->s->vec_fixed ? store_vec_region(p->s, iov, cnt) : -1);
	return store_op_queue(p, r);
}

/*
 * Deferred frees. An op that reads a chunk's blocks or record looked the
 * entry up when it started; if a PUT replaces or a DELETE removes the chunk
 * meanwhile, the old space must not be reused (and overwritten) before that
 * read is done. Two reader epochs, RCU style: readers count in the epoch
 * current at their start; space freed in epoch e is released when the store
 * moves on to epoch e+2. The store moves from epoch e to e+1 only once the
 * readers of e-1 have drained, so by e+2 every op that started before the
 * free (in e or earlier) has finished; later ops never saw the old entry.
 */
static void store_free_ent(struct store *s, const struct store_ent *e);

static void store_epoch_advance(struct store *s)
{
	uint32_t o = s->epoch ^ 1;

	while (s->readers[o] == 0 && (s->ndefer[o] || s->ndefer[s->epoch])) {
		for (uint32_t i = 0; i < s->ndefer[o]; i++)
			store_free_ent(s, &s->defer[o][i]);
		s->ndefer[o] = 0;
		s->epoch = o;
		o ^= 1;
	}
}

/* store_defer_free - release e's space once no reader can still use it. */
static void store_defer_free(struct store *s, const struct store_ent *e)
{
	uint32_t c = s->epoch;

	if (!s->readers[0] && !s->readers[1]) {
		store_free_ent(s, e);
		return;
	}
	if (s->ndefer[c] == s->capdefer[c]) {
		uint32_t nc = s->capdefer[c] ? s->capdefer[c] * 2 : 64;
		struct store_ent *n = realloc(s->defer[c], nc * sizeof(*n));

		if (!n) {
			/* Out of memory: leak the space until restart rather than
			 * risk a reader seeing it reused. */
			return;
		}
		s->defer[c] = n;
		s->capdefer[c] = nc;
	}
	s->defer[c][s->ndefer[c]++] = *e;
	store_epoch_advance(s);
}

uint32_t store_reader_get(struct store *s)
{
	s->readers[s->epoch]++;
	return s->epoch;
}

void store_reader_put(struct store *s, uint32_t epoch)
{
	s->readers[epoch]--;
	store_epoch_advance(s);
}

static void store_reader_enter(struct store_op_priv *p)
{
	p->reader = 1;
	p->epoch = p->s->epoch;
	p->s->readers[p->epoch]++;
}

static void store_release(struct store_op_priv *p)
{
	struct store *s = p->s;

	if (p->meta_i >= 0)
		s->meta_free[s->nmeta_free++] = (uint32_t)p->meta_i;
	p->meta_i = -1;
	if (p->bounce >= 0)
		s->bounce_busy[p->bounce] = 0;
	p->bounce = -1;
	if (p->reader) {
		s->readers[p->epoch]--;
		p->reader = 0;
		store_epoch_advance(s);
	}
	if (p->rlisted) {
		struct store_op_priv **pp = &s->reading;

		while (*pp && *pp != p)
			pp = &(*pp)->rnext;
		if (*pp)
			*pp = p->rnext;
		p->rlisted = 0;
	}
	if (p->mutating) {
		struct store_op_priv **pp = &s->mutating;

		while (*pp && *pp != p)
			pp = &(*pp)->mnext;
		if (*pp)
			*pp = p->mnext;
		p->mutating = 0;
	}
}

/* store_complete - finish op with res; the callback runs from store_poll. */
static void store_complete(struct store_op_priv *p, int res)
{
	struct store *s = p->s;
	struct store_op *op = p->op;

	store_release(p);
	op->res = res;
	if (res < 0) {
		s->ctr.errors++;
		if (res == -ENOSPC)
			s->ctr.enospc++;
	} else {
		s->ctr.direct_ops += (uint64_t)p->direct;
		switch (op->type) {
		case STORE_OP_GET: s->ctr.gets++; break;
		case STORE_OP_PUT: s->ctr.puts++; break;
		case STORE_OP_WRITE:
			s->ctr.writes++;
			s->ctr.writes_inplace += (uint64_t)p->inplace;
			break;
		case STORE_OP_DELETE:
		case STORE_OP_PURGE: s->ctr.deletes++; break;
		default: s->ctr.stats++; break;
		}
	}
	p->next = NULL;
	if (s->done_tail)
		s->done_tail->next = p;
	else
		s->done_head = p;
	s->done_tail = p;
}

static void store_flush_done(struct store_io_req *r);

static void store_flush_kick(struct store *s)
{
	if (s->flush_inflight || !s->flush_wait)
		return;
	s->flush_batch = s->flush_wait;
	s->flush_wait = NULL;
	memset(&s->flush_req, 0, sizeof(s->flush_req));
	s->flush_req.kind = STORE_IO_FLUSH;
	s->flush_req.buf_index = -1;
	s->flush_req.done = store_flush_done;
	s->flush_req.owner = s;
	s->flush_inflight = 1;
	if (store_io_queue(s, &s->flush_req) < 0) {
		s->flush_req.res = -EIO;
		s->io_inflight++;
		store_flush_done(&s->flush_req);
	}
}

static void store_flush_done(struct store_io_req *r)
{
	struct store *s = r->owner;
	struct store_op_priv *p = s->flush_batch, *n;

	s->io_inflight--;
	s->flush_batch = NULL;
	s->flush_inflight = 0;
	if (r->res < 0) {
		s->ctr.io_errors++;
		s->failed = 1;
	}
	for (; p; p = n) {
		n = p->next;
		if (r->res < 0 && !p->err)
			p->err = r->res;
		store_op_advance(p);
	}
	store_flush_kick(s);
}

static void store_flush_join(struct store_op_priv *p)
{
	struct store *s = p->s;
	struct store_op_priv **pp = &s->flush_wait;

	while (*pp)
		pp = &(*pp)->next;
	p->next = NULL;
	*pp = p;
	store_flush_kick(s);
}

static int store_take_meta(struct store_op_priv *p)
{
	struct store *s = p->s;

	if (!s->nmeta_free)
		return -EAGAIN;
	p->meta_i = (int)s->meta_free[--s->nmeta_free];
	p->meta = s->meta_pool + (size_t)p->meta_i * s->meta_size;
	return 0;
}

static int store_take_bounce(struct store_op_priv *p)
{
	struct store *s = p->s;

	for (int i = 0; i < STORE_NBOUNCE; i++) {
		if (!s->bounce_busy[i]) {
			s->bounce_busy[i] = 1;
			p->bounce = i;
			p->data = s->bounce_pool + (size_t)i * s->bounce_size;
			s->ctr.bounce++;
			return 0;
		}
	}
	return -EAGAIN;
}

/* ------------------------------------------------------------------------ */
/* scatter/gather ops (op->iov; see store.h)
 *
 * A direct one moves its bytes as: pieces [0, vfull) whole, vlast bytes of
 * piece vfull (whole sectors), then vtail bytes of store scratch - the
 * op's meta tail, 512-byte aligned and registered - holding the last
 * vpart (< 512) bytes of the data and the rest of the last 4 KiB block.
 * Those are the device requests (store_vec_io) and, in the same order, the
 * byte stream the block crcs are computed over (struct store_vs).
 */

/* store_iov_check - the rules of store.h for op->iov: 0 or -EINVAL. */
static int store_iov_check(const struct store_op *op)
{
	uint64_t sum = 0;

	if (!op->iov)
		return 0;
	if (op->buf || op->iovcnt < 0 || (op->type != STORE_OP_PUT && op->type != STORE_OP_GET))
		return -EINVAL;
	for (int i = 0; i < op->iovcnt; i++) {
		if (op->iov[i].iov_len > UINT32_MAX)
			return -EINVAL;
		sum += op->iov[i].iov_len;
	}
	if (op->type == STORE_OP_PUT ? sum != op->len : sum < op->len)
		return -EINVAL;
	return 0;
}

static uint8_t *store_scratch(const struct store_op_priv *p)
{
	return p->meta + p->s->meta_size - STORE_META_TAIL;
}

/*
 * store_vec_plan - can the pieces of p's op carry its first n bytes
 * directly (nb blocks in all)? Fills vfull, vlast, vpart, vtail and sets
 * p->vec; 1 = yes, 0 = not (bounce). The device needs every piece it
 * touches 512-byte aligned with a length that is a multiple of 512 (and
 * READV_FIXED non-empty): the piece holding the last byte is cut to whole
 * sectors and its remainder goes through the scratch.
 */
static int store_vec_plan(struct store_op_priv *p, uint64_t n, uint32_t nb)
{
	const struct iovec *iov = p->op->iov;
	/* Writes: what the disk takes without serializing (store_cfg.piece_align). */
	uintptr_t mask = (p->op->type == STORE_OP_PUT ? p->s->wpiece_align : STORE_SLOT) - 1;
	uint64_t left = n;
	int i = 0, nvec;

	for (; left && i < p->op->iovcnt; i++) {
		size_t l = iov[i].iov_len;

		if (!l || ((uintptr_t)iov[i].iov_base & mask))
			return 0;
		if (l >= left)
			break;
		if (l & mask)
			return 0;
		left -= l;
	}
	if (left && i == p->op->iovcnt)
		return 0; /* cannot happen: store_iov_check */
	p->vfull = i;
	p->vlast = p->vpart = 0;
	if (left && left == iov[i].iov_len && !(left & mask)) {
		p->vfull = i + 1;
	} else if (left) {
		p->vlast = (uint32_t)(left & ~(uint64_t)mask);
		p->vpart = (uint32_t)(left & mask);
	}
	/* At most one block's worth: n - vpart is past the last block's start. */
	p->vtail = (uint32_t)((uint64_t)nb * STORE_BLOCK - (n - p->vpart));
	/* Room in p->io for the vectors, the last piece, the scratch and a
	 * record: more pieces than that go through the bounce buffer. */
	nvec = (p->vfull + STORE_IO_IOV_MAX - 1) / STORE_IO_IOV_MAX;
	if (nvec > STORE_OP_NIO - 3)
		return 0;
	p->vec = 1;
	return 1;
}

/* store_vec_io - queue the requests moving a direct op's nb blocks at
 * device offset off (see the top of this section). 0 or the first -errno
 * (some requests may be queued then). */
static int store_vec_io(struct store_op_priv *p, int kind, uint64_t off)
{
	const struct iovec *iov = p->op->iov;
	int ret = 0;

	for (int j = 0; j < p->vfull && ret == 0; j += STORE_IO_IOV_MAX) {
		int cnt = p->vfull - j < STORE_IO_IOV_MAX ? p->vfull - j : STORE_IO_IOV_MAX;
		uint32_t bytes = 0;

		for (int k = 0; k < cnt; k++)
			bytes += (uint32_t)iov[j + k].iov_len;
		ret = store_op_iov(p, kind, iov + j, cnt, bytes, off);
		off += bytes;
	}
	if (ret == 0 && p->vlast) {
		ret = store_op_io(p, kind, iov[p->vfull].iov_base, p->vlast, off, 0);
		off += p->vlast;
	}
	if (ret == 0 && p->vtail)
		ret = store_op_io(p, kind, store_scratch(p), p->vtail, off, 0);
	return ret;
}

/* store_vec_part_in - PUT: the scratch gets the last partial sector of the
 * data (copied, counted) and zeros to the end of the last block. */
static void store_vec_part_in(struct store_op_priv *p)
{
	uint8_t *t = store_scratch(p);

	if (p->vpart)
		memcpy(t, (const uint8_t *)p->op->iov[p->vfull].iov_base + p->vlast, p->vpart);
	memset(t + p->vpart, 0, p->vtail - p->vpart);
	p->s->ctr.bounce_bytes += p->vpart;
}

/* store_vec_part_out - GET, checked: the last partial sector to its piece. */
static void store_vec_part_out(struct store_op_priv *p)
{
	if (!p->vpart)
		return;
	memcpy((uint8_t *)p->op->iov[p->vfull].iov_base + p->vlast, store_scratch(p), p->vpart);
	p->s->ctr.bounce_bytes += p->vpart;
}

/* A direct op's bytes as one stream: n - vpart bytes from the pieces, then
 * the scratch. */
struct store_vs {
	const struct iovec *iov; /* the caller's pieces */
	int i;                   /* current piece */
	size_t at;               /* offset in it */
	uint64_t vleft;          /* bytes still to take from the pieces */
	const uint8_t *tail;     /* then the scratch, from here */
};

static void store_vs_init(struct store_vs *v, const struct store_op_priv *p, uint64_t n)
{
	v->iov = p->op->iov;
	v->i = 0;
	v->at = 0;
	v->vleft = n - p->vpart;
	v->tail = store_scratch(p);
}

/* store_vs_crc - crc32c continued from crc over the next n bytes. */
static uint32_t store_vs_crc(struct store_vs *v, uint32_t crc, uint32_t n)
{
	while (n && v->vleft) {
		size_t k = v->iov[v->i].iov_len - v->at;

		if (k > n)
			k = n;
		if (k > v->vleft)
			k = (size_t)v->vleft;
		crc = crc32c(crc, (const uint8_t *)v->iov[v->i].iov_base + v->at, k);
		v->at += k;
		v->vleft -= k;
		n -= (uint32_t)k;
		if (v->at == v->iov[v->i].iov_len) {
			v->i++;
			v->at = 0;
		}
	}
	if (n) {
		crc = crc32c(crc, v->tail, n);
		v->tail += n;
	}
	return crc;
}

/* store_iov_gather / store_iov_scatter - copy n bytes between a flat buffer
 * and the pieces, in order (the bounce path). */
static void store_iov_gather(const struct iovec *iov, uint8_t *dst, uint64_t n)
{
	for (int i = 0; n; i++) {
		size_t k = iov[i].iov_len < n ? iov[i].iov_len : (size_t)n;

		if (k)
			memcpy(dst, iov[i].iov_base, k);
		dst += k;
		n -= k;
	}
}

static void store_iov_scatter(const struct iovec *iov, const uint8_t *src, uint64_t n)
{
	for (int i = 0; n; i++) {
		size_t k = iov[i].iov_len < n ? iov[i].iov_len : (size_t)n;

		if (k)
			memcpy(iov[i].iov_base, src, k);
		src += k;
		n -= k;
	}
}

static void store_count_bad(struct store *s, const uint8_t id[16], uint64_t block, const char *what)
{
	char hex[33];

	s->ctr.crc_errors++;
	for (int k = 0; k < 16; k++)
		snprintf(hex + 2 * k, 3, "%02x", id[k]);
	log_warn("store: checksum mismatch in %s of chunk %s (block %llu)", what, hex,
		 (unsigned long long)block);
}

/* Check the record in p->meta against the index entry it was read for. */
static int store_check_rec(struct store_op_priv *p, const struct store_ent *e,
			   struct store_rec *rec)
{
	uint32_t ns = store_fmt_rec_slots(store_nblocks(e->size));

	if (store_rec_decode(p->meta, (size_t)ns * STORE_SLOT, &p->s->g, rec) < 0 ||
	    !store_rec_is(rec, e)) {
		store_count_bad(p->s, e->id, e->slot, "record");
		return -EBADMSG;
	}
	return 0;
}

/* Start the write half of PUT/WRITE: p->data holds new_size bytes (padded),
 * or a direct scatter PUT's pieces and scratch do. */
static int store_put_issue(struct store_op_priv *p);
static void store_hwm_join(struct store_op_priv *p);

/* store_put_crcs - the block crcs of the new data into p->meta; returns the
 * chunk crc, and block 0's crc in *crc0. */
static uint32_t store_put_crcs(struct store_op_priv *p, uint32_t nb, uint32_t *crc0)
{
	struct store *s = p->s;
	uint32_t chunk = 0, r = (uint32_t)(p->new_size % STORE_BLOCK);
	struct store_vs v;

	*crc0 = 0;
	if (!p->vec) {
		for (uint32_t i = 0; i < nb; i++) {
			uint32_t c = crc32c(0, p->data + (size_t)i * STORE_BLOCK, STORE_BLOCK);

			if (i == 0)
				*crc0 = c;
			store_rec_put_crc(p->meta, i, c);
		}
		return crc32c(0, p->data, p->new_size);
	}
	/* One pass over the pieces: the chunk crc is combined from the block
	 * crcs (the last block's before its zero padding). */
	store_vs_init(&v, p, p->new_size);
	for (uint32_t i = 0; i < nb; i++) {
		uint32_t n = i == nb - 1 && r ? r : STORE_BLOCK;
		uint32_t c = store_vs_crc(&v, 0, n);

		chunk = store_crc_combine(chunk, c, n == STORE_BLOCK ? s->crc_op_blk :
					  store_crc_shift_op(n));
		if (n < STORE_BLOCK)
			c = store_vs_crc(&v, c, STORE_BLOCK - n);
		if (i == 0)
			*crc0 = c;
		store_rec_put_crc(p->meta, i, c);
	}
	return chunk;
}

/*
 * store_oneflush_ok - may a record of version v commit with one flush (its
 * data and it together)? On a ONEFLUSH disk, above the watermark - also
 * above a watermark being written right now (hwm_busy): that one was
 * computed from the versions in flight at the time, and an explicit version
 * taken since may lie below it; if it landed while this record's data was
 * not yet durable, open would trust a torn record. Versions from the clock
 * are above both by construction.
 */
static int store_oneflush_ok(const struct store *s, uint64_t v)
{
	uint64_t w = s->g.verified;

	if (s->hwm_busy && s->w_target > w)
		w = s->w_target;
	return (s->g.incompat & STORE_INCOMPAT_ONEFLUSH) && v > w;
}

/* store_ver_take - the version of p's new record: the op's own (explicit,
 * checked by store_start) or the clock's next. The clock stays above every
 * version installed, so later local versions win over it. */
static uint64_t store_ver_take(struct store_op_priv *p)
{
	struct store *s = p->s;
	uint64_t v = p->op->version ? p->op->version : s->next_version++;

	if (v >= s->next_version)
		s->next_version = v + 1;
	p->ver = v;
	return v;
}

static int store_p_ready(const struct store *s, const struct store_op_priv *p);

static int store_put_start(struct store_op_priv *p)
{
	struct store *s = p->s;
	uint32_t nb = store_nblocks(p->new_size), ns = store_fmt_rec_slots(nb);
	uint64_t blk = 0, slot = 0;
	struct store_rec rec;
	uint32_t crc0;
	int ret;

	ret = store_bmap_alloc(&s->blocks, nb, &blk);
	if (ret < 0)
		return ret;
	ret = store_bmap_alloc(&s->slots, ns, &slot);
	if (ret < 0) {
		store_bmap_clear(&s->blocks, blk, nb);
		return ret;
	}
	memset(&rec, 0, sizeof(rec));
	memcpy(rec.id, p->op->id, 16);
	rec.version = store_ver_take(p);
	/* A tombstone has no data to tear: its record commits under one flush
	 * on any disk (STORE_INCOMPAT_TOMBSTONE in store_format.h). */
	p->oneflush = p->tomb || store_oneflush_ok(s, rec.version);
	rec.size = p->new_size;
	rec.block = blk;
	rec.nblocks = nb;
	crc0 = 0;
	if (p->tomb)
		rec.flags = STORE_REC_F_TOMBSTONE;
	else
		rec.chunk_crc = store_put_crcs(p, nb, &crc0);
	store_rec_encode(p->meta, &rec, NULL, s->g.rec_seed);
	p->op->version = rec.version;
	memcpy(p->nw.id, p->op->id, 16);
	p->nw.block = p->tomb ? STORE_ENT_TOMB : (uint32_t)blk;
	p->nw.slot = (uint32_t)slot;
	p->nw.size = (uint32_t)p->new_size;
	p->nw.crc0 = crc0;
	p->nw.version = rec.version;
	if (!store_p_ready(s, p)) {
		/* The record would lie above the high-water mark, or is the
		 * disk's first tombstone: raise the mark or set the feature
		 * (durably) first, then go on in store_put_issue. */
		p->stage = ST_PUT_HWM;
		store_hwm_join(p);
		return 0;
	}
	return store_put_issue(p);
}

/* Issue the data write (or the flush of an empty chunk) of a prepared PUT;
 * on failure frees the new space and returns -errno. */
static int store_ip_issue(struct store_op_priv *p);

/* store_put_data - queue the data writes of a PUT: nb blocks at blk. */
static int store_put_data(struct store_op_priv *p, uint64_t blk, uint32_t nb)
{
	uint64_t off = store_block_off(p->s, blk);

	if (p->vec)
		return store_vec_io(p, STORE_IO_WRITE, off);
	return store_op_io(p, STORE_IO_WRITE, p->data, nb * STORE_BLOCK, off, 0);
}

static int store_put_issue(struct store_op_priv *p)
{
	struct store *s = p->s;
	uint32_t nb = store_nblocks(p->new_size), ns = store_fmt_rec_slots(nb);
	uint64_t blk = p->nw.block, slot = p->nw.slot;
	int ret;

	if (p->inplace)
		return store_ip_issue(p);
	p->stage = ST_PUT_DATA;
	if (p->oneflush) {
		/* Data and record together; one flush commits both (open
		 * verifies the data of records above the watermark). */
		ret = 0;
		if (nb)
			ret = store_put_data(p, blk, nb);
		if (ret == 0)
			ret = store_op_io(p, STORE_IO_WRITE, p->meta, ns * STORE_SLOT,
					  store_slot_off(s, slot), 0);
		if (ret < 0 && !p->pending) {
			store_bmap_clear(&s->blocks, blk, nb);
			store_bmap_clear(&s->slots, slot, ns);
			return ret;
		}
		if (ret < 0) {
			/* The data write is out, the record not: fail the op
			 * when it completes (keeping the space). */
			s->failed = 1;
			p->err = ret;
		}
		return 0;
	}
	if (nb) {
		ret = store_put_data(p, blk, nb);
		if (ret < 0 && !p->pending) {
			store_bmap_clear(&s->blocks, blk, nb);
			store_bmap_clear(&s->slots, slot, ns);
			return ret;
		}
		if (ret < 0)
			p->err = ret; /* some are out: fail (and free) when they are done */
	} else {
		/* No data, but the flush still orders earlier erases before
		 * this record (see the comment at the top). */
		p->stage = ST_PUT_FLUSH;
		store_flush_join(p);
	}
	return 0;
}

static void store_free_new(struct store_op_priv *p)
{
	uint32_t nb = store_nblocks(p->nw.size);

	if (p->inplace) {
		/* The chunk's extent stays; only the op's own new space goes. */
		store_bmap_clear(&p->s->blocks, p->tblk, p->nb);
		store_bmap_clear(&p->s->slots, p->jslot, store_fmt_rec_slots(nb));
		store_bmap_clear(&p->s->slots, p->nw.slot, store_fmt_rec_slots(nb));
		return;
	}
	store_bmap_clear(&p->s->blocks, p->nw.block, nb);
	store_bmap_clear(&p->s->slots, p->nw.slot, store_fmt_rec_slots(nb));
}

static void store_free_ent(struct store *s, const struct store_ent *e)
{
	uint32_t nb = store_nblocks(e->size);

	store_bmap_clear(&s->blocks, e->block, nb);
	store_bmap_clear(&s->slots, e->slot, store_fmt_rec_slots(nb));
}

/*
 * Background erases of replaced records: the PUT/WRITE acks as soon as its
 * record is committed, and the old header is zeroed by an internal request
 * from a pool. The old space is released (deferred, see store_defer_free)
 * when the erase completes. DELETEs wait until no erase is in flight before
 * they issue their first flush, which keeps the invariant that flush
 * covers every earlier erase.
 */
static void store_erase_done(struct store_io_req *r)
{
	struct store_erase *e = (struct store_erase *)r;
	struct store *s = r->owner;

	s->io_inflight--;
	s->erases_inflight--;
	if (r->res < 0) {
		s->ctr.io_errors++;
		s->failed = 1; /* the old record stays; open erases it */
	} else {
		store_defer_free(s, &e->old);
	}
	e->next = s->erase_free;
	s->erase_free = e;
	if (!s->erases_inflight) {
		struct store_op_priv *w = s->erase_wait, *n;

		s->erase_wait = NULL;
		for (; w; w = n) {
			n = w->next;
			/* A failed erase may be of an older record of w's chunk
			 * (the PUT that replaced it acks before the erase): w's
			 * erase would leave that one the chunk's only record, and
			 * it would come back. Nothing of w is written yet. */
			if (s->failed)
				store_complete(w, -EIO);
			else
				store_flush_join(w);
		}
	}
}

static int store_erase_start(struct store *s, const struct store_ent *old)
{
	struct store_erase *e = s->erase_free;

	if (!e)
		return -EAGAIN;
	memset(&e->r, 0, sizeof(e->r));
	e->r.kind = STORE_IO_WRITE;
	e->r.buf = s->zero;
	e->r.len = STORE_SLOT;
	e->r.off = store_slot_off(s, old->slot);
	e->r.buf_index = -1;
	e->r.done = store_erase_done;
	e->r.owner = s;
	e->old = *old;
	if (store_io_queue(s, &e->r) < 0)
		return -EAGAIN;
	s->erase_free = e->next;
	s->erases_inflight++;
	return 0;
}

/*
 * Record high-water mark (see store_format.h): a PUT whose record slots end
 * above sb.rec_hwm waits here while both superblocks are rewritten with a
 * higher mark and a new generation, one after the other, each FUA; a crash
 * between them leaves one valid copy, and no record above the old mark
 * exists yet. The mark rises in steps of 1/64 of the slots (min 64). A
 * disk's first tombstone waits the same way while the superblocks gain
 * STORE_INCOMPAT_TOMBSTONE (store_format.h).
 */
uint32_t store_hwm_step_override;
uint32_t store_verify_bytes_override;

static void store_hwm_kick(struct store *s);

static uint32_t store_p_need(const struct store_op_priv *p)
{
	uint32_t top = p->inplace && p->jslot > p->nw.slot ? p->jslot : p->nw.slot;

	return top + store_fmt_rec_slots(store_nblocks(p->nw.size));
}

/* store_p_ready - can p's records be written now: below the high-water
 * mark, and a tombstone only once the disk has the feature? */
static int store_p_ready(const struct store *s, const struct store_op_priv *p)
{
	return store_p_need(p) <= s->g.rec_hwm &&
	       (!p->tomb || (s->g.incompat & STORE_INCOMPAT_TOMBSTONE));
}

static void store_hwm_done(struct store_io_req *r)
{
	struct store *s = r->owner;
	struct store_op_priv *w, *n, *keep = NULL;

	s->io_inflight--;
	if (r->res >= 0 && s->hwm_stage == 0) {
		/* First copy durable; now the one at the end. */
		s->hwm_stage = 1;
		s->hwm_req.res = 0;
		s->hwm_req.off = s->g.dev_size - STORE_BLOCK;
		if (store_io_queue(s, &s->hwm_req) == 0)
			return;
		r->res = -EIO;
	}
	s->hwm_busy = 0;
	if (r->res < 0) {
		s->ctr.io_errors++;
		s->failed = 1;
	} else {
		s->g.rec_hwm = s->hwm_target;
		s->g.verified = s->w_target;
		if (s->hwm_incompat & ~s->g.incompat)
			log_info("store: the disk now has incompat features 0x%llx (tombstones): "
				 "older builds refuse it", (unsigned long long)s->hwm_incompat);
		s->g.incompat = s->hwm_incompat;
	}
	w = s->hwm_wait;
	s->hwm_wait = NULL;
	for (; w; w = n) {
		n = w->next;
		if (r->res < 0 || store_p_ready(s, w)) {
			int ret = r->res < 0 ? -EIO : store_put_issue(w);

			if (r->res < 0)
				store_free_new(w);
			if (ret < 0)
				store_complete(w, ret);
		} else {
			w->next = keep;
			keep = w;
		}
	}
	s->hwm_wait = keep;
	store_hwm_kick(s);
}

static void store_hwm_kick(struct store *s)
{
	uint64_t need = 0, step = store_hwm_step_override ? store_hwm_step_override :
			s->g.nslots / 64 > 64 ? s->g.nslots / 64 : 64;
	uint64_t low = s->next_version, incompat = s->g.incompat;

	if (s->hwm_busy || (!s->hwm_wait && !s->w_want))
		return;
	for (struct store_op_priv *w = s->hwm_wait; w; w = w->next) {
		if (store_p_need(w) > need)
			need = store_p_need(w);
		if (w->tomb)
			incompat |= STORE_INCOMPAT_TOMBSTONE;
	}
	/* Never lower the mark: a waiter may only want the feature bit. */
	s->hwm_target = need <= s->g.rec_hwm ? s->g.rec_hwm :
			need + step < s->g.nslots ? need + step : s->g.nslots;
	s->hwm_incompat = incompat;
	/* The one-flush watermark rides along: every version below the oldest
	 * one still in flight belongs to an acknowledged (durable) op. */
	for (struct store_op_priv *m = s->mutating; m; m = m->mnext)
		if (m->ver && m->ver < low)
			low = m->ver;
	s->w_target = s->g.verified;
	if ((s->g.incompat & STORE_INCOMPAT_ONEFLUSH) && !s->failed && low - 1 > s->w_target)
		s->w_target = low - 1;
	s->w_want = 0;
	s->w_bytes = 0;
	s->sb.generation++;
	memset(s->sbbuf, 0, STORE_BLOCK);
	{
		struct store_geom g = s->g;

		g.rec_hwm = s->hwm_target;
		g.verified = s->w_target;
		g.incompat = s->hwm_incompat;
		store_sb_encode(s->sbbuf, s->sb.cluster, s->sb.node, s->sb.disk, &g,
				s->sb.generation, s->sb.created);
	}
	memset(&s->hwm_req, 0, sizeof(s->hwm_req));
	s->hwm_req.kind = STORE_IO_WRITE;
	s->hwm_req.fua = 1;
	s->hwm_req.buf = s->sbbuf;
	s->hwm_req.len = STORE_BLOCK;
	s->hwm_req.off = 0;
	s->hwm_req.buf_index = -1;
	s->hwm_req.done = store_hwm_done;
	s->hwm_req.owner = s;
	s->hwm_stage = 0;
	s->hwm_busy = 1;
	if (store_io_queue(s, &s->hwm_req) < 0) {
		s->hwm_req.res = -EIO;
		s->io_inflight++;
		s->hwm_stage = 1;
		store_hwm_done(&s->hwm_req);
	}
}

/* store_w_account - a record of a size-byte chunk was committed above the
 * one-flush watermark (open would read size bytes to verify it): raise the
 * watermark every STORE_VERIFY_BYTES of those (store_format.h). */
static void store_w_account(struct store *s, uint64_t size)
{
	s->w_bytes += size + STORE_SLOT;
	if (s->w_bytes >= (store_verify_bytes_override ? store_verify_bytes_override :
			   STORE_VERIFY_BYTES)) {
		s->w_want = 1;
		store_hwm_kick(s);
	}
}

static void store_hwm_join(struct store_op_priv *p)
{
	p->next = p->s->hwm_wait;
	p->s->hwm_wait = p;
	store_hwm_kick(p->s);
}

/* ------------------------------------------------------------------------ */
/* in-place WRITE (see the top of the file) */

static int store_direct_ok(const struct store_op *op, uint64_t need);
static void store_mark_mutating(struct store_op_priv *p);

/* Is a mutating in-place WRITE of id in flight? (GET/STAT wait for it.) */
int store_ip_busy(const struct store *s, const uint8_t id[16])
{
	for (const struct store_op_priv *m = s->mutating; m; m = m->mnext)
		if (m->inplace && memcmp(m->op->id, id, 16) == 0)
			return 1;
	return 0;
}

/* Can this WRITE (chunk e exists) be done in place? 4 KiB-aligned offset and
 * length, not growing the chunk's extent (a write into the slack of the last
 * block may raise the size), a disk with the journal feature, and no GET or
 * STAT of the chunk in flight (they could see blocks change under them). */
static int store_ip_ok(const struct store *s, const struct store_op *op, const struct store_ent *e)
{
	if (!(s->g.incompat & STORE_INCOMPAT_JOURNAL) || !op->len ||
	    op->off % STORE_BLOCK || op->len % STORE_BLOCK ||
	    store_nblocks(op->off + op->len > e->size ? op->off + op->len : e->size) !=
	    store_nblocks(e->size))
		return 0;
	for (const struct store_op_priv *r = s->reading; r; r = r->rnext)
		if (memcmp(r->op->id, op->id, 16) == 0)
			return 0;
	return 1;
}

/* Start an in-place WRITE: read the chunk's record and, when the write does
 * not cover the partial last block, that block (for the chunk crc). */
static int store_ip_start(struct store_op_priv *p)
{
	struct store *s = p->s;
	struct store_op *op = p->op;
	uint32_t nb = store_nblocks(p->old.size), last = nb - 1;
	int ret;

	p->inplace = 1;
	p->b0 = (uint32_t)(op->off / STORE_BLOCK);
	p->nb = op->len / STORE_BLOCK;
	if (store_direct_ok(op, op->len)) {
		p->data = op->buf;
		p->direct = 1;
	} else {
		if ((ret = store_take_bounce(p)) < 0)
			return ret;
		memcpy(p->data, op->buf, op->len);
		s->ctr.bounce_bytes += op->len;
	}
	store_mark_mutating(p);
	p->stage = ST_IP_READ;
	p->tail = p->old.size % STORE_BLOCK && p->new_size == p->old.size &&
		  (last < p->b0 || last >= p->b0 + p->nb);
	ret = store_op_io(p, STORE_IO_READ, p->meta, store_fmt_rec_slots(nb) * STORE_SLOT,
			  store_slot_off(s, p->old.slot), 0);
	if (ret == 0 && p->tail)
		ret = store_op_io(p, STORE_IO_READ, p->meta + s->meta_size - STORE_META_TAIL,
				  STORE_BLOCK, store_block_off(s, p->old.block + last), 0);
	return ret;
}

/* Record read: build the journal record (new block crcs, chunk crc, new
 * version), allocate the temporary extent and the two record runs. */
static int store_ip_prepare(struct store_op_priv *p)
{
	struct store *s = p->s;
	struct store_rec rec;
	uint32_t nb = store_nblocks(p->old.size), ns = store_fmt_rec_slots(nb);
	uint32_t nfull = (uint32_t)(p->new_size / STORE_BLOCK), r = p->new_size % STORE_BLOCK;
	uint8_t *tailbuf = p->meta + s->meta_size - STORE_META_TAIL;
	uint64_t tblk = 0, js = 0, rs = 0;
	uint32_t c = 0;
	int ret;

	if (store_check_rec(p, &p->old, &rec) < 0)
		return -EBADMSG;
	if (p->tail && crc32c(0, tailbuf, STORE_BLOCK) != store_rec_crc(&rec, nb - 1)) {
		store_count_bad(s, p->old.id, nb - 1, "data");
		return -EBADMSG;
	}
	for (uint32_t i = 0; i < p->nb; i++)
		store_rec_put_crc(p->meta, p->b0 + i,
				  crc32c(0, p->data + (size_t)i * STORE_BLOCK, STORE_BLOCK));
	/* Chunk crc from the block crcs (crc combination), O(blocks) with no
	 * data read; only a partial last block needs its own bytes. */
	for (uint32_t i = 0; i < nfull; i++)
		c = store_crc_combine(c, store_rec_crc(&rec, i), s->crc_op_blk);
	if (r) {
		const uint8_t *lb = nfull >= p->b0 && nfull < p->b0 + p->nb ?
				    p->data + (size_t)(nfull - p->b0) * STORE_BLOCK : tailbuf;

		c = store_crc_combine(c, crc32c(0, lb, r), store_crc_shift_op(r));
	}
	ret = store_bmap_alloc(&s->blocks, p->nb, &tblk);
	if (ret == 0) {
		ret = store_bmap_alloc(&s->slots, ns, &js);
		if (ret == 0) {
			ret = store_bmap_alloc(&s->slots, ns, &rs);
			if (ret < 0)
				store_bmap_clear(&s->slots, js, ns);
		}
		if (ret < 0)
			store_bmap_clear(&s->blocks, tblk, p->nb);
	}
	if (ret < 0)
		return ret;
	rec.version = store_ver_take(p);
	rec.size = p->new_size;
	rec.chunk_crc = c;
	rec.flags = STORE_REC_F_JOURNAL;
	rec.jblock = (uint32_t)tblk;
	rec.jfirst = p->b0;
	rec.jcount = p->nb;
	store_rec_encode(p->meta, &rec, NULL, s->g.rec_seed);
	p->op->version = rec.version;
	p->tblk = (uint32_t)tblk;
	p->jslot = (uint32_t)js;
	p->nw = p->old;
	p->nw.slot = (uint32_t)rs;
	p->nw.size = (uint32_t)p->new_size;
	p->nw.crc0 = store_rec_crc(&rec, 0);
	p->nw.version = rec.version;
	if (!store_p_ready(s, p)) {
		p->stage = ST_PUT_HWM;
		store_hwm_join(p);
		return 0;
	}
	return store_ip_issue(p);
}

/* Write the new blocks to the temporary extent; frees the new space on error. */
static int store_ip_issue(struct store_op_priv *p)
{
	struct store *s = p->s;
	uint32_t ns = store_fmt_rec_slots(store_nblocks(p->new_size));
	int ret;

	p->stage = ST_IP_DATA;
	ret = store_op_io(p, STORE_IO_WRITE, p->data, p->nb * STORE_BLOCK,
			  store_block_off(s, p->tblk), 0);
	if (ret < 0) {
		store_free_new(p);
		return ret;
	}
	if (store_oneflush_ok(s, p->ver)) {
		/* One flush commits the temporary blocks and the journal record
		 * together: open checks a journal above the watermark against
		 * them (store_scan_verify). */
		p->oneflush = 1;
		p->stage = ST_IP_JREC;
		ret = store_op_io(p, STORE_IO_WRITE, p->meta, ns * STORE_SLOT,
				  store_slot_off(s, p->jslot), 0);
		if (ret < 0) {
			s->failed = 1; /* the data write is out: fail when it is done */
			p->err = ret;
		}
	}
	return 0;
}

/* Journal committed: turn the record in p->meta into the plain one and
 * write it to its own slots beside the blocks in place. */
static int store_ip_apply(struct store_op_priv *p)
{
	struct store *s = p->s;
	uint32_t ns = store_fmt_rec_slots(store_nblocks(p->new_size));
	struct store_rec rec;
	int ret;

	if (store_rec_decode(p->meta, (size_t)ns * STORE_SLOT, &s->g, &rec) < 0)
		return -EIO; /* cannot happen: we encoded it */
	rec.flags = 0;
	rec.jblock = rec.jfirst = rec.jcount = 0;
	store_rec_encode(p->meta, &rec, NULL, s->g.rec_seed);
	p->stage = ST_IP_APPLY;
	ret = store_op_io(p, STORE_IO_WRITE, p->data, p->nb * STORE_BLOCK,
			  store_block_off(s, (uint64_t)p->old.block + p->b0), 0);
	if (ret == 0)
		ret = store_op_io(p, STORE_IO_WRITE, p->meta, ns * STORE_SLOT,
				  store_slot_off(s, p->nw.slot), 0);
	if (ret < 0)
		s->failed = 1;
	return ret;
}

static void store_ip_advance(struct store_op_priv *p)
{
	struct store *s = p->s;
	uint32_t ns = store_fmt_rec_slots(store_nblocks(p->new_size));
	int ret;

	switch (p->stage) {
	case ST_IP_READ:
		ret = p->err ? p->err : store_ip_prepare(p);
		if (ret < 0)
			store_complete(p, ret);
		return;
	case ST_IP_DATA:
	case ST_IP_FLUSH:
		if (p->err) {
			store_free_new(p);
			store_complete(p, p->err);
			return;
		}
		if (p->stage == ST_IP_DATA) {
			p->stage = ST_IP_FLUSH;
			store_flush_join(p);
			return;
		}
		p->stage = ST_IP_JREC;
		ret = store_op_io(p, STORE_IO_WRITE, p->meta, ns * STORE_SLOT,
				  store_slot_off(s, p->jslot), s->commit_fua);
		if (ret < 0) {
			store_free_new(p);
			store_complete(p, ret);
		}
		return;
	case ST_IP_JREC:
		if (!p->err && (!s->commit_fua || p->oneflush)) {
			p->stage = ST_IP_JFLUSH;
			store_flush_join(p);
			return;
		}
		/* fallthrough */
	case ST_IP_JFLUSH:
		/* On error the journal record may be on disk: keep the space
		 * (a leak until restart, never a double use). */
		ret = p->err ? p->err : store_ip_apply(p);
		if (ret < 0)
			store_complete(p, ret);
		return;
	case ST_IP_APPLY:
		if (p->err) {
			store_complete(p, p->err); /* committed: open replays it */
			return;
		}
		p->stage = ST_IP_AFLUSH;
		store_flush_join(p);
		return;
	case ST_IP_AFLUSH:
		if (p->err) {
			store_complete(p, p->err);
			return;
		}
		/* Blocks in place and the plain record durable: switch the index,
		 * drop the temporary extent (nothing reads it any more; a replay
		 * checks the extent first), erase the old and journal headers. */
		if (store_ix_put(&s->ix, &p->nw) < 0) {
			store_complete(p, -ENOMEM);
			return;
		}
		store_bmap_clear(&s->blocks, p->tblk, p->nb);
		if (s->g.incompat & STORE_INCOMPAT_ONEFLUSH)
			store_w_account(s, p->new_size); /* open verifies the plain record */
		p->stage = ST_IP_ERASE;
		ret = store_op_io(p, STORE_IO_WRITE, s->zero, STORE_SLOT,
				  store_slot_off(s, p->old.slot), 0);
		if (ret == 0)
			ret = store_op_io(p, STORE_IO_WRITE, s->zero, STORE_SLOT,
					  store_slot_off(s, p->jslot), 0);
		if (ret < 0) {
			/* A header left behind could outlive a later DELETE of
			 * the chunk: stop mutating until a reopen erases it. */
			s->failed = 1;
			if (!p->pending)
				store_complete(p, 0);
		}
		return;
	case ST_IP_ERASE:
		/* Reusable once erased: any reuse is flushed before it commits.
		 * No reader can be on them (see store_ip_ok, store_ip_busy). */
		if (!p->err) {
			store_bmap_clear(&s->slots, p->old.slot, ns);
			store_bmap_clear(&s->slots, p->jslot, ns);
		}
		store_complete(p, 0);
		return;
	}
}

/* store_get_check - the nb blocks read against their crcs (rec, or the
 * entry's crc0 for a one-block chunk); 0 or -EBADMSG (counted). */
static int store_get_check(struct store_op_priv *p, const struct store_rec *rec)
{
	struct store_vs v;

	if (p->vec)
		store_vs_init(&v, p, p->op->got);
	for (uint32_t i = 0; i < p->nb; i++) {
		uint32_t want = rec ? store_rec_crc(rec, p->b0 + i) : p->old.crc0;
		uint32_t c = p->vec ? store_vs_crc(&v, 0, STORE_BLOCK) :
			     crc32c(0, p->data + (size_t)i * STORE_BLOCK, STORE_BLOCK);

		if (c != want) {
			store_count_bad(p->s, p->old.id, p->b0 + i, "data");
			return -EBADMSG;
		}
	}
	return 0;
}

/* store_get_finish - GET read: check it, then hand over the bytes that did
 * not land in the caller's memory (bounce, partial sector). */
static int store_get_finish(struct store_op_priv *p)
{
	struct store_op *op = p->op;
	uint32_t skip = (uint32_t)(op->off - (uint64_t)p->b0 * STORE_BLOCK);
	struct store_rec rec;
	int big = p->old.size > STORE_BLOCK;

	if (big && store_check_rec(p, &p->old, &rec) < 0)
		return -EBADMSG;
	if (store_get_check(p, big ? &rec : NULL) < 0)
		return -EBADMSG;
	if (p->vec) {
		store_vec_part_out(p);
	} else if (p->bounce >= 0) {
		if (op->iov)
			store_iov_scatter(op->iov, p->data + skip, op->got);
		else
			memcpy(op->buf, p->data + skip, op->got);
		p->s->ctr.bounce_bytes += op->got;
	}
	return 0;
}

static void store_op_advance(struct store_op_priv *p)
{
	struct store *s = p->s;
	struct store_op *op = p->op;
	struct store_rec rec;
	int ret;

	if (p->inplace && p->stage != ST_PUT_HWM) {
		store_ip_advance(p);
		return;
	}
	switch (p->stage) {
	case ST_GET_READ:
		store_complete(p, p->err ? p->err : store_get_finish(p));
		return;
	case ST_STAT_READ:
		if (p->err) {
			store_complete(p, p->err);
			return;
		}
		if (store_check_rec(p, &p->old, &rec) < 0) {
			store_complete(p, -EBADMSG);
			return;
		}
		op->stat.size = rec.size;
		op->stat.version = rec.version;
		op->stat.crc = rec.chunk_crc;
		store_complete(p, 0);
		return;
	case ST_WR_READ: {
		uint32_t nb_old = store_nblocks(p->old.size);
		uint32_t nb_new = store_nblocks(p->new_size);

		if (p->err) {
			store_complete(p, p->err);
			return;
		}
		if (p->old.size > STORE_BLOCK && store_check_rec(p, &p->old, &rec) < 0) {
			store_complete(p, -EBADMSG);
			return;
		}
		for (uint32_t i = 0; i < nb_old; i++) {
			uint32_t want = p->old.size > STORE_BLOCK ? store_rec_crc(&rec, i) :
				       p->old.crc0;

			if (crc32c(0, p->data + (size_t)i * STORE_BLOCK, STORE_BLOCK) != want) {
				store_count_bad(s, p->old.id, i, "data");
				store_complete(p, -EBADMSG);
				return;
			}
		}
		/* Merge: old bytes, zeros up to the new end, then the caller's bytes. */
		memset(p->data + p->old.size, 0, (size_t)nb_new * STORE_BLOCK - p->old.size);
		if (op->len)
			memcpy(p->data + op->off, op->buf, op->len);
		s->ctr.bounce_bytes += op->len;
		ret = store_put_start(p);
		if (ret < 0)
			store_complete(p, ret);
		return;
	}
	case ST_PUT_DATA:
		if (p->oneflush) {
			if (p->err) {
				/* The record may be on disk: keep its space. */
				store_complete(p, p->err);
				return;
			}
			p->stage = ST_PUT_RFLUSH;
			store_flush_join(p);
			return;
		}
		if (p->err) {
			store_free_new(p);
			store_complete(p, p->err);
			return;
		}
		p->stage = ST_PUT_FLUSH;
		store_flush_join(p);
		return;
	case ST_PUT_FLUSH:
		if (p->err) {
			store_free_new(p);
			store_complete(p, p->err);
			return;
		}
		p->stage = ST_PUT_REC;
		ret = store_op_io(p, STORE_IO_WRITE, p->meta,
				  store_fmt_rec_slots(store_nblocks(p->new_size)) * STORE_SLOT,
				  store_slot_off(s, p->nw.slot), s->commit_fua);
		if (ret < 0) {
			store_free_new(p);
			store_complete(p, ret);
		}
		return;
	case ST_PUT_REC:
		if (!p->err && !s->commit_fua) {
			p->stage = ST_PUT_RFLUSH;
			store_flush_join(p);
			return;
		}
		/* fallthrough */
	case ST_PUT_RFLUSH:
		if (p->err) {
			/* The record may or may not be on disk: keep its space
			 * allocated (a leak until restart, never a double use). */
			store_complete(p, p->err);
			return;
		}
		/* Committed. */
		if (store_ix_put(&s->ix, &p->nw) < 0) {
			store_complete(p, -ENOMEM);
			return;
		}
		if (p->oneflush && !p->tomb)
			store_w_account(s, p->new_size);
		if (!p->had_old) {
			store_complete(p, 0);
			return;
		}
		/* Ack now; the old header is erased in the background. */
		if (store_erase_start(s, &p->old) == 0) {
			store_complete(p, 0);
			return;
		}
		p->stage = ST_PUT_ERASE;
		ret = store_op_io(p, STORE_IO_WRITE, s->zero, STORE_SLOT,
				  store_slot_off(s, p->old.slot), 0);
		if (ret < 0)
			store_complete(p, 0); /* old record stays: open erases it */
		return;
	case ST_PUT_ERASE:
		/* The old space is reusable once its header erase has completed:
		 * any reuse is followed by a flush before it commits. */
		if (!p->err)
			store_defer_free(s, &p->old);
		store_complete(p, 0);
		return;
	case ST_DEL_FLUSH:
		if (p->err) {
			store_complete(p, p->err);
			return;
		}
		p->stage = ST_DEL_ERASE;
		ret = store_op_io(p, STORE_IO_WRITE, s->zero, STORE_SLOT,
				  store_slot_off(s, p->old.slot), s->commit_fua);
		if (ret < 0)
			store_complete(p, ret);
		return;
	case ST_DEL_ERASE:
		if (!p->err && !s->commit_fua) {
			p->stage = ST_DEL_RFLUSH;
			store_flush_join(p);
			return;
		}
		/* fallthrough */
	case ST_DEL_RFLUSH: {
		struct store_ent *e;

		if (p->err) {
			store_complete(p, p->err);
			return;
		}
		e = store_ix_find(&s->ix, op->id);
		if (e && e->slot == p->old.slot)
			store_ix_del(&s->ix, e);
		store_defer_free(s, &p->old);
		store_complete(p, 0);
		return;
	}
	}
}

/* Can the device use the caller's buffer directly for [0, need)? */
static int store_direct_ok(const struct store_op *op, uint64_t need)
{
	return op->buf && ((uintptr_t)op->buf & (STORE_SLOT - 1)) == 0 && op->buf_cap >= need;
}

static void store_mark_mutating(struct store_op_priv *p)
{
	p->mutating = 1;
	p->mnext = p->s->mutating;
	p->s->mutating = p;
}

/* store_get_issue - read GET's blocks (+ the record of a multi-block
 * chunk): into the caller's memory when it can, else into a bounce buffer. */
static int store_get_issue(struct store_op_priv *p, const struct store_ent *e)
{
	struct store *s = p->s;
	struct store_op *op = p->op;
	uint64_t off = store_block_off(s, e->block + p->b0);
	int aligned = op->off % STORE_BLOCK == 0, ret;

	if (op->iov ? aligned && store_vec_plan(p, op->got, p->nb) :
	    aligned && store_direct_ok(op, (uint64_t)p->nb * STORE_BLOCK)) {
		p->data = op->buf; /* NULL for pieces */
		p->direct = 1;
	} else if ((ret = store_take_bounce(p)) < 0) {
		return ret;
	}
	/* The meta buffer: the record, and a direct scatter GET's scratch. */
	if ((e->size > STORE_BLOCK || p->vec) && (ret = store_take_meta(p)) < 0)
		return ret;
	p->stage = ST_GET_READ;
	ret = p->vec ? store_vec_io(p, STORE_IO_READ, off) :
	      store_op_io(p, STORE_IO_READ, p->data, p->nb * STORE_BLOCK, off, 0);
	if (ret == 0 && e->size > STORE_BLOCK)
		ret = store_op_io(p, STORE_IO_READ, p->meta,
				  store_fmt_rec_slots(store_nblocks(e->size)) * STORE_SLOT,
				  store_slot_off(s, e->slot), 0);
	if (ret < 0 && p->pending) {
		p->err = ret; /* fail when the requests out are done */
		ret = 0;
	}
	return ret;
}

/* store_put_prepare - PUT: use the caller's memory (buf or pieces) when the
 * device can, else gather into a bounce buffer; either way the last block
 * is padded with zeros (in-place WRITE and "a gap reads as zeros" rely on it). */
static int store_put_prepare(struct store_op_priv *p)
{
	struct store_op *op = p->op;
	uint32_t nb = store_nblocks(op->len);
	int ret;

	if (op->iov ? store_vec_plan(p, op->len, nb) :
	    store_direct_ok(op, (uint64_t)nb * STORE_BLOCK)) {
		p->data = op->buf; /* NULL for pieces */
		p->direct = 1;
		if (p->vec)
			store_vec_part_in(p);
		return 0;
	}
	if ((ret = store_take_bounce(p)) < 0)
		return ret;
	if (op->iov)
		store_iov_gather(op->iov, p->data, op->len);
	else if (op->len)
		memcpy(p->data, op->buf, op->len);
	memset(p->data + op->len, 0, (size_t)nb * STORE_BLOCK - op->len);
	p->s->ctr.bounce_bytes += op->len;
	return 0;
}

/*
 * store_ver_check - the version rules of store.h for a PUT/WRITE against
 * the chunk's current record e (NULL: none): an explicit version must be
 * above e's. A record must never be replaced by a lower version: when both
 * survive a crash, open keeps the higher one. The one exception is a
 * same-version repair (STORE_OPF_SAMEVER) of a live chunk: open tells the
 * two copies apart by their data (store_rec_wins), and either is the
 * chunk's content at that version.
 */
static int store_ver_check(const struct store_op *op, const struct store_ent *e)
{
	if ((op->flags & STORE_OPF_SAMEVER) && e && e->version == op->version)
		return store_ent_tomb(e) ? -ESTALE : 0;
	if (op->version && e && e->version >= op->version)
		return -ESTALE;
	return 0;
}

/*
 * store_tomb_start - DELETE with a version: a tombstone record of that
 * version replaces the chunk's record (or records a delete the store never
 * saw the chunk of), through the PUT path with no data. The rules of
 * store.h: -ESTALE below the current version or at a live one's; at an
 * existing tombstone's own version it is a retry, done already.
 */
static int store_tomb_start(struct store_op_priv *p, const struct store_ent *e)
{
	struct store_op *op = p->op;
	int ret;

	if (memcmp(op->id, store_zero_id, STORE_ID_LEN) == 0)
		return -EINVAL;
	if (e && e->version > op->version)
		return -ESTALE;
	if (e && e->version == op->version) {
		if (!store_ent_tomb(e))
			return -ESTALE; /* a live chunk of that very version */
		store_complete(p, 0); /* committed, hence durable, already */
		return 0;
	}
	p->tomb = 1;
	p->new_size = 0;
	if ((ret = store_take_meta(p)) < 0)
		return ret;
	store_mark_mutating(p);
	return store_put_start(p);
}

static int store_start(struct store *s, struct store_op_priv *p)
{
	struct store_op *op = p->op;
	struct store_ent *e = store_ix_find(&s->ix, op->id);
	int ret;

	if ((ret = store_iov_check(op)) < 0)
		return ret;
	/* SAMEVER: a PUT of a given version only. */
	if ((op->flags & ~STORE_OPF_SAMEVER) ||
	    ((op->flags & STORE_OPF_SAMEVER) && (op->type != STORE_OP_PUT || !op->version)))
		return -EINVAL;
	if (e) {
		p->old = *e;
		p->had_old = 1;
	}
	if (op->type != STORE_OP_GET && op->type != STORE_OP_STAT) {
		struct store_op_priv *m;

		if (s->read_only)
			return -EROFS;
		if (s->failed)
			return -EIO;
		for (m = s->mutating; m; m = m->mnext)
			if (memcmp(m->op->id, op->id, 16) == 0)
				return -EBUSY;
	}
	if (op->type == STORE_OP_STAT) {
		/* -ENOENT fills it too: was the chunk deleted, at what version? */
		memset(&op->stat, 0, sizeof(op->stat));
		if (e && store_ent_tomb(e)) {
			op->stat.version = e->version;
			op->stat.flags = STORE_STAT_TOMBSTONE;
		}
	}
	/* A tombstone is a deleted chunk to everything but PUT, DELETE, PURGE. */
	if (e && store_ent_tomb(e) &&
	    (op->type == STORE_OP_GET || op->type == STORE_OP_STAT || op->type == STORE_OP_WRITE))
		return -ENOENT;
	if (e && (op->type == STORE_OP_GET || op->type == STORE_OP_STAT)) {
		/* An in-place WRITE changes blocks under a reader: wait for it. */
		if (store_ip_busy(s, op->id))
			return -EAGAIN;
		p->rlisted = 1;
		p->rnext = s->reading;
		s->reading = p;
	}
	switch (op->type) {
	case STORE_OP_GET: {
		uint64_t end;

		if (!e)
			return -ENOENT;
		op->got = 0;
		if (op->off >= e->size || op->len == 0) {
			store_complete(p, 0);
			return 0;
		}
		end = op->off + op->len < e->size ? op->off + op->len : e->size;
		op->got = (uint32_t)(end - op->off);
		store_reader_enter(p);
		p->b0 = (uint32_t)(op->off / STORE_BLOCK);
		p->nb = store_nblocks(end) - p->b0;
		ret = store_get_issue(p, e);
		break;
	}
	case STORE_OP_STAT:
		if (!e)
			return -ENOENT;
		if ((ret = store_take_meta(p)) < 0)
			return ret;
		store_reader_enter(p);
		p->stage = ST_STAT_READ;
		ret = store_op_io(p, STORE_IO_READ, p->meta,
				  store_fmt_rec_slots(store_nblocks(e->size)) * STORE_SLOT,
				  store_slot_off(s, e->slot), 0);
		break;
	case STORE_OP_PUT:
		/* The all-zero id is the LIST start cursor; it cannot name a chunk. */
		if (memcmp(op->id, store_zero_id, STORE_ID_LEN) == 0)
			return -EINVAL;
		if (op->len > s->g.max_chunk)
			return -EFBIG;
		if ((ret = store_ver_check(op, e)) < 0)
			return ret;
		p->new_size = op->len;
		if ((ret = store_take_meta(p)) < 0 || (ret = store_put_prepare(p)) < 0)
			return ret;
		store_mark_mutating(p);
		ret = store_put_start(p);
		break;
	case STORE_OP_WRITE:
		if (!e)
			return -ENOENT;
		if (op->off > s->g.max_chunk || op->len > s->g.max_chunk - op->off)
			return -EFBIG;
		if ((ret = store_ver_check(op, e)) < 0)
			return ret;
		p->new_size = op->off + op->len > e->size ? op->off + op->len : e->size;
		if ((ret = store_take_meta(p)) < 0)
			return ret;
		if (store_ip_ok(s, op, e)) {
			ret = store_ip_start(p);
			break;
		}
		if ((ret = store_take_bounce(p)) < 0)
			goto fail;
		store_mark_mutating(p);
		store_reader_enter(p);
		p->stage = ST_WR_READ;
		ret = 0;
		if (e->size)
			ret = store_op_io(p, STORE_IO_READ, p->data,
					  store_nblocks(e->size) * STORE_BLOCK,
					  store_block_off(s, e->block), 0);
		if (ret == 0 && e->size > STORE_BLOCK)
			ret = store_op_io(p, STORE_IO_READ, p->meta,
					  store_fmt_rec_slots(store_nblocks(e->size)) * STORE_SLOT,
					  store_slot_off(s, e->slot), 0);
		if (ret == 0 && p->pending == 0)
			store_op_advance(p);
		break;
	case STORE_OP_DELETE:
	case STORE_OP_PURGE:
		if (op->type == STORE_OP_DELETE && op->version) {
			ret = store_tomb_start(p, e);
			break;
		}
		/* DELETE with version 0 removes whatever record the chunk has
		 * (a tombstone too); PURGE only the record of its version. */
		if (op->type == STORE_OP_PURGE && !op->version)
			return -EINVAL;
		if (!e)
			return -ENOENT;
		if (op->type == STORE_OP_PURGE && e->version != op->version)
			return -ESTALE;
		store_mark_mutating(p);
		p->stage = ST_DEL_FLUSH;
		/* The flush must come after every erase in flight has completed
		 * (see the top of the file); wait for them first. */
		if (s->erases_inflight) {
			p->next = s->erase_wait;
			s->erase_wait = p;
		} else {
			store_flush_join(p);
		}
		ret = 0;
		break;
	default:
		return -EINVAL;
	}
	if (ret < 0 && p->pending)
		return ret; /* cannot happen: queue failures come before any IO */
fail:
	return ret;
}

int store_submit(struct store *s, struct store_op *op)
{
	struct store_op_priv *p = store_priv(op);
	int ret;

	if (s->inflight >= s->qd)
		return -EAGAIN;
	memset(p, 0, sizeof(*p));
	p->op = op;
	p->s = s;
	p->bounce = -1;
	p->meta_i = -1;
	op->res = 0;
	op->got = 0;
	ret = store_start(s, p);
	if (ret < 0) {
		store_release(p);
		/* Answers about the chunk, not failures: not counted. */
		if (ret != -EAGAIN && ret != -ENOENT && ret != -EBUSY && ret != -ESTALE)
			s->ctr.errors++;
		if (ret == -ENOSPC)
			s->ctr.enospc++;
		return ret;
	}
	s->inflight++;
	return 0;
}

static int store_run_done(struct store *s)
{
	int n = 0;

	while (s->done_head) {
		struct store_op_priv *p = s->done_head;

		s->done_head = p->next;
		if (!s->done_head)
			s->done_tail = NULL;
		s->inflight--;
		n++;
		if (p->op->cb)
			p->op->cb(p->op);
	}
	return n;
}

int store_poll(struct store *s, int wait)
{
	int n = 0, ret;

	for (;;) {
		int w;

		n += store_run_done(s);
		w = wait && !n && s->io_inflight > 0;
		/* A waiting reap submits the queued batch in the same syscall. */
		if (!w && (ret = s->io->submit(s->ioctx)) < 0)
			return ret;
		ret = s->io->reap(s->ioctx, w);
		if (ret < 0)
			return ret;
		n += store_run_done(s);
		if (ret == 0)
			break;
		if (n)
			wait = 0;
	}
	return n;
}

int store_fd(struct store *s)
{
	return s->io->fd(s->ioctx);
}

uint32_t store_inflight(struct store *s)
{
	return s->inflight;
}

int store_register_region(struct store *s, void *base, size_t len)
{
	if (((uintptr_t)base | len) & (STORE_SLOT - 1) || !len)
		return -EINVAL;
	for (int i = 2; i < STORE_IO_NBUFS; i++) {
		if (!s->regions[i].base) {
			int ret = s->io->register_buf(s->ioctx, i, base, len);

			if (ret < 0)
				return ret;
			s->regions[i].base = base;
			s->regions[i].len = len;
			return i;
		}
	}
	return -ENOSPC;
}

int store_unregister_region(struct store *s, int region)
{
	if (region < 2 || region >= STORE_IO_NBUFS || !s->regions[region].base)
		return -EINVAL;
	s->regions[region].base = NULL;
	return s->io->register_buf(s->ioctx, region, NULL, 0);
}

/* ------------------------------------------------------------------------ */
/* synchronous calls: submit one op and poll until it is done */

static void store_sync_cb(struct store_op *op)
{
	*(int *)op->user = 1;
}

static int store_sync_run(struct store *s, struct store_op *op)
{
	int done = 0, ret;

	op->cb = store_sync_cb;
	op->user = &done;
	for (;;) {
		ret = store_submit(s, op);
		if (ret != -EAGAIN)
			break;
		if (!s->inflight)
			return -ENOMEM; /* nothing to wait for: cannot happen */
		ret = store_poll(s, 1);
		if (ret < 0)
			return ret;
	}
	if (ret < 0)
		return ret;
	while (!done) {
		ret = store_poll(s, 1);
		if (ret < 0)
			return ret;
	}
	return op->res;
}

static int store_gather(struct store *s, const struct iovec *iov, int iovcnt, uint8_t *dst,
			uint64_t *len)
{
	uint64_t n = 0;

	for (int i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > s->g.max_chunk - n)
			return -EFBIG;
		if (iov[i].iov_len)
			memcpy(dst + n, iov[i].iov_base, iov[i].iov_len);
		n += iov[i].iov_len;
	}
	*len = n;
	return 0;
}

static int store_iov_len(const struct iovec *iov, int iovcnt, uint64_t *len)
{
	uint64_t n = 0;

	if (iovcnt < 0 || (iovcnt > 0 && !iov))
		return -EINVAL;
	for (int i = 0; i < iovcnt; i++)
		n += iov[i].iov_len;
	*len = n;
	return 0;
}

/* A PUT of several pieces goes as a scatter/gather op (zero copy when they
 * are aligned); a WRITE of several is gathered into a private scratch buffer
 * first (the bounce pool is for ops). *version: in, the op's version (0 =
 * the clock's next); out, the version installed. NULL = in 0, no out. */
static int store_sync_mut(struct store *s, int type, const uint8_t id[STORE_ID_LEN],
			  uint64_t off, const struct iovec *iov, int iovcnt, uint64_t *version)
{
	struct store_op op;
	uint8_t *tmp = NULL;
	uint64_t len;
	int ret;

	ret = store_iov_len(iov, iovcnt, &len);
	if (ret < 0)
		return ret;
	if (len > s->g.max_chunk || (type == STORE_OP_WRITE && off > s->g.max_chunk - len))
		return -EFBIG;
	memset(&op, 0, sizeof(op));
	op.type = type;
	memcpy(op.id, id, STORE_ID_LEN);
	op.off = off;
	op.len = (uint32_t)len;
	op.version = version ? *version : 0;
	if (iovcnt == 1) {
		op.buf = iov[0].iov_base;
		op.buf_cap = (uint32_t)len;
	} else if (type == STORE_OP_PUT && iovcnt > 1) {
		op.iov = iov;
		op.iovcnt = iovcnt;
	} else if (len) {
		tmp = malloc(len);
		if (!tmp)
			return -ENOMEM;
		ret = store_gather(s, iov, iovcnt, tmp, &len);
		if (ret < 0)
			goto out;
		op.buf = tmp;
		op.buf_cap = (uint32_t)len;
	}
	ret = store_sync_run(s, &op);
	if (ret == 0 && version)
		*version = op.version;
out:
	free(tmp);
	return ret;
}

int store_put(struct store *s, const uint8_t id[STORE_ID_LEN], const struct iovec *iov,
	      int iovcnt, uint64_t *version)
{
	if (version)
		*version = 0; /* the clock's next */
	return store_sync_mut(s, STORE_OP_PUT, id, 0, iov, iovcnt, version);
}

int store_put_version(struct store *s, const uint8_t id[STORE_ID_LEN], const struct iovec *iov,
		      int iovcnt, uint64_t version)
{
	if (version == 0)
		return -EINVAL;
	return store_sync_mut(s, STORE_OP_PUT, id, 0, iov, iovcnt, &version);
}

int store_write(struct store *s, const uint8_t id[STORE_ID_LEN], uint64_t off,
		const struct iovec *iov, int iovcnt, uint64_t *version)
{
	if (version)
		*version = 0;
	return store_sync_mut(s, STORE_OP_WRITE, id, off, iov, iovcnt, version);
}

int store_get(struct store *s, const uint8_t id[STORE_ID_LEN], uint64_t off, uint32_t len,
	      void *buf, uint32_t *got)
{
	struct store_op op;
	int ret;

	memset(&op, 0, sizeof(op));
	op.type = STORE_OP_GET;
	memcpy(op.id, id, STORE_ID_LEN);
	op.off = off;
	op.len = len;
	op.buf = buf;
	op.buf_cap = len;
	ret = store_sync_run(s, &op);
	if (got)
		*got = ret == 0 ? op.got : 0;
	return ret;
}

int store_delete(struct store *s, const uint8_t id[STORE_ID_LEN])
{
	struct store_op op;

	memset(&op, 0, sizeof(op));
	op.type = STORE_OP_DELETE;
	memcpy(op.id, id, STORE_ID_LEN);
	return store_sync_run(s, &op);
}

int store_delete_version(struct store *s, const uint8_t id[STORE_ID_LEN], uint64_t version)
{
	struct store_op op;

	memset(&op, 0, sizeof(op));
	op.type = STORE_OP_DELETE;
	memcpy(op.id, id, STORE_ID_LEN);
	op.version = version;
	return store_sync_run(s, &op);
}

int store_purge(struct store *s, const uint8_t id[STORE_ID_LEN], uint64_t version)
{
	struct store_op op;

	memset(&op, 0, sizeof(op));
	op.type = STORE_OP_PURGE;
	memcpy(op.id, id, STORE_ID_LEN);
	op.version = version;
	return store_sync_run(s, &op);
}

int store_stat(struct store *s, const uint8_t id[STORE_ID_LEN], struct store_stat *out)
{
	struct store_op op;
	int ret;

	memset(&op, 0, sizeof(op));
	op.type = STORE_OP_STAT;
	memcpy(op.id, id, STORE_ID_LEN);
	ret = store_sync_run(s, &op);
	if (ret == 0 || ret == -ENOENT)
		*out = op.stat; /* -ENOENT: a tombstone's version, or zeros */
	return ret;
}

int store_lookup(struct store *s, const uint8_t id[STORE_ID_LEN], struct store_list_entry *out)
{
	const struct store_ent *e = store_ix_find(&s->ix, id);

	if (!e)
		return -ENOENT;
	memcpy(out->id, e->id, STORE_ID_LEN);
	out->version = e->version;
	out->size = e->size;
	out->flags = store_ent_tomb(e) ? STORE_LIST_TOMBSTONE : 0;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* list: a sorted snapshot of the ids, then their index entries (no IO: the
 * version is in memory) */

static int store_id_cmp(const void *a, const void *b)
{
	return memcmp(a, b, STORE_ID_LEN);
}

/* store_list_snapshot - the sorted ids of every record, for LIST. */
static int store_list_snapshot(struct store *s)
{
	uint8_t (*ids)[STORE_ID_LEN];
	uint64_t n = 0;

	ids = malloc((s->ix.n ? s->ix.n : 1) * sizeof(*ids));
	if (!ids)
		return -ENOMEM;
	for (uint64_t i = 0; i < s->ix.cap; i++)
		if (s->ix.tab[i].slot != STORE_ENT_FREE)
			memcpy(ids[n++], s->ix.tab[i].id, STORE_ID_LEN);
	qsort(ids, n, sizeof(*ids), store_id_cmp);
	free(s->lsnap);
	s->lsnap = ids;
	s->nsnap = n;
	return 0;
}

int store_list(struct store *s, uint8_t cursor[STORE_ID_LEN], struct store_list_entry *out,
	       uint32_t max, uint32_t *n)
{
	uint32_t m = 0;
	uint64_t lo, hi;
	int ret;

	*n = 0;
	if (!max)
		return 0;
	/* A listing works on a sorted snapshot of the ids taken when it starts
	 * (zero cursor) or when there is none (e.g. resumed after a restart):
	 * O(n log n) once, then O(log n + max) per call. */
	if (!s->lsnap || memcmp(cursor, store_zero_id, STORE_ID_LEN) == 0) {
		ret = store_list_snapshot(s);
		if (ret < 0)
			return ret;
	}
	lo = 0;
	hi = s->nsnap;
	while (lo < hi) { /* first id > cursor */
		uint64_t mid = lo + (hi - lo) / 2;

		if (memcmp(s->lsnap[mid], cursor, STORE_ID_LEN) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* The index holds committed records only: an op in flight shows its
	 * chunk as it was (as STAT would). */
	for (; lo < s->nsnap && m < max; lo++) {
		const struct store_ent *e = store_ix_find(&s->ix, s->lsnap[lo]);

		if (!e)
			continue; /* removed since the snapshot */
		memcpy(out[m].id, e->id, STORE_ID_LEN);
		out[m].version = e->version;
		out[m].size = e->size;
		out[m].flags = store_ent_tomb(e) ? STORE_LIST_TOMBSTONE : 0;
		m++;
	}
	*n = m;
	if (m)
		memcpy(cursor, out[m - 1].id, STORE_ID_LEN);
	s->ctr.lists++;
	return 0;
}
