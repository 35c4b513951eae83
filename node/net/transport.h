/* SPDX-License-Identifier: Apache-2.0 */
/*
 * transport.h - how Ferry datagrams get in and out of a process.
 *
 * A transport moves whole UDP payloads (struct ferry_hdr + fragment) between
 * this process and peers named by struct net_addr. Two implementations:
 *   - udp  (node/net/udp.c): kernel UDP sockets, recvmmsg/sendmmsg. Clients
 *     everywhere and the node's --transport udp use it.
 *   - xsk  (node/net/xsk.c): AF_XDP on one NIC queue, behind the steering
 *     XDP program; the node builds Ethernet/IP/UDP headers itself.
 * Both speak the same wire format, so a udp client talks to an xsk node.
 *
 * Receive is batch and zero-copy where the transport allows: rx_burst fills
 * net_pkt descriptors pointing into transport-owned buffers, valid until
 * rx_release hands them back. Send copies the caller's iovec into a
 * transport buffer (tx), then tx_flush kicks the batch out.
 */
#ifndef FERRY_TRANSPORT_H
#define FERRY_TRANSPORT_H

#include <stdint.h>
#include <sys/uio.h>

/* A peer: IPv4 or IPv6 address and UDP port. */
struct net_addr {
	uint16_t family;   /* AF_INET or AF_INET6 */
	uint16_t port;     /* UDP port, network byte order */
	uint32_t scope;    /* IPv6 scope id (0 otherwise) */
	uint8_t ip[16];    /* IPv4 in the first 4 bytes */
};

/* One received datagram. */
struct net_pkt {
	uint8_t *data;         /* UDP payload */
	uint32_t len;          /* bytes at data */
	uint32_t queue;        /* NIC queue it arrived on (0 for udp) */
	struct net_addr peer;  /* source address */
	uint64_t handle;       /* transport-private (frame address, slot) */
};

struct transport;

struct transport_ops {
	const char *name;      /* "udp", "xsk" */
	/* Receive up to max datagrams without blocking; returns count or -errno. */
	int (*rx_burst)(struct transport *t, struct net_pkt *pkts, int max);
	/* Give buffers of received datagrams back to the transport. */
	void (*rx_release)(struct transport *t, struct net_pkt *pkts, int n);
	/* Queue one datagram to peer (copied); returns 0 or -errno (-ENOBUFS:
	 * no TX buffer right now: flush and retry later). */
	int (*tx)(struct transport *t, const struct net_addr *to, const struct iovec *iov,
		  int iovcnt);
	/* Push queued datagrams out; returns 0 or -errno. */
	int (*tx_flush)(struct transport *t);
	/* A file descriptor that polls readable when rx_burst would return > 0
	 * (or when the transport needs a wakeup); -1 if none. */
	int (*poll_fd)(struct transport *t);
	/* Credits (datagrams) one peer may have in flight towards us without
	 * the receive side dropping for lack of buffers. */
	uint32_t (*rx_credits)(struct transport *t);
	/*
	 * Zero-copy extensions; NULL where the transport has none (udp).
	 *
	 * rx_hold_max - how many received datagrams the caller may keep
	 * (not rx_release) beyond one rx_burst batch, e.g. a PUT's fragments
	 * until the disk has them. The rest of the receive buffers stay with
	 * the NIC, so rx_credits still holds with that many kept.
	 *
	 * TX frames lent to the caller: txz_alloc lends one frame and gives
	 * its payload slot (*payload, *cap bytes; 512-byte aligned, the place
	 * a datagram's payload goes behind the Ferry header); the caller
	 * fills it (a disk read, say) and may send it any number of times
	 * with txz_send, which writes the Ethernet/IP/UDP headers and hdr
	 * (FERRY_HDR_LEN bytes) in front of the first len payload bytes and
	 * queues the frame (-EBUSY: an earlier send of it has not completed
	 * yet - that copy is still on its way; -ENOBUFS: TX ring full). The
	 * frame goes back to the pool at txz_free once no send of it is in
	 * flight. txz_alloc returns -ENOBUFS when lending more would starve
	 * ordinary sends.
	 */
	uint32_t (*rx_hold_max)(struct transport *t);
	int (*txz_alloc)(struct transport *t, uint64_t *frame, uint8_t **payload, uint32_t *cap);
	int (*txz_send)(struct transport *t, uint64_t frame, const struct net_addr *to,
			const void *hdr, uint32_t len);
	void (*txz_free)(struct transport *t, uint64_t frame);
	/* Append "name value\n" counter lines to buf; returns bytes written. */
	size_t (*stats)(struct transport *t, char *buf, size_t cap);
	void (*close)(struct transport *t);
};

struct transport {
	const struct transport_ops *ops;
	struct net_addr local;   /* bound address */
	uint32_t max_payload;    /* largest UDP payload this path carries (MTU-based) */
};

/* net_addr_parse - "IP:PORT", "[IPv6]:PORT", or "IP" with default_port.
 * Returns 0 or -EINVAL. */
int net_addr_parse(const char *s, uint16_t default_port, struct net_addr *out);
/* net_addr_format - "IP:PORT" into buf (at least 64 bytes). */
const char *net_addr_format(const struct net_addr *a, char *buf, size_t cap);
int net_addr_equal(const struct net_addr *a, const struct net_addr *b);

/* Kernel UDP transport: bind to local (port 0 = ephemeral). */
int udp_transport_open(const struct net_addr *local, struct transport **out);

#endif /* FERRY_TRANSPORT_H */
