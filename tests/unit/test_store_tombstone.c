/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_store_tombstone - DELETE with a version leaves a tombstone, and ops
 * carry explicit versions on the asynchronous road: the version table of
 * store.h row by row (PUT, WRITE, DELETE, PURGE against no record, a lower,
 * an equal and a higher live record or tombstone), GET/STAT/WRITE/LIST of
 * a tombstone, an idempotent DELETE retry that writes nothing, the info
 * counters (chunks, tombstones, max_version), tombstones and max_version
 * across a reopen, fsck counting tombstones; several versioned ops in
 * flight at once through store_submit/store_poll, a versioned scatter PUT
 * (op.iov) over a tombstone; a disk formatted without the tombstone feature
 * gaining it in both superblocks before its first tombstone record; and
 * info.failed once a device write failed.
 */
#include "lib/store_fixture.h"
#include "lib/test.h"
#include "storage/store_int.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* counts the completions of several ops submitted together */
static void on_done(struct store_op *op)
{
	(*(int *)op->user)++;
}

static void mkid(uint8_t id[16], uint8_t tag)
{
	memset(id, 0, 16);
	id[0] = 0x70;
	id[1] = tag;
}

/* op_init - a zeroed op of type on id with version (data: buf, len). */
static void op_init(struct store_op *op, int type, const uint8_t id[16], uint64_t version,
		    void *buf, uint32_t len)
{
	memset(op, 0, sizeof(*op));
	op->type = type;
	memcpy(op->id, id, 16);
	op->version = version;
	op->buf = buf;
	op->len = op->buf_cap = len;
}

/* vop - run one op of type with version; returns its result. */
static int vop(struct store *s, int type, const uint8_t id[16], uint64_t version, void *buf,
	       uint32_t len, uint64_t *out_version)
{
	struct store_op op;
	int ret;

	op_init(&op, type, id, version, buf, len);
	ret = store_fixture_run(s, &op);
	if (out_version)
		*out_version = op.version;
	return ret;
}

/* expect_tomb - STAT says -ENOENT with the tombstone flag and version v
 * (v = 0: no record at all, flags 0). */
static void expect_tomb(struct store *s, const uint8_t id[16], uint64_t v, int line)
{
	struct store_stat st;
	int ret;

	memset(&st, 0xee, sizeof(st));
	ret = store_stat(s, id, &st);
	if (ret != -ENOENT || st.version != v || st.flags != (v ? STORE_STAT_TOMBSTONE : 0u) ||
	    st.size != 0) {
		fprintf(stderr, "line %d: stat %d version %llu flags %u, want -ENOENT v%llu\n",
			line, ret, (unsigned long long)st.version, st.flags, (unsigned long long)v);
		test_failures++;
	}
	/* The index says the same without IO. */
	struct store_list_entry le;

	ret = store_lookup(s, id, &le);
	if (v ? ret != 0 || le.version != v || le.flags != STORE_LIST_TOMBSTONE || le.size
	      : ret != -ENOENT) {
		fprintf(stderr, "line %d: lookup %d version %llu flags %u, want v%llu\n", line, ret,
			(unsigned long long)le.version, le.flags, (unsigned long long)v);
		test_failures++;
	}
}

static void expect_live(struct store *s, const uint8_t id[16], uint64_t v, const void *data,
			uint32_t len, int line)
{
	static uint8_t back[65536];
	struct store_stat st;
	uint32_t got = 0;

	if (store_stat(s, id, &st) != 0 || st.version != v || st.size != len || st.flags ||
	    store_get(s, id, 0, sizeof(back), back, &got) != 0 || got != len ||
	    memcmp(back, data, len) != 0) {
		fprintf(stderr, "line %d: chunk not live at v%llu (has v%llu size %llu)\n", line,
			(unsigned long long)v, (unsigned long long)st.version,
			(unsigned long long)st.size);
		test_failures++;
	}
	struct store_list_entry le;

	if (store_lookup(s, id, &le) != 0 || le.version != v || le.size != len || le.flags ||
	    memcmp(le.id, id, 16) != 0) {
		fprintf(stderr, "line %d: lookup disagrees with stat\n", line);
		test_failures++;
	}
}

