/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_steer - BPF_PROG_TEST_RUN table for bpf/steer.bpf.c.
 *
 * Each case: a packet built by pkt_build() from a small spec, the expected
 * XDP verdict and the counter that must have moved (besides RX). The program
 * is loaded with port 7480, redirect on, cluster CLUSTER; with nothing in
 * xsks_map a valid datagram must come back XDP_PASS + REDIRECT_FAIL. A
 * second load with redirect off checks the count-only path, and one with
 * port 0 checks that nothing is ever steered.
 *
 * FERRY_BENCH_REPEAT=N: also time a few packets with repeat=N and print
 * ns/packet (a microbenchmark, never a pass/fail criterion).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <linux/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lib/test.h"
#include "ferry_wire.h"
#include "ferry_abi.h"
#include "steer.skel.h"

#define PORT 7480
#define CLUSTER 0x1122334455667788ull

/* How to build one test packet. Zero means "the normal thing". */
struct spec {
	uint16_t ethertype;   /* 0 = IPv4 */
	int vlans;            /* VLAN tags to insert */
	uint8_t l4;           /* 0 = UDP */
	uint16_t dport;       /* 0 = PORT */
	int ihl;              /* 0 = 5; > 5 adds NOP options */
	uint16_t frag;        /* IPv4 frag_off field (host order) */
	int ip6_frag;         /* IPv6: 1 = first-fragment header, 2 = later fragment */
	int ip6_hbh;          /* IPv6: add a hop-by-hop options header */
	uint32_t plen;        /* Ferry payload bytes (frag_len) */
	int raw_udp;          /* UDP payload is plen junk bytes, no Ferry header */
	void (*mut)(struct ferry_hdr *h); /* tamper with the Ferry header */
	int udp_len_delta;    /* add to the UDP length field */
	int ip_len_delta;     /* add to IPv4 tot_len / IPv6 payload_len */
	int trunc;            /* cut the frame to this many bytes (0 = no) */
};

/* Frames start 2 bytes into an 8-aligned buffer so the IP header is
 * 4-aligned, as in a NIC buffer (UBSan checks the builder's accesses). */
struct pkt {
	_Alignas(8) uint8_t raw[8194];
	uint8_t *b;      /* raw + 2 */
	uint32_t len;
};

