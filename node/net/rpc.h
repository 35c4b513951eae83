/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rpc.h - reliable request/response messages over any transport.
 *
 * Ferry's messages (a request and its response, each up to max_msg bytes)
 * travel as datagrams of at most one path MTU (bpf/ferry_wire.h). This layer
 * fragments, reassembles, windows and retransmits them. It is client-driven,
 * as eRPC is: the server only ever sends in answer to a client datagram, so
 * only clients keep timers, and a server's memory per request is bounded and
 * reclaimed by age.
 *
 *   client                                server
 *   request frags (<= server window) -->  reassemble; ACK(ack, window)
 *                                  <--    ... (once complete) execute once
 *   ACK(ack, window)               <-->   response frags (<= client window)
 *   timeout without progress:             go back to the acked offset
 *     resend unacked request frags, or
 *     resend the last ACK with F_RETRY
 *   final ACK (F_LAST)             -->    response released
 *
 * Idempotency: requests are keyed by (peer, session, req_id). A retried
 * datagram of a request that is executing or answered never runs it again;
 * the answer is resent instead. Answered requests are remembered for
 * rpc_cfg.retain_ms, longer than any client retries one call.
 *
 * Fragments: offsets are multiples of FERRY_FRAG_ALIGN (512), lengths too
 * except at a message's end; receivers track 512-byte units, so duplicates
 * and reordering are harmless whatever fragment size the sender chose.
 *
 * Nothing here allocates per datagram: a request's buffer is allocated once
 * when its first datagram arrives, charged against rpc_cfg.mem_budget; a
 * datagram that would exceed it is dropped and counted (the client retries).
 *
 * Zero copy (server, on transports that offer it - AF_XDP): request
 * fragments stay in the RX buffers they arrived in and reach the handler as
 * an iovec (rpc_sreq_payload_iov); answers can be built in the TX frames
 * they are sent from (rpc_sreq_reply_iov). Where it cannot apply, payload
 * is copied and counted (rpc_counters.payload_copied, zc_*); rpc.c lists
 * the cases.
 */
#ifndef FERRY_NET_RPC_H
#define FERRY_NET_RPC_H

#include <stdint.h>

#include "common/env.h"
#include "ferry_wire.h"
#include "net/transport.h"
#include "net/wire.h"

struct rpc_cfg {
	uint64_t cluster;     /* cluster id stamped on and required of datagrams; 0 = any */
	uint32_t mtu;         /* IP MTU of the path: fragment size derives from it */
	uint32_t max_msg;     /* largest request/response payload accepted */
	uint64_t mem_budget;  /* server: bytes of request + response buffers */
	uint32_t max_reqs;    /* server: requests tracked at once */
	uint32_t window;      /* datagrams this end accepts in flight per message */
	uint32_t rto_ms;      /* client: initial retransmission timeout */
	uint32_t timeout_ms;  /* client: a call fails after this long */
	uint32_t recv_idle_ms;/* server: a half-received request is dropped after this */
	uint32_t retain_ms;   /* server: answers are kept this long for retries */
	int no_zc;            /* server: copy payload even where the transport could
				 hold RX buffers / lend TX frames (for comparison) */
	int no_zc_rx;         /* server: copy requests on arrival all the same (their
				 consumer could not use the RX buffers as they are) */
	const struct env *env;/* clock and randomness (NULL = env_real()): the client's
				 timers and its session/request ids come from it */
};

/* rpc_cfg_default - sensible values (mtu 1500, 4 MiB + 64 KiB messages, ...). */
void rpc_cfg_default(struct rpc_cfg *cfg);

/* Counters of one end; printed as "rpc_<name> value" lines. */
struct rpc_counters {
	uint64_t rx_datagrams;      /* datagrams received */
	uint64_t drop[WIRE_ERR_MAX];/* rejected by wire_check, per reason */
	uint64_t drop_unexpected;   /* valid but for no known request/call */
	uint64_t drop_busy;         /* no memory/slot for a new request */
	uint64_t drop_too_big;      /* msg_len beyond max_msg */
	uint64_t dup_frags;         /* fragments received twice */
	uint64_t requests;          /* requests executed (server) / calls done (client) */
	uint64_t retransmits;       /* go-back-N events (after a timeout) */
	uint64_t fast_retransmits;  /* single fragments resent after 3 duplicate ACKs */
	uint64_t acks_tx;           /* ACK datagrams sent */
	uint64_t tx_datagrams;      /* datagrams sent */
	uint64_t timeouts;          /* server: half-received requests dropped; client: calls failed */
	uint64_t payload_copied;    /* payload bytes copied by the CPU in this layer */
	uint64_t zc_rx_bytes;       /* request payload kept in its RX buffers on arrival (a
				       later spill copies it after all: payload_copied) */
	uint64_t zc_tx_bytes;       /* answer payload sent from lent TX frames, uncopied */
	uint64_t zc_rx_spills;      /* held requests copied out after all (see rpc.c) */
	uint64_t zc_tx_spills;      /* lent answers copied out after all */
	uint64_t zc_tx_noframes;    /* answers that got no TX frames (heap buffer instead) */
	uint64_t tracked;           /* server, now: requests tracked (answered ones too) */
	uint64_t table;             /* server, now: request table buckets */
};

