/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store.h - the chunk store: what the node asks of its disk.
 *
 * A store owns one disk (raw block device or regular file) through io_uring
 * with O_DIRECT. Chunks are named by 128-bit ids and hold up to max_chunk
 * bytes. Every call returns 0 or -errno:
 *   -ENOENT  no such chunk           -ENOSPC  disk full
 *   -EBADMSG stored data failed its checksum (never wrong bytes)
 *   -EFBIG   beyond the maximum chunk size
 *   -EIO     device error; after a failed write or flush, every mutation
 *            (store_info.failed) until the store is reopened
 *   -ESTALE  a version rule refused the op (see "Versions", "Tombstones")
 *
 * Contract shared by all mutating calls: when the call returns 0 the change
 * is durable (it survives power loss), and a crash at any instant leaves the
 * chunk at its old or its new version, never a mix.
 *
 * Versions: every record of a chunk carries a version. The store hands them
 * out from one store-wide clock (seeded at open above every record on the
 * disk), or the caller gives one (op.version > 0, store_put_version): how a
 * chain replica installs the version its head assigned. The clock stays
 * above every version installed. A record is only ever replaced by a higher
 * version (-ESTALE otherwise): when a crash leaves both, open keeps the
 * higher.
 *
 * Tombstones: a DELETE with a version (store_delete_version, or op.version
 * > 0) does not remove the chunk's record but replaces it with a tombstone
 * of that version - a record saying "deleted at version v" - so that an
 * older copy of the chunk (a replica that missed the delete, a recovery
 * racing it) is refused (-ESTALE) instead of coming back. A tombstone reads
 * as an absent chunk (GET, WRITE: -ENOENT; STAT: -ENOENT with
 * STORE_STAT_TOMBSTONE and its version in the stat), is listed (flagged),
 * and gives way only to a higher version: a PUT above it, a newer
 * tombstone, or its removal (DELETE with version 0, PURGE of its version).
 * The version rules, for an op with version v > 0 on a chunk whose current
 * record (live or tombstone) has version c:
 *
 *   op                    no record   c < v      c == v                 c > v
 *   PUT, WRITE            PUT: new    replace    -ESTALE; a PUT with    -ESTALE
 *                         WRITE:                 STORE_OPF_SAMEVER on
 *                         -ENOENT                a live chunk: repair
 *   DELETE (tombstone)    tombstone   tombstone  tombstone: 0 (retry)   -ESTALE
 *                                                live: -ESTALE
 *   PURGE                 -ENOENT     -ESTALE    remove the record      -ESTALE
 *
 * (WRITE on a tombstone: -ENOENT.) With v = 0, PUT and WRITE take the
 * clock's next version (above c) and DELETE removes whatever record there
 * is (-ENOENT if none); PURGE needs v > 0 (-EINVAL).
 *
 * Same-version repair: a PUT with STORE_OPF_SAMEVER and v == c of a live
 * chunk replaces its content with a copy of that same version - a good copy
 * from a replica over one that reads -EBADMSG - keeping the version. It is
 * atomic like any PUT (new blocks, new record, the old erased after); when
 * a crash leaves both copies, open keeps the one whose data verifies (rule:
 * store_rec_wins in store_format.h), and any later PUT has a higher version
 * and wins over both. The caller vouches that the bytes are that version's.
 *
 * Two ways in:
 *   - the synchronous calls below (store_put ... store_list): submit, wait,
 *     return. Used by the CLI, tests, and the simple node loop;
 *   - the asynchronous interface (store_submit/store_poll, see the end), for
 *     the run-to-completion node loop that also polls the NIC rings.
 */
#ifndef FERRY_STORE_H
#define FERRY_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define STORE_ID_LEN 16

struct store;

struct store_cfg {
	const char *path;         /* block device or file */
	uint32_t queue_depth;     /* io_uring SQ entries; 0 = default (64) */
	const uint8_t *cluster;   /* 16 bytes: expected cluster UUID; NULL = any */
	double scrub_mb_s;        /* background scrub rate; 0 = off */
	int read_only;            /* fsck-style open: never writes */
	int commit_fua;           /* commit with a FUA record write instead of a
				   * (batched) flush; see store.c (ignored where
				   * the one-flush commit applies) */
	uint32_t piece_align;     /* scatter PUT (op.iov): the alignment of piece
				   * addresses and lengths that goes direct; 0 =
				   * 512 on a block device, 4096 on a file (its file
				   * system would serialize sub-block pieces:
				   * STORE_IO_CAP_FILE in store_io.h) */
};

