/* SPDX-License-Identifier: Apache-2.0 */
/*
 * xdp_link.h - attach BPF programs to interfaces as bpf_links.
 *
 * Every attachment Ferry makes is a bpf_link (BPF_LINK_CREATE): the kernel
 * detaches it when the last fd goes, so a node that crashes or is killed -9
 * never leaves a program behind that would blackhole the interface. No
 * bpffs pinning, no libxdp dispatcher (the BPF LSM refuses it here).
 *
 * XDP mode: native (driver) by default; generic (skb) only when asked for,
 * because generic XDP hides the performance problem it causes. AF_XDP on
 * veth binds in copy mode either way.
 */
#ifndef FERRY_XDP_LINK_H
#define FERRY_XDP_LINK_H

enum xdp_link_mode {
	XDP_LINK_AUTO = 0,  /* native; fails (naming generic) if the driver refuses */
	XDP_LINK_NATIVE,    /* driver mode only */
	XDP_LINK_GENERIC,   /* skb mode, explicit request only */
	XDP_LINK_NATIVE_OR_GENERIC, /* native; generic if the driver refuses (explicit
				       opt-in, e.g. `ferry node --xdp-generic`); warns */
};

/* xdp_link_mode_name - "auto", "native", "generic", "native-or-generic". */
const char *xdp_link_mode_name(enum xdp_link_mode m);
/* xdp_link_mode_parse - inverse of xdp_link_mode_name; -EINVAL if unknown. */
int xdp_link_mode_parse(const char *s);

/*
 * xdp_link_attach - attach XDP program prog_fd to ifindex in mode.
 * Returns the link fd (>= 0; close it to detach) or -errno. *attached gets
 * the mode actually in force (XDP_LINK_NATIVE or XDP_LINK_GENERIC).
 */
int xdp_link_attach(int prog_fd, int ifindex, enum xdp_link_mode mode,
		    enum xdp_link_mode *attached);

/*
 * xdp_link_tcx_attach - attach a SCHED_CLS program at tcx ingress or egress
 * (kernel >= 6.6). Returns the link fd or -errno.
 */
int xdp_link_tcx_attach(int prog_fd, int ifindex, int egress);

/* xdp_link_sum_percpu - sum a per-CPU u64 array map's slots [0, n) into
 * out[]. Returns 0 or -errno. */
int xdp_link_sum_percpu(int map_fd, unsigned int n, unsigned long long *out);

#endif
