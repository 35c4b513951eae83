#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# vm_pxe.sh - a real network boot: QEMU's iPXE ROM -> slirp TFTP -> boot.ipxe -> serving.
#
# Builds the qemu-x86_64 image with deployment keys into a TFTP root, boots a
# VM with no -kernel (-boot n): the NIC's iPXE option ROM takes a DHCP lease
# from QEMU's user-mode network, fetches boot.ipxe (bootfile), which fetches
# vmlinuz and initrd.img relative to itself and passes the lease as ip= and
# BOOTIF=. PID 1 formats the blank NVMe, the node serves, and the host PUTs
# and GETs a file through a UDP hostfwd. Then the same over HTTP (DHCP
# filename = http://10.0.2.2:18080/boot.ipxe, python3 http.server on the
# netns loopback), so relative fetches go over HTTP. Runs in a private netns.
# 30-55 s here (two boots; the bzImage decompresses under TCG, the ROM waits ~5 s).
# Exit: 0 pass, 1 fail, 77 skip.
set -u
[ -f /usr/lib/ipxe/qemu/pxe-virtio.rom ] || { echo "SKIP: ipxe-qemu not installed" >&2; exit 77; }
. "$(dirname "$0")/lib_vm.sh"
vm_test_init "$@"

tftp=$tmp/tftp
keys="ferry.format=1 ferry.cluster=9e0b0071-0000-4000-8000-00000000b007 ferry.on_fatal=poweroff ferry.debug_exit=1"
vm_test_image "$tftp" --keys "$keys"
truncate -s 256M "$tmp/nvme0.img"
fq_vm_start pxe "$tmp/vm" "" \
	-netdev "user,id=n0,tftp=$tftp,bootfile=boot.ipxe,hostfwd=udp:127.0.0.1:17480-10.0.2.15:7480" \
	-device virtio-net-pci,netdev=n0,mac=52:54:00:f0:00:0b -- \
	-drive "file=$tmp/nvme0.img,if=none,id=d0,format=raw" -device nvme,serial=ferry-pxe-0,drive=d0

if ! fq_wait "$tmp/vm" 'serving /dev/' 240; then
	fq_tail "$tmp/vm" 40
	echo "FAIL: PXE-booted node did not reach serving state: $FQ_WHY" >&2
	exit 1
fi
t=$FQ_WAITED_MS
tr -d '\r' <"$tmp/vm/serial.log" | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g' |
	grep -aE 'iPXE [0-9]|tftp://|Booting ferry|Kernel command line|ferry: net:' | cut -c1-200 | sed 's/^/# /' >&2
grep -aq 'BOOTIF=01-52-54-00-f0-00-0b' "$tmp/vm/serial.log" || { echo "FAIL: BOOTIF from iPXE missing on the kernel command line" >&2; exit 1; }
head -c 200000 /dev/urandom >"$tmp/sample"
# put_get PORT NAME - PUT/GET through the hostfwd on 127.0.0.1:PORT.
put_get() {
	for _ in 1 2 3; do
		timeout 60 "$FERRY" put --node "127.0.0.1:$1" "$tmp/sample" "$2" >/dev/null 2>&1 &&
			timeout 60 "$FERRY" get --node "127.0.0.1:$1" "$2" "$tmp/back" >/dev/null 2>&1 &&
			cmp -s "$tmp/sample" "$tmp/back" && return 0
		sleep 2
	done
	return 1
}
put_get 17480 pxe-obj || { fq_tail "$tmp/vm" 20; echo "FAIL: PUT/GET through the TFTP-booted node" >&2; exit 1; }
fq_vm_stop "$tmp/vm"
echo "# TFTP: boot to serving in $t ms, PUT/GET ok" >&2

# The same boot.ipxe over HTTP: the DHCP filename is a URL, and the script's
# relative vmlinuz/initrd.img then come over HTTP too (the production path).
python3 -m http.server 18080 --bind 127.0.0.1 --directory "$tftp" >"$tmp/http.log" 2>&1 &
http_pid=$!
trap 'fq_cleanup; kill $http_pid 2>/dev/null' EXIT INT TERM
truncate -s 0 "$tmp/nvme1.img"; truncate -s 256M "$tmp/nvme1.img"
fq_vm_start pxe-http "$tmp/vm-http" "" \
	-netdev "user,id=n0,bootfile=http://10.0.2.2:18080/boot.ipxe,hostfwd=udp:127.0.0.1:17481-10.0.2.15:7480" \
	-device virtio-net-pci,netdev=n0,mac=52:54:00:f0:00:0c -- \
	-drive "file=$tmp/nvme1.img,if=none,id=d0,format=raw" -device nvme,serial=ferry-pxe-1,drive=d0
if ! fq_wait "$tmp/vm-http" 'serving /dev/' 240; then
	fq_tail "$tmp/vm-http" 40
	echo "FAIL: HTTP-PXE-booted node did not reach serving state: $FQ_WHY" >&2
	exit 1
fi
th=$FQ_WAITED_MS
grep -q 'GET /initrd.img' "$tmp/http.log" || { cat "$tmp/http.log" >&2; echo "FAIL: initrd.img was not fetched over HTTP" >&2; exit 1; }
put_get 17481 pxe-http-obj || { fq_tail "$tmp/vm-http" 20; echo "FAIL: PUT/GET through the HTTP-booted node" >&2; exit 1; }
echo "PASS: iPXE boot to serving: TFTP $t ms, HTTP $th ms; PUT/GET through both PXE-booted nodes ok"
