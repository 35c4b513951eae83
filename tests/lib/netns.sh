# tests/lib/netns.sh - network-namespace helpers for Ferry's integration tests.
#
# Source it, then:
#   netns_init                 names this test's resources; installs cleanup traps
#   netns_add NAME             create namespace $NETNS_PREFIX-NAME (echoes its name)
#   netns_link NS1 IP1 NS2 IP2 [MTU]  veth pair between two namespaces, /24 addresses
#   netns_bg NS CMD...         start CMD in NS in the background (killed at exit)
#   ns NAME CMD...             run CMD in namespace NAME
#   fail MSG                   print MSG and exit 1 (cleanup runs)
#   skip MSG                   print MSG and exit 77
# Addresses used are private (10.x) and exist only inside namespaces created
# here; everything is removed on exit, failure or signal.

NETNS_PIDS=()
NETNS_LIST=()
NETNS_PREFIX=

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*" >&2; exit 77; }

# Runs from the EXIT trap, possibly under set -e: nothing here may fail.
netns_cleanup() {
	local pid ns
	for pid in "${NETNS_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "${NETNS_PIDS[@]}"; do
		for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	NETNS_PIDS=()
	for ns in "${NETNS_LIST[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
	NETNS_LIST=()
}

netns_init() {
	[ "$(id -u)" = 0 ] || skip "needs root for network namespaces"
	command -v ip >/dev/null || skip "iproute2 is not installed"
	NETNS_PREFIX="fy$$"
	trap netns_cleanup EXIT
	trap 'exit 130' INT TERM
}

netns_add() {
	local ns="$NETNS_PREFIX-$1"
	ip netns add "$ns" || fail "cannot create namespace $ns"
	NETNS_LIST+=("$ns")
	ip -n "$ns" link set lo up
}

ns() { local n="$NETNS_PREFIX-$1"; shift; ip netns exec "$n" "$@"; }

# netns_link NS1 IP1 NS2 IP2 [MTU]: interfaces are named v<NS1>-<NS2>.
netns_link() {
	local a=$1 ipa=$2 b=$3 ipb=$4 mtu=${5:-1500}
	local ia="v$a$b" ib="v$b$a"
	ip link add "${ia:0:15}" netns "$NETNS_PREFIX-$a" type veth peer name "${ib:0:15}" \
		netns "$NETNS_PREFIX-$b" || fail "cannot create veth $a-$b"
	ns "$a" ip link set "${ia:0:15}" mtu "$mtu" up
	ns "$b" ip link set "${ib:0:15}" mtu "$mtu" up
	ns "$a" ip addr add "$ipa/24" dev "${ia:0:15}"
	ns "$b" ip addr add "$ipb/24" dev "${ib:0:15}"
}

netns_bg() {
	local n=$1; shift
	ip netns exec "$NETNS_PREFIX-$n" "$@" &
	NETNS_PIDS+=($!)
}

# wait_for SECONDS CMD...: retry CMD every 0.1 s until it succeeds.
wait_for() {
	local secs=$1; shift
	local end=$(( $(date +%s) + secs ))
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -ge "$end" ] && return 1
		sleep 0.1
	done
}

# netns_one_node PREFIX SIZE: namespaces srv (PREFIX.1) and cli (PREFIX.2) on
# a veth, a SIZE file-backed disk formatted in $FERRY_TEST_TMP, and a node on
# kernel UDP in srv; sets NODE=PREFIX.1:7480 and returns once it answers.
netns_one_node() {
	local prefix=$1 size=$2 disk=$FERRY_TEST_TMP/disk.img
	netns_add srv
	netns_add cli
	netns_link srv "$prefix.1" cli "$prefix.2"
	NODE=$prefix.1:7480
	truncate -s "$size" "$disk"
	"$FERRY" format --disk "$disk" --cluster "$(cat /proc/sys/kernel/random/uuid)" >/dev/null ||
		fail "format failed"
	netns_bg srv "$FERRY" node --disk "$disk" --listen "$NODE" --transport udp
	wait_for 10 ns cli "$FERRY" stat --node "$NODE" --node-stats --timeout 300ms ||
		fail "node did not come up"
}
