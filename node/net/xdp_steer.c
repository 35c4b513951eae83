/* SPDX-License-Identifier: Apache-2.0 */
#include "net/xdp_steer.h"

#include <errno.h>
#include <net/if.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common/log.h"
#include "ferry_abi.h"
#include "steer.skel.h"

struct xdp_steer {
	struct steer_bpf *skel;      /* loaded program and maps */
	int link_fd;                 /* bpf_link: closing it detaches */
	int ifindex;                 /* where it is attached */
	int refs;                    /* transports using it */
	enum xdp_link_mode mode;     /* native or generic, as attached */
	struct xdp_steer_cfg cfg;    /* settings (ifname not kept) */
	const void *stats_owner;     /* who prints the xdp_* lines (NULL: next asker) */
	struct xdp_steer *next;      /* registry list */
};

/* Registry of this process's attachments: one per interface. Control path
 * only (open/close), hence a plain mutex. */
static pthread_mutex_t xdp_steer_lock = PTHREAD_MUTEX_INITIALIZER;
static struct xdp_steer *xdp_steer_list;

static const char *const xdp_steer_names[FERRY_CTR_MAX] = {
	[FERRY_CTR_RX] = "rx",
	[FERRY_CTR_PASS] = "pass",
	[FERRY_CTR_REDIRECT] = "redirect",
	[FERRY_CTR_DROP] = "drop",
	[FERRY_CTR_TX] = "tx",
	[FERRY_CTR_FERRY] = "ferry",
	[FERRY_CTR_REDIRECT_FAIL] = "redirect_fail",
	[FERRY_DROP_SHORT] = "drop_short",
	[FERRY_DROP_MAGIC] = "drop_magic",
	[FERRY_DROP_VERSION] = "drop_version",
	[FERRY_DROP_OP] = "drop_op",
	[FERRY_DROP_LENGTH] = "drop_length",
	[FERRY_DROP_CLUSTER] = "drop_cluster",
	[FERRY_DROP_FLAGS] = "drop_flags",
	[FERRY_DROP_IP] = "drop_ip",
	[FERRY_DROP_UDP] = "drop_udp",
	[FERRY_DROP_RESERVED] = "drop_reserved",
};

const char *xdp_steer_ctr_name(unsigned int idx)
{
	if (idx >= FERRY_CTR_MAX || !xdp_steer_names[idx])
		return "unknown";
	return xdp_steer_names[idx];
}

static int xdp_steer_attach(const struct xdp_steer_cfg *cfg, int ifindex, struct xdp_steer **out)
{
	struct xdp_steer *s;
	int err;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->link_fd = -1;
	s->ifindex = ifindex;
	s->cfg = *cfg;
	s->cfg.ifname = NULL;
	s->skel = steer_bpf__open();
	if (!s->skel) {
		err = -errno;
		log_err("xdp_steer: open BPF object: %s", strerror(-err));
		goto err_free;
	}
	s->skel->rodata->steer_cfg.port = cfg->port;
	s->skel->rodata->steer_cfg.redirect = cfg->count_only ? 0 : 1;
	s->skel->rodata->steer_cfg.cluster = cfg->cluster;
	err = steer_bpf__load(s->skel);
	if (err) {
		err = -errno;
		log_err("xdp_steer: load steer program: %s", strerror(-err));
		goto err_skel;
	}
	err = xdp_link_attach(bpf_program__fd(s->skel->progs.ferry_steer), ifindex, cfg->mode,
			      &s->mode);
	if (err < 0)
		goto err_skel;
	s->link_fd = err;
	log_info("xdp_steer: attached to %s (ifindex %d) in %s mode, port %u, cluster %016llx%s",
		 cfg->ifname, ifindex, xdp_link_mode_name(s->mode), cfg->port,
		 (unsigned long long)cfg->cluster, cfg->count_only ? ", count only" : "");
	*out = s;
	return 0;

err_skel:
	steer_bpf__destroy(s->skel);
err_free:
	free(s);
	return err;
}

