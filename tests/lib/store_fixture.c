/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_fixture.c - shared setup of the store tests (see store_fixture.h).
 */
#include "lib/store_fixture.h"

#include "lib/test.h"
#include "storage/store_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const uint8_t store_fixture_cluster[16] = { 0xc1, 0x05, 0x7e, 0x40 };

char *store_fixture_disk(const char *name, uint64_t size)
{
	const char *dir = getenv("FERRY_TEST_TMP");
	char *path = malloc(256);
	int fd;

	REQUIRE(path);
	snprintf(path, 256, "%s/%s.XXXXXX", dir ? dir : "/var/tmp", name);
	fd = mkstemp(path);
	REQUIRE(fd >= 0);
	REQUIRE(ftruncate(fd, (off_t)size) == 0);
	close(fd);
	return path;
}

static void store_fixture_done(struct store_op *op)
{
	*(int *)op->user = 1;
}

int store_fixture_run(struct store *s, struct store_op *op)
{
	int done = 0, ret;

	op->cb = store_fixture_done;
	op->user = &done;
	ret = store_submit(s, op);
	while (ret == 0 && !done)
		ret = store_poll(s, 1) < 0 ? -EIO : 0;
	return ret < 0 ? ret : op->res;
}

void store_fixture_fill(uint8_t *p, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(seed >> 16);
	}
}

void store_fixture_format_cfg(const char *path, const struct store_format_cfg *fc)
{
	int ret = store_format(path, fc);

	if (ret == -EINVAL || ret == -EOPNOTSUPP)
		test_skip("O_DIRECT not supported here (%d)", ret);
	REQUIRE(ret == 0);
}

void store_fixture_format(const char *path, uint32_t max_chunk)
{
	struct store_format_cfg fc = { .max_chunk = max_chunk };

	memcpy(fc.cluster, store_fixture_cluster, 16);
	store_fixture_format_cfg(path, &fc);
}

/* ---- moving a request's bytes ---- */

static void store_fixture_req_check(const struct store_io_req *r)
{
	uint64_t sum = 0;

	REQUIRE(r->off % 512 == 0 && r->len % 512 == 0);
	if (r->buf) {
		REQUIRE((uintptr_t)r->buf % 512 == 0);
		return;
	}
	REQUIRE(r->iov && r->iovcnt >= 1 && r->iovcnt <= STORE_IO_IOV_MAX);
	for (int i = 0; i < r->iovcnt; i++) {
		REQUIRE((uintptr_t)r->iov[i].iov_base % 512 == 0);
		REQUIRE(r->iov[i].iov_len && r->iov[i].iov_len % 512 == 0);
		sum += r->iov[i].iov_len;
	}
	REQUIRE(sum == r->len);
}

void store_fixture_req_out(const struct store_io_req *r, uint8_t *dst)
{
	store_fixture_req_check(r);
	if (r->buf) {
		memcpy(dst, r->buf, r->len);
		return;
	}
	for (int i = 0; i < r->iovcnt; i++) {
		memcpy(dst, r->iov[i].iov_base, r->iov[i].iov_len);
		dst += r->iov[i].iov_len;
	}
}

void store_fixture_req_in(struct store_io_req *r, const uint8_t *src)
{
	store_fixture_req_check(r);
	if (r->buf) {
		memcpy(r->buf, src, r->len);
		return;
	}
	for (int i = 0; i < r->iovcnt; i++) {
		memcpy(r->iov[i].iov_base, src, r->iov[i].iov_len);
		src += r->iov[i].iov_len;
	}
}

/* ---- in-memory disk ---- */

static int mem_queue(void *ctx, struct store_io_req *r)
{
	struct store_fixture_mem *m = ctx;

	if (m->nq == sizeof(m->q) / sizeof(m->q[0]))
		return -EAGAIN;
	m->q[m->nq++] = r;
	return 0;
}

static int mem_submit(void *ctx)
{
	(void)ctx;
	return 0;
}

static int mem_reap(void *ctx, int wait)
{
	struct store_fixture_mem *m = ctx;
	struct store_io_req *done[512];
	size_t n = m->nq;

	(void)wait;
	memcpy(done, m->q, n * sizeof(done[0]));
	m->nq = 0;
	for (size_t i = 0; i < n; i++) {
		struct store_io_req *r = done[i];

		REQUIRE(r->off + r->len <= m->size);
		if (r->kind == STORE_IO_READ) {
			store_fixture_req_in(r, m->data + r->off);
			m->bytes_read += r->len;
		} else if (r->kind == STORE_IO_WRITE) {
			store_fixture_req_out(r, m->data + r->off);
			m->bytes_written += r->len;
			m->writes++;
		} else {
			m->flushes++;
		}
		r->res = r->kind == STORE_IO_FLUSH ? 0 : (int)r->len;
	}
	/* Callbacks may queue more: those wait for the next reap. */
	for (size_t i = 0; i < n; i++)
		done[i]->done(done[i]);
	return (int)n;
}

static int mem_fd(void *ctx)
{
	(void)ctx;
	return -1;
}

static int mem_register(void *ctx, int idx, void *base, size_t len)
{
	(void)ctx;
	(void)idx;
	(void)base;
	(void)len;
	return 0;
}

static uint64_t mem_size(void *ctx)
{
	return ((struct store_fixture_mem *)ctx)->size;
}

static void mem_close(void *ctx)
{
	(void)ctx; /* the test owns the disk */
}

const struct store_io_ops store_fixture_mem_ops = {
	.queue = mem_queue, .submit = mem_submit, .reap = mem_reap, .fd = mem_fd,
	.register_buf = mem_register, .size = mem_size, .close = mem_close,
};

struct store_fixture_mem *store_fixture_mem_new(uint64_t size, uint32_t max_chunk)
{
	struct store_fixture_mem *m = calloc(1, sizeof(*m));
	struct store_format_cfg fc = { .max_chunk = max_chunk };
	const uint8_t disk[16] = { 0xd1, 0x5c };

	REQUIRE(m);
	m->data = calloc(1, size);
	REQUIRE(m->data);
	m->size = size;
	memcpy(fc.cluster, store_fixture_cluster, 16);
	REQUIRE(store_format_io(&store_fixture_mem_ops, m, &fc, disk) == 0);
	return m;
}

struct store *store_fixture_mem_open(struct store_fixture_mem *m)
{
	struct store_cfg cfg = { .cluster = store_fixture_cluster, .queue_depth = 16 };
	struct store *s = NULL;

	REQUIRE(store_open_io(&cfg, &store_fixture_mem_ops, m, 0, &s) == 0);
	return s;
}

void store_fixture_mem_free(struct store_fixture_mem *m)
{
	if (!m)
		return;
	free(m->data);
	free(m);
}
