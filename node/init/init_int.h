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
#define INIT_MAX_PATH 256

/* modules.c: load the modules named in root/lib/modules/<release>/ferry.modules,
 * in file order, with MOD.param= words of the command line as parameters. */
int init_modules_load(const char *root, const char *cmdline, size_t cmdlen);

/* net.c: find the NIC (by ip= device, else by BOOTIF MAC), waiting up to
 * wait_ms for it to appear; bring up lo and it, add the address and the
 * default route. ifname receives the interface name. */
int init_net_setup(const struct init_cfg *cfg, unsigned wait_ms, char ifname[16]);

/* disks.c */
struct init_disks {
	int n;                                 /* entries in path[] */
	char path[INIT_MAX_DISKS][INIT_MAX_PATH]; /* /dev/... */
};
/* init_disks_find - ferry.disks (or auto: nvme*n*, vd*) under sysfs, waiting
 * up to wait_ms for them to appear. -ENODEV when none are found. */
int init_disks_find(const struct init_cfg *cfg, unsigned wait_ms, struct init_disks *out);
/* init_disk_is_blank - 1 when the first 64 KiB are zero, 0 if not, -errno. */
int init_disk_is_blank(const char *path);
/* init_disk_name_ok - is a /sys/class/block name one auto mode takes? */
int init_disk_name_ok(const char *name);

/* probe.c: one log line of what the box can do (never fails). */
void init_probe_log(const char *ifname);

#endif
