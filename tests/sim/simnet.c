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

#define SIMNET_MAX_EPS   (SIMNET_MAX_HOSTS * 4)
#define SIMNET_MAX_DGRAM (SIMNET_MTU - 28)

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

struct simnet_ep {
	struct transport t;       /* first: the transport casts back */
	struct simnet *net;
	int host;                 /* owning host */
	uint16_t port;            /* bound port (host order) */
	int open;                 /* closed endpoints drop what arrives */
	struct simnet_dgram *in_head, *in_tail; /* inbox */
	uint64_t rx, tx;          /* counters */
	struct simnet_ep *hnext;  /* the host's next endpoint */
};

struct simnet {
	struct rng rng;
	struct simnet_faults f;
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
	uint8_t buf[SIMNET_MAX_DGRAM];
	uint32_t len = 0;
	int h;

	for (int i = 0; i < iovcnt; i++) {
		if (len + iov[i].iov_len > sizeof(buf))
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

static int simnet_rx_burst(struct transport *t, struct net_pkt *pkts, int max)
{
	struct simnet_ep *e = (struct simnet_ep *)t;
	int n = 0;

	while (n < max && e->in_head) {
		struct simnet_dgram *d = e->in_head;

		e->in_head = d->next;
		if (!e->in_head)
			e->in_tail = NULL;
		pkts[n].data = d->data;
		pkts[n].len = d->len;
		pkts[n].queue = 0;
		pkts[n].peer = d->from;
		pkts[n].handle = (uint64_t)(uintptr_t)d;
		n++;
		e->rx++;
	}
	return n;
}

static void simnet_rx_release(struct transport *t, struct net_pkt *pkts, int n)
{
	(void)t;
	for (int i = 0; i < n; i++)
		free((void *)(uintptr_t)pkts[i].handle);
}

static int simnet_poll_fd(struct transport *t)
{
	(void)t;
	return -1;
}

static uint32_t simnet_rx_credits(struct transport *t)
{
	(void)t;
	return 256;
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
	}
	simnet_ep_drain(e);
	e->t.ops = &simnet_ops;
	e->t.local = simnet_addr(net->host_ip[host], port);
	e->t.max_payload = SIMNET_MAX_DGRAM;
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