/* The version table of store.h, and what a tombstone looks like. */
static void semantics(struct store *s)
{
	uint8_t a[16], b[16], c[16], d[16], e[16], f[16], zero[16] = { 0 };
	uint8_t data[100], back[100];
	struct store_counters c0, c1;
	struct store_info info;
	uint64_t v;
	uint32_t got;

	store_fixture_fill(data, sizeof(data), 3);
	mkid(a, 1);
	mkid(b, 2);
	mkid(c, 3);
	mkid(d, 4);
	mkid(e, 5);
	mkid(f, 6);

	/* DELETE with a version over a live chunk. */
	CHECK_EQ(vop(s, STORE_OP_PUT, a, 10, data, 100, &v), 0);
	CHECK_EQ(v, 10);
	CHECK_EQ(vop(s, STORE_OP_DELETE, a, 5, NULL, 0, NULL), -ESTALE);  /* c > v */
	CHECK_EQ(vop(s, STORE_OP_DELETE, a, 10, NULL, 0, NULL), -ESTALE); /* live c == v */
	expect_live(s, a, 10, data, 100, __LINE__);
	CHECK_EQ(vop(s, STORE_OP_DELETE, a, 12, NULL, 0, &v), 0);
	CHECK_EQ(v, 12);
	/* A tombstone reads as an absent chunk, with its version in STAT. */
	CHECK_EQ(store_get(s, a, 0, 100, back, &got), -ENOENT);
	expect_tomb(s, a, 12, __LINE__);
	CHECK_EQ(vop(s, STORE_OP_WRITE, a, 0, data, 10, NULL), -ENOENT);
	CHECK_EQ(vop(s, STORE_OP_WRITE, a, 20, data, 10, NULL), -ENOENT);
	{
		struct iovec iov = { data, 10 };

		CHECK_EQ(store_write(s, a, 0, &iov, 1, NULL), -ENOENT);
	}
	/* The same DELETE again (a retry): success, and nothing written. */
	store_get_counters(s, &c0);
	CHECK_EQ(vop(s, STORE_OP_DELETE, a, 12, NULL, 0, &v), 0);
	CHECK_EQ(v, 12);
	CHECK_EQ(store_delete_version(s, a, 12), 0);
	store_get_counters(s, &c1);
	CHECK_EQ(c1.bytes_written, c0.bytes_written);
	CHECK_EQ(c1.flushes, c0.flushes);
	CHECK_EQ(c1.deletes, c0.deletes + 2);
	CHECK_EQ(vop(s, STORE_OP_DELETE, a, 11, NULL, 0, NULL), -ESTALE); /* c > v */
	/* PUT over a tombstone: only above it. */
	CHECK_EQ(vop(s, STORE_OP_PUT, a, 12, data, 100, NULL), -ESTALE);
	CHECK_EQ(vop(s, STORE_OP_PUT, a, 11, data, 100, NULL), -ESTALE);
	CHECK_EQ(store_put_version(s, a, &(struct iovec){ data, 100 }, 1, 12), -ESTALE);
	/* A newer tombstone over an older one. */
	CHECK_EQ(vop(s, STORE_OP_DELETE, a, 14, NULL, 0, NULL), 0);
	expect_tomb(s, a, 14, __LINE__);
	/* PURGE: only at the record's version. */
	CHECK_EQ(vop(s, STORE_OP_PURGE, a, 0, NULL, 0, NULL), -EINVAL);
	CHECK_EQ(vop(s, STORE_OP_PURGE, a, 13, NULL, 0, NULL), -ESTALE);
	CHECK_EQ(vop(s, STORE_OP_PURGE, a, 15, NULL, 0, NULL), -ESTALE);
	CHECK_EQ(store_purge(s, a, 14), 0);
	expect_tomb(s, a, 0, __LINE__); /* gone: -ENOENT, version 0, no flag */
	CHECK_EQ(store_purge(s, a, 14), -ENOENT);
	CHECK_EQ(vop(s, STORE_OP_DELETE, a, 0, NULL, 0, NULL), -ENOENT);

	/* A delete of a chunk the store never had leaves a tombstone too (a
	 * replica that missed the PUT must still refuse it later). */
	CHECK_EQ(store_delete_version(s, b, 7), 0);
	expect_tomb(s, b, 7, __LINE__);
	CHECK_EQ(store_put_version(s, b, &(struct iovec){ data, 50 }, 1, 6), -ESTALE);
	/* PUT with version 0: the clock's next, above every version installed. */
	CHECK_EQ(vop(s, STORE_OP_PUT, b, 0, data, 50, &v), 0);
	CHECK(v > 14);
	expect_live(s, b, v, data, 50, __LINE__);

	/* DELETE with version 0 removes a live chunk or a tombstone alike. */
	CHECK_EQ(vop(s, STORE_OP_PUT, c, 30, data, 30, NULL), 0);
	CHECK_EQ(store_delete(s, c), 0);
	expect_tomb(s, c, 0, __LINE__);
	CHECK_EQ(store_delete_version(s, d, 40), 0);
	CHECK_EQ(store_delete(s, d), 0);
	expect_tomb(s, d, 0, __LINE__);
	CHECK_EQ(store_delete(s, d), -ENOENT);

	/* PUT with a higher explicit version over a tombstone; WRITE with one. */
	CHECK_EQ(store_delete_version(s, e, 50), 0);
	CHECK_EQ(vop(s, STORE_OP_PUT, e, 51, data, 60, NULL), 0);
	expect_live(s, e, 51, data, 60, __LINE__);
	CHECK_EQ(vop(s, STORE_OP_WRITE, e, 51, data, 5, NULL), -ESTALE);
	{
		struct store_op op;

		op_init(&op, STORE_OP_WRITE, e, 52, data + 60, 40);
		op.off = 60; /* appends */
		CHECK_EQ(store_fixture_run(s, &op), 0);
		CHECK_EQ(op.version, 52);
	}
	expect_live(s, e, 52, data, 100, __LINE__);

	/* PURGE of a live chunk at its version. */
	CHECK_EQ(vop(s, STORE_OP_PUT, f, 60, data, 20, NULL), 0);
	CHECK_EQ(store_purge(s, f, 59), -ESTALE);
	expect_live(s, f, 60, data, 20, __LINE__);
	CHECK_EQ(store_purge(s, f, 60), 0);
	expect_tomb(s, f, 0, __LINE__);

	/* The all-zero id names nothing (it is the LIST cursor). */
	CHECK_EQ(store_delete_version(s, zero, 70), -EINVAL);

	store_get_info(s, &info);
	CHECK_EQ(info.chunks, 2);     /* b, e */
	CHECK_EQ(info.tombstones, 0);
	CHECK_EQ(info.max_version, 60);
	CHECK_EQ(info.failed, 0);
}

