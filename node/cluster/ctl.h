/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctl.h - the control plane: membership from heartbeats, epochs, the map.
 *
 * One process, one kernel UDP socket, one loop. Nodes register and heartbeat
 * (cluster/ctl_proto.h); a node silent for down_after becomes down (new
 * epoch), one down for out_after becomes out (new epoch; its chunks are
 * re-replicated by the nodes). Every epoch change is persisted atomically in
 * DIR/map.bin before it is served, so a restarted ctl serves the same map
 * (and gives every node a fresh down_after to heartbeat again).
 */
#ifndef FERRY_CLUSTER_CTL_H
#define FERRY_CLUSTER_CTL_H

#include <signal.h>
#include <stdint.h>

struct ctl_cfg {
	const char *listen;           /* IP:PORT */
	const char *state_dir;        /* where map.bin lives */
	uint32_t replicas;            /* R (0 = 3, or the saved map's) */
	uint32_t down_after_ms;       /* silence before down (0 = 3000) */
	uint32_t out_after_ms;        /* down time before out (0 = 30000) */
	const uint8_t *cluster;       /* cluster UUID (NULL: adopt the first node's) */
	volatile sig_atomic_t *stop;  /* set non-zero to return */
};

/* ctl_run - serve until *cfg->stop; 0 after a clean stop, -errno (logged). */
int ctl_run(const struct ctl_cfg *cfg);

#endif
