/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_fixture.h - the setup the store tests share: a temporary disk file,
 * format (skipping the test where O_DIRECT is not supported), deterministic
 * fill bytes, and an in-memory disk behind the storage ops table that counts
 * what the store writes (for cost tests that need exact, not timed, figures).
 */
#ifndef FERRY_TEST_STORE_FIXTURE_H
#define FERRY_TEST_STORE_FIXTURE_H

#include "storage/store.h"
#include "storage/store_io.h"

#include <stddef.h>
#include <stdint.h>

/* The cluster UUID the fixture formats disks with. */
extern const uint8_t store_fixture_cluster[16];

/* store_fixture_disk - a new sparse file of size bytes named after name in
 * $FERRY_TEST_TMP (or /var/tmp); returns its malloc'ed path (the test
 * unlinks and frees it). Fails the test on error. */
char *store_fixture_disk(const char *name, uint64_t size);

/* store_fixture_run - submit op and poll the store until its callback has
 * run (op->cb and op->user are set here): submit's refusal, or op->res. */
int store_fixture_run(struct store *s, struct store_op *op);

/* store_fixture_fill - n pseudo-random bytes determined by seed. */
void store_fixture_fill(uint8_t *p, size_t n, uint32_t seed);

/* store_fixture_format - format path for store_fixture_cluster with
 * max_chunk (0 = default); skips the test (exit 77) when the file system
 * refuses O_DIRECT, fails it on any other error. */
void store_fixture_format(const char *path, uint32_t max_chunk);
/* store_fixture_format_cfg - the same with the caller's format settings. */
void store_fixture_format_cfg(const char *path, const struct store_format_cfg *fc);

/*
 * Test backends move a request's bytes with these: from one buffer or, for
 * a vectored request (buf == NULL), its pieces in order. They fail the test
 * when a request breaks O_DIRECT's rules (offset, length, every piece's
 * address and length multiples of 512; pieces non-empty, at most
 * STORE_IO_IOV_MAX, adding up to len).
 * store_fixture_req_out - a write's len bytes into dst.
 * store_fixture_req_in - a read's len bytes from src into its memory.
 */
void store_fixture_req_out(const struct store_io_req *r, uint8_t *dst);
void store_fixture_req_in(struct store_io_req *r, const uint8_t *src);

/*
 * In-memory disk: requests complete in order at the next reap (or submit
 * with a wait); flushes are counted but change nothing. close() does not
 * free it, so a test can reopen the same disk: store_fixture_mem_free.
 */
struct store_fixture_mem {
	uint8_t *data;            /* size bytes */
	uint64_t size;            /* bytes */
	struct store_io_req *q[512]; /* queued requests */
	size_t nq;                /* queued */
	uint64_t bytes_written;   /* device bytes written */
	uint64_t bytes_read;      /* device bytes read */
	uint64_t writes;          /* write requests */
	uint64_t flushes;         /* flush requests */
};
extern const struct store_io_ops store_fixture_mem_ops;

/* store_fixture_mem_new - a zeroed in-memory disk of size bytes, formatted
 * with max_chunk for store_fixture_cluster. */
struct store_fixture_mem *store_fixture_mem_new(uint64_t size, uint32_t max_chunk);
/* store_fixture_mem_open - open the store on m (fails the test on error). */
struct store *store_fixture_mem_open(struct store_fixture_mem *m);
void store_fixture_mem_free(struct store_fixture_mem *m);

#endif /* FERRY_TEST_STORE_FIXTURE_H */
