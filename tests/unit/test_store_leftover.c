/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_store_leftover - leftover records and device errors must not decide
 * what a chunk is (four cases tests/sim's simulated disk found, rebuilt on
 * the in-memory fixture disk):
 *   - a leftover older record whose blocks a newer chunk reuses (a
 *     one-flush PUT can land on space freed by an erase the crash lost):
 *     open erases the leftover and keeps the blocks allocated to the chunk
 *     that owns them;
 *   - a read error while open compares a chunk's two records never makes
 *     the newer one lose;
 *   - a DELETE waiting for the erase of the chunk's older record fails
 *     (-EIO) when that erase fails, instead of leaving the older record as
 *     the chunk's only one; the chunk stays at its acknowledged version;
 *   - open of a disk whose reads fail says -EIO, not "not formatted".
 */
#include "lib/store_fixture.h"
#include "lib/test.h"
#include "common/crc32c.h"
#include "storage/store_int.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MEMSZ (32u << 20)

/* ---- a fixture disk whose requests fail on demand ---- */

static struct {
	int kind;               /* enum store_io_kind to fail; -1 = none */
	uint64_t off;           /* at this offset (UINT64_MAX: any) */
	uint32_t len;           /* of this length (0: any) */
	int count;              /* requests still to fail */
	int hits;               /* requests failed */
} inj = { .kind = -1 };
static struct store_io_req *failq[64];
static size_t nfail;

static void inject(int kind, uint64_t off, uint32_t len, int count)
{
	inj.kind = kind;
	inj.off = off;
	inj.len = len;
	inj.count = count;
	inj.hits = 0;
}

static int fq_queue(void *ctx, struct store_io_req *r)
{
	if (inj.count > 0 && r->kind == inj.kind && (inj.off == UINT64_MAX || r->off == inj.off) &&
	    (!inj.len || r->len == inj.len)) {
		inj.count--;
		inj.hits++;
		REQUIRE(nfail < 64);
		failq[nfail++] = r;
		return 0;
	}
	return store_fixture_mem_ops.queue(ctx, r);
}

/* Failed requests complete at the next reap that waits: like a slow
 * device, an erase the engine started in the background is still out when
 * the synchronous call that started it returns. */
static int fq_reap(void *ctx, int wait)
{
	struct store_io_req *d[64];
	size_t n = wait ? nfail : 0;
	int ret;

	memcpy(d, failq, n * sizeof(d[0]));
	nfail -= n;
	for (size_t i = 0; i < n; i++) {
		d[i]->res = -EIO;
		d[i]->done(d[i]);
	}
	ret = store_fixture_mem_ops.reap(ctx, wait);
	return ret < 0 ? ret : ret + (int)n;
}

static struct store_io_ops fops;

static struct store *open_mem(struct store_fixture_mem *m, int *err)
{
	struct store_cfg cfg = { .cluster = store_fixture_cluster, .queue_depth = 16 };
	struct store *s = NULL;

	*err = store_open_io(&cfg, &fops, m, 0, &s);
	return s;
}

static void mkid(uint8_t id[16], uint8_t tag)
{
	memset(id, 0, 16);
	id[0] = 0x1e;
	id[1] = tag;
}

static uint8_t data[3][4096];

/* ---- the cases ---- */

/*
 * Y owns block b; a leftover record of X (version 999, below X's live
 * version 1000) also names b, as when X v1's header erase was lost with the
 * crash after Y reused its block. Open meets the leftover first (a lower
 * slot), then Y, then X v2: the leftover must lose and be erased without
 * taking b from Y.
 */
