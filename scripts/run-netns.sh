#!/usr/bin/env bash
# scripts/run-netns.sh FERRY - the namespace demo behind `make run`:
# ctl + 3 storage nodes, each node serving a file-backed disk over AF_XDP on
# its veth, all hosts (and a client) on one bridge in a hub namespace; put a
# sample file through the cluster (R=3: chain replication), get it back,
# verify, show `ferry status` and one node's counters, tear everything down.
set -eu
FERRY=$(realpath "$1")
cd "$(dirname "$0")/.."
. tests/lib/netns.sh
. tests/integ/lib_cluster.sh
netns_init
work=$(mktemp -d /tmp/ferry-run.XXXXXX)
trap 'netns_cleanup; rm -rf "$work"' EXIT
CTL=10.88.0.2:7481
MTU=4000

say() { printf '\n== %s\n' "$*"; }

say "network: bridge in namespace hub; ctl 10.88.0.2, client 10.88.0.3, nodes 10.88.0.11-13 (MTU $MTU)"
hub_init
hub_host ctl 10.88.0.2 $MTU
hub_host cli 10.88.0.3 $MTU
for i in 1 2 3; do hub_host "n$i" "10.88.0.1$i" $MTU; done
cluster=$(cat /proc/sys/kernel/random/uuid)

say "ferry ctl --replicas 3 (map persisted in $work/ctl)"
cl_ctl --listen "$CTL" --state "$work/ctl" --replicas 3 --down-after 2s --out-after 30s

say "format 3 file-backed 1 GiB disks for cluster $cluster; start 3 nodes over AF_XDP"
for i in 1 2 3; do
	truncate -s 1G "$work/disk$i.img"
	"$FERRY" format --disk "$work/disk$i.img" --cluster "$cluster" >/dev/null
	cl_node "n$i" "$work/disk$i.img" --listen "10.88.0.1$i:7480" --iface eth0 --transport xdp \
		--mtu $MTU --ctl "$CTL" --zone "rack$i"
done
cl_wait_up 3 20 || fail "the nodes did not join: $(ns cli "$FERRY" status --ctl "$CTL" 2>&1)"

say "put a 32 MiB sample file through the cluster (head -> middle -> tail), get it back, compare"
head -c 33554432 /dev/urandom >"$work/sample.bin"
export FERRY_CTL=$CTL
t0=$(date +%s.%N)
ns cli "$FERRY" put --mtu $MTU "$work/sample.bin" demo/sample.bin
t1=$(date +%s.%N)
ns cli "$FERRY" get --mtu $MTU demo/sample.bin "$work/sample.out"
t2=$(date +%s.%N)
cmp "$work/sample.bin" "$work/sample.out"
awk -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN {
	printf "put 32 MiB x 3 replicas in %.2f s (%.0f MB/s), get in %.2f s (%.0f MB/s): byte-identical\n",
	       b - a, 33.554432 / (b - a), c - b, 33.554432 / (c - b) }'

say "ferry ls / ferry stat (through ctl)"
ns cli "$FERRY" ls
ns cli "$FERRY" stat demo/sample.bin

sleep 1 # one heartbeat, so the figures below include the put
say "ferry status"
ns cli "$FERRY" status

say "node n1 counters (data path mode, XDP verdicts, chain forwards)"
ns cli "$FERRY" stat --node 10.88.0.11:7480 --node-stats |
	grep -E '^(xsk_mode|xdp_attach|xdp_redirect|ops_put|ops_get|ops_repl_put|store_chunks|map_epoch|cluster_forwards|rpc_retransmits)' |
	sed 's/^/  /'
say "done: tearing down"
