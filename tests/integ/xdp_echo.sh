#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# xdp_echo - the AF_XDP transport end to end on a veth pair:
#   - valid Ferry datagrams (0 B .. max fragment) reach the AF_XDP socket and
#     come back byte-identical through the transport's own TX path;
#   - ARP and ping keep working while the socket is bound;
#   - a flood of malformed datagrams is dropped at XDP, proven by counters;
#   - kill -9 of the process leaves no XDP program behind and ping works.
# Helper: build/host/tests/helpers/xsk_echo (or $XSK_ECHO).
set -u
. "$(dirname "$0")/lib.sh"
lib_init

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ECHO=${XSK_ECHO:-$ROOT/build/host/tests/helpers/xsk_echo}
[ -x "$ECHO" ] || skip "no $ECHO (make build/host/tests/helpers/xsk_echo)"
command -v python3 >/dev/null || skip "needs python3"

ns_create srv
ns_create cli
veth_pair srv veth-s 10.77.0.1/24 cli veth-c 10.77.0.2/24 4000
# An off-link peer: 10.99.0.5 lives in cli, reached from srv via 10.77.0.2.
nsx cli ip addr add 10.99.0.5/32 dev veth-c
nsx srv ip route add 10.99.0.0/24 via 10.77.0.2

# Node-initiated sends: listeners for the echo server's "hello" datagrams,
# which need route + neighbour resolution (nothing has been received yet).
HELLO=$FERRY_TEST_TMP/hello.out
cat >"$FERRY_TEST_TMP/hello.py" <<'PY'
import select, socket, sys, time
socks = []
for a in ('10.77.0.2', '10.99.0.5'):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((a, 9999)); socks.append(s)
got = {}
end = time.time() + 6
while time.time() < end and len(got) < 2:
    r, _, _ = select.select(socks, [], [], 0.2)
    for s in r:
        d, a = s.recvfrom(100)
        if d.startswith(b'hello') and a == ('10.77.0.1', 7480):
            got[s.getsockname()[0]] = d
print(' '.join('%s=%s' % (k, v.decode()) for k, v in sorted(got.items())))
PY
bg_start cli "$HELLO" python3 "$FERRY_TEST_TMP/hello.py"
HELLO_PID=$BG_PID
sleep 0.3

LOG=$FERRY_TEST_TMP/echo.log
bg_start srv "$LOG" "$ECHO" veth-s 10.77.0.1 7480 auto auto 10.77.0.2:9999,10.99.0.5:9999
ECHO_PID=$BG_PID
wait_for "$LOG" '^ready' 10 || { cat "$LOG" >&2; fail "echo server did not come up"; }
grep -E '^(xsk_mode|xdp_attach) ' "$LOG" | sed 's/^/# /' >&2
grep -q '^xsk_mode copy' "$LOG" || fail "expected copy mode on veth"
grep -q '^xdp_attach native' "$LOG" || fail "expected native XDP on veth"
xdp_attached srv veth-s || fail "no XDP program on veth-s"

nsx cli ping -c 2 -W 2 -q 10.77.0.1 >/dev/null || fail "ping while bound"
wait "$HELLO_PID"
log "hello: $(cat "$HELLO")"
grep -q '10.77.0.2=hello' "$HELLO" || fail "no node-initiated datagram reached an on-link peer"
grep -q '10.99.0.5=hello' "$HELLO" || fail "no node-initiated datagram reached an off-link peer"

CLIENT=$FERRY_TEST_TMP/client.py
cat >"$CLIENT" <<'PY'
import os, socket, struct, sys, time
MAGIC = 0x59525246
HDR = struct.Struct('<IBBHIiQQQ16sQIIIHHIIII16s')
assert HDR.size == 112
def hdr(op=2, flags=4, frag_len=0, msg_len=None, frag_off=0, magic=MAGIC, version=1, reserved=0,
        req=1):
    if msg_len is None:
        msg_len = frag_off + frag_len
    return HDR.pack(magic, version, op, flags, 7, 0, req, 0, 0, b'\0' * 16, 0, 0,
                    msg_len, frag_off, frag_len, 0, 0, 0, 0, reserved, b'\0' * 16)
