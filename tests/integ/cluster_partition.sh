#!/usr/bin/env bash
# cluster_partition - ctl + 4 nodes (UDP), R=3. One node is cut off (the
# fault program drops all its UDP, both ways) while a writer keeps writing
# and overwriting objects; ctl declares it down, writes continue on the
# remaining replicas; the partition heals and the node rejoins with stale
# copies. Every acknowledged write must read back with its latest contents,
# and the rejoined node must end up with the latest versions, not its own.
set -u
. "$(dirname "$0")/../lib/netns.sh"
. "$(dirname "$0")/lib_cluster.sh"
cl_test_init
C=5f0c1a2e-0000-4000-8000-00000000fa17
CTL=10.77.0.2:7481
NAMES=40

hub_init
hub_host ctl 10.77.0.2
hub_host cli 10.77.0.3
for i in 1 2 3 4; do hub_host "n$i" "10.77.0.1$i"; done
cl_ctl --listen "$CTL" --state "$T/ctl" --replicas 3 --down-after 1500ms --out-after 60s
for i in 1 2 3 4; do
	cl_format "$T/d$i.img" "$C"
	cl_node "n$i" "$T/d$i.img" --listen "10.77.0.1$i:7480" --transport udp --ctl "$CTL" --log-level warn
done
cl_wait_up 4 || fail "4 nodes did not come up"

# Round r writes every name with contents "r name"; an acked put records
# the round as that name's latest.
mkdir -p "$T/latest"
write_round() {
	local r=$1
	for k in $(seq 1 $NAMES); do
		printf 'round %s name %s %0500d\n' "$r" "$k" 0 >"$T/in.$k"
		if ns cli "$FERRY" put --ctl "$CTL" --timeout 1s "$T/in.$k" "p/$k" 2>/dev/null; then
			cp "$T/in.$k" "$T/latest/$k"
		fi
	done
}
write_round 0
for k in $(seq 1 $NAMES); do [ -e "$T/latest/$k" ] || fail "round 0 write of p/$k failed"; done

# Cut n2 off: all UDP in and out of its interface.
netns_bg n2 "$FERRY" fault --iface eth0 --drop 1000 --hook tc
sleep 0.5
write_round 1   # blocks on chains through n2 until ctl says it is down
ns cli "$FERRY" status --ctl "$CTL" | grep -q ' down ' || fail "n2 was not declared down"
write_round 2
acked=$(grep -l 'round 2' "$T/latest"/* | wc -l)
[ "$acked" -eq $NAMES ] || fail "only $acked of $NAMES writes acknowledged while n2 was down"

# Heal: n2 heartbeats again, comes back up, catches up.
kill -TERM "${NETNS_PIDS[-1]}"
cl_wait_up 4 20 || fail "n2 did not come back"
sleep 3
for k in $(seq 1 $NAMES); do
	ns cli "$FERRY" get --ctl "$CTL" "p/$k" "$T/out.$k" || fail "acknowledged p/$k is unreadable"
	cmp -s "$T/latest/$k" "$T/out.$k" || fail "p/$k reads back '$(head -c 30 "$T/out.$k")', not the acknowledged '$(head -c 30 "$T/latest/$k")'"
done
# n2's own copies: the latest version (or none), never its pre-partition one.
ns cli "$FERRY" ls --chunks --node 10.77.0.12:7480 >"$T/n2.chunks"
for i in 1 3 4; do ns cli "$FERRY" ls --chunks --node "10.77.0.1$i:7480"; done >"$T/others.chunks"
while read -r id ver size; do
	newest=$(awk -v id="$id" '$1 == id { if ($2 + 0 > m + 0) m = $2 } END { print m + 0 == 0 ? 0 : m }' "$T/others.chunks")
	[ "$ver" -ge "$newest" ] || fail "n2 still serves chunk $id at version $ver (others: $newest)"
done <"$T/n2.chunks"
ns cli "$FERRY" stat --node 10.77.0.12:7480 --node-stats | grep -E '^(cluster_|recovery_)' | sed 's/^/  n2 /'
echo "cluster_partition: ok"
