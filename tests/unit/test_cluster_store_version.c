/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_cluster_store_version - store_put_version installs the version a chain
 * head assigned, keeps it across reopen, and later local versions stay above;
 * the same through the asynchronous op (op.version as input) for PUT and
 * WRITE, with -ESTALE at submit for a version not above the chunk's.
 */
#include "lib/store_fixture.h"
#include "lib/test.h"
#include "storage/store.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* run - submit op and poll until its callback; returns submit's error or
 * the op's result. */
int main(void)
{
	const char *dir = getenv("FERRY_TEST_TMP");
	struct store_format_cfg fc = { .cluster = { 1, 2, 3 }, .node = { 9 }, .max_chunk = 65536 };
	struct store_cfg sc = { 0 };
	struct store *s;
	struct store_stat st;
	uint8_t id[16] = { 0x02, 7 }, id2[16] = { 0x02, 8 };
	char buf[64] = "hello", path[256];
	struct iovec iov = { buf, 5 };
	uint64_t v = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/ver.XXXXXX", dir ? dir : "/var/tmp");
	fd = mkstemp(path);
	REQUIRE(fd >= 0);
	REQUIRE(ftruncate(fd, 64 << 20) == 0);
	close(fd);
	REQUIRE(store_format(path, &fc) == 0);
	sc.path = path;
	REQUIRE(store_open(&sc, &s) == 0);
	CHECK_EQ(store_put_version(s, id, &iov, 1, 0), -EINVAL);
	CHECK_EQ(store_put_version(s, id, &iov, 1, 1000000), 0);
	CHECK_EQ(store_stat(s, id, &st), 0);
	CHECK_EQ(st.version, 1000000);
	CHECK_EQ(store_put(s, id2, &iov, 1, &v), 0);
	CHECK(v > 1000000);
	store_close(s);
	REQUIRE(store_open(&sc, &s) == 0);
	CHECK_EQ(store_stat(s, id, &st), 0);
	CHECK_EQ(st.version, 1000000);
	CHECK_EQ(store_put(s, id, &iov, 1, &v), 0);
	CHECK(v > 1000001);

	/* The asynchronous road: op.version in, the version installed out. */
	{
		struct store_op op;
		uint64_t cur = v;

		memset(&op, 0, sizeof(op));
		op.type = STORE_OP_PUT;
		memcpy(op.id, id, 16);
		op.buf = buf;
		op.len = op.buf_cap = 5;
		op.version = cur; /* equal: refused at submit, nothing written */
		CHECK_EQ(store_submit(s, &op), -ESTALE);
		op.version = cur - 1;
		CHECK_EQ(store_submit(s, &op), -ESTALE);
		op.version = 2000000;
		CHECK_EQ(store_fixture_run(s, &op), 0);
		CHECK_EQ(op.version, 2000000);
		op.type = STORE_OP_WRITE; /* a WRITE with a version: the same rule */
		op.off = 2;
		op.len = op.buf_cap = 1;
		CHECK_EQ(store_fixture_run(s, &op), -ESTALE);
		op.version = 2000005;
		CHECK_EQ(store_fixture_run(s, &op), 0);
		CHECK_EQ(op.version, 2000005);
		op.version = 0; /* the clock's next: above everything installed */
		CHECK_EQ(store_fixture_run(s, &op), 0);
		CHECK(op.version > 2000005);
		CHECK_EQ(store_stat(s, id, &st), 0);
		CHECK_EQ(st.version, op.version);
		CHECK_EQ(store_put_version(s, id, &iov, 1, 2000005), -ESTALE);
	}
	store_close(s);
	unlink(path);
	return test_done();
}