int xdp_steer_get(const struct xdp_steer_cfg *cfg, struct xdp_steer **out)
{
	struct xdp_steer *s;
	int ifindex, err = 0;

	ifindex = (int)if_nametoindex(cfg->ifname);
	if (!ifindex) {
		err = -errno;
		log_err("xdp_steer: no interface %s: %s", cfg->ifname, strerror(-err));
		return err;
	}
	pthread_mutex_lock(&xdp_steer_lock);
	for (s = xdp_steer_list; s; s = s->next)
		if (s->ifindex == ifindex)
			break;
	if (s) {
		if (s->cfg.port != cfg->port || s->cfg.cluster != cfg->cluster ||
		    s->cfg.count_only != cfg->count_only ||
		    ((cfg->mode == XDP_LINK_NATIVE || cfg->mode == XDP_LINK_GENERIC) &&
		     cfg->mode != s->mode)) {
			log_err("xdp_steer: %s already steered with other settings", cfg->ifname);
			err = -EEXIST;
			goto out;
		}
		s->refs++;
		*out = s;
		goto out;
	}
	err = xdp_steer_attach(cfg, ifindex, &s);
	if (err)
		goto out;
	s->refs = 1;
	s->next = xdp_steer_list;
	xdp_steer_list = s;
	*out = s;
out:
	pthread_mutex_unlock(&xdp_steer_lock);
	return err;
}

void xdp_steer_put(struct xdp_steer *s)
{
	struct xdp_steer **pp;

	if (!s)
		return;
	pthread_mutex_lock(&xdp_steer_lock);
	if (--s->refs > 0) {
		pthread_mutex_unlock(&xdp_steer_lock);
		return;
	}
	for (pp = &xdp_steer_list; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	pthread_mutex_unlock(&xdp_steer_lock);
	close(s->link_fd); /* detaches */
	steer_bpf__destroy(s->skel);
	log_info("xdp_steer: detached from ifindex %d", s->ifindex);
	free(s);
}

int xdp_steer_set_socket(struct xdp_steer *s, uint32_t queue, int xsk_fd)
{
	int map_fd = bpf_map__fd(s->skel->maps.xsks_map);

	if (queue >= FERRY_XSKMAP_MAX)
		return -ERANGE;
	if (xsk_fd < 0) {
		if (bpf_map_delete_elem(map_fd, &queue) && errno != ENOENT)
			return -errno;
		return 0;
	}
	if (bpf_map_update_elem(map_fd, &queue, &xsk_fd, BPF_ANY))
		return -errno;
	return 0;
}

int xdp_steer_counters(struct xdp_steer *s, uint64_t *out)
{
	unsigned long long v[FERRY_CTR_MAX];
	int err, i;

	err = xdp_link_sum_percpu(bpf_map__fd(s->skel->maps.counters), FERRY_CTR_MAX, v);
	if (err)
		return err;
	for (i = 0; i < FERRY_CTR_MAX; i++)
		out[i] = v[i];
	return 0;
}

int xdp_steer_stats_owner(struct xdp_steer *s, const void *who)
{
	int mine;

	pthread_mutex_lock(&xdp_steer_lock);
	if (!s->stats_owner)
		s->stats_owner = who;
	mine = s->stats_owner == who;
	pthread_mutex_unlock(&xdp_steer_lock);
	return mine;
}

void xdp_steer_disown(struct xdp_steer *s, const void *who)
{
	pthread_mutex_lock(&xdp_steer_lock);
	if (s->stats_owner == who)
		s->stats_owner = NULL;
	pthread_mutex_unlock(&xdp_steer_lock);
}

enum xdp_link_mode xdp_steer_mode(const struct xdp_steer *s)
{
	return s->mode;
}

int xdp_steer_ifindex(const struct xdp_steer *s)
{
	return s->ifindex;
}

size_t xdp_steer_stats(struct xdp_steer *s, char *buf, size_t cap)
{
	uint64_t c[FERRY_CTR_MAX];
	size_t n = 0;
	int i, w;

	w = snprintf(buf, cap, "xdp_attach %s\n", xdp_link_mode_name(s->mode));
	if (w < 0 || (size_t)w >= cap)
		return 0;
	n = (size_t)w;
	if (xdp_steer_counters(s, c))
		return n;
	for (i = 0; i < FERRY_CTR_MAX; i++) {
		w = snprintf(buf + n, cap - n, "xdp_%s %llu\n", xdp_steer_ctr_name((unsigned)i),
			     (unsigned long long)c[i]);
		if (w < 0 || (size_t)w >= cap - n)
			break;
		n += (size_t)w;
	}
	return n;
}