/* list_all - every entry in id order; returns how many (<= max). */
static uint32_t list_all(struct store *s, struct store_list_entry *out, uint32_t max)
{
	uint8_t cur[16] = { 0 };
	uint32_t n, total = 0;

	while (total < max && store_list(s, cur, out + total, 3, &n) == 0 && n)
		total += n;
	return total;
}

/* Tombstones in LIST, the counters, and all of it across a reopen. */
static void persistence(const char *path)
{
	struct store_cfg cfg = { .path = path, .cluster = store_fixture_cluster };
	struct store_list_entry le[16];
	struct store_fsck_report rep;
	struct store_info info;
	struct store *s;
	uint8_t id[16], data[10] = "0123456789";
	uint32_t n;

	REQUIRE(store_open(&cfg, &s) == 0);
	/* ids 0x10..0x15: live, tombstone, live, tombstone over a live one,
	 * tombstone over a tombstone, and the highest version a tombstone. */
	for (uint8_t t = 0x10; t < 0x16; t++) {
		mkid(id, t);
		REQUIRE(vop(s, STORE_OP_PUT, id, 0x100 + t, data, 10, NULL) == 0);
	}
	mkid(id, 0x11);
	CHECK_EQ(store_delete_version(s, id, 300), 0);
	mkid(id, 0x13);
	CHECK_EQ(store_delete_version(s, id, 301), 0);
	mkid(id, 0x14);
	CHECK_EQ(store_delete_version(s, id, 302), 0);
	CHECK_EQ(store_delete_version(s, id, 303), 0);
	mkid(id, 0x15);
	CHECK_EQ(store_delete_version(s, id, 1000), 0);
	store_get_info(s, &info);
	CHECK_EQ(info.chunks, 4);     /* b, e of semantics(), 0x10, 0x12 */
	CHECK_EQ(info.tombstones, 4);
	CHECK_EQ(info.max_version, 1000);
	for (int round = 0; round < 2; round++) {
		static const struct { uint8_t t; uint64_t v; int tomb; } want[] = {
			{ 0x10, 0x110, 0 }, { 0x11, 300, 1 }, { 0x12, 0x112, 0 },
			{ 0x13, 301, 1 }, { 0x14, 303, 1 }, { 0x15, 1000, 1 },
		};

		n = list_all(s, le, 16);
		CHECK_EQ(n, 8);
		for (uint32_t k = 0, w = 0; k < n; k++) {
			if (le[k].id[1] < 0x10)
				continue; /* semantics()' two */
			REQUIRE(w < 6);
			CHECK_EQ(le[k].id[1], want[w].t);
			CHECK_EQ(le[k].version, want[w].v);
			CHECK_EQ(le[k].flags, want[w].tomb ? STORE_LIST_TOMBSTONE : 0u);
			CHECK_EQ(le[k].size, want[w].tomb ? 0 : 10);
			w++;
		}
		mkid(id, 0x14);
		expect_tomb(s, id, 303, __LINE__);
		mkid(id, 0x12);
		expect_live(s, id, 0x112, data, 10, __LINE__);
		store_get_info(s, &info);
		CHECK_EQ(info.chunks, 4);
		CHECK_EQ(info.tombstones, 4);
		/* After the reopen: the clock is seeded from the highest record,
		 * a tombstone here. */
		CHECK_EQ(info.max_version, 1000);
		store_close(s);
		CHECK_EQ(store_fsck(path, &rep), 0);
		CHECK_EQ(rep.chunks, 4);
		CHECK_EQ(rep.tombstones, 4);
		CHECK_EQ(rep.stale, 0);
		REQUIRE(store_open(&cfg, &s) == 0);
	}
	/* The next local version is above the tombstone's. */
	{
		uint64_t v = 0;

		mkid(id, 0x16);
		CHECK_EQ(vop(s, STORE_OP_PUT, id, 0, data, 1, &v), 0);
		CHECK_EQ(v, 1001);
	}
	store_close(s);
}

