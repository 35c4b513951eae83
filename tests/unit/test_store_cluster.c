/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_store_cluster - open refuses a disk of another store_fixture_cluster (-EXDEV) and a superblock with an unknown incompat feature (-EPROTONOSUPPORT), and opens read-only on an unknown ro_compat feature.
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
#include <stddef.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage/store_format.h"

/* Rewrite both superblocks with one 64-bit field changed (crc fixed up). */
static void patch_sb(const char *path, size_t field_off, uint64_t val)
{
	int fd = open(path, O_RDWR);
	struct stat st;
	uint8_t sb[256];
	uint32_t crc;

	REQUIRE(fd >= 0);
	REQUIRE(fstat(fd, &st) == 0);
	REQUIRE(pread(fd, sb, sizeof(sb), 0) == (ssize_t)sizeof(sb));
	memcpy(sb + field_off, &val, 8);
	crc = crc32c(0, sb, offsetof(struct store_sb_disk, crc));
	memcpy(sb + offsetof(struct store_sb_disk, crc), &crc, 4);
	REQUIRE(pwrite(fd, sb, sizeof(sb), 0) == (ssize_t)sizeof(sb));
	REQUIRE(pwrite(fd, sb, sizeof(sb), st.st_size - 4096) == (ssize_t)sizeof(sb));
	close(fd);
}

int main(void)
{
	char *path = store_fixture_disk("store_cluster", 32 << 20);
	const uint8_t other[16] = { 0x07, 0x7e, 0x40 };
	struct store_cfg cfg = { .path = path, .cluster = other };
	struct store *s;
	uint8_t id[16] = { 1 }, d = 1;
	struct iovec iov = { &d, 1 };

	store_fixture_format(path, 0);
	CHECK_EQ(store_open(&cfg, &s), -EXDEV);
	cfg.cluster = store_fixture_cluster;
	REQUIRE(store_open(&cfg, &s) == 0);
	store_close(s);
	cfg.cluster = NULL; /* any store_fixture_cluster */
	REQUIRE(store_open(&cfg, &s) == 0);
	store_close(s);

	patch_sb(path, offsetof(struct store_sb_disk, ro_compat), 1ull << 40);
	REQUIRE(store_open(&cfg, &s) == 0);
	CHECK_EQ(store_put(s, id, &iov, 1, NULL), -EROFS);
	store_close(s);

	patch_sb(path, offsetof(struct store_sb_disk, incompat), 1ull << 3);
	CHECK_EQ(store_open(&cfg, &s), -EPROTONOSUPPORT);
	unlink(path);
	free(path);
	return test_done();
}
