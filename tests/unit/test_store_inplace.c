/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_store_inplace - a 4 KiB-aligned WRITE is done in place and costs
 * about the bytes written, not the chunk size: device bytes and flushes are
 * counted exactly through the ops table (an in-memory disk), so the figures
 * are deterministic. Also: the content and crc after in-place writes (the
 * slack of the last block, growth past the extent by copy-on-write), a
 * reopen and fsck, GET/STAT waiting for an in-place WRITE in flight, a PUT
 * committing with one flush, and a disk formatted without the journal and
 * one-flush features (every WRITE copies, a PUT flushes twice).
 */
#include "lib/store_fixture.h"
#include "lib/test.h"
#include "common/crc32c.h"
#include "storage/store_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEV (64ull << 20)
#define MC (4u << 20)

static uint8_t model[MC], buf[MC], back[MC];
static uint32_t msize;

/* WRITE [off, off+len) with fresh bytes, mirror it in the model; returns the
 * device bytes written, checks the flushes and whether it went in place. */
static uint64_t wr(struct store *s, struct store_fixture_mem *m, const uint8_t id[16],
		   uint32_t off, uint32_t len, int inplace)
{
	struct store_counters c0, c1;
	uint64_t b0, f0, v0, v1;
	struct store_stat st;
	struct iovec iov = { buf, len };

	store_fixture_fill(buf, len, off ^ len);
	REQUIRE(store_stat(s, id, &st) == 0);
	v0 = st.version;
	store_get_counters(s, &c0);
	/* Through the in-memory ops table when there is one, else the
	 * store's own count of what it gave the device. */
	b0 = m ? m->bytes_written : c0.bytes_written;
	f0 = m ? m->flushes : c0.flushes;
	REQUIRE(store_write(s, id, off, &iov, 1, &v1) == 0);
	store_get_counters(s, &c1);
	CHECK(v1 > v0);
	CHECK_EQ(c1.writes_inplace - c0.writes_inplace, (uint64_t)inplace);
	if (inplace) /* temp blocks + journal, then in place */
		CHECK_EQ((m ? m->flushes : c1.flushes) - f0, 2);
	if (off > msize)
		memset(model + msize, 0, off - msize);
	memcpy(model + off, buf, len);
	if (off + len > msize)
		msize = off + len;
	return (m ? m->bytes_written : c1.bytes_written) - b0;
}

/* The chunk reads back as the model, with the model's crc. */
static void check(struct store *s, const uint8_t id[16])
{
	struct store_stat st;
	uint32_t got = 0;

	REQUIRE(store_stat(s, id, &st) == 0);
	CHECK_EQ(st.size, msize);
	CHECK_EQ(st.crc, crc32c(0, model, msize));
	REQUIRE(store_get(s, id, 0, MC, back, &got) == 0);
	CHECK_EQ(got, msize);
	CHECK(memcmp(back, model, msize) == 0);
}

static void on_done(struct store_op *op)
{
	(*(int *)op->user)++;
}

/* Many ops in flight at once on 8 chunks: PUTs, aligned (in place) and
 * unaligned WRITEs, GETs that may find an in-place WRITE running (-EAGAIN,
 * retried), with the one-flush watermark raised often; every chunk ends as
 * its model, across a reopen, and fsck is clean. */
