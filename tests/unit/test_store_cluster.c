/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_store_cluster - open refuses a disk of another cluster (-EXDEV) and a superblock with an unknown incompat feature (-EPROTONOSUPPORT), and opens read-only on an unknown ro_compat feature.
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
#include <stddef.h>
#include <sys/stat.h>
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
	char *path = make_disk("store_cluster", 32 << 20);
	const uint8_t other[16] = { 0x07, 0x7e, 0x40 };
	struct store_cfg cfg = { .path = path, .cluster = other };
	struct store *s;
	uint8_t id[16] = { 1 }, d = 1;
	struct iovec iov = { &d, 1 };

	format_or_skip(path, 0);
	CHECK_EQ(store_open(&cfg, &s), -EXDEV);
	cfg.cluster = cluster;
	REQUIRE(store_open(&cfg, &s) == 0);
	store_close(s);
	cfg.cluster = NULL; /* any cluster */
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
