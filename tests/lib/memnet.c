/* SPDX-License-Identifier: Apache-2.0 */
/* memnet.c - two simnet endpoints back to back (see memnet.h). */
#include "lib/memnet.h"

#include <errno.h>
#include <stdlib.h>

/* What rx_credits reports. The inboxes have no bound, so this only sets the
 * RPC server's window: wide enough for every request in flight to get the
 * window the tests configure. */
#define MEMNET_CREDITS 2048

struct memnet {
	struct simnet *net;
	struct transport *a, *b;
};

struct memnet *memnet_open(uint32_t max_payload, uint64_t seed)
{
	struct memnet *m = calloc(1, sizeof(*m));
	int err = -ENOMEM;

	if (!m)
		return NULL;
	m->net = simnet_new(seed);
	if (!m->net)
		goto fail;
	simnet_set_instant(m->net, 1);
	memnet_set_faults(m, &(struct memnet_faults){ 0 });
	m->a = simnet_open(m->net, simnet_host(m->net, 0x0a000001), 1);
	m->b = simnet_open(m->net, simnet_host(m->net, 0x0a000002), 2);
	if (!m->a || !m->b)
		goto fail;
	err = simnet_set_link(m->a, max_payload, MEMNET_CREDITS);
	if (!err)
		err = simnet_set_link(m->b, max_payload, MEMNET_CREDITS);
	if (err)
		goto fail;
	return m;
fail:
	memnet_close(m);
	errno = -err;
	return NULL;
}

void memnet_close(struct memnet *m)
{
	if (!m)
		return;
	simnet_free(m->net);
	free(m);
}

struct transport *memnet_a(struct memnet *m)
{
	return m->a;
}

struct transport *memnet_b(struct memnet *m)
{
	return m->b;
}

void memnet_set_faults(struct memnet *m, const struct memnet_faults *f)
{
	/* No delays: datagrams keep their order unless reorder_pm moves one. */
	struct simnet_faults sf = {
		.loss_pm = f->drop_pm * 1000,
		.dup_pm = f->dup_pm * 1000,
		.corrupt_pm = f->corrupt_pm * 1000,
		.reorder_pm = f->reorder_pm * 1000,
	};

	simnet_set_faults(m->net, &sf);
}