static void leftover_on_live_blocks(void)
{
	struct store_fixture_mem *m = store_fixture_mem_new(MEMSZ, 64 << 10);
	struct store_fsck_report rep;
	struct store_info info;
	struct store_stat st;
	struct store *s;
	uint8_t a[16], x[16], y[16], back[4096];
	struct iovec iv;
	struct store_rec rec;
	uint64_t used, slot_off;
	uint32_t got, free_slot, yblk;
	int err;

	mkid(a, 6);
	mkid(x, 1);
	mkid(y, 2);
	s = open_mem(m, &err);
	REQUIRE(err == 0);
	iv = (struct iovec){ data[0], 4096 };
	REQUIRE(store_put(s, a, &iv, 1, NULL) == 0);
	free_slot = store_index_find(s, a)->slot;
	iv = (struct iovec){ data[1], 4096 };
	REQUIRE(store_put(s, y, &iv, 1, NULL) == 0);
	yblk = store_index_find(s, y)->block;
	iv = (struct iovec){ data[0], 4096 };
	REQUIRE(store_put_version(s, x, &iv, 1, 1000) == 0);
	REQUIRE(store_delete(s, a) == 0);
	REQUIRE(free_slot < store_index_find(s, y)->slot &&
		store_index_find(s, y)->slot < store_index_find(s, x)->slot);
	/* The leftover: X at version 1 on Y's block, crcs of what was X's. */
	memset(&rec, 0, sizeof(rec));
	memcpy(rec.id, x, 16);
	rec.version = 999;
	rec.size = 4096;
	rec.block = yblk;
	rec.nblocks = 1;
	rec.chunk_crc = crc32c(0, data[2], 4096);
	slot_off = s->g.rec_off + (uint64_t)free_slot * STORE_SLOT;
	{
		uint32_t crc = rec.chunk_crc;

		store_rec_encode(m->data + slot_off, &rec, &crc, s->g.rec_seed);
	}
	store_get_info(s, &info);
	used = info.used;
	store_close(s);

	CHECK_EQ(store_fsck_io(&store_fixture_mem_ops, m, &rep), 0); /* a leftover, no problem */
	CHECK_EQ(rep.stale, 1);
	s = open_mem(m, &err);
	REQUIRE(err == 0);
	store_get_info(s, &info);
	CHECK_EQ(info.used, used); /* Y's block is still allocated */
	REQUIRE(store_stat(s, x, &st) == 0);
	CHECK_EQ(st.version, 1000);
	/* Fill the disk: nothing may land on Y's block. */
	iv = (struct iovec){ data[2], 4096 };
	for (uint32_t n = 0; n < 100000; n++) {
		uint8_t f[16] = { 0xf1 };

		memcpy(f + 1, &n, sizeof(n));
		if (store_put(s, f, &iv, 1, NULL) < 0)
			break;
	}
	CHECK_EQ(store_get(s, y, 0, 4096, back, &got), 0);
	CHECK(memcmp(back, data[1], 4096) == 0);
	store_close(s);
	CHECK_EQ(store_fsck_io(&store_fixture_mem_ops, m, &rep), 0);
	CHECK_EQ(rep.stale, 0);
	store_fixture_mem_free(m);
}

/*
 * X v2 (live, lower slot) and a leftover X v1 (higher slot): a failed
 * read of X v2's record while open meets X v1 must not let X v1 win.
 */
