#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""mkcpio.py - write a reproducible newc cpio from a spec list (gen_init_cpio-like).

Spec lines (from stdin):
    dir  PATH MODE
    nod  PATH MODE c|b MAJOR MINOR
    file PATH MODE SOURCE
Entries are emitted sorted by path (parents first), owned by 0:0, with mtime
SOURCE_DATE_EPOCH and inode numbers assigned in order, so the output depends
only on the inputs' bytes. Usage: mkcpio.py OUT < spec
"""
import os
import stat
import sys


def main():
    out_path = sys.argv[1]
    mtime = int(os.environ["SOURCE_DATE_EPOCH"])
    entries = []
    for line in sys.stdin:
        f = line.split()
        if not f or f[0].startswith("#"):
            continue
        kind, path, mode = f[0], f[1].lstrip("/"), int(f[2], 8)
        if kind == "dir":
            entries.append((path, stat.S_IFDIR | mode, 0, 0, None))
        elif kind == "nod":
            t = stat.S_IFCHR if f[3] == "c" else stat.S_IFBLK
            entries.append((path, t | mode, int(f[4]), int(f[5]), None))
        elif kind == "file":
            entries.append((path, stat.S_IFREG | mode, 0, 0, f[3]))
        else:
            sys.exit("mkcpio: bad spec line: " + line.strip())
    entries.sort(key=lambda e: e[0].encode())
    seen = set()
    with open(out_path, "wb") as out:
        def emit(name, mode, rmaj, rmin, data, ino):
            nb = name.encode() + b"\0"
            hdr = "070701" + "".join("%08X" % v for v in (
                ino, mode, 0, 0, 2 if stat.S_ISDIR(mode) else 1, mtime, len(data),
                0, 0, rmaj, rmin, len(nb), 0))
            out.write(hdr.encode() + nb)
            out.write(b"\0" * (-(110 + len(nb)) % 4))
            out.write(data)
            out.write(b"\0" * (-len(data) % 4))
        ino = 1
        for name, mode, rmaj, rmin, src in entries:
            if name in seen:
                sys.exit("mkcpio: duplicate entry " + name)
            seen.add(name)
            data = b""
            if src is not None:
                with open(src, "rb") as f:
                    data = f.read()
            emit(name, mode, rmaj, rmin, data, ino)
            ino += 1
        emit("TRAILER!!!", 0, 0, 0, b"", 0)


if __name__ == "__main__":
    main()
