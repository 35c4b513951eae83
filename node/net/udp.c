/* SPDX-License-Identifier: Apache-2.0 */
/*
 * udp.c - the kernel UDP transport (see transport.h).
 *
 * One non-blocking socket; receive with recvmmsg into a ring of fixed
 * buffers, send by queueing copies and pushing them with sendmmsg. Large
 * socket buffers (the reliable layer's windows assume the receiver can hold
 * its advertised credits).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "ferry_wire.h"
#include "net/transport.h"

#define UDP_BATCH     64      /* datagrams per recvmmsg/sendmmsg */
#define UDP_BUF_SIZE  4096    /* > FERRY_MAX_DATAGRAM */
#define UDP_SOCKBUF   (8 << 20)

struct udp_transport {
	struct transport t;
	int fd;
	/* receive side: UDP_BATCH buffers handed out by rx_burst, all returned
	 * before the next rx_burst (rx_release). */
	uint8_t *rx_bufs;
	struct sockaddr_storage rx_addr[UDP_BATCH];
	/* send side: queued datagrams */
	uint8_t *tx_bufs;
	struct sockaddr_storage tx_addr[UDP_BATCH];
	socklen_t tx_addrlen[UDP_BATCH];
	uint32_t tx_len[UDP_BATCH];
	int tx_n;
	uint64_t rx_pkts, tx_pkts, tx_errors, rx_truncated, rx_errors;
};

static struct udp_transport *udp_of(struct transport *t)
{
	return (struct udp_transport *)t;
}

static void udp_sockaddr_to_net(const struct sockaddr_storage *ss, struct net_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
		a->family = AF_INET6;
		a->port = s6->sin6_port;
		a->scope = s6->sin6_scope_id;
		memcpy(a->ip, &s6->sin6_addr, 16);
	} else {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
		a->family = AF_INET;
		a->port = s4->sin_port;
		memcpy(a->ip, &s4->sin_addr, 4);
	}
}

static socklen_t udp_net_to_sockaddr(const struct net_addr *a, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = a->port;
		s6->sin6_scope_id = a->scope;
		memcpy(&s6->sin6_addr, a->ip, 16);
		return sizeof(*s6);
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	s4->sin_family = AF_INET;
	s4->sin_port = a->port;
	memcpy(&s4->sin_addr, a->ip, 4);
	return sizeof(*s4);
}

static int udp_rx_burst(struct transport *t, struct net_pkt *pkts, int max)
{
	struct udp_transport *u = udp_of(t);
	struct mmsghdr msgs[UDP_BATCH];
	struct iovec iov[UDP_BATCH];
	int n;

	if (max > UDP_BATCH)
		max = UDP_BATCH;
	for (int i = 0; i < max; i++) {
		iov[i].iov_base = u->rx_bufs + (size_t)i * UDP_BUF_SIZE;
		iov[i].iov_len = UDP_BUF_SIZE;
		memset(&msgs[i], 0, sizeof(msgs[i]));
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_name = &u->rx_addr[i];
		msgs[i].msg_hdr.msg_namelen = sizeof(u->rx_addr[i]);
	}
	n = recvmmsg(u->fd, msgs, (unsigned)max, MSG_DONTWAIT, NULL);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return 0;
		/* Errors a peer's ICMP leaves on the socket are about one
		 * datagram, not the transport: count them, go on. */
		if (errno == ECONNREFUSED || errno == EHOSTUNREACH || errno == ENETUNREACH ||
		    errno == EHOSTDOWN || errno == ETIMEDOUT) {
			u->rx_errors++;
			return 0;
		}
		return -errno;
	}
	for (int i = 0; i < n; i++) {
		pkts[i].data = iov[i].iov_base;
		pkts[i].len = msgs[i].msg_len;
		pkts[i].queue = 0;
		pkts[i].handle = (uint64_t)i;
		if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
			u->rx_truncated++;
			pkts[i].len = 0; /* fails wire_check as short: counted there too */
		}
		udp_sockaddr_to_net(&u->rx_addr[i], &pkts[i].peer);
	}
	u->rx_pkts += (uint64_t)n;
	return n;
}

static void udp_rx_release(struct transport *t, struct net_pkt *pkts, int n)
{
	(void)t; /* buffers are reused by the next rx_burst */
	(void)pkts;
	(void)n;
}

static int udp_tx_flush(struct transport *t)
{
	struct udp_transport *u = udp_of(t);
	struct mmsghdr msgs[UDP_BATCH];
	struct iovec iov[UDP_BATCH];
	int done = 0;
	int err = 0;

	for (int i = 0; i < u->tx_n; i++) {
		iov[i].iov_base = u->tx_bufs + (size_t)i * UDP_BUF_SIZE;
		iov[i].iov_len = u->tx_len[i];
		memset(&msgs[i], 0, sizeof(msgs[i]));
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_name = &u->tx_addr[i];
		msgs[i].msg_hdr.msg_namelen = u->tx_addrlen[i];
	}
	while (done < u->tx_n) {
		int n = sendmmsg(u->fd, msgs + done, (unsigned)(u->tx_n - done), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* A datagram the kernel refuses (no route, buffer full) is
			 * lost like any other: the reliable layer retransmits. */
			u->tx_errors++;
			if (errno != EAGAIN && errno != ENOBUFS && errno != ECONNREFUSED &&
			    errno != ENETUNREACH && errno != EHOSTUNREACH)
				err = -errno;
			done++;
			continue;
		}
		done += n;
		u->tx_pkts += (uint64_t)n;
	}
	u->tx_n = 0;
	return err;
}