static uint16_t ip_csum(const void *p, size_t n)
{
	const uint16_t *w = p;
	uint32_t s = 0;

	for (; n > 1; n -= 2)
		s += *w++;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* pkt_build - Ethernet [VLAN] IPv4|IPv6 UDP|TCP|ICMP [Ferry header + payload]. */
static void pkt_build(const struct spec *s, struct pkt *p)
{
	uint16_t et = s->ethertype ? s->ethertype : ETH_P_IP;
	uint8_t l4 = s->l4 ? s->l4 : IPPROTO_UDP;
	uint8_t *b, *l3, *l4p;
	struct ethhdr *eth;
	uint32_t off, l4len, i;
	int v;

	memset(p, 0, sizeof(*p));
	p->b = b = p->raw + 2;
	eth = (struct ethhdr *)b;
	memcpy(eth->h_dest, "\x02\x00\x00\x00\x00\x01", 6);
	memcpy(eth->h_source, "\x02\x00\x00\x00\x00\x02", 6);
	off = 12;
	for (v = 0; v < s->vlans; v++) {
		uint16_t tpid = htons(v == 0 && s->vlans > 1 ? ETH_P_8021AD : ETH_P_8021Q);

		memcpy(b + off, &tpid, 2);
		b[off + 3] = 10 + v; /* VID */
		off += 4;
	}
	*(uint16_t *)(b + off) = htons(et);
	off += 2;
	l3 = b + off;

	if (et == ETH_P_ARP) {
		/* An ARP request's 28 bytes; content does not matter to steer. */
		l3[1] = 1; l3[2] = 8; l3[4] = 6; l3[5] = 4; l3[7] = 1;
		p->len = off + 28;
		goto out;
	}

	/* L4 payload first, so the lengths are known. */
	if (l4 == IPPROTO_UDP) {
		l4len = sizeof(struct udphdr) + (s->raw_udp ? s->plen : FERRY_HDR_LEN + s->plen);
	} else if (l4 == IPPROTO_TCP) {
		l4len = 20 + s->plen;
	} else {
		l4len = 8 + s->plen; /* ICMP echo */
	}

	if (et == ETH_P_IP) {
		struct iphdr *ip = (struct iphdr *)l3;
		int ihl = s->ihl ? s->ihl : 5;

		ip->version = 4;
		ip->ihl = ihl;
		ip->ttl = 64;
		ip->protocol = l4;
		ip->frag_off = htons(s->frag);
		ip->saddr = htonl(0x0a000002);
		ip->daddr = htonl(0x0a000001);
		ip->tot_len = htons(ihl * 4 + l4len + s->ip_len_delta);
		if (ihl > 5)
			memset(ip + 1, 1, (ihl - 5) * 4); /* IPOPT_NOOP */
		ip->check = ip_csum(ip, ihl > 5 ? ihl * 4 : 20);
		l4p = l3 + (ihl >= 5 ? ihl * 4 : 20);
	} else {
		struct ipv6hdr *ip6 = (struct ipv6hdr *)l3;
		uint8_t *nh = &ip6->nexthdr;
		uint32_t ext = 0;

		ip6->version = 6;
		ip6->hop_limit = 64;
		l3[8 + 15] = 2;
		l3[24 + 15] = 1;
		l4p = l3 + sizeof(*ip6);
		if (s->ip6_hbh) {
			*nh = IPPROTO_HOPOPTS;
			nh = l4p;
			l4p[1] = 0; /* 8 bytes */
			l4p[2] = 1; l4p[3] = 4; /* PadN */
			l4p += 8;
			ext += 8;
		}
		if (s->ip6_frag) {
			*nh = IPPROTO_FRAGMENT;
			nh = l4p;
			*(uint16_t *)(l4p + 2) = htons(s->ip6_frag == 1 ? 1 : (185 << 3));
			l4p += 8;
			ext += 8;
		}
		*nh = l4;
		ip6->payload_len = htons(ext + l4len + s->ip_len_delta);
	}

	if (l4 == IPPROTO_UDP) {
		struct udphdr *u = (struct udphdr *)l4p;
		uint8_t *pl = l4p + sizeof(*u);

		u->source = htons(40000);
		u->dest = htons(s->dport ? s->dport : PORT);
		u->len = htons(l4len + s->udp_len_delta);
		if (s->raw_udp) {
			for (i = 0; i < s->plen; i++)
				pl[i] = (uint8_t)i;
		} else {
			struct ferry_hdr h; /* aligned copy; the payload is only 4-aligned */

			memset(&h, 0, sizeof(h));
			h.magic = FERRY_MAGIC;
			h.version = FERRY_VERSION;
			h.op = FERRY_OP_PUT;
			h.flags = FERRY_F_LAST;
			h.session = 7;
			h.req_id = 1;
			h.cluster = CLUSTER;
			h.msg_len = s->plen;
			h.frag_len = (uint16_t)s->plen;
			for (i = 0; i < s->plen; i++)
				pl[FERRY_HDR_LEN + i] = (uint8_t)(i * 7);
			if (s->mut)
				s->mut(&h);
			memcpy(pl, &h, sizeof(h));
		}
	} else if (l4 == IPPROTO_TCP) {
		*(uint16_t *)(l4p + 2) = htons(s->dport ? s->dport : 80);
		l4p[12] = 5 << 4;
	} else {
		l4p[0] = 8; /* echo request */
	}
	p->len = (uint32_t)(l4p - b) + l4len;
out:
	if (s->trunc && (uint32_t)s->trunc < p->len)
		p->len = s->trunc;
}

/* Ferry header tampering. */
static void m_magic(struct ferry_hdr *h) { h->magic ^= 1; }
static void m_version(struct ferry_hdr *h) { h->version = 2; }
static void m_op(struct ferry_hdr *h) { h->op = FERRY_OP_MAX; }
static void m_op_big(struct ferry_hdr *h) { h->op = 0xff; }
static void m_flags(struct ferry_hdr *h) { h->flags |= 0x8000; }
static void m_reserved(struct ferry_hdr *h) { h->reserved = 1; }
static void m_fraglen(struct ferry_hdr *h) { h->frag_len += 1; }
static void m_msglen(struct ferry_hdr *h) { h->msg_len = h->frag_len - 1; }
static void m_fragoff(struct ferry_hdr *h) { h->frag_off = 0xffffffffu; h->msg_len = 0xffffffffu; }
static void m_cluster(struct ferry_hdr *h) { h->cluster = CLUSTER + 1; }
static void m_cluster0(struct ferry_hdr *h) { h->cluster = 0; }
static void m_ack(struct ferry_hdr *h) { h->op = FERRY_OP_ACK; h->flags = FERRY_F_RESP; }
static void m_midfrag(struct ferry_hdr *h) { h->msg_len = 3 * h->frag_len; h->frag_off = h->frag_len; }
static void m_resp(struct ferry_hdr *h) { h->flags = FERRY_F_ALL; h->status = -2; }

struct tcase {
	const char *desc;
	struct spec s;
	int verdict;
	int ctr;      /* counter that must be 1 (besides RX and the verdict's) */
};

#define ETHL 14
#define IP4L 20
#define UDPL 8

static const struct tcase cases[] = {
	/* not ours: pass */
	{ "ARP request", { .ethertype = ETH_P_ARP }, XDP_PASS, FERRY_CTR_PASS },
	{ "ICMP echo", { .l4 = IPPROTO_ICMP, .plen = 56 }, XDP_PASS, FERRY_CTR_PASS },
	{ "TCP to 7480", { .l4 = IPPROTO_TCP, .dport = PORT }, XDP_PASS, FERRY_CTR_PASS },
	{ "UDP other port", { .dport = 53, .raw_udp = 1, .plen = 40 }, XDP_PASS, FERRY_CTR_PASS },
	{ "IPv6 UDP other port", { .ethertype = ETH_P_IPV6, .dport = 53, .raw_udp = 1, .plen = 4 },
	  XDP_PASS, FERRY_CTR_PASS },
	{ "IPv6 ICMPv6", { .ethertype = ETH_P_IPV6, .l4 = IPPROTO_ICMPV6 }, XDP_PASS, FERRY_CTR_PASS },
	{ "IPv4 later fragment", { .frag = 100 }, XDP_PASS, FERRY_CTR_PASS },
	{ "IPv6 later fragment", { .ethertype = ETH_P_IPV6, .ip6_frag = 2 }, XDP_PASS, FERRY_CTR_PASS },
	/* short at every layer */
	/* (BPF_PROG_TEST_RUN refuses frames shorter than an Ethernet header, so
	 * the shortest runt tested is a cut VLAN tag.) */
	{ "Ethernet header only", { .trunc = ETHL }, XDP_DROP, FERRY_DROP_IP },
	{ "runt: VLAN tag cut", { .vlans = 1, .trunc = 15 }, XDP_PASS, FERRY_CTR_PASS },
	{ "IPv4 header cut", { .trunc = ETHL + 12 }, XDP_DROP, FERRY_DROP_IP },
	{ "IPv4 options cut", { .ihl = 8, .trunc = ETHL + 24 }, XDP_DROP, FERRY_DROP_IP },
	{ "IPv6 header cut", { .ethertype = ETH_P_IPV6, .trunc = ETHL + 30 }, XDP_DROP, FERRY_DROP_IP },
	{ "UDP header cut", { .trunc = ETHL + IP4L + 4, .ip_len_delta = -(UDPL + FERRY_HDR_LEN) + 4 },
	  XDP_DROP, FERRY_DROP_UDP },
	{ "Ferry header cut", { .trunc = ETHL + IP4L + UDPL + 50 }, XDP_DROP, FERRY_DROP_IP },
	{ "Ferry header short (consistent lengths)", { .raw_udp = 1, .plen = 100 }, XDP_DROP,
	  FERRY_DROP_SHORT },
	{ "UDP empty to port", { .raw_udp = 1, .plen = 0 }, XDP_DROP, FERRY_DROP_SHORT },
	/* IP malformed */
	{ "IPv4 ihl 4", { .ihl = 4 }, XDP_DROP, FERRY_DROP_IP },
	{ "IPv4 tot_len > frame", { .ip_len_delta = 1 }, XDP_DROP, FERRY_DROP_IP },
	{ "IPv4 tot_len < ihl", { .ip_len_delta = -(UDPL + FERRY_HDR_LEN) - 1 }, XDP_DROP, FERRY_DROP_IP },
	{ "IPv4 first fragment to port", { .frag = 0x2000 }, XDP_DROP, FERRY_DROP_IP },
	{ "IPv6 first fragment to port", { .ethertype = ETH_P_IPV6, .ip6_frag = 1 }, XDP_DROP,
	  FERRY_DROP_IP },
	{ "IPv6 payload_len > frame", { .ethertype = ETH_P_IPV6, .ip_len_delta = 1 }, XDP_DROP,
	  FERRY_DROP_IP },
	/* UDP malformed */
	{ "UDP len > IP payload", { .udp_len_delta = 1 }, XDP_DROP, FERRY_DROP_UDP },
	{ "UDP len < 8", { .udp_len_delta = -(UDPL + FERRY_HDR_LEN) - 1 }, XDP_DROP, FERRY_DROP_UDP },
	{ "UDP len 1 short of payload", { .plen = 64, .udp_len_delta = -1 }, XDP_DROP, FERRY_DROP_LENGTH },
	/* Ferry header checks, one drop reason each */
	{ "bad magic", { .mut = m_magic }, XDP_DROP, FERRY_DROP_MAGIC },
	{ "bad version", { .mut = m_version }, XDP_DROP, FERRY_DROP_VERSION },
	{ "op == FERRY_OP_MAX", { .mut = m_op }, XDP_DROP, FERRY_DROP_OP },
	{ "op 255", { .mut = m_op_big }, XDP_DROP, FERRY_DROP_OP },
	{ "undefined flag", { .mut = m_flags }, XDP_DROP, FERRY_DROP_FLAGS },
	{ "reserved != 0", { .mut = m_reserved }, XDP_DROP, FERRY_DROP_RESERVED },
	{ "frag_len != payload", { .plen = 100, .mut = m_fraglen }, XDP_DROP, FERRY_DROP_LENGTH },
	{ "frag_len > max", { .plen = FERRY_MAX_FRAG_PAYLOAD + 512 }, XDP_DROP, FERRY_DROP_LENGTH },
	{ "frag beyond msg_len", { .plen = 100, .mut = m_msglen }, XDP_DROP, FERRY_DROP_LENGTH },
	{ "frag_off + frag_len wraps", { .plen = 100, .mut = m_fragoff }, XDP_DROP, FERRY_DROP_LENGTH },
	{ "foreign cluster", { .mut = m_cluster }, XDP_DROP, FERRY_DROP_CLUSTER },
	/* valid: steered, but no socket in xsks_map -> pass + REDIRECT_FAIL */
	{ "valid PUT, no payload", { 0 }, XDP_PASS, FERRY_CTR_REDIRECT_FAIL },
	{ "valid PUT 1 byte", { .plen = 1 }, XDP_PASS, FERRY_CTR_REDIRECT_FAIL },
	{ "valid PUT max fragment", { .plen = FERRY_MAX_FRAG_PAYLOAD }, XDP_PASS, FERRY_CTR_REDIRECT_FAIL },
	{ "valid middle fragment", { .plen = 512, .mut = m_midfrag }, XDP_PASS, FERRY_CTR_REDIRECT_FAIL },
	{ "valid ACK response", { .mut = m_ack }, XDP_PASS, FERRY_CTR_REDIRECT_FAIL },
	{ "valid all flags", { .mut = m_resp }, XDP_PASS, FERRY_CTR_REDIRECT_FAIL },
	{ "valid cluster 0 (any)", { .mut = m_cluster0 }, XDP_PASS, FERRY_CTR_REDIRECT_FAIL },
	{ "valid with IPv4 options", { .ihl = 15, .plen = 64 }, XDP_PASS, FERRY_CTR_REDIRECT_FAIL },
	{ "valid with one VLAN", { .vlans = 1, .plen = 64 }, XDP_PASS, FERRY_CTR_REDIRECT_FAIL },
	{ "valid with QinQ", { .vlans = 2, .plen = 64 }, XDP_PASS, FERRY_CTR_REDIRECT_FAIL },
	{ "valid IPv6", { .ethertype = ETH_P_IPV6, .plen = 1024 }, XDP_PASS, FERRY_CTR_REDIRECT_FAIL },
	{ "valid IPv6 + hop-by-hop", { .ethertype = ETH_P_IPV6, .ip6_hbh = 1, .plen = 8 }, XDP_PASS,
	  FERRY_CTR_REDIRECT_FAIL },
	{ "valid with Ethernet padding", { .plen = 0, .trunc = 0 }, XDP_PASS, FERRY_CTR_REDIRECT_FAIL },
};

static int ncpus;

static void ctr_read(int map_fd, uint64_t out[FERRY_CTR_MAX])
{
	uint64_t v[ncpus];
	uint32_t k;
	int c;

	for (k = 0; k < FERRY_CTR_MAX; k++) {
		out[k] = 0;
		if (bpf_map_lookup_elem(map_fd, &k, v) == 0)
			for (c = 0; c < ncpus; c++)
				out[k] += v[c];
	}
}

static void ctr_zero(int map_fd)
{
	uint64_t v[ncpus];
	uint32_t k;

	memset(v, 0, sizeof(v));
	for (k = 0; k < FERRY_CTR_MAX; k++)
		bpf_map_update_elem(map_fd, &k, v, BPF_ANY);
}

static struct steer_bpf *load(uint16_t port, uint8_t redirect, uint64_t cluster)
{
	struct steer_bpf *skel = steer_bpf__open();

	REQUIRE(skel);
	skel->rodata->steer_cfg.port = port;
	skel->rodata->steer_cfg.redirect = redirect;
	skel->rodata->steer_cfg.cluster = cluster;
	if (steer_bpf__load(skel)) {
		if (errno == EPERM)
			test_skip("cannot load BPF programs (EPERM)");
		fprintf(stderr, "steer_bpf__load: %s\n", strerror(errno));
		exit(TEST_FAIL);
	}
	return skel;
}

/* run_one - run p once; returns the verdict or -1. */
static int run_one(int prog_fd, struct pkt *p, int repeat, uint32_t *ns)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = p->b, .data_size_in = p->len,
		    .repeat = repeat);

	if (bpf_prog_test_run_opts(prog_fd, &o))
		return -1;
	if (ns)
		*ns = o.duration;
	return (int)o.retval;
}

