#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# qemu/cluster.sh - a Ferry cluster of QEMU/TCG VMs on a private network.
#
#   qemu/cluster.sh [--nodes N] [--replicas R] [--board B] [--image DIR] [--ferry BIN]
#                   [--dir DIR] [--hold | --test] [--host-veth | --no-host-veth]
#
# Starts a ctl VM (when the binary has `ferry ctl`) and N node VMs booted from
# the image (PVH vmlinux + initrd.img, the image's cmdline + per-VM ip=,
# BOOTIF=, ferry.* keys). Each node has an emulated NVMe disk (raw file under
# DIR, fixed serial ferry-<name>-nvme0; blank disks are formatted by PID 1);
# the ctl has a 64 MiB one for its state (DIR/ctl.img, formatted by its PID 1
# on first boot). --replicas R passes ferry.replicas=R to the ctl's first
# boot. Every VM has a virtio-net NIC on a tap in one bridge inside a network
# namespace the script creates (ferry-vmc-<pid>). With --host-veth (default with --hold) a
# veth pair joins that bridge to the host as 10.213.0.1/24, so host tools
# reach the VMs directly; otherwise clients run inside the namespace.
#
# Then: prints boot-to-serving time per node, waits for the nodes to register
# with the ctl, PUTs and GETs a sample file through the map (--ctl; without a
# ctl: through every node), prints the cluster status and each node's counters. --hold keeps the cluster up until Ctrl-C.
# --test also checks rejoin-by-disk: stop node n<N>, boot a fresh VM on its
# NVMe image, expect the same node UUID and the object back. Then it cuts the
# ctl VM's power and boots a fresh one on ctl.img without ferry.replicas: the
# ctl must come back with the epoch it had reached, its members and R.
# Everything (VMs by pid, the namespace with its taps, the veth) is torn down
# on exit, error or Ctrl-C. Exit: 0 ok, 1 failure, 77 QEMU/kernel missing.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
nodes=3 board=qemu-x86_64 image= ferry=$here/build/ferry dir=$here/build/vmc mode=once veth=
replicas=
cluster=c1a55e5e-f00d-4e77-8a1e-000000000001
while [ $# -gt 0 ]; do
	case $1 in
	--nodes) nodes=$2; shift 2 ;;
	--replicas) replicas=$2; shift 2 ;;
	--board) board=$2; shift 2 ;;
	--image) image=$2; shift 2 ;;
	--ferry) ferry=$2; shift 2 ;;
	--dir) dir=$2; shift 2 ;;
	--hold) mode=hold; shift ;;
	--test) mode=test; shift ;;
	--host-veth) veth=1; shift ;;
	--no-host-veth) veth=0; shift ;;
	*) echo "cluster: unknown argument $1" >&2; exit 2 ;;
	esac
done
[ -n "$veth" ] || { [ $mode = hold ] && veth=1 || veth=0; }
[ "$(id -u)" = 0 ] || { echo "cluster: needs root (netns, taps)" >&2; exit 77; }
ferry=$(readlink -f "$ferry")
[ -x "$ferry" ] || { echo "cluster: $ferry missing (make)" >&2; exit 1; }
. "$here/qemu/lib.sh"
FQ_IMAGE=${image:-$here/build/image/$board}
fq_init "$board" || exit $?
[ -f "$FQ_IMAGE/initrd.img" ] || { echo "cluster: no image in $FQ_IMAGE (make image)" >&2; exit 1; }

ns=ferry-vmc-$$
net=10.213.0
gw=$net.1
hostif=fvc$$
cleanup() {
	trap - EXIT INT TERM
	fq_cleanup
	ip netns del "$ns" 2>/dev/null
	ip link del "$hostif" 2>/dev/null
	return 0
}
trap 'cleanup' EXIT
trap 'echo; echo "cluster: stopping" >&2; exit 130' INT TERM

