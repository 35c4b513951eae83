/* SPDX-License-Identifier: Apache-2.0 */
/*
 * node_run.c - the `ferry node` driver: the real disk, sockets and clock
 * wired to the node library (node.h), and a poll(2) loop between calls.
 */
#include "node.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "ferry_cluster.h"
#include "ferry_wire.h"
#include "common/log.h"
#include "common/util.h"
#include "net/xsk.h"

#define NODE_RUN_MAX_WAIT_MS 1000 /* a stop request is seen at least this often */

/* The UMEM of an AF_XDP path becomes an io_uring fixed buffer of the store:
 * PUT fragments are written from, and GET answers read into, its frames. */
static void node_run_register_umem(struct store *store, struct transport *t)
{
	struct store_info info;
	size_t len = 0;
	void *base;
	int reg;

	if (xsk_transport_umem(t, &base, &len) < 0)
		return;
	reg = store_register_region(store, base, len);
	store_get_info(store, &info);
	if (reg < 0)
		log_warn("node: UMEM not registered with io_uring (%s); the disk still reads and "
			 "writes the frames, as plain buffers", strerror(-reg));
	else
		log_info("node: zero copy: UMEM (%zu MiB) is io_uring fixed buffer %d; vectored "
			 "IO on it %s", len >> 20, reg,
			 info.vec_fixed ? "READV/WRITEV_FIXED" : "READV/WRITEV (kernel < 6.15)");
}

static int node_run_paths(const struct node_cfg *cfg, struct store *store,
			  const struct net_addr *local, struct node_deps *deps)
{
	int use_xdp = cfg->transport == NODE_TRANSPORT_XDP ||
		      (cfg->transport == NODE_TRANSPORT_AUTO && cfg->iface);
	uint32_t queues = cfg->queues ? cfg->queues : 1;
	struct store_info info;
	uint64_t cluster_id;
	int err = 0;

	store_get_info(store, &info);
	memcpy(&cluster_id, info.cluster, sizeof(cluster_id));
	if (queues > NODE_MAX_QUEUES) {
		log_err("node: at most %d queues", NODE_MAX_QUEUES);
		return -EINVAL;
	}
	if (!use_xdp)
		queues = 1;
	for (uint32_t q = 0; q < queues; q++) {
		struct transport **t = &deps->paths[deps->npaths];

		if (use_xdp) {
			struct xsk_transport_cfg xcfg = {
				.ifname = cfg->iface,
				.queue_id = q,
				.local = *local,
				.cluster = cluster_id,
				.bind_mode = XSK_BIND_AUTO,
				.xdp_mode = cfg->xdp_generic ? XDP_LINK_NATIVE_OR_GENERIC : XDP_LINK_AUTO,
			};
			if (local->family != AF_INET) {
				log_err("node: AF_XDP serves IPv4 addresses only");
				return -EAFNOSUPPORT;
			}
			err = xsk_transport_open(&xcfg, t);
			if (err) {
				log_err("node: cannot open AF_XDP on %s queue %u: %s", cfg->iface, q,
					strerror(-err));
				return err;
			}
			if (!cfg->copy_payload)
				node_run_register_umem(store, *t);
		} else {
			err = udp_transport_open(local, t);
			if (err) {
				log_err("node: cannot listen on %s: %s", cfg->listen, strerror(-err));
				return err;
			}
		}
		deps->npaths++;
	}
	return 0;
}

int node_run(const struct node_cfg *cfg)
{
	struct store_cfg scfg = { .path = cfg->disk, .cluster = cfg->cluster,
				  .scrub_mb_s = cfg->scrub_mb_s };
	struct node_deps deps = { .env = env_real() };
	struct pollfd pfd[NODE_MAX_QUEUES + 2];
	struct store_info info;
	struct node *n = NULL;
	char addr[64], uuid[37];
	int err;

	err = net_addr_parse(cfg->listen, FERRY_PORT_DEFAULT, &deps.self);
	if (err) {
		log_err("node: bad listen address '%s'", cfg->listen);
		return err;
	}
	if (cfg->ctl && net_addr_parse(cfg->ctl, CTL_PORT_DEFAULT, &deps.ctl)) {
		log_err("node: bad --ctl address '%s'", cfg->ctl);
		return -EINVAL;
	}
	err = store_open(&scfg, &deps.store);
	if (err) {
		log_err("node: cannot open store %s: %s", cfg->disk, strerror(-err));
		return err;
	}
	err = node_run_paths(cfg, deps.store, &deps.self, &deps);
	if (err)
		goto out;
	if (cfg->ctl) {
		/* Control traffic takes a kernel socket of its own, never the
		 * AF_XDP data path. */
		struct net_addr any = { .family = deps.ctl.family };

		err = udp_transport_open(&any, &deps.ctl_t);
		if (err) {
			log_err("node: cannot open a socket for ctl: %s", strerror(-err));
			goto out;
		}
	}
	err = node_open(cfg, &deps, &n);
	if (err)
		goto out;
	store_get_info(deps.store, &info);
	log_info("node %s serving %s on %s (transport %s, %u queue%s, %llu chunks)",
		 util_uuid_format(info.node, uuid), cfg->disk,
		 net_addr_format(&deps.self, addr, sizeof(addr)), deps.paths[0]->ops->name,
		 deps.npaths, deps.npaths == 1 ? "" : "s", (unsigned long long)info.chunks);
	while (!*cfg->stop) {
		uint64_t now = env_now(deps.env), due;
		int k, wait_ms;

		err = node_poll(n, now);
		if (err < 0)
			break; /* refused by ctl, or a transport failed: logged */
		if (err > 0) {
			err = 0;
			continue; /* run to completion while there is work */
		}
		due = node_next_deadline(n);
		now = env_now(deps.env);
		if (due <= now)
			continue;
		wait_ms = (int)MIN((due - now + 999999) / 1000000, (uint64_t)NODE_RUN_MAX_WAIT_MS);
		k = node_pollfds(n, pfd, NODE_MAX_QUEUES + 2);
		poll(pfd, (nfds_t)k, wait_ms);
	}
	log_info("node stopping");
out:
	node_close(n);
	if (deps.ctl_t)
		deps.ctl_t->ops->close(deps.ctl_t);
	for (uint32_t i = 0; i < deps.npaths; i++)
		deps.paths[i]->ops->close(deps.paths[i]);
	store_close(deps.store);
	return err;
}
