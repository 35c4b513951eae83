#!/usr/bin/env bash
# cluster_delete_rejoin - a deleted object never comes back: ctl + 4 nodes
# (UDP), R=3, 60 objects. n4 is killed; while it is away (past the out
# window) half the objects are removed; n4 comes back with its stale copies
# of them. Before versioned tombstones its walk pushed those copies back to
# the members that had deleted them. Now: every removed object stays gone,
# every kept one reads back, and n4 ends up without copies of the removed
# chunks. Then once more with n4 back before the out window (it kept its
# chain slots, so it is a member that missed the deletes).
set -u
. "$(dirname "$0")/../lib/netns.sh"
. "$(dirname "$0")/lib_cluster.sh"
cl_test_init
C=5f0c1a2e-0000-4000-8000-0000000de1e7
CTL=10.82.0.2:7481
NOBJ=60

hub_init
hub_host ctl 10.82.0.2
hub_host cli 10.82.0.3
for i in 1 2 3 4; do hub_host "n$i" "10.82.0.1$i"; done
cl_ctl --listen "$CTL" --state "$T/ctl" --replicas 3 --down-after 1s --out-after 3s
start_node() {
	cl_node "n$1" "$T/d$1.img" --listen "10.82.0.1$1:7480" --transport udp --ctl "$CTL" \
		--log-level warn
}
for i in 1 2 3 4; do cl_format "$T/d$i.img" "$C"; start_node "$i"; done
cl_wait_up 4 || fail "4 nodes did not come up"
cl_wait_clean || fail "the cluster did not become clean"

mkdir -p "$T/src"
for k in $(seq 1 "$NOBJ"); do head -c $(( k * 97 + 300 )) /dev/urandom >"$T/src/$k"; done

# round OUT_SECS: n4 away for OUT_SECS while the objects of this round
# (a fresh name prefix) are written, then half removed.
round() {
	local p=$1 away=$2
	for k in $(seq 1 "$NOBJ"); do
		ns cli "$FERRY" put --ctl "$CTL" "$T/src/$k" "$p/$k" || fail "put $p/$k failed"
	done
	cl_wait_clean || fail "not clean after the writes"
	ns cli "$FERRY" ls --chunks --node 10.82.0.14:7480 >"$T/n4.before"
	kill -9 "${CL_PID[n4]}"; wait "${CL_PID[n4]}" 2>/dev/null
	say "$p: n4 killed; it holds $(wc -l <"$T/n4.before") chunk copies"
	# Until ctl has seen n4 go, a remove headed by n4 can only time out
	# (and say it may have happened): wait for that, then for the rest of
	# the time away.
	cl_wait_up 3 10 || fail "ctl did not see n4 go"
	sleep "$away"
	for k in $(seq 2 2 "$NOBJ"); do
		ns cli "$FERRY" rm --ctl "$CTL" "$p/$k" || fail "rm $p/$k failed"
	done
	say "$p: removed $(( NOBJ / 2 )) objects while n4 was away ($away s)"
	start_node 4
	cl_wait_up 4 20 || fail "n4 did not come back"
	cl_wait_clean 60 || fail "not clean after n4 came back: $(ns cli "$FERRY" status --ctl "$CTL")"
	sleep 2 # one more walk at the clean epoch
	for k in $(seq 1 "$NOBJ"); do
		if [ $(( k % 2 )) = 0 ]; then
			if ns cli "$FERRY" get --ctl "$CTL" "$p/$k" "$T/out" 2>"$T/err"; then
				fail "$p/$k was removed and came back"
			fi
			grep -q "no object named" "$T/err" || fail "get of removed $p/$k: $(cat "$T/err")"
		else
			ns cli "$FERRY" get --ctl "$CTL" "$p/$k" "$T/out" && cmp -s "$T/src/$k" "$T/out" ||
				fail "$p/$k was kept but does not read back"
		fi
	done
	ns cli "$FERRY" ls --ctl "$CTL" | awk '{print $2}' | grep "^$p/" | sort >"$T/listed"
	[ "$(wc -l <"$T/listed")" = $(( NOBJ / 2 )) ] ||
		fail "ls lists $(wc -l <"$T/listed") objects under $p/, not $(( NOBJ / 2 ))"
	say "$p: removed objects stay removed; kept ones read back"
}
round away-out 5   # longer than --out-after: n4 had left placement
round away-down 0   # removed while n4 is down, before --out-after: still a member
ns cli "$FERRY" stat --node 10.82.0.14:7480 --node-stats | grep -E '^recovery_(purged|tombstone)' | sed 's/^/  n4 /'
echo "cluster_delete_rejoin: ok"
