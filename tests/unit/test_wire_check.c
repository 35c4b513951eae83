/* SPDX-License-Identifier: Apache-2.0 */
/* test_wire_check - wire_check accepts sealed datagrams and names every defect. */
#include <string.h>

#include "lib/test.h"
#include "net/wire.h"

static size_t make(uint8_t *buf, uint32_t payload_len, uint64_t cluster)
{
	struct ferry_hdr h;

	wire_hdr_init(&h, FERRY_OP_PUT);
	h.cluster = cluster;
	h.msg_len = payload_len + 1024;
	h.frag_off = 1024;
	h.frag_len = (uint16_t)payload_len;
	for (uint32_t i = 0; i < payload_len; i++)
		buf[sizeof(h) + i] = (uint8_t)i;
	wire_seal(&h, buf + sizeof(h), payload_len);
	memcpy(buf, &h, sizeof(h));
	return sizeof(h) + payload_len;
}

static enum wire_err check(const uint8_t *buf, size_t len, uint64_t cluster)
{
	struct ferry_hdr h;
	const uint8_t *p;

	return wire_check(buf, len, cluster, &h, &p);
}

/* Change a header field and reseal, so only that field's check can fail. */
static enum wire_err mutate(size_t off, uint8_t val, size_t len)
{
	uint8_t buf[4096];
	struct ferry_hdr h;

	make(buf, (uint32_t)(len - FERRY_HDR_LEN), 7);
	buf[off] = val;
	memcpy(&h, buf, sizeof(h));
	wire_seal(&h, buf + sizeof(h), h.frag_len > len - sizeof(h) ? 0 : h.frag_len);
	memcpy(buf, &h, sizeof(h));
	return check(buf, len, 7);
}

int main(void)
{
	uint8_t buf[4096];
	size_t len = make(buf, 1000, 7);

	CHECK_EQ(check(buf, len, 7), WIRE_OK);
	CHECK_EQ(check(buf, len, 0), WIRE_OK);
	CHECK_EQ(check(buf, len, 8), WIRE_ERR_CLUSTER);
	len = make(buf, 1000, 0);
	CHECK_EQ(check(buf, len, 8), WIRE_OK); /* a datagram naming no cluster */
	len = make(buf, 1000, 7);
	for (size_t n = 0; n < FERRY_HDR_LEN; n++)
		CHECK_EQ(check(buf, n, 7), WIRE_ERR_SHORT);
	CHECK_EQ(check(buf, len - 1, 7), WIRE_ERR_LENGTH);
	CHECK_EQ(mutate(0, 0x00, len), WIRE_ERR_MAGIC);
	CHECK_EQ(mutate(4, 2, len), WIRE_ERR_VERSION);
	CHECK_EQ(mutate(5, 0, len), WIRE_ERR_OP);
	CHECK_EQ(mutate(5, FERRY_OP_MAX, len), WIRE_ERR_OP);
	CHECK_EQ(mutate(6, 0x80, len), WIRE_ERR_FLAGS);
	CHECK_EQ(mutate(92, 1, len), WIRE_ERR_FLAGS);     /* reserved */
	CHECK_EQ(mutate(69, 0, len), WIRE_ERR_LENGTH);    /* msg_len < frag_off + frag_len */
	/* Corruption after sealing is caught by the CRCs. */
	buf[40] ^= 1;
	CHECK_EQ(check(buf, len, 7), WIRE_ERR_HDR_CRC);
	buf[40] ^= 1;
	buf[FERRY_HDR_LEN + 10] ^= 0x10;
	CHECK_EQ(check(buf, len, 7), WIRE_ERR_PAYLOAD_CRC);
	for (int e = 0; e < WIRE_ERR_MAX; e++)
		CHECK(strcmp(wire_err_name((enum wire_err)e), "unknown") != 0);
	CHECK_EQ(wire_frag_payload(1472), 1024);
	CHECK_EQ(wire_frag_payload(9000), FERRY_MAX_FRAG_PAYLOAD);
	CHECK_EQ(wire_frag_payload(100), FERRY_FRAG_ALIGN);
	return test_done();
}