static void scan_read_error(void)
{
	struct store_fixture_mem *m = store_fixture_mem_new(MEMSZ, 64 << 10);
	struct store_stat st;
	struct store *s;
	uint8_t a[16], x[16];
	struct iovec iv = { data[0], 4096 };
	uint64_t v1, v2, off1, off2;
	uint32_t slot1;
	uint8_t saved[STORE_SLOT];
	int err;

	mkid(a, 3);
	mkid(x, 4);
	s = open_mem(m, &err);
	REQUIRE(err == 0);
	REQUIRE(store_put(s, a, &iv, 1, NULL) == 0);
	REQUIRE(store_put(s, x, &iv, 1, &v1) == 0);
	slot1 = store_index_find(s, x)->slot;
	memcpy(saved, m->data + s->g.rec_off + (uint64_t)slot1 * STORE_SLOT, STORE_SLOT);
	REQUIRE(store_delete(s, a) == 0);
	iv.iov_base = data[1];
	REQUIRE(store_put(s, x, &iv, 1, &v2) == 0);
	off2 = s->g.rec_off + (uint64_t)store_index_find(s, x)->slot * STORE_SLOT;
	REQUIRE(store_index_find(s, x)->slot < slot1);
	off1 = s->g.rec_off + (uint64_t)slot1 * STORE_SLOT;
	store_close(s);
	/* X v1's erase "failed": its header is back. */
	memcpy(m->data + off1, saved, STORE_SLOT);
	/* Every single-record read of X v2's slot fails while opening (the
	 * record area itself is read in larger requests). */
	inject(STORE_IO_READ, off2, STORE_SLOT, 1000);
	s = open_mem(m, &err);
	inject(-1, 0, 0, 0);
	if (err < 0) {
		CHECK_EQ(err, -EIO); /* failing the open is fine; choosing wrong is not */
		s = open_mem(m, &err);
		REQUIRE(err == 0);
	}
	REQUIRE(store_stat(s, x, &st) == 0);
	CHECK_EQ(st.version, v2);
	store_close(s);
	store_fixture_mem_free(m);
}

/*
 * PUT X v2 acks before the erase of X v1's header, which then fails; a
 * DELETE of X submitted meanwhile waits for that erase. It must fail: its
 * own erase of X v2 would leave X v1 the chunk's only record.
 */
static void delete_after_failed_erase(void)
{
	struct store_fixture_mem *m = store_fixture_mem_new(MEMSZ, 64 << 10);
	struct store_stat st;
	struct store_info info;
	struct store *s;
	uint8_t x[16];
	struct iovec iv = { data[0], 4096 };
	uint64_t v1, v2, off1;
	int err;

	mkid(x, 5);
	s = open_mem(m, &err);
	REQUIRE(err == 0);
	REQUIRE(store_put(s, x, &iv, 1, &v1) == 0);
	off1 = s->g.rec_off + (uint64_t)store_index_find(s, x)->slot * STORE_SLOT;
	inject(STORE_IO_WRITE, off1, STORE_SLOT, 1); /* X v1's header erase */
	iv.iov_base = data[1];
	REQUIRE(store_put(s, x, &iv, 1, &v2) == 0);
	CHECK(s->erases_inflight > 0); /* the DELETE below has to wait for it */
	CHECK_EQ(store_delete(s, x), -EIO);
	CHECK_EQ(inj.hits, 1);
	store_get_info(s, &info);
	CHECK_EQ(info.failed, 1);
	store_close(s);
	s = open_mem(m, &err);
	REQUIRE(err == 0);
	REQUIRE(store_stat(s, x, &st) == 0);
	CHECK_EQ(st.version, v2); /* never v1 */
	store_close(s);
	store_fixture_mem_free(m);
}

static void unreadable_disk(void)
{
	struct store_fixture_mem *m = store_fixture_mem_new(MEMSZ, 64 << 10);
	struct store *s;
	int err;

	inject(STORE_IO_READ, UINT64_MAX, 0, 1000);
	s = open_mem(m, &err);
	inject(-1, 0, 0, 0);
	CHECK_EQ(err, -EIO);
	CHECK(s == NULL);
	s = open_mem(m, &err); /* the disk itself is fine */
	CHECK_EQ(err, 0);
	store_close(s);
	store_fixture_mem_free(m);
}

int main(void)
{
	fops = store_fixture_mem_ops;
	fops.queue = fq_queue;
	fops.reap = fq_reap;
	for (int i = 0; i < 3; i++)
		store_fixture_fill(data[i], 4096, (uint32_t)(20 + i));
	leftover_on_live_blocks();
	scan_read_error();
	delete_after_failed_erase();
	unreadable_disk();
	return test_done();
}
