/* SPDX-License-Identifier: Apache-2.0 */
/*
 * frame.h - find the UDP payload and the sender in a received Ethernet frame.
 *
 * The AF_XDP transport receives whole frames. The steering program already
 * checked them, but userspace does not trust that: frame_parse checks every
 * length against the frame before it reads. Pure, fuzzed by
 * tests/fuzz/fuzz_frame.c.
 */
#ifndef FERRY_NET_FRAME_H
#define FERRY_NET_FRAME_H

#include <stdint.h>

#define FRAME_HDRS_LEN (14 + 20 + 8) /* Ethernet + IPv4 without options + UDP */

enum frame_verdict {
	FRAME_OK = 0,          /* an IPv4/UDP datagram */
	FRAME_UNSUPPORTED = 1, /* another ethertype (IPv6, VLAN): not served here */
	FRAME_BAD = 2,         /* truncated or inconsistent headers */
};

struct frame_info {
	uint32_t payload_off;  /* UDP payload offset in the frame */
	uint32_t payload_len;  /* UDP payload bytes */
	uint32_t src_ip;       /* IPv4 source, network byte order */
	uint16_t src_port;     /* UDP source port, network byte order */
	uint8_t src_mac[6];    /* Ethernet source */
};

/* frame_parse - Ethernet/IPv4/UDP of the len bytes at f. */
enum frame_verdict frame_parse(const uint8_t *f, uint32_t len, struct frame_info *out);

#endif
