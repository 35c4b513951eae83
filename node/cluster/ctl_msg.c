/* SPDX-License-Identifier: Apache-2.0 */
/* ctl_msg.c - checks of ctl messages (see ctl_msg.h). */
#include "cluster/ctl_msg.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "cluster/map.h"

int ctl_hello_parse(const uint8_t *p, uint32_t len, int reg, struct ctl_hello *h,
		    const uint8_t **map, uint32_t *map_len)
{
	const char *nul;

	if (len < sizeof(*h) || (!reg && len != sizeof(*h)))
		return -EINVAL;
	memcpy(h, p, sizeof(*h));
	if (h->magic != CTL_MAGIC || h->len != sizeof(*h) || h->reserved || h->pad ||
	    (h->family != AF_INET && h->family != AF_INET6) || h->port == 0 ||
	    h->epoch > MAP_EPOCH_MAX || h->walk_epoch > MAP_EPOCH_MAX)
		return -EINVAL;
	nul = memchr(h->zone, 0, MAP_ZONE_LEN);
	if (!nul)
		return -EINVAL;
	memset((char *)nul, 0, (size_t)(h->zone + MAP_ZONE_LEN - nul));
	*map = len > sizeof(*h) ? p + sizeof(*h) : NULL;
	*map_len = len - (uint32_t)sizeof(*h);
	return 0;
}

int ctl_admin_parse(const uint8_t *p, uint32_t len, struct ctl_admin *a)
{
	if (len != sizeof(*a))
		return -EINVAL;
	memcpy(a, p, sizeof(*a));
	return a->magic == CTL_MAGIC && a->cmd == CTL_ADMIN_LOST ? 0 : -EINVAL;
}

int ctl_reply_parse(const uint8_t *p, uint32_t len, struct ctl_reply *r)
{
	if (len != sizeof(*r))
		return -EINVAL;
	memcpy(r, p, sizeof(*r));
	if (!memchr(r->msg, 0, sizeof(r->msg)) || r->epoch > MAP_EPOCH_MAX ||
	    r->lease_epoch > MAP_EPOCH_MAX || r->lease_ms > CTL_LEASE_MAX_MS ||
	    (r->lease_ms && r->lease_epoch == 0))
		return -EINVAL;
	return 0;
}
