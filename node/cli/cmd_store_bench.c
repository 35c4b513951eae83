/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_store_bench.c - hidden `ferry store-bench`: drive the chunk store's
 * async interface for scripts/bench-store.sh.
 *
 *   --mode format      format --disk (random cluster UUID, 4 MiB max chunk)
 *   --mode fill        PUT --chunks 4 KiB chunks (ids 1..N) at --qd
 *   --mode randread    GET random chunks for --seconds at --qd; prints IOPS
 *   --mode randwrite   PUT (replace) random chunks for --seconds at --qd
 *   --mode open        time store_open (prints chunks and seconds)
 *   --mode synth       write --chunks records straight into the record area
 *                      of a freshly formatted disk (pwrite, data blocks left
 *                      unwritten): builds a 1M-chunk disk in seconds for the
 *                      open-time measurement; never used on a real store
 *
 * Buffers live in one registered region, so the IO is zero copy
 * (READ_FIXED/WRITE_FIXED), as it will be from the AF_XDP UMEM.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "storage/store.h"
#include "storage/store_format.h"

static const char *sb_disk;      /* --disk */
static const char *sb_mode;      /* --mode */
static uint32_t sb_qd = 1;       /* --qd */
static uint64_t sb_chunks = 100000; /* --chunks */
static double sb_seconds = 5;    /* --seconds */
static uint32_t sb_bs = 4096;    /* --bs (chunk size) */
static int sb_fua;               /* --fua: store_cfg.commit_fua */

static double sb_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t sb_rng = 88172645463325252ull;

static uint64_t sb_rand(void)
{
	sb_rng ^= sb_rng << 13;
	sb_rng ^= sb_rng >> 7;
	sb_rng ^= sb_rng << 17;
	return sb_rng;
}

static void sb_id(uint64_t n, uint8_t id[16])
{
	memset(id, 0, 16);
	/* Spread ids over the table like hashes would be. */
	uint64_t h = (n + 1) * 0x9e3779b97f4a7c15ull;
	memcpy(id, &h, 8);
	memcpy(id + 8, &n, 8);
	id[15] |= 0x80;
}

struct sb_ctx {
	struct store *s;         /* the store */
	uint64_t done, errors;   /* completed ops */
	uint64_t next;           /* fill: next chunk */
	int type;                /* STORE_OP_* */
	int stop;                /* no more resubmits */
};

static void sb_issue(struct sb_ctx *c, struct store_op *op)
{
	op->type = c->type;
	if (c->type == STORE_OP_PUT && c->next < sb_chunks)
		sb_id(c->next++, op->id);
	else
		sb_id(sb_rand() % sb_chunks, op->id);
	op->off = 0;
	op->version = 0; /* the clock's next (it holds the last op's result) */
	op->len = sb_bs;
	op->buf_cap = sb_bs;
	while (store_submit(c->s, op) == -EAGAIN)
		store_poll(c->s, 1);
}

static void sb_cb(struct store_op *op)
{
	struct sb_ctx *c = op->user;

	c->done++;
	if (op->res)
		c->errors++;
	if (!c->stop)
		sb_issue(c, op);
}

static int sb_run_ops(struct store *s, int type, int fill)
{
	struct store_op *ops = calloc(sb_qd, sizeof(*ops));
	uint8_t *region = aligned_alloc(4096, (size_t)sb_qd * sb_bs);
	struct sb_ctx c = { .s = s, .type = type };
	double t0, t1;
	int ret = 0;

	if (!ops || !region) {
		ret = -ENOMEM;
		goto out;
	}
	memset(region, 0xab, (size_t)sb_qd * sb_bs);
	store_register_region(s, region, (size_t)sb_qd * sb_bs);
	t0 = sb_now();
	for (uint32_t i = 0; i < sb_qd; i++) {
		ops[i].buf = region + (size_t)i * sb_bs;
		ops[i].cb = sb_cb;
		ops[i].user = &c;
		sb_issue(&c, &ops[i]);
	}
	for (;;) {
		if (fill ? c.next >= sb_chunks : sb_now() - t0 >= sb_seconds)
			c.stop = 1;
		if (c.stop && !store_inflight(s))
			break;
		if (store_poll(s, 1) < 0)
			break;
	}
	t1 = sb_now();
	printf("ops %llu errors %llu seconds %.3f iops %.0f\n", (unsigned long long)c.done,
	       (unsigned long long)c.errors, t1 - t0, (double)c.done / (t1 - t0));
	ret = c.errors ? -EIO : 0;
out:
	free(region);
	free(ops);
	return ret;
}

