/* SPDX-License-Identifier: Apache-2.0 */
/* simnet.c - the simulated network (see simnet.h). */
#include "sim/simnet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/env.h"
#include "common/util.h"
#include "ferry_wire.h"

#define SIMNET_MAX_EPS   (SIMNET_MAX_HOSTS * 4)

/* A datagram on its way: in the network's heap until due, then in an inbox. */
struct simnet_dgram {
	uint64_t due;             /* delivery time */
	uint64_t seq;             /* send order: ties are delivered in it */
	struct net_addr from;     /* sender's address */
	int to_host;              /* destination host */
	uint16_t to_port;         /* destination port */
	uint32_t len;             /* bytes */
	struct simnet_dgram *next;/* inbox list */
	uint8_t data[];           /* the UDP payload */
};

/* An endpoint's zero-copy extensions (simnet_zc): the buffers it hands out
 * and lends, each with its owner so that misuse is counted, not obeyed. */
struct simnet_zc {
	struct simnet_zc_stats st; /* what is out, what was misused */
	uint32_t hold_max;        /* rx_hold_max */
	uint32_t rx_next;         /* where the search for a free RX buffer starts */
	struct simnet_dgram *rx[SIMNET_ZC_RX]; /* handed out, by handle; NULL: free */
	uint8_t lent[SIMNET_ZC_TX];            /* 1: TX frame lent */
	uint8_t *tx;              /* SIMNET_ZC_TX frames of SIMNET_MAX_FRAME */
};

struct simnet_ep {
	struct transport t;       /* first: the transport casts back */
	struct simnet *net;
	int host;                 /* owning host */
	uint16_t port;            /* bound port (host order) */
	int open;                 /* closed endpoints drop what arrives */
	uint32_t credits;         /* what rx_credits reports */
	struct simnet_dgram *in_head, *in_tail; /* inbox */
	uint64_t rx, tx;          /* counters */
	struct simnet_ep *hnext;  /* the host's next endpoint */
	struct simnet_zc *zc;     /* zero-copy extensions; NULL: none */
};

struct simnet {
	struct rng rng;
	struct simnet_faults f;
	int instant;              /* rx_burst delivers everything in flight first */
	uint64_t now;
	uint64_t seq;
	uint32_t host_ip[SIMNET_MAX_HOSTS];
	int nhosts;
	uint8_t cut[SIMNET_MAX_HOSTS][SIMNET_MAX_HOSTS];
	struct simnet_ep *eps[SIMNET_MAX_EPS];
	int neps;
	struct simnet_ep *host_eps[SIMNET_MAX_HOSTS]; /* each host's endpoints */
	struct simnet_dgram **heap; /* min-heap by (due, seq) */
	size_t nheap, capheap;
	struct simnet_counters ctr;
	uint64_t hash;
};

struct net_addr simnet_addr(uint32_t ip, uint16_t port)
{
	struct net_addr a;

	memset(&a, 0, sizeof(a));
	a.family = AF_INET;
	a.port = htons(port);
	ip = htonl(ip);
	memcpy(a.ip, &ip, 4);
	return a;
}

/* ------------------------------------------------------------ the heap */

static int simnet_before(const struct simnet_dgram *a, const struct simnet_dgram *b)
{
	return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static int simnet_push(struct simnet *net, struct simnet_dgram *d)
{
	size_t i;

	if (net->nheap == net->capheap) {
		size_t cap = net->capheap ? net->capheap * 2 : 1024;
		void *p = realloc(net->heap, cap * sizeof(*net->heap));

		if (!p)
			return -ENOMEM;
		net->heap = p;
		net->capheap = cap;
	}
	i = net->nheap++;
	while (i > 0 && simnet_before(d, net->heap[(i - 1) / 2])) {
		net->heap[i] = net->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	net->heap[i] = d;
	return 0;
}

static struct simnet_dgram *simnet_pop(struct simnet *net)
{
	struct simnet_dgram *top = net->heap[0], *last = net->heap[--net->nheap];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= net->nheap)
			break;
		if (c + 1 < net->nheap && simnet_before(net->heap[c + 1], net->heap[c]))
			c++;
		if (!simnet_before(net->heap[c], last))
			break;
		net->heap[i] = net->heap[c];
		i = c;
	}
	if (net->nheap)
		net->heap[i] = last;
	return top;
}

