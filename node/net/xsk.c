/* SPDX-License-Identifier: Apache-2.0 */
/*
 * xsk.c - the AF_XDP transport (see xsk.h for the frame layout, ring
 * discipline and the zero-copy plan).
 */
#include "net/xsk.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/if_xdp.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <xdp/xsk.h>

#include "common/log.h"
#include "ferry_wire.h"
#include "net/frame.h"
#include "net/neigh.h"
#include "net/xdp_steer.h"

#ifndef SOL_XDP
#define SOL_XDP 283
#endif

#define XSK_HDRS_LEN (sizeof(struct ethhdr) + sizeof(struct iphdr) + sizeof(struct udphdr))
#define XSK_KICK_ROUNDS 128 /* sendto() calls per tx_flush at most (copy mode: 32 frames each) */

_Static_assert(XSK_L2_OFFSET + 14 + 20 + 8 + FERRY_HDR_LEN == 512, "payload lands at 512");
_Static_assert(XSK_L2_OFFSET + XSK_HDRS_LEN + FERRY_MAX_DATAGRAM == XSK_FRAME_SIZE,
	       "largest datagram fills the frame");

struct xsk_transport {
	struct transport t;            /* must be first */
	struct xsk_transport_cfg cfg;  /* copy (ifname points into ifname[]) */
	char ifname[IF_NAMESIZE];
	int ifindex;
	uint8_t mac[6];                /* our MAC: source of every frame */
	uint32_t mtu;
	int zerocopy;                  /* bound in zero-copy mode */
	struct xdp_steer *steer;       /* shared steering attachment */
	struct neigh_cache *neigh;     /* next-hop MACs */
	uint8_t *area;                 /* UMEM memory */
	size_t area_len;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	int fd;                        /* the socket's fd */
	struct xsk_ring_prod fill;
	struct xsk_ring_cons comp;
	struct xsk_ring_cons rx;
	struct xsk_ring_prod tx;
	uint64_t *tx_free;             /* stack of free TX frame addresses */
	uint32_t tx_nfree;
	uint16_t *tx_refs;             /* per TX frame: sends submitted, not completed */
	uint8_t *tx_lent;              /* per TX frame: lent to the caller (txz_alloc) */
	uint32_t tx_nlent;             /* frames lent now */
	uint32_t tx_pending;           /* reserved + written, not yet submitted */
	uint32_t tx_inflight;          /* submitted, completion not seen */
	uint32_t rx_held;              /* handed out by rx_burst, not yet released */
	uint16_t ip_id;                /* IPv4 identification (DF set; informative) */
	/* counters */
	uint64_t rx_packets, rx_bytes, rx_bad, rx_unsupported, fill_wakeups;
	uint64_t tx_packets, tx_bytes, tx_nobufs, tx_too_big, tx_no_neigh, tx_kicks;
	uint64_t tx_kick_errors, txz_sends, txz_busy, txz_nobufs;
};

static struct xsk_transport *xsk_of(struct transport *t)
{
	return (struct xsk_transport *)t;
}

int xsk_bind_mode_parse(const char *s)
{
	if (!s || !strcmp(s, "auto"))
		return XSK_BIND_AUTO;
	if (!strcmp(s, "copy"))
		return XSK_BIND_COPY;
	if (!strcmp(s, "zerocopy") || !strcmp(s, "zc"))
		return XSK_BIND_ZEROCOPY;
	return -EINVAL;
}

/* --- receive ------------------------------------------------------------ */

/* xsk_fill_put - give n frames back to the kernel. The fill ring has room
 * for every RX frame, so the reservation cannot come up short unless a
 * caller released a frame twice (then we refuse and log). */
static void xsk_fill_put(struct xsk_transport *x, const uint64_t *addrs, uint32_t n)
{
	uint32_t idx = 0, i;

	if (xsk_ring_prod__reserve(&x->fill, n, &idx) != n) {
		log_err("xsk: fill ring full on %s queue %u: frame released twice?", x->ifname,
			x->cfg.queue_id);
		return;
	}
	for (i = 0; i < n; i++)
		*xsk_ring_prod__fill_addr(&x->fill, idx + i) =
			addrs[i] & ~(uint64_t)(XSK_FRAME_SIZE - 1);
	xsk_ring_prod__submit(&x->fill, n);
}

