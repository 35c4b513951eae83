/* SPDX-License-Identifier: Apache-2.0 */
/*
 * net.c - bring up the node's NIC from ip= and BOOTIF=.
 *
 * The NIC is chosen by MAC (BOOTIF) because interface names depend on probe
 * order; ip=...:device: wins when given. Drivers were loaded just before
 * us and probe asynchronously, so we poll sysfs until the NIC shows up.
 */
#include "init/init_int.h"
#include "init/netlink.h"

#include "common/log.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* net_find_mac - name of the interface whose address is mac; 0 or -ENODEV. */
static int net_find_mac(const uint8_t mac[6], char ifname[16])
{
	char want[18], path[300], got[32];
	DIR *d = opendir("/sys/class/net");
	struct dirent *de;
	int r = -ENODEV;

	if (!d)
		return -errno;
	snprintf(want, sizeof(want), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
		 mac[3], mac[4], mac[5]);
	while ((de = readdir(d))) {
		FILE *f;

		if (de->d_name[0] == '.' || strlen(de->d_name) >= 16)
			continue;
		snprintf(path, sizeof(path), "/sys/class/net/%s/address", de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(got, sizeof(got), f) && !strncasecmp(got, want, 17)) {
			strcpy(ifname, de->d_name);
			r = 0;
		}
		fclose(f);
		if (!r)
			break;
	}
	closedir(d);
	return r;
}

static void net_sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

int init_net_setup(const struct init_cfg *cfg, unsigned wait_ms, char ifname[16])
{
	char a[INET_ADDRSTRLEN], g[INET_ADDRSTRLEN];
	unsigned waited = 0;
	int fd = -1, idx = 0, r;

	ifname[0] = '\0';
	for (;;) {
		if (cfg->ip.device[0]) {
			idx = (int)if_nametoindex(cfg->ip.device);
			if (idx > 0)
				strcpy(ifname, cfg->ip.device);
		} else if (net_find_mac(cfg->bootif, ifname) == 0) {
			idx = (int)if_nametoindex(ifname);
		}
		if (idx > 0 || waited >= wait_ms)
			break;
		net_sleep_ms(100);
		waited += 100;
	}
	if (idx <= 0) {
		if (cfg->ip.device[0])
			log_err("net: no interface named %s (from ip=) after %u ms", cfg->ip.device,
				waited);
		else
			log_err("net: no NIC with MAC %02x:%02x:%02x:%02x:%02x:%02x (BOOTIF=) after "
				"%u ms", cfg->bootif[0], cfg->bootif[1], cfg->bootif[2],
				cfg->bootif[3], cfg->bootif[4], cfg->bootif[5], waited);
		r = -ENODEV;
		goto out;
	}
	fd = init_nl_open();
	if (fd < 0) {
		r = fd;
		log_err("net: rtnetlink socket: %s", strerror(-r));
		goto out;
	}
	r = init_nl_link_up(fd, (int)if_nametoindex("lo"));
	if (r) {
		log_err("net: bringing up lo: %s", strerror(-r));
		goto out;
	}
	r = init_nl_link_up(fd, idx);
	if (r) {
		log_err("net: bringing up %s: %s", ifname, strerror(-r));
		goto out;
	}
	inet_ntop(AF_INET, &cfg->ip.client, a, sizeof(a));
	r = init_nl_addr_add(fd, idx, cfg->ip.client, cfg->ip.prefix);
	if (r) {
		log_err("net: adding %s/%d to %s: %s", a, cfg->ip.prefix, ifname, strerror(-r));
		goto out;
	}
	if (cfg->ip.gw) {
		inet_ntop(AF_INET, &cfg->ip.gw, g, sizeof(g));
		r = init_nl_route_add_default(fd, idx, cfg->ip.gw);
		if (r) {
			log_err("net: default route via %s on %s: %s", g, ifname, strerror(-r));
			goto out;
		}
	} else {
		strcpy(g, "none");
	}
	if (cfg->ip.hostname[0] && sethostname(cfg->ip.hostname, strlen(cfg->ip.hostname)) < 0)
		log_warn("net: sethostname %s: %s", cfg->ip.hostname, strerror(errno));
	log_info("net: %s up, %s/%d, gateway %s", ifname, a, cfg->ip.prefix, g);
out:
	if (fd >= 0)
		close(fd);
	return r;
}