/* Versioned ops in flight together on the asynchronous interface. */
static void async_ops(struct store *s)
{
	static uint8_t buf[8][4096] __attribute__((aligned(4096)));
	struct store_op ops[8], busy;
	uint8_t id[16];
	int done = 0;

	for (int i = 0; i < 8; i++) {
		mkid(id, (uint8_t)(0x30 + i));
		store_fixture_fill(buf[i], 4096, (uint32_t)i);
		/* Even ids: a PUT of version 500 + i; odd ids: a tombstone. */
		if (i % 2 == 0)
			op_init(&ops[i], STORE_OP_PUT, id, 500 + (uint64_t)i, buf[i], 4096);
		else
			op_init(&ops[i], STORE_OP_DELETE, id, 500 + (uint64_t)i, NULL, 0);
		ops[i].cb = on_done;
		ops[i].user = &done;
		REQUIRE(store_submit(s, &ops[i]) == 0);
	}
	/* A second mutation of an id in flight: -EBUSY, before any version rule. */
	busy = ops[1];
	busy.version = 1;
	CHECK_EQ(store_submit(s, &busy), -EBUSY);
	CHECK_EQ(store_inflight(s), 8);
	while (done < 8)
		REQUIRE(store_poll(s, 1) >= 0);
	for (int i = 0; i < 8; i++) {
		CHECK_EQ(ops[i].res, 0);
		CHECK_EQ(ops[i].version, 500 + (uint64_t)i);
		mkid(id, (uint8_t)(0x30 + i));
		if (i % 2 == 0)
			expect_live(s, id, 500 + (uint64_t)i, buf[i], 4096, __LINE__);
		else
			expect_tomb(s, id, 500 + (uint64_t)i, __LINE__);
	}
	/* Refusals come from store_submit at once; the callback never runs. */
	done = 0;
	mkid(id, 0x30);
	op_init(&busy, STORE_OP_PUT, id, 500, buf[0], 4096);
	busy.cb = on_done;
	busy.user = &done;
	CHECK_EQ(store_submit(s, &busy), -ESTALE);
	mkid(id, 0x31);
	op_init(&busy, STORE_OP_STAT, id, 0, NULL, 0);
	busy.cb = on_done;
	busy.user = &done;
	CHECK_EQ(store_submit(s, &busy), -ENOENT);
	CHECK_EQ(busy.stat.flags, STORE_STAT_TOMBSTONE);
	CHECK_EQ(busy.stat.version, 501);
	op_init(&busy, STORE_OP_PURGE, id, 499, NULL, 0);
	busy.cb = on_done;
	busy.user = &done;
	CHECK_EQ(store_submit(s, &busy), -ESTALE);
	CHECK_EQ(store_poll(s, 0), 0);
	CHECK_EQ(done, 0);
	CHECK_EQ(store_inflight(s), 0);
}

