#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# vm_supervise.sh - PID 1 restarts a failing node with growing backoff and stays up.
#
# The VM's NVMe disk is formatted (on the host) for cluster B, the kernel
# command line says ferry.cluster=A without ferry.format: PID 1 must leave
# the non-blank disk alone (no reformat!), the node refuses the foreign disk
# and exits, and PID 1 logs each exit and restarts it after 1 s, 2 s, 4 s...
# The VM must neither panic nor power off meanwhile. Then the disk
# image must be byte-identical to what was formatted.
# Exit: 0 pass, 1 fail, 77 skip.
set -u
. "$(dirname "$0")/lib_vm.sh"
vm_test_init "$@"

FQ_IMAGE=$tmp/image
vm_test_image "$FQ_IMAGE"
cluster_a=aaaaaaaa-0000-4000-8000-00000000000a
cluster_b=bbbbbbbb-0000-4000-8000-00000000000b
truncate -s 64M "$tmp/nvme0.img"
"$FERRY" format --disk "$tmp/nvme0.img" --cluster "$cluster_b" >"$tmp/format.log" 2>&1 ||
	{ cat "$tmp/format.log" >&2; echo "FAIL: host-side format" >&2; exit 1; }
before=$(sha256sum <"$tmp/nvme0.img")
fq_vm_start sup "$tmp/vm" \
	"$(cat "$FQ_IMAGE/cmdline") ip=10.0.2.15::10.0.2.2:255.255.255.0:sup::off BOOTIF=01-52-54-00-f0-00-05 ferry.cluster=$cluster_a ferry.on_fatal=poweroff ferry.debug_exit=1" \
	-netdev user,id=n0 -device virtio-net-pci,netdev=n0,mac=52:54:00:f0:00:05 -- \
	-drive "file=$tmp/nvme0.img,if=none,id=d0,format=raw" -device nvme,serial=ferry-sup-0,drive=d0
if ! fq_wait "$tmp/vm" 'node: exited with status [0-9]+ after [0-9]+ ms; restart 3 in 4000 ms' 120; then
	fq_tail "$tmp/vm" 30
	echo "FAIL: no third restart with 4 s backoff: $FQ_WHY" >&2
	exit 1
fi
tr -d '\r' <"$tmp/vm/serial.log" | grep -aE 'ferry: node: (started|exited)' | cut -c1-150 | sed 's/^/# /' >&2
grep -aq 'formatting blank' "$tmp/vm/serial.log" && { echo "FAIL: PID 1 formatted a non-blank disk" >&2; exit 1; }
[ -s "$tmp/vm/qemu.rc" ] && { echo "FAIL: VM ended: $(fq_exit_meaning "$(cat "$tmp/vm/qemu.rc")")" >&2; exit 1; }
fq_vm_stop "$tmp/vm"
[ "$(sha256sum <"$tmp/nvme0.img")" = "$before" ] || { echo "FAIL: the foreign disk was modified" >&2; exit 1; }
echo "PASS: node refused a foreign disk, PID 1 restarted it with 1/2/4 s backoff, disk untouched"
