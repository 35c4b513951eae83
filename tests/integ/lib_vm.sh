# SPDX-License-Identifier: Apache-2.0
# tests/integ/lib_vm.sh - the common start of the QEMU tests (vm_*.sh).
#
#   . "$(dirname "$0")/lib_vm.sh"
#   vm_test_init "$@"       sets here, FERRY, tmp (and FERRY_MAP_CACHE in it: a
#                           client map cached by an earlier test on the same ctl
#                           address must not steer this one); re-executes the test in its own
#                           network namespace (slirp's hostfwd binds 127.0.0.1
#                           there, nothing leaks); sources qemu/lib.sh, runs
#                           fq_init, installs the cleanup trap. Skips (77) without
#                           root, the binary, QEMU or the board's kernel.
#   vm_test_image DIR ARGS  image/build.sh --ferry $FERRY --out DIR ARGS; fails the
#                           test with the build log if it fails.

vm_test_init() {
	local rc
	here=$(cd "$(dirname "$0")/../.." && pwd)
	[ -n "${FERRY:-}" ] && [ -x "$FERRY" ] || { echo "SKIP: no \$FERRY binary" >&2; exit 77; }
	FERRY=$(readlink -f "$FERRY")
	tmp=${FERRY_TEST_TMP:-$(mktemp -d)}
	export FERRY_MAP_CACHE=$tmp
	if [ -z "${FERRY_VM_NETNS:-}" ]; then
		[ "$(id -u)" = 0 ] || { echo "SKIP: needs root for unshare -n" >&2; exit 77; }
		FERRY_VM_NETNS=1 exec unshare -n "$0" "$@"
	fi
	ip link set lo up
	. "$here/qemu/lib.sh"
	fq_init qemu-x86_64
	rc=$?
	[ $rc = 77 ] && { echo "SKIP: qemu or kernel $BOARD_KVER not installed" >&2; exit 77; }
	[ $rc = 0 ] || { echo "FAIL: qemu setup" >&2; exit 1; }
	trap 'fq_cleanup' EXIT INT TERM
}

vm_test_image() {
	local out=$1; shift
	"$here/image/build.sh" --ferry "$FERRY" --out "$out" "$@" >"$tmp/image.log" 2>&1 ||
		{ cat "$tmp/image.log" >&2; echo "FAIL: image build" >&2; exit 1; }
}
