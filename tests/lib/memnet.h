/* SPDX-License-Identifier: Apache-2.0 */
/*
 * memnet.h - two transports wired back to back, for tests that drive the
 * RPC layer by hand. Underneath is the simulator's network (sim/simnet.h)
 * with two hosts and no clock: a datagram sent by one end is there at the
 * other's next rx_burst, in send order unless reordering is asked for,
 * with loss, duplication and corruption drawn from the seed. For the
 * zero-copy extensions (held RX buffers, lent TX frames) call simnet_zc on
 * an end; simnet_zc_get_stats then shows what is out and what was misused.
 */
#ifndef FERRY_TEST_MEMNET_H
#define FERRY_TEST_MEMNET_H

#include "net/transport.h"
#include "sim/simnet.h"

struct memnet_faults {
	unsigned drop_pm;     /* per-mille of datagrams dropped */
	unsigned dup_pm;      /* per-mille delivered twice */
	unsigned corrupt_pm;  /* per-mille with one bit flipped */
	unsigned reorder_pm;  /* per-mille overtaken by those sent after them */
};

struct memnet;

/* memnet_open - two connected endpoints; a gets 10.0.0.1:1, b 10.0.0.2:2,
 * each carrying datagrams of up to max_payload bytes (at most
 * SIMNET_MAX_FRAME). No faults until memnet_set_faults. NULL with errno
 * set on failure. */
struct memnet *memnet_open(uint32_t max_payload, uint64_t seed);
void memnet_close(struct memnet *m);
struct transport *memnet_a(struct memnet *m);
struct transport *memnet_b(struct memnet *m);
void memnet_set_faults(struct memnet *m, const struct memnet_faults *f);

#endif
