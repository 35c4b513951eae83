/* SPDX-License-Identifier: Apache-2.0 */
#include "lib/memnet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MEMNET_SLOTS 8192
#define MEMNET_MTU   4096

struct memnet_dgram {
	uint32_t len;
	uint8_t data[MEMNET_MTU];
};

struct memnet_end {
	struct transport t;
	struct memnet *m;
	struct memnet_end *peer;
	struct memnet_dgram *q; /* inbox ring */
	unsigned head, tail;    /* pop at head, push at tail */
	struct memnet_dgram *held; /* rx buffers handed out */
};

struct memnet {
	struct memnet_end a, b;
	struct memnet_faults f;
	uint64_t rng;
};

static uint32_t memnet_rand(struct memnet *m)
{
	m->rng ^= m->rng << 13;
	m->rng ^= m->rng >> 7;
	m->rng ^= m->rng << 17;
	return (uint32_t)(m->rng >> 16);
}

static void memnet_push(struct memnet_end *to, const uint8_t *data, uint32_t len)
{
	struct memnet *m = to->m;

	if (to->tail - to->head == MEMNET_SLOTS)
		return; /* full: lost, as a real queue would */
	struct memnet_dgram *d = &to->q[to->tail % MEMNET_SLOTS];
	memcpy(d->data, data, len);
	d->len = len;
	if (len && memnet_rand(m) % 1000 < m->f.corrupt_pm)
		d->data[memnet_rand(m) % len] ^= (uint8_t)(1u << (memnet_rand(m) % 8));
	to->tail++;
	if (to->tail - to->head >= 2 && memnet_rand(m) % 1000 < m->f.reorder_pm) {
		struct memnet_dgram tmp = to->q[(to->tail - 1) % MEMNET_SLOTS];
		to->q[(to->tail - 1) % MEMNET_SLOTS] = to->q[(to->tail - 2) % MEMNET_SLOTS];
		to->q[(to->tail - 2) % MEMNET_SLOTS] = tmp;
	}
}

static int memnet_tx(struct transport *t, const struct net_addr *to, const struct iovec *iov,
		     int iovcnt)
{
	struct memnet_end *e = (struct memnet_end *)t;
	uint8_t buf[MEMNET_MTU];
	uint32_t len = 0;

	(void)to;
	for (int i = 0; i < iovcnt; i++) {
		if (len + iov[i].iov_len > sizeof(buf))
			return -EMSGSIZE;
		memcpy(buf + len, iov[i].iov_base, iov[i].iov_len);
		len += (uint32_t)iov[i].iov_len;
	}
	if (memnet_rand(e->m) % 1000 < e->m->f.drop_pm)
		return 0;
	memnet_push(e->peer, buf, len);
	if (memnet_rand(e->m) % 1000 < e->m->f.dup_pm)
		memnet_push(e->peer, buf, len);
	return 0;
}

static int memnet_rx_burst(struct transport *t, struct net_pkt *pkts, int max)
{
	struct memnet_end *e = (struct memnet_end *)t;
	int n = 0;

	while (n < max && e->head != e->tail) {
		struct memnet_dgram *d = &e->q[e->head % MEMNET_SLOTS];
		memcpy(&e->held[n], d, sizeof(*d));
		pkts[n].data = e->held[n].data;
		pkts[n].len = e->held[n].len;
		pkts[n].queue = 0;
		pkts[n].peer = e->peer->t.local;
		pkts[n].handle = (uint64_t)n;
		e->head++;
		n++;
	}
	return n;
}

static void memnet_rx_release(struct transport *t, struct net_pkt *p, int n)
{
	(void)t;
	(void)p;
	(void)n;
}

static int memnet_flush(struct transport *t)
{
	(void)t;
	return 0;
}

static int memnet_poll_fd(struct transport *t)
{
	(void)t;
	return -1;
}

static uint32_t memnet_credits(struct transport *t)
{
	(void)t;
	return MEMNET_SLOTS / 4;
}

static size_t memnet_stats(struct transport *t, char *buf, size_t cap)
{
	(void)t;
	int n = snprintf(buf, cap, "transport memnet\n");
	return n < 0 ? 0 : (size_t)n;
}

static void memnet_end_close(struct transport *t)
{
	(void)t;
}

static const struct transport_ops memnet_ops = {
	.name = "memnet",
	.rx_burst = memnet_rx_burst,
	.rx_release = memnet_rx_release,
	.tx = memnet_tx,
	.tx_flush = memnet_flush,
	.poll_fd = memnet_poll_fd,
	.rx_credits = memnet_credits,
	.stats = memnet_stats,
	.close = memnet_end_close,
};

static int memnet_end_init(struct memnet *m, struct memnet_end *e, struct memnet_end *peer,
			   const char *ip, uint16_t port, uint32_t max_payload)
{
	e->t.ops = &memnet_ops;
	e->t.max_payload = max_payload;
	e->t.local.family = AF_INET;
	e->t.local.port = htons(port);
	inet_pton(AF_INET, ip, e->t.local.ip);
	e->m = m;
	e->peer = peer;
	e->q = calloc(MEMNET_SLOTS, sizeof(*e->q));
	e->held = calloc(256, sizeof(*e->held));
	return e->q && e->held ? 0 : -ENOMEM;
}

struct memnet *memnet_open(uint32_t max_payload, uint64_t seed)
{
	struct memnet *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->rng = seed ? seed : 0x9e3779b97f4a7c15ull;
	if (memnet_end_init(m, &m->a, &m->b, "10.0.0.1", 1, max_payload) ||
	    memnet_end_init(m, &m->b, &m->a, "10.0.0.2", 2, max_payload)) {
		memnet_close(m);
		return NULL;
	}
	return m;
}

void memnet_close(struct memnet *m)
{
	if (!m)
		return;
	free(m->a.q);
	free(m->a.held);
	free(m->b.q);
	free(m->b.held);
	free(m);
}

struct transport *memnet_a(struct memnet *m)
{
	return &m->a.t;
}

struct transport *memnet_b(struct memnet *m)
{
	return &m->b.t;
}

void memnet_set_faults(struct memnet *m, const struct memnet_faults *f)
{
	m->f = *f;
}

unsigned memnet_queued(struct memnet *m)
{
	return (m->a.tail - m->a.head) + (m->b.tail - m->b.head);
}
