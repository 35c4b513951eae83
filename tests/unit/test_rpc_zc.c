/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_rpc_zc - the lifetime rules of zero-copy answers (rpc.c "zero copy"):
 *   - while the handler has not answered (the disk is reading into the lent
 *     TX frames), no amount of idle time takes the frames away;
 *   - an answer whose client went quiet gives its frames back after
 *     RPC_ZC_IDLE_MS by copying itself out (zc_tx_spills), and a late retry
 *     still gets the right bytes;
 *   - held request fragments come back to the transport when the request is
 *     answered, and the request reaches the handler as pieces in order.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "lib/memnet.h"
#include "lib/test.h"
#include "net/rpc.h"

#define LEN (64u << 10)

struct pending {
	struct rpc_srv *srv;
	struct rpc_sreq *r;
	const struct iovec *iov;
	int iovcnt;
	int puts;
	uint32_t put_pieces;
	int put_ordered;
};

static uint8_t pat(uint32_t i)
{
	return (uint8_t)(i * 13u + 7u);
}

static void handler(void *arg, struct rpc_srv *srv, struct rpc_sreq *r)
{
	struct pending *p = arg;
	const struct ferry_hdr *h = rpc_sreq_hdr(r);

	if (h->op == FERRY_OP_PUT) {
		int cnt = 0;
		const struct iovec *iov = rpc_sreq_payload_iov(r, &cnt);
		uint32_t off = 0;

		p->put_ordered = iov != NULL;
		for (int i = 0; iov && i < cnt; i++)
			for (size_t k = 0; k < iov[i].iov_len; k++, off++)
				p->put_ordered &= ((uint8_t *)iov[i].iov_base)[k] == pat(off);
		p->put_ordered &= off == h->msg_len;
		p->put_pieces = (uint32_t)cnt;
		p->puts++;
		rpc_sreq_reply(srv, r, 0, 0);
		return;
	}
	/* GET: lend the frames, answer later (as the node does after its read) */
	p->srv = srv;
	p->r = r;
	p->iov = rpc_sreq_reply_iov(srv, r, h->length, &p->iovcnt);
}

static void pump(struct rpc_client *cl, struct rpc_srv *srv, struct transport *st, uint64_t now)
{
	struct net_pkt pk[64];
	int n, nrel = 0;

	rpc_client_poll(cl, 0);
	n = st->ops->rx_burst(st, pk, 64);
	for (int i = 0; i < n; i++)
		if (!rpc_srv_input(srv, &pk[i], now))
			pk[nrel++] = pk[i];
	st->ops->rx_release(st, pk, nrel);
	rpc_srv_flush(srv);
}

