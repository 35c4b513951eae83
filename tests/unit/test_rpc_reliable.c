/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_rpc_reliable - requests and answers of every size complete with the
 * right bytes under loss, duplication, corruption and reordering, and each
 * request executes exactly once. The same again with the server on a
 * transport with the zero-copy extensions (held RX buffers, lent TX frames):
 * nothing is copied on a clean run, a small hold budget forces spills that
 * still deliver the right bytes, and no buffer leaks or is freed twice.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "lib/memnet.h"
#include "lib/test.h"
#include "net/rpc.h"

#define SLOTS 16

struct srv_state {
	uint8_t *data[SLOTS];  /* last PUT payload per chunk[0] */
	uint32_t len[SLOTS];
	uint32_t execs[SLOTS]; /* handler runs per chunk[0] */
	int zc;                /* handler uses the zero-copy calls */
};

static uint8_t pattern(uint32_t i, uint8_t seed)
{
	return (uint8_t)(i * 31u + seed);
}

static void handler(void *arg, struct rpc_srv *srv, struct rpc_sreq *r)
{
	struct srv_state *s = arg;
	const struct ferry_hdr *h = rpc_sreq_hdr(r);
	uint32_t len;
	unsigned slot = h->chunk[0] % SLOTS;

	s->execs[slot]++;
	if (h->op == FERRY_OP_PUT && s->zc) {
		/* as the node does: the pieces go to the "disk" as they are */
		int cnt = 0;
		const struct iovec *iov = rpc_sreq_payload_iov(r, &cnt);
		uint32_t off = 0;

		len = h->msg_len;
		free(s->data[slot]);
		s->data[slot] = len ? malloc(len) : NULL;
		for (int i = 0; iov && i < cnt; i++) {
			CHECK(off + iov[i].iov_len <= len);
			if (off + iov[i].iov_len > len)
				break;
			memcpy(s->data[slot] + off, iov[i].iov_base, iov[i].iov_len);
			off += (uint32_t)iov[i].iov_len;
		}
		CHECK_EQ(off, len);
		s->len[slot] = len;
		rpc_sreq_reply(srv, r, 0, 0);
	} else if (h->op == FERRY_OP_PUT) {
		uint8_t *p = rpc_sreq_payload(srv, r, &len);

		free(s->data[slot]);
		s->data[slot] = len ? malloc(len) : NULL;
		if (len)
			memcpy(s->data[slot], p, len);
		s->len[slot] = len;
		rpc_sreq_reply(srv, r, 0, 0);
	} else if (h->op == FERRY_OP_GET && s->zc) {
		int cnt = 0;
		const struct iovec *iov = h->length ? rpc_sreq_reply_iov(srv, r, h->length, &cnt) : NULL;
		uint32_t k = 0;

		for (int i = 0; iov && i < cnt; i++)
			for (size_t j = 0; j < iov[i].iov_len; j++, k++)
				((uint8_t *)iov[i].iov_base)[j] = pattern(k, h->chunk[1]);
		rpc_sreq_reply(srv, r, iov || !h->length ? 0 : -ENOMEM, iov ? h->length : 0);
	} else if (h->op == FERRY_OP_GET) {
		uint8_t *out = h->length ? rpc_sreq_reply_buf(srv, r, h->length) : NULL;
		for (uint32_t i = 0; i < h->length && out; i++)
			out[i] = pattern(i, h->chunk[1]);
		rpc_sreq_reply(srv, r, out || !h->length ? 0 : -ENOMEM, out ? h->length : 0);
	} else {
		rpc_sreq_reply(srv, r, -EOPNOTSUPP, 0);
	}
}

static void pump(struct rpc_client *cl, struct rpc_srv *srv, struct transport *st)
{
	struct net_pkt p[64];
	int n;

	rpc_client_poll(cl, 0);
	n = st->ops->rx_burst(st, p, 64);
	uint64_t now = util_now_ns();
	int nrel = 0;
	for (int i = 0; i < n; i++)
		if (!rpc_srv_input(srv, &p[i], now))
			p[nrel++] = p[i]; /* not kept by the server */
	st->ops->rx_release(st, p, nrel);
	rpc_srv_flush(srv);
	rpc_srv_tick(srv, now);
}