#define NC 8
#define CSZ (64u << 10)
static void concurrent(void)
{
	static uint8_t cm[NC][CSZ], wb[NC][CSZ] __attribute__((aligned(4096)));
	static uint8_t gb[NC][CSZ] __attribute__((aligned(4096)));
	struct store_fixture_mem *m = store_fixture_mem_new(DEV, CSZ);
	struct store *s = store_fixture_mem_open(m);
	struct store_op w[NC], g[NC];
	uint32_t csz[NC], rng = 12345;
	int later[NC];
	int wdone = 0, gdone = 0, again = 0;
	struct store_fsck_report rep;
	struct store_counters c;

	store_verify_bytes_override = 100000;
	for (int i = 0; i < NC; i++) {
		struct iovec iov = { cm[i], CSZ };
		uint8_t id[16] = { 0x77, (uint8_t)i };

		store_fixture_fill(cm[i], CSZ, (uint32_t)i);
		csz[i] = CSZ;
		REQUIRE(store_put(s, id, &iov, 1, NULL) == 0);
	}
	for (int round = 0; round < 60; round++) {
		int want = 0;

		wdone = gdone = 0;
		for (int i = 0; i < NC; i++) {
			uint32_t kind = (rng = rng * 1103515245u + 12345u) >> 16;
			uint32_t off, len;
			int r;

			memset(&w[i], 0, sizeof(w[i]));
			w[i].id[0] = 0x77;
			w[i].id[1] = (uint8_t)i;
			w[i].cb = on_done;
			w[i].user = &wdone;
			w[i].buf = wb[i];
			if (kind % 3 == 0) { /* PUT of a new size */
				w[i].type = STORE_OP_PUT;
				len = 4096 * (1 + kind % 16) - (kind & 1) * 100;
				off = 0;
			} else { /* WRITE: aligned (in place) or unaligned */
				w[i].type = STORE_OP_WRITE;
				off = (kind >> 4) % csz[i];
				len = 1 + (kind >> 8) % 9000;
				if (kind % 3 == 1) {
					off &= ~4095u;
					len = 4096 * (1 + (kind >> 8) % 3);
				}
				if (off + len > CSZ)
					len = CSZ - off;
			}
			w[i].off = off;
			w[i].len = w[i].buf_cap = len;
			store_fixture_fill(wb[i], len, kind);
			while ((r = store_submit(s, &w[i])) == -EAGAIN) /* bounce busy */
				REQUIRE(store_poll(s, 1) >= 0);
			REQUIRE(r == 0);
			want++;
			/* Model: as if it completes (all succeed). */
			if (w[i].type == STORE_OP_PUT) {
				memcpy(cm[i], wb[i], len);
				csz[i] = len;
			} else {
				if (off > csz[i])
					memset(cm[i] + csz[i], 0, off - csz[i]);
				memcpy(cm[i] + off, wb[i], len);
				if (off + len > csz[i])
					csz[i] = off + len;
			}
			/* A GET of the same chunk right behind it. */
			memset(&g[i], 0, sizeof(g[i]));
			g[i].type = STORE_OP_GET;
			memcpy(g[i].id, w[i].id, 16);
			g[i].buf = gb[i];
			g[i].len = g[i].buf_cap = CSZ;
			g[i].cb = on_done;
			g[i].user = &gdone;
		}
		while (wdone < want)
			REQUIRE(store_poll(s, 1) >= 0);
		for (int i = 0; i < NC; i++)
			CHECK_EQ(w[i].res, 0);
		/* Now GETs while a fresh in-place WRITE of block 0 runs. */
		for (int i = 0; i < NC; i++) {
			int r;

			w[i].type = STORE_OP_WRITE;
			w[i].version = 0; /* the clock's next, not the last result */
			w[i].off = 0;
			w[i].len = w[i].buf_cap = 4096;
			store_fixture_fill(wb[i], 4096, (uint32_t)(round * NC + i));
			memcpy(cm[i], wb[i], 4096);
			if (csz[i] < 4096)
				csz[i] = 4096;
			REQUIRE(store_submit(s, &w[i]) == 0);
			r = store_submit(s, &g[i]);
			later[i] = r == -EAGAIN; /* submit after the WRITE */
			again += later[i];
			REQUIRE(r == 0 || r == -EAGAIN);
		}
		wdone = 0;
		while (wdone < NC || gdone < NC) {
			for (int i = 0; i < NC; i++)
				if (later[i] && store_submit(s, &g[i]) == 0)
					later[i] = 0;
			REQUIRE(store_poll(s, 1) >= 0);
		}
		for (int i = 0; i < NC; i++) {
			CHECK_EQ(g[i].res, 0);
			CHECK_EQ(g[i].got, csz[i]);
			CHECK(memcmp(gb[i], cm[i], csz[i]) == 0);
		}
	}
	store_get_counters(s, &c);
	printf("concurrent: %llu writes (%llu in place), GETs told to wait: %d\n",
	       (unsigned long long)c.writes, (unsigned long long)c.writes_inplace, again);
	CHECK(c.writes_inplace > 0);
	CHECK(again > 0);
	store_close(s);
	s = store_fixture_mem_open(m);
	for (int i = 0; i < NC; i++) {
		uint8_t id[16] = { 0x77, (uint8_t)i };
		uint32_t got = 0;

		REQUIRE(store_get(s, id, 0, CSZ, back, &got) == 0);
		CHECK_EQ(got, csz[i]);
		CHECK(memcmp(back, cm[i], csz[i]) == 0);
	}
	store_close(s);
	CHECK_EQ(store_fsck_io(&store_fixture_mem_ops, m, &rep), 0);
	CHECK_EQ(rep.stale, 0);
	store_fixture_mem_free(m);
	store_verify_bytes_override = 0;
}

