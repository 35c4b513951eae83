/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctldisk.c - the disk where a ctl box keeps ferry ctl's state.
 *
 * ferry ctl saves its map (epoch, members, R) as a file in a directory and
 * fsyncs it before answering, so it needs a file system that survives a
 * reboot: tmpfs, which the image had, lost the map at every ctl reboot.
 *
 * The state disk is ext4 labelled "ferry-ctl", mounted at INIT_CTL_MNT.
 * Why ext4: the map is written as temp file, fsync, rename, fsync dir, and
 * only a journalling file system makes that rename atomic across a power
 * cut; the board kernel has ext4 (as a module, loaded from the image's
 * ferry-ctl.modules list only on ctl boxes). The image has no mkfs, and
 * writing ext4 metadata ourselves would be a second mkfs to get right, so
 * image/build.sh runs the build host's mke2fs once, reproducibly, on a
 * 16 MiB file and ships it gzip'd (about 17 KB) as INIT_CTL_TEMPLATE.
 * Formatting a blank disk is inflating that file onto it. The file system
 * is as large as the template whatever the disk's size; the map is a few
 * KB. Every ctl disk has the same ext4 UUID; nothing mounts by UUID.
 *
 * Which disk (ferry.ctl_disk, default auto):
 *   NAME   that disk: mounted if labelled ferry-ctl, formatted if blank,
 *          refused if it holds anything else.
 *   auto   the disk labelled ferry-ctl; on a first boot of a ferry.role=ctl
 *          box, its only blank disk. A ctl+node box (role both) must name
 *          its blank state disk the first time: two blank disks cannot be
 *          told apart.
 *   tmpfs  no disk: the state lives in RAM and dies with every reboot
 *          (init.c says so loudly); for throwaway clusters only.
 * Without any of these init refuses to start ctl (a fatal error): a ctl
 * that silently forgets the cluster map is worse than one that is not up.
 */
#include "init/init_int.h"

#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define CTL_IO_CHUNK  (64 * 1024) /* inflate and write unit; also the "blank" prefix */
#define CTL_POLL_MS   100

static int ctl_is_named(const struct init_cfg *cfg)
{
	return cfg->ctl_disk[0] != '\0';
}

int init_ctl_disk_pick(const struct init_cfg *cfg, const struct init_disks *cand, const int *kind,
		       int settled, char *err, size_t errlen)
{
	int nctl = 0, nblank = 0, ictl = -1, ictl2 = -1, iblank = -1;

	if (errlen)
		err[0] = '\0';
	for (int i = 0; i < cand->n; i++) {
		if (kind[i] == INIT_DISK_CTL) {
			if (nctl++ == 0)
				ictl = i;
			else if (nctl == 2)
				ictl2 = i;
		} else if (kind[i] == INIT_DISK_BLANK) {
			if (nblank++ == 0)
				iblank = i;
		}
	}
	if (ctl_is_named(cfg)) {
		if (cand->n == 0) {
			snprintf(err, errlen, "ferry.ctl_disk=%s: no such disk", cfg->ctl_disk);
			return -ENODEV;
		}
		if (kind[0] == INIT_DISK_OTHER) {
			snprintf(err, errlen,
				 "ferry.ctl_disk=%s holds data but no ext4 labelled " INIT_CTL_LABEL
				 "; refusing to format it (zero its first 64 KiB to allow that)",
				 cfg->ctl_disk);
			return -EINVAL;
		}
		return 0;
	}
	if (nctl > 1) {
		snprintf(err, errlen,
			 "%d ctl state disks (%s and %s are labelled " INIT_CTL_LABEL "); name "
			 "the one to use with ferry.ctl_disk=", nctl, cand->path[ictl],
			 cand->path[ictl2]);
		return -EINVAL;
	}
	if (nctl == 1)
		return ictl;
	/* No labelled disk yet: deciding from what is missing waits until the
	 * devices stopped appearing, or a later NVMe namespace could be the
	 * labelled one. */
	if (!settled) {
		snprintf(err, errlen, "waiting for the disks to settle");
		return -EAGAIN;
	}
	if (cand->n == 0) {
		snprintf(err, errlen,
			 "no state disk: no disk at all (looked for nvme*n* and vd*); give the "
			 "ctl box a blank disk of 16 MiB or more, or set ferry.ctl_disk=tmpfs "
			 "to keep the state in RAM");
		return -ENODEV;
	}
	if (cfg->role != INIT_ROLE_CTL) {
		snprintf(err, errlen,
			 "no state disk: no disk is labelled " INIT_CTL_LABEL " and a ctl+node "
			 "box (ferry.role=both) does not guess which disk is the node's; name "
			 "the ctl's blank disk with ferry.ctl_disk=");
		return -ENODEV;
	}
	if (nblank == 1)
		return iblank;
	if (nblank == 0) {
		snprintf(err, errlen,
			 "no state disk: no disk is labelled " INIT_CTL_LABEL " or blank (%d with "
			 "other data, e.g. %s); refusing to format one: zero the first 64 KiB "
			 "of the disk to use, or name it with ferry.ctl_disk=", cand->n,
			 cand->path[0]);
		return -EINVAL;
	}
	snprintf(err, errlen,
		 "no state disk: %d blank disks and none labelled " INIT_CTL_LABEL "; name "
		 "the one to format with ferry.ctl_disk=", nblank);
	return -EINVAL;
}