/* expect - one packet, its verdict, and exactly the counters it should move. */
static void expect(struct steer_bpf *skel, const char *desc, const struct spec *s, int verdict,
		   int ctr)
{
	int mfd = bpf_map__fd(skel->maps.counters);
	int pfd = bpf_program__fd(skel->progs.ferry_steer);
	uint64_t c[FERRY_CTR_MAX];
	static struct pkt p;
	int ret, fails = test_failures;
	uint64_t verdicts;

	pkt_build(s, &p);
	if (strstr(desc, "padding"))
		p.len += 20; /* bytes after tot_len, like a NIC's minimum-frame padding */
	ctr_zero(mfd);
	ret = run_one(pfd, &p, 1, NULL);
	ctr_read(mfd, c);
	CHECK_EQ(ret, verdict);
	CHECK_EQ(c[FERRY_CTR_RX], 1);
	CHECK_EQ(c[ctr], 1);
	verdicts = c[FERRY_CTR_PASS] + c[FERRY_CTR_REDIRECT] + c[FERRY_CTR_DROP];
	CHECK_EQ(verdicts, 1);
	if (verdict == XDP_DROP) {
		uint64_t reasons = 0;
		int k;

		CHECK_EQ(c[FERRY_CTR_DROP], 1);
		for (k = FERRY_DROP_SHORT; k < FERRY_CTR_MAX; k++)
			reasons += c[k];
		CHECK_EQ(reasons, 1);
		CHECK_EQ(c[FERRY_CTR_FERRY], 0);
	}
	if (ctr == FERRY_CTR_REDIRECT_FAIL)
		CHECK_EQ(c[FERRY_CTR_FERRY], 1);
	if (test_failures != fails)
		fprintf(stderr, "  ^ case \"%s\" (len %u, verdict %d)\n", desc, p.len, ret);
}

