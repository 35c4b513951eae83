/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_store_scatter - PUT and GET with the bytes as pieces (op.iov), the way
 * the node hands over AF_XDP frame payloads: 512-byte aligned pieces of 3584,
 * 1024 or 512 bytes (the last one shorter), each separately allocated or
 * all inside a registered region (the UMEM). For sizes around every sector
 * and block edge up to max_chunk: the bytes come back identical through buf
 * and through pieces (also from a 4 KiB-aligned offset with the length
 * clipped by the chunk end), the stat crc is the crc32c of the data, the op
 * counts as direct and copies nothing but the last partial sector, and
 * requests in a region go as READV_FIXED/WRITEV_FIXED where the kernel has
 * them. Also: more than 1024 pieces (several device requests), misaligned
 * or odd-length pieces and unaligned GETs (correct, through the bounce
 * buffer, counted), the zero padding the in-place WRITE relies on, a
 * corrupt block (-EBADMSG), the -EINVAL rules, several ops in flight, the
 * forced plain READV/WRITEV path (store_uring_no_vec_fixed: what a 6.1
 * kernel does), and fsck clean at the end.
 */
#include "lib/store_fixture.h"
#include "lib/test.h"
#include "common/crc32c.h"
#include "storage/store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MC (4u << 20)            /* max_chunk */
#define MAXP 8300                /* pieces of one set (4 MiB in 512-byte pieces) */
#define REGION (32u << 20)       /* the registered region: PUT half, GET half */

/* One set of pieces: separately allocated (own) or carved from the region. */
struct pcs {
	struct iovec iov[MAXP];  /* the pieces */
	void *own[MAXP];         /* separately allocated memory, or NULL */
	int n;                   /* pieces */
};

static struct pcs src_p, dst_p;
static uint8_t *region;          /* REGION bytes, registered */
static uint8_t data[MC + 8192], back[MC + 8192];

static void pcs_free(struct pcs *p)
{
	for (int i = 0; i < p->n; i++) {
		free(p->own[i]);
		p->own[i] = NULL;
	}
	p->n = 0;
}

/*
 * pcs_build - pieces of psz bytes (the last one shorter) adding up to total:
 * in the region from base on (a 512-byte gap between pieces, so they are
 * not one contiguous area), or each in its own 512-aligned allocation when
 * base is NULL. Piece 1 starts mis bytes past its aligned address.
 */
static void pcs_build(struct pcs *p, uint64_t total, uint32_t psz, uint8_t *base, size_t mis)
{
	size_t stride = ((psz + 511) & ~(size_t)511) + 512;

	pcs_free(p);
	for (uint64_t at = 0; at < total; p->n++) {
		size_t len = total - at < psz ? (size_t)(total - at) : psz;
		size_t m = p->n == 1 ? mis : 0;
		uint8_t *b;

		REQUIRE(p->n < MAXP);
		if (base) {
			b = base + (size_t)p->n * stride;
			REQUIRE(b + len + m <= region + REGION);
		} else {
			b = aligned_alloc(512, (len + m + 511) & ~(size_t)511);
			REQUIRE(b);
			p->own[p->n] = b;
		}
		p->iov[p->n].iov_base = b + m;
		p->iov[p->n].iov_len = len;
		at += len;
	}
}

static void pcs_put(struct pcs *p, const uint8_t *from)
{
	for (int i = 0; i < p->n; i++) {
		memcpy(p->iov[i].iov_base, from, p->iov[i].iov_len);
		from += p->iov[i].iov_len;
	}
}

static void pcs_get(const struct pcs *p, uint8_t *to, uint64_t n)
{
	for (int i = 0; i < p->n && n; i++) {
		size_t k = p->iov[i].iov_len < n ? p->iov[i].iov_len : (size_t)n;

		memcpy(to, p->iov[i].iov_base, k);
		to += k;
		n -= k;
	}
}