/* ------------------------------------------------------------ transport */

static int simnet_host_of(const struct simnet *net, const struct net_addr *a)
{
	uint32_t ip;

	if (a->family != AF_INET)
		return -1;
	memcpy(&ip, a->ip, 4);
	ip = ntohl(ip);
	for (int h = 0; h < net->nhosts; h++)
		if (net->host_ip[h] == ip)
			return h;
	return -1;
}

/* Queue one copy of the datagram for delivery after a drawn delay. */
static void simnet_send_one(struct simnet *net, struct simnet_ep *from, int to_host,
			    uint16_t to_port, const uint8_t *data, uint32_t len)
{
	struct simnet_dgram *d = malloc(sizeof(*d) + len);
	uint64_t span = net->f.delay_max_ns > net->f.delay_min_ns
				? net->f.delay_max_ns - net->f.delay_min_ns : 0;

	if (!d)
		return;
	d->due = net->now + net->f.delay_min_ns + (span ? rng_below(&net->rng, span + 1) : 0);
	/* Drawn only when asked for: the simulator never sets it, and one more
	 * draw per datagram would change every run it has. */
	if (net->f.reorder_pm && rng_chance(&net->rng, net->f.reorder_pm)) {
		d->due += span + 1; /* after all sent with it, whatever their delays */
		net->ctr.reordered++;
	}
	d->seq = net->seq++;
	d->from = from->t.local;
	d->to_host = to_host;
	d->to_port = to_port;
	d->len = len;
	d->next = NULL;
	memcpy(d->data, data, len);
	if (len && rng_chance(&net->rng, net->f.corrupt_pm)) {
		uint64_t bit = rng_below(&net->rng, (uint64_t)len * 8);

		d->data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		net->ctr.corrupted++;
	}
	if (simnet_push(net, d))
		free(d);
}

static int simnet_tx(struct transport *t, const struct net_addr *to, const struct iovec *iov,
		     int iovcnt)
{
	struct simnet_ep *e = (struct simnet_ep *)t;
	struct simnet *net = e->net;
	uint8_t buf[SIMNET_MAX_FRAME];
	uint32_t len = 0, max = MIN(e->t.max_payload, (uint32_t)sizeof(buf));
	int h;

	for (int i = 0; i < iovcnt; i++) {
		if (len + iov[i].iov_len > max)
			return -EMSGSIZE;
		memcpy(buf + len, iov[i].iov_base, iov[i].iov_len);
		len += (uint32_t)iov[i].iov_len;
	}
	if (!e->open)
		return 0; /* a killed process says nothing more */
	e->tx++;
	net->ctr.sent++;
	net->ctr.bytes += len;
	h = simnet_host_of(net, to);
	if (h < 0) {
		net->ctr.no_endpoint++;
		return 0; /* nobody there: gone, as UDP goes */
	}
	if (net->cut[e->host][h]) {
		net->ctr.cut++;
		return 0;
	}
	if (rng_chance(&net->rng, net->f.loss_pm)) {
		net->ctr.lost++;
		return 0;
	}
	simnet_send_one(net, e, h, ntohs(to->port), buf, len);
	if (rng_chance(&net->rng, net->f.dup_pm)) {
		net->ctr.dup++;
		simnet_send_one(net, e, h, ntohs(to->port), buf, len);
	}
	return 0;
}

static int simnet_tx_flush(struct transport *t)
{
	(void)t;
	return 0;
}

/* A free RX buffer of a zero-copy endpoint, or -1 when all are out. */
static int simnet_zc_rx_slot(struct simnet_zc *z)
{
	for (uint32_t tries = 0; tries < SIMNET_ZC_RX; tries++) {
		uint32_t k = z->rx_next++ % SIMNET_ZC_RX;

		if (!z->rx[k])
			return (int)k;
	}
	return -1;
}

/* A datagram's handle is the datagram itself, or on a zero-copy endpoint
 * the RX buffer it was handed out in. */
