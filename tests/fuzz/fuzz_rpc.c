/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_rpc - the server's reassembly and session state under arbitrary
 * datagram sequences. The input is split into datagrams (2-byte length
 * prefixes); each is fixed up to pass wire_check (so the fuzzer explores the
 * state machine, not just the CRC), then fed to one server with a small
 * memory budget. Memory stays bounded and nothing crashes or leaks. Each
 * input runs twice: on a plain transport, and on one with the zero-copy
 * extensions (held RX buffers, lent TX frames), where afterwards every
 * buffer must be back with the transport, none returned twice.
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

/* The node's way: payload and answer as pieces. */
static void fuzz_handler_zc(void *arg, struct rpc_srv *srv, struct rpc_sreq *r)
{
	const struct ferry_hdr *h = rpc_sreq_hdr(r);
	uint32_t want = h->length % 20000, sum = 0;
	const struct iovec *in, *out;
	int n = 0;

	(void)arg;
	in = rpc_sreq_payload_iov(r, &n);
	for (int i = 0; in && i < n; i++)
		for (size_t k = 0; k < in[i].iov_len; k++)
			sum += ((const uint8_t *)in[i].iov_base)[k];
	if (h->op == FERRY_OP_STAT) {
		/* a handler that wants the payload whole after all (a spill) */
		uint32_t len;
		(void)rpc_sreq_payload(srv, r, &len);
	}
	out = want ? rpc_sreq_reply_iov(srv, r, want, &n) : NULL;
	for (int i = 0; out && i < n; i++)
		memset(out[i].iov_base, (int)(sum & 0xff), out[i].iov_len);
	rpc_sreq_reply(srv, r, 0, out ? want / (h->op == FERRY_OP_GET ? 1 : 2) : 0);
}

static void fuzz_run(const uint8_t *data, size_t size, int zc);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_run(data, size, 0);
	fuzz_run(data, size, 1);
	return 0;
}

static void fuzz_run(const uint8_t *data, size_t size, int zc)
{
	/* the link carries the largest datagram (the server's own sends stay
	 * within cfg.mtu) */
	struct memnet *m = memnet_open(FERRY_MAX_DATAGRAM, 1);
	struct rpc_cfg cfg;
	struct rpc_srv *srv;
	uint64_t now = 1000000000ull;

	if (!m)
		return;
	if (zc && simnet_zc(memnet_b(m), 48) < 0) {
		memnet_close(m);
		return;
	}
	rpc_cfg_default(&cfg);
	cfg.mem_budget = 1 << 20;
	cfg.max_reqs = 64;
	cfg.max_msg = 256 << 10;
	if (rpc_srv_open(&cfg, memnet_b(m), zc ? fuzz_handler_zc : fuzz_handler, NULL, &srv)) {
		memnet_close(m);
		return;
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
		if (zc) {
			/* through the transport, so a kept datagram's buffer lives on */
			struct iovec iov = { buf, len };
			memnet_a(m)->ops->tx(memnet_a(m), &memnet_b(m)->local, &iov, 1);
			if (memnet_b(m)->ops->rx_burst(memnet_b(m), &pkt, 1) != 1)
				continue;
		}
		pkt.peer = memnet_a(m)->local;
		pkt.peer.port = (uint16_t)(len & 3); /* a few distinct peers */
		if (!rpc_srv_input(srv, &pkt, now))
			memnet_b(m)->ops->rx_release(memnet_b(m), &pkt, 1);
		rpc_srv_flush(srv);
		now += 100000000ull; /* 100 ms per datagram: exercises the reaper */
		rpc_srv_tick(srv, now);
		/* drain what the server sent */
		struct net_pkt out[64];
		int nout;
		while ((nout = memnet_a(m)->ops->rx_burst(memnet_a(m), out, 64)) > 0)
			memnet_a(m)->ops->rx_release(memnet_a(m), out, nout);
	}
	rpc_srv_close(srv);
	if (zc) {
		struct simnet_zc_stats zs;

		simnet_zc_get_stats(memnet_b(m), &zs);
		if (zs.rx_out || zs.tx_lent || zs.bad_releases)
			abort(); /* a buffer leaked or went back twice */
	}
	memnet_close(m);
}
