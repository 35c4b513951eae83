#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# vm_cluster.sh - a ctl VM with its state disk and 3 node VMs on a bridged
# netns, R=2 from the ctl's command line, PUT/GET through the map, then
# rejoin-by-disk and a ctl power cut + reboot that must keep the epoch, the
# members and R (qemu/cluster.sh --test --replicas 2). 35-60 s here under TCG.
# Exit: 0 pass, 1 fail, 77 skip.
set -u
here=$(cd "$(dirname "$0")/../.." && pwd)
[ -n "${FERRY:-}" ] && [ -x "$FERRY" ] || { echo "SKIP: no \$FERRY binary" >&2; exit 77; }
command -v qemu-system-x86_64 >/dev/null || { echo "SKIP: qemu not installed" >&2; exit 77; }
tmp=${FERRY_TEST_TMP:-$(mktemp -d)}
"$here/image/build.sh" --ferry "$FERRY" --out "$tmp/image" >"$tmp/image.log" 2>&1 ||
	{ cat "$tmp/image.log" >&2; echo "FAIL: image build" >&2; exit 1; }
"$here/qemu/cluster.sh" --test --nodes 3 --replicas 2 --image "$tmp/image" --ferry "$FERRY" --dir "$tmp/vmc"
rc=$?
[ $rc = 0 ] && echo "PASS: 3-VM cluster serves PUT/GET, a node rejoins by disk, the ctl keeps its state across a power cut"
exit $rc