static int simnet_rx_burst(struct transport *t, struct net_pkt *pkts, int max)
{
	struct simnet_ep *e = (struct simnet_ep *)t;
	int n = 0, k = 0;

	if (e->net->instant)
		simnet_deliver(e->net, UINT64_MAX, NULL, NULL);
	while (n < max && e->in_head) {
		struct simnet_dgram *d = e->in_head;

		if (e->zc && (k = simnet_zc_rx_slot(e->zc)) < 0)
			break; /* every buffer out: an empty fill ring */
		e->in_head = d->next;
		if (!e->in_head)
			e->in_tail = NULL;
		pkts[n].data = d->data;
		pkts[n].len = d->len;
		pkts[n].queue = 0;
		pkts[n].peer = d->from;
		pkts[n].handle = (uint64_t)(uintptr_t)d;
		if (e->zc) {
			e->zc->rx[k] = d;
			e->zc->st.rx_out++;
			pkts[n].handle = (uint64_t)k;
		}
		n++;
		e->rx++;
	}
	return n;
}

static void simnet_rx_release(struct transport *t, struct net_pkt *pkts, int n)
{
	struct simnet_zc *z = ((struct simnet_ep *)t)->zc;

	for (int i = 0; i < n; i++) {
		uint64_t k = pkts[i].handle;

		if (!z) {
			free((void *)(uintptr_t)k);
		} else if (k >= SIMNET_ZC_RX || !z->rx[k]) {
			z->st.bad_releases++;
		} else {
			free(z->rx[k]);
			z->rx[k] = NULL;
			z->st.rx_out--;
		}
	}
}

static int simnet_poll_fd(struct transport *t)
{
	(void)t;
	return -1;
}

static uint32_t simnet_rx_credits(struct transport *t)
{
	return ((struct simnet_ep *)t)->credits;
}

static size_t simnet_stats(struct transport *t, char *buf, size_t cap)
{
	struct simnet_ep *e = (struct simnet_ep *)t;
	int k = snprintf(buf, cap, "simnet_rx %llu\nsimnet_tx %llu\n", (unsigned long long)e->rx,
			 (unsigned long long)e->tx);

	return k < 0 ? 0 : (size_t)k < cap ? (size_t)k : cap ? cap - 1 : 0;
}

static void simnet_ep_drain(struct simnet_ep *e)
{
	while (e->in_head) {
		struct simnet_dgram *d = e->in_head;

		e->in_head = d->next;
		free(d);
	}
	e->in_tail = NULL;
}

static void simnet_t_close(struct transport *t)
{
	simnet_close(t);
}

static const struct transport_ops simnet_ops = {
	.name = "sim",
	.rx_burst = simnet_rx_burst,
	.rx_release = simnet_rx_release,
	.tx = simnet_tx,
	.tx_flush = simnet_tx_flush,
	.poll_fd = simnet_poll_fd,
	.rx_credits = simnet_rx_credits,
	.stats = simnet_stats,
	.close = simnet_t_close,
};

/* ------------------------------------------------------------ zero copy */

static uint32_t simnet_rx_hold_max(struct transport *t)
{
	return ((struct simnet_ep *)t)->zc->hold_max;
}

/* The payload slot of lent frame, or NULL (counted) if it is not lent. */
static uint8_t *simnet_zc_tx_slot(struct simnet_zc *z, uint64_t frame)
{
	if (frame >= SIMNET_ZC_TX || !z->lent[frame]) {
		z->st.bad_releases++;
		return NULL;
	}
	return z->tx + frame * SIMNET_MAX_FRAME + SIMNET_ZC_HEADROOM;
}

static int simnet_txz_alloc(struct transport *t, uint64_t *frame, uint8_t **payload,
			    uint32_t *cap)
{
	struct simnet_zc *z = ((struct simnet_ep *)t)->zc;

	for (uint32_t k = 0; k < SIMNET_ZC_TX; k++)
		if (!z->lent[k]) {
			z->lent[k] = 1;
			z->st.tx_lent++;
			*frame = k;
			*payload = simnet_zc_tx_slot(z, k);
			*cap = SIMNET_MAX_FRAME - SIMNET_ZC_HEADROOM;
			return 0;
		}
	return -ENOBUFS;
}

