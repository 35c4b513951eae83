/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fault.bpf.c - TEST ONLY: inject loss, corruption and duplication.
 *
 * There is no netem here, so tests break the network with this. Rates are
 * per mille in const volatile rodata (struct ferry_fault_cfg), draws come
 * from bpf_get_prandom_u32(), and only UDP datagrams whose source or
 * destination port is cfg.port are touched (0 = all UDP). Everything else
 * (ARP, ICMP, TCP) passes untouched, so neighbours and ping keep working.
 *
 * Programs (pick one hook per interface; `ferry fault` attaches them):
 *   fault_xdp         XDP ingress: drop, corrupt. XDP cannot duplicate a
 *                     frame (XDP_TX only bounces it back out), so dup_pm is
 *                     ignored here.
 *   fault_tc_ingress  TC (tcx) ingress: drop, corrupt, duplicate.
 *   fault_tc_egress   TC (tcx) egress: same on the way out. Attach both TC
 *                     programs to a client's interface to fault requests
 *                     and responses on one veth. (AF_XDP TX in copy mode
 *                     skips the qdisc layer, so TC egress on the node's own
 *                     interface would not see its replies.)
 * Duplicates are made with bpf_clone_redirect() to the same device and
 * direction; clones carry skb->mark = FERRY_FAULT_DUP_MARK so they are
 * passed (mark cleared) instead of being faulted again.
 * Corruption flips every bit of one random UDP payload byte (header or
 * payload of a Ferry datagram): Ferry's crc32c must catch it, and the UDP
 * checksum is not relied on (0 on IPv4, offloaded on veth).
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include "ferry_abi.h"
#include "parse.h"

const volatile struct ferry_fault_cfg fault_cfg = { 0 };

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FERRY_FAULT_CTR_MAX);
	__type(key, __u32);
	__type(value, __u64);
} fault_counters SEC(".maps");

static __always_inline void fault_count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&fault_counters, &idx);

	if (v)
		*v += 1;
}

static __always_inline int fault_roll(__u16 pm)
{
	return pm && bpf_get_prandom_u32() % 1000 < pm;
}

/*
 * fault_match - parse to UDP; returns 1 when the datagram matches the port
 * filter, with *payload_off (from the L2 header) and *plen set.
 */
static __always_inline int fault_match(void *data, void *end, __u32 pkt_len, __u32 *payload_off,
				       __u32 *plen)
{
	struct parse_cursor c = { .pos = data };
	__u32 l3_len, l4_len = 0, port = fault_cfg.port;
	struct ethhdr *eth;
	struct iphdr *iph;
	struct ipv6hdr *ip6;
	struct udphdr *udp;
	int proto, frag = 0, dport;

	proto = parse_eth(&c, end, &eth);
	if (proto < 0)
		return 0;
	l3_len = (__u32)(c.pos - data);
	parse_barrier(l3_len);
	l3_len = pkt_len > l3_len ? pkt_len - l3_len : 0;
	parse_barrier(l3_len);
	if (proto == ETH_P_IP)
		proto = parse_ip4(&c, end, l3_len, &iph, &l4_len, &frag);
	else if (proto == ETH_P_IPV6)
		proto = parse_ip6(&c, end, l3_len, &ip6, &l4_len, &frag);
	else
		return 0;
	if (proto != IPPROTO_UDP || frag == PARSE_IP_LATERFRAG)
		return 0;
	dport = parse_udp(&c, end, l4_len, &udp, plen);
	if (dport < 0)
		return 0;
	if (port && (__u32)dport != port && bpf_ntohs(udp->source) != port)
		return 0;
	*payload_off = (__u32)(c.pos - data);
	return 1;
}

SEC("xdp.frags")
int fault_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 off = 0, plen = 0;
	__u8 b;

	fault_count(FERRY_FAULT_SEEN);
	if (!fault_match(data, end, bpf_xdp_get_buff_len(ctx), &off, &plen))
		return XDP_PASS;
	fault_count(FERRY_FAULT_MATCHED);
	if (fault_roll(fault_cfg.drop_pm)) {
		fault_count(FERRY_FAULT_DROPPED);
		return XDP_DROP;
	}
	if (plen && fault_roll(fault_cfg.corrupt_pm)) {
		off += bpf_get_prandom_u32() % plen;
		if (bpf_xdp_load_bytes(ctx, off, &b, 1) == 0) {
			b = ~b;
			if (bpf_xdp_store_bytes(ctx, off, &b, 1) == 0)
				fault_count(FERRY_FAULT_CORRUPTED);
		}
	}
	return XDP_PASS;
}

static __always_inline int fault_tc(struct __sk_buff *skb, __u64 redir_flags)
{
	__u32 off = 0, plen = 0, mark;
	void *data, *end;
	__u8 b;

	if (skb->mark == FERRY_FAULT_DUP_MARK) {
		skb->mark = 0; /* our own clone: let it through once */
		return TC_ACT_OK;
	}
	fault_count(FERRY_FAULT_SEEN);
	/* Headers may sit in paged data; a test-only program can afford the pull. */
	bpf_skb_pull_data(skb, skb->len > 256 ? 256 : skb->len);
	data = (void *)(long)skb->data;
	end = (void *)(long)skb->data_end;
	if (!fault_match(data, end, skb->len, &off, &plen))
		return TC_ACT_OK;
	fault_count(FERRY_FAULT_MATCHED);
	if (fault_roll(fault_cfg.drop_pm)) {
		fault_count(FERRY_FAULT_DROPPED);
		return TC_ACT_SHOT;
	}
	if (plen && fault_roll(fault_cfg.corrupt_pm)) {
		off += bpf_get_prandom_u32() % plen;
		if (bpf_skb_load_bytes(skb, off, &b, 1) == 0) {
			b = ~b;
			/* flags 0: leave checksums alone; corruption is the point */
			if (bpf_skb_store_bytes(skb, off, &b, 1, 0) == 0)
				fault_count(FERRY_FAULT_CORRUPTED);
		}
	}
	if (fault_roll(fault_cfg.dup_pm)) {
		mark = skb->mark;
		skb->mark = FERRY_FAULT_DUP_MARK;
		if (bpf_clone_redirect(skb, skb->ifindex, redir_flags) == 0)
			fault_count(FERRY_FAULT_DUPLICATED);
		else
			fault_count(FERRY_FAULT_DUP_FAIL);
		skb->mark = mark;
	}
	return TC_ACT_OK;
}

SEC("tc")
int fault_tc_ingress(struct __sk_buff *skb)
{
	return fault_tc(skb, BPF_F_INGRESS);
}

SEC("tc")
int fault_tc_egress(struct __sk_buff *skb)
{
	return fault_tc(skb, 0);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