/* synth: records for sb_chunks chunks of sb_bs bytes, written with pwrite. */
static int sb_synth(void)
{
	struct store_cfg cfg = { .path = sb_disk, .read_only = 1 };
	struct store_info info;
	struct store *s;
	uint8_t sbuf[4096];
	struct store_sb_disk sbd;
	struct store_geom g;
	uint8_t *buf;
	const size_t win = 8 << 20;
	uint32_t nb = (sb_bs + 4095) / 4096, ns = store_fmt_rec_slots(nb);
	int fd, ret;

	ret = store_open(&cfg, &s); /* proves it is formatted; gives nothing else */
	if (ret < 0)
		return ret;
	store_get_info(s, &info);
	store_close(s);
	fd = open(sb_disk, O_RDWR);
	if (fd < 0)
		return -errno;
	if (pread(fd, sbuf, sizeof(sbuf), 0) != (ssize_t)sizeof(sbuf) ||
	    store_sb_decode(sbuf, sizeof(sbuf), &sbd, &g) < 0) {
		close(fd);
		return -EINVAL;
	}
	if (sb_chunks * ns > g.nslots || sb_chunks * nb > g.nblocks) {
		close(fd);
		return -ENOSPC;
	}
	buf = calloc(1, win);
	uint64_t slot = 0;

	for (uint64_t i = 0; i < sb_chunks;) {
		size_t used = 0;
		uint64_t first = slot;

		while (i < sb_chunks && used + ns * STORE_SLOT <= win) {
			struct store_rec r = { .version = i + 1, .size = sb_bs, .block = i * nb,
					       .nblocks = nb };
			uint32_t crcs[1024] = { 0 };

			sb_id(i, r.id);
			store_rec_encode(buf + used, &r, crcs, g.rec_seed);
			used += ns * STORE_SLOT;
			slot += ns;
			i++;
		}
		if (pwrite(fd, buf, used, (off_t)(g.rec_off + first * STORE_SLOT)) != (ssize_t)used) {
			free(buf);
			close(fd);
			return -EIO;
		}
	}
	/* Raise the record high-water mark over them, as the store would. */
	g.rec_hwm = slot;
	memset(sbuf, 0, sizeof(sbuf));
	store_sb_encode(sbuf, sbd.cluster, sbd.node, sbd.disk, &g, sbd.generation + 1, sbd.created);
	ret = 0;
	if (pwrite(fd, sbuf, sizeof(sbuf), 0) != (ssize_t)sizeof(sbuf) ||
	    pwrite(fd, sbuf, sizeof(sbuf), (off_t)(g.dev_size - sizeof(sbuf))) != (ssize_t)sizeof(sbuf))
		ret = -EIO;
	free(buf);
	fsync(fd);
	close(fd);
	return ret;
}

static int cmd_store_bench_run(int argc, char **argv)
{
	struct store_cfg cfg = { .path = sb_disk, .queue_depth = 0 };
	struct store *s;
	double t0;
	int ret;

	(void)argc;
	(void)argv;
	if (!sb_disk || !sb_mode || !sb_qd || !sb_chunks || !sb_bs || sb_bs > (4u << 20)) {
		fprintf(stderr, "store-bench: --disk and --mode are required\n");
		return CLI_EXIT_USAGE;
	}
	if (strcmp(sb_mode, "format") == 0) {
		struct store_format_cfg fc = { .max_chunk = 0 };

		fc.cluster[0] = 0xbe;
		fc.node[0] = 0xbe;
		ret = store_format(sb_disk, &fc);
		if (ret < 0)
			fprintf(stderr, "store-bench: format: %s\n", strerror(-ret));
		return ret < 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
	}
	if (strcmp(sb_mode, "synth") == 0) {
		ret = sb_synth();
		if (ret < 0)
			fprintf(stderr, "store-bench: synth: %s\n", strerror(-ret));
		return ret < 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
	}
	cfg.queue_depth = sb_qd * 2 > 64 ? sb_qd * 2 : 64;
	cfg.commit_fua = sb_fua;
	t0 = sb_now();
	ret = store_open(&cfg, &s);
	if (ret < 0) {
		fprintf(stderr, "store-bench: open %s: %s\n", sb_disk, strerror(-ret));
		return CLI_EXIT_FAIL;
	}
	if (strcmp(sb_mode, "open") == 0) {
		struct store_info info;
		double t = sb_now() - t0;

		store_get_info(s, &info);
		printf("chunks %llu open_seconds %.3f\n", (unsigned long long)info.chunks, t);
		ret = 0;
	} else if (strcmp(sb_mode, "fill") == 0) {
		ret = sb_run_ops(s, STORE_OP_PUT, 1);
	} else if (strcmp(sb_mode, "randread") == 0) {
		ret = sb_run_ops(s, STORE_OP_GET, 0);
	} else if (strcmp(sb_mode, "randwrite") == 0) {
		sb_chunks = sb_chunks ? sb_chunks : 1;
		ret = sb_run_ops(s, STORE_OP_PUT, 0);
	} else {
		fprintf(stderr, "store-bench: unknown --mode %s\n", sb_mode);
		store_close(s);
		return CLI_EXIT_USAGE;
	}
	store_close(s);
	if (ret < 0) {
		fprintf(stderr, "store-bench: %s: %s\n", sb_mode, strerror(-ret));
		return CLI_EXIT_FAIL;
	}
	return CLI_EXIT_OK;
}

static const struct opt_def store_bench_opts[] = {
	{ "disk", 'd', OPT_STR, &sb_disk, "PATH", "formatted disk or file" },
	{ "mode", 'm', OPT_STR, &sb_mode, "MODE", "format|fill|randread|randwrite|open|synth" },
	{ "qd", 'q', OPT_U32, &sb_qd, "N", "ops in flight (default 1)" },
	{ "chunks", 'n', OPT_U64, &sb_chunks, "N", "chunks to fill / pick from" },
	{ "seconds", 't', OPT_DOUBLE, &sb_seconds, "S", "run time (default 5)" },
	{ "bs", 'b', OPT_U32, &sb_bs, "BYTES", "chunk size (default 4096)" },
	{ "fua", 0, OPT_FLAG, &sb_fua, NULL, "commit records with FUA writes" },
	{ 0 }
};

const struct cmd_def cmd_store_bench = {
	.name = "store-bench", .args = "", .min_args = 0, .max_args = 0,
	.summary = "(hidden) benchmark the chunk store", .opts = store_bench_opts,
	.run = cmd_store_bench_run,
};
