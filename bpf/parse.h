/* SPDX-License-Identifier: Apache-2.0 */
/*
 * parse.h - bounds-checked packet parsers for Ferry's XDP/TC programs.
 *
 * Cursor style (as xdp-tools' parsing helpers): each parser takes the cursor
 * and the end of the linear data, checks bounds before every read, advances
 * the cursor past its header and returns the next protocol (host order) or
 * -1 when the header is truncated or malformed. Header pointers are returned
 * through out parameters so the caller can keep them.
 *
 * Only the linear part of an xdp.frags buffer is covered by data_end; all
 * headers Ferry needs (at most 14 + 8 + 60 + 8 + 112 bytes) sit there, and
 * lengths are checked against the packet's *total* length (the caller passes
 * bpf_xdp_get_buff_len()) where the payload may continue in fragments.
 */
#ifndef FERRY_PARSE_H
#define FERRY_PARSE_H

#include <linux/types.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

/* Little-endian wire fields (ferry_wire.h) to host order. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ferry_le16(x) (x)
#define ferry_le32(x) (x)
#define ferry_le64(x) (x)
#else
#define ferry_le16(x) __builtin_bswap16(x)
#define ferry_le32(x) __builtin_bswap32(x)
#define ferry_le64(x) __builtin_bswap64(x)
#endif

/* Hide a value from the optimiser (keeps scalar math scalar for the verifier). */
#define parse_barrier(x) asm volatile("" : "+r"(x))

#define PARSE_VLAN_MAX 2  /* 802.1Q and QinQ (802.1ad) */
#define PARSE_IPV6_EXT_MAX 3 /* extension headers skipped before giving up */

struct parse_cursor {
	void *pos; /* next unread byte */
};

struct parse_vlan_hdr {
	__be16 tci;
	__be16 proto;
};

static __always_inline int parse_is_vlan(__u16 h_proto)
{
	return h_proto == bpf_htons(ETH_P_8021Q) || h_proto == bpf_htons(ETH_P_8021AD);
}

/* parse_eth - Ethernet plus up to PARSE_VLAN_MAX VLAN tags.
 * Returns the inner ethertype (host order) or -1 if truncated. */
static __always_inline int parse_eth(struct parse_cursor *c, void *end, struct ethhdr **ethp)
{
	struct ethhdr *eth = c->pos;
	struct parse_vlan_hdr *vh;
	__u16 proto;
	int i;

	if ((void *)(eth + 1) > end)
		return -1;
	c->pos = eth + 1;
	*ethp = eth;
	proto = eth->h_proto;
#pragma unroll
	for (i = 0; i < PARSE_VLAN_MAX; i++) {
		if (!parse_is_vlan(proto))
			break;
		vh = c->pos;
		if ((void *)(vh + 1) > end)
			return -1;
		proto = vh->proto;
		c->pos = vh + 1;
	}
	return bpf_ntohs(proto);
}

/* Outcome of an IP parser besides the next protocol. */
#define PARSE_IP_OK       0
#define PARSE_IP_FRAG     1   /* first fragment of a fragmented datagram */
#define PARSE_IP_LATERFRAG 2  /* non-first fragment: no L4 header here */

/*
 * parse_ip4 - IPv4 header with options. pkt_len is the number of packet bytes
 * from the IPv4 header to the end of the whole packet (fragments included).
 * On success returns the L4 protocol and sets *l4_len (bytes of L4 per the IP
 * total length) and *frag (PARSE_IP_*). Returns -1 if truncated, version or
 * ihl wrong, or tot_len disagrees with the packet.
 */
static __always_inline int parse_ip4(struct parse_cursor *c, void *end, __u32 pkt_len,
				     struct iphdr **iphp, __u32 *l4_len, int *frag)
{
	struct iphdr *iph = c->pos;
	__u32 hlen, tot;
	__u16 fo;