/* rpc_counters_format - "rpc_<name> value\n" lines; returns bytes written. */
size_t rpc_counters_format(const struct rpc_counters *c, char *buf, size_t cap);

/* ---------------------------------------------------------------- server */

struct rpc_srv;
struct rpc_sreq;

/* Called once per complete request. The handler answers with
 * rpc_sreq_reply_buf + rpc_sreq_reply, now or later. */
typedef void (*rpc_handler_fn)(void *arg, struct rpc_srv *srv, struct rpc_sreq *r);

int rpc_srv_open(const struct rpc_cfg *cfg, struct transport *t, rpc_handler_fn fn, void *arg,
		 struct rpc_srv **out);
void rpc_srv_close(struct rpc_srv *srv);
/* rpc_srv_input - handle one received datagram. Returns 1 when the server
 * keeps pkt's buffer (a held request fragment; it calls rx_release itself
 * later): the caller must then not release it. 0 otherwise. */
int rpc_srv_input(struct rpc_srv *srv, const struct net_pkt *pkt, uint64_t now_ns);
/* rpc_srv_flush - send pending ACKs and push queued datagrams out; call
 * after each receive batch. */
void rpc_srv_flush(struct rpc_srv *srv);
/* rpc_srv_tick - reclaim idle state; call by rpc_srv_next_deadline. */
void rpc_srv_tick(struct rpc_srv *srv, uint64_t now_ns);
/* rpc_srv_next_deadline - when rpc_srv_tick next has work (absolute ns on
 * the caller's clock, as given to rpc_srv_input), UINT64_MAX if never. */
uint64_t rpc_srv_next_deadline(struct rpc_srv *srv);
const struct rpc_counters *rpc_srv_counters(struct rpc_srv *srv);
uint32_t rpc_srv_active(struct rpc_srv *srv);

/* The request being executed. */
const struct ferry_hdr *rpc_sreq_hdr(const struct rpc_sreq *r);
const struct net_addr *rpc_sreq_peer(const struct rpc_sreq *r);
/* rpc_sreq_payload - the reassembled request payload (*len bytes), in a
 * 4 KiB aligned buffer whose capacity is *len rounded up to 4 KiB. A held
 * request is copied into one here (NULL when that memory is not there). */
uint8_t *rpc_sreq_payload(struct rpc_srv *srv, struct rpc_sreq *r, uint32_t *len);
/* rpc_sreq_payload_iov - the request payload as pieces in message order,
 * without copying: the RX buffers of a held request (each 512-byte aligned
 * on AF_XDP, lengths multiples of 512 but the last) or the one message
 * buffer. Valid until the request is answered; NULL on ENOMEM. */
const struct iovec *rpc_sreq_payload_iov(struct rpc_sreq *r, int *iovcnt);
/* rpc_sreq_payload_held - 1 when the payload is still in the transport's RX
 * buffers (rpc_sreq_payload would copy it), 0 when it is one buffer. */
int rpc_sreq_payload_held(const struct rpc_sreq *r);
/* rpc_sreq_reply_buf - a 4 KiB aligned buffer for up to len response bytes
 * (capacity len rounded up to 4 KiB); NULL and errno = ENOMEM when the
 * memory budget is exhausted. */
void *rpc_sreq_reply_buf(struct rpc_srv *srv, struct rpc_sreq *r, uint32_t len);
/* rpc_sreq_reply_iov - room for up to len answer bytes as pieces, to be
 * filled before rpc_sreq_reply: TX frames lent by the transport (one per
 * answer fragment, 512-byte aligned) where it can, else the reply buffer as
 * one piece. NULL and ENOMEM when neither is to be had. */
const struct iovec *rpc_sreq_reply_iov(struct rpc_srv *srv, struct rpc_sreq *r, uint32_t len,
				       int *iovcnt);
/* rpc_sreq_reply - answer with status and the first len bytes of the reply
 * buffer or pieces (len = 0 needs none). Starts sending. */
