/* SPDX-License-Identifier: Apache-2.0 */
/*
 * modules.c - load the board's kernel modules with finit_module().
 *
 * The image build resolves the dependency closure on the build host
 * (modprobe --show-depends) and writes the load order into
 * /lib/modules/<release>/ferry.modules, one path per line relative to that
 * directory. Doing it in that order needs no modules.dep parser here.
 * ferry-ctl.modules, in the same form, lists what only a ctl box loads (the
 * ext4 closure for its state disk), so node boxes do not pay for it.
 */
#include "init/init_int.h"

#include "common/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

/* modules_name - "kernel/drivers/net/virtio_net.ko" -> "virtio_net". */
static void modules_name(const char *path, char *out, size_t outlen)
{
	const char *b = strrchr(path, '/');
	size_t n;

	b = b ? b + 1 : path;
	n = strcspn(b, ".");
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, b, n);
	out[n] = '\0';
}

/* modules_other_release - is there a /lib/modules/<other> in the initramfs? */
static int modules_other_release(const char *root, const char *release, char *other,
				 size_t olen)
{
	char path[INIT_MAX_PATH];
	struct dirent *de;
	DIR *d;
	int found = 0;

	snprintf(path, sizeof(path), "%s/lib/modules", root);
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && strcmp(de->d_name, release)) {
			snprintf(other, olen, "%.100s", de->d_name);
			found = 1;
			break;
		}
	closedir(d);
	return found;
}

int init_modules_load(const char *root, const char *lname, const char *cmdline,
		      size_t cmdlen)
{
	char dir[INIT_MAX_PATH], list[INIT_MAX_PATH + 32], line[INIT_MAX_PATH];
	char path[INIT_MAX_PATH * 2 + 2], name[64], params[512];
	struct utsname u;
	FILE *f = NULL;
	int r = 0, loaded = 0, already = 0;

	if (uname(&u) < 0)
		return -errno;
	snprintf(dir, sizeof(dir), "%s/lib/modules/%s", root, u.release);
	snprintf(list, sizeof(list), "%s/%.30s", dir, lname);
	f = fopen(list, "re");
	if (!f) {
		r = -errno;
		if (r == -ENOENT && modules_other_release(root, u.release, dir, sizeof(dir))) {
			log_err("modules: the initramfs has modules for kernel %s but this is %s",
				dir, u.release);
		} else if (r == -ENOENT) {
			log_info("modules: no %s; kernel %s needs none from the initramfs", list,
				 u.release);
			r = 0;
		} else {
			log_err("modules: cannot open %s: %s", list, strerror(-r));
		}
		goto out;
	}
	while (fgets(line, sizeof(line), f)) {
		size_t n = strcspn(line, "\r\n");
		int fd;

		line[n] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, line);
		modules_name(line, name, sizeof(name));
		if (init_cmdline_modparams(cmdline, cmdlen, name, params, sizeof(params)) < 0) {
			log_err("modules: parameters for %s too long", name);
			r = -E2BIG;
			goto out;
		}
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			r = -errno;
			log_err("modules: cannot open %s: %s", path, strerror(-r));
			goto out;
		}
		if (syscall(SYS_finit_module, fd, params, 0) < 0) {
			int e = errno;

			close(fd);
			if (e == EEXIST) {
				already++;
				continue;
			}
			/* Hardware-specific helpers (e.g. a CPU's crypto) may find
			 * nothing to drive; that is not the node's problem. */
			if (e == ENODEV || e == ENXIO) {
				log_warn("modules: %s: %s (skipped)", name, strerror(e));
				continue;
			}
			r = -e;
			log_err("modules: loading %s (%s) failed: %s", name, line, strerror(e));
			goto out;
		}
		close(fd);
		loaded++;
		log_debug("modules: loaded %s%s%s", name, params[0] ? " " : "", params);
	}
	log_info("modules: %d loaded, %d already present (%s, kernel %s)", loaded, already, lname,
		 u.release);
out:
	if (f)
		fclose(f);
	return r;
}
