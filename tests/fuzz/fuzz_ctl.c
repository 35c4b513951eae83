/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_ctl - the checks of ctl messages on arbitrary bytes (cluster/ctl_msg.h):
 * registrations and heartbeats, admin requests, ctl's answers; the first
 * byte picks which. An accepted message must satisfy what the check
 * promises; a registration's map goes through map_parse as ctl does. */
#include <stdlib.h>
#include <string.h>

#include "cluster/ctl_msg.h"
#include "cluster/map.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cmap m;
	const uint8_t *p = data + 1, *mp;
	uint32_t len = size ? (uint32_t)size - 1 : 0, mlen;

	if (size == 0)
		return 0;
	switch (data[0] % 4) {
	case 0:
	case 1: {
		struct ctl_hello h;

		if (ctl_hello_parse(p, len, data[0] % 2, &h, &mp, &mlen))
			break;
		if (h.magic != CTL_MAGIC || h.epoch > MAP_EPOCH_MAX || h.zone[MAP_ZONE_LEN - 1])
			abort();
		if (!(data[0] % 2) && mp)
			abort(); /* a heartbeat carries no map */
		if (mp && map_parse(mp, mlen, &m) == 0 && m.epoch > MAP_EPOCH_MAX)
			abort();
		break;
	}
	case 2: {
		struct ctl_admin a;

		if (ctl_admin_parse(p, len, &a) == 0 && a.cmd != CTL_ADMIN_LOST)
			abort();
		break;
	}
	default: {
		struct ctl_reply r;

		if (ctl_reply_parse(p, len, &r) == 0 &&
		    (!memchr(r.msg, 0, sizeof(r.msg)) || r.lease_ms > CTL_LEASE_MAX_MS))
			abort();
		break;
	}
	}
	return 0;
}
