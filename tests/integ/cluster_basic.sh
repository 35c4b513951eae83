#!/usr/bin/env bash
# cluster_basic - ctl + 3 nodes (UDP) on a bridge, R=3: objects round-trip
# through the cluster with every chunk on all 3 nodes at one version; status;
# a client with a stale map is corrected; a disk of another cluster and a
# second node claiming an up UUID are refused with a clear message; messages
# from unknown nodes are counted; --node still works for one node.
set -u
. "$(dirname "$0")/../lib/netns.sh"
. "$(dirname "$0")/lib_cluster.sh"
cl_test_init
C=5f0c1a2e-0000-4000-8000-00000000c105
CTL=10.79.0.2:7481

hub_init
hub_host ctl 10.79.0.2
hub_host cli 10.79.0.3
for i in 1 2 3 4; do hub_host "n$i" "10.79.0.1$i"; done

cl_ctl --listen "$CTL" --state "$T/ctl" --replicas 3 --down-after 2s --out-after 60s
for i in 1 2 3; do
	cl_format "$T/d$i.img" "$C"
	cl_node "n$i" "$T/d$i.img" --listen "10.79.0.1$i:7480" --transport udp --ctl "$CTL" --zone "z$i"
done
cl_wait_up 3 || fail "3 nodes did not come up: $(ns cli "$FERRY" status --ctl "$CTL" 2>&1)"
# Each join moves the epoch, and so does ctl marking it clean once the
# nodes have walked it; a member that has the new map but not yet its lease
# on it refuses a forward, and the write is left in doubt until the next
# walk (cluster_recovery covers writes across changes). This test checks
# a settled cluster: every chunk on every node, nothing degraded.
cl_wait_clean 30 || fail "the cluster did not settle: $(ns cli "$FERRY" status --ctl "$CTL" 2>&1)"

for size in 0 1 5000 3000000; do
	head -c "$size" /dev/urandom >"$T/in.$size"
	ns cli "$FERRY" put --ctl "$CTL" --chunk-size 1m "$T/in.$size" "obj/$size" || fail "put of $size bytes failed"
	ns cli "$FERRY" get --ctl "$CTL" "obj/$size" "$T/out.$size" || fail "get of $size bytes failed"
	cmp -s "$T/in.$size" "$T/out.$size" || fail "object of $size bytes came back different"
done
FERRY_CTL=$CTL ns cli "$FERRY" ls >"$T/ls" || fail "ls through ctl failed"
[ "$(wc -l <"$T/ls")" = 4 ] || fail "ls listed $(wc -l <"$T/ls") objects, expected 4: $(cat "$T/ls")"

# Every chunk on all three nodes, at the same version.
for i in 1 2 3; do
	ns cli "$FERRY" ls --chunks --node "10.79.0.1$i:7480" >"$T/chunks.$i" || fail "ls --chunks on n$i failed"
done
n1=$(wc -l <"$T/chunks.1")
[ "$n1" -gt 4 ] || fail "n1 holds only $n1 chunks"
cmp -s "$T/chunks.1" "$T/chunks.2" && cmp -s "$T/chunks.1" "$T/chunks.3" ||
	fail "replicas differ: $(diff "$T/chunks.1" "$T/chunks.2" | head -5)"

ns cli "$FERRY" status --ctl "$CTL" || fail "status failed"
ns cli "$FERRY" status --ctl "$CTL" --json | grep -q '"degraded_chunks":0' || fail "status --json"

# --node still serves one node on its own.
ns cli "$FERRY" put --node 10.79.0.14:7480 "$T/in.5000" solo 2>/dev/null &&
	fail "put to a node that is not running succeeded"
ns cli "$FERRY" get --node 10.79.0.11:7480 obj/5000 "$T/solo.out" 2>/dev/null ||
	true # the manifest's chain may start elsewhere; only must not hang

# A fourth node joins: epoch moves; a client holding the old map is corrected.
e1=$(ns cli "$FERRY" status --ctl "$CTL" --json | sed 's/.*"epoch":\([0-9]*\).*/\1/')
cl_format "$T/d4.img" "$C"
cl_node n4 "$T/d4.img" --listen 10.79.0.14:7480 --transport udp --ctl "$CTL" --zone z1
cl_wait_up 4 || fail "n4 did not join"
head -c 70000 /dev/urandom >"$T/in.late"
ns cli "$FERRY" put --ctl "$CTL" "$T/in.late" obj/late || fail "put after a join failed"
ns cli "$FERRY" get --ctl "$CTL" obj/late "$T/out.late" && cmp -s "$T/in.late" "$T/out.late" ||
	fail "get after a join failed"
