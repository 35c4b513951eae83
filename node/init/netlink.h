/* SPDX-License-Identifier: Apache-2.0 */
/*
 * netlink.h - the few rtnetlink requests PID 1 needs (no iproute2 in the image).
 *
 * Each call sends one request with NLM_F_ACK on a socket from
 * init_nl_open() and waits for the kernel's answer. Addresses are IPv4 in
 * network byte order. All return 0 or -errno (the kernel's error code).
 */
#ifndef FERRY_INIT_NETLINK_H
#define FERRY_INIT_NETLINK_H

#include <stdint.h>

/* init_nl_open - an AF_NETLINK/NETLINK_ROUTE socket; returns fd or -errno. */
int init_nl_open(void);
/* init_nl_link_up - set IFF_UP on ifindex. */
int init_nl_link_up(int fd, int ifindex);
/* init_nl_addr_add - add addr/prefix to ifindex (EEXIST counts as success). */
int init_nl_addr_add(int fd, int ifindex, uint32_t addr, int prefix);
/* init_nl_route_add_default - default route via gw out of ifindex (EEXIST ok). */
int init_nl_route_add_default(int fd, int ifindex, uint32_t gw);

#endif
