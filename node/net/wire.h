/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wire.h - encode and check Ferry datagrams (see bpf/ferry_wire.h).
 *
 * wire_check is the one parser of datagrams from the network in userspace:
 * both transports and both ends run every received datagram through it
 * before looking at any field. It is pure (no state), fuzzed by
 * tests/fuzz/fuzz_wire.c.
 */
#ifndef FERRY_NET_WIRE_H
#define FERRY_NET_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "ferry_wire.h"

/* Why a datagram was rejected; each is a node counter. */
enum wire_err {
	WIRE_OK = 0,
	WIRE_ERR_SHORT = 1,       /* shorter than the header */
	WIRE_ERR_MAGIC = 2,       /* wrong magic */
	WIRE_ERR_VERSION = 3,     /* unsupported version */
	WIRE_ERR_OP = 4,          /* unknown op */
	WIRE_ERR_FLAGS = 5,       /* undefined flags or reserved bits set */
	WIRE_ERR_LENGTH = 6,      /* frag_len/frag_off/msg_len disagree with the datagram */
	WIRE_ERR_CLUSTER = 7,     /* another cluster's datagram */
	WIRE_ERR_HDR_CRC = 8,     /* header checksum mismatch */
	WIRE_ERR_PAYLOAD_CRC = 9, /* payload checksum mismatch */
	WIRE_ERR_MAX
};

/* wire_err_name - short stable name, e.g. "bad_magic" (counter names). */
const char *wire_err_name(enum wire_err e);

/*
 * wire_check - validate one UDP payload of len bytes.
 * cluster: this end's cluster id; a datagram naming another cluster is
 * rejected (one naming none, 0, is accepted: tools that have no map yet).
 * 0 here accepts every cluster. On success copies the
 * header to *h, points *payload at the fragment bytes and returns WIRE_OK;
 * otherwise returns the enum wire_err (positive) and *h is undefined.
 */
enum wire_err wire_check(const void *buf, size_t len, uint64_t cluster, struct ferry_hdr *h,
			 const uint8_t **payload);

/* wire_hdr_init - zero h and fill magic/version/op. */
void wire_hdr_init(struct ferry_hdr *h, uint8_t op);

/* wire_seal - compute payload_crc over the fragment (payload, n bytes) and
 * then hdr_crc; call last, after every other field is final. */
void wire_seal(struct ferry_hdr *h, const void *payload, size_t n);

/* wire_frag_payload - largest fragment payload for a path that carries
 * UDP payloads of up to max_udp_payload bytes: a multiple of
 * FERRY_FRAG_ALIGN, at most FERRY_MAX_FRAG_PAYLOAD, at least 512. */
uint32_t wire_frag_payload(uint32_t max_udp_payload);

#endif