struct store_format_cfg {
	uint8_t cluster[16];      /* cluster UUID */
	uint8_t node[16];         /* node UUID */
	uint32_t max_chunk;       /* maximum chunk size; 0 = 4 MiB */
	uint64_t created;         /* unix seconds recorded as the format time; 0 =
				   * now (a simulator formats reproducibly) */
};

struct store_info {
	uint8_t cluster[16];      /* cluster UUID from the superblock */
	uint8_t node[16];         /* node UUID from the superblock */
	uint8_t disk[16];         /* disk UUID */
	uint64_t capacity;        /* bytes available for chunk data */
	uint64_t used;            /* bytes allocated to chunks */
	uint64_t chunks;          /* number of live chunks (tombstones not counted) */
	uint64_t tombstones;      /* number of tombstones */
	uint64_t max_version;     /* the clock's last value: the highest version of
				   * any record found at open (the clock's seed) or
				   * written or handed out since; the next local
				   * version is above it */
	uint32_t failed;          /* 1: a device write or flush failed; every
				   * mutation is refused (-EIO) until the store is
				   * reopened - the node should be taken out */
	uint32_t max_chunk;       /* maximum chunk size in bytes */
	uint32_t format_version;  /* on-disk format version */
	uint32_t vec_fixed;       /* 1: scatter/gather ops whose pieces lie in one
				   * registered region run as READV_FIXED/
				   * WRITEV_FIXED (Linux 6.15+); 0: plain
				   * READV/WRITEV (still zero copy) */
	uint32_t piece_align;     /* scatter PUT pieces aligned (address, length
				   * but the last) to this go direct; see
				   * store_cfg.piece_align */
};

struct store_stat {
	uint64_t size;            /* chunk size in bytes */
	uint64_t version;         /* increases with every PUT/WRITE of the chunk
				   * (drawn from one store-wide counter, or given);
				   * -ENOENT: the tombstone's version, or 0 */
	uint32_t crc;             /* crc32c over the whole chunk */
	uint32_t flags;           /* STORE_STAT_*; with -ENOENT only */
};
/* STAT answered -ENOENT because the chunk was deleted at stat.version. */
#define STORE_STAT_TOMBSTONE 1u

struct store_list_entry {
	uint8_t id[STORE_ID_LEN]; /* chunk id */
	uint64_t version;         /* chunk version (a tombstone's: the delete's) */
	uint64_t size;            /* chunk size (0 for a tombstone) */
	uint32_t flags;           /* STORE_LIST_* */
};
/* The entry is a tombstone, not a chunk. */
#define STORE_LIST_TOMBSTONE 1u

/* Lifecycle. store_open refuses a disk of another cluster (-EXDEV, with a log
 * line naming both UUIDs) or with unknown incompat features (-EPROTONOSUPPORT). */
int store_format(const char *path, const struct store_format_cfg *cfg);
int store_open(const struct store_cfg *cfg, struct store **out);
void store_close(struct store *s);
void store_get_info(struct store *s, struct store_info *out);

/* Synchronous data operations. iov describes the caller's bytes; they need
 * not be aligned (the store copies into aligned buffers when they are not;
 * a PUT of pieces laid out as the scatter/gather ops below want is zero
 * copy). */
int store_put(struct store *s, const uint8_t id[STORE_ID_LEN], const struct iovec *iov,
	      int iovcnt, uint64_t *version);
/* store_put_version - store_put with the version given (> 0; 0 is -EINVAL)
 * instead of the clock's next: a PUT op with op.version = version (see
 * store_op). -ESTALE if the chunk already has this or a newer version. */
int store_put_version(struct store *s, const uint8_t id[STORE_ID_LEN], const struct iovec *iov,
		      int iovcnt, uint64_t version);
/* store_write - write the bytes at off of an existing chunk (-ENOENT if none),
 * extending it (a gap past the old end reads as zeros), up to max_chunk
 * (-EFBIG). Atomic like PUT. Cost:
 *   - off and length multiples of 4096 (length > 0), not growing the chunk
 *     past its last allocated block (a write of the last block may raise the
 *     size within that block): done in place through a journal (store.c) -
 *     about 2x the bytes written plus two record writes (~size/1024 bytes
 *     each), whatever the chunk size; two flushes (three on a disk without
 *     the one-flush feature);
 *   - anything else (unaligned, or growing the extent), and every WRITE on a
 *     disk formatted without the journal feature: a copy-on-write of the
 *     whole chunk - cost the chunk size. */