	if ((void *)(iph + 1) > end)
		return -1;
	if (iph->version != 4 || iph->ihl < 5)
		return -1;
	hlen = iph->ihl * 4;
	if (c->pos + hlen > end)
		return -1;
	tot = bpf_ntohs(iph->tot_len);
	if (tot < hlen || tot > pkt_len)
		return -1;
	fo = bpf_ntohs(iph->frag_off);
	if (fo & 0x1fff)
		*frag = PARSE_IP_LATERFRAG;
	else if (fo & 0x2000) /* IP_MF */
		*frag = PARSE_IP_FRAG;
	else
		*frag = PARSE_IP_OK;
	c->pos += hlen;
	*iphp = iph;
	*l4_len = tot - hlen;
	return iph->protocol;
}

struct parse_ip6_frag {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off;
	__be32 id;
};

/*
 * parse_ip6 - IPv6 header plus up to PARSE_IPV6_EXT_MAX extension headers
 * (hop-by-hop, routing, destination options, fragment). Same contract as
 * parse_ip4. An unknown chain too long to walk returns -1.
 */
static __always_inline int parse_ip6(struct parse_cursor *c, void *end, __u32 pkt_len,
				     struct ipv6hdr **ip6p, __u32 *l4_len, int *frag)
{
	struct ipv6hdr *ip6 = c->pos;
	__u32 plen;
	__u8 nh;
	int i;

	if ((void *)(ip6 + 1) > end)
		return -1;
	if (ip6->version != 6)
		return -1;
	plen = bpf_ntohs(ip6->payload_len);
	if (plen + sizeof(*ip6) > pkt_len)
		return -1;
	c->pos = ip6 + 1;
	*ip6p = ip6;
	*frag = PARSE_IP_OK;
	nh = ip6->nexthdr;
#pragma unroll
	for (i = 0; i < PARSE_IPV6_EXT_MAX; i++) {
		if (nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING || nh == IPPROTO_DSTOPTS) {
			__u8 *eh = c->pos;
			__u32 elen;

			if ((void *)(eh + 2) > end)
				return -1;
			elen = (eh[1] + 1) * 8;
			if (elen > plen)
				return -1;
			if (c->pos + elen > end)
				return -1;
			nh = eh[0];
			plen -= elen;
			c->pos += elen;
		} else if (nh == IPPROTO_FRAGMENT) {
			struct parse_ip6_frag *fh = c->pos;

			if ((void *)(fh + 1) > end || plen < sizeof(*fh))
				return -1;
			if (bpf_ntohs(fh->frag_off) & 0xfff8)
				*frag = PARSE_IP_LATERFRAG;
			else if (bpf_ntohs(fh->frag_off) & 1)
				*frag = PARSE_IP_FRAG;
			nh = fh->nexthdr;
			plen -= sizeof(*fh);
			c->pos = fh + 1;
		} else {
			break;
		}
	}
	if (nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING || nh == IPPROTO_DSTOPTS ||
	    nh == IPPROTO_FRAGMENT)
		return -1;
	*l4_len = plen;
	return nh;
}

/*
 * parse_udp - UDP header. l4_len is the L4 length the IP layer promises.
 * Returns the destination port (host order) or -1 if the header is
 * truncated or its length field is < 8 or > l4_len. *payload_len gets the
 * UDP payload length per the UDP length field.
 */
static __always_inline int parse_udp(struct parse_cursor *c, void *end, __u32 l4_len,
				     struct udphdr **udpp, __u32 *payload_len)
{
	struct udphdr *udp = c->pos;
	__u32 ulen;

	if ((void *)(udp + 1) > end || l4_len < sizeof(*udp))
		return -1;
	ulen = bpf_ntohs(udp->len);
	if (ulen < sizeof(*udp) || ulen > l4_len)
		return -1;
	c->pos = udp + 1;
	*udpp = udp;
	*payload_len = ulen - sizeof(*udp);
	return bpf_ntohs(udp->dest);
}

#endif /* FERRY_PARSE_H */