static void pcs_poison(struct pcs *p)
{
	for (int i = 0; i < p->n; i++)
		memset(p->iov[i].iov_base, 0xee, p->iov[i].iov_len);
}

static int done_count;

static void on_done(struct store_op *op)
{
	(void)op;
	done_count++;
}

/* run - one async op to completion; returns store_submit's error or res. */
static int run(struct store *s, struct store_op *op)
{
	int ret, want = done_count + 1;

	op->cb = on_done;
	while ((ret = store_submit(s, op)) == -EAGAIN)
		REQUIRE(store_poll(s, 1) >= 0);
	if (ret < 0)
		return ret;
	while (done_count < want)
		REQUIRE(store_poll(s, 1) >= 0);
	return op->res;
}

static int put_iov(struct store *s, const uint8_t id[16], const struct pcs *p, uint32_t len)
{
	static struct store_op op;

	memset(&op, 0, sizeof(op));
	op.type = STORE_OP_PUT;
	memcpy(op.id, id, 16);
	op.len = len;
	op.iov = p->iov;
	op.iovcnt = p->n;
	return run(s, &op);
}

static int get_iov(struct store *s, const uint8_t id[16], const struct pcs *p, uint64_t off,
		   uint32_t len, uint32_t *got)
{
	static struct store_op op;
	int ret;

	memset(&op, 0, sizeof(op));
	op.type = STORE_OP_GET;
	memcpy(op.id, id, 16);
	op.off = off;
	op.len = len;
	op.iov = p->iov;
	op.iovcnt = p->n;
	ret = run(s, &op);
	*got = op.got;
	return ret;
}

/* Counter deltas of one op. */
struct delta {
	struct store_counters c0;
};

static void d_start(struct store *s, struct delta *d)
{
	store_get_counters(s, &d->c0);
}

/* d_check - the op since d_start was direct (1), bounced (0) or neither
 * (-1: no payload) and copied `copied` bytes; fixed: vectored requests went
 * against the region (1), did not (0), either (-1). */
static void d_check(struct store *s, const struct delta *d, int direct, uint64_t copied,
		    int fixed, int line)
{
	struct store_counters c;
	int bad = 0;

	store_get_counters(s, &c);
	if (c.direct_ops - d->c0.direct_ops != (uint64_t)(direct == 1) ||
	    c.bounce - d->c0.bounce != (uint64_t)(direct == 0) ||
	    c.bounce_bytes - d->c0.bounce_bytes != copied)
		bad = 1;
	if (fixed >= 0 && (c.vec_fixed > d->c0.vec_fixed) != fixed)
		bad = 1;
	if (bad) {
		fprintf(stderr, "line %d: direct %llu bounce %llu bounce_bytes %llu vec_fixed %llu; "
			"want direct %d copied %llu fixed %d\n", line,
			(unsigned long long)(c.direct_ops - d->c0.direct_ops),
			(unsigned long long)(c.bounce - d->c0.bounce),
			(unsigned long long)(c.bounce_bytes - d->c0.bounce_bytes),
			(unsigned long long)(c.vec_fixed - d->c0.vec_fixed), direct,
			(unsigned long long)copied, fixed);
		test_failures++;
	}
}

/* One size, one piece size, one layout: PUT from pieces, read back three
 * ways. fixed: 1 when vectored requests must go against the region. */
