/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_store_enospc - filling the disk ends in a clean -ENOSPC: every chunk written before is intact, fsck is clean, and deleting makes room again. Small chunks use one 4 KiB block each.
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

static void mkid(uint32_t i, uint8_t id[16])
{
	memset(id, 0, 16);
	memcpy(id, &i, 4);
	id[15] = 0xee;
}

int main(void)
{
	char *path = store_fixture_disk("store_enospc", 16 << 20);
	struct store_cfg cfg = { .path = path };
	struct store_fsck_report rep;
	struct store_info info;
	struct store_counters c;
	struct store *s;
	static uint8_t data[64 << 10], back[64 << 10];
	uint32_t n = 0, got, nsmall = 0;
	uint8_t id[16];
	int ret;

	store_fixture_format(path, 64 << 10);
	REQUIRE(store_open(&cfg, &s) == 0);
	store_get_info(s, &info);
	/* Big chunks until full. */
	for (;; n++) {
		struct iovec iov = { data, sizeof(data) };

		store_fixture_fill(data, sizeof(data), n);
		mkid(n, id);
		ret = store_put(s, id, &iov, 1, NULL);
		if (ret)
			break;
	}
	CHECK_EQ(ret, -ENOSPC);
	CHECK(n >= info.capacity / sizeof(data) - 2);
	/* Small chunks fill the rest: one block each, not a big unit. */
	for (;; nsmall++) {
		struct iovec iov = { data, 100 };

		mkid(100000 + nsmall, id);
		ret = store_put(s, id, &iov, 1, NULL);
		if (ret)
			break;
	}
	CHECK_EQ(ret, -ENOSPC);
	store_get_info(s, &info);
	CHECK_EQ(info.used, (uint64_t)n * sizeof(data) + (uint64_t)nsmall * 4096);
	store_get_counters(s, &c);
	CHECK(c.enospc >= 2);
	/* Everything written is intact. */
	for (uint32_t i = 0; i < n; i++) {
		store_fixture_fill(data, sizeof(data), i);
		mkid(i, id);
		REQUIRE(store_get(s, id, 0, sizeof(back), back, &got) == 0);
		CHECK(got == sizeof(data) && memcmp(back, data, got) == 0);
	}
	store_close(s);
	CHECK_EQ(store_fsck(path, &rep), 0);
	CHECK_EQ(rep.chunks, n + nsmall);
	/* Delete one big chunk: a new one fits, after a restart too. */
	REQUIRE(store_open(&cfg, &s) == 0);
	mkid(0, id);
	REQUIRE(store_delete(s, id) == 0);
	{
		struct iovec iov = { data, sizeof(data) };

		mkid(999999, id);
		CHECK_EQ(store_put(s, id, &iov, 1, NULL), 0);
	}
	store_close(s);
	CHECK_EQ(store_fsck(path, &rep), 0);
	unlink(path);
	free(path);
	return test_done();
}