void rpc_sreq_reply(struct rpc_srv *srv, struct rpc_sreq *r, int32_t status, uint32_t len);

/* ---------------------------------------------------------------- client */

struct rpc_client;
struct rpc_call;

typedef void (*rpc_done_fn)(struct rpc_call *c);

struct rpc_call {
	/* filled by the caller */
	struct net_addr peer;        /* the node */
	uint8_t op;                  /* enum ferry_op */
	uint8_t chunk[FERRY_CHUNK_ID_LEN];
	uint64_t offset;             /* hdr.offset */
	uint32_t length;             /* hdr.length */
	uint64_t epoch;              /* caller's map epoch */
	const uint8_t *req;          /* request payload (req_len bytes) */
	uint32_t req_len;
	uint8_t *resp;               /* response buffer */
	uint32_t resp_cap;           /* its size; a larger response fails -EMSGSIZE */
	rpc_done_fn done;            /* called once when the call ends (may be NULL) */
	void *arg;                   /* for the caller */
	/* results */
	int err;                     /* 0, or -ETIMEDOUT/-EMSGSIZE/...: no answer */
	int32_t status;              /* the node's status when err == 0 */
	uint32_t resp_len;           /* response bytes when err == 0 */
	uint64_t resp_epoch;         /* the node's epoch in its answer */
	uint32_t resent;             /* times the call went again after a timeout: the
				      * server may have seen an earlier copy (perhaps
				      * an earlier run of it, before a restart) */
	/* private to rpc.c */
	struct rpc_call *next;       /* hash chain of the client's calls */
	struct rpc_call *lnext, *lprev; /* list of every call in flight (timers) */
	uint64_t req_id;
	uint64_t start_ns, progress_ns, deadline_ns;
	uint32_t rto_ms;
	uint32_t req_acked, req_next; /* request bytes acked / sent */
	uint32_t srv_window;         /* server's last advertised window */
	uint32_t resp_contig;        /* contiguous response bytes received */
	uint32_t resp_msg_len;       /* response length (known after first frag) */
	uint8_t *resp_map;           /* received 512-byte units */
	uint32_t resp_map_bits;
	uint8_t state;
	uint8_t ack_pending;
	uint8_t req_sent0;
	uint8_t dupacks;             /* server ACKs in a row that did not advance */
};

/* rpc_call_describe - how far an ended call got, for the message of a
 * timeout: "sent N times, request A/L bytes acked, response R/M bytes" -
 * which tells a request that never reached the server from one it is
 * still executing or an answer that did not get back. Returns buf. */
char *rpc_call_describe(const struct rpc_call *c, char *buf, size_t cap);

int rpc_client_open(const struct rpc_cfg *cfg, struct transport *t, struct rpc_client **out);
void rpc_client_close(struct rpc_client *cl);
/* rpc_client_start - begin a call; its done() runs from rpc_client_poll. */
int rpc_client_start(struct rpc_client *cl, struct rpc_call *c);
/* rpc_client_poll - wait up to timeout_ms for progress; returns the number
 * of calls that ended, or -errno. */
int rpc_client_poll(struct rpc_client *cl, int timeout_ms);
/* Driving a client from an outside loop (a node forwarding on its own
 * transport, whose receive path demultiplexes: FERRY_F_RESP -> client):
 * rpc_client_input - one received datagram (the caller releases it); returns
 * the calls it ended. rpc_client_tick - pending ACKs, retransmission timers,
 * flush; call after each receive batch and every few ms; returns calls ended.
 * rpc_client_next_ms - ms until the next timer (timeout_ms if sooner/none).
 * rpc_client_next_deadline - the next timer as absolute ns of the client's
 * env clock (UINT64_MAX: none). */
int rpc_client_input(struct rpc_client *cl, const struct net_pkt *pkt);
int rpc_client_tick(struct rpc_client *cl, uint64_t now_ns);
int rpc_client_next_ms(struct rpc_client *cl, int timeout_ms);
uint64_t rpc_client_next_deadline(struct rpc_client *cl);
/* rpc_client_call - start one call and poll until it ends; returns c->err. */
int rpc_client_call(struct rpc_client *cl, struct rpc_call *c);
/* rpc_client_cancel_all - end every call with -ECANCELED. */
void rpc_client_cancel_all(struct rpc_client *cl);
uint32_t rpc_client_inflight(struct rpc_client *cl);
const struct rpc_counters *rpc_client_counters(struct rpc_client *cl);
struct transport *rpc_client_transport(struct rpc_client *cl);

#endif /* FERRY_NET_RPC_H */
