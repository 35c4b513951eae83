/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_store_reuse - space freed by DELETE and by replacing PUTs is reused, across restarts, without leaks: after many cycles used space equals the live chunks and fsck is clean.
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
	char *path = store_fixture_disk("store_reuse", 16 << 20);
	struct store_cfg cfg = { .path = path };
	struct store_fsck_report rep;
	struct store_info info;
	struct store *s;
	static uint8_t data[256 << 10], back[256 << 10];
	uint8_t id[16];
	uint32_t got;

	store_fixture_format(path, 256 << 10);
	store_fixture_fill(data, sizeof(data), 11);
	/* 20 rounds that each write far more than half the disk. */
	for (int round = 0; round < 20; round++) {
		REQUIRE(store_open(&cfg, &s) == 0);
		for (int k = 0; k < 40; k++) {
			struct iovec iov = { data, (size_t)(1000 + (k * 7919 + round * 31) % (250 << 10)) };

			memset(id, 0, 16);
			id[0] = (uint8_t)(k % 8);
			id[1] = 1;
			REQUIRE(store_put(s, id, &iov, 1, NULL) == 0);
			if (k % 5 == 4)
				REQUIRE(store_delete(s, id) == 0);
		}
		store_get_info(s, &info);
		store_close(s);
		CHECK_EQ(store_fsck(path, &rep), 0);
		CHECK_EQ(rep.chunks, info.chunks);
		CHECK_EQ(rep.blocks_used * 4096, info.used);
	}
	/* Delete everything: nothing stays allocated. */
	REQUIRE(store_open(&cfg, &s) == 0);
	for (int k = 0; k < 8; k++) {
		memset(id, 0, 16);
		id[0] = (uint8_t)k;
		id[1] = 1;
		if (store_get(s, id, 0, sizeof(back), back, &got) == 0)
			CHECK(memcmp(back, data, got) == 0);
		store_delete(s, id);
	}
	store_close(s);
	REQUIRE(store_open(&cfg, &s) == 0);
	store_get_info(s, &info);
	CHECK_EQ(info.chunks, 0);
	CHECK_EQ(info.used, 0);
	store_close(s);
	CHECK_EQ(store_fsck(path, &rep), 0);
	CHECK_EQ(rep.slots_used, 0);
	unlink(path);
	free(path);
	return test_done();
}
