/* SPDX-License-Identifier: Apache-2.0 */
/*
 * xsk.h - the AF_XDP transport: one NIC queue, one UMEM, one socket.
 *
 * struct transport (transport.h) over AF_XDP, behind the steering program
 * (net/xdp_steer.h, bpf/steer.bpf.c), which validates Ferry datagrams at XDP
 * and redirects them to this queue's socket; everything else (ARP, ICMP,
 * ctl traffic) goes on to the kernel, which keeps answering ARP and ping for
 * the node's address. The node builds its own Ethernet/IPv4/UDP headers on
 * send; next-hop MACs come from received frames and the kernel's neighbour
 * table (net/neigh.h).
 *
 * UMEM layout. XSK_FRAMES frames of 4 KiB: the first XSK_RX_FRAMES belong
 * to the fill/RX side, the rest are the TX pool. In aligned mode the kernel
 * places a received frame at
 *     frame base + umem headroom + XDP_PACKET_HEADROOM (256)
 * With umem headroom XSK_UMEM_HEADROOM = 102, the Ethernet header starts at
 * offset 358 and a Ferry datagram over plain IPv4 has its payload at
 *     358 + 14 (Ethernet) + 20 (IPv4) + 8 (UDP) + 112 (ferry_hdr) = 512,
 * i.e. 512-byte aligned, as O_DIRECT wants; and the largest fragment
 * (FERRY_MAX_FRAG_PAYLOAD 3584) ends exactly at 4096. The kernel's RX frame
 * limit is 4096 - 102 - 256 = 3738 = 154 + 3584 bytes: a maximal Ferry
 * frame fits exactly. (A VLAN tag or IPv4 options shift the payload off the
 * boundary; such datagrams still work, they just cannot go to disk from the
 * frame without a copy.) TX frames are built at the same offset, so a GET
 * can read from disk straight into a TX frame's payload slot.
 *
 * Checksums. IPv4 header checksum is computed; the UDP checksum is sent as
 * 0 (allowed on IPv4): every Ferry datagram carries crc32c over its header
 * and over its payload, checked end to end, which covers more than the UDP
 * checksum would and costs nothing twice. (IPv6 would require a UDP
 * checksum; IPv6 peers are not served by this transport yet: received IPv6
 * datagrams are counted in xsk_rx_unsupported and dropped.)
 *
 * Rings. Fill ring = XSK_RX_FRAMES entries and exactly XSK_RX_FRAMES RX
 * frames exist, so a frame handed back by rx_release always has a fill
 * slot: no frame can leak or be double-queued as long as every rx_burst
 * datagram is rx_release'd once (any order). TX frames come from a free
 * stack refilled from the completion ring (comp = XSK_TX_FRAMES entries, so
 * it can never overflow). need_wakeup is on: sendto() only when the kernel
 * asks (always, in copy mode, where each sendto sends up to 32 frames, so
 * tx_flush loops), recvfrom() kick on the fill ring when asked.
 *
 * Modes. Bind tries XDP_ZEROCOPY first and falls back to XDP_COPY unless
 * cfg forces one; the outcome is logged and reported in stats as
 * "xsk_mode copy|zerocopy" next to "xdp_attach native|generic". veth only
 * supports copy mode. XDP attaches native (driver) unless generic is asked
 * for explicitly.
 *
 * Threading: one transport per queue, used by one thread.
 *
 * Stats lines (transport_ops.stats): xsk_mode, xdp_attach, xsk_queue,
 * xsk_rx_packets, xsk_rx_bytes, xsk_rx_bad, xsk_rx_unsupported,
 * xsk_rx_held (frames the caller holds now), xsk_fill_wakeups,
 * xsk_tx_packets, xsk_tx_bytes, xsk_tx_nobufs, xsk_tx_too_big,
 * xsk_tx_no_neigh, xsk_tx_kicks, xsk_tx_kick_errors, xsk_tx_inflight,
 * xsk_neigh_hits, xsk_neigh_misses, xsk_neigh_kicks, xsk_neigh_learned,
 * the kernel's XDP_STATISTICS as xsk_k_rx_dropped, xsk_k_rx_invalid_descs,
 * xsk_k_tx_invalid_descs, xsk_k_rx_ring_full, xsk_k_rx_fill_ring_empty,
 * xsk_k_tx_ring_empty, and the steering program's xdp_<name> counters
 * (per interface: printed by one of the queues' transports only).
 *
 * Zero-copy payload path (rpc.c "zero copy", node.c, store.h):
 *  - The whole UMEM is one io_uring fixed buffer of the store
 *    (xsk_transport_umem -> store_register_region): the disk reads and
 *    writes frames with READV_FIXED/WRITEV_FIXED where the kernel has them
 *    (6.15+), plain READV/WRITEV (pages pinned per IO) before that.
 *  - PUT. A fragment's payload sits at frame + 512, 512-aligned, its length
 *    a multiple of 512 except at the message's end. The RPC layer keeps
 *    the RX frames of a request (rx_hold_max of them at most) instead of
 *    copying them; the node hands them to the store as an iovec, and the
 *    store writes the 4 KiB blocks straight from the frames (per-block
 *    crc32c computed across pieces). The frames go back to the fill ring
 *    when the request is answered, i.e. when the disk has the data. Held
 *    frames show as xsk_rx_held; XSK_RX_CREDITS frames always stay for
 *    senders in flight, so holding never makes the NIC drop.
 *  - GET. The RPC layer borrows TX frames (txz_alloc), one per answer
 *    fragment; the store reads the chunk into their payload slots; the
 *    RPC layer writes Ethernet/IPv4/UDP + ferry_hdr in front (txz_send) and
 *    sends them, and resends the same frames on loss, until the client's
 *    final ACK returns them (txz_free). XSK_TX_RESERVE frames are never
 *    lent, so ACKs and small answers always find one.
 *  - Copy mode (veth, virtio without ZC) gains too: the kernel copies into
 *    and out of the UMEM, and the node copies nothing. xsk_mode says which.
 *  - Where it cannot apply, the payload is copied and counted
 *    (rpc_payload_copied_bytes, store_bounce_bytes; summed in
 *    node_payload_copied_bytes): requests the handler needs contiguous
 *    (WRITE, the cluster chain path), more held frames than the budget,
 *    answers whose client went quiet (their frames are reclaimed), the
 *    final partial 512-byte sector of an unaligned size, VLAN-tagged or
 *    IPv4-options frames (payload off the 512 boundary), the udp transport.
 */
