/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_store_reuse - space freed by DELETE and by replacing PUTs is reused, across restarts, without leaks: after many cycles used space equals the live chunks and fsck is clean.
 */
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

static const uint8_t cluster[16] = { 0xc1, 0x05, 0x7e, 0x40 };

static char *make_disk(const char *name, uint64_t size)
{
	const char *dir = getenv("FERRY_TEST_TMP");
	char *path = malloc(256);
	int fd;

	snprintf(path, 256, "%s/%s.XXXXXX", dir ? dir : "/var/tmp", name);
	fd = mkstemp(path);
	REQUIRE(fd >= 0);
	REQUIRE(ftruncate(fd, (off_t)size) == 0);
	close(fd);
	return path;
}

__attribute__((unused)) static void fill(uint8_t *p, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(seed >> 16);
	}
}

static void format_or_skip(const char *path, uint32_t max_chunk)
{
	struct store_format_cfg fc = { .max_chunk = max_chunk };
	int ret;

	memcpy(fc.cluster, cluster, 16);
	ret = store_format(path, &fc);
	if (ret == -EINVAL || ret == -EOPNOTSUPP)
		test_skip("O_DIRECT not supported here (%d)", ret);
	REQUIRE(ret == 0);
}

int main(void)
{
	char *path = make_disk("store_reuse", 16 << 20);
	struct store_cfg cfg = { .path = path };
	struct store_fsck_report rep;
	struct store_info info;
	struct store *s;
	static uint8_t data[256 << 10], back[256 << 10];
	uint8_t id[16];
	uint32_t got;

	format_or_skip(path, 256 << 10);
	fill(data, sizeof(data), 11);
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
