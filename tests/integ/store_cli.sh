#!/bin/bash
# store_cli.sh - `ferry format` and `ferry fsck` on a file, end to end.
#
# format prints the UUIDs; a second format of a too-small file fails with one
# line; fsck of a fresh store is clean (exit 0); after a bit flip in the first
# superblock fsck reports it (exit 1); a bad --cluster is a usage error (2).
#
# Environment: FERRY (path of build/ferry), FERRY_TEST_TMP (private temp dir).
# Exit: 0 pass, 1 fail, 77 skip (O_DIRECT unsupported on FERRY_TEST_TMP).
set -u

fail() { echo "store_cli: FAIL: $*" >&2; exit 1; }
skip() { echo "store_cli: SKIP: $*" >&2; exit 77; }

[ -n "${FERRY:-}" ] || fail "FERRY is not set"
[ -n "${FERRY_TEST_TMP:-}" ] || fail "FERRY_TEST_TMP is not set"
[ -x "$FERRY" ] || fail "$FERRY is not an executable file"

disk=$FERRY_TEST_TMP/store_cli.img
small=$FERRY_TEST_TMP/store_cli_small.img
truncate -s 64M "$disk" || fail "truncate"
truncate -s 4M "$small" || fail "truncate"
cl=1b4e28ba-2fa1-11d2-883f-0016d3cca427
nd=6fa459ea-ee8a-3ca4-894e-db77e160355e

out=$("$FERRY" format --disk "$disk" --cluster $cl --node $nd --max-chunk 1m 2>&1)
rc=$?
if [ $rc != 0 ]; then
	case $out in *"Invalid argument"*) skip "O_DIRECT not supported here: $out" ;; esac
	fail "format exit $rc: $out"
fi
echo "$out" | grep -q "^cluster $cl$" || fail "format did not print the cluster: $out"
echo "$out" | grep -q "^node $nd$" || fail "format did not print the node: $out"
echo "$out" | grep -q "^disk [0-9a-f-]\{36\}$" || fail "format did not print a disk UUID: $out"
echo "$out" | grep -q "^max_chunk 1048576$" || fail "max_chunk not 1m: $out"

# A random node UUID when --node is absent.
out=$("$FERRY" format --disk "$disk" --cluster $cl 2>&1) || fail "format without --node: $out"
echo "$out" | grep -q "^node [0-9a-f-]\{36\}$" || fail "no random node UUID: $out"

err=$("$FERRY" format --disk "$small" --cluster $cl 2>&1 >/dev/null)
[ $? = 1 ] || fail "format of a 4 MiB file did not exit 1"
[ "$(echo "$err" | grep -c .)" -ge 1 ] || fail "format of a small file printed nothing"

"$FERRY" format --disk "$disk" --cluster not-a-uuid >/dev/null 2>&1
[ $? = 2 ] || fail "bad --cluster is not a usage error"

out=$("$FERRY" fsck --disk "$disk" 2>&1) || fail "fsck of a fresh store: $out"
echo "$out" | grep -q "^problems 0$" || fail "fsck output: $out"

printf '\xff' | dd of="$disk" bs=1 seek=50 conv=notrunc status=none || fail "dd"
"$FERRY" fsck --disk "$disk" >/dev/null 2>&1
[ $? = 1 ] || fail "fsck did not report a corrupt superblock"
echo "store_cli: ok"
exit 0