int store_write(struct store *s, const uint8_t id[STORE_ID_LEN], uint64_t off,
		const struct iovec *iov, int iovcnt, uint64_t *version);
/* Reads [off, off+len) clipped to the chunk size; *got = bytes read. */
int store_get(struct store *s, const uint8_t id[STORE_ID_LEN], uint64_t off, uint32_t len,
	      void *buf, uint32_t *got);
/* store_delete - remove the chunk's record, live or tombstone (-ENOENT if
 * none). */
int store_delete(struct store *s, const uint8_t id[STORE_ID_LEN]);
/* store_delete_version - DELETE with version > 0: a tombstone of it (see
 * "Tombstones" at the top); 0 = store_delete. */
int store_delete_version(struct store *s, const uint8_t id[STORE_ID_LEN], uint64_t version);
/* store_purge - remove the chunk's record (live or tombstone) only if its
 * version is version (> 0); -ESTALE if it is another, -ENOENT if none. */
int store_purge(struct store *s, const uint8_t id[STORE_ID_LEN], uint64_t version);
/* store_stat - the chunk's stat. -ENOENT also fills *out: a tombstone's
 * version and STORE_STAT_TOMBSTONE, or all zero for no record at all. */
int store_stat(struct store *s, const uint8_t id[STORE_ID_LEN], struct store_stat *out);
/* store_lookup - the chunk's index entry as a listing shows it (committed
 * state, no device IO): 0, or -ENOENT when there is no record. Works when
 * the record on the disk no longer reads (store_stat: -EBADMSG). */
int store_lookup(struct store *s, const uint8_t id[STORE_ID_LEN], struct store_list_entry *out);
/* Lists up to max entries with ids strictly greater than *cursor in id order
 * (all-zero cursor starts); updates *cursor to the last id returned; *n = 0
 * means the end. Resumable across calls and restarts. The all-zero id is
 * therefore reserved: store_put refuses it with -EINVAL. A listing (from the
 * zero cursor to the end) returns every chunk that existed when it started
 * and still exists; chunks created during it may be missed. Tombstones are
 * listed too (flags STORE_LIST_TOMBSTONE, size 0). No device IO: versions
 * and sizes come from the index (committed state; an op in flight shows
 * its chunk as it was). */
int store_list(struct store *s, uint8_t cursor[STORE_ID_LEN], struct store_list_entry *out,
	       uint32_t max, uint32_t *n);

/* Counters (monotonic since open). */
struct store_counters {
	uint64_t gets, puts, writes, deletes, stats, lists; /* completed ops (deletes:
				   * DELETE, tombstones and PURGE) */
	uint64_t errors;          /* ops that returned an error (-ENOENT,
				   * -ESTALE, -EBUSY, -EAGAIN at submit are
				   * answers, not counted) */
	uint64_t crc_errors;      /* blocks or records that failed their checksum */
	uint64_t io_errors;       /* device requests that failed */
	uint64_t enospc;          /* allocations refused */
	uint64_t flushes;         /* device flushes issued */
	uint64_t bytes_read;      /* device bytes read */
	uint64_t bytes_written;   /* device bytes written */
	uint64_t bounce;          /* ops that copied through a bounce buffer */
	uint64_t bounce_bytes;    /* payload bytes the store copied with the CPU:
				   * bounce gathers/scatters, WRITE merges, the
				   * partial last sector of a direct scatter op */
	uint64_t direct_ops;      /* GET/PUT/WRITE ops whose payload went between
				   * the device and the caller's memory without a
				   * bounce buffer (zero copy) */
	uint64_t vec_fixed;       /* vectored device requests issued against a
				   * registered region (READV/WRITEV_FIXED) */
	uint64_t scrub_blocks;    /* blocks verified by scrub */
	uint64_t scrub_bad;       /* blocks scrub found bad */
	uint64_t scrub_passes;    /* completed scrub passes over the disk */
	uint64_t writes_inplace;  /* WRITEs done in place (of writes) */
	uint64_t replays;         /* interrupted in-place WRITEs finished at open */
	uint64_t torn;            /* one-flush records whose data had not all landed,
				   * dropped at open (store_format.h, ONEFLUSH) */
};
void store_get_counters(struct store *s, struct store_counters *out);

