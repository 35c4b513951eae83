/* SPDX-License-Identifier: Apache-2.0 */
/*
 * disks.c - find the node's disks.
 *
 * Auto mode takes whole NVMe namespaces (nvme<C>n<N>, no partitions) and
 * virtio disks (vd<letters>). Which of them belong to this cluster is the
 * storage engine's call (store_open refuses foreign superblocks); here we
 * only tell blank disks apart, for ferry.format=1.
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

/* disks_scan - one pass over /sys/class/block. */
static int disks_scan(const struct init_cfg *cfg, struct init_disks *out)
{
	DIR *d;
	struct dirent *de;

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
	d = opendir("/sys/class/block");
	if (!d)
		return -errno;
	while ((de = readdir(d)) && out->n < INIT_MAX_DISKS)
		if (init_disk_name_ok(de->d_name))
			snprintf(out->path[out->n++], INIT_MAX_PATH, "/dev/%.200s", de->d_name);
	closedir(d);
	qsort(out->path, (size_t)out->n, sizeof(out->path[0]), disks_cmp);
	return out->n ? 0 : -ENODEV;
}

int init_disks_find(const struct init_cfg *cfg, unsigned wait_ms, struct init_disks *out)
{
	unsigned waited = 0;
	int r;

	for (;;) {
		r = disks_scan(cfg, out);
		if (r != -ENODEV || waited >= wait_ms)
			break;
		struct timespec ts = { .tv_sec = 0, .tv_nsec = 100 * 1000000L };

		nanosleep(&ts, NULL);
		waited += 100;
	}
	if (r == -ENODEV) {
		if (cfg->disks_auto)
			log_err("disks: no disks found (looked for nvme*n* and vd* in "
				"/sys/class/block for %u ms)", waited);
		else
			log_err("disks: only %d of the %d disks in ferry.disks= exist after %u ms",
				out->n, cfg->ndisks, waited);
	} else if (r) {
		log_err("disks: /sys/class/block: %s", strerror(-r));
	}
	return r;
}

int init_disk_is_blank(const char *path)
{
	static unsigned char buf[DISK_BLANK_BYTES];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0)
		return -errno;
	n = pread(fd, buf, sizeof(buf), 0);
	if (n < 0) {
		r = -errno;
		goto out;
	}
	r = 1;
	for (ssize_t i = 0; i < n; i++)
		if (buf[i]) {
			r = 0;
			break;
		}
out:
	close(fd);
	return r;
}