static int simnet_txz_send(struct transport *t, uint64_t frame, const struct net_addr *to,
			   const void *hdr, uint32_t len)
{
	uint8_t *slot = simnet_zc_tx_slot(((struct simnet_ep *)t)->zc, frame);

	if (!slot)
		return -EINVAL;
	if (len > SIMNET_MAX_FRAME - SIMNET_ZC_HEADROOM)
		return -EMSGSIZE;
	/* the header goes in the headroom, as on AF_XDP; the send copies */
	memcpy(slot - FERRY_HDR_LEN, hdr, FERRY_HDR_LEN);
	return simnet_tx(t, to, &(struct iovec){ slot - FERRY_HDR_LEN, FERRY_HDR_LEN + len }, 1);
}

static void simnet_txz_free(struct transport *t, uint64_t frame)
{
	struct simnet_zc *z = ((struct simnet_ep *)t)->zc;

	if (!simnet_zc_tx_slot(z, frame))
		return;
	z->lent[frame] = 0;
	z->st.tx_lent--;
}

static const struct transport_ops simnet_zc_ops = {
	.name = "sim-zc",
	.rx_burst = simnet_rx_burst,
	.rx_release = simnet_rx_release,
	.tx = simnet_tx,
	.tx_flush = simnet_tx_flush,
	.poll_fd = simnet_poll_fd,
	.rx_credits = simnet_rx_credits,
	.rx_hold_max = simnet_rx_hold_max,
	.txz_alloc = simnet_txz_alloc,
	.txz_send = simnet_txz_send,
	.txz_free = simnet_txz_free,
	.stats = simnet_stats,
	.close = simnet_t_close,
};

int simnet_zc(struct transport *t, uint32_t hold_max)
{
	struct simnet_ep *e = (struct simnet_ep *)t;
	struct simnet_zc *z = e->zc;

	if (!z) {
		z = calloc(1, sizeof(*z));
		if (!z)
			return -ENOMEM;
		z->tx = aligned_alloc(4096, (size_t)SIMNET_ZC_TX * SIMNET_MAX_FRAME);
		if (!z->tx) {
			free(z);
			return -ENOMEM;
		}
		e->zc = z;
	}
	/* a batch's worth of buffers always stays free to receive into */
	z->hold_max = MIN(hold_max, SIMNET_ZC_RX - 256u);
	e->t.ops = &simnet_zc_ops;
	return 0;
}

void simnet_zc_get_stats(struct transport *t, struct simnet_zc_stats *out)
{
	struct simnet_zc *z = ((struct simnet_ep *)t)->zc;

	if (z)
		*out = z->st;
	else
		memset(out, 0, sizeof(*out));
}

static void simnet_zc_free(struct simnet_zc *z)
{
	if (!z)
		return;
	for (uint32_t k = 0; k < SIMNET_ZC_RX; k++)
		free(z->rx[k]);
	free(z->tx);
	free(z);
}

/* ------------------------------------------------------------ the network */

struct simnet *simnet_new(uint64_t seed)
{
	struct simnet *net = calloc(1, sizeof(*net));

	if (!net)
		return NULL;
	rng_seed(&net->rng, seed);
	net->f.delay_min_ns = 50000;
	net->f.delay_max_ns = 200000;
	net->hash = 0xcbf29ce484222325ull;
	return net;
}

void simnet_free(struct simnet *net)
{
	if (!net)
		return;
	while (net->nheap)
		free(simnet_pop(net));
	for (int i = 0; i < net->neps; i++) {
		simnet_ep_drain(net->eps[i]);
		simnet_zc_free(net->eps[i]->zc);
		free(net->eps[i]);
	}
	free(net->heap);
	free(net);
}

void simnet_set_faults(struct simnet *net, const struct simnet_faults *f)
{
	net->f = *f;
	if (net->f.delay_max_ns < net->f.delay_min_ns)
		net->f.delay_max_ns = net->f.delay_min_ns;
}

int simnet_host(struct simnet *net, uint32_t ip)
{
	for (int h = 0; h < net->nhosts; h++)
		if (net->host_ip[h] == ip)
			return h;
	if (net->nhosts == SIMNET_MAX_HOSTS)
		return -ENOSPC;
	net->host_ip[net->nhosts] = ip;
	return net->nhosts++;
}

