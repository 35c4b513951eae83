/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_store_reformat - format does not zero the record area, so a reformatted disk still holds the old records: they must never come back (their checksums are seeded with the old disk UUID), not at open, not after new records raise the high-water mark over them.
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
	char *path = make_disk("store_reformat", 32 << 20);
	struct store_cfg cfg = { .path = path };
	struct store_fsck_report rep;
	struct store_info info;
	struct store *s;
	uint8_t id[16], data[3000];
	struct iovec iov = { data, sizeof(data) };
	uint8_t cur[16] = { 0 };
	struct store_list_entry le[64];
	uint32_t n;

	fill(data, sizeof(data), 4);
	format_or_skip(path, 0);
	REQUIRE(store_open(&cfg, &s) == 0);
	for (int i = 0; i < 50; i++) {
		memset(id, 0, 16);
		id[0] = 0x0a;
		id[1] = (uint8_t)i;
		REQUIRE(store_put(s, id, &iov, 1, NULL) == 0);
	}
	store_close(s);

	format_or_skip(path, 0);
	REQUIRE(store_open(&cfg, &s) == 0);
	store_get_info(s, &info);
	CHECK_EQ(info.chunks, 0);
	/* New chunks reuse the same slots and raise the mark over old ones. */
	for (int i = 0; i < 10; i++) {
		memset(id, 0, 16);
		id[0] = 0x0b;
		id[1] = (uint8_t)i;
		REQUIRE(store_put(s, id, &iov, 1, NULL) == 0);
	}
	store_close(s);
	REQUIRE(store_open(&cfg, &s) == 0);
	store_get_info(s, &info);
	CHECK_EQ(info.chunks, 10);
	REQUIRE(store_list(s, cur, le, 64, &n) == 0);
	CHECK_EQ(n, 10);
	for (uint32_t k = 0; k < n; k++)
		CHECK_EQ(le[k].id[0], 0x0b);
	store_close(s);
	CHECK_EQ(store_fsck(path, &rep), 0);
	CHECK_EQ(rep.chunks, 10);
	unlink(path);
	free(path);
	return test_done();
}
