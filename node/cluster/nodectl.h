/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nodectl.h - a node's link to ctl: register, heartbeat, follow the map,
 * hold the lease.
 *
 * Control traffic never takes the AF_XDP data path: the caller gives a
 * transport of its own (a kernel UDP socket in production). Never blocks:
 * nodectl_poll sends what is due and takes answers. When ctl is unreachable
 * the node keeps the last map; its lease runs out (cluster/ctl.h), so it
 * stops serving until ctl answers again. A refusal (disk of another
 * cluster, UUID up elsewhere, declared lost, an epoch ctl does not believe)
 * is fatal: the node logs ctl's reason and stops.
 *
 * A registration carries the node's current map, so that a ctl which lost
 * its state can rebuild it from its nodes.
 */
#ifndef FERRY_CLUSTER_NODECTL_H
#define FERRY_CLUSTER_NODECTL_H

#include <stdint.h>

#include "cluster/map.h"
#include "common/env.h"
#include "net/transport.h"

struct nodectl_cfg {
	struct net_addr ctl;       /* ctl's address */
	struct transport *t;       /* a transport for ctl traffic (not closed here) */
	const struct env *env;     /* clock and ids */
	struct ctl_hello hello;    /* identity (cluster, node, address, zone, weight) */
	uint32_t heartbeat_ms;     /* 0 = 300 */
};

struct nodectl;

int nodectl_open(const struct nodectl_cfg *cfg, struct nodectl **out);
void nodectl_close(struct nodectl *nc);
/* nodectl_poll - take what arrived on the transport, send heartbeats and map
 * fetches that are due. figures: the current usage/recovery fields of
 * struct ctl_hello (identity fields ignored). Returns 1 when a newer map
 * arrived (nodectl_map), 0 otherwise, -errno when ctl refused this node
 * (fatal; the reason is logged). */
int nodectl_poll(struct nodectl *nc, uint64_t now, const struct ctl_hello *figures);
/* nodectl_next_deadline - when nodectl_poll next has timed work. */
uint64_t nodectl_next_deadline(struct nodectl *nc);
/* nodectl_set_map - the map the node serves under (at start: the one it
 * kept; later: each one it takes from nodectl_map, once it is on disk):
 * heartbeats report its epoch, and leases are granted on it. Maps never
 * go back. */
void nodectl_set_map(struct nodectl *nc, const struct cmap *m);
/* nodectl_want_map - a peer showed a newer epoch: fetch it now. */
void nodectl_want_map(struct nodectl *nc, uint64_t epoch);
/* nodectl_hello_now - send the next heartbeat at once (a new map is in use). */
void nodectl_hello_now(struct nodectl *nc);
const struct cmap *nodectl_map(const struct nodectl *nc);
/* nodectl_lease - 1 while the node holds a lease on epoch at time now. */
int nodectl_lease(const struct nodectl *nc, uint64_t epoch, uint64_t now);
/* nodectl_lease_end - when the current lease ends (0: none). */
uint64_t nodectl_lease_end(const struct nodectl *nc);
/* nodectl_rejoined - ctl said this node had been down/out (reset on read). */
int nodectl_rejoined(struct nodectl *nc);

#endif
