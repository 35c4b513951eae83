/* SPDX-License-Identifier: Apache-2.0 */
/*
 * memnet.h - an in-memory pair of transports for testing the RPC layer:
 * datagrams sent by one end arrive at the other, with configurable loss,
 * duplication, corruption and reordering from a seeded PRNG.
 */
#ifndef FERRY_TEST_MEMNET_H
#define FERRY_TEST_MEMNET_H

#include "net/transport.h"
#include "ferry_wire.h"

struct memnet_faults {
	unsigned drop_pm;     /* per-mille of datagrams dropped */
	unsigned dup_pm;      /* per-mille delivered twice */
	unsigned corrupt_pm;  /* per-mille with one byte flipped */
	unsigned reorder_pm;  /* per-mille swapped with the previous one */
};

struct memnet;

/* memnet_open - two connected endpoints; a gets 10.0.0.1:1, b 10.0.0.2:2. */
struct memnet *memnet_open(uint32_t max_payload, uint64_t seed);
void memnet_close(struct memnet *m);
struct transport *memnet_a(struct memnet *m);
struct transport *memnet_b(struct memnet *m);
void memnet_set_faults(struct memnet *m, const struct memnet_faults *f);
/* datagrams currently queued towards either end */
unsigned memnet_queued(struct memnet *m);

/* memnet_zc - give endpoint t the zero-copy extensions of transport.h:
 * the caller may keep up to hold_max received buffers, and borrow TX
 * frames (payload slot at +512, as on AF_XDP). 0 or -ENOMEM. */
struct memnet_zc_stats {
	uint64_t rx_out;        /* RX buffers handed out and not released */
	uint64_t tx_lent;       /* TX frames lent and not freed */
	uint64_t bad_releases;  /* releases/frees/sends of buffers not out */
};
int memnet_zc(struct transport *t, uint32_t hold_max);
void memnet_zc_get_stats(struct transport *t, struct memnet_zc_stats *out);

#endif
