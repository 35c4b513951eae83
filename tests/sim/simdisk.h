/* SPDX-License-Identifier: Apache-2.0 */
/*
 * simdisk.h - the simulated disk of the cluster simulator: a backend of the
 * storage ops table (storage/store_io.h) that keeps the disk in memory and
 * injects, from its own seeded generator, every fault the engine must
 * survive. FoundationDB's AsyncFileNonDurable (volatile writes, torn and
 * garbage sectors at power loss) over TigerBeetle's testing storage
 * (latent bit flips, one misdirected write, a cap on faulty replicas).
 *
 * Model
 *   - Image: sparse, 4 KiB pages allocated on first write; unwritten bytes
 *     read as zeros. A disk costs two small arrays until it is written.
 *   - Durability (the store_io.h contract, exactly): a completed write is
 *     volatile until a flush *queued after it completed* completes; a write
 *     with fua = 1 is durable when it completes (and supersedes older
 *     volatile data of its sectors). Reads see the newest completed data.
 *   - Completion: queue() adds to the batch, submit() hands it over, reap()
 *     completes; a request's effect happens when it completes. With
 *     cfg.reorder, submitted requests complete in any order (without a clock
 *     each is done at a given reap with probability 1/2); flushes still
 *     cover only the writes that had completed when they were queued.
 *   - Latency (cfg.now_ns set): a request is due lat_min_ns..lat_max_ns
 *     after submit() and completes at the first reap on or after that time
 *     (in submission order unless cfg.reorder). simdisk_next_due tells the
 *     simulator when to wake the node. reap(wait = 1) with nothing due does
 *     not spin: it completes the earliest-due request at once, as if the
 *     node had blocked until then (counted in early). The simulator reaps
 *     with wait = 0; the engine's synchronous paths (open, close, store_put
 *     ...) still work, in no simulated time.
 *   - Power loss (simdisk_power_loss): every volatile write, then every
 *     write in flight (submitted, not completed), is resolved in the order
 *     it completed (was submitted): each is dropped, lands whole, or is torn
 *     - each 512-byte sector landing with probability 1/2 - with one chance
 *     in three each (or as cfg.land says); a sector that does not land
 *     becomes garbage with probability garbage_pm. Queued, unsubmitted
 *     requests never reached the device. The cache is then empty and the
 *     disk is cut: every request
 *     completes with -EIO and changes nothing until simdisk_power_on, and
 *     requests issued before power-on keep failing after it (so a dead
 *     node's store can be closed, its shutdown writes refused).
 *   - O_DIRECT: a read or write whose offset, length, buffer, or any iovec
 *     piece's address or length is not a multiple of 512, with an empty
 *     piece, no piece, more than STORE_IO_IOV_MAX, pieces not adding up to
 *     len, or beyond the end, fails with -EINVAL; a buf_index naming a
 *     registered buffer that does not hold a single-buffer request's memory
 *     fails with -EFAULT (READ_FIXED's rule). All are counted: the engine
 *     must never issue one, so a test asserts these counters stay 0.
 *   - fd() is -1 (the simulator drives reaping); caps() is 0 (a block
 *     device: the store's piece alignment is 512).
 *
 * Faults (all off by default; rates per million, drawn per request from
 * the disk's generator):
 *   - transient EIO on a read, write or flush: the request fails, a failed
 *     write does not land, a failed flush makes nothing durable;
 *   - simdisk_fail: from then on every request fails with -EIO;
 *   - latent corruption: simdisk_flip, and random flips on read (of a
 *     durable sector the read returns) and at power-on (of a written sector
 *     anywhere). A flipped sector stays bad until it is overwritten and
 *     keeps returning the same wrong bytes;
 *   - one misdirected write per disk at most: it lands at another offset,
 *     its target keeps the old bytes.
 * Random latent faults (flips on read or power-on, the misdirect) first ask
 * cfg.fault_ok, which may veto them: how the simulator keeps latent faults
 * of a chunk on at most R-1 replicas (TigerBeetle's ClusterFaultAtlas).
 * simdisk_faulty reports which sectors hold such faults.
 *
 * Everything is deterministic: the same cfg (seed included) and the same
 * sequence of calls give the same disk, byte for byte (simdisk_hash).
 * Not thread-safe: one simulator thread drives it.
 */
