/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_init_ctldisk - the ctl's state disk: which disk PID 1 picks (a table
 * over roles, names and disk kinds), and formatting from the gzip'd file
 * system template onto a file: exact bytes, refusals, and that a format cut
 * short leaves the disk blank (its first 64 KiB are written last).
 */
#include "init/init_int.h"
#include "lib/test.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define TMPL_SIZE (1u << 20) /* the test template: 1 MiB, ext4 magic and label */

static char dir[] = "/tmp/ferry-test-ctldisk-XXXXXX";
static char tmpl[256], disk[256];

static const char *KINDS = "bco"; /* blank, ctl, other: one letter per disk below */

struct pick_case {
	const char *keys;  /* extra ferry.* keys */
	const char *disks; /* candidate names, space separated */
	const char *kinds; /* one of KINDS per disk */
	int settled;
	int want;          /* index, or -errno */
	const char *msg;   /* substring of err when want < 0 */
};

#define BASE "ip=10.0.0.1:::24::eth0:off "

static const struct pick_case pick_cases[] = {
	/* auto, role=ctl: the labelled disk, at once; else the only blank one. */
	{ "ferry.role=ctl", "nvme0n1", "c", 0, 0, NULL },
	{ "ferry.role=ctl", "nvme0n1 nvme1n1", "bc", 0, 1, NULL },
	{ "ferry.role=ctl", "nvme0n1", "b", 0, -EAGAIN, "settle" },
	{ "ferry.role=ctl", "nvme0n1", "b", 1, 0, NULL },
	{ "ferry.role=ctl", "nvme0n1 vda", "ob", 1, 1, NULL },
	{ "ferry.role=ctl", "", "", 1, -ENODEV, "no disk at all" },
	{ "ferry.role=ctl", "nvme0n1", "o", 1, -EINVAL, "refusing to format" },
	{ "ferry.role=ctl", "nvme0n1 nvme1n1", "bb", 1, -EINVAL, "2 blank disks" },
	{ "ferry.role=ctl", "nvme0n1 nvme1n1 vda", "cbc", 0, -EINVAL,
	  "/dev/nvme0n1 and /dev/vda are labelled ferry-ctl" },
	/* auto, role=both: only a labelled disk; a blank one is the node's too. */
	{ "ferry.role=both", "nvme0n1 nvme1n1", "oc", 0, 1, NULL },
	{ "ferry.role=both", "nvme0n1 nvme1n1", "bb", 1, -ENODEV, "ferry.role=both" },
	{ "ferry.role=both", "nvme0n1", "b", 1, -ENODEV, "name the ctl's blank disk" },
	/* named: that disk whatever the others are; never one with other data. */
	{ "ferry.role=ctl ferry.ctl_disk=nvme1n1", "nvme1n1", "b", 0, 0, NULL },
	{ "ferry.role=both ferry.ctl_disk=/dev/vdb", "vdb", "c", 0, 0, NULL },
	{ "ferry.role=ctl ferry.ctl_disk=nvme1n1", "nvme1n1", "o", 0, -EINVAL,
	  "ferry.ctl_disk=nvme1n1 holds data" },
	{ "ferry.role=ctl ferry.ctl_disk=nvme1n1", "", "", 1, -ENODEV,
	  "ferry.ctl_disk=nvme1n1: no such disk" },
};

