/* SPDX-License-Identifier: Apache-2.0 */
/*
 * disks.c - find the node's disks.
 *
 * Auto mode takes whole NVMe namespaces (nvme<C>n<N>, no partitions) and
 * virtio disks (vd<letters>), except a ctl's state disk (ext4 labelled
 * ferry-ctl, see ctldisk.c). Which of them belong to this cluster is the
 * storage engine's call (store_open refuses foreign superblocks); here we
 * only tell blank disks apart, for ferry.format=1, and state disks.
 */
#include "init/init_int.h"

#include "common/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DISK_BLANK_BYTES (64 * 1024)
/* ext4 superblock: at byte 1024; s_magic at +56 (0xEF53 LE), s_volume_name[16] at +120. */
#define DISK_EXT4_SB      1024
#define DISK_EXT4_MAGIC   56
#define DISK_EXT4_LABEL   120

int init_disk_name_ok(const char *s)
{
	const char *p;

	if (!strncmp(s, "nvme", 4)) {
		p = s + 4;
		if (*p < '0' || *p > '9')
			return 0;
		while (*p >= '0' && *p <= '9')
			p++;
		if (*p++ != 'n' || *p < '0' || *p > '9')
			return 0;
		while (*p >= '0' && *p <= '9')
			p++;
		return *p == '\0';
	}
	if (!strncmp(s, "vd", 2) && s[2]) {
		for (p = s + 2; *p; p++)
			if (*p < 'a' || *p > 'z')
				return 0;
		return 1;
	}
	return 0;
}

static int disks_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

int init_disks_scan_auto(struct init_disks *out)
{
	DIR *d;
	struct dirent *de;

	out->n = 0;
	d = opendir("/sys/class/block");
	if (!d)
		return -errno;
	while ((de = readdir(d)) && out->n < INIT_MAX_DISKS)
		if (init_disk_name_ok(de->d_name))
			snprintf(out->path[out->n++], INIT_MAX_PATH, "/dev/%.200s", de->d_name);
	closedir(d);
	qsort(out->path, (size_t)out->n, sizeof(out->path[0]), disks_cmp);
	return 0;
}

/* disks_scan - one pass over /sys/class/block. */
static int disks_scan(const struct init_cfg *cfg, const char *exclude, struct init_disks *out)
{
	int r, n = 0;

	out->n = 0;
	if (!cfg->disks_auto) {
		for (int i = 0; i < cfg->ndisks; i++) {
			const char *name = cfg->disks[i];

			if (!strncmp(name, "/dev/", 5))
				snprintf(out->path[out->n], INIT_MAX_PATH, "%s", name);
			else
				snprintf(out->path[out->n], INIT_MAX_PATH, "/dev/%s", name);
			if (access(out->path[out->n], F_OK) == 0)
				out->n++;
		}
		return out->n == cfg->ndisks ? 0 : -ENODEV;
	}
	r = init_disks_scan_auto(out);
	if (r)
		return r;
	/* A state disk is the ctl's, here or on the box it came from. */
	for (int i = 0; i < out->n; i++) {
		if ((exclude && !strcmp(out->path[i], exclude)) ||
		    init_disk_kind(out->path[i]) == INIT_DISK_CTL)
			continue;
		if (n != i)
			memcpy(out->path[n], out->path[i], sizeof(out->path[n]));
		n++;
	}
	out->n = n;
	return out->n ? 0 : -ENODEV;
}

int init_disks_find(const struct init_cfg *cfg, unsigned wait_ms, const char *exclude,
		    struct init_disks *out)
{
	unsigned waited = 0;
	int r;

	for (;;) {
		r = disks_scan(cfg, exclude, out);
		if (r != -ENODEV || waited >= wait_ms)
			break;
		struct timespec ts = { .tv_sec = 0, .tv_nsec = 100 * 1000000L };

		nanosleep(&ts, NULL);
		waited += 100;
	}
	if (r == -ENODEV) {
		if (cfg->disks_auto)
			log_err("disks: no disks found (looked for nvme*n* and vd* in "
				"/sys/class/block for %u ms%s)", waited,
				exclude ? ", besides the ctl's state disk" : "");
		else
			log_err("disks: only %d of the %d disks in ferry.disks= exist after %u ms",
				out->n, cfg->ndisks, waited);
	} else if (r) {
		log_err("disks: /sys/class/block: %s", strerror(-r));
	}
	return r;
}

int init_disk_kind(const char *path)
{
	static unsigned char buf[DISK_BLANK_BYTES];
	static const char label[16] = INIT_CTL_LABEL;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0)
		return -errno;
	n = pread(fd, buf, sizeof(buf), 0);
	if (n < 0) {
		r = -errno;
		goto out;
	}
	r = INIT_DISK_BLANK;
	for (ssize_t i = 0; i < n; i++)
		if (buf[i]) {
			r = INIT_DISK_OTHER;
			break;
		}
	if (r == INIT_DISK_OTHER && n >= DISK_EXT4_SB + DISK_EXT4_LABEL + 16 &&
	    buf[DISK_EXT4_SB + DISK_EXT4_MAGIC] == 0x53 &&
	    buf[DISK_EXT4_SB + DISK_EXT4_MAGIC + 1] == 0xef &&
	    !memcmp(buf + DISK_EXT4_SB + DISK_EXT4_LABEL, label, sizeof(label)))
		r = INIT_DISK_CTL;
out:
	close(fd);
	return r;
}

int init_disk_is_blank(const char *path)
{
	int k = init_disk_kind(path);

	return k < 0 ? k : k == INIT_DISK_BLANK;
}