/* ctl_scan - the candidates: the named disk if it exists, else every disk
 * auto mode would look at. */
static int ctl_scan(const struct init_cfg *cfg, struct init_disks *out)
{
	if (!ctl_is_named(cfg))
		return init_disks_scan_auto(out);
	out->n = 0;
	if (!strncmp(cfg->ctl_disk, "/dev/", 5))
		snprintf(out->path[0], INIT_MAX_PATH, "%s", cfg->ctl_disk);
	else
		snprintf(out->path[0], INIT_MAX_PATH, "/dev/%s", cfg->ctl_disk);
	if (access(out->path[0], F_OK) == 0)
		out->n = 1;
	return 0;
}

static int ctl_same(const struct init_disks *a, const struct init_disks *b)
{
	if (a->n != b->n)
		return 0;
	for (int i = 0; i < a->n; i++)
		if (strcmp(a->path[i], b->path[i]))
			return 0;
	return 1;
}

int init_ctl_disk_find(const struct init_cfg *cfg, unsigned wait_ms, char path[INIT_MAX_PATH],
		       int *kind_out)
{
	static struct init_disks cand, prev;
	int kind[INIT_MAX_DISKS];
	char err[300];
	unsigned waited = 0, stable = 0;
	int r;

	prev.n = -1;
	for (;;) {
		r = ctl_scan(cfg, &cand);
		if (r) {
			log_err("ctl: looking for the state disk: %s", strerror(-r));
			return r;
		}
		if (!ctl_same(&cand, &prev)) {
			prev = cand;
			stable = 0;
		}
		for (int i = 0; i < cand.n; i++) {
			kind[i] = init_disk_kind(cand.path[i]);
			if (kind[i] < 0) {
				log_err("ctl: reading %s: %s", cand.path[i], strerror(-kind[i]));
				return kind[i];
			}
		}
		r = init_ctl_disk_pick(cfg, &cand, kind, stable >= INIT_CTL_SETTLE_MS ||
				       waited >= wait_ms, err, sizeof(err));
		if (r >= 0) {
			snprintf(path, INIT_MAX_PATH, "%s", cand.path[r]);
			*kind_out = kind[r];
			return 0;
		}
		if (r == -EINVAL || waited >= wait_ms) {
			if (r != -EINVAL)
				log_err("ctl: %s (waited %u ms)", err, waited);
			else
				log_err("ctl: %s", err);
			return r == -EAGAIN ? -ENODEV : r;
		}
		struct timespec ts = { .tv_sec = 0, .tv_nsec = CTL_POLL_MS * 1000000L };

		nanosleep(&ts, NULL);
		waited += CTL_POLL_MS;
		stable += CTL_POLL_MS;
	}
}

/* ctl_read_full - gzread until len bytes or the end; returns bytes or -EIO. */
static ssize_t ctl_read_full(gzFile gz, unsigned char *buf, size_t len)
{
	size_t n = 0;

	while (n < len) {
		int r = gzread(gz, buf + n, (unsigned)(len - n));

		if (r < 0)
			return -EIO;
		if (r == 0)
			break;
		n += (size_t)r;
	}
	return (ssize_t)n;
}