/* xsk_parse - Ethernet/IPv4/UDP of a received frame into pkt. The steering
 * program has validated the Ferry header; frame_parse only finds the payload
 * and the peer, checking every length against the descriptor. 0 or -1. */
static int xsk_parse(struct xsk_transport *x, uint8_t *f, uint32_t len, struct net_pkt *pkt,
		     uint64_t now)
{
	struct frame_info fi;

	switch (frame_parse(f, len, &fi)) {
	case FRAME_OK:
		break;
	case FRAME_UNSUPPORTED:
		x->rx_unsupported++; /* IPv6 / VLAN: steered, but not served yet (xsk.h) */
		return -1;
	default:
		return -1;
	}
	pkt->data = f + fi.payload_off;
	pkt->len = fi.payload_len;
	pkt->queue = x->cfg.queue_id;
	memset(&pkt->peer, 0, sizeof(pkt->peer));
	pkt->peer.family = AF_INET;
	pkt->peer.port = fi.src_port;
	memcpy(pkt->peer.ip, &fi.src_ip, 4);
	neigh_learn(x->neigh, fi.src_ip, fi.src_mac, now);
	return 0;
}

static int xsk_rx_burst(struct transport *t, struct net_pkt *pkts, int max)
{
	struct xsk_transport *x = xsk_of(t);
	uint32_t idx = 0, n, i, nbad = 0;
	uint64_t bad[XSK_RX_BATCH], now;
	int out = 0;

	if (max <= 0)
		return 0;
	if ((uint32_t)max > XSK_RX_BATCH)
		max = XSK_RX_BATCH; /* bounded by the bad[] stash */
	n = xsk_ring_cons__peek(&x->rx, (uint32_t)max, &idx);
	if (!n) {
		/* Zero-copy drivers stop when the fill ring ran dry and ask for a
		 * kick; copy mode never sets the flag. */
		if (xsk_ring_prod__needs_wakeup(&x->fill)) {
			x->fill_wakeups++;
			recvfrom(x->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
		}
		return 0;
	}
	now = neigh_now_ns();
	for (i = 0; i < n; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&x->rx, idx + i);
		uint8_t *f = xsk_umem__get_data(x->area, d->addr);

		if (d->addr + d->len > x->area_len || xsk_parse(x, f, d->len, &pkts[out], now)) {
			x->rx_bad++;
			bad[nbad++] = d->addr;
			continue;
		}
		pkts[out].handle = d->addr;
		x->rx_bytes += pkts[out].len;
		out++;
	}
	xsk_ring_cons__release(&x->rx, n);
	if (nbad)
		xsk_fill_put(x, bad, nbad);
	x->rx_packets += (uint64_t)out;
	x->rx_held += (uint32_t)out;
	return out;
}

static void xsk_rx_release(struct transport *t, struct net_pkt *pkts, int n)
{
	struct xsk_transport *x = xsk_of(t);
	uint64_t addrs[64];
	int i, k = 0;

	for (i = 0; i < n; i++) {
		addrs[k++] = pkts[i].handle;
		if (k == 64 || i == n - 1) {
			xsk_fill_put(x, addrs, (uint32_t)k);
			k = 0;
		}
	}
	x->rx_held -= (uint32_t)n;
}

/* --- transmit ------------------------------------------------------------- */

/* TX frames follow the RX frames in the UMEM. */
static uint32_t xsk_tx_index(uint64_t frame)
{
	return (uint32_t)(frame / XSK_FRAME_SIZE) - XSK_RX_FRAMES;
}

/* xsk_reclaim - move completed TX frames back to the free stack (a lent
 * frame stays out until txz_free). */
