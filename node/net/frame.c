/* SPDX-License-Identifier: Apache-2.0 */
#include "net/frame.h"

#include <arpa/inet.h>
#include <string.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>

enum frame_verdict frame_parse(const uint8_t *f, uint32_t len, struct frame_info *out)
{
	struct ethhdr eth;
	struct iphdr ip;
	struct udphdr udp;
	uint32_t ihl, tot, ulen;

	if (len < FRAME_HDRS_LEN)
		return FRAME_BAD;
	memcpy(&eth, f, sizeof(eth)); /* frames need not be aligned for these structs */
	if (eth.h_proto != htons(ETH_P_IP))
		return FRAME_UNSUPPORTED;
	memcpy(&ip, f + sizeof(eth), sizeof(ip));
	ihl = ip.ihl * 4u;
	tot = ntohs(ip.tot_len);
	if (ip.version != 4 || ihl < sizeof(ip) || ip.protocol != IPPROTO_UDP ||
	    tot > len - sizeof(eth) || tot < ihl + sizeof(udp))
		return FRAME_BAD;
	memcpy(&udp, f + sizeof(eth) + ihl, sizeof(udp));
	ulen = ntohs(udp.len);
	if (ulen < sizeof(udp) || ulen > tot - ihl)
		return FRAME_BAD;
	out->payload_off = (uint32_t)sizeof(eth) + ihl + (uint32_t)sizeof(udp);
	out->payload_len = ulen - (uint32_t)sizeof(udp);
	out->src_ip = ip.saddr;
	out->src_port = udp.source;
	memcpy(out->src_mac, eth.h_source, 6);
	return FRAME_OK;
}