/* ctl_pwrite_full - all of it, or -errno. */
static int ctl_pwrite_full(int fd, const unsigned char *buf, size_t len, off_t off)
{
	while (len) {
		ssize_t w = pwrite(fd, buf, len, off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		buf += w;
		len -= (size_t)w;
		off += w;
	}
	return 0;
}

/* ctl_template_size - the uncompressed size from the gzip trailer (ISIZE,
 * mod 2^32; the template is 16 MiB), so a small disk is refused before
 * anything is written. */
static int ctl_template_size(const char *tmpl, uint64_t *size)
{
	unsigned char t[4];
	struct stat st;
	int fd = open(tmpl, O_RDONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (st.st_size < 18 || pread(fd, t, 4, st.st_size - 4) != 4)
		r = -EINVAL;
	else
		*size = (uint64_t)t[0] | (uint64_t)t[1] << 8 | (uint64_t)t[2] << 16 |
			(uint64_t)t[3] << 24;
	close(fd);
	return r;
}

int init_ctl_disk_format(const char *tmpl, const char *dev)
{
	static unsigned char head[CTL_IO_CHUNK], buf[CTL_IO_CHUNK];
	uint64_t want = 0, off = 0;
	gzFile gz = NULL;
	ssize_t hlen = 0, n = 0;
	off_t devsize;
	int fd, r;

	r = ctl_template_size(tmpl, &want);
	if (r) {
		log_err("ctl: the file system template %s: %s", tmpl, strerror(-r));
		return r;
	}
	fd = open(dev, O_RDWR | O_CLOEXEC | O_EXCL);
	if (fd < 0) {
		r = -errno;
		log_err("ctl: opening %s: %s", dev, strerror(-r));
		return r;
	}
	devsize = lseek(fd, 0, SEEK_END);
	if (devsize < 0 || (uint64_t)devsize < want) {
		r = devsize < 0 ? -errno : -ENOSPC;
		log_err("ctl: %s has %lld bytes; the state file system needs %llu", dev,
			(long long)devsize, (unsigned long long)want);
		goto out;
	}
	gz = gzopen(tmpl, "rb");
	if (!gz) {
		r = errno ? -errno : -ENOMEM;
		log_err("ctl: opening %s: %s", tmpl, strerror(-r));
		goto out;
	}
	/* The first 64 KiB (the ext4 superblock and its label) go last, after
	 * everything else is on the disk: a power cut mid-format leaves the
	 * disk "blank", and the next boot formats it again. */
	hlen = ctl_read_full(gz, head, sizeof(head));
	off = hlen > 0 ? (uint64_t)hlen : 0;
	while (hlen == (ssize_t)sizeof(head) && (n = ctl_read_full(gz, buf, sizeof(buf))) > 0) {
		if (off + (uint64_t)n > want) {
			n = -EIO;
			break;
		}
		r = ctl_pwrite_full(fd, buf, (size_t)n, (off_t)off);
		if (r)
			goto write_failed;
		off += (uint64_t)n;
		if (n < (ssize_t)sizeof(buf))
			break;
	}
	if (hlen < 0 || (hlen == (ssize_t)sizeof(head) && n < 0) || off != want) {
		r = -EIO;
		log_err("ctl: %s is not a whole gzip file of %llu bytes (read %llu)", tmpl,
			(unsigned long long)want, (unsigned long long)off);
		goto out;
	}
	if (fsync(fd) < 0) {
		r = -errno;
		goto write_failed;
	}
	r = ctl_pwrite_full(fd, head, (size_t)hlen, 0);
	if (r)
		goto write_failed;
	if (fsync(fd) < 0) {
		r = -errno;
		goto write_failed;
	}
	log_info("ctl: wrote the %llu-byte state file system onto %s",
		 (unsigned long long)want, dev);
	goto out;
write_failed:
	log_err("ctl: writing %s: %s", dev, strerror(-r));
out:
	if (gz)
		gzclose(gz);
	close(fd);
	return r;
}

/* ctl_mkdir_p - each component of an absolute path; existing ones are fine. */
static int ctl_mkdir_p(const char *path)
{
	char p[INIT_MAX_PATH];

	snprintf(p, sizeof(p), "%s", path);
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;

		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return -errno;
		*s = c;
		if (!c)
			return 0;
	}
}

int init_ctl_disk_mount(const char *dev, const char *mnt)
{
	int r = ctl_mkdir_p(mnt);

	if (r) {
		log_err("ctl: mkdir %s: %s", mnt, strerror(-r));
		return r;
	}
	/* errors=remount-ro: a damaged state file system makes ctl's saves
	 * fail (and ctl says so) instead of quietly writing into it. */
	if (mount(dev, mnt, "ext4", MS_NOATIME | MS_NODEV | MS_NOEXEC | MS_NOSUID,
		  "errors=remount-ro") < 0) {
		r = -errno;
		if (r == -ENODEV)
			log_err("ctl: mounting %s: the kernel has no ext4 (is ext4 in "
				INIT_MODULES_CTL_LIST "?)", dev);
		else
			log_err("ctl: mounting the state disk %s on %s: %s", dev, mnt,
				strerror(-r));
		return r;
	}
	return 0;
}
