/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_format.h - Ferry on-disk format v1: layout, encoders and pure parsers.
 *
 * Everything here works on byte buffers only (no IO), so the parsers can be
 * fuzzed (tests/fuzz/fuzz_store_superblock.c, fuzz_store_record.c) and used
 * by fsck. All integers are little-endian; all structs have explicit padding.
 *
 * Layout of a disk of T 4 KiB blocks (byte offsets in the superblock):
 *
 *   block 0          superblock (primary)
 *   blocks 1..M      record area: nslots 512-byte slots (M = nslots / 8)
 *   blocks M+1..     data area: nblocks 4 KiB blocks
 *   block T-1        superblock copy (same bytes as the primary)
 *
 * Superblock: struct store_sb_disk in the first 256 bytes of its block,
 * crc32c over the bytes before .crc; the rest of the block is zero. The
 * copy at the end lets a disk whose first block was overwritten be found
 * again; open uses the valid copy with the higher generation and rewrites
 * the other. Feature flags: an unknown incompat bit refuses the open, an
 * unknown ro_compat bit forces read-only, unknown compat bits are ignored.
 *
 * Record: one per chunk version (live, or a tombstone: see
 * STORE_INCOMPAT_TOMBSTONE), in a run of 1..N consecutive slots:
 * a 64-byte header (struct store_rec_disk) followed by one crc32c per 4 KiB
 * data block; crc32c over the whole run (with .crc = 0), seeded with the
 * crc32c of the disk UUID, commits it - so records left by an earlier format
 * of the same disk never check out, and format need not zero the area. A chunk's
 * data is one contiguous extent of ceil(size / 4096) blocks, the tail of the
 * last block padded (block crcs cover the full 4096 bytes as written).
 * A slot run that does not start with a valid header is free space. When two
 * valid records name the same id, the higher version wins (the lower one is
 * a leftover of a crash between commit and cleanup; open erases it); at
 * equal versions, the one whose data verifies (store_rec_wins).
 *
 * Sizing: the record area gets one slot per two data blocks (about 6% of the
 * disk), so a disk full of <= 4 KiB chunks runs out of slots at half its data
 * capacity (then -ENOSPC); 4 MiB chunks use 9 slots each (0.1%).
 *
 * High-water mark: records are only ever written below sb.rec_hwm, and the
 * store raises it (both superblocks, new generation, durable) before it
 * writes a record above it. Slots are allocated lowest-first, so rec_hwm
 * follows the peak number of records, and open reads only [0, rec_hwm):
 * startup cost grows with the peak chunk count, not with the disk size.
 */
#ifndef FERRY_STORE_FORMAT_H
#define FERRY_STORE_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#define STORE_BLOCK        4096u             /* data block and superblock size */
#define STORE_SLOT         512u              /* record slot size (one sector) */
#define STORE_SB_SIZE      256u              /* encoded superblock bytes */
#define STORE_REC_HDR      64u               /* record header bytes */
#define STORE_FORMAT_V1    1u
#define STORE_MAX_CHUNK_DEFAULT (4u << 20)
#define STORE_MAX_CHUNK_LIMIT   (64u << 20)  /* sizes fit in 32 bits in memory */
#define STORE_MIN_DEV      (16ull << 20)     /* smallest disk format accepts */
#define STORE_MAX_DATA_BLOCKS 0xfffffff0ull  /* block numbers fit 32 bits: 16 TiB */

/*
 * Feature flags (the masks say what this build knows).
 *
 * STORE_INCOMPAT_JOURNAL - in-place WRITEs with journal records (format sets
 * it; disks formatted without it stay readable and writable, but every WRITE
 * on them is a copy-on-write of the whole chunk). A journal record is a
 * record with flags = STORE_REC_F_JOURNAL: it describes the chunk's new
 * version like any record (same extent, the new block crcs), and in addition
 * names a run of jcount blocks of the chunk starting at block index jfirst
 * whose new contents were written to a temporary extent starting at data
 * block jblock (made durable before the record, or with ONEFLUSH under the
 * same flush as the record). Packing (the 64-byte header
 * keeps its size, so the slot count stays store_fmt_rec_slots(nblocks)):
 * .pad = jblock, the high 32 bits of .block = jfirst, the high 32 bits of
 * .size = jcount. A chunk whose winning record is a journal record may have
 * blocks [jfirst, jfirst + jcount) of its extent still old: open compares
 * them with the record's crcs and, if they differ and the temporary extent
 * checks out, copies it in place (replay; idempotent). At equal versions the
 * journal record wins over the plain record of the same WRITE (the plain one
 * may be durable before the blocks in place are; the replay check is what
 * makes the chunk whole), and the plain one is erased as a leftover.
 * An older reader must refuse such a disk (incompat): it would see the
 * not-yet-replayed blocks of the chunk fail their checksums.
 */