static void one_case(struct store *s, const uint8_t id[16], uint32_t len, uint32_t psz,
		     int in_region, int fixed)
{
	uint8_t *pb = in_region ? region : NULL, *gb = in_region ? region + REGION / 2 : NULL;
	struct store_stat st;
	struct delta d;
	uint32_t got = 0;
	/* A vectored request (of whole pieces) only when there are two pieces
	 * or more, or one of whole sectors. */
	uint32_t n = (len + psz - 1) / psz;
	int vf = fixed && (n >= 2 || (n == 1 && len % 512 == 0));
	int f0 = test_failures;

	store_fixture_fill(data, len, len ^ psz);
	pcs_build(&src_p, len, psz, pb, 0);
	pcs_put(&src_p, data);
	d_start(s, &d);
	CHECK_EQ(put_iov(s, id, &src_p, len), 0);
	d_check(s, &d, 1, len % 512, vf, __LINE__);
	REQUIRE(store_stat(s, id, &st) == 0);
	CHECK_EQ(st.size, len);
	CHECK_EQ(st.crc, crc32c(0, data, len));
	/* Back through buf. */
	memset(back, 0xee, len + 1);
	CHECK_EQ(store_get(s, id, 0, MC, back, &got), 0);
	CHECK_EQ(got, len);
	CHECK(memcmp(back, data, len) == 0);
	/* Back through pieces of the same shape. */
	pcs_build(&dst_p, len, psz, gb, 0);
	pcs_poison(&dst_p);
	d_start(s, &d);
	CHECK_EQ(get_iov(s, id, &dst_p, 0, len, &got), 0);
	CHECK_EQ(got, len);
	d_check(s, &d, len ? 1 : -1, len % 512, vf, __LINE__);
	pcs_get(&dst_p, back, len);
	CHECK(memcmp(back, data, len) == 0);
	/* From a 4 KiB-aligned offset, asking for more than is left. */
	if (len > 4096) {
		uint64_t off = (len / 2) & ~4095ull;
		uint32_t want = (uint32_t)(len - off) + 3000;

		pcs_build(&dst_p, want, psz, gb, 0);
		pcs_poison(&dst_p);
		d_start(s, &d);
		CHECK_EQ(get_iov(s, id, &dst_p, off, want, &got), 0);
		CHECK_EQ(got, len - off);
		d_check(s, &d, 1, got % 512, -1, __LINE__);
		pcs_get(&dst_p, back, got);
		CHECK(memcmp(back, data + off, got) == 0);
	}
	if (test_failures > f0)
		fprintf(stderr, "  (in len %u psz %u region %d)\n", len, psz, in_region);
}

/* The bounce paths: misaligned or odd-length pieces, an unaligned GET. */
static void bounce_cases(struct store *s)
{
	const uint8_t id[16] = { 0xb0 };
	const uint32_t len = (1u << 20) + 1000;
	struct delta d;
	uint32_t got;

	store_fixture_fill(data, len, 99);
	/* Piece 1 starts 8 bytes past a sector boundary. */
	pcs_build(&src_p, len, 3584, NULL, 8);
	pcs_put(&src_p, data);
	d_start(s, &d);
	CHECK_EQ(put_iov(s, id, &src_p, len), 0);
	d_check(s, &d, 0, len, -1, __LINE__);
	pcs_build(&dst_p, len, 1024, NULL, 8);
	pcs_poison(&dst_p);
	d_start(s, &d);
	CHECK_EQ(get_iov(s, id, &dst_p, 0, len, &got), 0);
	CHECK_EQ(got, len);
	d_check(s, &d, 0, len, -1, __LINE__);
	pcs_get(&dst_p, back, len);
	CHECK(memcmp(back, data, len) == 0);
	/* Pieces of 1000 bytes: aligned addresses, lengths not whole sectors. */
	pcs_build(&src_p, len, 1000, NULL, 0);
	pcs_put(&src_p, data);
	d_start(s, &d);
	CHECK_EQ(put_iov(s, id, &src_p, len), 0);
	d_check(s, &d, 0, len, -1, __LINE__);
	CHECK_EQ(store_get(s, id, 0, len, back, &got), 0);
	CHECK(memcmp(back, data, len) == 0);
	/* A GET from an offset that is not 4 KiB-aligned, into aligned pieces. */
	pcs_build(&dst_p, 70000, 1024, NULL, 0);
	pcs_poison(&dst_p);
	d_start(s, &d);
	CHECK_EQ(get_iov(s, id, &dst_p, 5000, 70000, &got), 0);
	CHECK_EQ(got, 70000);
	d_check(s, &d, 0, 70000, -1, __LINE__);
	pcs_get(&dst_p, back, got);
	CHECK(memcmp(back, data + 5000, got) == 0);
}