in_ns() { ip netns exec "$ns" "$@"; }
# client: the ferry CLI where it can reach the VMs.
client() { if [ "$veth" = 1 ]; then "$ferry" "$@"; else in_ns "$ferry" "$@"; fi; }

ip netns add "$ns" || exit 1
in_ns ip link set lo up
in_ns ip link add fbr0 type bridge
in_ns ip link set fbr0 up
if [ "$veth" = 1 ]; then
	ip link add "$hostif" type veth peer name uplink netns "$ns" || exit 1
	in_ns ip link set uplink master fbr0 up
	ip addr add "$gw/24" dev "$hostif"
	ip link set "$hostif" up
else
	in_ns ip addr add "$gw/24" dev fbr0
fi
FQ_EXEC=(ip netns exec "$ns")

have_ctl=0
"$ferry" ctl --help >/dev/null 2>&1 && have_ctl=1
mkdir -p "$dir"
base=$(cat "$FQ_IMAGE/cmdline")
# The client keeps the last map of each ctl address under FERRY_MAP_CACHE
# (default /tmp) and prefers it when its epoch is higher: a map left there
# by an earlier cluster on the same address would steer this one's clients
# ("Stale file handle" from every node). Each cluster gets its own.
export FERRY_MAP_CACHE=$dir/map-cache
rm -rf "$FERRY_MAP_CACHE" && mkdir -p "$FERRY_MAP_CACHE"

# vm NAME INDEX ROLE [DISK [SIZE [KEYS]]] - start one VM; index picks MAC, IP,
# tap. DISK is created with SIZE (default 256M) when missing; KEYS are extra
# ferry.* keys.
vm() {
	local name=$1 i=$2 role=$3 disk=${4:-} size=${5:-256M} extra=${6:-} mac ip keys drive=()
	mac=$(printf '52:54:00:fe:00:%02x' "$i")
	ip=$net.$((10 + i))
	in_ns ip tuntap add dev "tap$i" mode tap 2>/dev/null
	in_ns ip link set "tap$i" master fbr0 up
	keys="ferry.role=$role ferry.cluster=$cluster ferry.format=1 ferry.zone=z$i ferry.on_fatal=poweroff ferry.debug_exit=1"
	[ $have_ctl = 1 ] && keys="$keys ferry.ctl=$net.10:7481"
	keys="$keys${extra:+ $extra}"
	if [ -n "$disk" ]; then
		[ -f "$disk" ] || truncate -s "$size" "$disk"
		drive=(-drive "file=$disk,if=none,id=d0,format=raw" -device "nvme,serial=ferry-$name-nvme0,drive=d0")
	fi
	fq_vm_start "$name" "$dir/$name" \
		"$base ip=$ip::$gw:255.255.255.0:$name::off BOOTIF=01-${mac//:/-} $keys" \
		-netdev "tap,id=n0,ifname=tap$i,script=no,downscript=no,vhost=off" \
		-device "virtio-net-pci,netdev=n0,mac=$mac" -- "${drive[@]}"
}

