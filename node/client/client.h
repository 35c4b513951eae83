/* SPDX-License-Identifier: Apache-2.0 */
/*
 * client.h - the Ferry client library: chunks and named objects.
 *
 * A client talks to one node (--node: no map, epoch 0) or to a cluster
 * (ctl given): it fetches the map and computes where each chunk lives
 * (cluster/place.h): writes go to the head of the chunk's write chain,
 * reads to its tail when that is a reader. Every call carries the map
 * epoch. Refusals that come before a request had any effect (STALE,
 * NOTHEAD, NOLEASE, NOTREADY, BUSY) are retried - after a fresh map where
 * the map is the reason - until timeout_ms x 3 has passed.
 *
 * Outcomes. An operation ends with err = 0, or an error and `maybe`: maybe
 * = 0 says it had no effect; maybe = 1 says it may have taken effect
 * (a timeout, or the head's INDOUBT). The library finishes an in-doubt
 * PUT or DELETE itself when it can: it retries with the version the head
 * gave, which the head completes or finds superseded - never applied
 * twice. Nothing else is retried after it may have had an effect.
 *
 * Two ways in:
 *   - asynchronous: client_submit a struct client_op, client_poll(now) as
 *     time passes and transports have input, client_next_deadline says
 *     when; ops end in their done callback. This is what the cluster
 *     simulator drives (client_open_deps with simulated transports and
 *     clock) and what ferry bench and object transfers use;
 *   - synchronous: client_chunk_* and client_obj_* wait for the answer on
 *     the real clock and sockets (client_open).
 * Errors are 0/-errno; the reason for the last failure is a one-line
 * message (client_errmsg) for the CLI to print.
 */
#ifndef FERRY_CLIENT_H
#define FERRY_CLIENT_H

#include <stdint.h>

#include "client/manifest.h"
#include "common/env.h"
#include "net/rpc.h"
#include "net/transport.h"

struct client_cfg {
	const char *node;        /* IP:PORT of the node (one node: --node) */
	const char *ctl;         /* IP:PORT of ctl (a cluster; used when node is NULL) */
	uint32_t concurrency;    /* chunk calls in flight (0 = 8) */
	uint32_t chunk_size;     /* bytes per data chunk for puts (0 = 4 MiB) */
	uint32_t timeout_ms;     /* per call (0 = 10 s) */
	uint32_t mtu;            /* path MTU (0 = 1500) */
	uint64_t cluster;        /* cluster id to stamp (0 = none) */
};

/* What a client takes from the world (client_open makes real ones). */
struct client_deps {
	const struct env *env;   /* clock and randomness */
	struct transport *t;     /* data traffic (not closed by client_close) */
	struct transport *ctl_t; /* map fetches (not closed by client_close) */
	const char *map_cache;   /* directory keeping the last map per ctl, or NULL */
};

struct client;

int client_open(const struct client_cfg *cfg, struct client **out);
int client_open_deps(const struct client_cfg *cfg, const struct client_deps *deps,
		     struct client **out);
void client_close(struct client *cl);
/* client_errmsg - one line describing the last failure. */
const char *client_errmsg(const struct client *cl);

/* ---------------------------------------------------------- asynchronous */

struct client_op {
	/* set by the caller */
	uint8_t op;                 /* FERRY_OP_PUT, GET, DELETE, WRITE or STAT */
	uint8_t id[FERRY_CHUNK_ID_LEN]; /* chunk */
	uint64_t off;               /* GET/WRITE: byte offset */
	const void *req;            /* PUT/WRITE: the bytes */
	uint32_t req_len;
	void *resp;                 /* GET: where the bytes go; STAT: a ferry_chunk_stat */
	uint32_t resp_cap;          /* GET: bytes wanted */
	void (*done)(struct client_op *op); /* called once, from client_poll */
	void *arg;                  /* for the caller */
	/* results, valid in done */
	int err;                    /* 0 or -errno (-ENOENT: no such chunk) */
	int maybe;                  /* err != 0 but it may have taken effect */
	uint32_t got;               /* GET: bytes read */
	uint64_t version;           /* PUT/WRITE/DELETE: the version it got */
	/* private to client_op.c */
	struct rpc_call call;
	uint8_t vbuf[8];
	uint8_t state;
	uint32_t attempt;
	uint64_t hint;              /* in-doubt version to finish */
	uint64_t deadline_ns, retry_ns;
	struct client_op *next, *prev;
};

/* client_submit - start op; its done runs from a later client_poll. */
int client_submit(struct client *cl, struct client_op *op);
/* client_poll - take input, run timers and retries, end ops. Returns the
 * number of ops that ended. */
int client_poll(struct client *cl, uint64_t now);
/* client_next_deadline - when client_poll next has timed work. */
uint64_t client_next_deadline(struct client *cl);
/* client_inflight - ops submitted and not ended. */
uint32_t client_inflight(const struct client *cl);
/* client_wait - poll on the real clock and sockets until op ends (sync use). */
int client_wait(struct client *cl, struct client_op *op);

/* ---------------------------------------------------------- synchronous */

/* Chunk operations. status from the node is returned as the negative errno
 * it carries. */
int client_chunk_put(struct client *cl, const uint8_t id[16], const void *buf, uint32_t len);
int client_chunk_get(struct client *cl, const uint8_t id[16], uint64_t off, void *buf,
		     uint32_t len, uint32_t *got);
int client_chunk_delete(struct client *cl, const uint8_t id[16]);
int client_chunk_stat(struct client *cl, const uint8_t id[16], struct ferry_chunk_stat *st);
/* client_chunk_list - one page after *cursor (updated); *n = 0 at the end. */
int client_chunk_list(struct client *cl, uint8_t cursor[16], struct ferry_list_entry *out,
		      uint32_t max, uint32_t *n);
/* client_node_stats - the node's "name value" counter text (NUL-terminated). */
int client_node_stats(struct client *cl, char *buf, uint32_t cap);

/* Cluster. client_map - fetch the map from ctl now (NULL + errno without
 * ctl or when it did not answer). client_ctl_stats - ctl's counter text.
 * client_ctl_lost - tell ctl a node's disk is gone for good. */
struct cmap;
const struct cmap *client_map(struct client *cl);
int client_ctl_stats(struct client *cl, char *buf, uint32_t cap);
int client_ctl_lost(struct client *cl, const uint8_t node[16]);
/* client_node_stats_at - the counters of the node at addr (for status). */
int client_node_stats_at(struct client *cl, const struct net_addr *addr, char *buf, uint32_t cap);

/* Objects. */
int client_obj_put_file(struct client *cl, const char *path, const char *name);
int client_obj_get_file(struct client *cl, const char *name, const char *path);
int client_obj_rm(struct client *cl, const char *name);
int client_obj_stat(struct client *cl, const char *name, struct manifest *m);
/* client_obj_list - calls fn for every object; stops early if fn returns non-zero. */
int client_obj_list(struct client *cl, int (*fn)(void *arg, const struct manifest *m), void *arg);

#endif