/* The -EINVAL rules of store.h. */
static void einval_cases(struct store *s)
{
	const uint8_t id[16] = { 0xe0 };
	static struct store_op op;
	uint32_t got;

	pcs_build(&src_p, 5000, 1024, NULL, 0);
	CHECK_EQ(put_iov(s, id, &src_p, 4999), -EINVAL);  /* sum != len */
	CHECK_EQ(put_iov(s, id, &src_p, 5001), -EINVAL);
	CHECK_EQ(put_iov(s, id, &src_p, 5000), 0);
	CHECK_EQ(get_iov(s, id, &src_p, 0, 5001, &got), -EINVAL); /* sum < len */
	CHECK_EQ(get_iov(s, id, &src_p, 0, 4000, &got), 0);
	CHECK_EQ(got, 4000);
	memset(&op, 0, sizeof(op));
	op.type = STORE_OP_WRITE;
	memcpy(op.id, id, 16);
	op.len = 5000;
	op.iov = src_p.iov;
	op.iovcnt = src_p.n;
	CHECK_EQ(run(s, &op), -EINVAL);
	op.type = STORE_OP_STAT;
	CHECK_EQ(run(s, &op), -EINVAL);
	op.type = STORE_OP_DELETE;
	CHECK_EQ(run(s, &op), -EINVAL);
	op.type = STORE_OP_PUT;
	op.buf = data; /* both */
	CHECK_EQ(run(s, &op), -EINVAL);
	op.buf = NULL;
	op.iovcnt = -1;
	CHECK_EQ(run(s, &op), -EINVAL);
	CHECK_EQ(store_delete(s, id), 0);
}

/* The last block's tail is zeros after a scatter PUT: a WRITE into the slack
 * (in place) and one past the end (a gap) read back as they should. */
static void padding_case(struct store *s)
{
	const uint8_t id[16] = { 0x9a };
	static uint8_t model[16384];
	uint8_t *blk = aligned_alloc(4096, 4096);
	struct iovec wiov = { blk, 4096 };
	struct store_counters c0, c1;
	struct store_stat st;
	uint32_t got;

	REQUIRE(blk);
	store_fixture_fill(model, 4097 + 1000, 7);
	pcs_build(&src_p, 4097 + 1000, 3584, NULL, 0);
	pcs_put(&src_p, model);
	REQUIRE(put_iov(s, id, &src_p, 4097 + 1000) == 0);
	/* In place: block 0 rewritten; the chunk crc comes from block crcs. */
	store_fixture_fill(blk, 4096, 8);
	memcpy(model, blk, 4096);
	store_get_counters(s, &c0);
	REQUIRE(store_write(s, id, 0, &wiov, 1, NULL) == 0);
	store_get_counters(s, &c1);
	CHECK_EQ(c1.writes_inplace - c0.writes_inplace, 1);
	/* A gap past the end reads as zeros. */
	wiov.iov_len = 10;
	REQUIRE(store_write(s, id, 7000, &wiov, 1, NULL) == 0);
	memset(model + 5097, 0, 7000 - 5097);
	memcpy(model + 7000, blk, 10);
	REQUIRE(store_stat(s, id, &st) == 0);
	CHECK_EQ(st.size, 7010);
	CHECK_EQ(st.crc, crc32c(0, model, 7010));
	CHECK_EQ(store_get(s, id, 0, sizeof(back), back, &got), 0);
	CHECK_EQ(got, 7010);
	CHECK(memcmp(back, model, 7010) == 0);
	free(blk);
}

/* On an in-memory disk whose free space is all 0xa5: the last block of a
 * scatter PUT is zero past the data, on disk (the partial sector through
 * the scratch, the rest padded). */