static void bench(struct steer_bpf *skel, int repeat)
{
	static const struct { const char *name; struct spec s; } b[] = {
		{ "valid PUT 64 B -> redirect attempt", { .plen = 64 } },
		{ "valid PUT 3584 B", { .plen = FERRY_MAX_FRAG_PAYLOAD } },
		{ "ARP -> pass", { .ethertype = ETH_P_ARP } },
		{ "bad magic -> drop", { .mut = m_magic } },
		{ "UDP other port -> pass", { .dport = 53, .raw_udp = 1, .plen = 40 } },
	};
	static struct pkt p;
	uint32_t ns;
	size_t i;

	for (i = 0; i < sizeof(b) / sizeof(b[0]); i++) {
		pkt_build(&b[i].s, &p);
		if (run_one(bpf_program__fd(skel->progs.ferry_steer), &p, repeat, &ns) < 0) {
			fprintf(stderr, "bench: test run failed: %s\n", strerror(errno));
			test_failures++;
			continue;
		}
		printf("bench steer: %-36s %4u ns/packet (repeat=%d)\n", b[i].name, ns, repeat);
	}
}

int main(void)
{
	struct steer_bpf *skel;
	struct spec s0 = { 0 };
	const char *rep = getenv("FERRY_BENCH_REPEAT");
	size_t i;

	ncpus = libbpf_num_possible_cpus();
	REQUIRE(ncpus > 0);

	/* loads and passes the verifier */
	skel = load(PORT, 1, CLUSTER);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect(skel, cases[i].desc, &cases[i].s, cases[i].verdict, cases[i].ctr);
	if (rep && atoi(rep) > 0)
		bench(skel, atoi(rep));
	steer_bpf__destroy(skel);

	/* count-only: valid datagrams are counted and passed, bad ones still dropped */
	skel = load(PORT, 0, 0);
	expect(skel, "redirect off: valid", &s0, XDP_PASS, FERRY_CTR_FERRY);
	{
		struct spec s = { .mut = m_cluster };

		expect(skel, "cluster 0 in cfg accepts any", &s, XDP_PASS, FERRY_CTR_FERRY);
		s.mut = m_magic;
		expect(skel, "redirect off: bad magic", &s, XDP_DROP, FERRY_DROP_MAGIC);
	}
	steer_bpf__destroy(skel);

	/* port 0: pure counting, every UDP datagram passes */
	skel = load(0, 1, 0);
	{
		struct spec s = { .mut = m_magic };

		expect(skel, "port 0: bad magic passes", &s, XDP_PASS, FERRY_CTR_PASS);
	}
	steer_bpf__destroy(skel);
	return test_done();
}
