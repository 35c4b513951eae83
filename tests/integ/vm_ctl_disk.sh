#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# vm_ctl_disk.sh - a ctl+node box (ferry.role=both) keeps the ctl's state on its
# own disk, found again by label, and never hands that disk to the node.
#
# One VM, one NVMe controller with two namespaces: nvme0n1 (64 MiB, blank,
# the ctl's) and nvme0n2 (256 MiB, blank, the node's). The ctl disk sorts
# first, so a node that took "the first disk" would take it.
#   boot 1: ferry.ctl_disk=nvme0n1, ferry.replicas=1 and the other ctl
#           knobs: PID 1 formats nvme0n1 (ext4 ferry-ctl), mounts it, passes
#           the knobs to ferry ctl (which must accept them: it would exit 2,
#           a fatal error); the node formats and serves nvme0n2, registers.
#   boot 2 (after a power cut), no ctl keys at all: the labelled disk is found
#           by itself, not formatted again; ctl starts from its saved map
#           (the node, R=1, the epoch it had); the node serves nvme0n2 again.
#   boot 3, ferry.ctl_disk=tmpfs: a loud warning, ctl starts from nothing
#           (0 nodes, R=3), and the node still does not take the labelled disk.
# Exit: 0 pass, 1 fail, 77 skip.
set -u
. "$(dirname "$0")/lib_vm.sh"
vm_test_init "$@"

FQ_IMAGE=$tmp/image
vm_test_image "$FQ_IMAGE"
cluster=c7d15c00-0000-4000-8000-00000000c7d1
truncate -s 64M "$tmp/ctl.img"
truncate -s 256M "$tmp/node.img"
base="$(cat "$FQ_IMAGE/cmdline") ip=10.0.2.15::10.0.2.2:255.255.255.0:both::off BOOTIF=01-52-54-00-f0-00-0d ferry.role=both ferry.cluster=$cluster ferry.format=1 ferry.on_fatal=poweroff ferry.debug_exit=1"
status() { timeout 20 "$FERRY" status --ctl 127.0.0.1:17481 2>/dev/null | head -n1; }
failed=0
fail() { echo "FAIL: $*" >&2; failed=1; }

# boot NAME KEYS - boot the box with extra keys; wait for the node to register.
boot() {
	local name=$1 keys=$2
	fq_vm_start "$name" "$tmp/$name" "$base $keys" \
		-netdev "user,id=n0,hostfwd=udp:127.0.0.1:17480-10.0.2.15:7480,hostfwd=udp:127.0.0.1:17481-10.0.2.15:7481" \
		-device virtio-net-pci,netdev=n0,mac=52:54:00:f0:00:0d -- \
		-device nvme,id=nvme0,serial=ferry-both-0 \
		-drive "file=$tmp/ctl.img,if=none,id=d0,format=raw" -device nvme-ns,drive=d0,bus=nvme0,nsid=1 \
		-drive "file=$tmp/node.img,if=none,id=d1,format=raw" -device nvme-ns,drive=d1,bus=nvme0,nsid=2
	if ! fq_wait "$tmp/$name" 'registered with ctl' 120; then
		fq_tail "$tmp/$name" 30
		echo "FAIL: $name: the node did not register with its ctl: $FQ_WHY" >&2
		exit 1
	fi
	echo "# $name: registered after $FQ_WAITED_MS ms" >&2
	tr -d '\r' <"$tmp/$name/serial.log" | grep -aE 'ferry: (ctl|disks): |ferry ctl: ctl: started|ferry: ctl: started|serving /dev/' |
		sed 's/^.*\] //' | cut -c1-170 | sed 's/^/#   /' >&2
}
seen() { tr -d '\r' <"$tmp/$1/serial.log" | grep -aqE -- "$2"; }
started() { tr -d '\r' <"$tmp/$1/serial.log" | grep -aoE 'ctl: started on .*' | head -n1; }
num() { grep -oE "$1[0-9]+" <<<"$2" | grep -oE '[0-9]+$' | head -n1; }

boot b1 "ferry.ctl_disk=nvme0n1 ferry.replicas=1 ferry.min_copies=1 ferry.down_after=2s ferry.out_after=1m ferry.lease=1s"
seen b1 'formatting blank /dev/nvme0n1 as the ctl state disk' || fail "boot 1 did not format nvme0n1"
seen b1 'state disk /dev/nvme0n1 mounted on /var/lib/ferry/ctl' || fail "boot 1 did not mount nvme0n1"
seen b1 'ctl --listen [0-9.:]+ --state /var/lib/ferry/ctl --replicas 1 --min-copies 1 --down-after 2000ms --out-after 60000ms --lease 1000ms ' ||
	fail "boot 1: ferry ctl did not get --replicas/--min-copies/--down-after/--out-after/--lease"
seen b1 'serving /dev/nvme0n2 ' || fail "boot 1: the node does not serve nvme0n2"
s1=$(status)
e1=$(num 'epoch ' "$s1") r1=$(num 'R=' "$s1")
[ "$r1" = 1 ] || fail "boot 1: status says '$s1', want R=1"
echo "# b1 status: $s1" >&2
fq_vm_stop "$tmp/b1"

boot b2 ""
seen b2 'formatting blank' && fail "boot 2 formatted a disk again"
seen b2 'state disk /dev/nvme0n1 mounted' || fail "boot 2 did not find the labelled nvme0n1 by itself"
seen b2 'serving /dev/nvme0n2 ' || fail "boot 2: the node does not serve nvme0n2 (it must not take the ctl's disk)"
line=$(started b2)
e2=$(num 'epoch ' "$line") n2=$(grep -oE '[0-9]+ nodes' <<<"$line" | cut -d' ' -f1) r2=$(num 'R=' "$line")
[ -n "$e2" ] && [ -n "$e1" ] && [ "$e2" -ge "$e1" ] && [ "$n2" = 1 ] && [ "$r2" = 1 ] ||
	fail "boot 2: ctl did not start from its saved map (epoch >= $e1, 1 node, R=1): '$line'"
s2=$(status)
[ "$(num 'R=' "$s2")" = 1 ] || fail "boot 2: status says '$s2', want R=1"
echo "# b2 status: $s2" >&2
fq_vm_stop "$tmp/b2"

boot b3 "ferry.ctl_disk=tmpfs"
seen b3 'WARNING: ferry.ctl_disk=tmpfs: .* LOST at every reboot' || fail "boot 3: no tmpfs warning"
seen b3 'serving /dev/nvme0n2 ' || fail "boot 3: the node took the ctl's labelled disk"
line=$(started b3)
grep -qE 'state /run/ferry/ctl, epoch 0, 0 nodes, R=3' <<<"$line" || fail "boot 3: ctl did not start empty on tmpfs: '$line'"
fq_vm_stop "$tmp/b3"
[ $failed = 0 ] || exit 1
echo "PASS: ctl+node box: state disk formatted once, found by label after a power cut with its map (epoch >= $e1, R=1), never given to the node; tmpfs mode warns"
