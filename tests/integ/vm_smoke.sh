#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# vm_smoke.sh - one node VM boots from the image and serves a PUT/GET.
#
# Builds the qemu-x86_64 image of $FERRY into $FERRY_TEST_TMP, boots it with
# the PVH vmlinux (-kernel) under TCG with an emulated NVMe disk (blank,
# formatted by PID 1 because of ferry.format=1) and user-mode networking
# with a UDP hostfwd, inside a private network namespace. Then PUTs and GETs
# a file from the host side and compares, and checks that aligned chunk
# PUT/GET copy no payload in the node. Hard deadlines everywhere; only
# the QEMU pid this test started is killed.
# Exit: 0 pass, 1 fail (the serial log tail says why: fatal, panic, hang), 77 skip.
set -u
. "$(dirname "$0")/lib_vm.sh"
vm_test_init "$@"

FQ_IMAGE=$tmp/image
vm_test_image "$FQ_IMAGE"
grep 'initrd.img' "$tmp/image.log" >&2

cluster=5eb0a1c0-0000-4000-8000-00000000f001
truncate -s 256M "$tmp/nvme0.img"
append="$(cat "$FQ_IMAGE/cmdline") ip=10.0.2.15::10.0.2.2:255.255.255.0:smoke::off BOOTIF=01-52-54-00-f0-00-01 ferry.format=1 ferry.cluster=$cluster ferry.on_fatal=poweroff ferry.debug_exit=1"
fq_vm_start smoke "$tmp/vm" "$append" \
	-netdev user,id=n0,hostfwd=udp:127.0.0.1:17480-10.0.2.15:7480 \
	-device virtio-net-pci,netdev=n0,mac=52:54:00:f0:00:01 -- \
	-drive file="$tmp/nvme0.img",if=none,id=d0,format=raw -device nvme,serial=ferry-smoke-0,drive=d0

if ! fq_wait "$tmp/vm" 'serving /dev/' 120; then
	fq_tail "$tmp/vm" 40
	echo "FAIL: node VM did not reach serving state: $FQ_WHY" >&2
	exit 1
fi
echo "# boot-to-serving: ${FQ_WAITED_MS} ms (TCG, PVH vmlinux)" >&2
tr -d '\r' <"$tmp/vm/serial.log" | grep -a 'ferry: probe' | sed 's/^/# /' >&2

head -c 300000 /dev/urandom >"$tmp/sample"
ok=0
for _ in 1 2 3; do
	if timeout 60 "$FERRY" put --node 127.0.0.1:17480 "$tmp/sample" smoke-obj >"$tmp/put.log" 2>&1 &&
		timeout 60 "$FERRY" get --node 127.0.0.1:17480 smoke-obj "$tmp/back" >"$tmp/get.log" 2>&1 &&
		cmp -s "$tmp/sample" "$tmp/back"; then
		ok=1
		break
	fi
	sleep 2
done
if [ $ok != 1 ]; then
	cat "$tmp/put.log" "$tmp/get.log" >&2
	fq_tail "$tmp/vm" 30
	echo "FAIL: PUT/GET through the VM failed" >&2
	exit 1
fi
# Zero copy on the guest's kernel (6.1: plain READV/WRITEV on the UMEM) and
# its NVMe block device: aligned 4 KiB chunk PUTs and GETs move no payload
# through the node's CPU (AF_XDP on virtio-net, copy mode).
st() { timeout 30 "$FERRY" stat --node 127.0.0.1:17480 --node-stats >"$1" 2>&1; }
val() { awk -v k="$2" '$1 == k { v = $2 } END { print v + 0 }' "$1"; }
st "$tmp/s0" || { cat "$tmp/s0" >&2; echo "FAIL: node stats" >&2; exit 1; }
for op in put get; do
	timeout 120 "$FERRY" bench --node 127.0.0.1:17480 --op $op --size 4k --count 200 --keys 50 \
		-c 4 --timeout 5s >"$tmp/bench.$op" 2>&1 || { cat "$tmp/bench.$op" >&2; echo "FAIL: bench $op" >&2; exit 1; }
done
st "$tmp/s1" || { cat "$tmp/s1" >&2; echo "FAIL: node stats" >&2; exit 1; }
copied=$(( $(val "$tmp/s1" node_payload_copied_bytes) - $(val "$tmp/s0" node_payload_copied_bytes) ))
zrx=$(( $(val "$tmp/s1" rpc_zc_rx_bytes) - $(val "$tmp/s0" rpc_zc_rx_bytes) ))
echo "# guest: $(grep -E '^xsk_mode' "$tmp/s1"), store_vec_fixed $(val "$tmp/s1" store_vec_fixed); aligned PUT/GET copied $copied B, zero-copy in $zrx B" >&2
grep -q '^xsk_mode' "$tmp/s1" || { echo "FAIL: the VM node does not serve over AF_XDP" >&2; exit 1; }
[ "$copied" -eq 0 ] || { echo "FAIL: the node copied $copied payload bytes" >&2; exit 1; }
[ "$zrx" -ge $(( 200 * 4096 )) ] || { echo "FAIL: rpc_zc_rx_bytes grew by only $zrx" >&2; exit 1; }
echo "PASS: VM booted to serving in ${FQ_WAITED_MS} ms; 300 KB PUT/GET round trip matches; aligned PUT/GET zero copy"
