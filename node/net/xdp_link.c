/* SPDX-License-Identifier: Apache-2.0 */
#include "net/xdp_link.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common/log.h"

/* Not in Debian 12's uapi headers (kernel 6.1); stable values since 6.6. */
#define XDP_LINK_BPF_TCX_INGRESS 46
#define XDP_LINK_BPF_TCX_EGRESS  47

const char *xdp_link_mode_name(enum xdp_link_mode m)
{
	switch (m) {
	case XDP_LINK_NATIVE: return "native";
	case XDP_LINK_GENERIC: return "generic";
	case XDP_LINK_NATIVE_OR_GENERIC: return "native-or-generic";
	default: return "auto";
	}
}

int xdp_link_mode_parse(const char *s)
{
	if (!s || !strcmp(s, "auto"))
		return XDP_LINK_AUTO;
	if (!strcmp(s, "native") || !strcmp(s, "drv"))
		return XDP_LINK_NATIVE;
	if (!strcmp(s, "generic") || !strcmp(s, "skb"))
		return XDP_LINK_GENERIC;
	if (!strcmp(s, "native-or-generic"))
		return XDP_LINK_NATIVE_OR_GENERIC;
	return -EINVAL;
}

int xdp_link_attach(int prog_fd, int ifindex, enum xdp_link_mode mode,
		    enum xdp_link_mode *attached)
{
	LIBBPF_OPTS(bpf_link_create_opts, o);
	int fd;

	o.flags = mode == XDP_LINK_GENERIC ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
	fd = bpf_link_create(prog_fd, ifindex, BPF_XDP, &o);
	if (fd < 0 && mode == XDP_LINK_NATIVE_OR_GENERIC) {
		log_warn("xdp: native attach on ifindex %d failed (%s); using generic XDP as allowed",
			 ifindex, strerror(errno));
		o.flags = XDP_FLAGS_SKB_MODE;
		mode = XDP_LINK_GENERIC;
		fd = bpf_link_create(prog_fd, ifindex, BPF_XDP, &o);
	}
	if (fd < 0) {
		fd = -errno;
		if (mode == XDP_LINK_AUTO)
			log_err("xdp: native attach on ifindex %d failed: %s (generic XDP is used "
				"only when asked for explicitly)", ifindex, strerror(-fd));
		else
			log_err("xdp: %s attach on ifindex %d failed: %s", xdp_link_mode_name(mode),
				ifindex, strerror(-fd));
		return fd;
	}
	if (attached)
		*attached = mode == XDP_LINK_GENERIC ? XDP_LINK_GENERIC : XDP_LINK_NATIVE;
	return fd;
}

int xdp_link_tcx_attach(int prog_fd, int ifindex, int egress)
{
	LIBBPF_OPTS(bpf_link_create_opts, o);
	int fd;

	fd = bpf_link_create(prog_fd, ifindex,
			     (enum bpf_attach_type)(egress ? XDP_LINK_BPF_TCX_EGRESS :
							     XDP_LINK_BPF_TCX_INGRESS), &o);
	if (fd < 0) {
		fd = -errno;
		log_err("xdp: tcx %s attach on ifindex %d failed: %s", egress ? "egress" : "ingress",
			ifindex, strerror(-fd));
	}
	return fd;
}

int xdp_link_sum_percpu(int map_fd, unsigned int n, unsigned long long *out)
{
	int ncpu = libbpf_num_possible_cpus(), c, err = 0;
	unsigned long long *v;
	unsigned int k;

	if (ncpu <= 0)
		return ncpu < 0 ? ncpu : -EINVAL;
	/* Control path only (stats), never per packet. */
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (k = 0; k < n; k++) {
		out[k] = 0;
		if (bpf_map_lookup_elem(map_fd, &k, v)) {
			err = -errno;
			break;
		}
		for (c = 0; c < ncpu; c++)
			out[k] += v[c];
	}
	free(v);
	return err;
}
