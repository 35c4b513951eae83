/* SPDX-License-Identifier: Apache-2.0 */
/* test_init_disks - which block device names auto mode takes; blank and ctl state disks. */
#include "init/init_int.h"
#include "lib/test.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
	static const char *const good[] = { "nvme0n1", "nvme12n3", "vda", "vdab" };
	static const char *const bad[] = { "nvme0", "nvme0n1p1", "nvmen1", "nvme0n", "ng0n1",
					   "vd", "vda1", "sda", "loop0", "nvme0c0n1" };
	char path[] = "/tmp/ferry-test-disk-XXXXXX";
	char buf[4096] = { 0 };
	int fd;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CHECK(init_disk_name_ok(good[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (init_disk_name_ok(bad[i])) {
			fprintf(stderr, "accepted %s\n", bad[i]);
			test_failures++;
		}

	fd = mkstemp(path);
	REQUIRE(fd >= 0);
	REQUIRE(ftruncate(fd, 1 << 20) == 0);
	CHECK_EQ(init_disk_is_blank(path), 1);
	buf[100] = 1;
	REQUIRE(pwrite(fd, buf, sizeof(buf), 60 * 1024) == (ssize_t)sizeof(buf));
	CHECK_EQ(init_disk_is_blank(path), 0);
	CHECK_EQ(init_disk_kind(path), INIT_DISK_OTHER);

	/* ext4 (magic 0xEF53 at 1024 + 56) is a ctl state disk only with the
	 * label ferry-ctl (at 1024 + 120), NUL-padded to 16 bytes. */
	memset(buf, 0, sizeof(buf));
	REQUIRE(pwrite(fd, buf, sizeof(buf), 60 * 1024) == (ssize_t)sizeof(buf));
	buf[1024 + 56] = 0x53;
	buf[1024 + 57] = 0xef;
	REQUIRE(pwrite(fd, buf, sizeof(buf), 0) == (ssize_t)sizeof(buf));
	CHECK_EQ(init_disk_kind(path), INIT_DISK_OTHER);
	memcpy(buf + 1024 + 120, "ferry-ctl", 9);
	REQUIRE(pwrite(fd, buf, sizeof(buf), 0) == (ssize_t)sizeof(buf));
	CHECK_EQ(init_disk_kind(path), INIT_DISK_CTL);
	CHECK_EQ(init_disk_is_blank(path), 0);
	memcpy(buf + 1024 + 120, "ferry-ctl-2", 11);
	REQUIRE(pwrite(fd, buf, sizeof(buf), 0) == (ssize_t)sizeof(buf));
	CHECK_EQ(init_disk_kind(path), INIT_DISK_OTHER);
	memcpy(buf + 1024 + 120, "ferry-ctl\0\0", 11);
	buf[1024 + 57] = 0xee;
	REQUIRE(pwrite(fd, buf, sizeof(buf), 0) == (ssize_t)sizeof(buf));
	CHECK_EQ(init_disk_kind(path), INIT_DISK_OTHER);
	close(fd);
	unlink(path);
	CHECK(init_disk_is_blank("/nonexistent/disk") < 0);
	CHECK(init_disk_kind("/nonexistent/disk") < 0);
	return test_done();
}
