/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_store_list - LIST returns ids in order with versions, resumes from a cursor across calls and across a restart, and sees deletes and new chunks.
 */
#include "lib/store_fixture.h"
#include "lib/test.h"
#include "common/crc32c.h"
#include "storage/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
	char *path = store_fixture_disk("store_list", 32 << 20);
	struct store_cfg cfg = { .path = path };
	struct store *s;
	struct store_list_entry le[7];
	uint8_t cur[16] = { 0 }, id[16], prev[16] = { 0 };
	uint64_t ver[300];
	uint32_t n, total = 0;
	uint8_t d = 9;
	struct iovec iov = { &d, 1 };

	store_fixture_format(path, 0);
	REQUIRE(store_open(&cfg, &s) == 0);
	for (uint32_t i = 0; i < 300; i++) {
		memset(id, 0, 16);
		id[0] = (uint8_t)(i * 37 + 1); /* not in insertion order, never all-zero */
		id[1] = (uint8_t)(i >> 8);
		id[2] = (uint8_t)i;
		REQUIRE(store_put(s, id, &iov, 1, &ver[i]) == 0);
	}
	/* Half-way, restart and resume with the same cursor. */
	for (int call = 0;; call++) {
		REQUIRE(store_list(s, cur, le, 7, &n) == 0);
		if (!n)
			break;
		for (uint32_t k = 0; k < n; k++) {
			uint32_t i = (uint32_t)le[k].id[1] << 8 | le[k].id[2];

			CHECK(memcmp(le[k].id, prev, 16) > 0);
			memcpy(prev, le[k].id, 16);
			CHECK(i < 300 && le[k].version == ver[i]);
			CHECK_EQ(le[k].size, 1);
		}
		CHECK(memcmp(cur, le[n - 1].id, 16) == 0);
		total += n;
		if (call == 20) {
			store_close(s);
			REQUIRE(store_open(&cfg, &s) == 0);
		}
	}
	CHECK_EQ(total, 300);
	/* Delete ten, the list shrinks. */
	for (uint32_t i = 0; i < 10; i++) {
		memset(id, 0, 16);
		id[0] = (uint8_t)(i * 37 + 1);
		id[1] = (uint8_t)(i >> 8);
		id[2] = (uint8_t)i;
		REQUIRE(store_delete(s, id) == 0);
	}
	memset(cur, 0, 16);
	total = 0;
	while (store_list(s, cur, le, 7, &n) == 0 && n)
		total += n;
	CHECK_EQ(total, 290);
	CHECK_EQ(store_put(s, (uint8_t[16]){ 0 }, &iov, 1, NULL), -EINVAL);
	store_close(s);
	unlink(path);
	free(path);
	return test_done();
}