mode = sys.argv[1]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)  # SO_RCVBUFFORCE: hold a whole burst
s.bind(('10.77.0.2', 0))
s.settimeout(2)
dst = ('10.77.0.1', 7480)
if mode == 'valid':
    sizes = [0, 1, 511, 512, 1400, 3583, 3584]
    for round_ in range(20):
        for n in sizes:
            payload = os.urandom(n)
            d = hdr(frag_len=n, req=round_ * 100 + n) + payload
            s.sendto(d, dst)
            r, a = s.recvfrom(65536)
            if r != d or a != dst:
                print('mismatch size %d: got %d bytes from %s' % (n, len(r), a)); sys.exit(1)
    # a burst: 256 in flight
    sent = [hdr(frag_len=64, req=i) + os.urandom(64) for i in range(256)]
    for d in sent:
        s.sendto(d, dst)
    got = set()
    try:
        while len(got) < len(sent):
            got.add(s.recvfrom(65536)[0])
    except socket.timeout:
        pass
    if got != set(sent):
        print('burst: %d of %d echoed' % (len(got & set(sent)), len(sent))); sys.exit(1)
    print('valid ok')
elif mode == 'bad':
    n = int(sys.argv[2])
    bad = [hdr(magic=MAGIC ^ 1), hdr(version=9), hdr(op=200), hdr(flags=0x100),
           hdr(reserved=5), hdr(frag_len=10) + b'x' * 9, b'short', hdr(frag_len=4, msg_len=2) + b'abcd']
    for i in range(n):
        s.sendto(bad[i % len(bad)], dst)
    s.settimeout(0.5)
    try:
        r = s.recvfrom(65536)
        print('malformed datagram got an answer'); sys.exit(1)
    except socket.timeout:
        pass
    print('bad ok')
PY
nsx cli python3 "$CLIENT" valid || { cat "$LOG" >&2; fail "valid datagrams not echoed"; }

NBAD=8000
nsx cli python3 "$CLIENT" bad $NBAD || fail "malformed datagrams"
nsx cli ping -c 2 -W 2 -q 10.77.0.1 >/dev/null || fail "ping after the flood"

kill -USR1 "$ECHO_PID"
sleep 0.5
tail -n 80 "$LOG" | awk '/^--$/ { n++ } { print > "'"$FERRY_TEST_TMP"'/stats" }' 
S=$FERRY_TEST_TMP/stats
drops=$(stat_of "$S" xdp_drop)
redir=$(stat_of "$S" xdp_redirect)
rxp=$(stat_of "$S" xsk_rx_packets)
txp=$(stat_of "$S" xsk_tx_packets)
log "xdp_drop $drops xdp_redirect $redir xsk_rx_packets $rxp xsk_tx_packets $txp"
for k in drop_magic drop_version drop_op drop_flags drop_reserved drop_length drop_short; do
	v=$(stat_of "$S" xdp_$k)
	log "xdp_$k $v"
	[ "$v" -ge $((NBAD / 8)) ] || fail "xdp_$k = $v, expected >= $((NBAD / 8))"
done
[ "$drops" -ge "$NBAD" ] || fail "xdp_drop $drops < $NBAD"
[ "$rxp" -ge 396 ] || fail "xsk_rx_packets $rxp"
[ "$txp" -ge "$rxp" ] || fail "rx $rxp > tx $txp"
[ "$(stat_of "$S" xsk_rx_bad)" = 0 ] || fail "xsk_rx_bad != 0"

# A crashed node must not leave a program that blackholes the interface.
kill -KILL "$ECHO_PID"
wait "$ECHO_PID" 2>/dev/null
for i in $(seq 1 50); do xdp_attached srv veth-s || break; sleep 0.1; done
xdp_attached srv veth-s && fail "XDP program still attached after kill -9"
nsx cli ping -c 2 -W 2 -q 10.77.0.1 >/dev/null || fail "ping after kill -9"
pass