int main(void)
{
	struct store_fixture_mem *m = store_fixture_mem_new(DEV, MC);
	struct store *s = store_fixture_mem_open(m);
	const uint8_t id[16] = { 0x1a };
	const uint32_t rec = store_fmt_rec_slots(MC / 4096) * 512; /* 9 slots */
	struct store_fsck_report rep;
	struct iovec iov;
	uint64_t cost;

	/* A 4 MiB chunk: data and record under one flush (ONEFLUSH). */
	store_fixture_fill(model, MC, 1);
	msize = MC;
	iov = (struct iovec){ model, MC };
	{
		uint64_t f0 = m->flushes;

		REQUIRE(store_put(s, id, &iov, 1, NULL) == 0);
		CHECK_EQ(m->flushes - f0, 1);
	}

	/* Aligned writes: 2x the bytes (temporary extent + in place), the
	 * journal and the plain record, two header erases. Exactly. */
	{
		static const uint32_t lens[] = { 4096, 65536, 1u << 20 };

		for (int i = 0; i < 3; i++) {
			uint32_t len = lens[i];

			cost = wr(s, m, id, 1u << 20, len, 1);
			printf("aligned WRITE of %7u bytes into a 4 MiB chunk: %8llu device bytes\n",
			       len, (unsigned long long)cost);
			CHECK_EQ(cost, 2ull * len + 2ull * rec + 2 * 512);
			check(s, id);
		}
	}
	/* Overlapping, first and last block. */
	wr(s, m, id, (1u << 20) + 8192, 3 * 4096, 1);
	wr(s, m, id, 0, 4096, 1);
	wr(s, m, id, MC - 4096, 4096, 1);
	check(s, id);
	/* The same 4 KiB unaligned by one byte: copy-on-write of the chunk. */
	cost = wr(s, m, id, (1u << 20) + 1, 4096, 0);
	printf("unaligned WRITE of    4096 bytes into a 4 MiB chunk: %8llu device bytes\n",
	       (unsigned long long)cost);
	CHECK(cost >= MC);
	check(s, id);

	/* Slack of the last block: 10000 bytes -> writing block 2 fills it
	 * in place (size 12288); growing past the extent copies. */
	{
		const uint8_t id2[16] = { 0x2b };

		store_fixture_fill(model, 10000, 2);
		msize = 10000;
		iov = (struct iovec){ model, 10000 };
		REQUIRE(store_put(s, id2, &iov, 1, NULL) == 0);
		wr(s, m, id2, 4096, 4096, 1);   /* middle: last block left alone */
		check(s, id2);
		wr(s, m, id2, 8192, 4096, 1);   /* last block: size 10000 -> 12288 */
		check(s, id2);
		wr(s, m, id2, 8192, 8192, 0);   /* past the extent: copy-on-write */
		check(s, id2);
		wr(s, m, id2, 0, 16384, 1);     /* the whole chunk, in place */
		check(s, id2);
	}

	/* A GET of the chunk waits (-EAGAIN) while its in-place WRITE runs. */
	{
		static uint8_t wbuf[8192] __attribute__((aligned(4096)));
		struct store_op w, g;
		int done = 0;

		memset(&w, 0, sizeof(w));
		w.type = STORE_OP_WRITE;
		memcpy(w.id, id, 16);
		w.off = 4096;
		w.len = w.buf_cap = sizeof(wbuf);
		w.buf = wbuf;
		w.cb = on_done;
		w.user = &done;
		g = w;
		g.type = STORE_OP_GET;
		g.buf = back;
		g.buf_cap = g.len = 4096;
		store_fixture_fill(wbuf, sizeof(wbuf), 3);
		REQUIRE(store_submit(s, &w) == 0);
		CHECK_EQ(store_submit(s, &g), -EAGAIN);
		while (!done)
			REQUIRE(store_poll(s, 1) >= 0);
		CHECK_EQ(w.res, 0);
		REQUIRE(store_submit(s, &g) == 0);
		while (done < 2)
			REQUIRE(store_poll(s, 1) >= 0);
		CHECK_EQ(g.res, 0);
		CHECK(memcmp(back, wbuf, 4096) == 0);
	}

	/* Everything survives a reopen; fsck is clean with no leftovers. */
	store_close(s);
	s = store_fixture_mem_open(m);
	{
		const uint8_t id2[16] = { 0x2b };

		check(s, id2);
	}
	store_close(s);
	CHECK_EQ(store_fsck_io(&store_fixture_mem_ops, m, &rep), 0);
	CHECK_EQ(rep.stale, 0);
	CHECK_EQ(rep.chunks, 2);
	store_fixture_mem_free(m);

	/* A disk formatted before the journal feature: still opens, and an
	 * aligned WRITE is a copy-on-write of the whole chunk. */
	{
		struct store_sb_disk sb;
		struct store_geom g;
		struct store_info info;
		const uint8_t id3[16] = { 0x3c };

		m = store_fixture_mem_new(DEV, MC);
		REQUIRE(store_sb_decode(m->data, 4096, &sb, &g) == 0);
		CHECK(sb.incompat & STORE_INCOMPAT_JOURNAL);
		g.incompat = 0;
		memset(m->data, 0, 4096);
		store_sb_encode(m->data, sb.cluster, sb.node, sb.disk, &g, sb.generation, sb.created);
		memcpy(m->data + g.dev_size - 4096, m->data, 4096);
		s = store_fixture_mem_open(m);
		store_get_info(s, &info);
		CHECK_EQ(info.format_version, 1);
		store_fixture_fill(model, MC, 4);
		msize = MC;
		iov = (struct iovec){ model, MC };
		{
			uint64_t f0 = m->flushes;

			REQUIRE(store_put(s, id3, &iov, 1, NULL) == 0);
			CHECK_EQ(m->flushes - f0, 2); /* data, then record */
		}
		cost = wr(s, m, id3, 1u << 20, 4096, 0);
		CHECK(cost >= MC);
		check(s, id3);
		store_close(s);
		REQUIRE(store_sb_decode(m->data, 4096, &sb, &g) == 0);
		CHECK_EQ(sb.incompat, 0); /* not upgraded behind the user's back */
		store_fixture_mem_free(m);
	}

	concurrent();

	/* The same on a file through io_uring (O_DIRECT permitting). */
	{
		char *path = store_fixture_disk("store_inplace", 32 << 20);
		struct store_cfg cfg = { .path = path, .cluster = store_fixture_cluster };
		struct store_format_cfg fc = { .max_chunk = 1 << 20 };
		const uint8_t id4[16] = { 0x4d };
		int ret;

		memcpy(fc.cluster, store_fixture_cluster, 16);
		ret = store_format(path, &fc);
		if (ret == -EINVAL || ret == -EOPNOTSUPP) {
			printf("file part skipped: O_DIRECT not supported here (%d)\n", ret);
		} else {
			REQUIRE(ret == 0);
			REQUIRE(store_open(&cfg, &s) == 0);
			store_fixture_fill(model, 1 << 20, 5);
			msize = 1 << 20;
			iov = (struct iovec){ model, msize };
			REQUIRE(store_put(s, id4, &iov, 1, NULL) == 0);
			cost = wr(s, NULL, id4, 65536, 8192, 1);
			CHECK_EQ(cost, 2ull * 8192 + 2ull * store_fmt_rec_slots(256) * 512 + 2 * 512);
			wr(s, NULL, id4, 0, 4096, 1);
			wr(s, NULL, id4, (1 << 20) - 12288, 12288, 1);
			check(s, id4);
			store_close(s);
			REQUIRE(store_open(&cfg, &s) == 0);
			check(s, id4);
			store_close(s);
			CHECK_EQ(store_fsck(path, &rep), 0);
			CHECK_EQ(rep.stale, 0);
		}
		unlink(path);
		free(path);
	}
	return test_done();
}
