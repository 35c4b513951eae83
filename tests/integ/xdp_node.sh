#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# xdp_node - `ferry node --transport xdp` on a veth in one namespace, clients
# (kernel UDP) in another: PUT/GET of 0 B, 1 B, 4 KiB, 1 MiB and 64 MiB
# objects come back byte-identical, aligned chunk PUT/GET copy no payload in
# the node (zero copy), then again with 1% and 5% loss injected
# in both directions by `ferry fault` (tcx on the client's veth). Also:
# ping works while the node runs, the steering counters show the traffic
# was redirected, and kill -9 of the node leaves no XDP program behind.
# XDP_NODE_TRANSPORT=udp runs the same script against the kernel transport.
set -u
. "$(dirname "$0")/lib.sh"
lib_init
[ -x "${FERRY:-}" ] || skip "no ferry binary (\$FERRY)"
T=$FERRY_TEST_TMP
TRANSPORT=${XDP_NODE_TRANSPORT:-xdp}
MTU=4000

ns_create srv
ns_create cli
veth_pair srv veth-s 10.77.2.1/24 cli veth-c 10.77.2.2/24 $MTU
NODE=10.77.2.1:7480
c() { nsx cli "$FERRY" "$@"; }

truncate -s 1G "$T/disk.img"
# The disk is a block device, as on a storage node (a loop device over the
# file), so PUT fragments go to it as they are; on a plain file the store
# copies them instead (store.h piece_align: ext4 would serialize them).
DISK=$T/disk.img
if LOOPDEV=$(losetup -f --show --direct-io=on "$T/disk.img" 2>/dev/null); then
	on_cleanup "losetup -d $LOOPDEV"
	DISK=$LOOPDEV
else
	log "no loop device here: the node's disk is a file"
fi
"$FERRY" format --disk "$DISK" --cluster 5f0c1a2e-0000-4000-8000-000000000002 >/dev/null \
	|| fail "format failed"
bg_start srv "$T/node.log" "$FERRY" node --disk "$DISK" --listen "$NODE" \
	--transport "$TRANSPORT" --iface veth-s --mtu $MTU --log-level info
NODE_PID=$BG_PID
up=0
for i in $(seq 1 50); do
	if grep -q "not available in this build" "$T/node.log"; then
		skip "node has no xdp transport yet"
	fi
	kill -0 "$NODE_PID" 2>/dev/null || { cat "$T/node.log" >&2; fail "node exited"; }
	if c stat --node "$NODE" --node-stats --timeout 300ms >"$T/stats0" 2>/dev/null; then up=1; break; fi
	sleep 0.2
done
[ $up = 1 ] || { cat "$T/node.log" >&2; fail "node did not come up"; }
if [ "$TRANSPORT" = xdp ]; then
	xdp_attached srv veth-s || fail "no XDP program on veth-s"
	grep -E 'xsk_mode|xdp_attach' "$T/stats0" | sed 's/^/# /' >&2
fi
nsx cli ping -c 2 -W 2 -q 10.77.2.1 >/dev/null || fail "ping while the node runs"

# Zero copy: aligned 4 KiB and 1 MiB chunk PUTs and GETs move their payload
# between the NIC's frames and the disk with no CPU copy in the node on the
# AF_XDP path (node_payload_copied_bytes stays put while rpc_zc_* grow); the
# kernel transport copies, and says so.
c stat --node "$NODE" --node-stats >"$T/zc0" || fail "node stats"
# (1 MiB at 4 in flight: 4 x 293 frames held fits the RX hold budget; more
# in flight than that spills, i.e. copies, and is counted - xsk.h)
for spec in "put 4k 2000 200 32" "put 1m 40 20 4" "get 4k 2000 200 32" "get 1m 40 20 4"; do
	set -- $spec
	c bench --node "$NODE" --op "$1" --size "$2" --count "$3" --keys "$4" -c "$5" \
		--mtu $MTU --json >"$T/bench.json" || fail "bench $spec failed"
	grep -q '"errors":{"total":0,' "$T/bench.json" || { cat "$T/bench.json" >&2; fail "bench $spec: errors"; }