static void xsk_reclaim(struct xsk_transport *x)
{
	uint32_t idx = 0, n, i;

	n = xsk_ring_cons__peek(&x->comp, XSK_TX_FRAMES, &idx);
	if (!n)
		return;
	for (i = 0; i < n; i++) {
		uint64_t f = *xsk_ring_cons__comp_addr(&x->comp, idx + i) &
			     ~(uint64_t)(XSK_FRAME_SIZE - 1);
		uint32_t k = xsk_tx_index(f);

		if (--x->tx_refs[k] == 0 && !x->tx_lent[k])
			x->tx_free[x->tx_nfree++] = f;
	}
	xsk_ring_cons__release(&x->comp, n);
	x->tx_inflight -= n;
}

static uint16_t xsk_ip_csum(const void *hdr)
{
	const uint16_t *w = hdr;
	uint32_t s = 0;
	int i;

	for (i = 0; i < 10; i++)
		s += w[i];
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* xsk_l2_build - Ethernet/IPv4/UDP headers at f for a UDP payload of
 * total bytes to (ip, port) via next-hop mac. */
static void xsk_l2_build(struct xsk_transport *x, uint8_t *f, const uint8_t mac[6],
			 uint32_t ipaddr, uint16_t port, size_t total)
{
	struct ethhdr *eth = (struct ethhdr *)f;
	struct iphdr *ip = (struct iphdr *)(eth + 1);
	struct udphdr *udp = (struct udphdr *)(ip + 1);

	memcpy(eth->h_dest, mac, 6);
	memcpy(eth->h_source, x->mac, 6);
	eth->h_proto = htons(ETH_P_IP);
	ip->version = 4;
	ip->ihl = 5;
	ip->tos = 0;
	ip->tot_len = htons((uint16_t)(sizeof(*ip) + sizeof(*udp) + total));
	ip->id = htons(x->ip_id++);
	ip->frag_off = htons(0x4000); /* DF: Ferry sizes datagrams to the MTU */
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->check = 0;
	memcpy(&ip->saddr, x->cfg.local.ip, 4);
	ip->daddr = ipaddr;
	ip->check = xsk_ip_csum(ip);
	udp->source = x->cfg.local.port;
	udp->dest = port;
	udp->len = htons((uint16_t)(sizeof(*udp) + total));
	udp->check = 0; /* IPv4 allows 0; Ferry's crc32c covers header and payload */
}

/* xsk_tx_prep - checks shared by both send paths: size, family, next hop.
 * Returns 0 with *ipaddr and mac filled, 1 when the datagram is to be
 * dropped silently (neighbour pending), or -errno. */
static int xsk_tx_prep(struct xsk_transport *x, const struct net_addr *to, size_t total,
		       uint32_t *ipaddr, uint8_t mac[6])
{
	int err;

	if (to->family != AF_INET)
		return -EAFNOSUPPORT;
	if (total > x->t.max_payload) {
		x->tx_too_big++;
		return -EMSGSIZE;
	}
	memcpy(ipaddr, to->ip, 4);
	err = neigh_lookup(x->neigh, *ipaddr, mac);
	if (err == -EAGAIN) {
		/* Like a kernel socket whose ARP is pending: the datagram is lost
		 * and the reliable layer's retry finds the neighbour resolved. */
		x->tx_no_neigh++;
		return 1;
	}
	return err;
}

/* xsk_tx_queue - put frame (whose datagram of total UDP payload bytes is
 * built at frame + XSK_L2_OFFSET) on the TX ring slot idx. */
static void xsk_tx_queue(struct xsk_transport *x, uint32_t idx, uint64_t frame, size_t total)
{
	struct xdp_desc *d = xsk_ring_prod__tx_desc(&x->tx, idx);

	d->addr = frame + XSK_L2_OFFSET;
	d->len = (uint32_t)(XSK_HDRS_LEN + total);
	d->options = 0;
	x->tx_refs[xsk_tx_index(frame)]++;
	x->tx_pending++;
	x->tx_packets++;
	x->tx_bytes += total;
}

static int xsk_tx(struct transport *t, const struct net_addr *to, const struct iovec *iov,
		  int iovcnt)
{
	struct xsk_transport *x = xsk_of(t);
	uint8_t mac[6], *p;
	uint32_t idx = 0, ipaddr;
	size_t total = 0;
	uint64_t frame;
	int i, err;

	for (i = 0; i < iovcnt; i++)
		total += iov[i].iov_len;
	err = xsk_tx_prep(x, to, total, &ipaddr, mac);
	if (err)
		return err < 0 ? err : 0;
	if (!x->tx_nfree)
		xsk_reclaim(x);
	if (!x->tx_nfree || xsk_ring_prod__reserve(&x->tx, 1, &idx) != 1) {
		x->tx_nobufs++;
		return -ENOBUFS;
	}
	frame = x->tx_free[--x->tx_nfree];
	p = xsk_umem__get_data(x->area, frame + XSK_L2_OFFSET);
	xsk_l2_build(x, p, mac, ipaddr, to->port, total);
	p += XSK_HDRS_LEN;
	for (i = 0; i < iovcnt; i++) {
		memcpy(p, iov[i].iov_base, iov[i].iov_len);
		p += iov[i].iov_len;
	}
	xsk_tx_queue(x, idx, frame, total);
	return 0;
}

/* --- TX frames lent to the caller (zero-copy answers) ------------------- */

static int xsk_txz_alloc(struct transport *t, uint64_t *frame, uint8_t **payload, uint32_t *cap)
{
	struct xsk_transport *x = xsk_of(t);
	uint64_t f;

	if (x->tx_nfree <= XSK_TX_RESERVE)
		xsk_reclaim(x);
	if (x->tx_nfree <= XSK_TX_RESERVE) {
		x->txz_nobufs++;
		return -ENOBUFS;
	}
	f = x->tx_free[--x->tx_nfree];
	x->tx_lent[xsk_tx_index(f)] = 1;
	x->tx_nlent++;
	*frame = f;
	*payload = xsk_umem__get_data(x->area, f + XSK_PAYLOAD_OFFSET);
	*cap = XSK_FRAME_SIZE - XSK_PAYLOAD_OFFSET;
	return 0;
}

static int xsk_txz_send(struct transport *t, uint64_t frame, const struct net_addr *to,
			const void *hdr, uint32_t len)
{
	struct xsk_transport *x = xsk_of(t);
	size_t total = FERRY_HDR_LEN + (size_t)len;
	uint8_t mac[6], *p;
	uint32_t idx = 0, ipaddr;
	int err;

	if (len > XSK_FRAME_SIZE - XSK_PAYLOAD_OFFSET)
		return -EMSGSIZE;
	if (x->tx_refs[xsk_tx_index(frame)]) {
		/* Rewriting headers under a send in flight could tear it. */
		x->txz_busy++;
		return -EBUSY;
	}
	err = xsk_tx_prep(x, to, total, &ipaddr, mac);
	if (err)
		return err < 0 ? err : 0;
	if (xsk_ring_prod__reserve(&x->tx, 1, &idx) != 1) {
		x->tx_nobufs++;
		return -ENOBUFS;
	}
	p = xsk_umem__get_data(x->area, frame + XSK_L2_OFFSET);
	xsk_l2_build(x, p, mac, ipaddr, to->port, total);
	memcpy(p + XSK_HDRS_LEN, hdr, FERRY_HDR_LEN);
	xsk_tx_queue(x, idx, frame, total);
	x->txz_sends++;
	return 0;
}

static void xsk_txz_free(struct transport *t, uint64_t frame)
{
	struct xsk_transport *x = xsk_of(t);
	uint32_t k = xsk_tx_index(frame);

	if (!x->tx_lent[k]) {
		log_err("xsk: TX frame %llu freed but not lent", (unsigned long long)frame);
		return;
	}
	x->tx_lent[k] = 0;
	x->tx_nlent--;
	if (!x->tx_refs[k])
		x->tx_free[x->tx_nfree++] = frame;
}

static uint32_t xsk_rx_hold_max(struct transport *t)
{
	(void)t;
	/* RX frames not promised to senders (rx_credits) nor to one rx_burst
	 * batch in the caller's hands. */
	return XSK_RX_FRAMES - XSK_RX_CREDITS - 2 * XSK_RX_BATCH;
}

static int xsk_tx_flush(struct transport *t)
{
	struct xsk_transport *x = xsk_of(t);
	uint32_t before, rounds;
	int err = 0;

	if (x->tx_pending) {
		xsk_ring_prod__submit(&x->tx, x->tx_pending);
		x->tx_inflight += x->tx_pending;
		x->tx_pending = 0;
	}
	/* Copy mode transmits inside sendto(), at most 32 frames a call: keep
	 * kicking while the kernel makes progress and frames are left. */
	for (rounds = 0; rounds < XSK_KICK_ROUNDS; rounds++) {
		before = __atomic_load_n(x->tx.consumer, __ATOMIC_ACQUIRE);
		if (before == *x->tx.producer)
			break; /* the kernel took everything */
		if (!xsk_ring_prod__needs_wakeup(&x->tx))
			break; /* zero-copy driver is polling the ring itself */
		x->tx_kicks++;
		if (sendto(x->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0) {
			if (errno == EAGAIN || errno == EBUSY || errno == ENOBUFS) {
				/* completion ring or skb memory tight: reclaim, retry later */
				xsk_reclaim(x);
				if (__atomic_load_n(x->tx.consumer, __ATOMIC_ACQUIRE) == before) {
					x->tx_kick_errors++;
					break;
				}
				continue;
			}
			err = -errno;
			x->tx_kick_errors++;
			log_warn("xsk: sendto kick on %s: %s", x->ifname, strerror(-err));
			break;
		}
		if (__atomic_load_n(x->tx.consumer, __ATOMIC_ACQUIRE) == before && rounds > 2)
			break; /* no progress: leave the rest to the next flush */
	}
	xsk_reclaim(x);
	return err;
}

/* --- the rest of the ops ---------------------------------------------------- */

static int xsk_poll_fd(struct transport *t)
{
	return xsk_of(t)->fd;
}

static uint32_t xsk_rx_credits(struct transport *t)
{
	struct xsk_transport *x = xsk_of(t);
	uint32_t c;

	/* XSK_RX_CREDITS RX frames are what senders may have in flight; the
	 * rest sit in the RX ring, in a batch with the caller, or are held by
	 * it for disk writes (at most rx_hold_max). With max_peers 0 that half is returned whole and the caller shares
	 * it out (rpc_srv divides by its active requests, as for udp). */
	c = XSK_RX_CREDITS;
	if (x->cfg.max_peers)
		c /= x->cfg.max_peers;
	return c ? c : 1;
}

#define XSK_STAT(name, val) do { \
	int w_ = snprintf(buf + n, cap - n, "%s %llu\n", name, (unsigned long long)(val)); \
	if (w_ < 0 || (size_t)w_ >= cap - n) \
		return n; \
	n += (size_t)w_; \
} while (0)

static size_t xsk_stats(struct transport *t, char *buf, size_t cap)
{
	struct xsk_transport *x = xsk_of(t);
	struct xdp_statistics ks;
	struct neigh_stats ns;
	socklen_t optlen = sizeof(ks);
	size_t n = 0;
	int w;

	if (!cap)
		return 0;
	w = snprintf(buf, cap, "xsk_mode %s\n", x->zerocopy ? "zerocopy" : "copy");
	if (w < 0 || (size_t)w >= cap)
		return 0;
	n = (size_t)w;
	/* The program is per interface: one queue's transport prints it. */
	if (xdp_steer_stats_owner(x->steer, x))
		n += xdp_steer_stats(x->steer, buf + n, cap - n);
	XSK_STAT("xsk_queue", x->cfg.queue_id);
	XSK_STAT("xsk_rx_packets", x->rx_packets);
	XSK_STAT("xsk_rx_bytes", x->rx_bytes);
	XSK_STAT("xsk_rx_bad", x->rx_bad);
	XSK_STAT("xsk_rx_unsupported", x->rx_unsupported);
	XSK_STAT("xsk_rx_held", x->rx_held);
	XSK_STAT("xsk_fill_wakeups", x->fill_wakeups);
	XSK_STAT("xsk_tx_packets", x->tx_packets);
	XSK_STAT("xsk_tx_bytes", x->tx_bytes);
	XSK_STAT("xsk_tx_nobufs", x->tx_nobufs);
	XSK_STAT("xsk_tx_too_big", x->tx_too_big);
	XSK_STAT("xsk_tx_no_neigh", x->tx_no_neigh);
	XSK_STAT("xsk_tx_kicks", x->tx_kicks);
	XSK_STAT("xsk_tx_kick_errors", x->tx_kick_errors);
	XSK_STAT("xsk_tx_inflight", x->tx_inflight);
	XSK_STAT("xsk_tx_lent", x->tx_nlent);
	XSK_STAT("xsk_txz_sends", x->txz_sends);
	XSK_STAT("xsk_txz_busy", x->txz_busy);
	XSK_STAT("xsk_txz_nobufs", x->txz_nobufs);
	neigh_get_stats(x->neigh, &ns);
	XSK_STAT("xsk_neigh_hits", ns.hits);
	XSK_STAT("xsk_neigh_misses", ns.misses);
	XSK_STAT("xsk_neigh_kicks", ns.kicks);
	XSK_STAT("xsk_neigh_learned", ns.learned);
	XSK_STAT("xsk_neigh_failures", ns.failures);
	if (getsockopt(x->fd, SOL_XDP, XDP_STATISTICS, &ks, &optlen) == 0) {
		XSK_STAT("xsk_k_rx_dropped", ks.rx_dropped);
		XSK_STAT("xsk_k_rx_invalid_descs", ks.rx_invalid_descs);
		XSK_STAT("xsk_k_tx_invalid_descs", ks.tx_invalid_descs);
		XSK_STAT("xsk_k_rx_ring_full", ks.rx_ring_full);
		XSK_STAT("xsk_k_rx_fill_ring_empty", ks.rx_fill_ring_empty_descs);
		XSK_STAT("xsk_k_tx_ring_empty", ks.tx_ring_empty_descs);
	}
	return n;
}

/* xsk_umem_drop - delete a UMEM whose socket never bound. libxdp leaves the
 * fill/completion ring mappings of such a UMEM in place (they would keep the
 * socket and its pinned pages alive), so unmap them first. */
static void xsk_umem_drop(struct xsk_transport *x)
{
	struct xdp_mmap_offsets off;
	socklen_t optlen = sizeof(off);
	int fd = xsk_umem__fd(x->umem);

	if (getsockopt(fd, SOL_XDP, XDP_MMAP_OFFSETS, &off, &optlen) == 0) {
		munmap((char *)x->fill.ring - off.fr.desc,
		       off.fr.desc + XSK_RX_FRAMES * sizeof(uint64_t));
		munmap((char *)x->comp.ring - off.cr.desc,
		       off.cr.desc + XSK_TX_FRAMES * sizeof(uint64_t));
	}
	xsk_umem__delete(x->umem);
	x->umem = NULL;
}

/* xsk_bind - UMEM + socket with bind flags (XDP_ZEROCOPY or XDP_COPY). */
static int xsk_bind(struct xsk_transport *x, uint16_t mode_flag)
{
	struct xsk_umem_config ucfg = {
		.fill_size = XSK_RX_FRAMES,
		.comp_size = XSK_TX_FRAMES,
		.frame_size = XSK_FRAME_SIZE,
		.frame_headroom = XSK_UMEM_HEADROOM,
		.flags = 0,
	};
	struct xsk_socket_config scfg = {
		.rx_size = XSK_RX_FRAMES,
		.tx_size = XSK_TX_FRAMES,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.xdp_flags = 0,
		.bind_flags = XDP_USE_NEED_WAKEUP | mode_flag,
	};
	int err;

	err = xsk_umem__create(&x->umem, x->area, x->area_len, &x->fill, &x->comp, &ucfg);
	if (err) {
		x->umem = NULL;
		return err;
	}
	err = xsk_socket__create(&x->xsk, x->ifname, x->cfg.queue_id, x->umem, &x->rx, &x->tx,
				 &scfg);
	if (err) {
		x->xsk = NULL;
		xsk_umem_drop(x);
		return err;
	}
	return 0;
}

static int xsk_ifinfo(struct xsk_transport *x)
{
	struct ifreq ifr;
	int fd, err = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", x->ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr)) {
		err = -errno;
		goto out;
	}
	memcpy(x->mac, ifr.ifr_hwaddr.sa_data, 6);
	if (ioctl(fd, SIOCGIFMTU, &ifr)) {
		err = -errno;
		goto out;
	}
	x->mtu = (uint32_t)ifr.ifr_mtu;
out:
	close(fd);
	return err;
}

