# SPDX-License-Identifier: Apache-2.0
# tests/integ/lib.sh - shared helpers for network-namespace tests. Source it:
#
#   . "$(dirname "$0")/lib.sh"
#   lib_init                         # root check, names, cleanup trap
#   ns_create srv; ns_create cli     # namespaces (real names: $(ns srv) ...)
#   veth_pair srv veth-s 10.77.0.1/24 cli veth-c 10.77.0.2/24 [MTU]
#   nsx srv ip link show             # run in a namespace
#   bg_start srv "$LOG" cmd args...  # background process, killed at cleanup
#   wait_for "$LOG" 'ready' 10       # wait for a line to appear
#   pass / fail MSG / skip MSG       # exit 0 / 1 / 77
#
# Everything a test creates (namespaces with their veths, background
# processes) is removed by one trap on EXIT, INT and TERM, failure included.
# Addresses live only inside the namespaces the test made; names carry the
# PID so concurrent tests do not collide.

LIB_PFX="ferry$$"
LIB_NS=()
LIB_PIDS=()
LIB_CLEANUP_HOOKS=()

skip() { echo "SKIP: $*" >&2; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "PASS${1:+: $*}"; exit 0; }
log() { echo "# $*" >&2; }

# lib_cleanup - kill our background processes (by pid), run hooks, remove
# namespaces. Idempotent; runs from the trap.
lib_cleanup() {
	local rc=$? pid h n
	trap - EXIT INT TERM
	for h in "${LIB_CLEANUP_HOOKS[@]}"; do eval "$h" || true; done
	for pid in "${LIB_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${LIB_PIDS[@]}"; do
		for n in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	for n in "${LIB_NS[@]}"; do
		ip netns del "$n" 2>/dev/null || true
	done
	exit $rc
}

# on_cleanup CMD - run CMD (a string) at cleanup, before namespaces go.
on_cleanup() { LIB_CLEANUP_HOOKS+=("$1"); }

lib_init() {
	[ "$(id -u)" = 0 ] || skip "needs root"
	command -v ip >/dev/null || skip "needs iproute2"
	ip netns add "${LIB_PFX}probe" 2>/dev/null || skip "cannot create network namespaces"
	ip netns del "${LIB_PFX}probe"
	: "${FERRY_TEST_TMP:=$(mktemp -d)}"
	mkdir -p "$FERRY_TEST_TMP"
	trap lib_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# ns NAME - the real namespace name of a short name.
ns() { echo "${LIB_PFX}-$1"; }

ns_create() {
	local n; n=$(ns "$1")
	ip netns add "$n" || fail "ip netns add $n"
	LIB_NS+=("$n")
	ip -n "$n" link set lo up
}

# nsx NAME CMD... - run CMD inside namespace NAME.
nsx() { local n; n=$(ns "$1"); shift; ip netns exec "$n" "$@"; }

# veth_pair NS1 IF1 ADDR1/LEN NS2 IF2 ADDR2/LEN [MTU] [QUEUES] - a veth pair
# between two namespaces, addressed and up, with QUEUES rx/tx queues each.
# Temporary names in the root namespace are unique per test and vanish when
# the ends move.
veth_pair() {
	local n1 n2 t1="${LIB_PFX}a${#LIB_NS[@]}" t2="${LIB_PFX}b${#LIB_NS[@]}" mtu=${7:-1500} q=${8:-1}
	n1=$(ns "$1"); n2=$(ns "$4")
	t1=${t1:0:15}; t2=${t2:0:15}
	ip link add "$t1" numtxqueues "$q" numrxqueues "$q" mtu "$mtu" type veth \
		peer name "$t2" numtxqueues "$q" numrxqueues "$q" mtu "$mtu" || fail "ip link add veth"
	ip link set "$t1" netns "$n1" || fail "move $t1"
	ip link set "$t2" netns "$n2" || fail "move $t2"
	ip -n "$n1" link set "$t1" name "$2"
	ip -n "$n2" link set "$t2" name "$5"
	ip -n "$n1" addr add "$3" dev "$2"
	ip -n "$n2" addr add "$6" dev "$5"
	ip -n "$n1" link set "$2" up
	ip -n "$n2" link set "$5" up
}

# bg_start NS LOG CMD... - start CMD in NS in the background, output to LOG;
# sets BG_PID. Killed (TERM, then KILL) at cleanup.
bg_start() {
	local n; n=$(ns "$1"); local logf=$2; shift 2
	: >"$logf" # truncate now: a waiter must not see a previous run's lines
	ip netns exec "$n" "$@" >"$logf" 2>&1 &
	BG_PID=$!
	LIB_PIDS+=("$BG_PID")
}

# wait_for FILE REGEX [SECONDS] - wait until a line of FILE matches.
wait_for() {
	local f=$1 re=$2 t=${3:-10} i
	for ((i = 0; i < t * 10; i++)); do
		grep -qE "$re" "$f" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# xdp_attached NS IF - true when an XDP program is attached to IF.
xdp_attached() { nsx "$1" ip -d link show dev "$2" | grep -qE 'prog/xdp|xdpgeneric|xdpdrv|xdp '; }

# stat_of FILE NAME - last value of "NAME value" in a stats dump.
stat_of() { awk -v k="$2" '$1 == k { v = $2 } END { print v + 0 }' "$1"; }
