/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_format.c - encoders and pure parsers of the on-disk format v1
 * (see store_format.h for the layout). No IO, no allocation.
 */
#include "storage/store_format.h"

#include "common/crc32c.h"

#include <endian.h>
#include <errno.h>
#include <string.h>

static const uint8_t sb_magic[8] = { 'F', 'E', 'R', 'R', 'Y', 'S', 'B', '1' };
static const uint8_t rec_magic[4] = { 'F', 'R', 'C', '1' };

static void put16(uint8_t *p, uint16_t v) { v = htole16(v); memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { v = htole32(v); memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { v = htole64(v); memcpy(p, &v, 8); }
static uint16_t get16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return le16toh(v); }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return le32toh(v); }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return le64toh(v); }

#define SB_OFF(f) offsetof(struct store_sb_disk, f)
#define REC_OFF(f) offsetof(struct store_rec_disk, f)

uint32_t store_fmt_rec_slots(uint32_t nblocks)
{
	return (uint32_t)((STORE_REC_HDR + 4ull * nblocks + STORE_SLOT - 1) / STORE_SLOT);
}

int store_fmt_geom_for(uint64_t dev_size, uint32_t max_chunk, struct store_geom *g)
{
	uint64_t t, r, m, d;
	uint32_t mc_blocks;

	if (max_chunk == 0)
		max_chunk = STORE_MAX_CHUNK_DEFAULT;
	if (max_chunk > STORE_MAX_CHUNK_LIMIT)
		return -EFBIG;
	if (dev_size < STORE_MIN_DEV)
		return -ENOSPC;
	t = dev_size / STORE_BLOCK;
	r = t - 2;                /* minus the two superblocks */
	m = (r + 16) / 17;        /* record blocks: 8 slots each, one slot per 2 data blocks */
	d = r - m;
	mc_blocks = (max_chunk + STORE_BLOCK - 1) / STORE_BLOCK;
	if (d < 4ull * mc_blocks)
		return -ENOSPC;
	if (d > STORE_MAX_DATA_BLOCKS)
		return -EFBIG;
	memset(g, 0, sizeof(*g));
	g->dev_size = t * STORE_BLOCK;
	g->rec_off = STORE_BLOCK;
	g->nslots = m * (STORE_BLOCK / STORE_SLOT);
	g->data_off = g->rec_off + m * STORE_BLOCK;
	g->nblocks = d;
	g->max_chunk = max_chunk;
	g->rec_max_slots = store_fmt_rec_slots(mc_blocks);
	g->rec_hwm = 0;
	return 0;
}

void store_sb_encode(uint8_t *buf, const uint8_t cluster[16], const uint8_t node[16],
		     const uint8_t disk[16], const struct store_geom *g, uint64_t generation,
		     uint64_t created)
{
	memset(buf, 0, STORE_SB_SIZE);
	memcpy(buf + SB_OFF(magic), sb_magic, 8);
	put32(buf + SB_OFF(version), STORE_FORMAT_V1);
	put32(buf + SB_OFF(sb_size), STORE_SB_SIZE);
	memcpy(buf + SB_OFF(cluster), cluster, 16);
	memcpy(buf + SB_OFF(node), node, 16);
	memcpy(buf + SB_OFF(disk), disk, 16);
	put32(buf + SB_OFF(block_size), STORE_BLOCK);
	put32(buf + SB_OFF(slot_size), STORE_SLOT);
	put32(buf + SB_OFF(max_chunk), g->max_chunk);
	put64(buf + SB_OFF(dev_size), g->dev_size);
	put64(buf + SB_OFF(rec_off), g->rec_off);
	put64(buf + SB_OFF(nslots), g->nslots);
	put64(buf + SB_OFF(data_off), g->data_off);
	put64(buf + SB_OFF(nblocks), g->nblocks);
	put64(buf + SB_OFF(generation), generation);
	put64(buf + SB_OFF(created), created);
	put64(buf + SB_OFF(rec_hwm), g->rec_hwm);
	put64(buf + SB_OFF(incompat), g->incompat);
	put64(buf + SB_OFF(verified), g->verified);
	put32(buf + SB_OFF(crc), crc32c(0, buf, SB_OFF(crc)));
}

int store_sb_decode(const uint8_t *buf, size_t len, struct store_sb_disk *sb,
		    struct store_geom *g)
{
	uint64_t rec_end;