static void xsk_close(struct transport *t)
{
	struct xsk_transport *x = xsk_of(t);

	if (!x)
		return;
	if (x->xsk) {
		xdp_steer_set_socket(x->steer, x->cfg.queue_id, -1);
		xsk_socket__delete(x->xsk);
	}
	if (x->umem)
		xsk_umem__delete(x->umem);
	if (x->area)
		munmap(x->area, x->area_len);
	free(x->tx_free);
	free(x->tx_refs);
	free(x->tx_lent);
	neigh_close(x->neigh);
	if (x->steer)
		xdp_steer_disown(x->steer, x);
	xdp_steer_put(x->steer);
	free(x);
}

static const struct transport_ops xsk_ops = {
	.name = "xsk",
	.rx_burst = xsk_rx_burst,
	.rx_release = xsk_rx_release,
	.tx = xsk_tx,
	.tx_flush = xsk_tx_flush,
	.poll_fd = xsk_poll_fd,
	.rx_credits = xsk_rx_credits,
	.rx_hold_max = xsk_rx_hold_max,
	.txz_alloc = xsk_txz_alloc,
	.txz_send = xsk_txz_send,
	.txz_free = xsk_txz_free,
	.stats = xsk_stats,
	.close = xsk_close,
};

int xsk_transport_umem(struct transport *t, void **base, size_t *len)
{
	struct xsk_transport *x;

	if (!t || t->ops != &xsk_ops)
		return -EINVAL;
	x = xsk_of(t);
	*base = x->area;
	*len = x->area_len;
	return 0;
}

