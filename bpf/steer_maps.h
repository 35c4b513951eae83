/* SPDX-License-Identifier: Apache-2.0 */
/*
 * steer_maps.h - maps and counter helpers of steer.bpf.c.
 *
 * "counters": per-CPU array indexed by enum ferry_ctr (ferry_abi.h);
 * userspace sums the CPUs. "xsks_map": XSKMAP keyed by RX queue index,
 * filled by node/net/xdp_steer.c with each queue's AF_XDP socket.
 */
#ifndef FERRY_STEER_MAPS_H
#define FERRY_STEER_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "ferry_abi.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FERRY_CTR_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, FERRY_XSKMAP_MAX);
	__type(key, __u32);
	__type(value, __u32);
} xsks_map SEC(".maps");

/* steer_count - add one to counter idx (a constant at every call site). */
static __always_inline void steer_count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &idx);

	if (v)
		*v += 1; /* per-CPU slot: no atomics needed */
}

/* steer_drop - count a drop under its reason and return XDP_DROP. */
static __always_inline int steer_drop(__u32 reason)
{
	steer_count(FERRY_CTR_DROP);
	steer_count(reason);
	return XDP_DROP;
}

static __always_inline int steer_pass(void)
{
	steer_count(FERRY_CTR_PASS);
	return XDP_PASS;
}

#endif /* FERRY_STEER_MAPS_H */