done
c stat --node "$NODE" --node-stats >"$T/zc1" || fail "node stats"
delta() { echo $(( $(stat_of "$T/zc1" "$1") - $(stat_of "$T/zc0" "$1") )); }
copied=$(delta node_payload_copied_bytes)
zrx=$(delta rpc_zc_rx_bytes)
ztx=$(delta rpc_zc_tx_bytes)
log "aligned PUT/GET: copied $copied B, zero-copy in $zrx B, out $ztx B ($(grep -E '^store_vec_fixed' "$T/zc1"))"
want=$(( 2000 * 4096 + 40 * 1048576 ))
if [ "$TRANSPORT" = xdp ] && [ "$DISK" != "$T/disk.img" ]; then
	[ "$copied" -eq 0 ] || { grep -E '^(rpc_zc|rpc_payload|store_bounce|store_direct|xsk_rx_held|xsk_tx_lent|xsk_txz)' \
		"$T/zc1" >&2; fail "node copied $copied payload bytes on the AF_XDP path"; }
	[ "$zrx" -ge "$want" ] || fail "rpc_zc_rx_bytes grew by $zrx, want >= $want"
	[ "$ztx" -ge "$want" ] || fail "rpc_zc_tx_bytes grew by $ztx, want >= $want"
elif [ "$TRANSPORT" = xdp ]; then
	# a file: PUTs are copied once into whole blocks (and counted), GETs not
	[ "$copied" -ge "$want" ] || fail "file: copied $copied, want >= $want"
	[ "$ztx" -ge "$want" ] || fail "rpc_zc_tx_bytes grew by $ztx, want >= $want"
else
	# requests are reassembled by copying; answers are read from disk into
	# the buffer sendmmsg sends from (the kernel copies it, the node not)
	[ "$copied" -ge "$want" ] || fail "udp: copied $copied, want >= $want"
	[ "$zrx" -eq 0 ] && [ "$ztx" -eq 0 ] || fail "udp transport reports zero copy"
fi

SIZES="0 1 4096 1048576 67108864"
for size in $SIZES; do head -c "$size" /dev/urandom >"$T/in.$size"; done

# roundtrip TAG - put and get every size; byte-identical or fail.
roundtrip() {
	local tag=$1 size t0 t1
	for size in $SIZES; do
		t0=$(date +%s.%N)
		c put --node "$NODE" "$T/in.$size" "$tag/$size" || fail "$tag: put of $size bytes failed"
		c get --node "$NODE" "$tag/$size" "$T/out.$tag.$size" || fail "$tag: get of $size bytes failed"
		t1=$(date +%s.%N)
		cmp -s "$T/in.$size" "$T/out.$tag.$size" || fail "$tag: $size bytes came back different"
		rm -f "$T/out.$tag.$size"
		log "$tag: $size bytes put+get in $(awk -v a=$t0 -v b=$t1 'BEGIN { printf "%.2f", b - a }') s"
	done
}

roundtrip clean

for pm in 10 50; do
	bg_start cli "$T/fault.$pm.log" "$FERRY" fault --iface veth-c --hook tc --drop $pm --port 7480
	FPID=$BG_PID
	wait_for "$T/fault.$pm.log" '^fault: attached' 5 || { cat "$T/fault.$pm.log" >&2; fail "fault tool"; }
	roundtrip "loss$pm"
	kill -TERM "$FPID"; wait "$FPID" 2>/dev/null
	dropped=$(stat_of "$T/fault.$pm.log" fault_dropped)
	matched=$(stat_of "$T/fault.$pm.log" fault_matched)
	log "loss $pm/1000: fault dropped $dropped of $matched datagrams"
	[ "$dropped" -gt 0 ] || fail "fault injection at $pm per mille dropped nothing"
done

c stat --node "$NODE" --node-stats >"$T/stats1" || fail "node stats"
if [ "$TRANSPORT" = xdp ]; then
	r=$(stat_of "$T/stats1" xdp_redirect)
	log "xdp_redirect $r xdp_drop $(stat_of "$T/stats1" xdp_drop) xsk_rx_packets $(stat_of "$T/stats1" xsk_rx_packets)"
	[ "$r" -gt 1000 ] || fail "xdp_redirect = $r: traffic did not go through AF_XDP"
	kill -KILL "$NODE_PID"; wait "$NODE_PID" 2>/dev/null
	for i in $(seq 1 50); do xdp_attached srv veth-s || break; sleep 0.1; done
	xdp_attached srv veth-s && fail "XDP program left attached after kill -9"
	nsx cli ping -c 2 -W 2 -q 10.77.2.1 >/dev/null || fail "ping after kill -9 of the node"
fi
pass