/* A scatter PUT (op.iov) with an explicit version over a tombstone. */
static void scatter_put(struct store *s)
{
	static uint8_t mem[3][4096] __attribute__((aligned(4096)));
	static uint8_t flat[2 * 4096 + 700];
	struct iovec iov[3];
	struct store_op op;
	struct store_counters c0, c1;
	uint8_t id[16];

	mkid(id, 0x40);
	store_fixture_fill(flat, sizeof(flat), 40);
	/* Whole 4 KiB pieces but the last: direct even on a file disk. */
	for (int i = 0; i < 3; i++) {
		iov[i].iov_base = mem[i];
		iov[i].iov_len = i < 2 ? 4096 : 700;
		memcpy(mem[i], flat + i * 4096, iov[i].iov_len);
	}
	CHECK_EQ(store_delete_version(s, id, 600), 0);
	memset(&op, 0, sizeof(op));
	op.type = STORE_OP_PUT;
	memcpy(op.id, id, 16);
	op.iov = iov;
	op.iovcnt = 3;
	op.len = sizeof(flat);
	op.version = 600; /* equal to the tombstone's: refused */
	CHECK_EQ(store_fixture_run(s, &op), -ESTALE);
	op.version = 601;
	store_get_counters(s, &c0);
	CHECK_EQ(store_fixture_run(s, &op), 0);
	store_get_counters(s, &c1);
	CHECK_EQ(op.version, 601);
	CHECK_EQ(c1.direct_ops, c0.direct_ops + 1); /* the pieces went to the disk as they are */
	expect_live(s, id, 601, flat, sizeof(flat), __LINE__);
	op.version = 601; /* the same scatter PUT again: now a live c == v */
	CHECK_EQ(store_fixture_run(s, &op), -ESTALE);
}

/* ---- a disk formatted before the tombstone feature; a failing disk ---- */

static int fail_on;                  /* writes and flushes fail with -EIO */
static struct store_io_req *failq[64];
static size_t nfail;

static int fq_queue(void *ctx, struct store_io_req *r)
{
	if (fail_on && r->kind != STORE_IO_READ) {
		REQUIRE(nfail < 64);
		failq[nfail++] = r;
		return 0;
	}
	return store_fixture_mem_ops.queue(ctx, r);
}

static int fq_reap(void *ctx, int wait)
{
	struct store_io_req *d[64];
	size_t n = nfail;
	int ret;

	memcpy(d, failq, n * sizeof(d[0]));
	nfail = 0;
	for (size_t i = 0; i < n; i++) {
		d[i]->res = -EIO;
		d[i]->done(d[i]);
	}
	ret = store_fixture_mem_ops.reap(ctx, wait);
	return ret < 0 ? ret : ret + (int)n;
}

