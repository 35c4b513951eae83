/* SPDX-License-Identifier: Apache-2.0 */
#include "net/neigh.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "common/log.h"

#define NEIGH_SLOTS 256           /* power of two; open addressing */
#define NEIGH_NL_TIMEOUT_MS 500   /* netlink answers come at once; guard anyway */

struct neigh_entry {
	uint32_t ip;          /* network order; 0 = empty slot */
	uint8_t mac[6];       /* next hop's MAC */
	uint8_t valid;        /* mac is known */
	uint8_t pad;
	uint64_t expires_ns;  /* valid until (CLOCK_MONOTONIC) */
	uint64_t kicked_ns;   /* last resolution kick */
};

struct neigh_cache {
	int ifindex;          /* interface our frames leave through */
	int nl_fd;            /* NETLINK_ROUTE socket */
	int udp_fd;           /* kernel UDP socket for resolution kicks */
	uint32_t seq;         /* netlink sequence */
	struct neigh_stats st;
	struct neigh_entry slots[NEIGH_SLOTS];
};

uint64_t neigh_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint32_t neigh_hash(uint32_t ip)
{
	return (ip * 2654435761u) >> 24; /* 8 bits = NEIGH_SLOTS */
}

/* neigh_slot - the slot of ip, or the empty slot where it would go (the
 * oldest-expiring slot of the probe window when the window is full). */
static struct neigh_entry *neigh_slot(struct neigh_cache *nc, uint32_t ip)
{
	uint32_t h = neigh_hash(ip), i;
	struct neigh_entry *victim = NULL, *e;

	for (i = 0; i < 8; i++) {
		e = &nc->slots[(h + i) & (NEIGH_SLOTS - 1)];
		if (e->ip == ip || e->ip == 0)
			return e;
		if (!victim || e->expires_ns < victim->expires_ns)
			victim = e;
	}
	memset(victim, 0, sizeof(*victim));
	return victim;
}

int neigh_open(int ifindex, struct neigh_cache **out)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct neigh_cache *nc;
	int err;

	nc = calloc(1, sizeof(*nc));
	if (!nc)
		return -ENOMEM;
	nc->ifindex = ifindex;
	nc->udp_fd = -1;
	nc->nl_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (nc->nl_fd < 0) {
		err = -errno;
		goto err_free;
	}
	if (bind(nc->nl_fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = -errno;
		goto err_nl;
	}
	nc->udp_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (nc->udp_fd < 0) {
		err = -errno;
		goto err_nl;
	}
	*out = nc;
	return 0;

err_nl:
	close(nc->nl_fd);
err_free:
	free(nc);
	log_err("neigh: open: %s", strerror(-err));
	return err;
}

void neigh_close(struct neigh_cache *nc)
{
	if (!nc)
		return;
	close(nc->udp_fd);
	close(nc->nl_fd);
	free(nc);
}

struct neigh_req {
	struct nlmsghdr nh;
	union {
		struct rtmsg rt;
		struct ndmsg nd;
	};
	char attrs[64];
};

