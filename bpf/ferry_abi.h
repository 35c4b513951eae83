/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ferry_abi.h - the ABI between Ferry's XDP programs and userspace.
 *
 * Map keys and values, counter ids and drop reasons. Included by bpf/*.bpf.c
 * and by the node (node/net/) and tests; nothing else defines these.
 * Fixed-width types only, no pointers, explicit padding.
 *
 * Counters live in one BPF_MAP_TYPE_PERCPU_ARRAY ("counters") indexed by
 * enum ferry_ctr; userspace sums the per-CPU values. Drop reasons are
 * counters too: a drop increments exactly one FERRY_DROP_* slot.
 */
#ifndef FERRY_ABI_H
#define FERRY_ABI_H

#include <linux/types.h>

/* Verdict and drop counters (indexes into the "counters" map). */
enum ferry_ctr {
	FERRY_CTR_RX = 0,          /* every packet the program saw */
	FERRY_CTR_PASS,            /* handed to the kernel stack */
	FERRY_CTR_REDIRECT,        /* redirected to an AF_XDP socket */
	FERRY_CTR_DROP,            /* dropped (sum of the reasons below) */
	FERRY_CTR_TX,              /* answered with XDP_TX */
	FERRY_CTR_FERRY,           /* valid Ferry datagrams seen */
	FERRY_CTR_REDIRECT_FAIL,   /* no socket on this queue: passed instead */
	/* Drop reasons. Each names one check that failed. */
	FERRY_DROP_SHORT,          /* datagram shorter than struct ferry_hdr */
	FERRY_DROP_MAGIC,          /* wrong magic */
	FERRY_DROP_VERSION,        /* unsupported protocol version */
	FERRY_DROP_OP,             /* unknown op */
	FERRY_DROP_LENGTH,         /* frag_len / msg_len disagree with packet */
	FERRY_DROP_CLUSTER,        /* cluster id is not ours */
	FERRY_DROP_FLAGS,          /* undefined flag bits set */
	FERRY_DROP_IP,             /* IP header malformed (ihl, fragmented) */
	FERRY_CTR_MAX
};

/* Load-time settings of steer.bpf.c (const volatile rodata). */
struct ferry_steer_cfg {
	__u16 port;        /* storage UDP port, host order; 0 = count only */
	__u8  redirect;    /* 1: redirect valid datagrams to the XSKMAP */
	__u8  pad0;        /* 0 */
	__u32 pad1;        /* 0 */
	__u64 cluster;     /* required ferry_hdr.cluster; 0 accepts any */
};
_Static_assert(sizeof(struct ferry_steer_cfg) == 16, "steer cfg size");

#endif /* FERRY_ABI_H */
