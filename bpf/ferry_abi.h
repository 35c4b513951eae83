/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ferry_abi.h - the ABI between Ferry's XDP programs and userspace.
 *
 * Map keys and values, counter ids and drop reasons. Included by the programs in bpf/
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
	FERRY_DROP_UDP,            /* UDP header truncated or its length disagrees with IP */
	FERRY_DROP_RESERVED,       /* ferry_hdr.reserved != 0 */
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

/* XSKMAP size: one slot per NIC queue (the key is ctx->rx_queue_index). */
#define FERRY_XSKMAP_MAX 64

/*
 * fault.bpf.c - test-only fault injection (never loaded by a node).
 * Rates are per mille and independent: a packet is first considered for
 * drop, then corrupt, then (TC only) duplicate. Only UDP datagrams whose
 * source or destination port equals cfg.port are touched (0 = any UDP).
 */
struct ferry_fault_cfg {
	__u16 port;        /* UDP port filter, host order; 0 = every UDP datagram */
	__u16 drop_pm;     /* drop rate, per mille (0..1000) */
	__u16 corrupt_pm;  /* flip one byte of the UDP payload, per mille */
	__u16 dup_pm;      /* duplicate (TC programs only), per mille */
};
_Static_assert(sizeof(struct ferry_fault_cfg) == 8, "fault cfg size");

/* Counters of fault.bpf.c (per-CPU array "fault_counters"). */
enum ferry_fault_ctr {
	FERRY_FAULT_SEEN = 0,      /* packets the program saw */
	FERRY_FAULT_MATCHED,       /* UDP datagrams matching the port filter */
	FERRY_FAULT_DROPPED,       /* dropped on purpose */
	FERRY_FAULT_CORRUPTED,     /* one payload byte flipped */
	FERRY_FAULT_DUPLICATED,    /* cloned once more (TC) */
	FERRY_FAULT_DUP_FAIL,      /* bpf_clone_redirect failed */
	FERRY_FAULT_CTR_MAX
};

/* skb->mark the TC duplicator puts on its clones so it does not clone them again. */
#define FERRY_FAULT_DUP_MARK 0x46525259u

#endif /* FERRY_ABI_H */