#define STORE_INCOMPAT_JOURNAL 0x1ull
/*
 * STORE_INCOMPAT_ONEFLUSH - a PUT (and a copy-on-write WRITE) writes its
 * data and its record together and commits both with one flush, so a crash
 * may leave a valid record whose data did not all land. sb.verified is the
 * watermark: every record with a version <= verified has durable data; open
 * reads the data of every record above it and treats one whose blocks fail
 * their crcs as a torn write (erased; the older record of the id, if any,
 * wins). The store raises the watermark at open (after that check and a
 * flush), at close, and while running every STORE_VERIFY_BYTES (64 MiB)
 * committed (to bound the data open must read), to just below the oldest
 * version still in flight. Disks formatted before the feature have
 * verified = 0 in what was the reserved area.
 * Versions at or below the watermark (a replica's store_put_version) are
 * committed the two-flush way. A journal record (in-place WRITE) is written
 * with its temporary blocks under one flush too; above the watermark it is
 * valid only if its target blocks are current or its temporary blocks all
 * match its crcs. Incompat: an older reader would trust such a
 * torn record. Format sets it; disks without it commit with two flushes.
 */
#define STORE_INCOMPAT_ONEFLUSH 0x2ull
/*
 * STORE_INCOMPAT_TOMBSTONE - records with flags = STORE_REC_F_TOMBSTONE: a
 * chunk deleted at a version (store.h, DELETE with op.version). A tombstone
 * is one slot: size, nblocks, block, chunk_crc and pad are 0, no block crcs.
 * It takes part in "the higher version wins" like any record, so a
 * tombstone over a live chunk (and a PUT over a tombstone) commits and
 * survives a crash exactly like a PUT: whichever of the two records has the
 * higher version is the chunk's state. It has no data, so it cannot be
 * torn: a record write lands whole or does not check out (512-byte slot,
 * the device's write unit); it commits with one flush on any disk, and open
 * has nothing of it to verify above the ONEFLUSH watermark. Format sets the
 * feature; a disk formatted without it gets it (both superblocks, durably,
 * as a rec_hwm raise) before its first tombstone record is written.
 * Incompat: an older reader would take the record for garbage (unknown
 * flag) and erase it: the delete would be forgotten, and a leftover older
 * record of the chunk could come back.
 */
#define STORE_INCOMPAT_TOMBSTONE 0x4ull
#define STORE_COMPAT_KNOWN    0ull
#define STORE_RO_COMPAT_KNOWN 0ull
#define STORE_INCOMPAT_KNOWN  (STORE_INCOMPAT_JOURNAL | STORE_INCOMPAT_ONEFLUSH | \
			       STORE_INCOMPAT_TOMBSTONE)

#define STORE_REC_F_JOURNAL   0x1u           /* record flags: journal record */
#define STORE_REC_F_TOMBSTONE 0x2u           /* record flags: tombstone */

struct store_sb_disk {
	uint8_t magic[8];      /* "FERRYSB1" */
	uint32_t version;      /* STORE_FORMAT_V1 */
	uint32_t sb_size;      /* STORE_SB_SIZE */
	uint64_t compat;       /* features an old reader may ignore */
	uint64_t ro_compat;    /* features an old reader may only read */
	uint64_t incompat;     /* features an old reader must refuse */
	uint8_t cluster[16];   /* cluster UUID */
	uint8_t node[16];      /* node UUID */
	uint8_t disk[16];      /* disk UUID, random at format */
	uint32_t block_size;   /* STORE_BLOCK */
	uint32_t slot_size;    /* STORE_SLOT */
	uint32_t max_chunk;    /* largest chunk in bytes */
	uint32_t pad0;         /* zero */
	uint64_t dev_size;     /* bytes covered by this format (T * 4096) */
	uint64_t rec_off;      /* byte offset of the record area */
	uint64_t nslots;       /* record slots */
	uint64_t data_off;     /* byte offset of the data area */
	uint64_t nblocks;      /* data blocks */
	uint64_t generation;   /* bumped by every read-write open */
	uint64_t created;      /* unix seconds at format */
	uint64_t rec_hwm;      /* records lie only in slots [0, rec_hwm) */
	uint64_t verified;     /* ONEFLUSH: records <= this version have durable data */
	uint8_t reserved[76];  /* zero */
	uint32_t crc;          /* crc32c of the bytes above */
};
_Static_assert(sizeof(struct store_sb_disk) == STORE_SB_SIZE, "superblock size");

struct store_rec_disk {
	uint8_t magic[4];      /* "FRC1" */
	uint16_t nslots;       /* slots in this record's run */
	uint16_t flags;        /* STORE_REC_F_* (0 = plain record) */
	uint8_t id[16];        /* chunk id */
	uint64_t version;      /* store-wide increasing version */
	uint64_t size;         /* chunk bytes */
	uint64_t block;        /* first data block (index into the data area) */
	uint32_t nblocks;      /* ceil(size / 4096) */
	uint32_t chunk_crc;    /* crc32c over the size bytes of the chunk */
	uint32_t pad;          /* zero; journal record: first temporary block */
	uint32_t crc;          /* crc32c over the nslots * 512 bytes, this field 0 */
	/* uint32_t block_crc[nblocks] follows */
};
_Static_assert(sizeof(struct store_rec_disk) == STORE_REC_HDR, "record header size");

