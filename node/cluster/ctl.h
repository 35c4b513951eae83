/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctl.h - the control plane as a library: membership, epochs, leases, the map.
 *
 * Nodes register and heartbeat (bpf/ferry_cluster.h). A node silent for
 * down_after becomes down, one down for out_after becomes out (its chunks
 * are re-replicated by the nodes); a node whose store failed is out at
 * once; a disk at the full ratio leaves placement until it is below the
 * nearfull ratio. Each change bumps the epoch and is saved (through the
 * state ops) before anything that depends on it is answered.
 *
 * Leases. Every heartbeat answer may grant the node a lease on the current
 * epoch for lease_ms, counted from when the node sent the heartbeat; a
 * node serves reads and acknowledges writes only while it holds one for the
 * epoch it runs under (cluster/member.h). ctl grants leases on epoch E only
 * to a node that serves under E, and only once no node can still hold a
 * lease on an older epoch: each has either said it moved to E, or its last
 * lease has run out by ctl's conservative reckoning (lease_ms x 1.1 + 20 ms
 * after the grant, for clock rates that differ by a few percent). A node is
 * marked down only after down_after >= 2 x lease_ms of silence, so its
 * lease has ended by then. At start ctl assumes every node may hold a lease
 * it granted before a restart.
 *
 * Clean epochs (map.h): when every up node reports a complete walk at the
 * current epoch and fewer than min_copies nodes that may hold data are
 * away, ctl starts a new epoch that is clean.
 *
 * A ctl that lost its state (or is behind its nodes) rebuilds from them:
 * each node sends the last map it served under with its registration, and
 * ctl adopts the newest - with every node it has not heard from down and no
 * node trusted to read until the next clean epoch - continuing
 * CTL_EPOCH_GAP above its epoch: the ctl before may have published epochs
 * no node saw (clients did), and an epoch must never go back for anyone.
 * It never adopts an epoch more than CTL_EPOCH_JUMP above its own, nor
 * above MAP_EPOCH_MAX: such a claim is refused and counted.
 *
 * The library never blocks and reads time only from its env: ctl_poll(now)
 * does what is due, ctl_next_deadline says when to call again.
 */
#ifndef FERRY_CLUSTER_CTL_H
#define FERRY_CLUSTER_CTL_H

#include <signal.h>
#include <stdint.h>

#include "cluster/map.h"
#include "common/env.h"
#include "net/transport.h"

#define CTL_EPOCH_JUMP (1ull << 20) /* most a node's epoch may lead ctl's by */
#define CTL_EPOCH_GAP  (1ull << 16) /* an adopted map continues this far above */

/* Where ctl keeps its map (DIR/map.bin in production; memory in the
 * simulator, which can lose it on purpose). */
struct ctl_state_ops {
	int (*load)(void *ctx, struct cmap *m);        /* 0, -ENOENT (none) or -errno */
	int (*save)(void *ctx, const struct cmap *m);  /* durable before it returns 0 */
	void *ctx;                                     /* for the two */
};

struct ctl_cfg {
	uint32_t replicas;       /* R (0 = the saved map's, or 3) */
	uint32_t min_copies;     /* writes need this many live copies (0 = the saved
				  * map's, or R - R/2) */
	uint32_t down_after_ms;  /* silence before down (0 = 3000) */
	uint32_t out_after_ms;   /* down time before out (0 = 30000) */
	uint32_t lease_ms;       /* lease length (0 = down_after / 2; at most that) */
	double full_ratio;       /* used/capacity that takes a node out of placement (0 = 0.95) */
	double nearfull_ratio;   /* ...and below which it comes back (0 = 0.85) */
	const uint8_t *cluster;  /* cluster UUID (NULL: adopt the first node's) */
};

struct ctl_deps {
	const struct env *env;       /* clock (NULL = env_real()) */
	struct transport *t;         /* the ctl port; ctl does not close it */
	struct ctl_state_ops state;  /* persistence */
};

struct ctl;

/* ctl_open - load the state (or start empty) and serve on deps->t.
 * -EXDEV: the saved map is another cluster's; -EINVAL: bad knobs; -EIO: the
 * state cannot be saved (all logged). */
int ctl_open(const struct ctl_cfg *cfg, const struct ctl_deps *deps, struct ctl **out);
void ctl_close(struct ctl *c);
/* ctl_poll - receive and answer what has arrived, run the deadlines due at
 * now; returns 1 if it did work, 0 if idle. */
int ctl_poll(struct ctl *c, uint64_t now);
/* ctl_next_deadline - when ctl_poll next has timed work (absolute ns). */
uint64_t ctl_next_deadline(struct ctl *c);
const struct cmap *ctl_map(const struct ctl *c);

/* ctl_state_dir - state ops that keep DIR/map.bin (map_save/map_load). */
struct ctl_state_ops ctl_state_dir(const char *dir);

/* ctl_run - the `ferry ctl` driver: listen on listen, keep state in
 * state_dir, serve until *stop; 0 after a clean stop, -errno (logged). */
int ctl_run(const struct ctl_cfg *cfg, const char *listen, const char *state_dir,
	    volatile sig_atomic_t *stop);

#endif