int xsk_transport_open(const struct xsk_transport_cfg *cfg, struct transport **out)
{
	struct xdp_steer_cfg scfg = { 0 };
	struct xsk_transport *x;
	struct xdp_options opts;
	socklen_t optlen = sizeof(opts);
	uint64_t addrs[64];
	uint32_t i, k;
	int err;

	if (!cfg->ifname || strlen(cfg->ifname) >= IF_NAMESIZE || cfg->local.family != AF_INET ||
	    !cfg->local.port)
		return -EINVAL;
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->cfg = *cfg;
	snprintf(x->ifname, sizeof(x->ifname), "%s", cfg->ifname);
	x->cfg.ifname = x->ifname;
	x->fd = -1;
	x->ifindex = (int)if_nametoindex(x->ifname);
	if (!x->ifindex) {
		err = -errno;
		log_err("xsk: no interface %s", x->ifname);
		goto err;
	}
	err = xsk_ifinfo(x);
	if (err) {
		log_err("xsk: %s: cannot read MAC/MTU: %s", x->ifname, strerror(-err));
		goto err;
	}

	scfg.ifname = x->ifname;
	scfg.port = ntohs(cfg->local.port);
	scfg.cluster = cfg->cluster;
	scfg.mode = cfg->xdp_mode;
	err = xdp_steer_get(&scfg, &x->steer);
	if (err)
		goto err;

	err = neigh_open(x->ifindex, &x->neigh);
	if (err)
		goto err;

	/* UMEM memory: hugepages when the system has them (fewer pins, fewer
	 * TLB misses; also what io_uring fixed buffers like), else 4 KiB pages. */
	x->area_len = (size_t)XSK_FRAMES * XSK_FRAME_SIZE;
	x->area = mmap(NULL, x->area_len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_POPULATE, -1, 0);
	if (x->area == MAP_FAILED)
		x->area = mmap(NULL, x->area_len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (x->area == MAP_FAILED) {
		x->area = NULL;
		err = -errno;
		log_err("xsk: UMEM of %zu bytes: %s", x->area_len, strerror(-err));
		goto err;
	}

	if (cfg->bind_mode != XSK_BIND_COPY) {
		err = xsk_bind(x, XDP_ZEROCOPY);
		if (!err) {
			x->zerocopy = 1;
		} else if (cfg->bind_mode == XSK_BIND_ZEROCOPY) {
			log_err("xsk: zero-copy bind on %s queue %u: %s", x->ifname,
				cfg->queue_id, strerror(-err));
			goto err;
		} else {
			log_debug("xsk: zero-copy not available on %s (%s), using copy mode",
				  x->ifname, strerror(-err));
		}
	}
	if (!x->zerocopy) {
		err = xsk_bind(x, XDP_COPY);
		if (err) {
			log_err("xsk: bind on %s queue %u: %s", x->ifname, cfg->queue_id,
				strerror(-err));
			goto err;
		}
	}
	x->fd = xsk_socket__fd(x->xsk);
	/* Trust the kernel's word over the flag we asked for. */
	if (getsockopt(x->fd, SOL_XDP, XDP_OPTIONS, &opts, &optlen) == 0)
		x->zerocopy = !!(opts.flags & XDP_OPTIONS_ZEROCOPY);

	/* Every RX frame into the fill ring; every TX frame on the free stack. */
	for (i = 0; i < XSK_RX_FRAMES; i += k) {
		for (k = 0; k < 64 && i + k < XSK_RX_FRAMES; k++)
			addrs[k] = (uint64_t)(i + k) * XSK_FRAME_SIZE;
		xsk_fill_put(x, addrs, k);
	}
	x->tx_free = calloc(XSK_TX_FRAMES, sizeof(*x->tx_free));
	x->tx_refs = calloc(XSK_TX_FRAMES, sizeof(*x->tx_refs));
	x->tx_lent = calloc(XSK_TX_FRAMES, sizeof(*x->tx_lent));
	if (!x->tx_free || !x->tx_refs || !x->tx_lent) {
		err = -ENOMEM;
		goto err;
	}
	for (i = 0; i < XSK_TX_FRAMES; i++)
		x->tx_free[x->tx_nfree++] = (uint64_t)(XSK_RX_FRAMES + i) * XSK_FRAME_SIZE;

	err = xdp_steer_set_socket(x->steer, cfg->queue_id, x->fd);
	if (err) {
		log_err("xsk: XSKMAP update for queue %u: %s", cfg->queue_id, strerror(-err));
		goto err;
	}

	x->t.ops = &xsk_ops;
	x->t.local = cfg->local;
	x->t.max_payload = x->mtu > sizeof(struct iphdr) + sizeof(struct udphdr) ?
				   x->mtu - (uint32_t)(sizeof(struct iphdr) + sizeof(struct udphdr)) : 0;
	if (x->t.max_payload > FERRY_MAX_DATAGRAM)
		x->t.max_payload = FERRY_MAX_DATAGRAM;
	log_info("xsk: %s queue %u bound, xsk_mode %s, xdp_attach %s, mtu %u, max payload %u",
		 x->ifname, cfg->queue_id, x->zerocopy ? "zerocopy" : "copy",
		 xdp_link_mode_name(xdp_steer_mode(x->steer)), x->mtu, x->t.max_payload);
	*out = &x->t;
	return 0;

err:
	xsk_close(&x->t);
	return err;
}