/*
 * Asynchronous interface. The synchronous calls above are built on it.
 *
 * The caller owns struct store_op until its callback runs. When the data
 * buffer is 512-byte aligned and buf_cap covers the whole 4 KiB blocks
 * touched (and a GET starts 4 KiB-aligned), the device reads/writes the
 * caller's memory directly - zero copy, as an io_uring fixed buffer when it
 * lies in a region given to store_register_region (e.g. the AF_XDP UMEM).
 * Otherwise the store copies through one of its two bounce buffers, and
 * store_submit returns -EAGAIN when none is free (poll, then retry); an
 * unaligned WRITE always uses one (it is a copy-on-write of the whole
 * chunk), an in-place WRITE (see store_write) only when its buffer is not
 * 512-byte aligned. -EAGAIN also when queue_depth ops are in flight, and for
 * a GET/STAT of a chunk while an in-place WRITE of it is in flight (a WRITE
 * submitted while a GET/STAT of the chunk is in flight is done by
 * copy-on-write instead). At most one mutating op per chunk id may be in
 * flight (-EBUSY). Ops are batched: the device sees them at the
 * next store_poll, which submits everything queued in one io_uring_enter.
 *
 * Scatter/gather: a PUT or GET may give its bytes as pieces instead (iov,
 * iovcnt; buf = NULL), e.g. the payloads of AF_XDP frames. PUT: the chunk is
 * iov[0] || iov[1] || ..., and the lengths must add up to len. GET: bytes
 * [off, off+got) are laid into the pieces in order; the lengths must add up
 * to at least len. Anything else, and iov on WRITE/DELETE/STAT, is -EINVAL.
 * The op is zero copy ("direct", counted in direct_ops) when every piece
 * holding its bytes is 512-byte aligned and non-empty, every such piece but
 * the one holding the last byte has a length that is a multiple of 512, a
 * GET starts 4 KiB-aligned, and there are at most 9216 such pieces (9
 * device requests of 1024; a 4 MiB chunk in 512-byte frames is 8192). The
 * device then reads/writes the pieces themselves with vectored IO - as
 * READV_FIXED/WRITEV_FIXED when all pieces of a request lie in one
 * registered region and the kernel has them (store_info.vec_fixed), else
 * READV/WRITEV - plus store-owned memory for the rest of the last 4 KiB
 * block (zeros on PUT; read and checked, not returned, on GET). The last
 * partial sector (up to 511 bytes, when the byte count is not a multiple of
 * 512) goes through that store memory with a memcpy, counted in
 * bounce_bytes. Otherwise the op gathers/scatters through a bounce buffer
 * as above (counted in bounce and bounce_bytes; -EAGAIN when none is free).
 * The iovec array and the pieces must stay valid, and a PUT's pieces
 * unchanged, until the callback: the store hands the array to the kernel
 * as it is (no copy) and walks it again at completion.
 *
 * Versions (op.version, in and out): PUT and WRITE: 0 = the clock's next
 * version; > 0 = install exactly this one. DELETE: 0 = remove the record;
 * > 0 = a tombstone of this version. PURGE: the version the record must
 * have. The rules are the table at the top (op.flags STORE_OPF_SAMEVER: a
 * PUT that may equal a live chunk's version; unknown flags: -EINVAL). A
 * refusal (-ESTALE, -ENOENT) comes from store_submit at once, with no
 * device IO, and so does an -ENOENT STAT (op.stat filled as store_stat
 * says). On success op.version is the version installed (PUT, WRITE,
 * tombstone). GET and STAT ignore it. An op struct reused for the next op
 * must have its version reset (it holds the last result). A tombstone and
 * a PURGE are durable like any mutation: when the callback runs with 0.
 */
enum store_op_type {
	STORE_OP_GET = 1,    /* read [off, off+len) into buf (or iov); res, got */
	STORE_OP_PUT = 2,    /* replace the chunk with buf[0, len) (or iov); version */
	STORE_OP_WRITE = 3,  /* write buf[0, len) at off (chunk must exist); version */
	STORE_OP_DELETE = 4, /* remove the chunk; version > 0: write a tombstone */
	STORE_OP_STAT = 5,   /* fill stat */
	STORE_OP_PURGE = 6,  /* remove the chunk's record if its version is version */
};

#define STORE_OP_PRIV 1024

/* op.flags: a PUT of version op.version may replace a live chunk of that
 * very version (same-version repair, see the top); -EINVAL with any other
 * op type or with version 0. */