int main(void)
{
	struct memnet *m = memnet_open(1472, 7);
	struct memnet_faults quiet = { 1000, 0, 0, 0 }, clean = { 0, 0, 0, 0 };
	struct simnet_zc_stats zs;
	struct pending p = { 0 };
	struct rpc_client *cl;
	struct rpc_srv *srv;
	struct rpc_cfg cfg;
	struct rpc_call c;
	uint8_t *req = malloc(LEN), *resp = malloc(LEN);
	uint64_t now;
	int ok;

	REQUIRE(m && req && resp);
	REQUIRE(simnet_zc(memnet_b(m), 4096) == 0);
	rpc_cfg_default(&cfg);
	cfg.rto_ms = 2;
	REQUIRE(rpc_srv_open(&cfg, memnet_b(m), handler, &p, &srv) == 0);
	REQUIRE(rpc_client_open(&cfg, memnet_a(m), &cl) == 0);

	/* 1. A PUT reaches the handler as held pieces, in order; answered, the
	 * RX buffers are all back. */
	for (uint32_t i = 0; i < LEN; i++)
		req[i] = pat(i);
	memset(&c, 0, sizeof(c));
	c.peer = memnet_b(m)->local;
	c.op = FERRY_OP_PUT;
	c.req = req;
	c.req_len = LEN;
	c.length = LEN;
	REQUIRE(rpc_client_start(cl, &c) == 0);
	for (int i = 0; i < 10000 && rpc_client_inflight(cl); i++)
		pump(cl, srv, memnet_b(m), util_now_ns());
	CHECK_EQ(c.err, 0);
	CHECK_EQ(p.puts, 1);
	CHECK(p.put_ordered);
	CHECK_EQ(p.put_pieces, LEN / 1024);
	CHECK_EQ(rpc_srv_counters(srv)->zc_rx_bytes, LEN);
	simnet_zc_get_stats(memnet_b(m), &zs);
	CHECK_EQ(zs.rx_out, 0);

	/* 2. A GET whose handler has lent frames but not answered: ticks far in
	 * the future must not take the frames (the disk would write into
	 * frames already reused). */
	memset(&c, 0, sizeof(c));
	c.peer = memnet_b(m)->local;
	c.op = FERRY_OP_GET;
	c.length = LEN;
	c.resp = resp;
	c.resp_cap = LEN;
	REQUIRE(rpc_client_start(cl, &c) == 0);
	for (int i = 0; i < 1000 && !p.r; i++)
		pump(cl, srv, memnet_b(m), util_now_ns());
	REQUIRE(p.r && p.iov);
	CHECK_EQ(p.iovcnt, (int)(LEN / 1024));
	now = util_now_ns();
	rpc_srv_tick(srv, now + 10ull * 1000000000ull);
	simnet_zc_get_stats(memnet_b(m), &zs);
	CHECK_EQ(zs.tx_lent, LEN / 1024);
	CHECK_EQ(rpc_srv_counters(srv)->zc_tx_spills, 0);

	/* 3. Answer, but the client hears nothing (every datagram lost): the
	 * answer sits in its frames until RPC_ZC_IDLE_MS, then copies itself
	 * out and the frames go back. */
	for (int i = 0; i < p.iovcnt; i++)
		for (size_t k = 0; k < p.iov[i].iov_len; k++)
			((uint8_t *)p.iov[i].iov_base)[k] = pat((uint32_t)(i * 1024 + k) + 1);
	memnet_set_faults(m, &quiet);
	rpc_sreq_reply(p.srv, p.r, 0, LEN);
	rpc_srv_flush(srv);
	rpc_srv_tick(srv, util_now_ns() + 500ull * 1000000ull);
	simnet_zc_get_stats(memnet_b(m), &zs);
	CHECK_EQ(zs.tx_lent, LEN / 1024); /* not idle long enough yet */
	rpc_srv_tick(srv, util_now_ns() + 3ull * 1000000000ull);
	simnet_zc_get_stats(memnet_b(m), &zs);
	CHECK_EQ(zs.tx_lent, 0);
	CHECK_EQ(rpc_srv_counters(srv)->zc_tx_spills, 1);
	CHECK_EQ(rpc_srv_counters(srv)->payload_copied, LEN);

	/* 4. The network heals; the client's retries get the answer from the
	 * copy, byte for byte. */
	memnet_set_faults(m, &clean);
	for (int i = 0; i < 100000 && rpc_client_inflight(cl); i++)
		pump(cl, srv, memnet_b(m), util_now_ns());
	CHECK_EQ(c.err, 0);
	CHECK_EQ(c.resp_len, LEN);
	ok = 1;
	for (uint32_t i = 0; i < LEN; i++)
		ok &= resp[i] == pat(i + 1);
	CHECK(ok);

	rpc_client_close(cl);
	rpc_srv_close(srv);
	simnet_zc_get_stats(memnet_b(m), &zs);
	CHECK_EQ(zs.rx_out, 0);
	CHECK_EQ(zs.tx_lent, 0);
	CHECK_EQ(zs.bad_releases, 0);
	memnet_close(m);
	free(req);
	free(resp);
	return test_done();
}
