/* SPDX-License-Identifier: Apache-2.0 */
/* client_int.h - the client's private state, shared by client*.c. */
#ifndef FERRY_CLIENT_INT_H
#define FERRY_CLIENT_INT_H

#include "client/client.h"
#include "cluster/map.h"

struct client {
	struct client_cfg cfg;
	struct client_deps deps;
	struct transport *own_t;     /* opened by client_open (closed by client_close) */
	struct transport *own_ctl_t; /* likewise */
	struct rpc_client *rpc;      /* data calls */
	struct rpc_client *ctl_rpc;  /* map fetches (short timeout) */
	struct net_addr node;        /* --node */
	char node_str[64];           /* the node of the last failure, for messages */
	char err[512];               /* the last failure */
	uint64_t now;                /* time of the current poll */
	/* cluster mode (ctl given, no node) */
	int clustered;
	struct net_addr ctl;
	char ctl_str[64];
	struct cmap *map;            /* last map (epoch 0: none yet) */
	struct cmap *tmp;            /* parse target */
	uint8_t *map_buf;            /* GETMAP answers */
	char cache_dir[256];         /* where the last map of this ctl is kept ("" = nowhere) */
	struct rpc_call map_call;    /* the fetch in flight */
	int map_busy;                /* a fetch is in flight */
	int map_cached;              /* the map is a previous run's (the cache), not
				      * yet checked with ctl or a node: ops wait for
				      * the first fetch rather than go to a node that
				      * may have left */
	int map_src;                 /* -1: asking ctl; else the map index of the node asked */
	int map_round_ok;            /* the last round got a map */
	uint64_t map_rounds;         /* fetch rounds started */
	/* asynchronous ops */
	struct client_op *ops;       /* submitted, not ended */
	uint32_t inflight;
	uint32_t ended;              /* ended in the current client_poll */
};

/* client_fail - keep a one-line message; returns err. */
int client_fail(struct client *cl, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* client_want_map - start fetching a fresh map unless one is on its way. */
void client_want_map(struct client *cl);
/* client_rpc_poll - take input on both transports and run rpc timers. */
void client_rpc_poll(struct client *cl, uint64_t now);
/* client_sync_call - one rpc call on the real clock, without retries. */
int client_sync_call(struct client *cl, struct rpc_client *rpc, struct rpc_call *c);
/* client_call_result - a finished rpc call as 0/-errno with a message. */
int client_call_result(struct client *cl, const struct rpc_call *c);
/* client_op_result - a finished op as 0/-errno, with a message that says
 * what the error means and whether a write may have taken effect. */
int client_op_result(struct client *cl, const struct client_op *op);
/* client_list_at - one LIST page from the node at at (no retries). */
int client_list_at(struct client *cl, const struct net_addr *at, uint8_t cursor[16],
		   struct ferry_list_entry *out, uint32_t max, uint32_t *n);

#endif
