/* SPDX-License-Identifier: Apache-2.0 */
/*
 * map.h - the cluster map: who is in the cluster, where, and in what state.
 *
 * ctl owns the map; nodes and clients fetch it (FERRY_OP_CTL_GETMAP) and
 * compute placement from it themselves (cluster/place.h). Every change that
 * can move data or change who may serve it bumps the epoch; per-node usage
 * figures ride along for `ferry status` and change without a new epoch.
 * The wire encoding is bpf/ferry_cluster.h; map_parse takes untrusted bytes
 * (network, disk): it checks every field and is fuzzed (fuzz_map.c).
 *
 * Node states: up (heartbeating: in chains), down (silent: keeps its chain
 * slots but is skipped), out (down past the grace period, or its store
 * failed: gone from placement), lost (an admin said its disk is gone for
 * good). A node whose disk is at the full ratio is flagged full and leaves
 * placement too, without changing state.
 *
 * Clean epochs. A node that comes back, or a chain that gains a member,
 * cannot be trusted to hold the latest version of every chunk until
 * recovery has run. ctl therefore keeps clean_epoch: the last epoch at
 * which every up node finished a recovery walk that left nothing undone,
 * while fewer than min_copies nodes that may hold data were away (so every
 * acknowledged write had a copy on an up node, and the walks spread it).
 * With it every node and client computes the same things per chunk
 * (place.h):
 *   - the write chain: the live chain, plus the members of the chunk's live
 *     chain at clean_epoch that have been up ever since ("continuous":
 *     up_since <= clean_epoch). Writes go to all of them, so the old members
 *     stay current while new members catch up;
 *   - its readers: members that are continuous and were in the live chain at
 *     clean_epoch; they hold every acknowledged write. The write chain puts
 *     them last, and reads go to its tail when that is a reader. A chunk
 *     with no reader is unavailable for reads until the next clean epoch -
 *     never served stale.
 * At a clean epoch the write chain is the live chain and all of it reads.
 */
#ifndef FERRY_CLUSTER_MAP_H
#define FERRY_CLUSTER_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "ferry_cluster.h"
#include "net/transport.h"

#define MAP_MAX_NODES  256
#define MAP_MAX_R      8           /* largest replica count */
#define MAP_MAX_CHAIN  (2 * MAP_MAX_R) /* write chain: live + continuous clean members */
#define MAP_WEIGHT_ONE 1000        /* weights are in thousandths */
#define MAP_WEIGHT_MAX 1000000     /* largest weight (1000.0) */
#define MAP_FILE       "map.bin"
/* Versions are (epoch << 32 | counter) (cluster/chain.c), so epochs stay
 * below 2^32 - 1 and no version can wrap. */
#define MAP_EPOCH_MAX  0xfffffffeull

enum map_state {
	MAP_UP = 1,   /* heartbeating: in chains */
	MAP_DOWN = 2, /* missed heartbeats: keeps its chain slots, skipped */
	MAP_OUT = 3,  /* down past the grace period, or failed: gone from placement */
	MAP_LOST = 4, /* declared lost by an admin: its copies are not waited for */
};

#define MAP_NF_FULL   0x1 /* disk at the full ratio: out of placement until nearfull */
#define MAP_NF_FAILED 0x2 /* the node's store failed (state is out) */
#define MAP_NF_ALL    0x3

/* Decoded form. */
struct map_node {
	uint8_t uuid[16];        /* node UUID */
	struct net_addr addr;    /* data address */
	char zone[MAP_ZONE_LEN]; /* failure domain */
	uint32_t weight;         /* MAP_WEIGHT_ONE = 1.0 */
	uint8_t state;           /* enum map_state */
	uint8_t flags;           /* MAP_NF_* */
	uint8_t clean_state;     /* state at clean_epoch (0: not in the map then) */
	uint64_t up_since;       /* epoch at which it last became up (and not full) */
	uint32_t clean_weight;   /* weight at clean_epoch */
	char clean_zone[MAP_ZONE_LEN]; /* zone at clean_epoch */
	uint64_t capacity, used, chunks, ops_per_s; /* from heartbeats */
	uint64_t rec_pending, rec_copied, rec_bytes, degraded; /* recovery progress */
	uint64_t repaired, bad_chunks; /* scrub and read repair */
	/* ctl-local, not encoded */
	uint64_t last_hb_ns;     /* last heartbeat or registration */
	uint64_t since_ns;       /* entered its current state */
	uint64_t ops_total;      /* last reported op count (for ops_per_s) */
	uint64_t acked_epoch;    /* highest epoch the node said it serves under */
	uint64_t walk_epoch;     /* its last complete, clean walk started at this epoch */
	uint64_t lease_epoch;    /* epoch of the last lease granted to it */
	uint64_t lease_end_ns;   /* when that lease has surely ended (ctl clock) */
};

struct cmap {
	uint64_t epoch;          /* 0 = no map */
	uint8_t cluster[16];     /* cluster UUID */
	uint32_t replicas;       /* R */
	uint32_t min_copies;     /* writes need this many live copies */
	uint64_t clean_epoch;    /* see "Clean epochs" above */
	uint32_t n;              /* nodes (any state) */
	struct map_node nodes[MAP_MAX_NODES];
};

#define MAP_MAX_LEN (sizeof(struct map_wire_hdr) + MAP_MAX_NODES * sizeof(struct map_wire_node))

/* map_copy - *dst = *src for the n nodes in use (a struct cmap is 66 KB,
 * a map of a few nodes a few hundred bytes; nodes past n are never read). */
void map_copy(struct cmap *dst, const struct cmap *src);

/* map_encode - serialise m into buf; returns bytes written or -ENOSPC/-EINVAL. */
int map_encode(const struct cmap *m, uint8_t *buf, size_t cap);
/* map_encoded_len - the bytes map_encode writes for m. */
size_t map_encoded_len(const struct cmap *m);
/* map_parse - check and decode len untrusted bytes into *m; 0 or -EBADMSG.
 * Version 1 encodings (before clean epochs) decode as clean at their epoch. */
int map_parse(const uint8_t *buf, size_t len, struct cmap *m);
/* map_find - index of the node with uuid, or -1. */
int map_find(const struct cmap *m, const uint8_t uuid[16]);
/* map_state_name - "up", "down", "out", "lost". */
const char *map_state_name(uint8_t state);
/* map_continuous - node i has been up (and not full) since clean_epoch. */
int map_continuous(const struct cmap *m, uint32_t i);
/* map_absent - nodes that may hold data but are away (down or out, not lost). */
uint32_t map_absent(const struct cmap *m);
/* map_save - write DIR/map.bin atomically (temp file, fsync, rename, fsync
 * DIR); 0 or -errno. map_load - read it back; -ENOENT when there is none,
 * -EBADMSG when it is corrupt. */
int map_save(const struct cmap *m, const char *dir);
int map_load(struct cmap *m, const char *dir);

#endif