	if (len < STORE_SB_SIZE || memcmp(buf, sb_magic, 8) != 0)
		return -EINVAL;
	if (get32(buf + SB_OFF(crc)) != crc32c(0, buf, SB_OFF(crc)))
		return -EINVAL;
	memset(sb, 0, sizeof(*sb));
	memcpy(sb->magic, buf, 8);
	sb->version = get32(buf + SB_OFF(version));
	sb->sb_size = get32(buf + SB_OFF(sb_size));
	sb->compat = get64(buf + SB_OFF(compat));
	sb->ro_compat = get64(buf + SB_OFF(ro_compat));
	sb->incompat = get64(buf + SB_OFF(incompat));
	memcpy(sb->cluster, buf + SB_OFF(cluster), 16);
	memcpy(sb->node, buf + SB_OFF(node), 16);
	memcpy(sb->disk, buf + SB_OFF(disk), 16);
	sb->block_size = get32(buf + SB_OFF(block_size));
	sb->slot_size = get32(buf + SB_OFF(slot_size));
	sb->max_chunk = get32(buf + SB_OFF(max_chunk));
	sb->dev_size = get64(buf + SB_OFF(dev_size));
	sb->rec_off = get64(buf + SB_OFF(rec_off));
	sb->nslots = get64(buf + SB_OFF(nslots));
	sb->data_off = get64(buf + SB_OFF(data_off));
	sb->nblocks = get64(buf + SB_OFF(nblocks));
	sb->generation = get64(buf + SB_OFF(generation));
	sb->created = get64(buf + SB_OFF(created));
	sb->rec_hwm = get64(buf + SB_OFF(rec_hwm));
	sb->verified = get64(buf + SB_OFF(verified));
	sb->crc = get32(buf + SB_OFF(crc));
	if (sb->version != STORE_FORMAT_V1 || (sb->incompat & ~STORE_INCOMPAT_KNOWN))
		return -EPROTONOSUPPORT;
	if (sb->sb_size != STORE_SB_SIZE || sb->block_size != STORE_BLOCK ||
	    sb->slot_size != STORE_SLOT)
		return -EINVAL;
	if (sb->max_chunk == 0 || sb->max_chunk > STORE_MAX_CHUNK_LIMIT)
		return -EINVAL;
	/* Geometry: bound every field before any arithmetic so nothing overflows. */
	if (sb->dev_size < STORE_MIN_DEV || sb->dev_size % STORE_BLOCK || sb->dev_size >> 60)
		return -EINVAL;
	if (sb->rec_off != STORE_BLOCK || sb->nslots == 0 || sb->nslots >> 40 ||
	    sb->nslots % (STORE_BLOCK / STORE_SLOT))
		return -EINVAL;
	rec_end = sb->rec_off + sb->nslots * STORE_SLOT;
	if (sb->data_off != rec_end || sb->nblocks == 0 || sb->nblocks > STORE_MAX_DATA_BLOCKS)
		return -EINVAL;
	if (sb->data_off + sb->nblocks * STORE_BLOCK + STORE_BLOCK != sb->dev_size)
		return -EINVAL;
	if (sb->nblocks < (sb->max_chunk + STORE_BLOCK - 1) / STORE_BLOCK)
		return -EINVAL;
	if (sb->rec_hwm > sb->nslots)
		return -EINVAL;
	memset(g, 0, sizeof(*g));
	g->dev_size = sb->dev_size;
	g->rec_off = sb->rec_off;
	g->nslots = sb->nslots;
	g->data_off = sb->data_off;
	g->nblocks = sb->nblocks;
	g->max_chunk = sb->max_chunk;
	g->rec_max_slots = store_fmt_rec_slots((sb->max_chunk + STORE_BLOCK - 1) / STORE_BLOCK);
	g->rec_hwm = sb->rec_hwm;
	g->rec_seed = crc32c(0, sb->disk, 16);
	g->incompat = sb->incompat;
	g->verified = sb->verified;
	return 0;
}

void store_rec_encode(uint8_t *buf, const struct store_rec *rec, const uint32_t *crcs,
		      uint32_t seed)
{
	uint32_t ns = store_fmt_rec_slots(rec->nblocks);
	size_t len = (size_t)ns * STORE_SLOT;

	/* With crcs == NULL the caller already placed them (little-endian) at
	 * buf + STORE_REC_HDR; only the header and the tail padding are cleared. */
	memset(buf, 0, STORE_REC_HDR);
	memset(buf + STORE_REC_HDR + 4 * (size_t)rec->nblocks, 0,
	       len - STORE_REC_HDR - 4 * (size_t)rec->nblocks);
	memcpy(buf + REC_OFF(magic), rec_magic, 4);
	put16(buf + REC_OFF(nslots), (uint16_t)ns);
	memcpy(buf + REC_OFF(id), rec->id, 16);
	put64(buf + REC_OFF(version), rec->version);
	put64(buf + REC_OFF(size), rec->size);
	put64(buf + REC_OFF(block), rec->block);
	put32(buf + REC_OFF(nblocks), rec->nblocks);
	put32(buf + REC_OFF(chunk_crc), rec->chunk_crc);
	if (rec->jcount) {
		/* Journal record: see STORE_INCOMPAT_JOURNAL in store_format.h. */
		put16(buf + REC_OFF(flags), STORE_REC_F_JOURNAL);
		put32(buf + REC_OFF(pad), rec->jblock);
		put64(buf + REC_OFF(block), rec->block | (uint64_t)rec->jfirst << 32);
		put64(buf + REC_OFF(size), rec->size | (uint64_t)rec->jcount << 32);
	} else if (rec->flags & STORE_REC_F_TOMBSTONE) {
		/* Tombstone: see STORE_INCOMPAT_TOMBSTONE (size, blocks, crc 0). */
		put16(buf + REC_OFF(flags), STORE_REC_F_TOMBSTONE);
	}
	for (uint32_t i = 0; crcs && i < rec->nblocks; i++)
		put32(buf + STORE_REC_HDR + 4 * i, crcs[i]);
	put32(buf + REC_OFF(crc), crc32c(seed, buf, len));
}

