/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_store_enospc - filling the disk ends in a clean -ENOSPC: every chunk written before is intact, fsck is clean, and deleting makes room again. Small chunks use one 4 KiB block each.
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

static void mkid(uint32_t i, uint8_t id[16])
{
	memset(id, 0, 16);
	memcpy(id, &i, 4);
	id[15] = 0xee;
}

int main(void)
{
	char *path = make_disk("store_enospc", 16 << 20);
	struct store_cfg cfg = { .path = path };
	struct store_fsck_report rep;
	struct store_info info;
	struct store_counters c;
	struct store *s;
	static uint8_t data[64 << 10], back[64 << 10];
	uint32_t n = 0, got, nsmall = 0;
	uint8_t id[16];
	int ret;

	format_or_skip(path, 64 << 10);
	REQUIRE(store_open(&cfg, &s) == 0);
	store_get_info(s, &info);
	/* Big chunks until full. */
	for (;; n++) {
		struct iovec iov = { data, sizeof(data) };

		fill(data, sizeof(data), n);
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
		fill(data, sizeof(data), i);
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
