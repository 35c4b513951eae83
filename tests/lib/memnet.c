/* SPDX-License-Identifier: Apache-2.0 */
#include "lib/memnet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MEMNET_SLOTS 8192
#define MEMNET_MTU   4096
#define MEMNET_ZC_RX 4096
#define MEMNET_ZC_TX 2048
#define MEMNET_ZC_PAYLOAD 512 /* payload offset in a lent frame, as on AF_XDP */

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
	/* zero-copy mode (memnet_zc): RX buffers the caller may keep and TX
	 * frames it may borrow, each from a pool with an owner flag so a
	 * double release or a leak shows in memnet_zc_stats */
	struct memnet_zc_stats zs;
	struct transport_ops zc_ops;
	uint32_t hold_max;
	uint32_t rx_next;            /* where the search for a free RX buffer starts */
	struct memnet_dgram *rxpool; /* MEMNET_ZC_RX buffers */
	uint8_t *rxout;              /* 1 = handed out */
	uint8_t *txpool;             /* MEMNET_ZC_TX frames of 4096, 512-aligned slots */
	uint8_t *txlent;
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

static int memnet_zc_rx_burst(struct memnet_end *e, struct net_pkt *pkts, int max)
{
	int n = 0;

	while (n < max && e->head != e->tail) {
		uint32_t k = 0, tries;
		struct memnet_dgram *d = &e->q[e->head % MEMNET_SLOTS];

		for (tries = 0; tries < MEMNET_ZC_RX; tries++) {
			k = e->rx_next++ % MEMNET_ZC_RX;
			if (!e->rxout[k])
				break;
		}
		if (tries == MEMNET_ZC_RX)
			break; /* every buffer out: like an empty fill ring */
		e->rxout[k] = 1;
		e->zs.rx_out++;
		memcpy(&e->rxpool[k], d, sizeof(*d));
		pkts[n].data = e->rxpool[k].data;
		pkts[n].len = e->rxpool[k].len;
		pkts[n].queue = 0;
		pkts[n].peer = e->peer->t.local;
		pkts[n].handle = k;
		e->head++;
		n++;
	}
	return n;
}

static int memnet_rx_burst(struct transport *t, struct net_pkt *pkts, int max)
{
	struct memnet_end *e = (struct memnet_end *)t;
	int n = 0;

	if (e->rxpool)
		return memnet_zc_rx_burst(e, pkts, max);

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
	struct memnet_end *e = (struct memnet_end *)t;

	if (!e->rxpool)
		return; /* buffers are reused by the next rx_burst */
	for (int i = 0; i < n; i++) {
		if (p[i].handle >= MEMNET_ZC_RX || !e->rxout[p[i].handle]) {
			e->zs.bad_releases++;
			continue;
		}
		e->rxout[p[i].handle] = 0;
		e->zs.rx_out--;
	}
}

static uint32_t memnet_hold_max(struct transport *t)
{
	return ((struct memnet_end *)t)->hold_max;
}

static int memnet_txz_alloc(struct transport *t, uint64_t *frame, uint8_t **payload, uint32_t *cap)
{
	struct memnet_end *e = (struct memnet_end *)t;

	for (uint32_t k = 0; k < MEMNET_ZC_TX; k++)
		if (!e->txlent[k]) {
			e->txlent[k] = 1;
			e->zs.tx_lent++;
			*frame = k;
			*payload = e->txpool + (size_t)k * MEMNET_MTU + MEMNET_ZC_PAYLOAD;
			*cap = MEMNET_MTU - MEMNET_ZC_PAYLOAD;
			return 0;
		}
	return -ENOBUFS;
}

static int memnet_txz_send(struct transport *t, uint64_t frame, const struct net_addr *to,
			   const void *hdr, uint32_t len)
{
	struct memnet_end *e = (struct memnet_end *)t;
	uint8_t *slot;

	if (frame >= MEMNET_ZC_TX || !e->txlent[frame]) {
		e->zs.bad_releases++;
		return -EINVAL;
	}
	slot = e->txpool + (size_t)frame * MEMNET_MTU + MEMNET_ZC_PAYLOAD;
	memcpy(slot - FERRY_HDR_LEN, hdr, FERRY_HDR_LEN);
	return t->ops->tx(t, to, &(struct iovec){ slot - FERRY_HDR_LEN, FERRY_HDR_LEN + len }, 1);
}

static void memnet_txz_free(struct transport *t, uint64_t frame)
{
	struct memnet_end *e = (struct memnet_end *)t;

	if (frame >= MEMNET_ZC_TX || !e->txlent[frame]) {
		e->zs.bad_releases++;
		return;
	}
	e->txlent[frame] = 0;
	e->zs.tx_lent--;
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

int memnet_zc(struct transport *t, uint32_t hold_max)
{
	struct memnet_end *e = (struct memnet_end *)t;

	e->rxpool = calloc(MEMNET_ZC_RX, sizeof(*e->rxpool));
	e->rxout = calloc(MEMNET_ZC_RX, 1);
	e->txpool = aligned_alloc(4096, (size_t)MEMNET_ZC_TX * MEMNET_MTU);
	e->txlent = calloc(MEMNET_ZC_TX, 1);
	if (!e->rxpool || !e->rxout || !e->txpool || !e->txlent)
		return -ENOMEM;
	e->hold_max = hold_max < MEMNET_ZC_RX - 256 ? hold_max : MEMNET_ZC_RX - 256;
	/* the plain table plus the zero-copy extensions */
	e->zc_ops = memnet_ops;
	e->zc_ops.name = "memnet-zc";
	e->zc_ops.rx_hold_max = memnet_hold_max;
	e->zc_ops.txz_alloc = memnet_txz_alloc;
	e->zc_ops.txz_send = memnet_txz_send;
	e->zc_ops.txz_free = memnet_txz_free;
	e->t.ops = &e->zc_ops;
	return 0;
}

void memnet_zc_get_stats(struct transport *t, struct memnet_zc_stats *out)
{
	*out = ((struct memnet_end *)t)->zs;
}

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
	struct memnet_end *ends[2] = { &m->a, &m->b };

	for (int i = 0; i < 2; i++) {
		free(ends[i]->q);
		free(ends[i]->held);
		free(ends[i]->rxpool);
		free(ends[i]->rxout);
		free(ends[i]->txpool);
		free(ends[i]->txlent);
	}
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
