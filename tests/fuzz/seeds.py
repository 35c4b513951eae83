#!/usr/bin/env python3
"""Writes the hand-made seed inputs of Ferry's wire, manifest and store fuzzers.

The fuzzers grow their corpora from these; valid datagrams and manifests
(with correct CRC-32C) let them reach the code behind the checksum checks.
Run from the repository root: tests/fuzz/seeds.py
"""
import os
import struct

def crc32c(data, crc=0):
    poly = 0x82F63B78
    crc ^= 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF

HDR = struct.Struct("<IBBHIiQQQ16sQIIIHHIIII16s")
assert HDR.size == 112

def datagram(op, flags=0, msg_len=0, frag_off=0, payload=b"", cluster=0, window=32, ack=0):
    fields = [0x59525246, 1, op, flags, 7, 0, 42, 1, cluster, bytes(range(16)), 0,
              len(payload), msg_len or len(payload), frag_off, len(payload), window, ack,
              crc32c(payload) if payload else 0, 0, 0, bytes(16)]
    hdr = HDR.pack(*fields)
    fields[18] = crc32c(hdr)
    return HDR.pack(*fields) + payload

def manifest(name, size, chunk, gen=0x1122334455667788):
    n = (size + chunk - 1) // chunk
    body = struct.pack("<IHHQQIIII", 0x4E414D46, 1, len(name), size, gen, chunk, n, 0, 0) + name
    crc = crc32c(body)
    return body[:32] + struct.pack("<I", crc) + body[36:]

def write(d, name, data):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)

w = "tests/fuzz/corpus/fuzz_wire"
write(w, "get", datagram(3))
write(w, "put_frag", datagram(2, msg_len=4096, frag_off=1024, payload=b"x" * 1024))
write(w, "ack", datagram(8, flags=1, ack=2048))
write(w, "short", datagram(3)[:50])
write(w, "bad_magic", b"\0" * 112)
m = "tests/fuzz/corpus/fuzz_manifest"
write(m, "small", manifest(b"hello.txt", 5, 4 << 20))
write(m, "empty", manifest(b"e", 0, 4 << 20))
write(m, "big", manifest(b"dir/" + b"n" * 200, 10 << 30, 4 << 20))
r = "tests/fuzz/corpus/fuzz_rpc"
def framed(*dgrams):
    return b"".join(struct.pack("<H", len(d)) + d for d in dgrams)
write(r, "get", framed(datagram(3)))
write(r, "put_two", framed(datagram(2, msg_len=2048, payload=b"a" * 1024),
                           datagram(2, msg_len=2048, frag_off=1024, payload=b"b" * 1024)))
write(r, "put_dup_ack", framed(datagram(2, msg_len=1024, payload=b"c" * 1024),
                               datagram(2, msg_len=1024, payload=b"c" * 1024, flags=2),
                               datagram(8, ack=0, flags=2), datagram(8, ack=0, flags=4)))

# Store records (node/storage/store_format.h) for fuzz_store_record: its
# geometry is a 64 MiB disk with 1 MiB chunks, whose record crc seed is 0.
def store_rec(cid, version, size=0, block=0, crcs=(), flags=0, chunk_crc=0):
    nb = (size + 4095) // 4096
    ns = (64 + 4 * nb + 511) // 512
    body = struct.pack("<4sHH16sQQQIIII", b"FRC1", ns, flags, cid, version, size, block, nb,
                       chunk_crc, 0, 0)
    body += b"".join(struct.pack("<I", c) for c in crcs)
    body += bytes(ns * 512 - len(body))
    return body[:60] + struct.pack("<I", crc32c(body)) + body[64:]

TOMB = 2
s = "tests/fuzz/corpus/fuzz_store_record"
cid = bytes([0x7e, 9]) + bytes(14)
write(s, "tombstone", store_rec(cid, 12, flags=TOMB))
write(s, "tombstone_with_size", store_rec(cid, 12, size=100, crcs=(1,), flags=TOMB))
write(s, "tombstone_journal_flags", store_rec(cid, 12, flags=TOMB | 1))
# A same-version repair and the copy it replaced, back to back (the fuzzer
# decodes the second and checks the tie-break); and a live record with a
# tombstone of a higher version after it.
write(s, "samever_pair", store_rec(cid, 42, size=5000, block=3, crcs=(0x11, 0x22),
                                   chunk_crc=0x33) +
      store_rec(cid, 42, size=5000, block=40, crcs=(0x11, 0x22), chunk_crc=0x33))
