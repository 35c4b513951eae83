/* SPDX-License-Identifier: Apache-2.0 */
#include "net/wire.h"

#include <string.h>

#include "common/crc32c.h"

static const char *const wire_err_names[WIRE_ERR_MAX] = {
	[WIRE_OK] = "ok",
	[WIRE_ERR_SHORT] = "short",
	[WIRE_ERR_MAGIC] = "bad_magic",
	[WIRE_ERR_VERSION] = "bad_version",
	[WIRE_ERR_OP] = "bad_op",
	[WIRE_ERR_FLAGS] = "bad_flags",
	[WIRE_ERR_LENGTH] = "bad_length",
	[WIRE_ERR_CLUSTER] = "wrong_cluster",
	[WIRE_ERR_HDR_CRC] = "bad_hdr_crc",
	[WIRE_ERR_PAYLOAD_CRC] = "bad_payload_crc",
};

const char *wire_err_name(enum wire_err e)
{
	return (unsigned)e < WIRE_ERR_MAX ? wire_err_names[e] : "unknown";
}

static uint32_t wire_hdr_crc(const struct ferry_hdr *h)
{
	struct ferry_hdr tmp = *h;

	tmp.hdr_crc = 0;
	return crc32c(0, &tmp, sizeof(tmp));
}

enum wire_err wire_check(const void *buf, size_t len, uint64_t cluster, struct ferry_hdr *h,
			 const uint8_t **payload)
{
	const uint8_t *p = buf;

	if (len < FERRY_HDR_LEN)
		return WIRE_ERR_SHORT;
	memcpy(h, p, sizeof(*h)); /* the buffer may be unaligned */
	if (h->magic != FERRY_MAGIC)
		return WIRE_ERR_MAGIC;
	if (h->version != FERRY_VERSION)
		return WIRE_ERR_VERSION;
	if (h->op == FERRY_OP_NONE || h->op >= FERRY_OP_MAX)
		return WIRE_ERR_OP;
	if ((h->flags & ~FERRY_F_ALL) || h->reserved)
		return WIRE_ERR_FLAGS;
	if ((size_t)h->frag_len != len - FERRY_HDR_LEN || h->frag_len > FERRY_MAX_FRAG_PAYLOAD ||
	    (uint64_t)h->frag_off + h->frag_len > h->msg_len)
		return WIRE_ERR_LENGTH;
	if (cluster && h->cluster && h->cluster != cluster)
		return WIRE_ERR_CLUSTER;
	if (wire_hdr_crc(h) != h->hdr_crc)
		return WIRE_ERR_HDR_CRC;
	if (crc32c(0, p + FERRY_HDR_LEN, h->frag_len) != h->payload_crc)
		return WIRE_ERR_PAYLOAD_CRC;
	*payload = p + FERRY_HDR_LEN;
	return WIRE_OK;
}

void wire_hdr_init(struct ferry_hdr *h, uint8_t op)
{
	memset(h, 0, sizeof(*h));
	h->magic = FERRY_MAGIC;
	h->version = FERRY_VERSION;
	h->op = op;
}

void wire_seal(struct ferry_hdr *h, const void *payload, size_t n)
{
	h->payload_crc = n ? crc32c(0, payload, n) : 0;
	h->hdr_crc = wire_hdr_crc(h);
}

uint32_t wire_frag_payload(uint32_t max_udp_payload)
{
	uint32_t room = max_udp_payload > FERRY_HDR_LEN ? max_udp_payload - FERRY_HDR_LEN : 0;
	uint32_t n = room / FERRY_FRAG_ALIGN * FERRY_FRAG_ALIGN;

	if (n > FERRY_MAX_FRAG_PAYLOAD)
		n = FERRY_MAX_FRAG_PAYLOAD;
	if (n < FERRY_FRAG_ALIGN)
		n = FERRY_FRAG_ALIGN;
	return n;
}
