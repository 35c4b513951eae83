/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_uring.c - the io_uring backend of the storage ops table.
 *
 * One ring per store; the disk fd is registered (fixed file 0) and a sparse
 * fixed-buffer table of STORE_IO_NBUFS slots is registered up front so the
 * engine's pools and, later, the AF_XDP UMEM can be plugged in without
 * re-registering everything. Requests are only queued as SQEs; submit()
 * pushes the whole batch with one io_uring_enter.
 *
 * Vectored requests (buf == NULL) are READV/WRITEV, or READV_FIXED/
 * WRITEV_FIXED when their pieces lie in one registered buffer and the kernel
 * has those opcodes (6.15+; probed once at open).
 */
#include "storage/store_io.h"

#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

/* Vectored reads/writes against a registered buffer: IORING_OP_READV_FIXED
 * and IORING_OP_WRITEV_FIXED, values 60 and 61 of enum io_uring_op in
 * include/uapi/linux/io_uring.h since Linux 6.15 (right after
 * IORING_OP_EPOLL_WAIT = 59). Debian's kernel headers and liburing 2.3 do
 * not have them (and enum values cannot be tested with #ifdef), so they are
 * spelled out here. The SQE is a READV/WRITEV with that opcode and buf_index
 * set, as liburing 2.10's io_uring_prep_readv_fixed builds it. Support is
 * probed at open (IORING_REGISTER_PROBE). */
#define STORE_URING_OP_READV_FIXED 60
#define STORE_URING_OP_WRITEV_FIXED 61

int store_uring_no_vec_fixed;

struct store_uring {
	struct io_uring ring; /* the ring */
	int fd;               /* the disk, also fixed file 0 */
	int fixed_file;       /* 1 when registration worked */
	int fixed_bufs;       /* 1 when the sparse buffer table is registered */
	int vec_fixed;        /* 1 when READV_FIXED/WRITEV_FIXED are usable */
	int is_file;          /* a regular file, not a block device */
	uint64_t size;        /* device bytes */
};

/* uring_prep_vec - a vectored read or write of r, against its registered
 * buffer when it names one and the kernel can. */
static void uring_prep_vec(struct store_uring *u, struct io_uring_sqe *sqe, int fd,
			   const struct store_io_req *r)
{
	int fixed = r->buf_index >= 0 && u->vec_fixed;

	if (r->kind == STORE_IO_READ) {
		io_uring_prep_readv(sqe, fd, r->iov, r->iovcnt, r->off);
		if (fixed)
			sqe->opcode = STORE_URING_OP_READV_FIXED;
	} else {
		io_uring_prep_writev(sqe, fd, r->iov, r->iovcnt, r->off);
		if (fixed)
			sqe->opcode = STORE_URING_OP_WRITEV_FIXED;
	}
	if (fixed)
		sqe->buf_index = (__u16)r->buf_index;
}

static int uring_queue(void *ctx, struct store_io_req *r)
{
	struct store_uring *u = ctx;
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
	int fd = u->fixed_file ? 0 : u->fd;

	if (!sqe)
		return -EAGAIN;
	switch (r->kind) {
	case STORE_IO_READ:
		if (!r->buf)
			uring_prep_vec(u, sqe, fd, r);
		else if (r->buf_index >= 0 && u->fixed_bufs)
			io_uring_prep_read_fixed(sqe, fd, r->buf, r->len, r->off, r->buf_index);
		else
			io_uring_prep_read(sqe, fd, r->buf, r->len, r->off);
		break;
	case STORE_IO_WRITE:
		if (!r->buf)
			uring_prep_vec(u, sqe, fd, r);
		else if (r->buf_index >= 0 && u->fixed_bufs)
			io_uring_prep_write_fixed(sqe, fd, r->buf, r->len, r->off, r->buf_index);
		else
			io_uring_prep_write(sqe, fd, r->buf, r->len, r->off);
		/* RWF_DSYNC on an O_DIRECT write is a FUA write on NVMe (or a
		 * write + flush where the device has no FUA). */
		if (r->fua)
			sqe->rw_flags = RWF_DSYNC;
		break;
	default:
		io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
		break;
	}
	if (u->fixed_file)
		sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data(sqe, r);
	return 0;
}

static int uring_submit(void *ctx)
{
	struct store_uring *u = ctx;
	int ret = io_uring_submit(&u->ring);

	return ret < 0 ? ret : 0;
}

