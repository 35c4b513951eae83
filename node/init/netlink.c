/* SPDX-License-Identifier: Apache-2.0 */
/*
 * netlink.c - minimal rtnetlink client (see netlink.h).
 *
 * Requests are built in one stack buffer: nlmsghdr, the family header,
 * then attributes. We only ever have one request in flight, so the reply
 * is matched by sequence number and the first NLMSG_ERROR ends the wait.
 */
#include "init/netlink.h"

#include <endian.h>
#include <errno.h>
#include <linux/if.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct nl_req {
	struct nlmsghdr nh; /* header; nlmsg_len grows as attributes are added */
	union {
		struct ifinfomsg ifi; /* RTM_NEWLINK */
		struct ifaddrmsg ifa; /* RTM_NEWADDR */
		struct rtmsg rtm;     /* RTM_NEWROUTE */
	};
	char attrs[256]; /* room for the attributes */
};

static uint32_t nl_seq;

int init_nl_open(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

static int nl_attr_add(struct nl_req *r, unsigned short type, const void *data, size_t len)
{
	size_t off = NLMSG_ALIGN(r->nh.nlmsg_len);
	struct rtattr *a = (struct rtattr *)((char *)r + off);

	if (off + RTA_SPACE(len) > sizeof(*r))
		return -ENOSPC;
	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(a), data, len);
	r->nh.nlmsg_len = (uint32_t)(off + RTA_SPACE(len));
	return 0;
}

/* nl_talk - send r and wait for its ack; returns the kernel's error (0 or -errno). */
static int nl_talk(int fd, struct nl_req *r)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	char buf[4096];
	uint32_t seq = ++nl_seq;

	r->nh.nlmsg_seq = seq;
	r->nh.nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	if (sendto(fd, r, r->nh.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (unsigned)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != seq)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);

				return e->error; /* already 0 or -errno */
			}
		}
	}
}

int init_nl_link_up(int fd, int ifindex)
{
	struct nl_req r;

	memset(&r, 0, sizeof(r));
	r.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
	r.nh.nlmsg_type = RTM_NEWLINK;
	r.ifi.ifi_family = AF_UNSPEC;
	r.ifi.ifi_index = ifindex;
	r.ifi.ifi_flags = IFF_UP;
	r.ifi.ifi_change = IFF_UP;
	return nl_talk(fd, &r);
}

int init_nl_addr_add(int fd, int ifindex, uint32_t addr, int prefix)
{
	struct nl_req r;
	int e;

	memset(&r, 0, sizeof(r));
	r.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
	r.nh.nlmsg_type = RTM_NEWADDR;
	r.nh.nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	r.ifa.ifa_family = AF_INET;
	r.ifa.ifa_prefixlen = (unsigned char)prefix;
	r.ifa.ifa_scope = RT_SCOPE_UNIVERSE;
	r.ifa.ifa_index = (unsigned)ifindex;
	if ((e = nl_attr_add(&r, IFA_LOCAL, &addr, 4)) || (e = nl_attr_add(&r, IFA_ADDRESS, &addr, 4)))
		return e;
	if (prefix < 31) {
		uint32_t host = prefix ? 0xffffffffu >> prefix : 0xffffffffu;
		uint32_t brd = addr | htobe32(host);

		if ((e = nl_attr_add(&r, IFA_BROADCAST, &brd, 4)))
			return e;
	}
	e = nl_talk(fd, &r);
	return e == -EEXIST ? 0 : e;
}

int init_nl_route_add_default(int fd, int ifindex, uint32_t gw)
{
	struct nl_req r;
	uint32_t oif = (uint32_t)ifindex;
	int e;

	memset(&r, 0, sizeof(r));
	r.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg));
	r.nh.nlmsg_type = RTM_NEWROUTE;
	r.nh.nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	r.rtm.rtm_family = AF_INET;
	r.rtm.rtm_dst_len = 0;
	r.rtm.rtm_table = RT_TABLE_MAIN;
	r.rtm.rtm_protocol = RTPROT_BOOT;
	r.rtm.rtm_scope = RT_SCOPE_UNIVERSE;
	r.rtm.rtm_type = RTN_UNICAST;
	if ((e = nl_attr_add(&r, RTA_GATEWAY, &gw, 4)) || (e = nl_attr_add(&r, RTA_OIF, &oif, 4)))
		return e;
	e = nl_talk(fd, &r);
	return e == -EEXIST ? 0 : e;
}
