#!/usr/bin/env bash
# cluster_restart - the whole cluster loses power for longer than the out
# window, and nothing acknowledged is lost: ctl + 5 nodes (UDP), R=3, 300
# objects written and acknowledged; every process killed with kill -9; ctl
# back first; the nodes back one at a time, in a shuffled order, each after
# the out window (--down-after 1s --out-after 3s), so ctl has marked every
# node out by the time it returns. Every object must read back byte for
# byte, and every chunk must end up with 3 copies. Before the fix (no
# deletion on absence; clean epochs), a new user lost 194 of 300 objects
# this way: each returning node's rejoin walk deleted copies the nodes
# already back did not have.
set -u
. "$(dirname "$0")/../lib/netns.sh"
. "$(dirname "$0")/lib_cluster.sh"
cl_test_init
C=5f0c1a2e-0000-4000-8000-0000000c0de5
CTL=10.81.0.2:7481
NOBJ=${NOBJ:-300}

hub_init
hub_host ctl 10.81.0.2
hub_host cli 10.81.0.3
for i in 1 2 3 4 5; do hub_host "n$i" "10.81.0.1$i"; done
CTLARGS=(--listen "$CTL" --state "$T/ctl" --replicas 3 --down-after 1s --out-after 3s)
cl_ctl "${CTLARGS[@]}"
start_node() {
	cl_node "n$1" "$T/d$1.img" --listen "10.81.0.1$1:7480" --transport udp --ctl "$CTL" \
		--zone "z$1" --log-level info
}
for i in 1 2 3 4 5; do cl_format "$T/d$i.img" "$C"; start_node "$i"; done
cl_wait_up 5 || fail "5 nodes did not come up"
cl_wait_clean || fail "the new cluster did not become clean"
say "5 nodes up"

mkdir -p "$T/src"
for k in $(seq 1 "$NOBJ"); do head -c $(( (k * 389) % 6000 + 100 )) /dev/urandom >"$T/src/$k"; done
writer() {
	for k in $(seq "$1" 3 "$NOBJ"); do
		ns cli "$FERRY" put --ctl "$CTL" "$T/src/$k" "o/$k" || echo "put o/$k failed" >>"$T/errors"
	done
}
wpids=()
for w in 1 2 3; do writer "$w" & wpids+=($!); done
wait "${wpids[@]}"
[ -s "$T/errors" ] && fail "writes failed: $(head -3 "$T/errors")"
say "$NOBJ objects written and acknowledged"
chunks_before=0
for i in 1 2 3 4 5; do
	n=$(ns cli "$FERRY" ls --chunks --node "10.81.0.1$i:7480" --timeout 1s | wc -l)
	chunks_before=$(( chunks_before + n ))
done

# Power loss: everything at once.
for i in 1 2 3 4 5; do kill -9 "${CL_PID[n$i]}"; done
kill -9 "$CL_CTL_PID"
for i in 1 2 3 4 5; do wait "${CL_PID[n$i]}" 2>/dev/null; done
wait "$CL_CTL_PID" 2>/dev/null
say "power lost ($chunks_before chunk copies on disk)"

# ctl first; it waits out the grace period for nodes that do not come back.
cl_ctl "${CTLARGS[@]}"
sleep 5
ns cli "$FERRY" status --ctl "$CTL" | grep -q ' out' || fail "ctl did not mark the silent nodes out"
say "ctl back; every node is out"

# The nodes one by one, in a shuffled order, each after the out window.
for i in $(printf '%s\n' 1 2 3 4 5 | shuf); do
	start_node "$i"
	say "n$i back"
	sleep 4
done
cl_wait_up 5 30 || fail "not every node came back"
cl_wait_clean 90 || fail "the cluster did not become clean after the restart: $(ns cli "$FERRY" status --ctl "$CTL")"
say "every node back; the epoch is clean"

lost=0
for k in $(seq 1 "$NOBJ"); do
	if ! ns cli "$FERRY" get --ctl "$CTL" "o/$k" "$T/out" 2>>"$T/get.err" || ! cmp -s "$T/src/$k" "$T/out"; then
		lost=$(( lost + 1 ))
		echo "o/$k" >>"$T/lost"
	fi
done
[ "$lost" = 0 ] || fail "$lost of $NOBJ acknowledged objects lost or wrong: $(head -5 "$T/lost" | tr '\n' ' '); $(tail -2 "$T/get.err")"
say "all $NOBJ objects read back byte for byte"

# Every chunk on 3 of the 5 nodes, at one version, and no copy dropped
# just because a peer lacked it.
check_copies() {
	local f=$T/allchunks
	: >"$f"
	for i in 1 2 3 4 5; do
		ns cli "$FERRY" ls --chunks --node "10.81.0.1$i:7480" --timeout 1s >>"$f" 2>/dev/null || return 1
	done
	local ids bad
	ids=$(cut -d' ' -f1 "$f" | sort -u | wc -l)
	bad=$(cut -d' ' -f1,2 "$f" | sort | uniq -c | awk '$1 != 3' | wc -l)
	echo "ids=$ids bad=$bad" >"$T/copies.last"
	[ "$ids" = $(( 2 * NOBJ )) ] && [ "$bad" = 0 ]
}
end=$(( $(date +%s) + 60 ))
until check_copies; do
	[ "$(date +%s)" -ge "$end" ] && fail "chunks are not on 3 nodes each: $(cat "$T/copies.last")"
	sleep 1
done
ns cli "$FERRY" status --ctl "$CTL"
say "cluster_restart: ok"
