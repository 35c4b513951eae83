/* SPDX-License-Identifier: Apache-2.0 */
/*
 * neigh.h - next-hop MAC addresses for frames the node builds itself.
 *
 * The AF_XDP transport writes Ethernet headers, so it needs the MAC of the
 * next hop towards a peer. Sources, fastest first:
 *   1. a small cache (open addressing, IPv4 keys), filled by
 *   2. neigh_learn(): the source MAC of frames received from the peer (right
 *      for replies: with symmetric routing it is the next hop back), and by
 *   3. the kernel: RTM_GETROUTE gives the next hop (gateway or the peer
 *      itself when on-link) and the output interface, RTM_GETNEIGH its
 *      lladdr. When the kernel has no usable entry, resolution is triggered
 *      by sending one tiny UDP datagram to the next hop's discard port (9)
 *      through a kernel socket (the kernel ARPs for it), and the caller gets
 *      -EAGAIN; a later lookup finds the entry. Kicks are rate-limited.
 * Entries expire (NEIGH_TTL_MS) so a changed MAC is picked up again.
 * IPv4 only for now (the xsk transport sends IPv4).
 *
 * Not thread-safe: one cache per transport (per queue thread).
 */
#ifndef FERRY_NEIGH_H
#define FERRY_NEIGH_H

#include <stdint.h>

#define NEIGH_TTL_MS      30000  /* cache lifetime of an entry */
#define NEIGH_KICK_MS     200    /* at most one resolution kick per address per this */

struct neigh_cache;

struct neigh_stats {
	uint64_t hits;       /* answered from the cache */
	uint64_t misses;     /* went to the kernel */
	uint64_t kicks;      /* resolution datagrams sent */
	uint64_t learned;    /* entries refreshed from received frames */
	uint64_t failures;   /* netlink errors */
};

/* neigh_open - a cache for frames leaving ifindex. 0 or -errno. */
int neigh_open(int ifindex, struct neigh_cache **out);
void neigh_close(struct neigh_cache *nc);

/*
 * neigh_lookup - MAC of the next hop towards IPv4 address ip (network
 * order) into mac. Returns 0; -EAGAIN if resolution is under way (retry
 * later); -ENETUNREACH if the route leaves through another interface;
 * other -errno on failure.
 */
int neigh_lookup(struct neigh_cache *nc, uint32_t ip, uint8_t mac[6]);

/* neigh_learn - remember that frames from ip came from mac. Cheap (per
 * packet); now is neigh_now_ns() taken once per receive burst. */
void neigh_learn(struct neigh_cache *nc, uint32_t ip, const uint8_t mac[6], uint64_t now);
/* neigh_now_ns - CLOCK_MONOTONIC in ns (the cache's clock). */
uint64_t neigh_now_ns(void);

void neigh_get_stats(const struct neigh_cache *nc, struct neigh_stats *out);

/* Exposed for tests: ask the kernel directly, bypassing the cache. */
int neigh_kernel_nexthop(struct neigh_cache *nc, uint32_t ip, uint32_t *nexthop, int *oif);
int neigh_kernel_lladdr(struct neigh_cache *nc, uint32_t nexthop, uint8_t mac[6]);

#endif