/* zc_hold: 0 = plain transport; else the server's RX hold budget */
static int run_profile(const char *name, const struct memnet_faults *f, uint64_t seed,
		       uint32_t zc_hold)
{
	static const uint32_t sizes[] = { 0, 1, 511, 512, 513, 4096, 100000, 1 << 20 };
	struct memnet *m = memnet_open(1472, seed);
	struct srv_state st = { 0 };
	struct rpc_cfg cfg;
	struct rpc_srv *srv;
	struct rpc_client *cl;
	struct rpc_call calls[ARRAY_SIZE(sizes) * 2];
	uint8_t *bufs[ARRAY_SIZE(sizes) * 2];
	int before = test_failures;

	REQUIRE(m);
	memnet_set_faults(m, f);
	if (zc_hold) {
		REQUIRE(simnet_zc(memnet_b(m), zc_hold) == 0);
		st.zc = 1;
	}
	rpc_cfg_default(&cfg);
	cfg.rto_ms = 2;
	cfg.timeout_ms = 60000;
	cfg.window = 64;
	REQUIRE(rpc_srv_open(&cfg, memnet_b(m), handler, &st, &srv) == 0);
	REQUIRE(rpc_client_open(&cfg, memnet_a(m), &cl) == 0);

	/* All PUTs and GETs in flight at once. */
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		struct rpc_call *c = &calls[2 * i];
		memset(c, 0, sizeof(*c));
		c->peer = memnet_b(m)->local;
		c->op = FERRY_OP_PUT;
		c->chunk[0] = (uint8_t)i;
		bufs[2 * i] = malloc(sizes[i] + 1);
		for (uint32_t k = 0; k < sizes[i]; k++)
			bufs[2 * i][k] = (uint8_t)(rand() & 0xff);
		c->req = bufs[2 * i];
		c->req_len = sizes[i];
		c->length = sizes[i];
		REQUIRE(rpc_client_start(cl, c) == 0);

		c = &calls[2 * i + 1];
		memset(c, 0, sizeof(*c));
		c->peer = memnet_b(m)->local;
		c->op = FERRY_OP_GET;
		c->chunk[0] = (uint8_t)(i + 8);
		c->chunk[1] = (uint8_t)(i * 7);
		c->length = sizes[i];
		bufs[2 * i + 1] = malloc(sizes[i] + 1);
		c->resp = bufs[2 * i + 1];
		c->resp_cap = sizes[i];
		REQUIRE(rpc_client_start(cl, c) == 0);
	}
	uint64_t deadline = util_now_ns() + 60ull * 1000000000ull;
	while (rpc_client_inflight(cl) && util_now_ns() < deadline)
		pump(cl, srv, memnet_b(m));
	CHECK_EQ(rpc_client_inflight(cl), 0);

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		struct rpc_call *put = &calls[2 * i], *get = &calls[2 * i + 1];
		CHECK_EQ(put->err, 0);
		CHECK_EQ(put->status, 0);
		CHECK_EQ(st.len[i], sizes[i]);
		CHECK(sizes[i] == 0 || (st.data[i] && memcmp(st.data[i], bufs[2 * i], sizes[i]) == 0));
		CHECK_EQ(st.execs[i], 1); /* exactly once, whatever was retried */
		CHECK_EQ(get->err, 0);
		CHECK_EQ(get->resp_len, sizes[i]);
		int ok = 1;
		for (uint32_t k = 0; k < get->resp_len; k++)
			ok &= bufs[2 * i + 1][k] == pattern(k, (uint8_t)(i * 7));
		CHECK(ok);
		/* A GET changes nothing, so its answer is forgotten at the final
		 * ACK and a late duplicate of it may run again: at least once. */
		CHECK(st.execs[i + 8] >= 1);
	}
	const struct rpc_counters *sc = rpc_srv_counters(srv);
	/* Answered requests are remembered for retries but hold no credits:
	 * once every final ACK is in, nothing is active and the full window is
	 * available again (a shrinking window starved big transfers before).
	 * Answers whose final ACK was lost, or re-run duplicates nobody waits
	 * for, go stale after 2 s and stop holding credits too. */
	for (int i = 0; i < 10; i++)
		pump(cl, srv, memnet_b(m));
	rpc_srv_tick(srv, util_now_ns() + 3000000000ull);
	CHECK_EQ(rpc_srv_active(srv), 0);
	if (f->drop_pm || f->corrupt_pm)
		CHECK(rpc_client_counters(cl)->retransmits > 0);
	if (f->corrupt_pm)
		CHECK(sc->drop[WIRE_ERR_HDR_CRC] + sc->drop[WIRE_ERR_PAYLOAD_CRC] +
		      sc->drop[WIRE_ERR_MAGIC] + sc->drop[WIRE_ERR_LENGTH] + sc->drop[WIRE_ERR_FLAGS] +
		      sc->drop[WIRE_ERR_OP] + sc->drop[WIRE_ERR_VERSION] +
		      rpc_client_counters(cl)->drop[WIRE_ERR_PAYLOAD_CRC] +
		      rpc_client_counters(cl)->drop[WIRE_ERR_HDR_CRC] > 0);
	if (f->dup_pm)
		CHECK(sc->dup_frags + rpc_client_counters(cl)->dup_frags > 0);
	if (zc_hold) {
		uint64_t put_bytes = 0, get_bytes = 0;

		for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
			put_bytes += sizes[i];
			get_bytes += sizes[i];
		}
		/* Every answer went out of lent frames, and with room to hold it
		 * every PUT byte was kept once and nothing was copied; a tight
		 * budget spills (copies) instead, with the same bytes delivered. */
		CHECK_EQ(sc->zc_tx_bytes, get_bytes);
		CHECK_EQ(sc->zc_tx_noframes, 0);
		if (zc_hold >= 4096) {
			CHECK_EQ(sc->zc_rx_bytes, put_bytes);
			CHECK_EQ(sc->zc_rx_spills, 0);
			/* an answer unacked for 2 s (a slow run at 20% loss) goes
			 * stale and is copied out of its frames; nothing else */
			if (!sc->zc_tx_spills)
				CHECK_EQ(sc->payload_copied, 0);
		} else {
			CHECK(sc->zc_rx_spills > 0);
			CHECK(sc->zc_rx_bytes < put_bytes);
		}
	}
	fprintf(stderr, "%-10s client retransmits %llu, server dups %llu, copied %llu, spills %llu/%llu\n",
		name, (unsigned long long)rpc_client_counters(cl)->retransmits,
		(unsigned long long)sc->dup_frags, (unsigned long long)sc->payload_copied,
		(unsigned long long)sc->zc_rx_spills, (unsigned long long)sc->zc_tx_spills);

	for (size_t i = 0; i < ARRAY_SIZE(bufs); i++)
		free(bufs[i]);
	for (int i = 0; i < SLOTS; i++)
		free(st.data[i]);
	rpc_client_close(cl);
	rpc_srv_close(srv);
	if (zc_hold) {
		struct simnet_zc_stats zs;

		simnet_zc_get_stats(memnet_b(m), &zs);
		CHECK_EQ(zs.rx_out, 0);   /* every held RX buffer given back */
		CHECK_EQ(zs.tx_lent, 0);  /* every lent frame returned */
		CHECK_EQ(zs.bad_releases, 0);
	}
	memnet_close(m);
	return test_failures == before;
}

