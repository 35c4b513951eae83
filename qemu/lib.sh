# SPDX-License-Identifier: Apache-2.0
# qemu/lib.sh - boot Ferry node images under QEMU/TCG. Source it.
#
#   . qemu/lib.sh
#   fq_init BOARD                  # board.conf, image dir, PVH vmlinux; 77 if no qemu/kernel
#   FQ_EXEC=(ip netns exec NS)     # optional prefix to run QEMU inside a netns
#   fq_vm_start NAME DIR "APPEND" NETARGS... -- [QEMU ARGS...]   # (APPEND "" = PXE boot)
#   fq_wait DIR 'serving /dev/' 120  # 0 seen, 1 timeout, 2 VM ended (FQ_WHY says how)
#   fq_vm_stop DIR; fq_cleanup     # kill the QEMU pids we started, nothing else
#
# Exit status of a VM (QEMU runs with -no-reboot, panic=-1):
#   3  ferry PID 1 hit a fatal error (isa-debug-exit 0x01, ferry.debug_exit=1)
#   33 orderly shutdown (isa-debug-exit 0x10)
#   1  kernel panic (pvpanic-pci + -action panic=exit-failure)
#   0  poweroff/reboot without debug-exit, or killed by us
# and a VM still running at the deadline is a hang: fq_wait returns 1.

FQ_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FQ_VMS=()
FQ_EXEC=()
FQ_WHY=

fq_say() { echo "vm: $*" >&2; }

# fq_init BOARD - load the board, find QEMU and the kernel. Returns 77 (skip)
# when something is not installed, 1 when the image was not built.
fq_init() {
	FQ_BOARD=${1:-qemu-x86_64}
	# shellcheck source=/dev/null
	. "$FQ_ROOT/board/$FQ_BOARD/board.conf" || return 1
	FQ_QEMU=$(command -v qemu-system-x86_64) || { fq_say "qemu-system-x86_64 not installed (make deps)"; return 77; }
	[ -f "/boot/vmlinuz-$BOARD_KVER" ] || { fq_say "kernel $BOARD_KVER not installed (make deps)"; return 77; }
	FQ_IMAGE=${FQ_IMAGE:-$FQ_ROOT/build/image/$FQ_BOARD}
	FQ_VMLINUX=$FQ_ROOT/build/qemu/vmlinux-$BOARD_KVER
	if [ ! -s "$FQ_VMLINUX" ]; then
		# PVH boot of the uncompressed kernel skips ~4 s of XZ decompression
		# under TCG (research/qemu.md §1). Extract once, cache in build/.
		mkdir -p "$(dirname "$FQ_VMLINUX")"
		python3 - "/boot/vmlinuz-$BOARD_KVER" "$FQ_VMLINUX.tmp" <<'PY' || return 1
import lzma, sys
d = open(sys.argv[1], "rb").read()
o = d.find(b"\xfd7zXZ\x00")
if o < 0:
    sys.exit("vmlinux: no XZ payload in " + sys.argv[1])
open(sys.argv[2], "wb").write(lzma.LZMADecompressor().decompress(d[o:]))
PY
		mv "$FQ_VMLINUX.tmp" "$FQ_VMLINUX"
	fi
	return 0
}

# fq_now - wall clock in ms.
fq_now() { date +%s%3N; }

# fq_vm_start NAME DIR APPEND NETARGS... -- EXTRA...
# APPEND empty: no -kernel (boot from the NIC's iPXE ROM).
fq_vm_start() {
	local name=$1 dir=$2 append=$3
	shift 3
	local net=() extra=() boot=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do net+=("$1"); shift; done
	[ "${1:-}" = -- ] && shift
	extra=("$@")
	mkdir -p "$dir"
	rm -f "$dir/serial.log" "$dir/qemu.rc" "$dir/qemu.pid"
	: >"$dir/serial.log"
	if [ -n "$append" ]; then
		boot=(-kernel "$FQ_VMLINUX" -initrd "$FQ_IMAGE/initrd.img" -append "$append")
	else
		boot=(-boot n)
	fi
	fq_now >"$dir/start_ms"
	(
		"${FQ_EXEC[@]}" "$FQ_QEMU" -name "ferry-$name" -accel tcg -cpu max -m "${FQ_MEM:-512}" \
			-smp "${FQ_SMP:-2}" -machine q35,graphics=off -no-reboot -display none \
			-monitor none -serial "file:$dir/serial.log" \
			-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
			-device pvpanic-pci -action panic=exit-failure \
			"${boot[@]}" "${net[@]}" "${extra[@]}" </dev/null >"$dir/qemu.out" 2>&1 &
		echo $! >"$dir/qemu.pid"
		wait $!
		echo $? >"$dir/qemu.rc"
	) &
	for _ in 1 2 3 4 5 6 7 8 9 10; do [ -s "$dir/qemu.pid" ] && break; sleep 0.1; done
	FQ_VMS+=("$dir")
	fq_say "$name: started QEMU pid $(cat "$dir/qemu.pid" 2>/dev/null) (serial: $dir/serial.log)"
}

# fq_exit_meaning RC - words for a QEMU exit status.
fq_exit_meaning() {
	case $1 in
	3) echo "ferry PID 1 fatal error (debug-exit)" ;;
	33) echo "orderly shutdown (debug-exit)" ;;
	1) echo "kernel panic (pvpanic) or QEMU error" ;;
	0) echo "powered off / rebooted / killed" ;;
	*) echo "QEMU exit $1" ;;
	esac
}

# fq_wait DIR REGEX SECONDS - wait for a serial line; sets FQ_WHY and FQ_WAITED_MS.
fq_wait() {
	local dir=$1 re=$2 secs=$3 start deadline rc
	start=$(cat "$dir/start_ms")
	deadline=$(($(fq_now) + secs * 1000))
	while :; do
		if grep -aqE -- "$re" "$dir/serial.log" 2>/dev/null; then
			FQ_WAITED_MS=$(($(fq_now) - start))
			FQ_WHY="seen after ${FQ_WAITED_MS} ms"
			return 0
		fi
		if [ -s "$dir/qemu.rc" ]; then
			rc=$(cat "$dir/qemu.rc")
			FQ_WHY="VM ended with status $rc: $(fq_exit_meaning "$rc")"
			return 2
		fi
		if [ "$(fq_now)" -ge "$deadline" ]; then
			FQ_WHY="hang: no '$re' within ${secs} s"
			return 1
		fi
		sleep 0.2
	done
}

# fq_tail DIR - the interesting end of a serial log.
fq_tail() {
	tr -d '\r' <"$1/serial.log" | grep -av '^\s*$' | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g; s/\x1bc//g' |
		tail -n "${2:-25}" | sed 's/^/    | /' >&2
}

# fq_vm_stop DIR - kill the QEMU we started for DIR and wait for it.
fq_vm_stop() {
	local dir=$1 pid
	pid=$(cat "$dir/qemu.pid" 2>/dev/null) || return 0
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null || true
}

fq_cleanup() {
	local d
	for d in "${FQ_VMS[@]}"; do fq_vm_stop "$d"; done
	FQ_VMS=()
}

# fq_node_uuid DIR - the node UUID the VM's node printed when it started serving.
fq_node_uuid() {
	tr -d '\r' <"$1/serial.log" | grep -aoE 'node [0-9a-f-]{36} serving' | tail -n1 | cut -d' ' -f2
}
