/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_neigh - net/neigh.c against a real kernel neighbour table, in a
 * private network namespace (unshare): a veth n0 (10.1.0.1/24) whose peer
 * has no address, a permanent neighbour 10.1.0.2, a route 10.2.0.0/24 via
 * 10.1.0.2. Checks on-link and gatewayed lookups, the -EAGAIN + one kick
 * for an unresolved address (rate-limited), learning, and -ENETUNREACH for
 * a destination routed out of another interface. Skips without root.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/test.h"
#include "net/neigh.h"

static uint32_t ip4(const char *s)
{
	struct in_addr a;

	REQUIRE(inet_pton(AF_INET, s, &a) == 1);
	return a.s_addr;
}

static int sh(const char *cmd)
{
	int rc = system(cmd);

	if (rc != 0)
		fprintf(stderr, "command failed (%d): %s\n", rc, cmd);
	return rc;
}

int main(void)
{
	static const uint8_t gw_mac[6] = { 0x02, 0, 0, 0, 0, 0x02 };
	static const uint8_t learned[6] = { 0x02, 0, 0, 0, 0, 0x09 };
	struct neigh_cache *nc;
	struct neigh_stats st;
	uint8_t mac[6];
	uint32_t nh;
	int ifindex, oif;

	if (unshare(CLONE_NEWNET))
		test_skip("unshare(CLONE_NEWNET): %s", strerror(errno));
	if (sh("ip link set lo up && ip link add n0 type veth peer name n1 && "
	       "ip addr add 10.1.0.1/24 dev n0 && ip link set n0 up && ip link set n1 up && "
	       "ip neigh add 10.1.0.2 lladdr 02:00:00:00:00:02 dev n0 nud permanent && "
	       "ip route add 10.2.0.0/24 via 10.1.0.2"))
		test_skip("cannot set up veth/neighbour in a private namespace");
	ifindex = (int)if_nametoindex("n0");
	REQUIRE(ifindex > 0);
	REQUIRE(neigh_open(ifindex, &nc) == 0);

	/* kernel primitives */
	CHECK_EQ(neigh_kernel_nexthop(nc, ip4("10.2.0.7"), &nh, &oif), 0);
	CHECK_EQ(nh, ip4("10.1.0.2"));
	CHECK_EQ(oif, ifindex);
	CHECK_EQ(neigh_kernel_nexthop(nc, ip4("10.1.0.5"), &nh, &oif), 0);
	CHECK_EQ(nh, ip4("10.1.0.5"));

	/* on-link, permanent entry; then from the cache */
	memset(mac, 0, sizeof(mac));
	CHECK_EQ(neigh_lookup(nc, ip4("10.1.0.2"), mac), 0);
	CHECK(!memcmp(mac, gw_mac, 6));
	CHECK_EQ(neigh_lookup(nc, ip4("10.1.0.2"), mac), 0);
	/* off-link: the gateway's MAC */
	memset(mac, 0, sizeof(mac));
	CHECK_EQ(neigh_lookup(nc, ip4("10.2.0.7"), mac), 0);
	CHECK(!memcmp(mac, gw_mac, 6));
	neigh_get_stats(nc, &st);
	CHECK_EQ(st.hits, 1);
	CHECK_EQ(st.misses, 2);

	/* unresolved: -EAGAIN and one kick; the second try within
	 * NEIGH_KICK_MS does not kick again */
	CHECK_EQ(neigh_lookup(nc, ip4("10.1.0.3"), mac), -EAGAIN);
	CHECK_EQ(neigh_lookup(nc, ip4("10.1.0.3"), mac), -EAGAIN);
	neigh_get_stats(nc, &st);
	CHECK_EQ(st.kicks, 1);

	/* learning from received frames wins without asking the kernel */
	neigh_learn(nc, ip4("10.1.0.9"), learned, neigh_now_ns());
	memset(mac, 0, sizeof(mac));
	CHECK_EQ(neigh_lookup(nc, ip4("10.1.0.9"), mac), 0);
	CHECK(!memcmp(mac, learned, 6));

	/* routed out of another interface (lo) */
	CHECK_EQ(neigh_lookup(nc, ip4("127.0.0.1"), mac), -ENETUNREACH);

	neigh_close(nc);
	return test_done();
}
