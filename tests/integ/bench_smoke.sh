#!/usr/bin/env bash
# bench_smoke - ferry bench keeps working: a few hundred GETs/PUTs against a
# node (table and JSON), impossible parameters are refused with one line,
# and a run against a node that is down ends in bounded time with its
# errors counted by kind instead of hanging.
set -u
. "$(dirname "$0")/../lib/netns.sh"
netns_init
[ -x "$FERRY" ] || fail "no ferry binary at $FERRY"
T=$FERRY_TEST_TMP

netns_one_node 10.77.3 256M

json_field() { # json_field NAME: the number after "NAME": in the JSON line on stdin
	grep -o "\"$1\":[0-9.]*" | head -1 | cut -d: -f2
}

for op in put get mixed; do
	out=$(ns cli "$FERRY" bench --node "$NODE" --op $op --size 4k --count 300 -c 8 --keys 100 --json) ||
		fail "bench --op $op failed: $out"
	[ "$(echo "$out" | json_field ops)" = 300 ] || fail "bench --op $op did not count 300 ops: $out"
	[ "$(echo "$out" | json_field total)" = 0 ] || fail "bench --op $op had errors: $out"
	p50=$(echo "$out" | grep -o '"p50":[0-9.]*' | cut -d: -f2)
	awk -v p="$p50" 'BEGIN { exit !(p > 0) }' || fail "bench --op $op reported no latency: $out"
	cpu=$(echo "$out" | json_field node_cpu_us_per_op)
	awk -v c="$cpu" 'BEGIN { exit !(c > 0) }' || fail "bench --op $op reported no node CPU: $out"
done
table=$(ns cli "$FERRY" bench --node "$NODE" --op get --size 64k --count 200 -c 4 --keys 20 --dist zipf) ||
	fail "bench table run failed"
echo "$table" | grep -q 'p99.9 us' || fail "no table header: $table"

expect_error() { # expect_error PATTERN ARGS...
	local pat=$1; shift
	if "$FERRY" bench --node "$NODE" "$@" >"$T/out" 2>"$T/err"; then fail "bench $*: succeeded"; fi
	[ "$(wc -l <"$T/err")" = 1 ] || fail "bench $*: expected one error line: $(cat "$T/err")"
	grep -q -- "$pat" "$T/err" || fail "bench $*: error lacks '$pat': $(cat "$T/err")"
}
expect_error "at least 1 byte" --op get --size 0
expect_error "concurrency must be" -c 0
expect_error "unknown op 'scan'" --op scan
expect_error "unknown distribution" --dist pareto
expect_error "beyond the 4 MiB" --size 8m

# A node that is down: bounded, errors by kind.
start=$(date +%s)
if out=$(ns cli "$FERRY" bench --node 10.77.3.9:7480 --op put --count 50 -c 4 --timeout 300ms --json); then
	fail "bench against a down node succeeded: $out"
fi
[ $(( $(date +%s) - start )) -le 20 ] || fail "bench against a down node took too long"
[ "$(echo "$out" | json_field timeout)" = 50 ] || fail "timeouts not counted: $out"
echo ok