/* sb_incompat - the incompat features of superblock copy k (0, 1) on m. */
static uint64_t sb_incompat(const struct store_fixture_mem *m, int k)
{
	struct store_sb_disk sb;
	struct store_geom g;
	uint64_t off = k ? m->size - STORE_BLOCK : 0;

	REQUIRE(store_sb_decode(m->data + off, STORE_BLOCK, &sb, &g) == 0);
	return sb.incompat;
}

static void old_disk(void)
{
	struct store_fixture_mem *m = store_fixture_mem_new(32 << 20, 64 << 10);
	struct store_io_ops ops = store_fixture_mem_ops;
	struct store_cfg cfg = { .cluster = store_fixture_cluster, .queue_depth = 16 };
	struct store_sb_disk sb;
	struct store_geom g;
	struct store_info info;
	struct store *s;
	uint8_t id[16], data[300];
	uint64_t v;

	ops.queue = fq_queue;
	ops.reap = fq_reap;
	/* Both superblocks as a build before tombstones wrote them. */
	REQUIRE(store_sb_decode(m->data, STORE_BLOCK, &sb, &g) == 0);
	CHECK(g.incompat & STORE_INCOMPAT_TOMBSTONE); /* format sets it */
	g.incompat = STORE_INCOMPAT_JOURNAL | STORE_INCOMPAT_ONEFLUSH;
	memset(m->data, 0, STORE_BLOCK);
	store_sb_encode(m->data, sb.cluster, sb.node, sb.disk, &g, sb.generation, sb.created);
	memcpy(m->data + m->size - STORE_BLOCK, m->data, STORE_BLOCK);

	REQUIRE(store_open_io(&cfg, &ops, m, 0, &s) == 0);
	store_fixture_fill(data, sizeof(data), 9);
	mkid(id, 0x50);
	CHECK_EQ(vop(s, STORE_OP_PUT, id, 0, data, 300, &v), 0);
	CHECK_EQ(store_delete(s, id), 0); /* a plain delete needs no feature */
	CHECK_EQ(vop(s, STORE_OP_PUT, id, 0, data, 300, &v), 0);
	CHECK_EQ(sb_incompat(m, 0) & STORE_INCOMPAT_TOMBSTONE, 0);
	CHECK_EQ(sb_incompat(m, 1) & STORE_INCOMPAT_TOMBSTONE, 0);
	/* The first tombstone: both copies gain the feature first. */
	CHECK_EQ(store_delete_version(s, id, v + 1), 0);
	CHECK(sb_incompat(m, 0) & STORE_INCOMPAT_TOMBSTONE);
	CHECK(sb_incompat(m, 1) & STORE_INCOMPAT_TOMBSTONE);
	/* What a build that knows only JOURNAL and ONEFLUSH refuses. */
	CHECK(sb_incompat(m, 0) & ~(STORE_INCOMPAT_JOURNAL | STORE_INCOMPAT_ONEFLUSH));
	expect_tomb(s, id, v + 1, __LINE__);
	store_close(s);
	REQUIRE(store_open_io(&cfg, &ops, m, 0, &s) == 0);
	expect_tomb(s, id, v + 1, __LINE__);

	/* A device write fails: the store refuses mutations and says so. */
	store_get_info(s, &info);
	CHECK_EQ(info.failed, 0);
	fail_on = 1;
	mkid(id, 0x51);
	CHECK_EQ(vop(s, STORE_OP_PUT, id, 0, data, 300, NULL), -EIO);
	fail_on = 0;
	store_get_info(s, &info);
	CHECK_EQ(info.failed, 1);
	mkid(id, 0x50);
	CHECK_EQ(store_delete_version(s, id, v + 5), -EIO);
	store_close(s);
	store_fixture_mem_free(m);
}

int main(void)
{
	char *path = store_fixture_disk("store_tombstone", 32 << 20);
	struct store_cfg cfg = { .path = path, .cluster = store_fixture_cluster };
	struct store *s;

	store_fixture_format(path, 64 << 10);
	REQUIRE(store_open(&cfg, &s) == 0);
	semantics(s);
	store_close(s);
	persistence(path);
	REQUIRE(store_open(&cfg, &s) == 0);
	async_ops(s);
	scatter_put(s);
	store_close(s);
	old_disk();
	unlink(path);
	free(path);
	return test_done();
}
