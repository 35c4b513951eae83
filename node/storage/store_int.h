/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_int.h - private structures of the store (engine, fsck, scrub).
 */
#ifndef FERRY_STORE_INT_H
#define FERRY_STORE_INT_H

#include "storage/store.h"
#include "storage/store_format.h"
#include "storage/store_io.h"

#include <string.h>

/*
 * One index entry per chunk record (live chunk or tombstone): 40 bytes.
 * The version is kept in memory so that the version rules of an op
 * (explicit versions, tombstones, PURGE; store.h) are decided when it is
 * submitted, without a record read, and LIST needs no IO; the crc of block 0
 * is kept so a GET of a single-block chunk needs one device read.
 */
struct store_ent {
	uint8_t id[STORE_ID_LEN]; /* chunk id */
	uint32_t block;           /* first data block; STORE_ENT_TOMB = tombstone */
	uint32_t slot;            /* first record slot; STORE_ENT_FREE = empty */
	uint32_t size;            /* chunk bytes (0 for a tombstone) */
	uint32_t crc0;            /* crc32c of data block 0 (valid when size <= 4096) */
	uint64_t version;         /* the record's version */
};
_Static_assert(sizeof(struct store_ent) == 40, "index entry is 40 bytes");
#define STORE_ENT_FREE UINT32_MAX
/* A tombstone has no data: its block number is this (data block numbers
 * stay below STORE_MAX_DATA_BLOCKS), its size 0, its record one slot. */
#define STORE_ENT_TOMB UINT32_MAX

static inline int store_ent_tomb(const struct store_ent *e)
{
	return e->block == STORE_ENT_TOMB;
}

/* store_rec_is - does the decoded record rec describe index entry e? */
static inline int store_rec_is(const struct store_rec *rec, const struct store_ent *e)
{
	int tomb = store_ent_tomb(e);

	return memcmp(rec->id, e->id, STORE_ID_LEN) == 0 && rec->version == e->version &&
	       rec->size == e->size && !(rec->flags & STORE_REC_F_TOMBSTONE) == !tomb &&
	       (tomb || rec->block == e->block);
}

/* Open-addressing hash table (linear probing, backward-shift delete). */
struct store_index {
	struct store_ent *tab;    /* cap entries */
	uint64_t cap;             /* power of two */
	uint64_t n;               /* entries (live chunks + tombstones) */
	uint64_t ntomb;           /* of them tombstones */
};

/* Bitmap allocator over blocks or slots; next-fit. */
struct store_bmap {
	uint64_t *w;              /* bits, 1 = used */
	uint64_t n;               /* bits */
	uint64_t used;            /* bits set */
	uint64_t cursor;          /* next-fit start; first fit: lowest maybe-free bit */
	int first_fit;            /* allocate lowest-first (record slots) */
};

#define STORE_NBOUNCE 2

struct store_region {
	void *base;               /* NULL = unused */
	size_t len;               /* bytes */
};

struct store_op_priv;

/* A growable array of u32 (slot numbers). */
struct store_u32v {
	uint32_t *v;              /* values */
	size_t n, cap;            /* used, allocated */
};

/* A background erase of a replaced record header (store.c). */
struct store_erase {
	struct store_io_req r;      /* the zero write; first member */
	struct store_ent old;       /* the replaced entry */
	struct store_erase *next;   /* free list */
};

