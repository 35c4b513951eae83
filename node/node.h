/* SPDX-License-Identifier: Apache-2.0 */
/*
 * node.h - a storage node: one store, one or more transports, the request
 * handlers, and the run-to-completion loop that drives them.
 */
#ifndef FERRY_NODE_H
#define FERRY_NODE_H

#include <signal.h>
#include <stdint.h>

enum node_transport {
	NODE_TRANSPORT_AUTO = 0, /* xsk when an interface is given, else udp */
	NODE_TRANSPORT_UDP,      /* kernel UDP sockets */
	NODE_TRANSPORT_XDP,      /* AF_XDP behind the steering XDP program */
};

struct node_cfg {
	const char *disk;             /* store path (device or file) */
	const char *listen;           /* data address IP:PORT */
	const char *iface;            /* NIC for AF_XDP (NULL: none) */
	enum node_transport transport;/* see enum */
	uint32_t queues;              /* NIC queues to serve (0 = 1) */
	uint32_t mtu;                 /* path MTU (0 = the interface's, or 1500) */
	const uint8_t *cluster;       /* expected cluster UUID (NULL = the disk's) */
	const char *ctl;              /* control plane IP:PORT (NULL: standalone) */
	const char *zone;             /* failure domain */
	double scrub_mb_s;            /* background scrub rate (0 = off) */
	double weight;                /* placement weight (0 = 1.0) */
	double recovery_mb_s;         /* re-replication/rebalancing copy rate (0 = unlimited) */
	int xdp_generic;              /* allow generic (skb) XDP when native fails */
	int copy_payload;             /* no zero copy on AF_XDP (rpc_cfg.no_zc): to compare */
	volatile sig_atomic_t *stop;  /* set non-zero to make node_run return */
};

/* node_run - open the store and transports, serve until *cfg->stop.
 * Returns 0 after a clean stop, -errno when start-up failed (logged). */
int node_run(const struct node_cfg *cfg);

#endif
