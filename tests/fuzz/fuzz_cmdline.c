/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_cmdline - libFuzzer target for the PID 1 kernel command line parser.
 * Any bytes must parse or fail cleanly; on success the result must be
 * self-consistent (the invariants the rest of init relies on).
 */
#include "init/cmdline.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct init_cfg c;
	char err[200], params[256];

	if (init_cmdline_parse((const char *)data, size, &c, err, sizeof(err)) == 0) {
		if (!c.ip.set || c.ip.prefix < 0 || c.ip.prefix > 32)
			abort();
		if (!c.ip.device[0] && !c.has_bootif)
			abort();
		if (c.format && !c.has_cluster)
			abort();
		if (c.ndisks < 0 || c.ndisks > INIT_MAX_DISKS || (c.disks_auto && c.ndisks))
			abort();
		for (int i = 0; i < c.ndisks; i++)
			if (!c.disks[i][0] || strstr(c.disks[i], ".."))
				abort();
		if (c.port == 0 || (c.ctl[0] && c.ctl_port == 0))
			abort();
		/* What init hands to ferry ctl must be what ctl accepts. */
		if (c.replicas > INIT_REPLICAS_MAX || c.min_copies > INIT_REPLICAS_MAX)
			abort();
		if (c.replicas && c.min_copies > c.replicas)
			abort();
		if (c.lease_ms && c.down_after_ms && c.lease_ms > c.down_after_ms / 2)
			abort();
		if (c.ctl_tmpfs && c.ctl_disk[0])
			abort();
		if (strstr(c.ctl_disk, "..") || !memchr(c.ctl_disk, '\0', sizeof(c.ctl_disk)))
			abort();
	} else if (!memchr(err, '\0', sizeof(err)) || !err[0]) {
		abort(); /* every error names its problem */
	}
	init_cmdline_modparams((const char *)data, size, "nvme", params, sizeof(params));
	init_cmdline_modparams((const char *)data, size, "virtio-net", params, sizeof(params));
	return 0;
}
