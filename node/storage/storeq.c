/* SPDX-License-Identifier: Apache-2.0 */
/* storeq.c - the shared submission queue (see storeq.h). */
#include "storage/storeq.h"

#include <errno.h>
#include <stddef.h>

void storeq_init(struct storeq *q, struct store *s)
{
	q->s = s;
	q->wait_head = q->wait_tail = NULL;
	q->inflight = 0;
	q->waits = 0;
}

static void storeq_done(struct store_op *sop)
{
	struct storeq_op *op = (struct storeq_op *)sop;

	op->q->inflight--;
	op->done(op);
}

static void storeq_fail(struct storeq_op *op, int err)
{
	op->sop.res = err;
	storeq_done(&op->sop);
}

static void storeq_wait(struct storeq *q, struct storeq_op *op)
{
	op->next = NULL;
	if (q->wait_tail)
		q->wait_tail->next = op;
	else
		q->wait_head = op;
	q->wait_tail = op;
	q->waits++;
}

void storeq_submit(struct storeq *q, struct storeq_op *op)
{
	int err;

	op->q = q;
	op->sop.cb = storeq_done;
	q->inflight++;
	if (q->wait_head) { /* keep order behind ops already waiting */
		storeq_wait(q, op);
		return;
	}
	err = store_submit(q->s, &op->sop);
	if (err == -EBUSY || err == -EAGAIN)
		storeq_wait(q, op);
	else if (err)
		storeq_fail(op, err);
}

/* Resubmit waiting ops until the store refuses again. */
static void storeq_retry(struct storeq *q)
{
	while (q->wait_head) {
		struct storeq_op *op = q->wait_head;
		int err = store_submit(q->s, &op->sop);

		if (err == -EBUSY || err == -EAGAIN)
			return;
		q->wait_head = op->next;
		if (!q->wait_head)
			q->wait_tail = NULL;
		if (err)
			storeq_fail(op, err);
	}
}

int storeq_poll(struct storeq *q, int wait)
{
	int done;

	if (!q->inflight)
		return 0;
	done = store_poll(q->s, wait && store_inflight(q->s));
	storeq_retry(q);
	return done;
}

void storeq_drain(struct storeq *q)
{
	while (q->inflight) {
		if (storeq_poll(q, 1) < 0)
			break;
	}
}