int main(void)
{
	const struct { const char *name; struct memnet_faults f; } profiles[] = {
		{ "clean", { 0, 0, 0, 0 } },
		{ "loss5", { 50, 0, 0, 0 } },
		{ "loss20", { 200, 0, 0, 0 } },
		{ "dup", { 0, 100, 0, 0 } },
		{ "reorder", { 0, 0, 0, 300 } },
		{ "corrupt", { 0, 0, 20, 0 } },
		{ "mixed", { 50, 50, 10, 100 } },
	};

	srand(42);
	for (size_t i = 0; i < ARRAY_SIZE(profiles); i++)
		if (!run_profile(profiles[i].name, &profiles[i].f, 1000 + i, 0))
			fprintf(stderr, "profile %s failed\n", profiles[i].name);
	/* zero copy: a budget that holds everything, then one that cannot */
	for (size_t i = 0; i < ARRAY_SIZE(profiles); i++)
		if (!run_profile(profiles[i].name, &profiles[i].f, 2000 + i, 4096))
			fprintf(stderr, "zc profile %s failed\n", profiles[i].name);
	for (size_t i = 0; i < ARRAY_SIZE(profiles); i += 3)
		if (!run_profile(profiles[i].name, &profiles[i].f, 3000 + i, 16))
			fprintf(stderr, "zc-16 profile %s failed\n", profiles[i].name);
	return test_done();
}
