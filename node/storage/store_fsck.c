/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_fsck.c - whole-disk verification (fsck) and background scrub.
 *
 * Both read chunks synchronously through the ops table and check the record
 * and every block checksum. fsck additionally relies on the open path run in
 * fsck mode: it compares the two superblocks and rebuilds the allocation
 * maps from the records that win (one per chunk), counting any block or
 * slot two of them claim; a leftover's space may be a winner's (store.c,
 * store_scan). There is
 * no persistent free-space map: free space is exactly what no record claims,
 * so space cannot leak across restarts by construction; fsck checks that the
 * rebuilt maps account for every claimed block exactly once. Journal records
 * (in-place WRITEs, store_format.h) claim the chunk's extent and their slots
 * like any record; their temporary blocks are free space once the record is
 * on disk (a replay reads them only while the extent is not yet current). A
 * journal whose replay is pending counts as stale, not as a problem.
 * A tombstone (store_format.h) is a one-slot record with no blocks: its
 * record is checked like any other, and it is counted, not a problem.
 */
#include "storage/store_int.h"

#include "common/crc32c.h"
#include "common/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void store_id_hex(const uint8_t id[16], char out[33])
{
	for (int k = 0; k < 16; k++)
		snprintf(out + 2 * k, 3, "%02x", id[k]);
}

int store_verify_ent(struct store *s, const struct store_ent *e, uint8_t *buf,
		     uint8_t *meta, uint64_t *bad_blocks)
{
	uint32_t nb = (uint32_t)((e->size + STORE_BLOCK - 1) / STORE_BLOCK);
	uint32_t ns = store_fmt_rec_slots(nb);
	struct store_rec rec;
	char hex[33] = "";
	int ret, bad = 0;

	ret = store_io_sync(s, STORE_IO_READ, meta, ns * STORE_SLOT,
			    s->g.rec_off + (uint64_t)e->slot * STORE_SLOT, 0);
	if (ret < 0)
		return ret;
	if (store_rec_decode(meta, (size_t)ns * STORE_SLOT, &s->g, &rec) < 0 ||
	    !store_rec_is(&rec, e)) {
		store_id_hex(e->id, hex);
		log_err("store: chunk %s: record at slot %u is corrupt", hex, e->slot);
		s->ctr.crc_errors++;
		return -EBADMSG;
	}
	if (nb) {
		ret = store_io_sync(s, STORE_IO_READ, buf, nb * STORE_BLOCK,
				    s->g.data_off + (uint64_t)e->block * STORE_BLOCK, 0);
		if (ret < 0)
			return ret;
	}
	for (uint32_t i = 0; i < nb; i++) {
		if (crc32c(0, buf + (size_t)i * STORE_BLOCK, STORE_BLOCK) != store_rec_crc(&rec, i)) {
			if (!hex[0])
				store_id_hex(e->id, hex);
			log_err("store: chunk %s: block %u (disk block %llu) fails its checksum",
				hex, i, (unsigned long long)e->block + i);
			s->ctr.crc_errors++;
			bad++;
		}
	}
	if (!bad && crc32c(0, buf, e->size) != rec.chunk_crc) {
		store_id_hex(e->id, hex);
		log_err("store: chunk %s: whole-chunk checksum mismatch", hex);
		bad++;
	}
	if (bad_blocks)
		*bad_blocks += (uint64_t)bad;
	return bad ? -EBADMSG : 0;
}

int store_fsck(const char *path, struct store_fsck_report *rep)
{
	const struct store_io_ops *io;
	void *ctx;
	int ret;

	memset(rep, 0, sizeof(*rep));
	ret = store_uring_open(path, 8, 1, &io, &ctx);
	if (ret < 0) {
		log_err("fsck: cannot open %s: %s", path, strerror(-ret));
		return ret;
	}
	return store_fsck_io(io, ctx, rep);
}

int store_fsck_io(const struct store_io_ops *io, void *ctx, struct store_fsck_report *rep)
{
	struct store_cfg cfg = { .read_only = 1, .queue_depth = 8 };
	struct store *s = NULL;
	uint8_t *buf = NULL, *meta = NULL;
	uint64_t problems, blocks = 0, slots = 0;
	int ret;

	memset(rep, 0, sizeof(*rep));
	ret = store_open_io(&cfg, io, ctx, 1, &s);
	if (ret < 0) {
		io->close(ctx);
		return ret;
	}
	problems = s->fsck_problems;
	buf = aligned_alloc(STORE_BLOCK, s->bounce_size);
	meta = aligned_alloc(STORE_BLOCK, s->meta_size);
	if (!buf || !meta) {
		ret = -ENOMEM;
		goto out;
	}
	for (uint64_t i = 0; i < s->ix.cap; i++) {
		const struct store_ent *e = &s->ix.tab[i];
		uint32_t nb;

		if (e->slot == STORE_ENT_FREE)
			continue;
		nb = (uint32_t)((e->size + STORE_BLOCK - 1) / STORE_BLOCK);
		blocks += nb;
		slots += store_fmt_rec_slots(nb);
		/* An in-place WRITE a read-write open would replay (counted as
		 * stale while opening): its blocks are not all current yet. */
		if (store_jpending(s, e->slot))
			continue;
		ret = store_verify_ent(s, e, buf, meta, NULL);
		if (ret == -EBADMSG)
			problems++;
		else if (ret < 0)
			goto out;
	}
	ret = 0;
	/* Every claimed block and slot counted once in the maps (overlaps were
	 * counted while opening; this catches any other disagreement). */
	if (blocks != s->blocks.used || slots != s->slots.used) {
		log_err("fsck: records claim %llu blocks/%llu slots, maps hold %llu/%llu",
			(unsigned long long)blocks, (unsigned long long)slots,
			(unsigned long long)s->blocks.used, (unsigned long long)s->slots.used);
		problems++;
	}
	rep->chunks = s->ix.n - s->ix.ntomb;
	rep->tombstones = s->ix.ntomb;
	rep->blocks_used = s->blocks.used;
	rep->slots_used = s->slots.used;
	rep->stale = s->fsck_stale;
	rep->problems = problems;
out:
	free(meta);
	free(buf);
	store_close(s);
	if (ret < 0)
		return ret;
	return problems > 0x7fffffff ? 0x7fffffff : (int)problems;
}

