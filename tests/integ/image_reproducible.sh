#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# image_reproducible.sh - two image builds from the same inputs are byte-identical.
#
# Builds the qemu-x86_64 image of $FERRY twice (different temp dirs, umask
# and wall-clock time), compares SHA256SUMS, and checks the initrd's cpio:
# newc, sorted, owned 0:0, every mtime = SOURCE_DATE_EPOCH, /init and
# /dev/console present, nothing but /init, the module closure and its list.
# Exit: 0 pass, 1 fail, 77 skip (no $FERRY or kernel not installed).
set -u
here=$(cd "$(dirname "$0")/../.." && pwd)
[ -n "${FERRY:-}" ] && [ -x "$FERRY" ] || { echo "SKIP: no \$FERRY binary" >&2; exit 77; }
. "$here/board/qemu-x86_64/board.conf"
[ -f "/boot/vmlinuz-$BOARD_KVER" ] || { echo "SKIP: kernel $BOARD_KVER not installed" >&2; exit 77; }
tmp=${FERRY_TEST_TMP:-$(mktemp -d)}

(umask 022; TMPDIR=$tmp "$here/image/build.sh" --ferry "$FERRY" --out "$tmp/a" >"$tmp/a.log" 2>&1) ||
	{ cat "$tmp/a.log" >&2; echo "FAIL: first build" >&2; exit 1; }
sleep 1.1
mkdir -p "$tmp/t2"
(umask 077; TMPDIR=$tmp/t2 "$here/image/build.sh" --ferry "$FERRY" --out "$tmp/b" >"$tmp/b.log" 2>&1) ||
	{ cat "$tmp/b.log" >&2; echo "FAIL: second build" >&2; exit 1; }
if ! cmp -s "$tmp/a/SHA256SUMS" "$tmp/b/SHA256SUMS"; then
	diff "$tmp/a/SHA256SUMS" "$tmp/b/SHA256SUMS" >&2
	echo "FAIL: two builds differ" >&2
	exit 1
fi
(cd "$tmp/a" && sha256sum -c --quiet SHA256SUMS) || { echo "FAIL: SHA256SUMS does not match the files" >&2; exit 1; }

epoch=$(git -C "$here" log -1 --format=%ct 2>/dev/null || echo 0)
gzip -dc "$tmp/a/initrd.img" >"$tmp/initrd.cpio" || { echo "FAIL: initrd is not gzip" >&2; exit 1; }
python3 - "$tmp/initrd.cpio" "$epoch" <<'PY' || exit 1
import sys
data, epoch = open(sys.argv[1], "rb").read(), int(sys.argv[2])
off, names = 0, []
while True:
    h = data[off:off + 110]
    if h[:6] != b"070701":
        sys.exit("FAIL: not newc at offset %d" % off)
    f = [int(h[6 + 8 * i:14 + 8 * i], 16) for i in range(13)]
    mode, uid, gid, mtime, size, namesize = f[1], f[2], f[3], f[5], f[6], f[11]
    name = data[off + 110:off + 110 + namesize - 1].decode()
    off += 110 + namesize
    off += -off % 4
    if name == "TRAILER!!!":
        break
    if uid or gid:
        sys.exit("FAIL: %s owned by %d:%d" % (name, uid, gid))
    if mtime != epoch:
        sys.exit("FAIL: %s mtime %d != SOURCE_DATE_EPOCH %d" % (name, mtime, epoch))
    names.append(name)
    off += size
    off += -off % 4
if names != sorted(names, key=lambda n: n.encode()):
    sys.exit("FAIL: cpio entries are not sorted")
for must in ("init", "dev/console"):
    if must not in names:
        sys.exit("FAIL: %s missing from the initrd" % must)
extra = [n for n in names if not (n in ("init", "dev", "dev/console", "proc", "sys", "run")
         or n.startswith("lib"))]
if extra:
    sys.exit("FAIL: unexpected entries in the initrd: %s" % extra)
print("# %d entries, %d modules" % (len(names), sum(n.endswith(".ko") for n in names)))
PY
grep -h 'initrd.img' "$tmp/a.log" | sed 's/^/# /'
echo "PASS: two builds are byte-identical ($(cut -c1-12 "$tmp/a/SHA256SUMS" | tr '\n' ' '))"
