#!/bin/bash
# bench-store.sh - the chunk store against fio on the same file (make bench-store).
#
# 1. 4 KiB random reads and writes at QD 1 and 32 through the engine (async
#    API, zero-copy registered buffers; hidden `store-bench` command built
#    into a small host driver) and through fio --ioengine=io_uring --direct=1
#    on the same file, alternating, RUNS rounds; prints medians and ratios.
#    Engine writes are durable PUTs (data write, group flush, FUA record,
#    erase of the old record); fio randwrite is shown plain and with
#    --fdatasync=1 (a flush per write, the durable equivalent).
# 2. Open time of a store holding 1M chunks (records synthesised directly
#    into a sparse file, below the one-flush watermark as after a clean
#    close; open reads the whole record area either way).
#
# Env: BENCH_DIR (default /var/tmp), RUNS (3), SECS (3), CHUNKS (200000),
#      OPEN_CHUNKS (1000000).
set -euo pipefail
cd "$(dirname "$0")/.."

DIR=${BENCH_DIR:-/var/tmp}
RUNS=${RUNS:-3}
SECS=${SECS:-3}
CHUNKS=${CHUNKS:-200000}
OPEN_CHUNKS=${OPEN_CHUNKS:-1000000}
B=build/host
DRV=$B/store-bench
IMG=$DIR/ferry-bench-store.img
BIG=$DIR/ferry-bench-open.img
mkdir -p $B
trap 'rm -f "$IMG" "$BIG" "$B/store-bench-main.c"' EXIT

command -v fio >/dev/null || { echo "bench-store: fio missing (make deps)" >&2; exit 1; }

# --- the driver: store-bench command + a 10-line main, only storage sources ---
cat > $B/store-bench-main.c <<'C'
#include "cli/cli.h"
extern const struct cmd_def cmd_store_bench;
int main(int argc, char **argv)
{
	char **pos;
	int npos, r = opt_parse(&cmd_store_bench, argc, argv, &pos, &npos);

	if (r)
		return r == 1 ? 0 : 2;
	return cmd_store_bench.run(npos, pos);
}
C
clang -std=gnu11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -Wno-missing-field-initializers -Inode -o $DRV $B/store-bench-main.c \
	node/cli/cmd_store_bench.c node/storage/*.c node/common/crc32c.c node/common/log.c \
	node/common/opt.c -luring

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
eng() { $DRV --disk "$IMG" --mode "$1" --qd "$2" --chunks "$CHUNKS" --seconds "$SECS" | awk '{print $8}'; }
# fio on the data area of the same file: reads over the filled chunks, writes
# beyond them (so the store stays intact between rounds).
fio_run() { # rw qd offset size [extra]
	fio --name=b --filename="$IMG" --ioengine=io_uring --direct=1 --bs=4k --rw="$1" \
	    --iodepth="$2" --offset="$3" --size="$4" --runtime="$SECS" --time_based \
	    --randrepeat=0 --norandommap ${5:-} --output-format=terse --terse-version=3 |
	awk -F';' -v rw="$1" '{print (rw=="randread") ? $8 : $49}'
}

# --- 1. engine vs fio --------------------------------------------------------------
DATA_BYTES=$((CHUNKS * 4096))
truncate -s 0 "$IMG"
truncate -s $((DATA_BYTES * 2 + (256 << 20))) "$IMG"
$DRV --disk "$IMG" --mode format
# data_off of the format: read it back from the superblock (little-endian u64 at 128).
DATA_OFF=$(od -An -t u8 -j 128 -N 8 "$IMG" | tr -d ' ')
echo "filling $CHUNKS 4 KiB chunks (QD 32) ..."
$DRV --disk "$IMG" --mode fill --qd 32 --chunks "$CHUNKS"

declare -A R
for r in $(seq "$RUNS"); do
	for qd in 1 32; do
		R[er$qd]+="$(eng randread $qd) "
		R[fr$qd]+="$(fio_run randread $qd "$DATA_OFF" "$DATA_BYTES") "
	done
done
for r in $(seq "$RUNS"); do
	for qd in 1 32; do
		R[ew$qd]+="$(eng randwrite $qd) "
		R[fw$qd]+="$(fio_run randwrite $qd $((DATA_OFF + DATA_BYTES + (64 << 20))) $((256 << 20))) "
		R[fs$qd]+="$(fio_run randwrite $qd $((DATA_OFF + DATA_BYTES + (64 << 20))) $((256 << 20)) --fdatasync=1) "
	done
done
med() { echo ${R[$1]} | tr ' ' '\n' | grep . | median; }
printf '\n%-26s %12s %12s %8s\n' "4 KiB, median of $RUNS" "engine IOPS" "fio IOPS" "ratio"
for qd in 1 32; do
	e=$(med er$qd); f=$(med fr$qd)
	printf '%-26s %12.0f %12.0f %8.2f\n' "randread QD$qd" "$e" "$f" "$(echo "$e / $f" | bc -l)"
done
for qd in 1 32; do
	e=$(med ew$qd); f=$(med fw$qd); fs=$(med fs$qd)
	printf '%-26s %12.0f %12.0f %8.2f\n' "randwrite QD$qd (fio plain)" "$e" "$f" "$(echo "$e / $f" | bc -l)"
	printf '%-26s %12.0f %12.0f %8.2f\n' "randwrite QD$qd (fio fdsync)" "$e" "$fs" "$(echo "$e / $fs" | bc -l)"
done
rm -f "$IMG"

# --- 2. open time with 1M chunks ----------------------------------------------------
echo
echo "open time, $OPEN_CHUNKS chunks:"
truncate -s 0 "$BIG"
# Enough record slots for OPEN_CHUNKS (one slot per two data blocks, 17 blocks per 8 slots).
truncate -s $(( (OPEN_CHUNKS * 2 + OPEN_CHUNKS / 4) * 4096 * 17 / 16 + (64 << 20) )) "$BIG"
$DRV --disk "$BIG" --mode format
$DRV --disk "$BIG" --mode synth --chunks "$OPEN_CHUNKS"
# The synthesised records (versions 1..N) stand for chunks committed before a
# clean close: raise the one-flush watermark (sb.verified, u64 at 168) over
# them in both superblock copies, or open would verify - and, their data being
# zeros with zero crcs, drop - every one of them (store_format.h, ONEFLUSH).
python3 - "$BIG" "$OPEN_CHUNKS" <<'PY'
import struct, sys
def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF
with open(sys.argv[1], "r+b") as f:
    sb = bytearray(f.read(4096))
    dev_size = struct.unpack_from("<Q", sb, 104)[0]
    struct.pack_into("<Q", sb, 168, int(sys.argv[2]))
    struct.pack_into("<I", sb, 252, crc32c(bytes(sb[:252])))
    for off in (0, dev_size - 4096):
        f.seek(off)
        f.write(sb)
PY
T=""
for r in $(seq "$RUNS"); do
	sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
	line=$($DRV --disk "$BIG" --mode open)
	echo "$line"
	T+="$(echo "$line" | awk '{print $4}') "
done
echo "median open seconds: $(echo $T | tr ' ' '\n' | grep . | median)"
