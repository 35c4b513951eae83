/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ferry_cluster.h - the control plane's wire structs: the cluster map and
 * what nodes, clients and admins say to ctl.
 *
 * Like ferry_wire.h this depends on nothing but <linux/types.h>: every
 * struct that crosses the wire lives under bpf/. Little-endian, fixed
 * widths, explicit padding (all padding must be 0 and is checked).
 *
 * The map (node/cluster/map.h decodes it): struct map_wire_hdr, then nnodes
 * x struct map_wire_node; crc32c over the whole encoding with crc = 0. The
 * same bytes are ctl's state file, the GETMAP answer, and the copy a node
 * keeps of the last map it served under.
 *
 * ctl traffic (FERRY_OP_CTL_*, on the ctl port over kernel UDP):
 *   REGISTER, HEARTBEAT  node -> ctl: struct ctl_hello; answer struct ctl_reply
 *   GETMAP               anyone -> ctl (or a node): the encoded map
 *   ADMIN                admin -> ctl: struct ctl_admin; answer struct ctl_reply
 */
#ifndef FERRY_CLUSTER_WIRE_H
#define FERRY_CLUSTER_WIRE_H

#include <linux/types.h>

#define MAP_MAGIC      0x50414d46u /* "FMAP" */
#define MAP_VERSION    2           /* 1: no clean epoch / leases (still read) */
#define MAP_ZONE_LEN   32          /* bytes including the NUL */

struct map_wire_hdr {
	__u32 magic;        /* MAP_MAGIC */
	__u16 version;      /* MAP_VERSION */
	__u16 hdr_len;      /* sizeof(struct map_wire_hdr) */
	__u16 node_len;     /* sizeof(struct map_wire_node) */
	__u16 replicas;     /* R: chain length */
	__u32 nnodes;       /* node records that follow */
	__u64 epoch;        /* map epoch */
	__u8 cluster[16];   /* cluster UUID (all 0: not adopted yet) */
	__u32 crc;          /* crc32c of the encoding with crc = 0 */
	__u32 reserved;     /* 0 */
	/* version 2 */
	__u64 clean_epoch;  /* the last epoch at which every copy was where the map
	                       says and current (see map.h, "Clean epochs") */
	__u16 min_copies;   /* a write needs this many live copies (1..replicas) */
	__u16 pad0;         /* 0 */
	__u32 pad1;         /* 0 */
};
_Static_assert(sizeof(struct map_wire_hdr) == 64, "map header size");

struct map_wire_node {
	__u8 uuid[16];      /* node UUID (from its superblock) */
	__u8 ip[16];        /* data address; IPv4 in the first 4 bytes */
	__u16 family;       /* AF_INET or AF_INET6 */
	__u16 port;         /* data port, network byte order */
	__u32 weight;       /* placement weight, MAP_WEIGHT_ONE = 1.0 */
	__u8 state;         /* enum map_state */
	__u8 flags;         /* MAP_NF_* */
	__u8 clean_state;   /* state at clean_epoch (0: not in the map then) */
	__u8 pad[5];        /* 0 */
	char zone[MAP_ZONE_LEN]; /* failure domain, NUL-terminated */
	__u64 capacity;     /* disk bytes for chunks */
	__u64 used;         /* bytes in use */
	__u64 chunks;       /* chunks held */
	__u64 ops_per_s;    /* requests per second (last heartbeat interval) */
	__u64 rec_pending;  /* recovery: chunks found needing work in the last walk */
	__u64 rec_copied;   /* recovery: chunk copies made since start */
	__u64 rec_bytes;    /* recovery: bytes copied since start */
	__u64 degraded;     /* chunks this node heads with fewer than R good copies */
	/* version 2 */
	__u64 up_since;     /* epoch at which the node last became up (and not full) */
	__u32 clean_weight; /* weight at clean_epoch */
	__u32 pad2;         /* 0 */
	char clean_zone[MAP_ZONE_LEN]; /* zone at clean_epoch */
	__u64 repaired;     /* chunks repaired from replicas since start */
	__u64 bad_chunks;   /* chunks found corrupt (scrub, reads) since start */
};
_Static_assert(sizeof(struct map_wire_node) == 208, "map node size");

#define MAP_V1_HDR_LEN  48  /* version 1 sizes (read for upgrades) */
#define MAP_V1_NODE_LEN 144

/* ---------------------------------------------------------------- ctl */

#define CTL_MAGIC        0x4c544346u /* "FCTL" */
#define CTL_PORT_DEFAULT 7481

/* ctl_hello.flags */
#define CTL_HELLO_STORE_FAILED 0x1u /* the node's store hit a device error and
                                       refuses writes: take it out */

struct ctl_hello {
	__u32 magic;        /* CTL_MAGIC */
	__u16 len;          /* sizeof(struct ctl_hello) */
	__u16 reserved;     /* 0 */
	__u8 cluster[16];   /* cluster UUID from the node's superblock */
	__u8 node[16];      /* node UUID from the node's superblock */
	__u8 ip[16];        /* data address */
	__u16 family;       /* AF_INET / AF_INET6 */
	__u16 port;         /* network byte order */
	__u32 weight;       /* MAP_WEIGHT_ONE = 1.0 */
	char zone[MAP_ZONE_LEN]; /* failure domain, NUL-terminated */
	__u64 epoch;        /* the epoch of the map the node serves under (it has
	                       dropped any lease of an older one) */
	__u64 capacity;     /* disk bytes for chunks */
	__u64 used;         /* bytes in use */
	__u64 chunks;       /* chunks held */
	__u64 ops_total;    /* requests served since start */
	__u64 rec_pending;  /* recovery figures, see struct map_wire_node */
	__u64 rec_copied;
	__u64 rec_bytes;
	__u64 degraded;
	/* version 2 */
	__u64 walk_epoch;   /* epoch at which the node's last complete walk started,
	                       if that walk left nothing undone (0: none) */
	__u64 max_version;  /* highest version in the node's store */
	__u64 repaired;     /* chunks repaired from replicas since start */
	__u64 bad_chunks;   /* chunks found corrupt since start */
	__u32 flags;        /* CTL_HELLO_* */
	__u32 pad;          /* 0 */
};
_Static_assert(sizeof(struct ctl_hello) == 208, "ctl_hello size");

#define CTL_REPLY_REJOIN 0x1u /* the node was down or out */

struct ctl_reply {
	__u64 epoch;        /* ctl's map epoch */
	__u32 flags;        /* CTL_REPLY_* */
	__u32 lease_ms;     /* a lease on epoch lease_epoch for this long, measured
	                       from when the node sent the heartbeat (0: none) */
	__u64 lease_epoch;  /* the epoch the lease is for */
	char msg[232];      /* refusal reason, NUL-terminated ("" when ok) */
};
_Static_assert(sizeof(struct ctl_reply) == 256, "ctl_reply size");

/* ctl_admin.cmd */
#define CTL_ADMIN_LOST 1    /* the node's disk is gone for good: stop waiting for
                               its copies (they may hold the only copy of writes
                               acknowledged while it was the last one up) */

struct ctl_admin {
	__u32 magic;        /* CTL_MAGIC */
	__u32 cmd;          /* CTL_ADMIN_* */
	__u8 node[16];      /* the node it is about */
};
_Static_assert(sizeof(struct ctl_admin) == 24, "ctl_admin size");

#endif
