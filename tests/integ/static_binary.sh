#!/bin/bash
# static_binary.sh - the shipped `ferry` is one static binary that runs alone.
#
# Checks that `file` calls $FERRY statically linked, then copies it alone into an
# empty directory and runs `env -i chroot DIR /ferry version`: no loader, no
# shared libraries, no environment, no /proc or /sys. It must exit 0 and print a
# version line.
#
# Environment: FERRY (path of build/ferry), FERRY_TEST_TMP (private temp dir).
# Exit: 0 pass, 1 fail, 77 skip (not root, or no chroot/file).
set -u

fail() { echo "static_binary: FAIL: $*" >&2; exit 1; }
skip() { echo "static_binary: SKIP: $*" >&2; exit 77; }

[ -n "${FERRY:-}" ] || fail "FERRY is not set"
[ -n "${FERRY_TEST_TMP:-}" ] || fail "FERRY_TEST_TMP is not set"
[ -x "$FERRY" ] || fail "$FERRY is not an executable file"
command -v file >/dev/null || skip "file(1) not installed (make deps)"
CHROOT=$(command -v chroot) || skip "chroot(8) not installed"
[ "$(id -u)" = 0 ] || skip "chroot needs root"

desc=$(file -b "$FERRY") || fail "file $FERRY failed"
case $desc in
*"statically linked"*) ;;
*) fail "$FERRY is not statically linked: $desc" ;;
esac

root=$FERRY_TEST_TMP/static-root
rm -rf "$root"
mkdir -p "$root" || fail "cannot create $root"
cp "$FERRY" "$root/ferry" || fail "cannot copy $FERRY into $root"

out=$(env -i "$CHROOT" "$root" /ferry version 2>"$FERRY_TEST_TMP/static-stderr")
rc=$?
rm -rf "$root"
[ $rc -eq 0 ] || fail "'chroot $root /ferry version' exited $rc: $(head -n 3 "$FERRY_TEST_TMP/static-stderr")"
line=$(printf '%s\n' "$out" | head -n 1)
[[ $line =~ [0-9a-f]{7}|[0-9]+\.[0-9]+|unknown ]] || fail "no version in output: '$line'"
rm -f "$FERRY_TEST_TMP/static-stderr"
echo "static_binary: ok: $line"
exit 0