rm -rf "${dir:?}"/n* "$dir/ctl" "$dir"/*.img
if [ $have_ctl = 1 ]; then
	# The ctl's state disk: PID 1 formats it (ext4 ferry-ctl) on first boot.
	vm ctl 0 ctl "$dir/ctl.img" 64M "${replicas:+ferry.replicas=$replicas}"
else
	echo "cluster: this ferry has no 'ctl' subcommand yet; nodes run standalone" >&2
fi
for i in $(seq 1 "$nodes"); do vm "n$i" "$i" node "$dir/n$i.img"; done

failed=0
printf '%-6s %-14s %s\n' VM ADDRESS BOOT-TO-SERVING
for i in $(seq 1 "$nodes"); do
	if fq_wait "$dir/n$i" 'serving /dev/' 300; then
		printf '%-6s %-14s %6.1f s  node %s\n' "n$i" "$net.$((10 + i)):7480" \
			"$(echo "$FQ_WAITED_MS / 1000" | bc -l 2>/dev/null || echo "$FQ_WAITED_MS ms")" \
			"$(fq_node_uuid "$dir/n$i")"
	else
		echo "n$i: $FQ_WHY" >&2
		fq_tail "$dir/n$i" 30
		failed=1
	fi
done
if [ $have_ctl = 1 ] && ! fq_wait "$dir/ctl" 'ctl: started on' 120; then
	echo "ctl: $FQ_WHY" >&2; fq_tail "$dir/ctl" 20; failed=1
fi
[ $failed = 0 ] || { echo "cluster: FAIL: not every VM came up" >&2; exit 1; }
if [ $have_ctl = 1 ]; then
	# A node is part of the cluster once the ctl accepted its registration
	# (first heartbeat after serving); PUTs before that would be local only.
	for i in $(seq 1 "$nodes"); do
		fq_wait "$dir/n$i" 'registered with ctl' 60 || { echo "n$i: never registered with the ctl: $FQ_WHY" >&2; exit 1; }
	done
fi
grep -ah 'ferry: probe' "$dir/n1/serial.log" | tr -d '\r' | sed 's/^.*ferry: /n1: /'

# put_get SRC NAME - PUT a sample through SRC ("--node A:P" or "--ctl A:P"),
# GET it back, compare.
sample=$dir/sample.bin
head -c 1000000 /dev/urandom >"$sample"
put_get() {
	local src=$1 name=$2
	for _ in 1 2 3; do
		# shellcheck disable=SC2086
		client put $src "$sample" "$name" >/dev/null &&
			client get $src "$name" "$dir/$name.back" >/dev/null &&
			cmp -s "$sample" "$dir/$name.back" && return 0
		sleep 2
	done
	return 1
}
if [ $have_ctl = 1 ]; then
	# Through the cluster: the client routes by the ctl's map (chain replication).
	if put_get "--ctl $net.10:7481" sample; then
		echo "cluster: PUT/GET of 1 MB 'sample' through the map (ctl $net.10:7481) ok"
	else
		echo "cluster: FAIL: PUT/GET through the ctl" >&2; failed=1
	fi
else
	for i in $(seq 1 "$nodes"); do
		if put_get "--node $net.$((10 + i)):7480" "sample-n$i"; then
			echo "n$i: PUT/GET of 1 MB sample-n$i ok"
		else
			echo "n$i: FAIL: PUT/GET" >&2; failed=1
		fi
	done
fi
if [ $have_ctl = 1 ]; then
	echo "--- cluster status (ctl $net.10:7481)"
	client status --ctl "$net.10:7481" 2>&1 | head -30
fi
for i in $(seq 1 "$nodes"); do
	echo "--- status n$i ($net.$((10 + i)):7480)"
	client stat --node "$net.$((10 + i)):7480" --node-stats 2>&1 | head -20
done
[ $failed = 0 ] || exit 1

# status_field KEY - from the head of `ferry status` ("cluster ... epoch 7
# ... R=2 ...", "nodes: 3 up, ..."; one line or two): the first number after
# KEY ("epoch", "R=").
status_field() {
	client status --ctl "$net.10:7481" 2>/dev/null | head -n3 |
		grep -oE "$1 ?[0-9]+" | head -n1 | grep -oE '[0-9]+$'
}

# ctl_reboot - cut the ctl VM's power (QEMU killed: nothing is flushed or
# unmounted) and boot a fresh VM on its state disk without ferry.replicas.
# The state must have survived: the new ctl starts from the map it saved,
# with the epoch it had reached, its members and the R set at first boot.
ctl_reboot() {
	local e0 elast r0 line e1 n1 r1 up
	e0=$(status_field epoch) r0=$(status_field R=)
	[ -n "$e0" ] && [ -n "$r0" ] || { echo "ctl reboot: FAIL: no status from the ctl" >&2; return 1; }
	fq_vm_stop "$dir/ctl"
	# The newest epoch the ctl reached: the largest it logged (it logs a
	# new epoch before saving it).
	elast=$(tr -d '\r' <"$dir/ctl/serial.log" | grep -a 'ferry ctl: ' | grep -oE 'epoch [0-9]+' |
		cut -d' ' -f2 | sort -n | tail -n1)
	echo "ctl reboot: ctl at epoch $e0 (last logged ${elast:-?}), R=$r0; power cut, booting a fresh VM on ctl.img"
	in_ns ip link del tap0 2>/dev/null
	vm ctl-again 0 ctl "$dir/ctl.img"
	if ! fq_wait "$dir/ctl-again" 'ctl: started on' 120; then
		echo "ctl reboot: FAIL: $FQ_WHY" >&2; fq_tail "$dir/ctl-again" 30; return 1
	fi
	grep -aq 'formatting blank' "$dir/ctl-again/serial.log" &&
		{ echo "ctl reboot: FAIL: the state disk was formatted again" >&2; return 1; }
	line=$(tr -d '\r' <"$dir/ctl-again/serial.log" | grep -aoE 'ctl: started on .*' | head -n1)
	e1=$(grep -oE 'epoch [0-9]+' <<<"$line" | cut -d' ' -f2)
	n1=$(grep -oE '[0-9]+ nodes' <<<"$line" | cut -d' ' -f1)
	r1=$(grep -oE 'R=[0-9]+' <<<"$line" | cut -d= -f2)
	# Same epoch: what it had answered with (e0) at least, what it had
	# reached (elast) at most. A ctl without its state would start at 0.
	[ -n "$e1" ] && [ "$e1" -ge "$e0" ] && [ "$e1" -le "${elast:-$e0}" ] ||
		{ echo "ctl reboot: FAIL: came back at epoch '$e1', had $e0 (last logged $elast): $line" >&2; return 1; }
	[ "$n1" = "$nodes" ] || { echo "ctl reboot: FAIL: came back with '$n1' nodes, not $nodes: $line" >&2; return 1; }
	[ "$r1" = "$r0" ] || { echo "ctl reboot: FAIL: came back with R=$r1, not $r0: $line" >&2; return 1; }
	# The nodes keep heartbeating to the same address and are all up again.
	for _ in $(seq 60); do
		up=$(client status --ctl "$net.10:7481" 2>/dev/null | head -n3 | grep -oE '[0-9]+ up' | head -n1 | cut -d' ' -f1)
		[ "$up" = "$nodes" ] && break
		sleep 1
	done
	[ "$up" = "$nodes" ] || { echo "ctl reboot: FAIL: only '${up}' of $nodes nodes up after the ctl reboot" >&2; return 1; }
	[ "$(status_field R=)" = "$r0" ] || { echo "ctl reboot: FAIL: status shows R=$(status_field R=)" >&2; return 1; }
	# Retried like every client call here: a heartbeat late under TCG load
	# can still move the epoch once, and the client then refetches the map.
	for _ in 1 2 3; do
		client get --ctl "$net.10:7481" sample "$dir/ctlreboot.back" >/dev/null 2>"$dir/ctlreboot.err" &&
			cmp -s "$sample" "$dir/ctlreboot.back" && break
		sleep 2
	done
	cmp -s "$sample" "$dir/ctlreboot.back" ||
		{ cat "$dir/ctlreboot.err" >&2; echo "ctl reboot: FAIL: 'sample' not readable through the rebooted ctl" >&2; return 1; }
	client status --ctl "$net.10:7481" 2>&1 | head -n2
	echo "ctl reboot: came back at epoch $e1 with $n1 nodes and R=$r1 from its state disk in $((FQ_WAITED_MS / 1000)) s; $up nodes up, 'sample' reads back"
}

if [ $mode = test ]; then
	# Rejoin by disk: the last node goes away; a fresh VM gets its NVMe image.
	last=n$nodes
	uuid=$(fq_node_uuid "$dir/$last")
	chunks_before=$(client stat --node "$net.$((10 + nodes)):7480" --node-stats 2>/dev/null | awk '$1 == "store_chunks" { print $2 }')
	fq_vm_stop "$dir/$last"
	echo "rejoin: stopped $last (node $uuid); booting a fresh VM on $last.img"
	in_ns ip link del "tap$nodes" 2>/dev/null
	vm "$last-again" "$nodes" node "$dir/$last.img"
	if ! fq_wait "$dir/$last-again" 'serving /dev/' 300; then
		echo "rejoin: FAIL: $FQ_WHY" >&2; fq_tail "$dir/$last-again" 30; exit 1
	fi
	uuid2=$(fq_node_uuid "$dir/$last-again")
	[ -n "$uuid" ] && [ "$uuid" = "$uuid2" ] || { echo "rejoin: FAIL: node UUID $uuid became '$uuid2'" >&2; exit 1; }
	t_rejoin=$((FQ_WAITED_MS / 1000))
	# Its chunks are still on its disk: the store reopened all of them (the
	# serving line counts them before the cluster's rejoin walk moves any).
	chunks=$(tr -d '\r' <"$dir/$last-again/serial.log" | grep -aoE 'serving /dev/[^ ]+ on .*, ([0-9]+) chunks\)' | grep -oE '[0-9]+ chunks' | cut -d' ' -f1 | head -n1)
	[ -n "$chunks" ] && [ "$chunks" = "$chunks_before" ] ||
		{ echo "rejoin: FAIL: $last had $chunks_before chunks, now reports '${chunks}'" >&2; exit 1; }
	[ $have_ctl = 1 ] && { fq_wait "$dir/$last-again" 'registered with ctl' 60 ||
		{ echo "rejoin: FAIL: no re-registration with the ctl: $FQ_WHY" >&2; exit 1; }; }
	# The object put through it reads back: from the node itself, or through
	# the cluster (which node serves what is placement's business).
	got=
	: >"$dir/rejoin.err"
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		if [ $have_ctl = 1 ]; then srcs=("--ctl $net.10:7481"); obj=sample
		else srcs=("--node $net.$((10 + nodes)):7480"); obj=sample-$last; fi
		for src in "${srcs[@]}"; do
			# shellcheck disable=SC2086
			{ echo -n "$src: "; client get $src "$obj" "$dir/rejoin.back"; } >/dev/null 2>>"$dir/rejoin.err" &&
				cmp -s "$sample" "$dir/rejoin.back" && { got=$src; break 2; }
		done
		sleep 2
	done
	[ -n "$got" ] || { cat "$dir/rejoin.err" >&2; echo "rejoin: FAIL: $obj not readable after rejoin" >&2; exit 1; }
	[ $have_ctl = 1 ] && client status --ctl "$net.10:7481" 2>&1 | head -8
	echo "rejoin: $last came back as node $uuid2 in $t_rejoin s with its $chunks chunks; '$obj' reads back ($got)"
	[ $have_ctl = 1 ] && { ctl_reboot || exit 1; }
	echo "cluster: PASS"
	exit 0
fi
if [ $mode = hold ]; then
	echo
	echo "cluster up: nodes $net.11..$net.$((10 + nodes)) port 7480$([ "$veth" = 1 ] && echo " (reachable from this host via $hostif)")"
	if [ $have_ctl = 1 ]; then
		echo "  e.g. $ferry put --ctl $net.10:7481 FILE NAME ; $ferry status --ctl $net.10:7481"
	else
		echo "  e.g. $ferry put --node $net.11:7480 FILE NAME"
	fi
	echo "  serial logs: $dir/*/serial.log"
	echo "Ctrl-C to stop."
	while :; do
		sleep 5
		for i in $(seq 1 "$nodes"); do
			[ -s "$dir/n$i/qemu.rc" ] && { echo "n$i ended: $(fq_exit_meaning "$(cat "$dir/n$i/qemu.rc")")" >&2; exit 1; }
		done
	done
fi
exit 0
