/* SPDX-License-Identifier: Apache-2.0 */
/*
 * map.h - the cluster map: who is in the cluster, where, and in what state.
 *
 * ctl owns the map; nodes and clients fetch it (FERRY_OP_CTL_GETMAP) and
 * compute placement from it themselves (cluster/place.h). Every change that
 * can move data (a node joins, goes down, comes back, goes out) bumps the
 * epoch; per-node usage figures (used, chunks, ops/s, recovery progress)
 * ride along for `ferry status` and change without a new epoch.
 *
 * Encoding (little-endian, as the wire protocol): struct map_wire_hdr, then
 * nnodes x struct map_wire_node. crc is crc32c over the whole encoding with
 * crc = 0. The same bytes are the ctl's state file (DIR/map.bin) and the
 * GETMAP answer. map_parse takes untrusted bytes (network, disk): it checks
 * every field and is fuzzed (tests/fuzz/fuzz_map.c).
 */
#ifndef FERRY_CLUSTER_MAP_H
#define FERRY_CLUSTER_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "net/transport.h"

#define MAP_MAGIC      0x50414d46u /* "FMAP" */
#define MAP_VERSION    1
#define MAP_MAX_NODES  256
#define MAP_ZONE_LEN   32          /* bytes including the NUL */
#define MAP_MAX_R      8           /* largest replica count */
#define MAP_WEIGHT_ONE 1000        /* weights are in thousandths */
#define MAP_FILE       "map.bin"

enum map_state {
	MAP_UP = 1,   /* heartbeating: in chains */
	MAP_DOWN = 2, /* missed heartbeats: keeps its chain slots, skipped */
	MAP_OUT = 3,  /* down past the grace period: gone from placement */
};

struct map_wire_hdr {
	uint32_t magic;     /* MAP_MAGIC */
	uint16_t version;   /* MAP_VERSION */
	uint16_t hdr_len;   /* sizeof(struct map_wire_hdr) */
	uint16_t node_len;  /* sizeof(struct map_wire_node) */
	uint16_t replicas;  /* R: chain length */
	uint32_t nnodes;    /* node records that follow */
	uint64_t epoch;     /* map epoch */
	uint8_t cluster[16];/* cluster UUID (all 0: not adopted yet) */
	uint32_t crc;       /* crc32c of the encoding with crc = 0 */
	uint32_t reserved;  /* 0 */
};
_Static_assert(sizeof(struct map_wire_hdr) == 48, "map header size");

struct map_wire_node {
	uint8_t uuid[16];    /* node UUID (from its superblock) */
	uint8_t ip[16];      /* data address; IPv4 in the first 4 bytes */
	uint16_t family;     /* AF_INET or AF_INET6 */
	uint16_t port;       /* data port, network byte order */
	uint32_t weight;     /* placement weight, MAP_WEIGHT_ONE = 1.0 */
	uint8_t state;       /* enum map_state */
	uint8_t pad[7];      /* 0 */
	char zone[MAP_ZONE_LEN]; /* failure domain, NUL-terminated */
	uint64_t capacity;   /* disk bytes for chunks */
	uint64_t used;       /* bytes in use */
	uint64_t chunks;     /* chunks held */
	uint64_t ops_per_s;  /* requests per second (last heartbeat interval) */
	uint64_t rec_pending;/* recovery: chunks found needing copies in the last walk */
	uint64_t rec_copied; /* recovery: chunk copies made since start */
	uint64_t rec_bytes;  /* recovery: bytes copied since start */
	uint64_t degraded;   /* chunks this node heads with fewer than R good copies */
};
_Static_assert(sizeof(struct map_wire_node) == 144, "map node size");

/* Decoded form. */
struct map_node {
	uint8_t uuid[16];        /* node UUID */
	struct net_addr addr;    /* data address */
	char zone[MAP_ZONE_LEN]; /* failure domain */
	uint32_t weight;         /* MAP_WEIGHT_ONE = 1.0 */
	uint8_t state;           /* enum map_state */
	uint64_t capacity, used, chunks, ops_per_s; /* from heartbeats */
	uint64_t rec_pending, rec_copied, rec_bytes, degraded; /* recovery progress */
	/* ctl-local, not encoded */
	uint64_t last_hb_ns;     /* last heartbeat or registration */
	uint64_t since_ns;       /* entered its current state */
	uint64_t ops_total;      /* last reported op count (for ops_per_s) */
};

struct cmap {
	uint64_t epoch;          /* 0 = no map */
	uint8_t cluster[16];     /* cluster UUID */
	uint32_t replicas;       /* R */
	uint32_t n;              /* nodes (any state) */
	struct map_node nodes[MAP_MAX_NODES];
};

#define MAP_MAX_LEN (sizeof(struct map_wire_hdr) + MAP_MAX_NODES * sizeof(struct map_wire_node))

/* map_encode - serialise m into buf; returns bytes written or -ENOSPC/-EINVAL. */
int map_encode(const struct cmap *m, uint8_t *buf, size_t cap);
/* map_parse - check and decode len untrusted bytes into *m; 0 or -EBADMSG. */
int map_parse(const uint8_t *buf, size_t len, struct cmap *m);
/* map_find - index of the node with uuid, or -1. */
int map_find(const struct cmap *m, const uint8_t uuid[16]);
/* map_state_name - "up", "down", "out". */
const char *map_state_name(uint8_t state);
/* map_save - write DIR/map.bin atomically (temp file, fsync, rename, fsync
 * DIR); 0 or -errno. map_load - read it back; -ENOENT when there is none,
 * -EBADMSG when it is corrupt. */
int map_save(const struct cmap *m, const char *dir);
int map_load(struct cmap *m, const char *dir);

#endif