static void test_pick(void)
{
	for (size_t i = 0; i < sizeof(pick_cases) / sizeof(pick_cases[0]); i++) {
		const struct pick_case *t = &pick_cases[i];
		struct init_disks cand = { 0 };
		int kind[INIT_MAX_DISKS];
		struct init_cfg cfg;
		char line[256], err[300], names[128], *save = NULL;
		int r;

		snprintf(line, sizeof(line), BASE "%s", t->keys);
		REQUIRE(init_cmdline_parse(line, strlen(line), &cfg, err, sizeof(err)) == 0);
		snprintf(names, sizeof(names), "%s", t->disks);
		for (char *w = strtok_r(names, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
			snprintf(cand.path[cand.n], INIT_MAX_PATH, "/dev/%s", w);
			kind[cand.n] = (int)(strchr(KINDS, t->kinds[cand.n]) - KINDS);
			cand.n++;
		}
		r = init_ctl_disk_pick(&cfg, &cand, kind, t->settled, err, sizeof(err));
		if (r != t->want || (t->want < 0 && !strstr(err, t->msg))) {
			fprintf(stderr, "pick[%zu] %s | %s %s: got %d '%s', want %d '%s'\n", i,
				t->keys, t->disks, t->kinds, r, err, t->want, t->msg ? t->msg : "");
			test_failures++;
		}
	}
}

/* A template: the first 64 KiB look like ext4 labelled ferry-ctl, the rest
 * is a pattern whose every 64 KiB differs. */
static unsigned char *template_bytes(void)
{
	unsigned char *b = malloc(TMPL_SIZE);

	for (size_t i = 0; i < TMPL_SIZE; i++)
		b[i] = (unsigned char)(i * 7 + i / 65536);
	memset(b, 0, 4096);
	b[1024 + 56] = 0x53;
	b[1024 + 57] = 0xef;
	memcpy(b + 1024 + 120, "ferry-ctl", 9);
	return b;
}

static void write_template(const unsigned char *b, size_t len)
{
	gzFile gz = gzopen(tmpl, "wb9");

	REQUIRE(gz != NULL);
	REQUIRE(gzwrite(gz, b, (unsigned)len) == (int)len);
	REQUIRE(gzclose(gz) == Z_OK);
}

static void make_disk(off_t size)
{
	int fd = open(disk, O_RDWR | O_CREAT | O_TRUNC, 0600);

	REQUIRE(fd >= 0);
	REQUIRE(ftruncate(fd, size) == 0);
	close(fd);
}

static int disk_equals(const unsigned char *b, size_t len)
{
	unsigned char *got = malloc(len);
	int fd = open(disk, O_RDONLY), same;

	REQUIRE(fd >= 0);
	same = pread(fd, got, len, 0) == (ssize_t)len && !memcmp(got, b, len);
	close(fd);
	free(got);
	return same;
}

static void test_format(void)
{
	unsigned char *b = template_bytes();
	struct stat st;
	int fd;

	snprintf(tmpl, sizeof(tmpl), "%s/ctl.ext4.gz", dir);
	snprintf(disk, sizeof(disk), "%s/disk", dir);
	write_template(b, TMPL_SIZE);

	/* A blank disk twice the size: the template's bytes, nothing past. */
	make_disk(2 * TMPL_SIZE);
	CHECK_EQ(init_disk_kind(disk), INIT_DISK_BLANK);
	CHECK_EQ(init_ctl_disk_format(tmpl, disk), 0);
	CHECK(disk_equals(b, TMPL_SIZE));
	CHECK_EQ(init_disk_kind(disk), INIT_DISK_CTL);
	REQUIRE(stat(disk, &st) == 0);
	CHECK_EQ(st.st_size, 2 * TMPL_SIZE);

	/* Old data past 64 KiB is overwritten (the template is whole). */
	make_disk(TMPL_SIZE);
	fd = open(disk, O_WRONLY);
	REQUIRE(fd >= 0);
	REQUIRE(pwrite(fd, "old data", 8, 100000) == 8);
	close(fd);
	CHECK_EQ(init_ctl_disk_format(tmpl, disk), 0);
	CHECK(disk_equals(b, TMPL_SIZE));

	/* Too small: refused before anything is written. */
	make_disk(TMPL_SIZE - 4096);
	CHECK_EQ(init_ctl_disk_format(tmpl, disk), -ENOSPC);
	CHECK_EQ(init_disk_kind(disk), INIT_DISK_BLANK);

	/* A template cut short (the trailer says 1 MiB, the stream ends early):
	 * the format fails and the disk is still blank, so the next boot
	 * formats it again rather than mounting half a file system. */
	make_disk(2 * TMPL_SIZE);
	{
		int tfd = open(tmpl, O_RDWR);
		off_t len = lseek(tfd, 0, SEEK_END);
		unsigned char trailer[8];

		REQUIRE(pread(tfd, trailer, 8, len - 8) == 8);
		REQUIRE(ftruncate(tfd, len / 2) == 0);
		REQUIRE(pwrite(tfd, trailer, 8, len / 2) == 8);
		close(tfd);
	}
	CHECK(init_ctl_disk_format(tmpl, disk) < 0);
	CHECK_EQ(init_disk_kind(disk), INIT_DISK_BLANK);

	/* No template at all. */
	CHECK(init_ctl_disk_format("/nonexistent/ctl.ext4.gz", disk) < 0);
	unlink(tmpl);
	unlink(disk);
	free(b);
}

int main(void)
{
	REQUIRE(mkdtemp(dir) != NULL);
	test_pick();
	test_format();
	rmdir(dir);
	return test_done();
}
