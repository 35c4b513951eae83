/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ferry_wire.h - the Ferry wire protocol, version 1.
 *
 * One header, included by the XDP programs (bpf/), the node and the client.
 * Nothing else defines these structs. It depends on nothing but <linux/types.h>
 * so that BPF code can include it.
 *
 * A Ferry datagram is a UDP payload:
 *
 *     struct ferry_hdr (112 bytes) | payload (frag_len bytes)
 *
 * All multi-byte fields are little-endian (as Ceph's messenger does): every
 * host Ferry targets is little-endian, so encoding is free on the data path.
 *
 * Messages. A request or a response is a *message* whose payload (msg_len
 * bytes, possibly 0) is split into fragments; each datagram carries the
 * fragment [frag_off, frag_off + frag_len). Fragments of one message carry
 * identical headers except frag_off/frag_len/payload_crc/hdr_crc/ack/window.
 *
 * Integrity. hdr_crc is crc32c over the header with hdr_crc = 0; payload_crc
 * is crc32c over this datagram's payload. Both are checked before anything
 * is trusted: on veth and with many NICs' offloads the UDP checksum is not
 * filled in, and the fault-injection program corrupts bytes on purpose.
 *
 * Reliability (client-driven, eRPC-style; see node/net/rpc.h). The server
 * never sends unless answering a client datagram, so only the client keeps
 * timers:
 *   - the client sends request fragments within the window the server last
 *     advertised; the server answers with FERRY_OP_ACK (ack = contiguous
 *     request bytes received, window = credits);
 *   - when the request is complete the server executes it once (req_id makes
 *     retries idempotent) and sends the first window of response fragments;
 *   - the client acks response bytes (FERRY_OP_ACK with FERRY_F_RESP clear,
 *     ack = contiguous response bytes); each ack releases more fragments; a
 *     client that sees no progress for an RTO re-sends its last ack, which
 *     makes the server go back to that offset (go-back-N).
 */
#ifndef FERRY_WIRE_H
#define FERRY_WIRE_H

#include <linux/types.h>

#define FERRY_MAGIC   0x59525246u /* "FRRY" as little-endian bytes 46 52 52 59 */
#define FERRY_VERSION 1
#define FERRY_PORT_DEFAULT 7480   /* default storage (data) port */

/* Operations. Values are stable: they are on the wire and in BPF maps. */
enum ferry_op {
	FERRY_OP_NONE = 0,
	FERRY_OP_PING = 1,   /* liveness; response payload: node id (16 bytes) */
	FERRY_OP_PUT = 2,    /* replace whole chunk: payload = chunk bytes */
	FERRY_OP_GET = 3,    /* read [offset, offset+length) of a chunk */
	FERRY_OP_DELETE = 4, /* remove a chunk */
	FERRY_OP_STAT = 5,   /* response payload: struct ferry_chunk_stat */
	FERRY_OP_LIST = 6,   /* chunk = resume cursor; length = max entries;
	                        response payload: struct ferry_list_entry[] */
	FERRY_OP_WRITE = 7,  /* partial write at offset */
	FERRY_OP_ACK = 8,    /* transport: cumulative ack + credits */
	FERRY_OP_STATS = 9,  /* node counters; response: text "name value\n" lines */
	/* Cluster (node/cluster/). Node to node, on the data port: */
	FERRY_OP_REPL_PUT = 10,    /* chain forward of a PUT: offset = version the head
	                              assigned; the receiver stores it and forwards to its
	                              successor; response payload: u64 version held */
	FERRY_OP_REPL_DELETE = 11, /* chain forward of a DELETE: offset = the tombstone's
	                              version */
	FERRY_OP_COPY_PUT = 12,    /* recovery copy: like REPL_PUT, never forwarded */
	/* Node/client to ctl, on the ctl port (kernel sockets; see cluster/ctl_proto.h): */
	FERRY_OP_CTL_REGISTER = 13,  /* payload: struct ctl_hello */
	FERRY_OP_CTL_HEARTBEAT = 14, /* payload: struct ctl_hello */
	FERRY_OP_CTL_GETMAP = 15,    /* response payload: the encoded map (cluster/map.h) */
	/* Cluster, node to node (continued): */
	FERRY_OP_COPY_DELETE = 16,   /* recovery copy of a tombstone: offset = its version */
	FERRY_OP_COPY_GET = 17,      /* repair: the whole chunk; response payload: u64 version
	                                then the chunk's bytes */
	/* To ctl (continued): */
	FERRY_OP_CTL_ADMIN = 18,     /* payload: struct ctl_admin (ferry_cluster.h) */
	FERRY_OP_COPY_STAT = 19,     /* node to node: what a member holds, tombstones
	                                included (struct ferry_chunk_stat) */
	FERRY_OP_MAX
};

/* flags */
#define FERRY_F_RESP   0x0001u /* datagram belongs to a response message */
#define FERRY_F_RETRY  0x0002u /* sender re-sent this datagram (for counters) */
#define FERRY_F_LAST   0x0004u /* last fragment of its message */
#define FERRY_F_ALL    0x0007u /* every defined flag; others must be 0 */

/* Status codes travel as negative Linux errno values (0 = success); both
 * ends run Linux. Names for the ones Ferry gives meaning to: */
#define FERRY_ST_OK        0
#define FERRY_ST_NOENT    (-2)   /* -ENOENT: no such chunk */
#define FERRY_ST_IO       (-5)   /* -EIO: device error */
#define FERRY_ST_NOSPC    (-28)  /* -ENOSPC: disk full */
#define FERRY_ST_INVAL    (-22)  /* -EINVAL: malformed request */
#define FERRY_ST_TOOBIG   (-27)  /* -EFBIG: beyond the maximum chunk size */
#define FERRY_ST_BADCRC   (-74)  /* -EBADMSG: stored data failed its checksum */
#define FERRY_ST_STALE    (-116) /* -ESTALE: request epoch older than node's */
#define FERRY_ST_BUSY     (-16)  /* -EBUSY: no memory for the request now */
#define FERRY_ST_NOTHEAD  (-78)  /* -EREMCHG: this node is not the chain head for the
                                    chunk under its map (writes): refetch the map */
#define FERRY_ST_VERSION  (-114) /* -EALREADY: replica holds a newer version than the
                                    forwarded one: the head retries with a higher one */
/* Cluster refusals. Each is given before the request had any effect, so a
 * client may retry it anywhere (after a fresh map, or a pause) - except
 * INDOUBT, which says the opposite. */
#define FERRY_ST_NOLEASE  (-37)  /* -ENOLCK: no lease from ctl for this epoch (yet):
                                    the node neither serves nor acknowledges */
#define FERRY_ST_NOTREADY (-11)  /* -EAGAIN: not possible at this epoch: fewer live
                                    copies than the map's min_copies, or no member that
                                    is known to hold the latest version (recovery is
                                    still running); retry after a fresh map */
#define FERRY_ST_CLUSTERED (-106) /* -EISCONN: a clustered node refuses a write with
                                    no epoch (use the cluster's ctl, not --node) */
#define FERRY_ST_FUTURE   (-34)  /* -ERANGE: a version from an epoch beyond the
                                    receiver's: refused and counted */
#define FERRY_ST_INDOUBT  (-115) /* -EINPROGRESS: the head stored the write but could
                                    not get it down the chain; it may or may not take
                                    effect. Response payload: the u64 version assigned;
                                    the client retries with it in hdr.offset (PUT,
                                    DELETE), which the head completes or finds
                                    superseded - never applies twice */

#define FERRY_CHUNK_ID_LEN 16
#define FERRY_AUTH_LEN     16

struct ferry_hdr {
	__u32 magic;       /* FERRY_MAGIC */
	__u8  version;     /* FERRY_VERSION */
	__u8  op;          /* enum ferry_op */
	__u16 flags;       /* FERRY_F_* */
	__u32 session;     /* client session id, random per client process */
	__s32 status;      /* response: 0 or -errno; request: 0 */
	__u64 req_id;      /* per-session request number; retries reuse it */
	__u64 epoch;       /* sender's cluster-map epoch (0 = no map) */
	__u64 cluster;     /* first 8 bytes of the cluster UUID (0 = any) */
	__u8  chunk[FERRY_CHUNK_ID_LEN]; /* 128-bit chunk id */
	__u64 offset;      /* byte offset within the chunk */
	__u32 length;      /* bytes the operation covers (GET: wanted) */
	__u32 msg_len;     /* payload bytes of the whole message */
	__u32 frag_off;    /* offset of this datagram's payload in the message */
	__u16 frag_len;    /* payload bytes in this datagram */
	__u16 window;      /* credits (datagrams) the sender can accept */
	__u32 ack;         /* ACK: contiguous bytes of the peer's message seen */
	__u32 payload_crc; /* crc32c of this datagram's payload (0 if none) */
	__u32 hdr_crc;     /* crc32c of this header with hdr_crc = 0 */
	__u32 reserved;    /* must be 0 */
	__u8  auth[FERRY_AUTH_LEN]; /* authentication tag (all 0: auth off) */
};

#define FERRY_HDR_LEN 112
_Static_assert(sizeof(struct ferry_hdr) == FERRY_HDR_LEN, "wire header size");

/* Payload of a STAT response. */
struct ferry_chunk_stat {
	__u64 size;     /* chunk size in bytes */
	__u64 version;  /* monotonically increasing per chunk */
	__u32 crc;      /* crc32c over the whole chunk */
	__u32 flags;    /* FERRY_STAT_* */
};
/* A node-to-node STAT (epoch set) also answers for a deleted chunk that
 * left a versioned tombstone: status 0, size 0, this flag and the
 * tombstone's version. Clients see NOENT. */
#define FERRY_STAT_TOMBSTONE 0x1u
_Static_assert(sizeof(struct ferry_chunk_stat) == 24, "stat size");

/* One entry of a LIST response. */
struct ferry_list_entry {
	__u8  chunk[FERRY_CHUNK_ID_LEN]; /* chunk id */
	__u64 version;  /* chunk version */
	__u64 size;     /* chunk size in bytes */
};
_Static_assert(sizeof(struct ferry_list_entry) == 32, "list entry size");

/* Fragment payloads are multiples of FERRY_FRAG_ALIGN (except a message's
 * last one), so that a payload laid at a 512-byte aligned address in a UMEM
 * frame can go to an O_DIRECT write as it is. The largest fragment fits one
 * 4 KiB UMEM frame: 512 bytes of headroom + Ethernet/IP/UDP/Ferry headers
 * ending at 512, then 3584 bytes of payload. */
#define FERRY_FRAG_ALIGN        512
#define FERRY_MAX_FRAG_PAYLOAD  3584
#define FERRY_MAX_DATAGRAM      (FERRY_HDR_LEN + FERRY_MAX_FRAG_PAYLOAD)

#endif /* FERRY_WIRE_H */