#ifndef FERRY_SIM_SIMDISK_H
#define FERRY_SIM_SIMDISK_H

#include "storage/store_io.h"

#include <stddef.h>
#include <stdint.h>

#define SIMDISK_SECTOR 512u   /* O_DIRECT granularity; unit of torn writes */
#define SIMDISK_PAGE 4096u    /* allocation unit of the sparse image */

/* Fault rates, per million; all 0 = a perfect disk. */
struct simdisk_faults {
	uint32_t eio_read_pm;     /* reads failing with -EIO */
	uint32_t eio_write_pm;    /* writes failing with -EIO (not landing) */
	uint32_t eio_flush_pm;    /* flushes failing with -EIO (nothing made durable) */
	uint32_t flip_read_pm;    /* reads that flip a bit of a durable sector they read */
	uint32_t flip_power_pm;   /* power-ons that flip a bit of some written sector */
	uint32_t garbage_pm;      /* power loss: lost sectors that become garbage */
	uint32_t misdirect_pm;    /* writes landing elsewhere (at most one per disk) */
};

/* What power loss does to one write (simdisk_cfg.land). */
enum simdisk_land {
	SIMDISK_LAND_RANDOM = 0,  /* the generator decides (the default) */
	SIMDISK_LAND_DROP = 1,    /* no sector lands */
	SIMDISK_LAND_ALL = 2,     /* every sector lands */
	SIMDISK_LAND_TORN = 3,    /* each sector lands with probability 1/2 */
};

struct simdisk_cfg {
	uint64_t size;            /* bytes, a non-zero multiple of 4096 */
	uint64_t seed;            /* the disk's own generator seed */
	struct simdisk_faults faults; /* initial fault rates (simdisk_set_faults) */
	int reorder;              /* complete submitted requests in any order */
	uint32_t queue_max;       /* queued, unsubmitted requests before queue() says
				   * -EAGAIN; 0 = 1024 */
	uint64_t (*now_ns)(void *ctx); /* simulated clock; NULL = no latency */
	void *clock_ctx;          /* for now_ns */
	uint64_t lat_min_ns;      /* latency of a request, uniform in [min, max] */
	uint64_t lat_max_ns;      /* (>= lat_min_ns) */
	/* fault_ok - may a random latent fault damage [off, off + len) now?
	 * 0 vetoes it (counted in vetoed). NULL = always. */
	int (*fault_ok)(void *ctx, uint64_t off, uint64_t len);
	void *fault_ctx;          /* for fault_ok */
	/* land - power loss: the fate (enum simdisk_land) of the write at
	 * [off, off + len), volatile (inflight 0) or in flight (1); a test
	 * builds one exact crash with it. NULL = SIMDISK_LAND_RANDOM. A lost
	 * sector may still become garbage (garbage_pm). */
	int (*land)(void *ctx, uint64_t off, uint32_t len, int inflight);
	void *land_ctx;           /* for land */
	/* inject - called for each read, write and flush about to take effect:
	 * a negative errno fails it (counted in eio_injected; a failed write
	 * does not land, a failed flush makes nothing durable), 0 lets it
	 * through to the fault rates. A test fails one exact request with it.
	 * NULL = none. */
	int (*inject)(void *ctx, const struct store_io_req *r);
	void *inject_ctx;         /* for inject */
};

