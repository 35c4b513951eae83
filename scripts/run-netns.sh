#!/usr/bin/env bash
# scripts/run-netns.sh FERRY - the namespace demo behind `make run`:
# a node serving a file-backed disk over AF_XDP in one network namespace, a
# client in another; put a sample file, get it back, verify, show the node's
# counters, tear everything down.
set -eu
FERRY=$(realpath "$1")
cd "$(dirname "$0")/.."
. tests/lib/netns.sh
netns_init
work=$(mktemp -d /tmp/ferry-run.XXXXXX)
trap 'netns_cleanup; rm -rf "$work"' EXIT

say() { printf '\n== %s\n' "$*"; }

say "network: namespace node (10.88.0.1) <-> veth <-> namespace client (10.88.0.2), MTU 4000"
netns_add node
netns_add client
netns_link node 10.88.0.1 client 10.88.0.2 4000
cluster=$(cat /proc/sys/kernel/random/uuid)

say "format a 1 GiB file-backed disk for cluster $cluster"
truncate -s 1G "$work/disk0.img"
"$FERRY" format --disk "$work/disk0.img" --cluster "$cluster"

say "start: ferry node --iface vnodeclient --transport xdp (AF_XDP behind the steering XDP program)"
netns_bg node "$FERRY" node --disk "$work/disk0.img" --listen 10.88.0.1:7480 \
	--iface vnodeclient --transport xdp --mtu 4000
wait_for 10 ns client "$FERRY" stat --node 10.88.0.1:7480 --node-stats --timeout 300ms \
	|| fail "the node did not come up"

say "put a 32 MiB sample file, get it back, compare"
head -c 33554432 /dev/urandom >"$work/sample.bin"
t0=$(date +%s.%N)
ns client "$FERRY" put --node 10.88.0.1:7480 --mtu 4000 "$work/sample.bin" demo/sample.bin
t1=$(date +%s.%N)
ns client "$FERRY" get --node 10.88.0.1:7480 --mtu 4000 demo/sample.bin "$work/sample.out"
t2=$(date +%s.%N)
cmp "$work/sample.bin" "$work/sample.out"
awk -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN {
	printf "put 32 MiB in %.2f s (%.0f MB/s), get in %.2f s (%.0f MB/s): byte-identical\n",
	       b - a, 33.554432 / (b - a), c - b, 33.554432 / (c - b) }'

say "ferry ls / ferry stat"
ns client "$FERRY" ls --node 10.88.0.1:7480
ns client "$FERRY" stat --node 10.88.0.1:7480 demo/sample.bin

say "node counters (data path mode, XDP verdicts, drops)"
ns client "$FERRY" stat --node 10.88.0.1:7480 --node-stats |
	grep -E '^(xsk_mode|xdp_attach|xdp_rx|xdp_redirect|xdp_pass|xdp_drop|ops_put|ops_get|store_chunks|rpc_retransmits|rpc_payload_copied_bytes|cpu_)' |
	sed 's/^/  /'
say "done: tearing down"