#define STORE_OPF_SAMEVER 1u

struct store_op {
	/* set by the caller */
	int type;                   /* enum store_op_type */
	uint8_t id[STORE_ID_LEN];   /* chunk id */
	uint64_t version;           /* in and out; see "Versions" below */
	uint32_t flags;             /* STORE_OPF_*; 0 for none */
	uint64_t off;               /* GET/WRITE byte offset */
	uint32_t len;               /* GET: bytes wanted; PUT: chunk size; WRITE: bytes */
	uint32_t buf_cap;           /* usable bytes at buf (>= len) */
	void *buf;                  /* PUT/WRITE source, GET destination */
	const struct iovec *iov;    /* PUT source / GET destination as pieces (buf = NULL); */
	int iovcnt;                 /* the pieces, in order; total >= len (PUT: == len) */
	void (*cb)(struct store_op *op); /* completion; called from store_poll */
	void *user;                 /* caller's cookie */
	/* results, valid in cb */
	int res;                    /* 0 or -errno */
	uint32_t got;               /* GET: bytes placed at buf (or in the pieces) */
	struct store_stat stat;     /* STAT: the chunk's stat */
	/* private to the store */
	_Alignas(16) unsigned char priv[STORE_OP_PRIV];
};

/* store_submit - start op. Returns 0 when the callback will run later (from
 * store_poll), or -errno at once (callback not called). Requests are batched:
 * nothing reaches the device before the next store_poll. */
int store_submit(struct store *s, struct store_op *op);
/* store_poll - submit queued requests, reap completions and run callbacks;
 * wait = block until at least one completion. Returns ops completed or -errno. */
int store_poll(struct store *s, int wait);
/* store_fd - the io_uring fd for an event loop (readable: call store_poll). */
int store_fd(struct store *s);
/* store_inflight - ops submitted whose callback has not run yet. */
uint32_t store_inflight(struct store *s);
/* store_register_region - make [base, base+len) (512-byte aligned address and
 * length, e.g. the AF_XDP UMEM) an io_uring fixed buffer so ops whose buffers
 * lie inside it use READ_FIXED/WRITE_FIXED. Returns a region handle >= 0. */
int store_register_region(struct store *s, void *base, size_t len);
int store_unregister_region(struct store *s, int region);

/*
 * Scrub: re-reads data and records at cfg.scrub_mb_s, verifying checksums
 * (a tombstone: its record); bad blocks are logged and counted (scrub_bad).
 * store_scrub_step - do the scrub work now_ns allows (token bucket), at most
 * one chunk or tombstone per call. Returns 0 if idle, off or throttled;
 * STORE_SCRUB_OK if it verified one and found it good; STORE_SCRUB_BAD if
 * the one it verified is bad and still the chunk's current record: *bad
 * (if not NULL) says which, at what version - e.g. to fetch a good copy of
 * that version from a replica and repair it (STORE_OPF_SAMEVER), which
 * fails -ESTALE if the chunk moved on meanwhile. Never negative: a device
 * read error is a bad chunk too (err -EIO).
 */
struct store_scrub_bad {
	uint8_t id[STORE_ID_LEN]; /* chunk id */
	uint64_t version;         /* the version of the bad record */
	uint32_t blocks;          /* data blocks that failed their crc (0: the
				   * record itself, the whole-chunk crc, or -EIO) */
	uint32_t tombstone;       /* 1: a tombstone's record is bad */
	int err;                  /* -EBADMSG (checksums) or -EIO (unreadable) */
};
#define STORE_SCRUB_OK  1
#define STORE_SCRUB_BAD 2
int store_scrub_step(struct store *s, uint64_t now_ns, struct store_scrub_bad *bad);

/*
 * fsck: verify both superblocks, every record, every block checksum, and
 * that allocated space matches the records (no overlap). Every problem is
 * logged with log_err. Returns 0 when clean, the (positive) number of
 * problems found, or -errno when the disk could not be examined at all.
 */
struct store_fsck_report {
	uint64_t chunks;         /* live chunks */
	uint64_t tombstones;     /* tombstones (not problems) */
	uint64_t blocks_used;    /* data blocks referenced */
	uint64_t slots_used;     /* record slots referenced */
	uint64_t problems;       /* inconsistencies */
	uint64_t stale;          /* leftover records a read-write open would erase */
};
int store_fsck(const char *path, struct store_fsck_report *rep);

#endif /* FERRY_STORE_H */