struct simdisk_counters {
	uint64_t requests;        /* requests completed, any result */
	uint64_t reads;           /* reads completed successfully */
	uint64_t writes;          /* writes completed successfully */
	uint64_t fua_writes;      /* of writes, with fua = 1 */
	uint64_t flushes;         /* flushes completed successfully */
	uint64_t bytes_read;      /* by successful reads */
	uint64_t bytes_written;   /* by successful writes */
	uint64_t power_losses;    /* simdisk_power_loss calls */
	uint64_t landed_sectors;  /* power loss: volatile/in-flight sectors that landed */
	uint64_t torn_sectors;    /* power loss: volatile/in-flight sectors lost */
	uint64_t torn_writes;     /* power loss: writes that landed in part */
	uint64_t garbage_sectors; /* power loss: lost sectors that became garbage */
	uint64_t eio_injected;    /* transient EIOs (fault rates, inject) */
	uint64_t eio_failed;      /* requests refused by a failed disk (simdisk_fail) */
	uint64_t eio_cut;         /* requests refused for power loss */
	uint64_t flips;           /* bits flipped (simdisk_flip and random) */
	uint64_t vetoed;          /* random latent faults vetoed by fault_ok */
	uint64_t misdirects;      /* misdirected writes (0 or 1) */
	uint64_t refused_unaligned; /* -EINVAL: broke an O_DIRECT rule */
	uint64_t refused_range;   /* -EINVAL: beyond the end of the disk */
	uint64_t refused_fixed;   /* -EFAULT: buffer outside its registered buffer */
	uint64_t early;           /* completed by reap(wait = 1) before their due time */
	uint64_t abandoned;       /* requests still outstanding at close(), dropped */
};

struct simdisk;

/* The ops table; its ctx is the struct simdisk. close() releases nothing
 * (the simulator reopens the same disk): it only forgets requests still
 * outstanding, whose memory belongs to the store being closed. */
extern const struct store_io_ops simdisk_ops;

/* Lifecycle. simdisk_new - an all-zero disk; NULL with errno EINVAL (bad
 * size or latency range) or ENOMEM. simdisk_clone - a new disk with cfg
 * (cfg->size 0 = src's size, which it must equal otherwise) whose durable
 * image is what src's reads see now (e.g. one formatted template cloned for
 * every node and run: store_format_io stamps the wall-clock time, so
 * formatting each disk anew would not be reproducible). */
struct simdisk *simdisk_new(const struct simdisk_cfg *cfg);
struct simdisk *simdisk_clone(const struct simdisk *src, const struct simdisk_cfg *cfg);
void simdisk_free(struct simdisk *d);

/* Power and failure. simdisk_power_loss - resolve the cache and what is in
 * flight (see the model above) and cut the power. simdisk_power_on - serve
 * requests again (not those issued before, nor while cut); maybe flip a bit
 * (flip_power_pm). */
void simdisk_power_loss(struct simdisk *d);
void simdisk_power_on(struct simdisk *d);
int simdisk_powered(const struct simdisk *d);      /* 1 = on */
void simdisk_fail(struct simdisk *d);              /* permanent */
void simdisk_set_faults(struct simdisk *d, const struct simdisk_faults *f);

/* Latent corruption. simdisk_flip - flip one bit (chosen by the generator)
 * of the durable byte at off, whatever fault_ok says; 0 or -EINVAL (beyond
 * the end). simdisk_faulty - how many sectors of [off, off + len) hold a
 * latent fault now: a flip not yet overwritten, or either range of the
 * misdirected write (kept for the disk's life, conservatively). */
int simdisk_flip(struct simdisk *d, uint64_t off);
uint64_t simdisk_faulty(const struct simdisk *d, uint64_t off, uint64_t len);

/* Completion timing. simdisk_next_due - the earliest time a submitted
 * request completes: its due time with a clock, 0 (now) without one or
 * when it will fail for power loss; UINT64_MAX if nothing is submitted. */
uint64_t simdisk_next_due(const struct simdisk *d);

/* Inspection (no faults, no counters, no generator draws).
 * simdisk_read - what a read of [off, off + len) would return now (any
 * offset and length inside the disk); 0 or -EINVAL.
 * simdisk_hash - a 64-bit hash of the durable image and the volatile
 * writes (equal disks hash equal; zero pages count as unwritten). */
int simdisk_read(const struct simdisk *d, uint64_t off, void *buf, size_t len);
uint64_t simdisk_hash(const struct simdisk *d);
void simdisk_get_counters(const struct simdisk *d, struct simdisk_counters *out);

#endif /* FERRY_SIM_SIMDISK_H */
