# tests/integ/lib_cluster.sh - a cluster of namespaces on one bridge, for the
# cluster_*.sh tests and make run. Source tests/lib/netns.sh first.
#
#   hub_init                    namespace "hub" with bridge br0
#   hub_host NAME IP [MTU]      namespace NAME, veth eth0 (IP/24) on the bridge
#   cl_format DISK CLUSTER      truncate + ferry format (256 MiB, 1 MiB max chunk)
#   cl_ctl ARGS...              start ferry ctl in namespace "ctl" (CL_CTL_PID)
#   cl_node NAME DISK ARGS...   start ferry node in NAME (CL_PID[NAME])
#   cl_wait_up N                until ctl's map says N nodes are up
#   cl_up_count                 nodes up in the map now
declare -A CL_PID CL_ADDR

hub_init() {
	netns_add hub
	ns hub ip link add br0 type bridge
	ns hub ip link set br0 up
}

hub_host() {
	local name=$1 ip=$2 mtu=${3:-1500}
	netns_add "$name"
	ip link add "h-$name" netns "$NETNS_PREFIX-hub" type veth peer name eth0 \
		netns "$NETNS_PREFIX-$name" || fail "cannot create veth for $name"
	ns hub ip link set "h-$name" mtu "$mtu" master br0 up
	ns "$name" ip link set eth0 mtu "$mtu" up
	ns "$name" ip addr add "$ip/24" dev eth0
}

cl_format() {
	truncate -s 256M "$1"
	"$FERRY" format --disk "$1" --cluster "$2" --max-chunk 1m >/dev/null 2>&1 ||
		"$FERRY" format --disk "$1" --cluster "$2" >/dev/null || fail "format $1 failed"
}

cl_ctl() {
	netns_bg ctl "$FERRY" ctl "$@"
	CL_CTL_PID=${NETNS_PIDS[-1]}
}

# A node logs to $T/NAME.log (appended across restarts); a failing test
# prints the end of each log and each node's counters (cl_diag).
cl_node() {
	local name=$1 disk=$2 a prev=; shift 2
	for a in "$@"; do
		[ "$prev" = --listen ] && CL_ADDR[$name]=$a
		prev=$a
	done
	echo "--- $(date +%T.%N | cut -c1-12) start" >>"$T/$name.log"
	netns_bg "$name" "$FERRY" node --disk "$disk" "$@" 2>>"$T/$name.log"
	CL_PID[$name]=${NETNS_PIDS[-1]}
}

# cl_diag: what a failing cluster test shows besides its message: each
# node's last log lines and the counters that say where requests went.
cl_diag() {
	local name
	for name in $(printf '%s\n' "${!CL_ADDR[@]}" | sort); do
		echo "--- $name (${CL_ADDR[$name]}): log tail"
		tail -n 8 "$T/$name.log" 2>/dev/null | sed 's/^/  /'
		ns cli "$FERRY" stat --node "${CL_ADDR[$name]}" --node-stats --timeout 1s 2>&1 |
			awk '/^(map_epoch|map_clean_epoch|lease_valid|cluster_(stale|no_lease|not_head|not_ready|in_doubt)|recovery_(walks|pending|errors|active)|commit_unsure_(now|reads)|cluster_slowest_request_us|node_poll_max_us|node_op_max_us|node_ops_inflight|store_inflight|storeq_inflight|storeq_waited|rpc_(timeouts|retransmits|requests)) / ||
			     (/^rpc_drop_/ && $2 != 0)' | tr '\n' ' ' | sed 's/^/  /'
		# datagrams the kernel took in, and dropped for a full socket buffer
		ns "$name" awk '/^Udp:/ { if (h) print "  udp in", $2, "in_errors", $4, "rcvbuf_errors", $6; h = 1 }' \
			/proc/net/snmp 2>/dev/null
		echo
	done
	echo "--- cli: neighbours, udp"
	ns cli ip neigh 2>/dev/null | sed 's/^/  /'
	ns cli awk '/^Udp:/ { if (h) print "  udp in", $2, "noports", $3, "in_errors", $4, "out", $5; h = 1 }' \
		/proc/net/snmp 2>/dev/null
}
# FERRY_TEST_KEEP=DIR: a failing test also leaves its nodes' whole logs there.
fail() {
	echo "FAIL: $*" >&2
	if [ -n "${T:-}" ]; then
		cl_diag >&2
		[ -n "${FERRY_TEST_KEEP:-}" ] && mkdir -p "$FERRY_TEST_KEEP" &&
			cp "$T"/*.log "$T"/errors "$T"/rd.err "$FERRY_TEST_KEEP"/ 2>/dev/null
	fi
	exit 1
}

cl_up_count() {
	ns cli "$FERRY" status --ctl "$CTL" --json --timeout 500ms 2>/dev/null |
		grep -o '"state":"up"' | wc -l
}

cl_wait_up() {
	local want=$1 secs=${2:-20} end=$(( $(date +%s) + ${2:-20} ))
	while [ "$(cl_up_count)" != "$want" ]; do
		[ "$(date +%s)" -ge "$end" ] && return 1
		sleep 0.2
	done
}

# cl_own_binary: run a private copy of $FERRY, so a rebuild of build/ferry
# in the middle of a long test cannot pull the binary from under it.
cl_own_binary() {
	cp "$FERRY" "$FERRY_TEST_TMP/ferry.bin" && FERRY=$FERRY_TEST_TMP/ferry.bin
}

# cl_test_init: the start of every cluster test: namespaces and cleanup,
# a private copy of the binary, T = the test's directory, which also holds
# the clients' cached map (so no test sees another's), and the clock say
# counts from.
cl_test_init() {
	netns_init
	[ -x "$FERRY" ] || fail "no ferry binary at $FERRY"
	cl_own_binary
	T=$FERRY_TEST_TMP
	export FERRY_MAP_CACHE=$T
	t_start=$(date +%s)
}

# say MSG: MSG after the seconds since cl_test_init.
say() { echo "[$(( $(date +%s) - t_start ))s] $*"; }

# cl_wait_clean [SECS]: until ctl says the epoch is clean (every up node
# walked it with nothing left undone: every copy is where the map says).
cl_wait_clean() {
	local end=$(( $(date +%s) + ${1:-60} ))
	until ns cli "$FERRY" status --ctl "$CTL" --json --timeout 500ms 2>/dev/null |
		grep -q '"clean":true'; do
		[ "$(date +%s)" -ge "$end" ] && return 1
		sleep 0.3
	done
}
