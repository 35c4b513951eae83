/* SPDX-License-Identifier: Apache-2.0 */
/*
 * client.h - the Ferry client library: chunks and named objects.
 *
 * A client owns a kernel UDP transport and an rpc_client on it. Chunk calls
 * go to the one node given (--node), or, given ctl, to the node the cluster
 * map says (cluster/place.h): writes to the chain's head, reads to its tail
 * (then the other members, newest map first). Every cluster call carries the
 * map epoch; a node with another epoch answers STALE and the client fetches
 * the map again and retries, as it does when a chain member times out, until
 * timeout_ms x 3 has passed. ctl being away only matters when a node says
 * the map is stale: the last map keeps working. Object calls split files into
 * chunks plus a manifest (client/manifest.h) and keep several chunk calls in
 * flight. Errors are 0/-errno; the reason for the last failure is kept in
 * a one-line message (client_errmsg) for the CLI to print.
 */
#ifndef FERRY_CLIENT_H
#define FERRY_CLIENT_H

#include <stdint.h>

#include "client/manifest.h"
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

struct client;

int client_open(const struct client_cfg *cfg, struct client **out);
void client_close(struct client *cl);
/* client_errmsg - one line describing the last failure. */
const char *client_errmsg(const struct client *cl);

/* Chunk operations against the node. status from the node is returned as
 * the negative errno it carries. */
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
 * ctl or when it did not answer). client_ctl_stats - ctl's counter text. */
struct cmap;
const struct cmap *client_map(struct client *cl);
int client_ctl_stats(struct client *cl, char *buf, uint32_t cap);
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
