/* SPDX-License-Identifier: Apache-2.0 */
/*
 * member.h - a node as a member of a cluster: the cluster protocol.
 *
 * The node library (node.h) owns the transports, the store and the request
 * loop; everything that makes a node part of a cluster lives behind this
 * interface, in node/cluster/:
 *   member.c   the gate every request passes (epoch, lease, role), the map
 *              the node serves under and its copy on disk, ctl link, stats;
 *   chain.c    chain replication: the head assigns versions (epoch << 32 |
 *              counter) and stores, every member forwards to its successor,
 *              the client is answered once the tail has it; recovery copies;
 *   recover.c  walks that bring every chunk to its write chain - never
 *              deleting a copy because a peer lacks it; versioned tombstones;
 *   repair.c   repair of corrupt copies (found by the node's scrub, by reads,
 *              by recovery) from healthy replicas.
 *
 * Consistency (what tests/sim's checker enforces): per chunk, PUT, GET,
 * DELETE and WRITE are linearizable; an acknowledged write survives the
 * permanent loss of fewer than min_copies disks and any number of crashes
 * and restarts; a deleted chunk never comes back. See map.h ("Clean
 * epochs") for who may read, and ctl.h for leases.
 *
 * Like the node it takes time and randomness from its env only.
 */
#ifndef FERRY_CLUSTER_MEMBER_H
#define FERRY_CLUSTER_MEMBER_H

#include <stddef.h>
#include <stdint.h>

#include "cluster/map.h"
#include "common/env.h"
#include "net/rpc.h"
#include "storage/store.h"
#include "storage/storeq.h"

struct member_cfg {
	const struct env *env;       /* clock and randomness */
	struct store *store;         /* the node's store */
	struct storeq *q;            /* the node's queue in front of it */
	struct rpc_client *rpc;      /* node-to-node calls, on the data transport */
	struct transport *ctl_t;     /* ctl traffic (not closed here) */
	struct net_addr ctl;         /* ctl's address */
	struct net_addr self;        /* this node's data address, as peers reach it */
	const char *zone;            /* failure domain ("" = none) */
	uint32_t weight;             /* MAP_WEIGHT_ONE = 1.0 */
	uint32_t heartbeat_ms;       /* 0 = 300 */
	double recovery_mb_s;        /* copy budget (0 = unlimited) */
};

/* Chunk ids whose first byte is MEMBER_LOCAL_KIND are the node's own (its
 * copy of the map): never replicated, listed or served. */
#define MEMBER_LOCAL_KIND 0xff

struct member;

/* member_open - load the map kept on the store (if any), open the ctl link.
 * -EINVAL on a bad configuration (logged). */
int member_open(const struct member_cfg *cfg, struct member **out);
/* member_close - ends calls in flight (their requests are answered). The
 * caller drains the store queue first. */
void member_close(struct member *m);
/* member_now - the time of the poll that is about to hand requests in
 * (leases are judged at it: a node that was paused must not act on a
 * lease that ran out while it was). */
void member_now(struct member *m, uint64_t now);
/* member_handle - the gate: 1 when the request was taken (answered now or
 * later), 0 when it is for the node's own handlers (epoch-0 reads, and
 * reads the tail serves once the gate let them through). */
int member_handle(struct member *m, struct rpc_srv *srv, struct rpc_sreq *r);
/* member_poll - ctl link, map changes, recovery, repair. Returns 1
 * if it did work, 0 if idle, -errno when ctl refused the node (fatal). */
int member_poll(struct member *m, uint64_t now);
/* member_next_deadline - when member_poll next has timed work. */
uint64_t member_next_deadline(struct member *m);
/* member_read_done - a cluster read of chunk id (GET/STAT at epoch) has its
 * answer: may it go out? 0 if so, else the status to answer instead:
 * NOLEASE unless the lease it was let in under still holds (a node paused
 * in the middle must not answer from a state the cluster has since moved
 * past), NOTREADY while the chunk's version here may not be committed (a
 * write in doubt: commit.c). */
int member_read_done(struct member *m, uint64_t epoch, const uint8_t id[16]);
/* member_bad_chunk - a read found chunk id corrupt: repair it. */
void member_bad_chunk(struct member *m, const uint8_t id[16]);
/* member_stats - "name value\n" counter lines; returns bytes written. */
size_t member_stats(struct member *m, char *buf, size_t cap);
/* member_map - the map the node serves under (epoch 0: none yet). */
const struct cmap *member_map(const struct member *m);

#endif