static void mem_padding_case(void)
{
	struct store_fixture_mem *m = store_fixture_mem_new(32 << 20, 1 << 20);
	struct store *s = store_fixture_mem_open(m);
	static const uint32_t sizes[] = { 5097, 4096 + 512, 3000, 511 };

	memset(m->data + s->g.data_off, 0xa5, s->g.nblocks * 4096);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		const uint8_t id[16] = { 0x3a, (uint8_t)i };
		uint32_t len = sizes[i], nb = (len + 4095) / 4096, got;
		const uint8_t *disk;

		store_fixture_fill(data, len, len);
		pcs_build(&src_p, len, 1024, NULL, 0);
		pcs_put(&src_p, data);
		REQUIRE(put_iov(s, id, &src_p, len) == 0);
		disk = m->data + s->g.data_off + (uint64_t)store_index_find(s, id)->block * 4096;
		CHECK(memcmp(disk, data, len) == 0);
		for (uint32_t b = len; b < nb * 4096; b++)
			if (disk[b]) {
				fprintf(stderr, "len %u: byte %u of the padding is %#x\n", len, b,
					disk[b]);
				test_failures++;
				break;
			}
		pcs_build(&dst_p, len, 3584, NULL, 0);
		pcs_poison(&dst_p);
		CHECK_EQ(get_iov(s, id, &dst_p, 0, len, &got), 0);
		pcs_get(&dst_p, back, len);
		CHECK(memcmp(back, data, len) == 0);
	}
	store_close(s);
	store_fixture_mem_free(m);
}

/* Several scatter PUTs, then GETs, in flight at once. */
static void inflight_case(struct store *s)
{
	enum { N = 8 };
	static struct pcs ps[N];
	static struct store_op ops[N];
	const uint32_t len = 3 * 4096 + 700;
	int want;

	for (int pass = 0; pass < 2; pass++) {
		want = done_count + N;
		for (int i = 0; i < N; i++) {
			pcs_build(&ps[i], len, i % 2 ? 1024 : 3584, NULL, 0);
			if (pass == 0) {
				store_fixture_fill(data, len, 300 + i);
				pcs_put(&ps[i], data);
			} else {
				pcs_poison(&ps[i]);
			}
			memset(&ops[i], 0, sizeof(ops[i]));
			ops[i].type = pass ? STORE_OP_GET : STORE_OP_PUT;
			ops[i].id[0] = 0x70;
			ops[i].id[1] = (uint8_t)i;
			ops[i].len = len;
			ops[i].iov = ps[i].iov;
			ops[i].iovcnt = ps[i].n;
			ops[i].cb = on_done;
			REQUIRE(store_submit(s, &ops[i]) == 0);
		}
		while (done_count < want)
			REQUIRE(store_poll(s, 1) >= 0);
		for (int i = 0; i < N; i++)
			CHECK_EQ(ops[i].res, 0);
	}
	for (int i = 0; i < N; i++) {
		store_fixture_fill(data, len, 300 + i);
		pcs_get(&ps[i], back, len);
		CHECK(memcmp(back, data, len) == 0);
		pcs_free(&ps[i]);
	}
}

/*
 * The default on a regular file (store_cfg.piece_align 0): the file system
 * would serialize writes of sub-block pieces, so a PUT of frame-sized
 * pieces is copied (counted) while one of whole 4 KiB-aligned blocks still
 * goes direct; GETs into frame-sized pieces stay direct (reads are not
 * serialized).
 */