static int udp_tx(struct transport *t, const struct net_addr *to, const struct iovec *iov,
		  int iovcnt)
{
	struct udp_transport *u = udp_of(t);
	uint8_t *dst;
	size_t len = 0;

	if (u->tx_n == UDP_BATCH) {
		int err = udp_tx_flush(t);
		if (err)
			return err;
	}
	dst = u->tx_bufs + (size_t)u->tx_n * UDP_BUF_SIZE;
	for (int i = 0; i < iovcnt; i++) {
		if (len + iov[i].iov_len > UDP_BUF_SIZE)
			return -EMSGSIZE;
		memcpy(dst + len, iov[i].iov_base, iov[i].iov_len);
		len += iov[i].iov_len;
	}
	u->tx_len[u->tx_n] = (uint32_t)len;
	u->tx_addrlen[u->tx_n] = udp_net_to_sockaddr(to, &u->tx_addr[u->tx_n]);
	u->tx_n++;
	return 0;
}

static int udp_poll_fd(struct transport *t)
{
	return udp_of(t)->fd;
}

static uint32_t udp_rx_credits(struct transport *t)
{
	(void)t;
	/* The socket buffer holds UDP_SOCKBUF bytes of skbs; each datagram
	 * costs about its truesize (~2x a 1500-byte payload). */
	return UDP_SOCKBUF / 4096;
}

static size_t udp_stats(struct transport *t, char *buf, size_t cap)
{
	struct udp_transport *u = udp_of(t);
	int n = snprintf(buf, cap,
			 "transport udp\nudp_rx_packets %llu\nudp_tx_packets %llu\n"
			 "udp_tx_errors %llu\nudp_rx_truncated %llu\nudp_rx_errors %llu\n",
			 (unsigned long long)u->rx_pkts, (unsigned long long)u->tx_pkts,
			 (unsigned long long)u->tx_errors, (unsigned long long)u->rx_truncated,
			 (unsigned long long)u->rx_errors);
	return n < 0 ? 0 : ((size_t)n < cap ? (size_t)n : cap - 1);
}

static void udp_close(struct transport *t)
{
	struct udp_transport *u = udp_of(t);

	if (!u)
		return;
	if (u->fd >= 0)
		close(u->fd);
	free(u->rx_bufs);
	free(u->tx_bufs);
	free(u);
}

static const struct transport_ops udp_ops = {
	.name = "udp",
	.rx_burst = udp_rx_burst,
	.rx_release = udp_rx_release,
	.tx = udp_tx,
	.tx_flush = udp_tx_flush,
	.poll_fd = udp_poll_fd,
	.rx_credits = udp_rx_credits,
	.stats = udp_stats,
	.close = udp_close,
};

int udp_transport_open(const struct net_addr *local, struct transport **out)
{
	struct udp_transport *u = calloc(1, sizeof(*u));
	struct sockaddr_storage ss;
	socklen_t sl;
	int sz = UDP_SOCKBUF;
	int err;

	if (!u)
		return -ENOMEM;
	u->fd = -1;
	u->rx_bufs = malloc((size_t)UDP_BATCH * UDP_BUF_SIZE);
	u->tx_bufs = malloc((size_t)UDP_BATCH * UDP_BUF_SIZE);
	if (!u->rx_bufs || !u->tx_bufs) {
		err = -ENOMEM;
		goto fail;
	}
	u->fd = socket(local->family == AF_INET6 ? AF_INET6 : AF_INET,
		       SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (u->fd < 0) {
		err = -errno;
		goto fail;
	}
	/* No SO_REUSEADDR: for UDP it lets sockets share a port, and two
	 * clients binding port 0 with it set can be given the same one - the
	 * kernel then delivers both clients' answers to one of them, and the
	 * other waits for answers that never come. (A UDP port has no
	 * TIME_WAIT: a restarted node binds its port again without it.) */
	/* SO_*BUFFORCE needs CAP_NET_ADMIN; fall back to the capped variant. */
	if (setsockopt(u->fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)))
		setsockopt(u->fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (setsockopt(u->fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)))
		setsockopt(u->fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	sl = sizeof(ss);
	{
		struct net_addr l = *local;
		sl = udp_net_to_sockaddr(&l, &ss);
	}
	if (bind(u->fd, (struct sockaddr *)&ss, sl)) {
		err = -errno;
		goto fail;
	}
	sl = sizeof(ss);
	if (getsockname(u->fd, (struct sockaddr *)&ss, &sl)) {
		err = -errno;
		goto fail;
	}
	u->t.ops = &udp_ops;
	udp_sockaddr_to_net(&ss, &u->t.local);
	/* The largest Ferry datagram; rpc_cfg.mtu (--mtu) sizes fragments to
	 * the path below that (1500 by default). */
	u->t.max_payload = FERRY_MAX_DATAGRAM;
	*out = &u->t;
	return 0;
fail:
	udp_close(&u->t);
	return err;
}
