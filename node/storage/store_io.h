/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_io.h - the storage ops table: every byte the store reads or writes
 * goes through one of these (SQLite-VFS style), so tests can swap the
 * io_uring backend for one that injects crashes, torn writes and errors.
 *
 * The table is asynchronous because the engine is: the engine queues
 * requests (read, write, flush), asks the backend to submit them as one
 * batch, and reaps completions, which call req->done. A backend may
 * complete requests synchronously inside submit() or reap().
 *
 * Durability model the engine relies on (and tests/unit/test_store_crash.c
 * simulates): a completed write is volatile until a flush that was *queued
 * after the write completed* completes; a write with fua = 1 is durable
 * when it completes. A write in flight at power loss may land in part, at
 * 512-byte sector granularity.
 */
#ifndef FERRY_STORE_IO_H
#define FERRY_STORE_IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

enum store_io_kind {
	STORE_IO_READ = 0,  /* read len bytes at off into buf (or iov) */
	STORE_IO_WRITE = 1, /* write len bytes from buf (or iov) at off */
	STORE_IO_FLUSH = 2, /* make every completed write durable */
};

/* Most pieces one vectored request may carry (the kernel's UIO_MAXIOV). */
#define STORE_IO_IOV_MAX 1024

/*
 * A request moves len bytes between the device at off and either one buffer
 * (buf) or, when buf is NULL and iov is set, the pieces iov[0, iovcnt) in
 * order (preadv/pwritev). Every piece is 512-byte aligned and non-empty, and
 * its length is a multiple of 512: O_DIRECT's rule for each segment, which
 * the test backends enforce. A vectored request with buf_index >= 0 has
 * all its pieces inside that registered buffer (READV_FIXED/WRITEV_FIXED
 * where the backend has STORE_IO_CAP_VEC_FIXED; the engine passes -1
 * otherwise). The iovec array stays valid until done() runs.
 */
struct store_io_req {
	uint8_t kind;            /* enum store_io_kind */
	uint8_t fua;             /* write: durable on completion (RWF_DSYNC/FUA) */
	int16_t buf_index;       /* registered buffer index, -1 = not registered */
	uint32_t len;            /* bytes; multiple of 512 */
	uint64_t off;            /* byte offset; multiple of 512 */
	void *buf;               /* 512-byte aligned; NULL = vectored (iov) */
	const struct iovec *iov; /* vectored: the pieces (see above) */
	uint16_t iovcnt;         /* vectored: pieces, 1..STORE_IO_IOV_MAX */
	int res;                 /* result: bytes or -errno */
	void (*done)(struct store_io_req *r); /* called by reap/submit */
	void *owner;             /* engine op this belongs to */
};

struct store_io_ops {
	/* queue - add r to the next batch; -EAGAIN when the queue is full
	 * (the caller submits and retries). */
	int (*queue)(void *ctx, struct store_io_req *r);
	/* submit - hand the queued batch to the device; returns 0 or -errno. */
	int (*submit)(void *ctx);
	/* reap - run done() for completed requests; wait = submit the queued
	 * batch and block for at least one completion. Returns the number
	 * reaped or -errno. */
	int (*reap)(void *ctx, int wait);
	/* fd - a file descriptor that becomes readable when completions are
	 * ready (the io_uring fd), or -1. */
	int (*fd)(void *ctx);
	/* register_buf - make [base, base+len) fixed buffer index idx (or
	 * unregister it with base == NULL); -EOPNOTSUPP if not supported. */
	int (*register_buf)(void *ctx, int idx, void *base, size_t len);
	/* size - device size in bytes. */
	uint64_t (*size)(void *ctx);
	/* close - release everything. */
	void (*close)(void *ctx);
	/* caps - STORE_IO_CAP_* flags; NULL = none. */
	uint32_t (*caps)(void *ctx);
};

/* The backend runs a vectored request with buf_index >= 0 against that
 * registered buffer (io_uring READV_FIXED/WRITEV_FIXED, Linux 6.15+): no
 * page pinning per request. Without it vectored requests are plain
 * preadv/pwritev (the kernel pins the pages per request; still no copy). */
#define STORE_IO_CAP_VEC_FIXED 1u
/* The disk is a regular file: its file system decides how direct IO goes.
 * ext4 (and xfs) take a vectored O_DIRECT write whose pieces are not
 * aligned to the file system block as "unaligned" and serialize it against
 * all direct IO in flight on the file (ext4_unaligned_io: exclusive inode
 * lock, inode_dio_wait, and -EAGAIN for io_uring's nowait attempt, so a
 * punt to a worker thread). Measured on this VM: 4 KiB PUTs written from
 * 3584 + 512-byte frame pieces ran at 6k/s against 15k/s through a copy. */
#define STORE_IO_CAP_FILE 2u

/* Fixed-buffer table size of the backends: index 0 and 1 are the store's own
 * pools (meta, bounce); 2 and up are caller regions (store_register_region). */
#define STORE_IO_NBUFS 64

/*
 * store_uring_open - the io_uring backend on path (O_DIRECT; block device or
 * regular file), with queue_depth SQ entries, the file registered as fixed
 * file 0 and a sparse fixed-buffer table of STORE_IO_NBUFS. read_only opens
 * O_RDONLY. It probes the ring once for READV_FIXED/WRITEV_FIXED (reported
 * as STORE_IO_CAP_VEC_FIXED). Returns 0 and fills ops and ctx, or -errno.
 */
int store_uring_open(const char *path, uint32_t queue_depth, int read_only,
		     const struct store_io_ops **ops, void **ctx);
/* store_uring_no_vec_fixed - tests: 1 = backends opened from now on do not
 * use READV_FIXED/WRITEV_FIXED even where the kernel has them (the plain
 * vectored path of an older kernel). */
extern int store_uring_no_vec_fixed;

#endif /* FERRY_STORE_IO_H */