/* Geometry decoded from a superblock (host order). */
struct store_geom {
	uint64_t dev_size;     /* bytes */
	uint64_t rec_off;      /* record area offset */
	uint64_t nslots;       /* record slots */
	uint64_t data_off;     /* data area offset */
	uint64_t nblocks;      /* data blocks */
	uint32_t max_chunk;    /* bytes */
	uint32_t rec_max_slots; /* slots of the largest record */
	uint64_t rec_hwm;      /* slots below which records may lie */
	uint32_t rec_seed;     /* record crc seed: crc32c of the disk UUID */
	uint64_t incompat;     /* incompat features (encoded by store_sb_encode) */
	uint64_t verified;     /* sb.verified (ONEFLUSH) */
};

/* A decoded record (host order); crcs points into the parsed buffer. */
struct store_rec {
	uint8_t id[16];        /* chunk id */
	uint64_t version;      /* version */
	uint64_t size;         /* bytes */
	uint64_t block;        /* first data block */
	uint32_t nblocks;      /* data blocks */
	uint32_t nslots;       /* record slots */
	uint32_t chunk_crc;    /* crc of the chunk */
	const uint8_t *crcs;   /* nblocks little-endian crc32c values */
	uint32_t flags;        /* STORE_REC_F_* */
	uint32_t jblock;       /* journal: first temporary data block */
	uint32_t jfirst;       /* journal: first chunk block replaced */
	uint32_t jcount;       /* journal: blocks replaced (0 = not a journal) */
};

/* store_fmt_geom_for - the geometry format chooses for dev_size bytes;
 * -ENOSPC if the device is below STORE_MIN_DEV or too small for max_chunk,
 * -EFBIG if it has more data blocks than 32-bit block numbers reach. */
int store_fmt_geom_for(uint64_t dev_size, uint32_t max_chunk, struct store_geom *g);

/* store_fmt_rec_slots - slots a record of nblocks needs. */
uint32_t store_fmt_rec_slots(uint32_t nblocks);

/* store_sb_encode - fill a STORE_SB_SIZE buffer (crc included). */
void store_sb_encode(uint8_t *buf, const uint8_t cluster[16], const uint8_t node[16],
		     const uint8_t disk[16], const struct store_geom *g, uint64_t generation,
		     uint64_t created);

/* store_sb_decode - parse and check a superblock image of len bytes.
 * Returns 0 with *g, *sb filled; -EINVAL bad magic/crc/geometry,
 * -EPROTONOSUPPORT unknown version or incompat feature. Pure function. */
int store_sb_decode(const uint8_t *buf, size_t len, struct store_sb_disk *sb,
		    struct store_geom *g);

/* store_rec_encode - write a record for rec into buf of nslots*512 bytes,
 * its crc seeded with seed (struct store_geom.rec_seed);
 * block crcs come from crcs[] (host order), or with crcs == NULL are already
 * at buf + STORE_REC_HDR (little-endian). */
void store_rec_encode(uint8_t *buf, const struct store_rec *rec, const uint32_t *crcs,
		      uint32_t seed);

/* store_rec_decode - parse the record starting at buf (len bytes available)
 * against geometry g. Returns 0 and fills *rec; -ENOENT if the slot is all
 * zero (free), -EINVAL for anything else that is not a valid record
 * (garbage, torn write, impossible lengths). Pure function. */
int store_rec_decode(const uint8_t *buf, size_t len, const struct store_geom *g,
		     struct store_rec *rec);

/*
 * store_rec_wins - open's choice between two valid records a and b of one
 * id (at slots a_slot != b_slot): 1 if a wins, 0 if b does. The higher
 * version wins. At equal versions - the journal and the plain record of one
 * in-place WRITE, or a same-version repair and the copy it replaced - the
 * record whose data verifies (a_ok, b_ok: its blocks match its crcs; a
 * journal's target blocks or its temporary blocks do; a tombstone always
 * does) wins over one whose data does not; then a journal record over a
 * plain one (its replay makes the chunk whole); then the lower slot. Every
 * such pair is one content at one version, so any choice among copies that
 * verify is right; the rule only has to be fixed. A later PUT has a higher
 * version and wins over both. Pure; total and antisymmetric.
 */
int store_rec_wins(const struct store_rec *a, int a_ok, uint64_t a_slot,
		   const struct store_rec *b, int b_ok, uint64_t b_slot);

/* store_rec_crc - block i's crc from a decoded record. */
uint32_t store_rec_crc(const struct store_rec *rec, uint32_t i);
/* store_rec_put_crc - place block crc i (little-endian) in a record buffer. */
void store_rec_put_crc(uint8_t *buf, uint32_t i, uint32_t crc);

#endif /* FERRY_STORE_FORMAT_H */