write(s, "live_then_tombstone", store_rec(cid, 42, size=5000, block=3, crcs=(0x11, 0x22),
                                          chunk_crc=0x33) + store_rec(cid, 43, flags=TOMB))

# A superblock (struct store_sb_disk) of a 64 MiB disk with every incompat
# feature this build knows: journal, one-flush, tombstones.
def store_sb(incompat, dev=64 << 20, max_chunk=1 << 20):
    t = dev // 4096
    m = (t - 2 + 16) // 17
    d = t - 2 - m
    body = struct.pack("<8sIIQQQ16s16s16sIIIIQQQQQQQQQ76s", b"FERRYSB1", 1, 256, 0, 0, incompat,
                       bytes(16), bytes(16), bytes(range(16)), 4096, 512, max_chunk, 0,
                       t * 4096, 4096, m * 8, 4096 + m * 4096, d, 1, 0, 0, 0, bytes(76))
    return body + struct.pack("<I", crc32c(body))

write("tests/fuzz/corpus/fuzz_store_superblock", "tombstone_feature", store_sb(7))

# Cluster maps, version 2 (bpf/ferry_cluster.h), for fuzz_map and fuzz_ctl.
MAP_HDR = struct.Struct("<IHHHHIQ16sIIQHHI")
MAP_NODE = struct.Struct("<16s16sHHIBBB5s32s8QQII32sQQ")
assert MAP_HDR.size == 64 and MAP_NODE.size == 208

def cmap(epoch, clean, nodes, replicas=3, min_copies=2, cluster=bytes([0x5f] * 16)):
    body = b""
    for i, (state, up_since, flags) in enumerate(nodes):
        body += MAP_NODE.pack(bytes([i + 1]) + bytes(15), bytes([10, 0, 0, 10 + i]) + bytes(12),
                              2, 0x1d1c, 1000, state, flags, state if up_since <= clean else 1,
                              bytes(5), b"z%d" % (i % 2) + bytes(30), 0, 0, 0, 0, 0, 0, 0, 0,
                              up_since, 1000, 0, b"z%d" % (i % 2) + bytes(30), 0, 0)
    hdr = MAP_HDR.pack(0x50414d46, 2, 64, 208, replicas, len(nodes), epoch, cluster, 0, 0, clean,
                       min_copies, 0, 0)
    crc = crc32c(hdr + body)
    return hdr[:32] + struct.pack("<I", crc) + hdr[36:] + body

mp = "tests/fuzz/corpus/fuzz_map"
write(mp, "v2_clean", cmap(9, 9, [(1, 3, 0), (1, 5, 0), (1, 9, 0)]))
write(mp, "v2_syncing", cmap(12, 9, [(1, 3, 0), (2, 5, 0), (1, 11, 0), (3, 2, 2), (4, 1, 0)]))
write(mp, "v2_full", cmap(20, 20, [(1, 3, 1), (1, 5, 0), (1, 9, 0), (1, 4, 0)], replicas=2,
                        min_copies=1))

# ctl messages for fuzz_ctl: the first byte picks the check (0 heartbeat,
# 1 registration, 2 admin, 3 ctl's answer).
HELLO = struct.Struct("<IHH16s16s16sHHI32s13QII")
assert HELLO.size == 208
def hello(epoch=7, zone=b"rack1"):
    return HELLO.pack(0x4c544346, 208, 0, bytes([0x5f] * 16), bytes([1] * 16),
                      bytes([10, 0, 0, 11]) + bytes(12), 2, 0x1c1d, 1000, zone + bytes(32 - len(zone)),
                      epoch, 1 << 30, 1 << 20, 12, 99, 0, 3, 4096, 0, epoch, 7 << 32 | 5, 1, 2, 0, 0)
c = "tests/fuzz/corpus/fuzz_ctl"
write(c, "heartbeat", b"\0" + hello())
write(c, "register_with_map", b"\1" + hello(9) + cmap(9, 9, [(1, 3, 0), (1, 5, 0)]))
write(c, "register_zone_unterminated", b"\1" + hello(zone=b"z" * 32))
write(c, "admin_lost", b"\2" + struct.pack("<II16s", 0x4c544346, 1, bytes([3] * 16)))
write(c, "reply_lease", b"\3" + struct.pack("<QIIQ232s", 9, 1, 1500, 9, b""))
write(c, "reply_refusal", b"\3" + struct.pack("<QIIQ232s", 9, 0, 0, 0, b"node is lost"))