for size in 1 3000000; do
	ns cli "$FERRY" get --ctl "$CTL" "obj/$size" "$T/out2.$size" && cmp -s "$T/in.$size" "$T/out2.$size" ||
		fail "obj/$size unreadable after a join"
done
stats=$(ns cli "$FERRY" stat --node 10.79.0.11:7480 --node-stats)
echo "$stats" | grep -E '^(map_epoch|cluster_|recovery_)' | sed 's/^/  n1 /'

# A disk of another cluster is refused, with the reason, and the node exits non-zero.
hub_host bad 10.79.0.20
cl_format "$T/bad.img" 5f0c1a2e-0000-4000-8000-0000000bad00
if timeout 20 ip netns exec "$NETNS_PREFIX-bad" "$FERRY" node --disk "$T/bad.img" \
	--listen 10.79.0.20:7480 --transport udp --ctl "$CTL" 2>"$T/bad.err"; then
	fail "a node with another cluster's disk was accepted"
fi
grep -q "has a disk of cluster 5f0c1a2e-0000-4000-8000-0000000bad00" "$T/bad.err" ||
	fail "no clear refusal: $(cat "$T/bad.err")"

# A second node claiming n1's UUID (a copy of its disk) is refused.
cp --sparse=always "$T/d1.img" "$T/dup.img"
if timeout 20 ip netns exec "$NETNS_PREFIX-bad" "$FERRY" node --disk "$T/dup.img" \
	--listen 10.79.0.20:7480 --transport udp --ctl "$CTL" 2>"$T/dup.err"; then
	fail "a second node with an up UUID was accepted"
fi
grep -q "already up at 10.79.0.11:7480" "$T/dup.err" || fail "no clear refusal: $(cat "$T/dup.err")"

ctl_stats() { ns cli "$FERRY" stat --node "$CTL" --node-stats; }
ctl_stats | grep -q '^ctl_refused [1-9]' || fail "refusals not counted: $(ctl_stats)"

# ctl away: nodes serve only under a lease from ctl (half of --down-after),
# so that a node cut off from ctl cannot serve stale reads or take writes a
# new chain no longer sees. Once the leases run out the cluster refuses,
# clearly; when ctl is back it serves again, and nothing was lost.
kill -STOP "$CL_CTL_PID"
sleep 1.5   # the last lease (1 s with --down-after 2s) has run out
head -c 20000 /dev/urandom >"$T/in.away"
ns cli "$FERRY" put --ctl "$CTL" --timeout 500ms "$T/in.away" obj/away 2>"$T/away.err" &&
	fail "a put was acknowledged while ctl was away past the lease"
grep -q "lock\|lease\|unavailable\|may or may not" "$T/away.err" ||
	fail "no clear error while ctl is away: $(cat "$T/away.err")"
kill -CONT "$CL_CTL_PID"
ns cli "$FERRY" put --ctl "$CTL" "$T/in.away" obj/away || fail "put after ctl came back failed"
ns cli "$FERRY" get --ctl "$CTL" obj/away "$T/out.away" && cmp -s "$T/in.away" "$T/out.away" ||
	fail "get after ctl came back failed"
ns cli "$FERRY" get --ctl "$CTL" obj/3000000 "$T/out.away2" && cmp -s "$T/in.3000000" "$T/out.away2" ||
	fail "old object unreadable after ctl came back"

# Heartbeats from nodes ctl does not know (its state is gone): counted and
# otherwise ignored; the nodes register again and nothing is lost.
kill -TERM "$CL_CTL_PID"; wait "$CL_CTL_PID" 2>/dev/null
cl_ctl --listen "$CTL" --state "$T/ctl-fresh" --cluster "$C" --replicas 3 --down-after 2s
cl_wait_up 4 || fail "nodes did not register with a fresh ctl"
ctl_stats | grep -q '^ctl_unknown_node_msgs [1-9]' || fail "unknown-node heartbeats not counted: $(ctl_stats)"
for size in 1 3000000; do
	ns cli "$FERRY" get --ctl "$CTL" "obj/$size" "$T/out3.$size" && cmp -s "$T/in.$size" "$T/out3.$size" ||
		fail "obj/$size unreadable after ctl lost its state"
done
echo "ctl counters:"; ctl_stats | sed 's/^/  /'
echo "cluster_basic: ok"
