/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_xsk_echo - echo server over the AF_XDP transport, driven by
 * tests/integ/xdp_*.sh.
 *
 *   test_xsk_echo IFACE IPV4 PORT [copy|zerocopy|auto] [native|generic]
 *
 * Opens xsk_transport on IFACE queue 0 with IPV4:PORT as the node address
 * and sends every received datagram back to its sender unchanged (through
 * tx/tx_flush, so headers, checksum and neighbour code all run). Prints
 * "ready" once bound, the transport stats on SIGUSR1 and at exit
 * (SIGINT/SIGTERM). Without arguments it skips (77): it is a helper, not a
 * standalone test, but lives here so the build links it against libferry.a.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	struct pollfd pfd;
	int n, i, err;

	if (argc < 4)
		test_skip("helper for tests/integ/xdp_*.sh: test_xsk_echo IFACE IPV4 PORT [mode]");
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
	printf("ready max_payload %u rx_credits %u\n", t->max_payload, t->ops->rx_credits(t));
	echo_print_stats(t);

	pfd.fd = t->ops->poll_fd(t);
	pfd.events = POLLIN;
	while (!echo_stop) {
		if (echo_dump) {
			echo_dump = 0;
			echo_print_stats(t);
		}
		n = t->ops->rx_burst(t, pkts, 64);
		if (n < 0) {
			fprintf(stderr, "rx_burst: %s\n", strerror(-n));
			break;
		}
		if (n == 0) {
			poll(&pfd, 1, 100);
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