struct transport *simnet_open(struct simnet *net, int host, uint16_t port)
{
	struct simnet_ep *e = NULL;

	/* Reopening a port gives the same endpoint back (a restarted process). */
	for (int i = 0; i < net->neps; i++)
		if (net->eps[i]->host == host && net->eps[i]->port == port)
			e = net->eps[i];
	if (!e) {
		if (net->neps == SIMNET_MAX_EPS)
			return NULL;
		e = calloc(1, sizeof(*e));
		if (!e)
			return NULL;
		net->eps[net->neps++] = e;
		e->hnext = net->host_eps[host];
		net->host_eps[host] = e;
		e->t.max_payload = SIMNET_MAX_DGRAM;
		e->credits = 256;
	}
	simnet_ep_drain(e);
	e->t.ops = e->zc ? &simnet_zc_ops : &simnet_ops;
	e->t.local = simnet_addr(net->host_ip[host], port);
	e->net = net;
	e->host = host;
	e->port = port;
	e->open = 1;
	return &e->t;
}

void simnet_close(struct transport *t)
{
	struct simnet_ep *e = (struct simnet_ep *)t;

	e->open = 0;
	simnet_ep_drain(e);
}

void simnet_cut(struct simnet *net, int a, int b, int cut)
{
	net->cut[a][b] = (uint8_t)!!cut;
}

void simnet_heal_all(struct simnet *net)
{
	memset(net->cut, 0, sizeof(net->cut));
}

int simnet_is_cut(const struct simnet *net, int a, int b)
{
	return net->cut[a][b];
}

void simnet_set_instant(struct simnet *net, int on)
{
	net->instant = !!on;
}

int simnet_set_link(struct transport *t, uint32_t max_payload, uint32_t rx_credits)
{
	struct simnet_ep *e = (struct simnet_ep *)t;

	if (!max_payload || max_payload > SIMNET_MAX_FRAME || !rx_credits)
		return -EINVAL;
	e->t.max_payload = max_payload;
	e->credits = rx_credits;
	return 0;
}

void simnet_set_now(struct simnet *net, uint64_t now)
{
	net->now = now;
}

uint64_t simnet_next(const struct simnet *net)
{
	return net->nheap ? net->heap[0]->due : UINT64_MAX;
}

/* The delivery hash (determinism check): a word at a time, as this runs
 * for every datagram. */
static void simnet_hash_mix(struct simnet *net, const void *p, size_t len)
{
	const uint8_t *b = p;
	uint64_t h = net->hash;

	while (len) {
		uint64_t w = 0;
		size_t k = len < 8 ? len : 8;

		memcpy(&w, b, k);
		h = (h ^ w) * 0x9e3779b97f4a7c15ull;
		h ^= h >> 29;
		b += k;
		len -= k;
	}
	net->hash = h;
}

int simnet_deliver(struct simnet *net, uint64_t now, void (*woke)(void *arg, int host), void *arg)
{
	int n = 0;

	while (net->nheap && net->heap[0]->due <= now) {
		struct simnet_dgram *d = simnet_pop(net);
		struct simnet_ep *e = NULL;

		for (struct simnet_ep *x = net->host_eps[d->to_host]; x; x = x->hnext)
			if (x->port == d->to_port)
				e = x;
		if (!e || !e->open) {
			net->ctr.no_endpoint++;
			free(d);
			continue;
		}
		simnet_hash_mix(net, &d->due, sizeof(d->due));
		simnet_hash_mix(net, &d->to_host, sizeof(d->to_host));
		simnet_hash_mix(net, &d->len, sizeof(d->len));
		simnet_hash_mix(net, d->data, d->len < 64 ? d->len : 64); /* the header */
		d->next = NULL;
		if (e->in_tail)
			e->in_tail->next = d;
		else
			e->in_head = d;
		e->in_tail = d;
		net->ctr.delivered++;
		n++;
		if (woke)
			woke(arg, d->to_host);
	}
	return n;
}

void simnet_get_counters(const struct simnet *net, struct simnet_counters *out)
{
	*out = net->ctr;
}

uint64_t simnet_hash(const struct simnet *net)
{
	return net->hash;
}
