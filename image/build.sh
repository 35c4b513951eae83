#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# image/build.sh - build the node image for one board.
#
#   image/build.sh [--board NAME] [--ferry BIN] [--out DIR] [--keys "ferry.k=v ..."]
#
# Writes DIR (default build/image/<board>/):
#   vmlinuz      the board's kernel (Debian's bzImage, unchanged)
#   initrd.img   newc cpio: /init (= ferry), /dev/console, the module closure
#                and its load list, the ctl's extra modules (ext4) and their
#                list, the ctl state file system template, firmware;
#                compressed without timestamps
#   cmdline      the board's kernel command line + deployment keys
#   boot.ipxe    iPXE script: fetch kernel+initrd next to itself, pass the lease
#   SHA256SUMS   of the four files above
#
# Reproducible: every timestamp is SOURCE_DATE_EPOCH (the last commit), entries
# are sorted and owned by 0:0, gzip -n / xz --check=crc32 write no names or
# times. Two builds from the same inputs are byte-identical
# (tests/integ/image_reproducible.sh checks it).
set -euo pipefail
LC_ALL=C
export LC_ALL

here=$(cd "$(dirname "$0")/.." && pwd)
board=qemu-x86_64
ferry=$here/build/ferry
out=
keys=${FERRY_KEYS:-}
while [ $# -gt 0 ]; do
	case $1 in
	--board) board=$2; shift 2 ;;
	--ferry) ferry=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--keys) keys=$2; shift 2 ;;
	*) echo "image: unknown argument $1" >&2; exit 2 ;;
	esac
done
out=${out:-$here/build/image/$board}
conf=$here/board/$board/board.conf
[ -f "$conf" ] || { echo "image: no board '$board' (board/$board/board.conf)" >&2; exit 2; }
BOARD_FIRMWARE_OPTIONAL=
# shellcheck source=/dev/null
. "$conf"
[ -x "$ferry" ] || { echo "image: $ferry missing; run make first" >&2; exit 1; }
kernel=/boot/vmlinuz-$BOARD_KVER
moddir=/lib/modules/$BOARD_KVER
[ -f "$kernel" ] && [ -d "$moddir" ] ||
	{ echo "image: kernel $BOARD_KVER not installed ($BOARD_KERNEL_PKG); run make deps" >&2; exit 1; }
for k in $keys; do
	case $k in ferry.*=*) ;; *) echo "image: --keys: '$k' is not a ferry.KEY=VALUE" >&2; exit 2 ;; esac
done

SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$here" log -1 --format=%ct 2>/dev/null || echo 0)}
export SOURCE_DATE_EPOCH
buildid=$(sha256sum "$ferry" | cut -c1-12)

stage=$(mktemp -d "${TMPDIR:-/tmp}/ferry-image.XXXXXX")
trap 'rm -rf "$stage"' EXIT
spec=$stage/spec

# --- the spec: /init, /dev/console (the kernel opens it as fds 0-2), modules.
strip -s -o "$stage/init" "$ferry" 2>/dev/null || cp "$ferry" "$stage/init"
{
	grep -v '^#' "$here/initramfs/base.list"
	echo "file /init 0755 $stage/init"
} >"$spec"

