#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# vm_fatal.sh - bad boot input ends the VM with one clear console line, not a hang or panic.
#
# Boots the qemu-x86_64 image five times with broken command lines
# (unknown ferry.* key; a ctl knob with a bad value; BOOTIF naming no NIC; no
# disk attached; a ctl box without a state disk) and expects each time: a
# "ferry: FATAL: ..." console line naming the problem, and QEMU
# exit status 3 (PID 1 wrote isa-debug-exit 0x01 because ferry.debug_exit=1,
# then powered off as ferry.on_fatal=poweroff says). Status 1 would be a
# kernel panic, a timeout a hang.
# Exit: 0 pass, 1 fail, 77 skip.
set -u
. "$(dirname "$0")/lib_vm.sh"
vm_test_init "$@"

FQ_IMAGE=$tmp/image
vm_test_image "$FQ_IMAGE"
truncate -s 64M "$tmp/nvme0.img"
base="$(cat "$FQ_IMAGE/cmdline") ferry.on_fatal=poweroff ferry.debug_exit=1 ferry.wait=3"
ip="ip=10.0.2.15::10.0.2.2:255.255.255.0:fatal::off"
nic=(-netdev user,id=n0 -device virtio-net-pci,netdev=n0,mac=52:54:00:f0:00:02)
disk=(-drive file="$tmp/nvme0.img",if=none,id=d0,format=raw -device nvme,serial=ferry-fatal-0,drive=d0)

failed=0
# check NAME WANT APPEND QEMU-ARGS... : boot, expect exit 3 and WANT on the console.
check() {
	local name=$1 want=$2 append=$3
	shift 3
	fq_vm_start "$name" "$tmp/$name" "$append" "$@"
	fq_wait "$tmp/$name" 'ferry: FATAL' 90
	local w=$?
	for _ in $(seq 50); do [ -s "$tmp/$name/qemu.rc" ] && break; sleep 0.2; done
	local rc
	rc=$(cat "$tmp/$name/qemu.rc" 2>/dev/null || echo none)
	if [ $w = 0 ] && [ "$rc" = 3 ] && grep -aq -- "$want" "$tmp/$name/serial.log"; then
		echo "# $name: exit 3 and: $(tr -d '\r' <"$tmp/$name/serial.log" | grep -a -m1 'ferry: FATAL' | cut -c1-160)" >&2
	else
		echo "# $name: FAILED ($FQ_WHY; qemu status $rc; wanted '$want')" >&2
		fq_tail "$tmp/$name" 20
		failed=1
	fi
	fq_vm_stop "$tmp/$name"
}

check badkey 'unknown key ferry.colour' \
	"$base $ip BOOTIF=01-52-54-00-f0-00-02 ferry.colour=blue" "${nic[@]}" -- "${disk[@]}"
check badknob 'ferry.down_after=3: want a duration' \
	"$base $ip BOOTIF=01-52-54-00-f0-00-02 ferry.role=ctl ferry.down_after=3" "${nic[@]}" -- "${disk[@]}"
check nonic 'no NIC with MAC 52:54:00:f0:00:99' \
	"$base $ip BOOTIF=01-52-54-00-f0-00-99" "${nic[@]}" -- "${disk[@]}"
check nodisk 'no disks found' \
	"$base $ip BOOTIF=01-52-54-00-f0-00-02" "${nic[@]}"
# A ctl whose state would not survive a reboot does not start at all.
check noctldisk 'FATAL: ctl: no state disk' \
	"$base $ip BOOTIF=01-52-54-00-f0-00-02 ferry.role=ctl" "${nic[@]}"
[ $failed = 0 ] || { echo "FAIL: see above" >&2; exit 1; }
echo "PASS: bad key, bad ctl knob, missing NIC, missing disk and missing ctl state disk each end in one FATAL line and debug-exit 3"
