#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# xdp_multiqueue - one steering program serves every queue: a node with
# --queues 2 on a 2-queue veth gets one AF_XDP socket per queue in the
# program's XSKMAP; clients on both CPUs (veth picks the queue from the
# sender) store and read back objects byte-identical, both queues carry
# traffic, and no valid datagram misses its socket (xdp_redirect_fail 0).
set -u
. "$(dirname "$0")/lib.sh"
lib_init
[ -x "${FERRY:-}" ] || skip "no ferry binary (\$FERRY)"
T=$FERRY_TEST_TMP
ns_create srv
ns_create cli
veth_pair srv veth-s 10.77.3.1/24 cli veth-c 10.77.3.2/24 4000 2
NODE=10.77.3.1:7480

truncate -s 1G "$T/disk.img"
"$FERRY" format --disk "$T/disk.img" --cluster 5f0c1a2e-0000-4000-8000-000000000003 >/dev/null \
	|| fail "format failed"
bg_start srv "$T/node.log" "$FERRY" node --disk "$T/disk.img" --listen "$NODE" \
	--transport xdp --iface veth-s --queues 2 --mtu 4000
up=0
for i in $(seq 1 50); do
	grep -q "not available in this build" "$T/node.log" && skip "node has no xdp transport"
	nsx cli "$FERRY" stat --node "$NODE" --node-stats --timeout 300ms >"$T/stats0" 2>/dev/null \
		&& { up=1; break; }
	sleep 0.2
done
[ $up = 1 ] || { cat "$T/node.log" >&2; fail "node did not come up on 2 queues"; }

head -c 8000000 /dev/urandom >"$T/in"
for i in 1 2 3 4 5 6; do
	nsx cli taskset -c $((i % 2)) "$FERRY" put --node "$NODE" "$T/in" "o$i" || fail "put o$i"
done
for i in 1 2 3 4 5 6; do
	nsx cli taskset -c $((i % 2)) "$FERRY" get --node "$NODE" "o$i" "$T/out" || fail "get o$i"
	cmp -s "$T/in" "$T/out" || fail "o$i came back different"
done
nsx cli "$FERRY" stat --node "$NODE" --node-stats >"$T/stats" || fail "stats"
# Per-queue lines come in order: xsk_queue N is followed by that queue's xsk_rx_packets.
awk '$1 == "xsk_queue" { q = $2 } $1 == "xsk_rx_packets" { print q, $2 }' "$T/stats" >"$T/perq"
log "rx packets per queue: $(tr '\n' ' ' <"$T/perq")"
[ "$(wc -l <"$T/perq")" = 2 ] || fail "expected 2 queues in stats"
while read -r q n; do [ "$n" -gt 0 ] || fail "queue $q carried no traffic"; done <"$T/perq"
# Probes sent while the node was still opening its queues may miss a socket;
# once it answered, none may.
[ "$(stat_of "$T/stats" xdp_redirect_fail)" = "$(stat_of "$T/stats0" xdp_redirect_fail)" ] \
	|| fail "valid datagrams missed their socket"
[ "$(grep -c '^xdp_redirect ' "$T/stats")" = 1 ] || fail "xdp_* counters printed more than once"
pass
