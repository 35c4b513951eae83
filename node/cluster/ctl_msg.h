/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctl_msg.h - checks of what crosses the ctl port (bpf/ferry_cluster.h):
 * registrations and heartbeats (ctl side), admin requests (ctl side), and
 * ctl's answers (node side). Pure functions over untrusted bytes, fuzzed by
 * tests/fuzz/fuzz_ctl.c.
 */
#ifndef FERRY_CLUSTER_CTL_MSG_H
#define FERRY_CLUSTER_CTL_MSG_H

#include <stdint.h>

#include "ferry_cluster.h"

/* ctl_hello_parse - a REGISTER (reg = 1) or HEARTBEAT payload of len bytes
 * into *h: magic, length, reserved fields, address family and port, a
 * NUL-terminated zone (padded with zeros after the NUL here), an epoch no
 * larger than MAP_EPOCH_MAX. A registration may carry the node's map after
 * the hello (*map, *map_len; checked by map_parse, not here); a heartbeat
 * carries nothing more. 0 or -EINVAL. */
int ctl_hello_parse(const uint8_t *p, uint32_t len, int reg, struct ctl_hello *h,
		    const uint8_t **map, uint32_t *map_len);
/* ctl_admin_parse - an ADMIN payload: its magic and a known command; 0 or
 * -EINVAL. */
int ctl_admin_parse(const uint8_t *p, uint32_t len, struct ctl_admin *a);
/* ctl_reply_parse - ctl's answer: the size, a NUL-terminated message, and
 * a lease no longer than one a ctl grants (CTL_LEASE_MAX_MS) on an epoch no
 * larger than MAP_EPOCH_MAX; 0 or -EINVAL. */
int ctl_reply_parse(const uint8_t *p, uint32_t len, struct ctl_reply *r);

#define CTL_LEASE_MAX_MS 60000u /* leases are half of --down-after: far below this */

#endif
