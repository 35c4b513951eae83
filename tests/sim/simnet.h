/* SPDX-License-Identifier: Apache-2.0 */
/*
 * simnet.h - the simulated network of the cluster simulator.
 *
 * Hosts (one per simulated machine, named by an IPv4 address) own
 * endpoints, each a struct transport bound to a UDP port. A datagram sent
 * at simulated time t is delivered at t + a delay drawn from the network's
 * generator, so datagrams reorder whenever delays differ; it may be lost,
 * duplicated (delivered twice, at two delays) or corrupted (one bit
 * flipped), each at a per-million rate. Partitions cut the direction a -> b
 * between two hosts (cut both for a symmetric one). Everything is drawn
 * from one seeded generator in the order of calls, so one seed gives one
 * run. Nothing here reads a clock: the simulator passes simulated time in.
 */
#ifndef FERRY_SIM_SIMNET_H
#define FERRY_SIM_SIMNET_H

#include <stdint.h>

#include "net/transport.h"

#define SIMNET_MAX_HOSTS 32
#define SIMNET_MTU       1500

struct simnet_faults {
	uint32_t loss_pm;      /* per million datagrams lost */
	uint32_t dup_pm;       /* per million delivered twice */
	uint32_t corrupt_pm;   /* per million with one bit flipped */
	uint64_t delay_min_ns; /* one-way delay, uniform in [min, max] */
	uint64_t delay_max_ns;
};

struct simnet_counters {
	uint64_t sent, delivered, lost, dup, corrupted, cut, no_endpoint, bytes;
};

struct simnet;

struct simnet *simnet_new(uint64_t seed);
void simnet_free(struct simnet *net);
void simnet_set_faults(struct simnet *net, const struct simnet_faults *f);
/* simnet_host - the host with address ip (10.x.y.z as a host-order u32);
 * created on first use. Returns its index or -ENOSPC. */
int simnet_host(struct simnet *net, uint32_t ip);
/* simnet_open - an endpoint on host h at port (host order); a closed
 * endpoint's datagrams in flight are dropped on arrival. */
struct transport *simnet_open(struct simnet *net, int host, uint16_t port);
void simnet_close(struct transport *t);
/* simnet_cut - cut (1) or heal (0) the direction from host a to host b. */
void simnet_cut(struct simnet *net, int a, int b, int cut);
void simnet_heal_all(struct simnet *net);
int simnet_is_cut(const struct simnet *net, int a, int b);
/* simnet_now - the simulated time senders are stamped with (set by the
 * simulator before it runs a process). */
void simnet_set_now(struct simnet *net, uint64_t now);
/* simnet_next - the time of the next delivery (UINT64_MAX: none). */
uint64_t simnet_next(const struct simnet *net);
/* simnet_deliver - move every datagram due at or before now into its
 * endpoint's inbox; calls woke(arg, host) for each host that got one.
 * Returns the number delivered. */
int simnet_deliver(struct simnet *net, uint64_t now, void (*woke)(void *arg, int host), void *arg);
void simnet_get_counters(const struct simnet *net, struct simnet_counters *out);
/* simnet_hash - a running hash of every delivery (time, endpoint, bytes):
 * equal for two runs of the same seed, or the run was not deterministic. */
uint64_t simnet_hash(const struct simnet *net);
/* simnet_host_addr - the net_addr of host h at port. */
struct net_addr simnet_addr(uint32_t ip, uint16_t port);

#endif
