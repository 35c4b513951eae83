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
 *
 * Tests that drive two endpoints by hand (tests/lib/memnet.h) use the same
 * network without a clock (simnet_set_instant), and may give an endpoint
 * the zero-copy extensions of transport.h (simnet_zc). Those, and the
 * reorder_pm fault, are opt-in: the simulator never asks for them, so its
 * runs, generator draws included, are what they were without them.
 */
#ifndef FERRY_SIM_SIMNET_H
#define FERRY_SIM_SIMNET_H

#include <stdint.h>

#include "net/transport.h"

#define SIMNET_MAX_HOSTS 32
#define SIMNET_MTU       1500
#define SIMNET_MAX_DGRAM (SIMNET_MTU - 28) /* an endpoint's max_payload by default */
#define SIMNET_MAX_FRAME 4096              /* the most any endpoint may carry */

struct simnet_faults {
	uint32_t loss_pm;      /* per million datagrams lost */
	uint32_t dup_pm;       /* per million delivered twice */
	uint32_t corrupt_pm;   /* per million with one bit flipped */
	uint32_t reorder_pm;   /* per million held back a whole delay span more, so
				  that datagrams sent with or after them overtake
				  them even when delays are equal (drawn only when
				  non-zero) */
	uint64_t delay_min_ns; /* one-way delay, uniform in [min, max] */
	uint64_t delay_max_ns;
};

struct simnet_counters {
	uint64_t sent, delivered, lost, dup, corrupted, reordered, cut, no_endpoint, bytes;
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

/* ---------------------------------------------- for tests without a clock */

/* simnet_set_instant - on: every rx_burst first delivers every datagram in
 * flight (in due order, so delays and reorder_pm still reorder them), and
 * a datagram sent is there at its receiver's next rx_burst; time never
 * has to pass. */
void simnet_set_instant(struct simnet *net, int on);
/* simnet_set_link - endpoint t carries datagrams up to max_payload bytes
 * (t->max_payload; SIMNET_MAX_DGRAM by default, at most SIMNET_MAX_FRAME;
 * larger sends fail -EMSGSIZE) and reports rx_credits (256 by default).
 * Returns 0 or -EINVAL. */
int simnet_set_link(struct transport *t, uint32_t max_payload, uint32_t rx_credits);

/*
 * Zero-copy extensions (transport.h: rx_hold_max, txz_alloc, txz_send,
 * txz_free), as AF_XDP has them, for testing their users (rpc.c):
 *   - received datagrams are handed out in one of SIMNET_ZC_RX buffers;
 *     the caller may keep up to hold_max of them past the rx_burst batch
 *     (capped at SIMNET_ZC_RX - 256), and while every buffer is out
 *     rx_burst returns nothing, like an empty fill ring;
 *   - SIMNET_ZC_TX frames of SIMNET_MAX_FRAME bytes are lent, the payload
 *     slot at +SIMNET_ZC_HEADROOM (512-byte aligned); txz_send puts the
 *     Ferry header in front of the slot and sends a copy, so a frame may be
 *     sent again at once and never reports -EBUSY.
 * Every buffer has an owner flag: a release, free or send of one that is
 * not out counts in bad_releases instead of corrupting anything, and
 * rx_out/tx_lent show what is still out (0 after a clean shutdown).
 */
#define SIMNET_ZC_RX       4096
#define SIMNET_ZC_TX       2048
#define SIMNET_ZC_HEADROOM 512

struct simnet_zc_stats {
	uint64_t rx_out;       /* RX buffers handed out and not released */
	uint64_t tx_lent;      /* TX frames lent and not freed */
	uint64_t bad_releases; /* releases/frees/sends of buffers not out */
};

/* simnet_zc - give endpoint t the zero-copy extensions (again: a new
 * hold_max). Returns 0 or -ENOMEM. */
int simnet_zc(struct transport *t, uint32_t hold_max);
/* simnet_zc_get_stats - t's buffer accounting (zeros if t has no zc). */
void simnet_zc_get_stats(struct transport *t, struct simnet_zc_stats *out);

#endif
