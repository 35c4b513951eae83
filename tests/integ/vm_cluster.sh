#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# vm_cluster.sh - 3 node VMs (+ ctl when ferry has it) on a bridged netns,
# PUT/GET on every node, then rejoin-by-disk (qemu/cluster.sh --test).
# Slow under TCG: runs only from `make test-vm` (FERRY_TEST_VM=1), skips otherwise.
# Exit: 0 pass, 1 fail, 77 skip.
set -u
here=$(cd "$(dirname "$0")/../.." && pwd)
[ "${FERRY_TEST_VM:-0}" = 1 ] || { echo "SKIP: VM cluster test runs in make test-vm (FERRY_TEST_VM=1)" >&2; exit 77; }
[ -n "${FERRY:-}" ] && [ -x "$FERRY" ] || { echo "SKIP: no \$FERRY binary" >&2; exit 77; }
command -v qemu-system-x86_64 >/dev/null || { echo "SKIP: qemu not installed" >&2; exit 77; }
tmp=${FERRY_TEST_TMP:-$(mktemp -d)}
"$here/image/build.sh" --ferry "$FERRY" --out "$tmp/image" >"$tmp/image.log" 2>&1 ||
	{ cat "$tmp/image.log" >&2; echo "FAIL: image build" >&2; exit 1; }
"$here/qemu/cluster.sh" --test --nodes 3 --image "$tmp/image" --ferry "$FERRY" --dir "$tmp/vmc"
rc=$?
[ $rc = 0 ] && echo "PASS: 3-VM cluster serves PUT/GET and a node rejoins by disk"
exit $rc