# Module closure in load order: modprobe resolves deps and softdeps from the
# build host's modules.dep for exactly this kernel; first occurrence wins.
order=$stage/ferry.modules
: >"$order"
declare -A seen_dir=()
add_dirs() { # every parent directory of $1 once
	local p=$1 acc=
	IFS=/ read -ra parts <<<"${p%/*}"
	for d in "${parts[@]}"; do
		[ -n "$d" ] || continue
		acc=$acc/$d
		[ -n "${seen_dir[$acc]:-}" ] || { seen_dir[$acc]=1; echo "dir $acc 0755" >>"$spec"; }
	done
}
nmods=0
# closure LIST MODULES... - append the load order of MODULES to LIST, skipping
# what any list already has; one cpio entry per module file.
closure() {
	local list=$1 m deps verb path rel
	shift
	for m in "$@"; do
		deps=$(modprobe --show-depends -S "$BOARD_KVER" "$m" 2>&1) ||
			{ echo "image: module $m: $deps" >&2; exit 1; }
		while read -r verb path _; do
			[ "$verb" = insmod ] || continue # "builtin X": nothing to load
			rel=${path#"$moddir"/}
			grep -qxF "$rel" "$order" "$ctl_order" && continue
			echo "$rel" >>"$list"
			add_dirs "/lib/modules/$BOARD_KVER/$rel"
			echo "file /lib/modules/$BOARD_KVER/$rel 0644 $path" >>"$spec"
			nmods=$((nmods + 1))
		done <<<"$deps"
	done
}
# Every box loads ferry.modules; only a ctl box loads ferry-ctl.modules (the
# file system of its state disk, node/init/ctldisk.c).
ctl_order=$stage/ferry-ctl.modules
: >"$ctl_order"
# shellcheck disable=SC2086
closure "$order" $BOARD_MODULES
nnode=$nmods
# shellcheck disable=SC2086
closure "$ctl_order" ${BOARD_CTL_MODULES-ext4}
if [ -s "$order" ]; then
	echo "file /lib/modules/$BOARD_KVER/ferry.modules 0644 $order" >>"$spec"
fi
if [ -s "$ctl_order" ]; then
	echo "file /lib/modules/$BOARD_KVER/ferry-ctl.modules 0644 $ctl_order" >>"$spec"
fi

# The ctl state file system: ext4 labelled ferry-ctl, 16 MiB with a 4 MiB
# journal, which PID 1 writes onto a blank state disk (the image has no
# mkfs). Fixed UUID, hash seed and times make it reproducible; zeroed inode
# tables and journal (no lazy init) make it whole, so it may land on a disk
# with old data past its first 64 KiB. gzip -9: about 17 KB.
command -v mke2fs >/dev/null || { echo "image: mke2fs missing (e2fsprogs)" >&2; exit 1; }
truncate -s 16M "$stage/ctl-state.ext4"
E2FSPROGS_FAKE_TIME=$SOURCE_DATE_EPOCH mke2fs -q -F -t ext4 -b 4096 -N 64 -m 0 -L ferry-ctl \
	-U 4ba3c7f0-0000-4000-8000-00000000c7f5 \
	-E hash_seed=4ba3c7f0-0000-4000-8000-00000000c7f5,lazy_itable_init=0,lazy_journal_init=0,root_owner=0:0,nodiscard \
	"$stage/ctl-state.ext4" || { echo "image: mke2fs of the ctl state file system failed" >&2; exit 1; }
gzip -9 -n -c "$stage/ctl-state.ext4" >"$stage/ctl-state.ext4.gz"
add_dirs /lib/ferry/ctl-state.ext4.gz
echo "file /lib/ferry/ctl-state.ext4.gz 0644 $stage/ctl-state.ext4.gz" >>"$spec"
for fw in $BOARD_FIRMWARE; do
	[ -f "/lib/firmware/$fw" ] || { echo "image: firmware $fw missing" >&2; exit 1; }
	add_dirs "/lib/firmware/$fw"
	echo "file /lib/firmware/$fw 0644 /lib/firmware/$fw" >>"$spec"
done
for fw in $BOARD_FIRMWARE_OPTIONAL; do
	if [ -f "/lib/firmware/$fw" ]; then
		add_dirs "/lib/firmware/$fw"
		echo "file /lib/firmware/$fw 0644 /lib/firmware/$fw" >>"$spec"
	else
		echo "image: warning: optional firmware $fw not on this host (firmware-misc-nonfree" \
			"is not in the reachable archive); the driver runs without it" >&2
	fi
done

mkdir -p "$out"
python3 "$here/image/mkcpio.py" "$stage/initrd.cpio" <"$spec"
case ${BOARD_COMPRESS:-gzip} in
gzip) gzip -9 -n -c "$stage/initrd.cpio" >"$out/initrd.img" ;;
xz) xz -9 --check=crc32 -c "$stage/initrd.cpio" >"$out/initrd.img" ;;
*) echo "image: unknown BOARD_COMPRESS $BOARD_COMPRESS" >&2; exit 2 ;;
esac
cp "$kernel" "$out/vmlinuz"
touch -d "@$SOURCE_DATE_EPOCH" "$out/vmlinuz" "$out/initrd.img"

cmdline="$BOARD_CMDLINE ferry.build=$buildid${keys:+ $keys}"
printf '%s\n' "$cmdline" >"$out/cmdline"

# iPXE: relative names resolve against the script's own URI (TFTP or HTTP),
# unless the DHCP/menu setup sets ferry-base (e.g. http://10.0.0.1:8080/img/).
# The lease is passed as a static ip= (init does no DHCP) and BOOTIF picks the NIC.
cat >"$out/boot.ipxe" <<IPXE
#!ipxe
# Ferry node image: board $board, build $buildid, kernel $BOARD_KVER.
# Generated by image/build.sh; serve this directory over TFTP or HTTP.
echo Ferry node image $buildid (board $board)
$( [ -n "$keys" ] && echo "isset \${ferry-keys} || set ferry-keys $keys" )
set retries:int32 0
:fetch
kernel \${ferry-base}vmlinuz initrd=initrd.img $BOARD_CMDLINE ferry.build=$buildid ip=\${ip}:\${next-server}:\${gateway}:\${netmask}:\${hostname}::off BOOTIF=01-\${mac:hexhyp} \${ferry-keys} || goto retry
initrd --name initrd.img \${ferry-base}initrd.img || goto retry
echo Booting ferry with ip=\${ip} BOOTIF=01-\${mac:hexhyp}
boot || goto retry
:retry
inc retries
iseq \${retries} 5 && goto failed ||
echo Fetch failed, retry \${retries} in 5 s
sleep 5 ||
imgfree ||
goto fetch
:failed
echo Giving up after 5 attempts
reboot || exit 1
IPXE
touch -d "@$SOURCE_DATE_EPOCH" "$out/cmdline" "$out/boot.ipxe"
(cd "$out" && sha256sum vmlinuz initrd.img cmdline boot.ipxe >SHA256SUMS)

isz=$(stat -c %s "$out/initrd.img")
csz=$(stat -c %s "$stage/initrd.cpio")
ksz=$(stat -c %s "$out/vmlinuz")
echo "image: $out (board $board, kernel $BOARD_KVER, $nnode modules + $((nmods - nnode)) for ctl)"
echo "image: initrd.img $isz bytes ($csz uncompressed), vmlinuz $ksz bytes, total $((isz + ksz)) bytes"