static int all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

int store_rec_decode(const uint8_t *buf, size_t len, const struct store_geom *g,
		     struct store_rec *rec)
{
	uint8_t hdr[STORE_REC_HDR];
	uint32_t ns, nb, crc, flags, jblock = 0, jfirst = 0, jcount = 0;
	uint64_t size, block;

	if (len < STORE_SLOT)
		return -EINVAL;
	if (memcmp(buf, rec_magic, 4) != 0)
		return all_zero(buf, STORE_SLOT) ? -ENOENT : -EINVAL;
	ns = get16(buf + REC_OFF(nslots));
	nb = get32(buf + REC_OFF(nblocks));
	size = get64(buf + REC_OFF(size));
	block = get64(buf + REC_OFF(block));
	flags = get16(buf + REC_OFF(flags));
	if (flags & ~(STORE_REC_F_JOURNAL | STORE_REC_F_TOMBSTONE))
		return -EINVAL;
	/* A tombstone has no data and is never a journal; all of its data
	 * fields are zero (one encoding, so the fuzzer's round trip holds). */
	if ((flags & STORE_REC_F_TOMBSTONE) &&
	    (!(g->incompat & STORE_INCOMPAT_TOMBSTONE) || (flags & STORE_REC_F_JOURNAL) ||
	     size || nb || block || get32(buf + REC_OFF(chunk_crc))))
		return -EINVAL;
	if (flags & STORE_REC_F_JOURNAL) {
		if (!(g->incompat & STORE_INCOMPAT_JOURNAL))
			return -EINVAL;
		jblock = get32(buf + REC_OFF(pad));
		jfirst = (uint32_t)(block >> 32);
		jcount = (uint32_t)(size >> 32);
		block &= 0xffffffffull;
		size &= 0xffffffffull;
	} else if (get32(buf + REC_OFF(pad)) != 0) {
		return -EINVAL;
	}
	/* Lengths first: every one must be possible before we trust any. */
	if (ns == 0 || ns > g->rec_max_slots || (size_t)ns * STORE_SLOT > len)
		return -EINVAL;
	if (size > g->max_chunk || nb != (size + STORE_BLOCK - 1) / STORE_BLOCK ||
	    ns != store_fmt_rec_slots(nb))
		return -EINVAL;
	if (block > g->nblocks || nb > g->nblocks - block)
		return -EINVAL;
	if ((flags & STORE_REC_F_JOURNAL) && (jcount == 0 || jfirst > nb || jcount > nb - jfirst ||
		      jblock > g->nblocks || jcount > g->nblocks - jblock))
		return -EINVAL;
	memcpy(hdr, buf, STORE_REC_HDR);
	memset(hdr + REC_OFF(crc), 0, 4);
	crc = crc32c(g->rec_seed, hdr, STORE_REC_HDR);
	crc = crc32c(crc, buf + STORE_REC_HDR, (size_t)ns * STORE_SLOT - STORE_REC_HDR);
	if (crc != get32(buf + REC_OFF(crc)))
		return -EINVAL;
	memcpy(rec->id, buf + REC_OFF(id), 16);
	rec->version = get64(buf + REC_OFF(version));
	rec->size = size;
	rec->block = block;
	rec->nblocks = nb;
	rec->nslots = ns;
	rec->chunk_crc = get32(buf + REC_OFF(chunk_crc));
	rec->crcs = buf + STORE_REC_HDR;
	rec->flags = flags;
	rec->jblock = jblock;
	rec->jfirst = jfirst;
	rec->jcount = jcount;
	return 0;
}

int store_rec_wins(const struct store_rec *a, int a_ok, uint64_t a_slot,
		   const struct store_rec *b, int b_ok, uint64_t b_slot)
{
	if (a->version != b->version)
		return a->version > b->version;
	if (!a_ok != !b_ok)
		return a_ok != 0;
	if (!a->jcount != !b->jcount)
		return a->jcount != 0;
	return a_slot < b_slot;
}

uint32_t store_rec_crc(const struct store_rec *rec, uint32_t i)
{
	return get32(rec->crcs + 4 * i);
}

void store_rec_put_crc(uint8_t *buf, uint32_t i, uint32_t crc)
{
	put32(buf + STORE_REC_HDR + 4 * (size_t)i, crc);
}
