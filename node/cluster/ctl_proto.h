/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctl_proto.h - what nodes and clients say to ctl, and what it answers.
 *
 * Control traffic is ordinary Ferry RPC (net/rpc.h) over kernel UDP to the
 * ctl port (default 7481), never through the AF_XDP data path:
 *   FERRY_OP_CTL_REGISTER  node -> ctl, at start: struct ctl_hello
 *   FERRY_OP_CTL_HEARTBEAT node -> ctl, every ~1 s: struct ctl_hello (figures)
 *       answer: struct ctl_reply (epoch); refusals carry a negative status and
 *       a one-line reason in ctl_reply.msg:
 *         -EXDEV       the node's disk belongs to another cluster
 *         -EADDRINUSE  the UUID is up at another address (a second node
 *                      claiming it)
 *         -ENOENT      heartbeat from a node ctl does not know (counted,
 *                      otherwise ignored; the node registers again)
 *   FERRY_OP_CTL_GETMAP    anyone -> ctl: answer = the encoded map (map.h)
 *   FERRY_OP_STATS         anyone -> ctl: "name value" counter lines
 */
#ifndef FERRY_CLUSTER_CTL_PROTO_H
#define FERRY_CLUSTER_CTL_PROTO_H

#include <stdint.h>

#include "cluster/map.h"

#define CTL_MAGIC        0x4c544346u /* "FCTL" */
#define CTL_PORT_DEFAULT 7481

struct ctl_hello {
	uint32_t magic;       /* CTL_MAGIC */
	uint16_t len;         /* sizeof(struct ctl_hello) */
	uint16_t reserved;    /* 0 */
	uint8_t cluster[16];  /* cluster UUID from the node's superblock */
	uint8_t node[16];     /* node UUID from the node's superblock */
	uint8_t ip[16];       /* data address */
	uint16_t family;      /* AF_INET / AF_INET6 */
	uint16_t port;        /* network byte order */
	uint32_t weight;      /* MAP_WEIGHT_ONE = 1.0 */
	char zone[MAP_ZONE_LEN]; /* failure domain, NUL-terminated */
	uint64_t epoch;       /* the node's map epoch */
	uint64_t capacity;    /* disk bytes for chunks */
	uint64_t used;        /* bytes in use */
	uint64_t chunks;      /* chunks held */
	uint64_t ops_total;   /* requests served since start */
	uint64_t rec_pending; /* recovery figures, see struct map_wire_node */
	uint64_t rec_copied;
	uint64_t rec_bytes;
	uint64_t degraded;
};
_Static_assert(sizeof(struct ctl_hello) == 168, "ctl_hello size");


#define CTL_REPLY_REJOIN 0x1u /* the node was down or out: its chunks may be stale */

struct ctl_reply {
	uint64_t epoch;       /* ctl's map epoch */
	uint32_t flags;       /* CTL_REPLY_* */
	uint32_t reserved;    /* 0 */
	char msg[240];        /* refusal reason, NUL-terminated ("" when ok) */
};
_Static_assert(sizeof(struct ctl_reply) == 256, "ctl_reply size");

#endif