#ifndef FERRY_XSK_H
#define FERRY_XSK_H

#include <stddef.h>
#include <stdint.h>

#include "net/transport.h"
#include "net/xdp_link.h"

#define XSK_FRAME_SIZE     4096
#define XSK_RX_FRAMES      8192  /* = fill ring size = RX ring size */
#define XSK_TX_FRAMES      4096  /* = TX ring size = completion ring size */
#define XSK_FRAMES         (XSK_RX_FRAMES + XSK_TX_FRAMES)
#define XSK_RX_CREDITS     1024  /* RX frames senders may fill (rx_credits) */
#define XSK_RX_BATCH       64    /* most datagrams one rx_burst hands out */
#define XSK_TX_RESERVE     512   /* TX frames never lent (txz_alloc): ACKs, small answers */
#define XSK_XDP_HEADROOM   256   /* XDP_PACKET_HEADROOM, fixed by the kernel */
#define XSK_PAYLOAD_OFFSET 512   /* a Ferry datagram's payload within its frame */
#define XSK_L2_OFFSET      (XSK_PAYLOAD_OFFSET - 14 - 20 - 8 - 112) /* 358 */
#define XSK_UMEM_HEADROOM  (XSK_L2_OFFSET - XSK_XDP_HEADROOM)      /* 102 */

enum xsk_bind_mode {
	XSK_BIND_AUTO = 0,   /* zero-copy if the driver can, else copy */
	XSK_BIND_COPY,       /* force copy mode */
	XSK_BIND_ZEROCOPY,   /* force zero-copy; fail if unsupported */
};

struct xsk_transport_cfg {
	const char *ifname;            /* interface (its queue queue_id) */
	uint32_t queue_id;             /* NIC RX/TX queue */
	struct net_addr local;         /* node address on ifname: AF_INET + UDP port
					  (network order, as everywhere in net_addr) */
	uint64_t cluster;              /* steering rodata: required ferry_hdr.cluster, 0 = any */
	enum xsk_bind_mode bind_mode;  /* copy / zerocopy / auto */
	enum xdp_link_mode xdp_mode;   /* auto (= native) / native / generic (explicit) */
	uint32_t max_peers;            /* divide rx_credits among this many peers; 0 = return
					  the whole budget (XSK_RX_FRAMES / 2) and let the caller
					  share it (rpc_srv divides by active requests) */
};

/*
 * xsk_transport_open - attach the steering program to cfg->ifname (or share
 * the attachment this process already has there), create the UMEM and the
 * socket on cfg->queue_id, and register the socket in the XSKMAP.
 * Returns 0 and *out, or -errno (logged). The transport's close() undoes
 * everything; the last transport on an interface detaches the program.
 */
int xsk_transport_open(const struct xsk_transport_cfg *cfg, struct transport **out);

/*
 * xsk_transport_umem - the UMEM area of an xsk transport (for
 * store_register_region). Returns 0, or -EINVAL if t is not an xsk
 * transport.
 */
int xsk_transport_umem(struct transport *t, void **base, size_t *len);

/* xsk_bind_mode_parse - "auto", "copy", "zerocopy" -> mode; -EINVAL else. */
int xsk_bind_mode_parse(const char *s);

#endif