static void file_default_case(const char *path)
{
	struct store_cfg cfg = { .path = path, .queue_depth = 32 };
	const uint8_t id[16] = { 0x7f, 1 };
	const uint32_t len = 64 * 1024;
	struct delta d;
	struct store *s;
	struct pcs p = { 0 };
	uint32_t got = 0;

	REQUIRE(store_open(&cfg, &s) == 0);
	store_fixture_fill(data, len, 77);
	pcs_build(&p, len, 3584, NULL, 0);
	pcs_put(&p, data);
	d_start(s, &d);
	CHECK_EQ(put_iov(s, id, &p, len), 0);
	d_check(s, &d, 0, len, -1, __LINE__);       /* copied: 3584-byte pieces */
	pcs_poison(&p);
	d_start(s, &d);
	CHECK_EQ(get_iov(s, id, &p, 0, len, &got), 0);
	CHECK_EQ(got, len);
	d_check(s, &d, 1, 0, -1, __LINE__);         /* read straight into them */
	pcs_get(&p, back, len);
	CHECK(memcmp(back, data, len) == 0);

	pcs_build(&p, len, 4096, NULL, 0);          /* 512-aligned allocations... */
	for (int i = 0; i < p.n; i++) {             /* ...made 4 KiB-aligned */
		free(p.own[i]);
		p.own[i] = aligned_alloc(4096, 4096);
		REQUIRE(p.own[i]);
		p.iov[i].iov_base = p.own[i];
	}
	store_fixture_fill(data, len, 78);
	pcs_put(&p, data);
	d_start(s, &d);
	CHECK_EQ(put_iov(s, id, &p, len), 0);
	d_check(s, &d, 1, 0, -1, __LINE__);         /* whole blocks: direct */
	pcs_free(&p);
	store_close(s);
}

/* A flipped bit in a block: GET through pieces fails, never wrong bytes. */
static void corrupt_case(const char *path, const struct store_cfg *cfg)
{
	const uint8_t big[16] = { 0xc0 }, small[16] = { 0xc1 };
	const uint32_t len = (1u << 20) + 1000;
	struct store *s;
	uint64_t off_big, off_small;
	uint32_t got;
	uint8_t b;
	int fd;

	REQUIRE(store_open(cfg, &s) == 0);
	store_fixture_fill(data, len, 42);
	pcs_build(&src_p, len, 3584, NULL, 0);
	pcs_put(&src_p, data);
	REQUIRE(put_iov(s, big, &src_p, len) == 0);
	pcs_build(&src_p, 3000, 1024, NULL, 0);
	pcs_put(&src_p, data);
	REQUIRE(put_iov(s, small, &src_p, 3000) == 0);
	off_big = s->g.data_off + ((uint64_t)store_index_find(s, big)->block + 5) * 4096 + 100;
	off_small = s->g.data_off + (uint64_t)store_index_find(s, small)->block * 4096 + 2999;
	store_close(s);
	fd = open(path, O_RDWR);
	REQUIRE(fd >= 0);
	REQUIRE(pread(fd, &b, 1, (off_t)off_big) == 1);
	b ^= 4;
	REQUIRE(pwrite(fd, &b, 1, (off_t)off_big) == 1);
	REQUIRE(pread(fd, &b, 1, (off_t)off_small) == 1);
	b ^= 4;
	REQUIRE(pwrite(fd, &b, 1, (off_t)off_small) == 1);
	REQUIRE(fsync(fd) == 0);
	close(fd);
	REQUIRE(store_open(cfg, &s) == 0);
	pcs_build(&dst_p, len, 1024, NULL, 0);
	CHECK_EQ(get_iov(s, big, &dst_p, 0, len, &got), -EBADMSG);
	CHECK_EQ(get_iov(s, big, &dst_p, 4 * 4096, 4096, &got), 0); /* block 4 is fine */
	pcs_get(&dst_p, back, 4096);
	CHECK(memcmp(back, data + 4 * 4096, 4096) == 0);
	CHECK_EQ(get_iov(s, big, &dst_p, 5 * 4096, 4096, &got), -EBADMSG);
	CHECK_EQ(get_iov(s, small, &dst_p, 0, 3000, &got), -EBADMSG);
	CHECK_EQ(store_delete(s, big), 0);
	CHECK_EQ(store_delete(s, small), 0);
	store_close(s);
}

