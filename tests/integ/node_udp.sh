#!/usr/bin/env bash
# node_udp - a node on kernel UDP in one namespace, clients in another:
# objects of every size round-trip byte-identical, malformed datagrams are
# dropped and counted while the node keeps serving, and bad CLI input gets
# a one-line error and a non-zero exit with nothing half-written.
set -u
. "$(dirname "$0")/../lib/netns.sh"
netns_init
[ -x "$FERRY" ] || fail "no ferry binary at $FERRY"
T=$FERRY_TEST_TMP

netns_one_node 10.77.1 512M

# Round trips of every size class.
for size in 0 1 4095 4096 4097 1048576 9437185; do
	head -c "$size" /dev/urandom >"$T/in.$size"
	ns cli "$FERRY" put --node "$NODE" "$T/in.$size" "obj/$size" || fail "put of $size bytes failed"
	ns cli "$FERRY" get --node "$NODE" "obj/$size" "$T/out.$size" || fail "get of $size bytes failed"
	cmp -s "$T/in.$size" "$T/out.$size" || fail "object of $size bytes came back different"
done
# Replacing an object is atomic and the old generation's chunks are freed.
head -c 5000000 /dev/urandom >"$T/in.replace"
ns cli "$FERRY" put --node "$NODE" "$T/in.replace" obj/1048576 || fail "replace failed"
ns cli "$FERRY" get --node "$NODE" obj/1048576 "$T/out.replace" || fail "get after replace failed"
cmp -s "$T/in.replace" "$T/out.replace" || fail "replaced object differs"
ls_out=$(ns cli "$FERRY" ls --node "$NODE") || fail "ls failed"
[ "$(echo "$ls_out" | wc -l)" = 7 ] || fail "ls listed $(echo "$ls_out" | wc -l) objects, expected 7: $ls_out"
echo "$ls_out" | grep -q ' 5000000  obj/1048576$' || fail "ls does not show the replaced size"
ns cli "$FERRY" rm --node "$NODE" obj/1 || fail "rm failed"
if ns cli "$FERRY" get --node "$NODE" obj/1 "$T/gone" 2>"$T/err"; then fail "get of a removed object succeeded"; fi
grep -q "no object named 'obj/1'" "$T/err" || fail "unexpected error for a removed object: $(cat "$T/err")"
[ ! -e "$T/gone" ] || fail "a failed get left a file behind"
stats=$(ns cli "$FERRY" stat --node "$NODE" --node-stats) || fail "node stats failed"
chunks=$(echo "$stats" | awk '$1 == "store_chunks" { print $2 }')
# 6 objects remain: 6 manifests + data chunks of 4095, 4096, 4097 (1 each; 0 bytes has
# none), 5000000 (2), 9437185 (3) = 6 + 3 + 2 + 3 = 14.
[ "$chunks" = 14 ] || fail "node holds $chunks chunks, expected 14 (leaked or lost chunks)"

# A flood of malformed datagrams: dropped, counted, and the node keeps serving.
before=$(echo "$stats" | awk '$1 ~ /^rpc_drop_/ { s += $2 } END { print s + 0 }')
ns cli bash -c '
	for i in $(seq 1 300); do
		printf "short"                                  >/dev/udp/10.77.1.1/7480
		printf "%0200d" 0                               >/dev/udp/10.77.1.1/7480
		printf "FRRY\x01\x03\x00\x00%0120d" 7            >/dev/udp/10.77.1.1/7480
		head -c 1400 /dev/urandom                       >/dev/udp/10.77.1.1/7480
	done' 2>/dev/null
ns cli "$FERRY" get --node "$NODE" obj/4096 "$T/out.after" || fail "node stopped serving after malformed input"
cmp -s "$T/in.4096" "$T/out.after" || fail "object differs after malformed input"
stats=$(ns cli "$FERRY" stat --node "$NODE" --node-stats)
after=$(echo "$stats" | awk '$1 ~ /^rpc_drop_/ { s += $2 } END { print s + 0 }')
[ $((after - before)) -ge 1200 ] || fail "only $((after - before)) of 1200 malformed datagrams were counted"
echo "$stats" | grep -E '^rpc_drop_(short|bad_magic|bad_length|bad_hdr_crc) [1-9]' >/dev/null \
	|| fail "drop reasons not counted: $(echo "$stats" | grep rpc_drop)"

# Bad input: one line on stderr, non-zero exit.
expect_error() { # expect_error WHAT PATTERN CMD...
	local what=$1 pat=$2; shift 2
	if "$@" >"$T/out" 2>"$T/err"; then fail "$what: succeeded"; fi
	[ "$(wc -l <"$T/err")" = 1 ] || fail "$what: expected one error line, got: $(cat "$T/err")"
	grep -q -- "$pat" "$T/err" || fail "$what: error does not mention '$pat': $(cat "$T/err")"
}
expect_error "unknown option" "unknown option '--bogus'" "$FERRY" put --bogus x y
expect_error "unknown command" "unknown command" "$FERRY" frobnicate
expect_error "missing file" "cannot open $T/nope" ns cli "$FERRY" put --node "$NODE" "$T/nope" x
expect_error "unreachable node" "did not answer" \
	ns cli "$FERRY" get --node 10.77.1.9:7480 --timeout 500ms obj/0 "$T/x"
long=$(printf 'n%.0s' $(seq 1 1100))
expect_error "oversized name" "limit is 1024" ns cli "$FERRY" put --node "$NODE" "$T/in.1" "$long"
expect_error "bad address" "bad node address" "$FERRY" ls --node nowhere
expect_error "missing output dir" "cannot create" \
	ns cli "$FERRY" get --node "$NODE" obj/4096 "$T/no/such/dir/out"
[ ! -e "$T/x" ] || fail "a failed get left a file"
echo "ok"