/*
 * Scrub: a token bucket of bytes refilled at scrub_mb_s; each step verifies
 * the next index entry in table order (wrapping = one pass) when the bucket
 * holds its size: a chunk's record and blocks, a tombstone's record. The
 * read is synchronous: a step costs at most one max-size chunk read (~ms on
 * NVMe), which the node loop can afford between polls. Other ops' requests
 * complete meanwhile (the reap runs their callbacks), so the chunk may have
 * been replaced or removed by the time its check is done; a finding about a
 * record that is no longer the chunk's is dropped (its space was read under
 * a reader epoch, so never reused under us).
 */
int store_scrub_step(struct store *s, uint64_t now_ns, struct store_scrub_bad *bad)
{
	struct store_ent e;
	const struct store_ent *now;
	uint8_t *buf = NULL, *meta = NULL;
	uint64_t cost, nbad = 0;
	int bi = -1, ret;
	double burst;

	if (s->scrub_mb_s <= 0 || s->ix.n == 0)
		return 0;
	if (s->scrub_last_ns && now_ns > s->scrub_last_ns)
		s->scrub_tokens += s->scrub_mb_s * 1e6 * (double)(now_ns - s->scrub_last_ns) / 1e9;
	s->scrub_last_ns = now_ns;
	burst = 2.0 * s->bounce_size;
	if (s->scrub_tokens > burst)
		s->scrub_tokens = burst;
	/* Not even the smallest check is affordable yet: do not look for the
	 * next entry (a table mostly free costs a scan each time). */
	if (s->scrub_tokens < (double)(STORE_BLOCK + STORE_SLOT))
		return 0;
	/* Next entry after scrub_pos (the table may have moved; that is fine,
	 * a pass is best effort over whatever is there). */
	for (uint64_t k = 0;; k++) {
		if (k > s->ix.cap)
			return 0;
		if (s->scrub_pos >= s->ix.cap) {
			s->scrub_pos = 0;
			s->ctr.scrub_passes++;
		}
		if (s->ix.tab[s->scrub_pos].slot != STORE_ENT_FREE)
			break;
		s->scrub_pos++;
	}
	e = s->ix.tab[s->scrub_pos];
	if (store_ip_busy(s, e.id))
		return 0; /* blocks changing in place: verify it at the next step */
	cost = (uint64_t)((e.size + STORE_BLOCK - 1) / STORE_BLOCK) * STORE_BLOCK + STORE_SLOT;
	if (s->scrub_tokens < (double)cost)
		return 0;
	/* Borrow a bounce buffer and a meta buffer; busy means try later. */
	for (int i = 0; i < STORE_NBOUNCE; i++) {
		if (!s->bounce_busy[i]) {
			bi = i;
			break;
		}
	}
	if (bi < 0 || !s->nmeta_free)
		return 0;
	s->bounce_busy[bi] = 1;
	buf = s->bounce_pool + (size_t)bi * s->bounce_size;
	meta = s->meta_pool + (size_t)s->meta_free[s->nmeta_free - 1] * s->meta_size;
	s->nmeta_free--;
	/* Count as a reader so a concurrent replace cannot reuse the space
	 * under us (see store_defer_free). */
	{
		uint32_t ep = store_reader_get(s);

		ret = store_verify_ent(s, &e, buf, meta, &nbad);
		store_reader_put(s, ep);
	}
	s->nmeta_free++;
	s->bounce_busy[bi] = 0;
	s->scrub_tokens -= (double)cost;
	s->scrub_pos++;
	s->ctr.scrub_blocks += (e.size + STORE_BLOCK - 1) / STORE_BLOCK;
	if (ret == -EBADMSG)
		s->ctr.scrub_bad += nbad ? nbad : 1;
	if (ret == 0)
		return STORE_SCRUB_OK;
	now = store_index_find(s, e.id);
	if (!now || now->slot != e.slot)
		return STORE_SCRUB_OK; /* replaced or removed meanwhile: moot */
	if (bad) {
		memset(bad, 0, sizeof(*bad));
		memcpy(bad->id, e.id, STORE_ID_LEN);
		bad->version = e.version;
		bad->blocks = (uint32_t)nbad;
		bad->tombstone = (uint32_t)store_ent_tomb(&e);
		bad->err = ret == -EBADMSG ? -EBADMSG : -EIO;
	}
	return STORE_SCRUB_BAD;
}
