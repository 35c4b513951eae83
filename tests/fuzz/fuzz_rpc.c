/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_rpc - the server's reassembly and session state under arbitrary
 * datagram sequences. The input is split into datagrams (2-byte length
 * prefixes); each is fixed up to pass wire_check (so the fuzzer explores the
 * state machine, not just the CRC), then fed to one server with a small
 * memory budget. Memory stays bounded and nothing crashes or leaks.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/memnet.h"
#include "net/rpc.h"
#include "net/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_handler(void *arg, struct rpc_srv *srv, struct rpc_sreq *r)
{
	const struct ferry_hdr *h = rpc_sreq_hdr(r);
	uint32_t want = h->length % 20000;
	uint8_t *out = want ? rpc_sreq_reply_buf(srv, r, want) : NULL;

	(void)arg;
	if (out)
		memset(out, 0xab, want);
	rpc_sreq_reply(srv, r, 0, out ? want : 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct memnet *m = memnet_open(1472, 1);
	struct rpc_cfg cfg;
	struct rpc_srv *srv;
	uint64_t now = 1000000000ull;

	if (!m)
		return 0;
	rpc_cfg_default(&cfg);
	cfg.mem_budget = 1 << 20;
	cfg.max_reqs = 64;
	cfg.max_msg = 256 << 10;
	if (rpc_srv_open(&cfg, memnet_b(m), fuzz_handler, NULL, &srv)) {
		memnet_close(m);
		return 0;
	}
	while (size >= 2) {
		size_t len = (size_t)data[0] | (size_t)(data[1] & 0x0f) << 8;
		uint8_t buf[FERRY_MAX_DATAGRAM];
		struct net_pkt pkt = { 0 };

		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		if (len > sizeof(buf))
			len = sizeof(buf);
		memcpy(buf, data, len);
		data += len;
		size -= len;
		if (len >= FERRY_HDR_LEN) {
			struct ferry_hdr h;
			memcpy(&h, buf, sizeof(h));
			h.magic = FERRY_MAGIC;
			h.version = FERRY_VERSION;
			h.frag_len = (uint16_t)(len - FERRY_HDR_LEN);
			h.flags &= FERRY_F_ALL;
			h.reserved = 0;
			h.op = (uint8_t)(h.op % (FERRY_OP_MAX - 1) + 1);
			h.msg_len %= 1u << 19;
			h.frag_off %= 1u << 19;
			wire_seal(&h, buf + FERRY_HDR_LEN, h.frag_len);
			memcpy(buf, &h, sizeof(h));
		}
		pkt.data = buf;
		pkt.len = (uint32_t)len;
		pkt.peer = memnet_a(m)->local;
		pkt.peer.port = (uint16_t)(len & 3); /* a few distinct peers */
		rpc_srv_input(srv, &pkt, now);
		rpc_srv_flush(srv);
		now += 100000000ull; /* 100 ms per datagram: exercises the reaper */
		rpc_srv_tick(srv, now);
		/* drain what the server sent so the memnet queue never fills */
		struct net_pkt out[64];
		while (memnet_a(m)->ops->rx_burst(memnet_a(m), out, 64) > 0)
			;
	}
	rpc_srv_close(srv);
	memnet_close(m);
	return 0;
}
