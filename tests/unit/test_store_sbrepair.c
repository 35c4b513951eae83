/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_store_sbrepair - a corrupt first superblock is replaced by the copy at the end and repaired; a corrupt copy is repaired from the first; both corrupt, a truncated device and a too-small device are refused with an error.
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

static void smash(const char *path, uint64_t off)
{
	int fd = open(path, O_RDWR);
	uint8_t junk[64];

	memset(junk, 0x5a, sizeof(junk));
	REQUIRE(fd >= 0);
	REQUIRE(pwrite(fd, junk, sizeof(junk), (off_t)off) == (ssize_t)sizeof(junk));
	close(fd);
}

int main(void)
{
	const uint64_t size = 32 << 20;
	char *path = store_fixture_disk("store_sbrepair", size);
	struct store_cfg cfg = { .path = path, .cluster = store_fixture_cluster };
	struct store_fsck_report rep;
	struct store *s;
	uint8_t id[16] = { 7 }, data[5000], back[5000];
	struct iovec iov = { data, sizeof(data) };
	uint32_t got;

	store_fixture_format(path, 0);
	store_fixture_fill(data, sizeof(data), 3);
	REQUIRE(store_open(&cfg, &s) == 0);
	REQUIRE(store_put(s, id, &iov, 1, NULL) == 0);
	store_close(s);

	/* First copy corrupt: open uses the copy, data intact, first repaired. */
	smash(path, 40);
	CHECK(store_fsck(path, &rep) > 0);
	REQUIRE(store_open(&cfg, &s) == 0);
	REQUIRE(store_get(s, id, 0, sizeof(back), back, &got) == 0);
	CHECK(got == sizeof(data) && memcmp(back, data, got) == 0);
	store_close(s);
	CHECK_EQ(store_fsck(path, &rep), 0);

	/* Copy at the end corrupt: repaired from the first. */
	smash(path, size - 4096 + 8);
	CHECK(store_fsck(path, &rep) > 0);
	REQUIRE(store_open(&cfg, &s) == 0);
	store_close(s);
	CHECK_EQ(store_fsck(path, &rep), 0);

	/* Both corrupt: refused. */
	smash(path, 40);
	smash(path, size - 4096 + 8);
	CHECK_EQ(store_open(&cfg, &s), -EINVAL);
	CHECK(store_fsck(path, &rep) < 0);

	/* Truncated device: refused (the copy is past the end, data too). */
	store_fixture_format(path, 0);
	REQUIRE(truncate(path, (off_t)(size - (1 << 20))) == 0);
	CHECK_EQ(store_open(&cfg, &s), -EINVAL);

	/* Too small to format, and to open. */
	REQUIRE(truncate(path, 8 << 20) == 0);
	{
		struct store_format_cfg fc = { 0 };

		CHECK_EQ(store_format(path, &fc), -ENOSPC);
	}
	CHECK_EQ(store_open(&cfg, &s), -ENOSPC);
	unlink(path);
	free(path);
	return test_done();
}
