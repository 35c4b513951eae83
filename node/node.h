/* SPDX-License-Identifier: Apache-2.0 */
/*
 * node.h - a storage node as a library: one store, one or more transports,
 * the request handlers, and (joined to a cluster) the cluster member.
 *
 * The library never blocks and never reads a clock of its own: the caller
 * gives it time (node_poll(now)) and asks when to come back
 * (node_next_deadline). `ferry node` is node_run, a thin driver that opens
 * the disk and the sockets, wires the real clock, and polls file
 * descriptors between calls; the cluster simulator (tests/sim/) runs many
 * nodes in one thread over simulated transports and disks instead.
 */
#ifndef FERRY_NODE_H
#define FERRY_NODE_H

#include <poll.h>
#include <signal.h>
#include <stdint.h>

#include "common/env.h"
#include "net/transport.h"
#include "storage/store.h"

enum node_transport {
	NODE_TRANSPORT_AUTO = 0, /* xsk when an interface is given, else udp */
	NODE_TRANSPORT_UDP,      /* kernel UDP sockets */
	NODE_TRANSPORT_XDP,      /* AF_XDP behind the steering XDP program */
};

struct node_cfg {
	/* what the driver (node_run) opens */
	const char *disk;             /* store path (device or file) */
	const char *listen;           /* data address IP:PORT */
	const char *iface;            /* NIC for AF_XDP (NULL: none) */
	enum node_transport transport;/* see enum */
	uint32_t queues;              /* NIC queues to serve (0 = 1) */
	const uint8_t *cluster;       /* expected cluster UUID (NULL = the disk's) */
	const char *ctl;              /* control plane IP:PORT (NULL: standalone) */
	int xdp_generic;              /* allow generic (skb) XDP when native fails */
	volatile sig_atomic_t *stop;  /* set non-zero to make node_run return */
	/* what the library uses */
	uint32_t mtu;                 /* path MTU (0 = the interface's, or 1500) */
	const char *zone;             /* failure domain */
	double scrub_mb_s;            /* background scrub rate (0 = off) */
	double weight;                /* placement weight (0 = 1.0) */
	double recovery_mb_s;         /* re-replication/rebalancing copy rate (0 = unlimited) */
	int copy_payload;             /* no zero copy on AF_XDP (rpc_cfg.no_zc): to compare */
	uint32_t heartbeat_ms;        /* to ctl (0 = 300) */
};

#define NODE_MAX_QUEUES 16

/* What the caller gives the library; it closes none of it. */
struct node_deps {
	const struct env *env;        /* clock and randomness (NULL = env_real()) */
	struct store *store;          /* the node's store */
	struct transport *paths[NODE_MAX_QUEUES]; /* data transports, one per queue */
	uint32_t npaths;              /* at least 1 */
	struct transport *ctl_t;      /* ctl traffic (NULL: standalone, no cluster) */
	struct net_addr self;         /* the data address peers reach (cluster) */
	struct net_addr ctl;          /* ctl's address (cluster) */
};

struct node;

/* node_open - set up the handlers over deps (and the cluster member when
 * deps->ctl_t is given). 0 or -errno (logged). */
int node_open(const struct node_cfg *cfg, const struct node_deps *deps, struct node **out);
/* node_poll - take what arrived, run what completed and what is due at now,
 * send the answers. Returns 1 if it did work, 0 if idle, -errno when the
 * node must stop (ctl refused it, a transport failed; logged). */
int node_poll(struct node *n, uint64_t now);
/* node_next_deadline - the latest time to call node_poll again even if no
 * file descriptor becomes ready (absolute ns on the env's clock). */
uint64_t node_next_deadline(struct node *n);
/* node_pollfds - the descriptors that become readable when node_poll has
 * input; returns how many were written (at most max). */
int node_pollfds(struct node *n, struct pollfd *pfd, int max);
/* node_map - the cluster map the node serves under (NULL: standalone). */
struct cmap;
const struct cmap *node_map(const struct node *n);
/* node_close - finish and answer every op in flight, then free. */
void node_close(struct node *n);

/* node_run - the `ferry node` driver: open the store and transports, serve
 * until *cfg->stop. Returns 0 after a clean stop, -errno when start-up
 * failed or ctl refused the node (logged). */
int node_run(const struct node_cfg *cfg);

#endif
