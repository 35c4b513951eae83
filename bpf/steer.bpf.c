/* SPDX-License-Identifier: Apache-2.0 */
/*
 * steer.bpf.c - the node's XDP program: validate Ferry datagrams and steer
 * them to the AF_XDP socket of the queue they arrived on.
 *
 *   not UDP to cfg.port (ARP, ICMP, TCP, other UDP, ctl) -> XDP_PASS
 *   IPv4/IPv6 header malformed or truncated               -> DROP_IP
 *   first IP fragment of a datagram to cfg.port           -> DROP_IP
 *     (Ferry never fragments at IP: datagrams fit the MTU; later fragments
 *      carry no port and are left to the kernel, which finds no socket)
 *   UDP header truncated / length wrong (to cfg.port)     -> DROP_UDP
 *   Ferry header fails a check                            -> DROP_<reason>
 *   valid, cfg.redirect                                   -> xsks_map[rx_queue]
 *     (no socket on that queue: REDIRECT_FAIL, XDP_PASS)
 *   valid, !cfg.redirect                                  -> XDP_PASS (counted FERRY)
 *
 * Every packet counts RX and exactly one verdict (PASS, REDIRECT or DROP);
 * a drop also counts exactly one reason. "xdp.frags" so that MTUs above a
 * page minus headroom work on veth and multi-buffer NICs: the headers are
 * in the linear part, lengths are checked against bpf_xdp_get_buff_len().
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "ferry_wire.h"
#include "ferry_abi.h"
#include "parse.h"
#include "steer_maps.h"

/* Set by the loader before load (node/net/xdp_steer.c, tests/bpf/test_steer.c). */
const volatile struct ferry_steer_cfg steer_cfg = {
	.port = FERRY_PORT_DEFAULT,
	.redirect = 1,
};

/* steer_check_ferry - 0 if the datagram is a well-formed Ferry datagram,
 * else the FERRY_DROP_* reason. plen: UDP payload bytes per the UDP header. */
static __always_inline int steer_check_ferry(struct parse_cursor *c, void *end, __u32 plen)
{
	struct ferry_hdr *h = c->pos;
	__u64 cluster = steer_cfg.cluster;
	__u32 frag_len, frag_off, msg_len;

	if (plen < FERRY_HDR_LEN)
		return FERRY_DROP_SHORT;
	if ((void *)(h + 1) > end)
		return FERRY_DROP_SHORT; /* header split across fragments: not ours */
	if (ferry_le32(h->magic) != FERRY_MAGIC)
		return FERRY_DROP_MAGIC;
	if (h->version != FERRY_VERSION)
		return FERRY_DROP_VERSION;
	if (h->op >= FERRY_OP_MAX)
		return FERRY_DROP_OP;
	if (ferry_le16(h->flags) & ~FERRY_F_ALL)
		return FERRY_DROP_FLAGS;
	if (h->reserved != 0)
		return FERRY_DROP_RESERVED;
	frag_len = ferry_le16(h->frag_len);
	frag_off = ferry_le32(h->frag_off);
	msg_len = ferry_le32(h->msg_len);
	if (frag_len != plen - FERRY_HDR_LEN || frag_len > FERRY_MAX_FRAG_PAYLOAD ||
	    (__u64)frag_off + frag_len > msg_len)
		return FERRY_DROP_LENGTH;
	/* cluster 0 on either side means "any" (ferry_wire.h). */
	if (cluster && h->cluster && ferry_le64(h->cluster) != cluster)
		return FERRY_DROP_CLUSTER;
	return 0;
}

SEC("xdp.frags")
int ferry_steer(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct parse_cursor c = { .pos = data };
	__u32 port = steer_cfg.port;
	__u32 pkt_len, l3_len, l4_len = 0, plen = 0;
	struct ethhdr *eth;
	struct iphdr *iph;
	struct ipv6hdr *ip6;
	struct udphdr *udp;
	int proto, dport, frag = 0, why;
	long act;

	steer_count(FERRY_CTR_RX);
	pkt_len = bpf_xdp_get_buff_len(ctx);
	proto = parse_eth(&c, end, &eth);
	if (proto < 0)
		return steer_pass(); /* runt frame: the kernel drops it as it would anyway */

	/* Bytes from L3 to the end of the whole (possibly multi-buffer) packet.
	 * The barrier keeps clang from folding this back into pointer math,
	 * which the verifier would refuse (pkt_len is unbounded). */
	l3_len = (__u32)(c.pos - data);
	parse_barrier(l3_len);
	l3_len = pkt_len > l3_len ? pkt_len - l3_len : 0;
	parse_barrier(l3_len);
	if (proto == ETH_P_IP) {
		proto = parse_ip4(&c, end, l3_len, &iph, &l4_len, &frag);
	} else if (proto == ETH_P_IPV6) {
		proto = parse_ip6(&c, end, l3_len, &ip6, &l4_len, &frag);
	} else {
		return steer_pass(); /* ARP, LLDP, ... */
	}
	if (proto < 0)
		return steer_drop(FERRY_DROP_IP);
	if (proto != IPPROTO_UDP || frag == PARSE_IP_LATERFRAG || port == 0)
		return steer_pass();

	dport = parse_udp(&c, end, l4_len, &udp, &plen);
	if (dport < 0) {
		/* A truncated UDP header to any port is garbage the kernel drops too. */
		return steer_drop(FERRY_DROP_UDP);
	}
	if ((__u32)dport != port)
		return steer_pass();
	if (frag == PARSE_IP_FRAG)
		return steer_drop(FERRY_DROP_IP);

	why = steer_check_ferry(&c, end, plen);
	if (why)
		return steer_drop(why);
	steer_count(FERRY_CTR_FERRY);
	if (!steer_cfg.redirect)
		return steer_pass();

	/* The low bits of flags are the action when the slot is empty. */
	act = bpf_redirect_map(&xsks_map, ctx->rx_queue_index, XDP_PASS);
	if (act == XDP_REDIRECT) {
		steer_count(FERRY_CTR_REDIRECT);
		return XDP_REDIRECT;
	}
	steer_count(FERRY_CTR_REDIRECT_FAIL);
	return steer_pass();
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
