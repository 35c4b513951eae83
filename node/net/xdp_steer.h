/* SPDX-License-Identifier: Apache-2.0 */
/*
 * xdp_steer.h - the steering XDP program (bpf/steer.bpf.c) on one interface.
 *
 * Loaded and attached once per interface, shared by every AF_XDP socket on
 * it (xdp_steer_get() takes a reference on an existing attachment with the
 * same settings; the last xdp_steer_put() detaches). Each queue's socket
 * goes into the program's XSKMAP at its queue index. The attachment is a
 * bpf_link, so a dying process takes the program with it.
 *
 * Counters: the program's per-CPU "counters" map (enum ferry_ctr), exposed
 * as "xdp_<name> value" lines: xdp_rx, xdp_pass, xdp_redirect, xdp_drop,
 * xdp_tx, xdp_ferry, xdp_redirect_fail, xdp_drop_short, xdp_drop_magic,
 * xdp_drop_version, xdp_drop_op, xdp_drop_length, xdp_drop_cluster,
 * xdp_drop_flags, xdp_drop_ip, xdp_drop_udp, xdp_drop_reserved,
 * plus "xdp_attach native|generic".
 */
#ifndef FERRY_XDP_STEER_H
#define FERRY_XDP_STEER_H

#include <stddef.h>
#include <stdint.h>

#include "net/xdp_link.h"

struct xdp_steer;

struct xdp_steer_cfg {
	const char *ifname;       /* interface to attach to */
	uint16_t port;            /* storage UDP port, host order */
	uint64_t cluster;         /* ferry_hdr.cluster to require; 0 = any */
	enum xdp_link_mode mode;  /* auto (= native) / native / generic */
	int count_only;           /* 1: validate and count, never redirect */
};

/*
 * xdp_steer_get - attach the steering program to cfg->ifname, or take a
 * reference on the attachment this process already has there (settings
 * must match, else -EEXIST). Returns 0 or -errno.
 */
int xdp_steer_get(const struct xdp_steer_cfg *cfg, struct xdp_steer **out);
/* xdp_steer_put - drop a reference; the last one detaches and unloads. */
void xdp_steer_put(struct xdp_steer *s);

/* xdp_steer_set_socket - steer queue's datagrams to AF_XDP socket xsk_fd
 * (-1 removes). Returns 0 or -errno. */
int xdp_steer_set_socket(struct xdp_steer *s, uint32_t queue, int xsk_fd);

/* xdp_steer_counters - sum the per-CPU counters into out[FERRY_CTR_MAX]. */
int xdp_steer_counters(struct xdp_steer *s, uint64_t *out);
/* xdp_steer_ctr_name - "rx", "drop_magic", ... for enum ferry_ctr idx. */
const char *xdp_steer_ctr_name(unsigned int idx);
/* xdp_steer_stats - append "xdp_attach MODE" and "xdp_<name> value" lines. */
size_t xdp_steer_stats(struct xdp_steer *s, char *buf, size_t cap);
/* xdp_steer_stats_owner - 1 if `who` reports this attachment's counters
 * (the first caller becomes the owner until xdp_steer_disown), so a node
 * with several queues on one interface prints xdp_* lines once. */
int xdp_steer_stats_owner(struct xdp_steer *s, const void *who);
void xdp_steer_disown(struct xdp_steer *s, const void *who);
/* xdp_steer_mode - the mode in force (native or generic). */
enum xdp_link_mode xdp_steer_mode(const struct xdp_steer *s);
int xdp_steer_ifindex(const struct xdp_steer *s);

#endif
