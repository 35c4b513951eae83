/* SPDX-License-Identifier: Apache-2.0 */
/*
 * recover.h - node-driven re-replication and rebalancing.
 *
 * On every new map (and again after a walk that had work, until one is
 * clean) a node walks its own chunks (store_list). For each chunk it holds it
 * computes the live chain (cluster/place.h) and STATs the other members:
 *   - members missing the chunk, or holding an older version, get a copy
 *     (FERRY_OP_COPY_PUT carrying this node's version; the receiver keeps
 *     whichever version is newer, so several holders pushing is harmless);
 *   - a chunk this node holds but whose chain no longer includes it is
 *     deleted here once every chain member has confirmed a version >= ours;
 *   - a node that rejoined (ctl said it was down/out: "suspect" walk) drops
 *     its copy when a member has a newer one (it is pushed back to it) or
 *     when no member has it at all (deleted while the node was away); until
 *     that first walk is over it refuses client reads (others serve them).
 * Copies are throttled by a token bucket (rate_mb_s); STATs are not.
 * Everything runs from the node loop: recover_step starts work, the RPC
 * completions (from the node's forwarding client) move it on.
 */
#ifndef FERRY_CLUSTER_RECOVER_H
#define FERRY_CLUSTER_RECOVER_H

#include <stdint.h>

#include "cluster/map.h"
#include "net/rpc.h"
#include "storage/store.h"

struct recover_cfg {
	struct store *store;         /* this node's store */
	struct rpc_client *rpc;      /* the node's client on its data transport */
	const struct cmap *map;      /* the node's current map (updated in place) */
	const uint8_t *self;         /* this node's UUID */
	uint32_t max_chunk;          /* largest chunk */
	double rate_mb_s;            /* copy budget (0 = unlimited) */
};

struct recover_counters {
	uint64_t walks;        /* complete walks */
	uint64_t scanned;      /* chunks examined */
	uint64_t pending;      /* chunks that needed work in the last complete walk */
	uint64_t copies;       /* copies made */
	uint64_t copy_bytes;   /* bytes copied */
	uint64_t deleted;      /* local copies dropped (moved away or stale) */
	uint64_t degraded;     /* chunks this node heads with < R good copies (last walk) */
	uint64_t errors;       /* STAT/copy failures (retried next walk) */
	uint64_t active;       /* 1 while a walk is running */
};

struct recover;

int recover_open(const struct recover_cfg *cfg, struct recover **out);
void recover_close(struct recover *rv);
/* recover_kick - the map changed (or suspect: this node rejoined): walk again. */
void recover_kick(struct recover *rv, int suspect);
/* recover_step - start what the budget allows; returns 1 if it did work. */
int recover_step(struct recover *rv, uint64_t now_ns);
/* recover_reads_blocked - 1 while a suspect walk has not finished. */
int recover_reads_blocked(const struct recover *rv);
void recover_get_counters(const struct recover *rv, struct recover_counters *out);

#endif
