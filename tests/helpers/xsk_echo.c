/* SPDX-License-Identifier: Apache-2.0 */
/*
 * xsk_echo - echo server over the AF_XDP transport, driven by
 * tests/integ/xdp_*.sh.
 *
 *   xsk_echo IFACE IPV4 PORT [copy|zerocopy|auto] [native|generic] [HELLO]
 *
 * Opens xsk_transport on IFACE queue 0 with IPV4:PORT as the node address
 * and sends every received datagram back to its sender unchanged (through
 * tx/tx_flush, so headers, checksum and neighbour code all run). Prints
 * "ready" once bound, the transport stats on SIGUSR1 and at exit
 * (SIGINT/SIGTERM). HELLO is a comma-separated list of IPV4:PORT peers the
 * server sends "hello N" datagrams to, 20 times 100 ms apart, before any
 * traffic arrives from them: node-initiated sends, which must resolve the
 * next hop through the kernel (route + neighbour table). It is a helper,
 * not a test: the runner never starts it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/test.h"
#include "net/xsk.h"

static volatile sig_atomic_t echo_stop, echo_dump;

static void echo_sig(int sig)
{
	if (sig == SIGUSR1)
		echo_dump = 1;
	else
		echo_stop = 1;
}

#define ECHO_HELLO_MAX 4

static uint64_t echo_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* echo_parse_hello - "IP:PORT,IP:PORT" into to[]; returns the count. */
static int echo_parse_hello(char *list, struct net_addr *to)
{
	char *tok, *save = NULL, *colon;
	int n = 0;

	for (tok = strtok_r(list, ",", &save); tok && n < ECHO_HELLO_MAX;
	     tok = strtok_r(NULL, ",", &save)) {
		colon = strchr(tok, ':');
		if (!colon)
			continue;
		*colon = 0;
		memset(&to[n], 0, sizeof(to[n]));
		to[n].family = AF_INET;
		to[n].port = htons((uint16_t)atoi(colon + 1));
		if (inet_pton(AF_INET, tok, to[n].ip) == 1)
			n++;
	}
	return n;
}

static void echo_print_stats(struct transport *t)
{
	static char buf[8192];
	size_t n = t->ops->stats(t, buf, sizeof(buf));

	fwrite(buf, 1, n, stdout);
	printf("--\n");
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct xsk_transport_cfg cfg = { 0 };
	struct transport *t;
	struct net_pkt pkts[64];
	struct sigaction sa;
	struct net_addr hello[ECHO_HELLO_MAX];
	int nhello = 0, hello_sent = 0;
	uint64_t hello_next = 0;
	char hello_buf[32];
	struct pollfd pfd;
	int n, i, err;

	if (argc < 4)
		test_skip("usage: xsk_echo IFACE IPV4 PORT [mode] (a helper for tests/integ/xdp_*.sh)");
	cfg.ifname = argv[1];
	cfg.local.family = AF_INET;
	if (inet_pton(AF_INET, argv[2], cfg.local.ip) != 1) {
		fprintf(stderr, "bad address %s\n", argv[2]);
		return TEST_FAIL;
	}
	cfg.local.port = htons((uint16_t)atoi(argv[3]));
	if (argc > 4)
		cfg.bind_mode = xsk_bind_mode_parse(argv[4]);
	if (argc > 5)
		cfg.xdp_mode = xdp_link_mode_parse(argv[5]);
	if (argc > 6)
		nhello = echo_parse_hello(argv[6], hello);
	cfg.max_peers = 1;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = echo_sig;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);

	err = xsk_transport_open(&cfg, &t);
	if (err) {
		fprintf(stderr, "xsk_transport_open: %s\n", strerror(-err));
		return err == -EPERM ? TEST_SKIP : TEST_FAIL;
	}
	{
		void *base;
		size_t len;

		if (xsk_transport_umem(t, &base, &len) || ((uintptr_t)base & 4095) ||
		    len != (size_t)XSK_FRAMES * XSK_FRAME_SIZE) {
			fprintf(stderr, "xsk_transport_umem: bad area\n");
			return TEST_FAIL;
		}
	}
	printf("ready max_payload %u rx_credits %u\n", t->max_payload, t->ops->rx_credits(t));
	echo_print_stats(t);

	pfd.fd = t->ops->poll_fd(t);
	pfd.events = POLLIN;
	while (!echo_stop) {
		if (echo_dump) {
			echo_dump = 0;
			echo_print_stats(t);
		}
		if (hello_sent < 20 && nhello && echo_now_ms() >= hello_next) {
			struct iovec hv = { .iov_base = hello_buf };

			hv.iov_len = (size_t)snprintf(hello_buf, sizeof(hello_buf), "hello %d",
						      hello_sent);
			for (i = 0; i < nhello; i++) {
				err = t->ops->tx(t, &hello[i], &hv, 1);
				if (err)
					fprintf(stderr, "hello tx: %s\n", strerror(-err));
			}
			t->ops->tx_flush(t);
			hello_sent++;
			hello_next = echo_now_ms() + 100;
		}
		n = t->ops->rx_burst(t, pkts, 64);
		if (n < 0) {
			fprintf(stderr, "rx_burst: %s\n", strerror(-n));
			break;
		}
		if (n == 0) {
			poll(&pfd, 1, hello_sent < 20 && nhello ? 20 : 100);
			continue;
		}
		for (i = 0; i < n; i++) {
			struct iovec iov = { .iov_base = pkts[i].data, .iov_len = pkts[i].len };

			err = t->ops->tx(t, &pkts[i].peer, &iov, 1);
			if (err == -ENOBUFS) {
				t->ops->tx_flush(t);
				err = t->ops->tx(t, &pkts[i].peer, &iov, 1);
			}
			if (err)
				fprintf(stderr, "tx: %s\n", strerror(-err));
		}
		t->ops->rx_release(t, pkts, n);
		t->ops->tx_flush(t);
	}
	echo_print_stats(t);
	t->ops->close(t);
	return TEST_PASS;
}
