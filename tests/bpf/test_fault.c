/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_fault - BPF_PROG_TEST_RUN checks of bpf/fault.bpf.c (the test-only
 * fault injector): rates of 0 and 1000 per mille give deterministic
 * verdicts; corruption flips exactly one byte, inside the UDP payload; the
 * port filter and non-UDP traffic are left alone; the TC programs drop and
 * corrupt the same way; a 50% rate drops about half.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <linux/in.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lib/test.h"
#include "ferry_abi.h"
#include "fault.skel.h"

#define PORT 7480
#define HDRS (14 + 20 + 8)

/* 2 bytes into an aligned buffer: the IP header is 4-aligned (UBSan). */
struct frame {
	_Alignas(8) uint8_t raw[258];
	uint8_t *b;      /* raw + 2 */
	uint32_t len;
};

static void frame_build(struct frame *f, uint8_t proto, uint16_t dport, uint32_t plen)
{
	struct ethhdr *eth;
	struct iphdr *ip;
	struct udphdr *udp;
	uint32_t i;

	memset(f, 0, sizeof(*f));
	f->b = f->raw + 2;
	eth = (struct ethhdr *)f->b;
	ip = (struct iphdr *)(eth + 1);
	udp = (struct udphdr *)(ip + 1);
	memcpy(eth->h_dest, "\x02\0\0\0\0\x01", 6);
	memcpy(eth->h_source, "\x02\0\0\0\0\x02", 6);
	eth->h_proto = htons(ETH_P_IP);
	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->protocol = proto;
	ip->tot_len = htons(20 + 8 + plen);
	ip->saddr = htonl(0x0a000002);
	ip->daddr = htonl(0x0a000001);
	udp->source = htons(40000);
	udp->dest = htons(dport);
	udp->len = htons(8 + plen);
	for (i = 0; i < plen; i++)
		f->b[HDRS + i] = (uint8_t)(i + 1);
	f->len = HDRS + plen;
}

static struct fault_bpf *load(uint16_t drop, uint16_t corrupt, uint16_t port)
{
	struct fault_bpf *skel = fault_bpf__open();

	REQUIRE(skel);
	skel->rodata->fault_cfg.port = port;
	skel->rodata->fault_cfg.drop_pm = drop;
	skel->rodata->fault_cfg.corrupt_pm = corrupt;
	if (fault_bpf__load(skel)) {
		if (errno == EPERM)
			test_skip("cannot load BPF programs (EPERM)");
		fprintf(stderr, "fault_bpf__load: %s\n", strerror(errno));
		exit(TEST_FAIL);
	}
	return skel;
}

/* run - one test run; returns the verdict, output copied into out. */
static int run(struct bpf_program *prog, const struct frame *in, struct frame *out)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in->b, .data_size_in = in->len,
		    .data_out = out->raw + 2, .data_size_out = sizeof(out->raw) - 2, .repeat = 1);

	out->b = out->raw + 2;

	if (bpf_prog_test_run_opts(bpf_program__fd(prog), &o)) {
		fprintf(stderr, "test run: %s\n", strerror(errno));
		return -1;
	}
	out->len = o.data_size_out;
	return (int)o.retval;
}

/* diffs - number of differing bytes; *where = offset of the last. */
static int diffs(const struct frame *a, const struct frame *b, uint32_t *where)
{
	int n = 0;
	uint32_t i;

	if (a->len != b->len)
		return -1;
	for (i = 0; i < a->len; i++)
		if (a->b[i] != b->b[i]) {
			n++;
			*where = i;
		}
	return n;
}

int main(void)
{
	struct frame in, out = { 0 };
	struct fault_bpf *skel;
	uint32_t where = 0;
	int i, drops;

	/* XDP: drop everything on the port, pass others */
	skel = load(1000, 0, PORT);
	frame_build(&in, IPPROTO_UDP, PORT, 100);
	CHECK_EQ(run(skel->progs.fault_xdp, &in, &out), XDP_DROP);
	frame_build(&in, IPPROTO_UDP, 53, 100);
	CHECK_EQ(run(skel->progs.fault_xdp, &in, &out), XDP_PASS);
	CHECK_EQ(diffs(&in, &out, &where), 0);
	frame_build(&in, IPPROTO_TCP, PORT, 100);
	CHECK_EQ(run(skel->progs.fault_xdp, &in, &out), XDP_PASS);
	/* TC: same decisions */
	frame_build(&in, IPPROTO_UDP, PORT, 100);
	CHECK_EQ(run(skel->progs.fault_tc_ingress, &in, &out), TC_ACT_SHOT);
	CHECK_EQ(run(skel->progs.fault_tc_egress, &in, &out), TC_ACT_SHOT);
	frame_build(&in, IPPROTO_UDP, 53, 100);
	CHECK_EQ(run(skel->progs.fault_tc_egress, &in, &out), TC_ACT_OK);
	fault_bpf__destroy(skel);

	/* corruption: exactly one byte, inside the UDP payload, every time */
	skel = load(0, 1000, 0);
	for (i = 0; i < 50; i++) {
		frame_build(&in, IPPROTO_UDP, 9999, 150);
		CHECK_EQ(run(skel->progs.fault_xdp, &in, &out), XDP_PASS);
		CHECK_EQ(diffs(&in, &out, &where), 1);
		CHECK(where >= HDRS && where < in.len);
		CHECK_EQ(run(skel->progs.fault_tc_ingress, &in, &out), TC_ACT_OK);
		CHECK_EQ(diffs(&in, &out, &where), 1);
		CHECK(where >= HDRS && where < in.len);
	}
	/* an empty UDP payload has nothing to corrupt */
	frame_build(&in, IPPROTO_UDP, 9999, 0);
	CHECK_EQ(run(skel->progs.fault_xdp, &in, &out), XDP_PASS);
	CHECK_EQ(diffs(&in, &out, &where), 0);
	fault_bpf__destroy(skel);

	/* a 50% rate drops about half (binomial, n = 2000: +-5 sigma ~ 112) */
	skel = load(500, 0, 0);
	frame_build(&in, IPPROTO_UDP, PORT, 10);
	drops = 0;
	for (i = 0; i < 2000; i++)
		drops += run(skel->progs.fault_xdp, &in, &out) == XDP_DROP;
	CHECK(drops > 880 && drops < 1120);
	fault_bpf__destroy(skel);

	/* nothing configured: nothing happens */
	skel = load(0, 0, 0);
	frame_build(&in, IPPROTO_UDP, PORT, 64);
	CHECK_EQ(run(skel->progs.fault_xdp, &in, &out), XDP_PASS);
	CHECK_EQ(diffs(&in, &out, &where), 0);
	fault_bpf__destroy(skel);
	return test_done();
}
