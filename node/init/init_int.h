/* SPDX-License-Identifier: Apache-2.0 */
/*
 * init_int.h - the parts of PID 1, private to node/init/.
 * All return 0 or -errno and log what went wrong (one line naming it).
 */
#ifndef FERRY_INIT_INT_H
#define FERRY_INIT_INT_H

#include "init/cmdline.h"

#include <stddef.h>

#define INIT_MODULES_LIST "ferry.modules" /* under /lib/modules/<release>/ */
#define INIT_MODULES_CTL_LIST "ferry-ctl.modules" /* same place: what only ctl needs (ext4) */
#define INIT_MAX_PATH 256

/* modules.c: load the modules named in root/lib/modules/<release>/<list>, in
 * file order, with MOD.param= words of the command line as parameters. A
 * missing list means the image needs no modules for it. */
int init_modules_load(const char *root, const char *list, const char *cmdline, size_t cmdlen);

/* net.c: find the NIC (by ip= device, else by BOOTIF MAC), waiting up to
 * wait_ms for it to appear; bring up lo and it, add the address and the
 * default route. ifname receives the interface name. */
int init_net_setup(const struct init_cfg *cfg, unsigned wait_ms, char ifname[16]);

/* disks.c */
struct init_disks {
	int n;                                 /* entries in path[] */
	char path[INIT_MAX_DISKS][INIT_MAX_PATH]; /* /dev/... */
};
/* init_disks_find - the node's disks: ferry.disks, or auto: nvme*n* and vd*
 * under sysfs except exclude (the ctl's state disk; may be NULL) and disks
 * labelled ferry-ctl. Waits up to wait_ms for them to appear; -ENODEV when
 * none are found. */
int init_disks_find(const struct init_cfg *cfg, unsigned wait_ms, const char *exclude,
		    struct init_disks *out);
/* init_disks_scan_auto - every disk auto mode looks at, sorted, now (no wait). */
int init_disks_scan_auto(struct init_disks *out);
/* init_disk_is_blank - 1 when the first 64 KiB are zero, 0 if not, -errno. */
int init_disk_is_blank(const char *path);
/* init_disk_name_ok - is a /sys/class/block name one auto mode takes? */
int init_disk_name_ok(const char *name);

enum init_disk_kind {
	INIT_DISK_BLANK = 0, /* the first 64 KiB are zero */
	INIT_DISK_CTL = 1,   /* ext4 labelled ferry-ctl: a ctl state disk */
	INIT_DISK_OTHER = 2, /* anything else: a Ferry store, a foreign file system */
};
/* init_disk_kind - what the start of the disk at path holds, or -errno. */
int init_disk_kind(const char *path);

/* ctldisk.c: where ferry ctl keeps its state (see the comment at its top). */
#define INIT_CTL_MNT       "/var/lib/ferry/ctl"  /* the state disk; ctl --state */
#define INIT_CTL_TMPFS     "/run/ferry/ctl"      /* ferry.ctl_disk=tmpfs: lost at reboot */
#define INIT_CTL_TEMPLATE  "/lib/ferry/ctl-state.ext4.gz" /* from image/build.sh */
#define INIT_CTL_LABEL     "ferry-ctl"           /* ext4 volume label of a state disk */
#define INIT_CTL_SETTLE_MS 1000 /* disk set unchanged this long: decide from absence */

/* init_ctl_disk_pick - the choice among candidates (pure, for tests). cand
 * holds the named disk if it exists (ferry.ctl_disk=NAME), else every disk
 * auto mode sees; kind[] their kinds; settled: no new disks for a while.
 * Returns the index of the state disk; -EAGAIN to look again; -ENODEV when
 * nothing fits yet (look again until the deadline); -EINVAL when no later
 * disk can change the answer. err names the problem in every failure. */
int init_ctl_disk_pick(const struct init_cfg *cfg, const struct init_disks *cand, const int *kind,
		       int settled, char *err, size_t errlen);
/* init_ctl_disk_find - wait up to wait_ms for the state disk; path and its
 * kind (BLANK or CTL) on success. Logs the reason on failure. */
int init_ctl_disk_find(const struct init_cfg *cfg, unsigned wait_ms, char path[INIT_MAX_PATH],
		       int *kind);
/* init_ctl_disk_format - write the gzip'd file system image tmpl onto dev,
 * its first 64 KiB last. -ENOSPC when dev is smaller than the image. */
int init_ctl_disk_format(const char *tmpl, const char *dev);
/* init_ctl_disk_mount - mount dev's ext4 on mnt (created). */
int init_ctl_disk_mount(const char *dev, const char *mnt);

/* probe.c: one log line of what the box can do (never fails). */
void init_probe_log(const char *ifname);

#endif