struct store {
	const struct store_io_ops *io; /* backend */
	void *ioctx;              /* backend context */
	struct store_sb_disk sb;  /* the superblock in use */
	struct store_geom g;      /* its geometry */
	int read_only;            /* never writes */
	int failed;               /* a write or flush failed: refuse mutations */
	int commit_fua;           /* commit records with FUA instead of a flush */
	int fsck;                 /* opened by fsck: count problems, repair nothing */
	uint64_t fsck_problems;   /* problems found while opening */
	uint64_t fsck_stale;      /* leftover records found while opening */
	uint32_t qd;              /* queue depth (max ops in flight) */
	int vec_fixed;            /* backend has STORE_IO_CAP_VEC_FIXED */
	uint32_t wpiece_align;    /* scatter PUT: pieces' address and length alignment
				   * for the direct path (store_cfg.piece_align) */
	struct store_index ix;    /* chunk index */
	struct store_bmap blocks; /* data block allocation */
	struct store_bmap slots;  /* record slot allocation */
	uint64_t next_version;    /* next version to hand out (above every record's) */
	/* buffers (all registered as fixed buffers when the backend can) */
	uint8_t *meta_pool;       /* nmeta buffers of meta_size */
	uint32_t meta_size;       /* largest record, rounded to 4 KiB */
	uint32_t nmeta;           /* = qd */
	uint32_t *meta_free;      /* stack of free meta indices */
	uint32_t nmeta_free;      /* entries on the stack */
	uint8_t *bounce_pool;     /* STORE_NBOUNCE buffers of bounce_size */
	uint32_t bounce_size;     /* max_chunk rounded up to 4 KiB */
	int bounce_busy[STORE_NBOUNCE]; /* 1 = taken */
	uint8_t *zero;            /* one zero 4 KiB block (record erase) */
	struct store_region regions[STORE_IO_NBUFS]; /* fixed buffers */
	/* group commit */
	struct store_op_priv *flush_wait; /* ops waiting for the next flush */
	struct store_op_priv *flush_batch; /* ops the in-flight flush covers */
	int flush_inflight;       /* a flush is queued or running */
	struct store_io_req flush_req; /* the one flush request */
	/* op tracking */
	struct store_op_priv *done_head, *done_tail; /* callbacks to run */
	struct store_op_priv *mutating; /* mutating ops in flight */
	struct store_op_priv *reading; /* GET/STAT ops in flight (see store_ip_ok) */
	uint32_t crc_op_blk;      /* crc32c shift operator for 4096 bytes */
	struct store_u32v jpend;
				  /* read-only open: slots of journal records whose
				   * replay a read-write open would do (fsck) */
	uint32_t inflight;        /* ops submitted, callback not run */
	uint32_t io_inflight;     /* device requests queued or running */
	/* record high-water mark raises (see store_hwm_kick) */
	struct store_op_priv *hwm_wait; /* PUTs waiting for a higher mark */
	int hwm_busy;             /* superblock writes in flight */
	int hwm_stage;            /* 0: first copy, 1: the copy at the end */
	uint64_t hwm_target;      /* the mark being written */
	uint64_t hwm_incompat;    /* the incompat features being written with it */
	uint64_t w_target;        /* the one-flush watermark being written */
	uint64_t w_bytes;         /* one-flush bytes committed since the last raise */
	int w_want;               /* raise the watermark at the next kick */
	struct store_io_req hwm_req; /* the superblock write */
	uint8_t *sbbuf;           /* 4 KiB superblock image */
	/* background erases (see store_erase_start) */
	struct store_erase *erase_pool; /* qd entries */
	struct store_erase *erase_free; /* free list */
	uint32_t erases_inflight; /* queued or running */
	struct store_op_priv *erase_wait; /* DELETEs waiting for erases to finish */
	/* deferred frees (see store_defer_free) */
	uint32_t epoch;           /* current reader epoch, 0 or 1 */
	uint32_t readers[2];      /* ops reading chunk space, per epoch */
	struct store_ent *defer[2]; /* space freed in each epoch */
	uint32_t ndefer[2], capdefer[2]; /* used, allocated */
	struct store_counters ctr; /* counters */
	/* LIST */
	uint8_t (*lsnap)[STORE_ID_LEN]; /* sorted ids when the listing started */
	uint64_t nsnap;           /* ids in lsnap */
	/* scrub */
	double scrub_mb_s;        /* rate; 0 = off */
	double scrub_tokens;      /* bytes allowed now */
	uint64_t scrub_last_ns;   /* last refill */
	uint64_t scrub_pos;       /* next index slot to scrub */
};

/* Bytes at the end of every meta buffer kept for one data block (the last
 * block of a chunk read by an in-place WRITE). */
#define STORE_META_TAIL STORE_BLOCK

/* Private helpers shared by store.c, store_fsck.c. */
/* store_jpending - 1 if the record at slot is a journal record whose replay
 * this read-only open skipped (its chunk's blocks are not all current). */
int store_jpending(const struct store *s, uint32_t slot);
int store_open_io(const struct store_cfg *cfg, const struct store_io_ops *io, void *ctx,
		  int fsck, struct store **out);
int store_format_io(const struct store_io_ops *io, void *ctx,
		    const struct store_format_cfg *cfg, const uint8_t disk[16]);
int store_io_sync(struct store *s, int kind, void *buf, uint32_t len, uint64_t off, int fua);
/* store_hwm_step_override - tests: raise the record high-water mark in
 * steps of this many slots (0 = default) to exercise the raise path. */
extern uint32_t store_hwm_step_override;
/* Raise the one-flush watermark (sb.verified) every this many committed
 * bytes (open verifies at most about that much data); tests override it. */
#define STORE_VERIFY_BYTES (64u << 20)
extern uint32_t store_verify_bytes_override;
/* store_reader_get/put - bracket a read of chunk space outside an op (scrub):
 * space freed meanwhile is not reused until the matching put. */
uint32_t store_reader_get(struct store *s);
void store_reader_put(struct store *s, uint32_t epoch);
/* store_ip_busy - 1 while an in-place WRITE of id is in flight (its blocks
 * change under a reader: scrub skips the chunk meanwhile). */
int store_ip_busy(const struct store *s, const uint8_t id[16]);
/* store_index_find - the index entry of id, or NULL (tests, fsck). */
const struct store_ent *store_index_find(struct store *s, const uint8_t id[16]);
/* store_fsck_io - store_fsck on a backend; consumes (closes) it. */
int store_fsck_io(const struct store_io_ops *io, void *ctx, struct store_fsck_report *rep);
/* store_verify_ent - read a chunk's record and blocks and check them all;
 * 0, -EBADMSG (logged, counted), or -errno. buf: bounce_size bytes. */
int store_verify_ent(struct store *s, const struct store_ent *e, uint8_t *buf,
		     uint8_t *meta, uint64_t *bad_blocks);

#endif /* FERRY_STORE_INT_H */
