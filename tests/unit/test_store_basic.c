/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_store_basic - format, open, put/get/stat/list/delete, reopen: the
 * synchronous API end to end on a file through io_uring.
 */
#include "lib/store_fixture.h"
#include "lib/test.h"
#include "common/crc32c.h"
#include "storage/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
	char *path = store_fixture_disk("store_basic", 64 << 20);
	struct store_format_cfg fc = { .max_chunk = 1 << 20 };
	struct store_cfg cfg = { .path = path, .cluster = store_fixture_cluster };
	struct store *s;
	struct store_info info;
	struct store_stat st;
	uint8_t id[16] = { 1 }, id2[16] = { 2 }, id3[16] = { 3 }, cur[16] = { 0 };
	uint8_t *data = malloc(1 << 20), *back = malloc((1 << 20) + 4096);
	struct store_list_entry le[8];
	uint64_t v1, v2, v3;
	uint32_t got, n;
	struct iovec iov;

	memcpy(fc.cluster, store_fixture_cluster, 16);
	fc.node[0] = 9;
	store_fixture_format_cfg(path, &fc);
	REQUIRE(store_open(&cfg, &s) == 0);
	store_get_info(s, &info);
	CHECK_EQ(info.chunks, 0);
	CHECK_EQ(info.max_chunk, 1 << 20);
	CHECK_EQ(info.format_version, 1);
	CHECK(memcmp(info.cluster, store_fixture_cluster, 16) == 0);
	CHECK_EQ(info.node[0], 9);

	/* PUT a multi-block chunk, GET it whole and in pieces. */
	store_fixture_fill(data, 1 << 20, 7);
	iov = (struct iovec){ data, 300000 };
	REQUIRE(store_put(s, id, &iov, 1, &v1) == 0);
	memset(back, 0, 300001);
	REQUIRE(store_get(s, id, 0, 400000, back, &got) == 0);
	CHECK_EQ(got, 300000);
	CHECK(memcmp(back, data, 300000) == 0);
	REQUIRE(store_get(s, id, 12345, 1000, back + 1, &got) == 0);
	CHECK_EQ(got, 1000);
	CHECK(memcmp(back + 1, data + 12345, 1000) == 0);
	REQUIRE(store_get(s, id, 299990, 100, back, &got) == 0);
	CHECK_EQ(got, 10);
	REQUIRE(store_get(s, id, 300000, 100, back, &got) == 0);
	CHECK_EQ(got, 0);
	REQUIRE(store_stat(s, id, &st) == 0);
	CHECK_EQ(st.size, 300000);
	CHECK_EQ(st.version, v1);
	CHECK_EQ(st.crc, crc32c(0, data, 300000));

	/* A small chunk, an empty chunk, a too-big chunk. */
	iov = (struct iovec){ data + 5, 100 };
	REQUIRE(store_put(s, id2, &iov, 1, &v2) == 0);
	CHECK(v2 > v1);
	REQUIRE(store_get(s, id2, 0, 4096, back, &got) == 0);
	CHECK_EQ(got, 100);
	CHECK(memcmp(back, data + 5, 100) == 0);
	REQUIRE(store_put(s, id3, NULL, 0, &v3) == 0);
	REQUIRE(store_stat(s, id3, &st) == 0);
	CHECK_EQ(st.size, 0);
	iov = (struct iovec){ data, (1 << 20) + 1 };
	{
		uint8_t *big = malloc((1 << 20) + 1);

		iov.iov_base = big;
		memset(big, 1, (1 << 20) + 1);
		CHECK_EQ(store_put(s, id3, &iov, 1, NULL), -EFBIG);
		free(big);
	}
	CHECK_EQ(store_get(s, (uint8_t[16]){ 0x77 }, 0, 1, back, &got), -ENOENT);

	/* Replace: new version, new bytes. */
	store_fixture_fill(data, 8192, 99);
	iov = (struct iovec){ data, 8192 };
	REQUIRE(store_put(s, id, &iov, 1, &v3) == 0);
	CHECK(v3 > v2);
	REQUIRE(store_get(s, id, 0, 8192, back, &got) == 0);
	CHECK_EQ(got, 8192);
	CHECK(memcmp(back, data, 8192) == 0);

	/* LIST in id order. */
	REQUIRE(store_list(s, cur, le, 8, &n) == 0);
	CHECK_EQ(n, 3);
	CHECK_EQ(le[0].id[0], 1);
	CHECK_EQ(le[0].version, v3);
	CHECK_EQ(le[0].size, 8192);
	CHECK_EQ(le[1].id[0], 2);
	CHECK_EQ(le[2].id[0], 3);
	REQUIRE(store_list(s, cur, le, 8, &n) == 0);
	CHECK_EQ(n, 0);

	/* DELETE, then reopen: everything as left. */
	REQUIRE(store_delete(s, id2) == 0);
	CHECK_EQ(store_delete(s, id2), -ENOENT);
	CHECK_EQ(store_stat(s, id2, &st), -ENOENT);
	store_get_info(s, &info);
	CHECK_EQ(info.chunks, 2);
	CHECK_EQ(info.used, 8192);
	store_close(s);

	REQUIRE(store_open(&cfg, &s) == 0);
	store_get_info(s, &info);
	CHECK_EQ(info.chunks, 2);
	CHECK_EQ(info.used, 8192);
	REQUIRE(store_get(s, id, 0, 8192, back, &got) == 0);
	CHECK(memcmp(back, data, 8192) == 0);
	CHECK_EQ(store_stat(s, id2, &st), -ENOENT);
	REQUIRE(store_stat(s, id, &st) == 0);
	CHECK_EQ(st.version, v3);
	/* A new PUT after reopen gets a higher version than anything before. */
	iov = (struct iovec){ data, 10 };
	REQUIRE(store_put(s, id2, &iov, 1, &v1) == 0);
	CHECK(v1 > v3);
	store_close(s);

	unlink(path);
	free(path);
	free(data);
	free(back);
	return test_done();
}