/* All sizes and shapes on one open store; fixed = the region's requests go
 * as READV_FIXED/WRITEV_FIXED. */
static void size_matrix(struct store *s, int fixed)
{
	static const uint32_t sizes[] = { 0, 1, 511, 512, 4095, 4096, 4097, 1u << 20,
					  (1u << 20) + 1000, MC };
	static const uint32_t psz[] = { 3584, 1024 };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint8_t id[16] = { 0x5c, (uint8_t)i };

		for (int k = 0; k < 2; k++)
			for (int reg = 0; reg < 2; reg++)
				one_case(s, id, sizes[i], psz[k], reg, reg && fixed);
	}
	/* 8192 pieces of 512 bytes: 8 device requests of 1024 pieces. */
	{
		uint8_t id[16] = { 0x5d };

		one_case(s, id, MC, 512, 1, fixed);
		one_case(s, id, MC - 100, 512, 0, 0);
	}
}

int main(void)
{
	char *path = store_fixture_disk("store_scatter", 256 << 20);
	/* piece_align 512: sub-block pieces go direct, as on a block device
	 * (a file's default is file_default_case) */
	struct store_cfg cfg = { .path = path, .queue_depth = 32, .piece_align = 512 };
	struct store_fsck_report rep;
	struct store_info info;
	struct store *s;
	int reg;

	store_fixture_format(path, MC);
	region = aligned_alloc(4096, REGION);
	REQUIRE(region);

	/* 1: the kernel's best: fixed vectored requests where it has them. */
	REQUIRE(store_open(&cfg, &s) == 0);
	store_get_info(s, &info);
	printf("kernel READV_FIXED/WRITEV_FIXED: %s\n", info.vec_fixed ? "yes" : "no");
	reg = store_register_region(s, region, REGION);
	REQUIRE(reg >= 2);
	size_matrix(s, (int)info.vec_fixed);
	bounce_cases(s);
	einval_cases(s);
	padding_case(s);
	inflight_case(s);
	{
		/* The sync call with aligned pieces goes the same zero-copy way. */
		const uint8_t id[16] = { 0x51 };
		struct delta d;
		uint32_t got;

		store_fixture_fill(data, 10000, 3);
		pcs_build(&src_p, 10000, 1024, NULL, 0);
		pcs_put(&src_p, data);
		d_start(s, &d);
		CHECK_EQ(store_put(s, id, src_p.iov, src_p.n, NULL), 0);
		d_check(s, &d, 1, 10000 % 512, 0, __LINE__);
		CHECK_EQ(store_get(s, id, 0, 10000, back, &got), 0);
		CHECK(memcmp(back, data, 10000) == 0);
	}
	CHECK_EQ(store_unregister_region(s, reg), 0);
	store_close(s);
	CHECK_EQ(store_fsck(path, &rep), 0);

	/* 2: forced plain READV/WRITEV (a kernel before 6.15), region or not. */
	store_uring_no_vec_fixed = 1;
	REQUIRE(store_open(&cfg, &s) == 0);
	store_get_info(s, &info);
	CHECK_EQ(info.vec_fixed, 0);
	reg = store_register_region(s, region, REGION);
	REQUIRE(reg >= 2);
	{
		const uint8_t id[16] = { 0x5e };

		one_case(s, id, (1u << 20) + 1000, 3584, 1, 0);
		one_case(s, id, MC, 1024, 1, 0);
		one_case(s, id, 4097, 1024, 0, 0);
	}
	store_close(s);
	store_uring_no_vec_fixed = 0;

	mem_padding_case();
	file_default_case(path);
	corrupt_case(path, &cfg);
	CHECK_EQ(store_fsck(path, &rep), 0);
	CHECK_EQ(rep.stale, 0);
	pcs_free(&src_p);
	pcs_free(&dst_p);
	free(region);
	unlink(path);
	free(path);
	return test_done();
}