static int uring_reap(void *ctx, int wait)
{
	struct store_uring *u = ctx;
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;
	int ret;

	if (wait) {
		/* Submit whatever is queued and wait, in one io_uring_enter. */
		ret = io_uring_submit_and_wait(&u->ring, 1);
		if (ret < 0 && ret != -EINTR)
			return ret;
	}
	for (;;) {
		struct store_io_req *batch[64];
		unsigned nb = 0;

		io_uring_for_each_cqe(&u->ring, head, cqe) {
			struct store_io_req *r = io_uring_cqe_get_data(cqe);

			r->res = cqe->res;
			/* A short transfer (end of a truncated file) is an IO error. */
			if (r->kind != STORE_IO_FLUSH && r->res >= 0 && (uint32_t)r->res != r->len)
				r->res = -EIO;
			batch[nb++] = r;
			if (nb == 64)
				break;
		}
		if (!nb)
			break;
		io_uring_cq_advance(&u->ring, nb);
		/* done() may queue new requests; call it after advancing the CQ. */
		for (unsigned i = 0; i < nb; i++)
			batch[i]->done(batch[i]);
		n += nb;
	}
	return (int)n;
}

static int uring_fd(void *ctx)
{
	struct store_uring *u = ctx;

	return u->ring.ring_fd;
}

static int uring_register_buf(void *ctx, int idx, void *base, size_t len)
{
	struct store_uring *u = ctx;
	struct iovec iov = { .iov_base = base, .iov_len = base ? len : 0 };
	__u64 tag = 0;
	int ret;

	if (!u->fixed_bufs)
		return -EOPNOTSUPP;
	if (idx < 0 || idx >= STORE_IO_NBUFS)
		return -EINVAL;
	ret = io_uring_register_buffers_update_tag(&u->ring, (unsigned)idx, &iov, &tag, 1);
	return ret < 0 ? ret : 0;
}

static uint64_t uring_size(void *ctx)
{
	struct store_uring *u = ctx;

	return u->size;
}

static uint32_t uring_caps(void *ctx)
{
	struct store_uring *u = ctx;

	return (u->vec_fixed ? STORE_IO_CAP_VEC_FIXED : 0) | (u->is_file ? STORE_IO_CAP_FILE : 0);
}

/* uring_probe_vec_fixed - 1 if the kernel has READV_FIXED and WRITEV_FIXED. */
static int uring_probe_vec_fixed(struct io_uring *ring)
{
	struct io_uring_probe *probe = io_uring_get_probe_ring(ring);
	int ok;

	if (!probe)
		return 0;
	ok = io_uring_opcode_supported(probe, STORE_URING_OP_READV_FIXED) &&
	     io_uring_opcode_supported(probe, STORE_URING_OP_WRITEV_FIXED);
	io_uring_free_probe(probe);
	return ok;
}

static void uring_close(void *ctx)
{
	struct store_uring *u = ctx;

	io_uring_queue_exit(&u->ring);
	close(u->fd);
	free(u);
}

static const struct store_io_ops uring_ops = {
	.queue = uring_queue,
	.submit = uring_submit,
	.reap = uring_reap,
	.fd = uring_fd,
	.register_buf = uring_register_buf,
	.size = uring_size,
	.close = uring_close,
	.caps = uring_caps,
};

int store_uring_open(const char *path, uint32_t queue_depth, int read_only,
		     const struct store_io_ops **ops, void **ctx)
{
	struct store_uring *u;
	struct io_uring_params p;
	struct stat st;
	int ret;

	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->fd = open(path, (read_only ? O_RDONLY : O_RDWR) | O_DIRECT | O_CLOEXEC);
	if (u->fd < 0) {
		ret = -errno;
		goto err_free;
	}
	if (fstat(u->fd, &st) < 0) {
		ret = -errno;
		goto err_close;
	}
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(u->fd, BLKGETSIZE64, &u->size) < 0) {
			ret = -errno;
			goto err_close;
		}
	} else if (S_ISREG(st.st_mode)) {
		u->is_file = 1;
		u->size = (uint64_t)st.st_size;
	} else {
		ret = -ENOTBLK;
		goto err_close;
	}
	memset(&p, 0, sizeof(p));
	/* The store is driven by one thread; these cut kernel work per batch. */
	p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN;
	ret = io_uring_queue_init_params(queue_depth ? queue_depth : 64, &u->ring, &p);
	if (ret == -EINVAL) {
		memset(&p, 0, sizeof(p));
		ret = io_uring_queue_init_params(queue_depth ? queue_depth : 64, &u->ring, &p);
	}
	if (ret < 0)
		goto err_close;
	u->fixed_file = io_uring_register_files(&u->ring, &u->fd, 1) == 0;
	u->fixed_bufs = io_uring_register_buffers_sparse(&u->ring, STORE_IO_NBUFS) == 0;
	if (!u->fixed_bufs)
		log_debug("store: no sparse fixed buffers; using plain reads and writes");
	u->vec_fixed = u->fixed_bufs && !store_uring_no_vec_fixed &&
		       uring_probe_vec_fixed(&u->ring);
	*ops = &uring_ops;
	*ctx = u;
	return 0;
err_close:
	close(u->fd);
err_free:
	free(u);
	return ret;
}