static void neigh_addattr(struct nlmsghdr *nh, unsigned short type, const void *data,
			  unsigned short len)
{
	struct rtattr *rta = (struct rtattr *)((char *)nh + NLMSG_ALIGN(nh->nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	nh->nlmsg_len = NLMSG_ALIGN(nh->nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

/*
 * neigh_talk - send req and receive its one answer into buf. Returns the
 * answer's length, or -errno (netlink errors come back as their errno).
 */
static int neigh_talk(struct neigh_cache *nc, struct nlmsghdr *req, char *buf, size_t cap)
{
	struct sockaddr_nl to = { .nl_family = AF_NETLINK };
	struct pollfd pfd = { .fd = nc->nl_fd, .events = POLLIN };
	struct nlmsghdr *nh;
	ssize_t n;
	int len;

	req->nlmsg_seq = ++nc->seq;
	req->nlmsg_flags |= NLM_F_REQUEST;
	if (sendto(nc->nl_fd, req, req->nlmsg_len, 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		return -errno;
	for (;;) {
		if (poll(&pfd, 1, NEIGH_NL_TIMEOUT_MS) <= 0)
			return -ETIMEDOUT;
		n = recv(nc->nl_fd, buf, cap, 0);
		if (n < 0)
			return -errno;
		len = (int)n;
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (unsigned)len);
		     nh = NLMSG_NEXT(nh, len)) {
			if (nh->nlmsg_seq != nc->seq)
				continue; /* a stale answer of an earlier timed-out request */
			if (nh->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(nh);

				return e->error ? e->error : -ENODATA;
			}
			if (nh != (struct nlmsghdr *)buf)
				memmove(buf, nh, nh->nlmsg_len);
			return (int)nh->nlmsg_len;
		}
	}
}

int neigh_kernel_nexthop(struct neigh_cache *nc, uint32_t ip, uint32_t *nexthop, int *oif)
{
	struct neigh_req req;
	char buf[4096];
	struct nlmsghdr *nh = (struct nlmsghdr *)buf;
	struct rtattr *rta;
	struct rtmsg *rt;
	int len;

	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg));
	req.nh.nlmsg_type = RTM_GETROUTE;
	req.rt.rtm_family = AF_INET;
	req.rt.rtm_dst_len = 32;
	neigh_addattr(&req.nh, RTA_DST, &ip, 4);
	len = neigh_talk(nc, &req.nh, buf, sizeof(buf));
	if (len < 0)
		return len;
	if (nh->nlmsg_type != RTM_NEWROUTE)
		return -EPROTO;
	rt = NLMSG_DATA(nh);
	*nexthop = ip;
	*oif = 0;
	len = (int)RTM_PAYLOAD(nh);
	for (rta = RTM_RTA(rt); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if (rta->rta_type == RTA_GATEWAY && RTA_PAYLOAD(rta) == 4)
			memcpy(nexthop, RTA_DATA(rta), 4);
		else if (rta->rta_type == RTA_OIF && RTA_PAYLOAD(rta) == 4)
			memcpy(oif, RTA_DATA(rta), 4);
	}
	return 0;
}

int neigh_kernel_lladdr(struct neigh_cache *nc, uint32_t nexthop, uint8_t mac[6])
{
	struct neigh_req req;
	char buf[4096];
	struct nlmsghdr *nh = (struct nlmsghdr *)buf;
	struct rtattr *rta;
	struct ndmsg *nd;
	int len, have = 0;

	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ndmsg));
	req.nh.nlmsg_type = RTM_GETNEIGH;
	req.nd.ndm_family = AF_INET;
	req.nd.ndm_ifindex = nc->ifindex;
	neigh_addattr(&req.nh, NDA_DST, &nexthop, 4);
	len = neigh_talk(nc, &req.nh, buf, sizeof(buf));
	if (len < 0)
		return len == -ENOENT ? -EAGAIN : len;
	if (nh->nlmsg_type != RTM_NEWNEIGH)
		return -EPROTO;
	nd = NLMSG_DATA(nh);
	/* INCOMPLETE/FAILED/NONE have no usable address; STALE is usable (the
	 * kernel re-validates it when it next sends there itself). */
	if (!(nd->ndm_state & (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE |
			       NUD_PERMANENT | NUD_NOARP)))
		return -EAGAIN;
	len = (int)(nh->nlmsg_len - NLMSG_LENGTH(sizeof(*nd)));
	for (rta = (struct rtattr *)((char *)nd + NLMSG_ALIGN(sizeof(*nd))); RTA_OK(rta, len);
	     rta = RTA_NEXT(rta, len)) {
		if (rta->rta_type == NDA_LLADDR && RTA_PAYLOAD(rta) == 6) {
			memcpy(mac, RTA_DATA(rta), 6);
			have = 1;
		}
	}
	return have ? 0 : -EAGAIN;
}

/* neigh_kick - make the kernel resolve nexthop: one 1-byte datagram to its
 * discard port. The kernel queues it behind ARP and sends it once resolved. */
static void neigh_kick(struct neigh_cache *nc, uint32_t nexthop)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(9) };
	char b = 0;

	sin.sin_addr.s_addr = nexthop;
	if (sendto(nc->udp_fd, &b, 1, MSG_DONTWAIT, (struct sockaddr *)&sin, sizeof(sin)) >= 0)
		nc->st.kicks++;
}

int neigh_lookup(struct neigh_cache *nc, uint32_t ip, uint8_t mac[6])
{
	struct neigh_entry *e = neigh_slot(nc, ip);
	uint64_t now = neigh_now_ns();
	uint32_t nexthop;
	int oif, err;

	if (e->ip == ip && e->valid && e->expires_ns > now) {
		nc->st.hits++;
		memcpy(mac, e->mac, 6);
		return 0;
	}
	nc->st.misses++;
	if (e->ip != ip) {
		memset(e, 0, sizeof(*e));
		e->ip = ip;
	}
	err = neigh_kernel_nexthop(nc, ip, &nexthop, &oif);
	if (err)
		goto fail;
	if (oif && oif != nc->ifindex) {
		err = -ENETUNREACH;
		goto fail;
	}
	err = neigh_kernel_lladdr(nc, nexthop, mac);
	if (err == -EAGAIN) {
		if (now - e->kicked_ns > NEIGH_KICK_MS * 1000000ull) {
			e->kicked_ns = now;
			neigh_kick(nc, nexthop);
		}
		return -EAGAIN;
	}
	if (err)
		goto fail;
	memcpy(e->mac, mac, 6);
	e->valid = 1;
	e->expires_ns = now + NEIGH_TTL_MS * 1000000ull;
	return 0;
fail:
	nc->st.failures++;
	return err;
}

void neigh_learn(struct neigh_cache *nc, uint32_t ip, const uint8_t mac[6], uint64_t now)
{
	struct neigh_entry *e = neigh_slot(nc, ip);

	/* Per packet: rewrite only when new, changed, or past half its life. */
	if (e->ip == ip && e->valid && !memcmp(e->mac, mac, 6) &&
	    e->expires_ns > now + NEIGH_TTL_MS * 500000ull)
		return;
	e->ip = ip;
	memcpy(e->mac, mac, 6);
	e->valid = 1;
	e->expires_ns = now + NEIGH_TTL_MS * 1000000ull;
	nc->st.learned++;
}

void neigh_get_stats(const struct neigh_cache *nc, struct neigh_stats *out)
{
	*out = nc->st;
}
