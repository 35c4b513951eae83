/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nodectl.h - a node's link to ctl: register, heartbeat, follow the map.
 *
 * Uses its own kernel UDP socket (control traffic never takes the AF_XDP
 * data path) and its own rpc_client; never blocks: nodectl_poll sends what
 * is due and takes answers. When ctl is unreachable the node keeps the last
 * map and keeps serving; heartbeats resume when ctl is back. A refusal
 * (disk of another cluster, UUID already up elsewhere) is fatal: the node
 * logs ctl's reason and stops.
 */
#ifndef FERRY_CLUSTER_NODECTL_H
#define FERRY_CLUSTER_NODECTL_H

#include <stdint.h>

#include "cluster/ctl_proto.h"
#include "cluster/map.h"
#include "net/transport.h"

struct nodectl_cfg {
	const char *ctl;           /* ctl IP:PORT */
	struct ctl_hello hello;    /* identity (cluster, node, address, zone, weight) */
	uint32_t heartbeat_ms;     /* 0 = 300 */
};

struct nodectl;

int nodectl_open(const struct nodectl_cfg *cfg, struct nodectl **out);
void nodectl_close(struct nodectl *nc);
/* nodectl_poll - heartbeats, map fetches, answers. figures: the current
 * usage/recovery fields of struct ctl_hello (identity fields ignored).
 * Returns 1 when a new map arrived (nodectl_map), 0 otherwise, -errno when
 * ctl refused this node (fatal; the reason is logged). */
int nodectl_poll(struct nodectl *nc, const struct ctl_hello *figures);
/* nodectl_want_map - a peer showed a newer epoch: fetch now. */
void nodectl_want_map(struct nodectl *nc, uint64_t epoch);
const struct cmap *nodectl_map(const struct nodectl *nc);
/* nodectl_rejoined - ctl said this node had been down/out (reset on read). */
int nodectl_rejoined(struct nodectl *nc);
int nodectl_fd(struct nodectl *nc);

#endif
