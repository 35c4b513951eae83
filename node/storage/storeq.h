/* SPDX-License-Identifier: Apache-2.0 */
/*
 * storeq.h - one submission queue in front of a store, shared by everyone in
 * a process that submits to it (the node's request handlers, its chain
 * replication, recovery and repair).
 *
 * store_submit refuses an op for now with -EBUSY (another mutation of the
 * same chunk is in flight) or -EAGAIN (no bounce buffer, queue full). Such
 * ops wait here, in submission order, and go again after completions - so
 * per-chunk order is the order of storeq_submit. Any other refusal
 * completes the op at once with that result. Callers embed struct
 * storeq_op first in their own op struct, fill sop (its cb is storeq's)
 * and set done: it runs once, from whatever polls the store (a synchronous
 * store call reaps too), with sop.res set.
 */
#ifndef FERRY_STOREQ_H
#define FERRY_STOREQ_H

#include <stdint.h>

#include "storage/store.h"

struct storeq;

struct storeq_op {
	struct store_op sop;        /* first: callbacks cast back */
	void (*done)(struct storeq_op *op); /* completion */
	struct storeq *q;           /* set by storeq_submit */
	struct storeq_op *next;     /* waiting list */
};

struct storeq {
	struct store *s;            /* the store */
	struct storeq_op *wait_head, *wait_tail; /* refused for now, in order */
	uint32_t inflight;          /* submitted and not completed (waiting too) */
	uint64_t waits;             /* ops that had to wait (counter) */
};

void storeq_init(struct storeq *q, struct store *s);
/* storeq_submit - start op (done runs later, or at once on a hard error). */
void storeq_submit(struct storeq *q, struct storeq_op *op);
/* storeq_poll - reap completions (running callbacks), resubmit waiting ops;
 * wait = block for one completion. Returns completions run, or -errno. */
int storeq_poll(struct storeq *q, int wait);
/* storeq_drain - run until nothing is in flight (shutdown). */
void storeq_drain(struct storeq *q);

#endif
