#!/usr/bin/env python3
"""make bench: Ferry against its baselines, side by side, in one run.

Builds a node and a client in two network namespaces joined by a veth pair,
then runs every row of ROWS with each of its configurations interleaved
(A B A B A B), REPEATS times, and reports medians:

  - the same node with --transport xdp (AF_XDP) and --transport udp (kernel
    UDP sockets): 4 KiB and 1 MiB GETs and PUTs (R=1);
  - the same with a ctl and 3 nodes on a bridge, R=3 (chain replication:
    PUTs acknowledged by the tail, GETs served by the tail);
  - the storage engine vs fio --ioengine=io_uring --direct=1 on one file
    (scripts/bench-store.sh).

Server CPU per operation is charged the way ../shared/research/limits.md
does on veth (placement A): the node runs pinned to CPU 1 and the client to
CPU 0; veth runs a packet's receive path in softirq on the *sending* CPU, so
the node's request receive work appears as CPU 0 softirq and the client's
answer receive work as CPU 1 softirq:

    node CPU = CPU1 (user + nice + system + irq) + CPU0 softirq

For R=3 rows every node runs on CPU 1 and forwards to the next on it, so
node CPU = all of CPU1 (softirq included: node-to-node receive paths) + CPU0
softirq; it also counts the client's answer receive path, so it overstates.
The nodes' own process time (getrusage, from their counters) is reported too.

Output: build/bench/report.md, results.json, and PNG plots (gnuplot).
A row is a few lines in ROWS.
"""
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FERRY = os.path.join(ROOT, "build", "ferry")
OUT = os.path.join(ROOT, "build", "bench")
REPEATS = int(os.environ.get("BENCH_REPEATS", "3"))
SECS = os.environ.get("BENCH_SECS", "4s")
MTU = 4000
NS = f"fyb{os.getpid()}"
SRV_IP, CLI_IP = "10.99.0.1", "10.99.0.2"
PORT = 7480

# A row: name, the baseline config first, then the others; each config is
# (label, node transport, bench arguments).
GET4K = ["--op", "get", "--size", "4k", "-c", "32", "--keys", "2000"]
PUT4K = ["--op", "put", "--size", "4k", "-c", "32", "--keys", "2000"]
GET1M = ["--op", "get", "--size", "1m", "-c", "4", "--keys", "64"]
PUT1M = ["--op", "put", "--size", "1m", "-c", "4", "--keys", "64"]
# xdp-copy: the AF_XDP node with --copy-payload, i.e. without the zero-copy
# payload path (frames copied to/from message buffers): what zero copy buys.
ROWS = [
    ("4 KiB GET", [("udp", "udp", GET4K), ("xdp", "xdp", GET4K), ("xdp-copy", "xdp-copy", GET4K)]),
    ("4 KiB PUT", [("udp", "udp", PUT4K), ("xdp", "xdp", PUT4K), ("xdp-copy", "xdp-copy", PUT4K)]),
    ("1 MiB GET", [("udp", "udp", GET1M), ("xdp", "xdp", GET1M), ("xdp-copy", "xdp-copy", GET1M)]),
    ("1 MiB PUT", [("udp", "udp", PUT1M), ("xdp", "xdp", PUT1M), ("xdp-copy", "xdp-copy", PUT1M)]),
]
# Replicated rows: (name, [(label, transport, args)]) run on a ctl + 3 nodes.
CLUSTER_ROWS = [
    ("4 KiB GET R=3", [("udp", "udp", GET4K), ("xdp", "xdp", GET4K)]),
    ("4 KiB PUT R=3", [("udp", "udp", PUT4K), ("xdp", "xdp", PUT4K)]),
    ("1 MiB GET R=3", [("udp", "udp", GET1M), ("xdp", "xdp", GET1M)]),
    ("1 MiB PUT R=3", [("udp", "udp", PUT1M), ("xdp", "xdp", PUT1M)]),
]
CTL_IP, NODE_IPS, HUB_CLI_IP = "10.98.0.2", ["10.98.0.11", "10.98.0.12", "10.98.0.13"], "10.98.0.3"


def sh(*args, check=True, **kw):
    return subprocess.run(args, check=check, text=True, **kw)


def ns(name, *args, **kw):
    return sh("ip", "netns", "exec", f"{NS}-{name}", *args, **kw)


def cpu_times():
    """Per-CPU jiffies: {cpu: (busy_no_softirq, softirq)}."""
    out = {}
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu") and line[3].isdigit():
                p = line.split()
                user, nice, system, idle, iowait, irq, softirq = map(int, p[1:8])
                out[int(p[0][3:])] = (user + nice + system + irq, softirq)
    return out


class Net:
    def __enter__(self):
        for n in ("srv", "cli"):
            sh("ip", "netns", "add", f"{NS}-{n}")
            sh("ip", "-n", f"{NS}-{n}", "link", "set", "lo", "up")
        sh("ip", "link", "add", "vbs", "netns", f"{NS}-srv", "type", "veth", "peer", "name", "vbc",
           "netns", f"{NS}-cli")
        for n, dev, ip in (("srv", "vbs", SRV_IP), ("cli", "vbc", CLI_IP)):
            sh("ip", "-n", f"{NS}-{n}", "link", "set", dev, "mtu", str(MTU), "up")
            sh("ip", "-n", f"{NS}-{n}", "addr", "add", f"{ip}/24", "dev", dev)
        self.tmp = tempfile.mkdtemp(prefix="ferry-bench.")
        return self

    def __exit__(self, *exc):
        for n in ("srv", "cli"):
            sh("ip", "netns", "del", f"{NS}-{n}", check=False)
        shutil.rmtree(self.tmp, ignore_errors=True)


class Node:
    """A fresh node (fresh disk) with one transport, pinned to CPU 1."""

    def __init__(self, net, transport):
        self.disk = os.path.join(net.tmp, "disk.img")
        if os.path.exists(self.disk):
            os.unlink(self.disk)
        with open(self.disk, "wb") as f:
            f.truncate(2 << 30)
        sh(FERRY, "format", "--disk", self.disk, "--cluster", "b3c1e0a0-0000-4000-8000-00000000be4c",
           stdout=subprocess.DEVNULL)
        args = [FERRY, "node", "--disk", self.disk, "--listen", f"{SRV_IP}:{PORT}", "--mtu", str(MTU),
                "--transport", "xdp" if transport.startswith("xdp") else transport]
        if transport.startswith("xdp"):
            args += ["--iface", "vbs"]
        if transport == "xdp-copy":
            args += ["--copy-payload"]
        self.log = open(os.path.join(net.tmp, f"node-{transport}.log"), "w")
        self.p = subprocess.Popen(["ip", "netns", "exec", f"{NS}-srv", "taskset", "-c", "1"] + args,
                                  stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(100):
            r = ns("cli", FERRY, "stat", "--node", f"{SRV_IP}:{PORT}", "--node-stats",
                   "--timeout", "200ms", check=False, capture_output=True)
            if r.returncode == 0:
                self.stats = dict(l.split(" ", 1) for l in r.stdout.splitlines() if " " in l)
                return
            time.sleep(0.1)
        raise RuntimeError(f"node ({transport}) did not come up")

    def stop(self):
        self.p.terminate()
        self.p.wait(timeout=20)
        self.log.close()


class Cluster:
    """ctl + 3 nodes (one transport) and a client on a bridge in namespace hub;
    nodes and ctl pinned to CPU 1. Fresh disks every time."""

    def __init__(self, tmp, transport):
        self.procs, self.spaces = [], []
        self.prefix = f"{NS}c"
        self._ns("hub")
        self.run("hub", "ip", "link", "add", "br0", "type", "bridge")
        self.run("hub", "ip", "link", "set", "br0", "up")
        for name, ip in [("ctl", CTL_IP), ("cli", HUB_CLI_IP)] + \
                [(f"n{i}", ip) for i, ip in enumerate(NODE_IPS)]:
            self._ns(name)
            sh("ip", "link", "add", f"h{name}", "netns", f"{self.prefix}-hub", "type", "veth", "peer",
               "name", "eth0", "netns", f"{self.prefix}-{name}")
            self.run("hub", "ip", "link", "set", f"h{name}", "mtu", str(MTU), "master", "br0", "up")
            self.run(name, "ip", "link", "set", "eth0", "mtu", str(MTU), "up")
            self.run(name, "ip", "addr", "add", f"{ip}/24", "dev", "eth0")
        cluster = "b3c1e0a0-0000-4000-8000-00000000be43"
        self.log = open(os.path.join(tmp, f"cluster-{transport}.log"), "w")
        # A fresh map every time: an old one would keep the previous
        # cluster's nodes as "down", holding chain slots.
        state = tempfile.mkdtemp(prefix="ctl.", dir=tmp)
        self.bg("ctl", FERRY, "ctl", "--listen", f"{CTL_IP}:7481", "--state", state,
                "--replicas", "3", "--down-after", "5s", "--out-after", "600s")
        for i, ip in enumerate(NODE_IPS):
            disk = os.path.join(tmp, f"disk{i}.img")
            if os.path.exists(disk):
                os.unlink(disk)
            with open(disk, "wb") as f:
                f.truncate(1 << 30)
            sh(FERRY, "format", "--disk", disk, "--cluster", cluster, stdout=subprocess.DEVNULL)
            args = ["node", "--disk", disk, "--listen", f"{ip}:{PORT}", "--mtu", str(MTU),
                    "--transport", transport, "--ctl", f"{CTL_IP}:7481", "--zone", f"z{i}"]
            if transport == "xdp":
                args += ["--iface", "eth0"]
            self.bg(f"n{i}", FERRY, *args)
        for _ in range(150):
            r = self.run("cli", FERRY, "status", "--ctl", f"{CTL_IP}:7481", "--json", "--timeout", "300ms",
                         check=False, capture_output=True)
            if r.returncode == 0 and r.stdout.count('"state":"up"') == 3 and self.converged():
                return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"cluster ({transport}) did not come up")

    def converged(self):
        """Every node runs under the same map epoch (they fetch it on their
        next heartbeat after ctl changes it)."""
        epochs = set()
        for i, ip in enumerate(NODE_IPS):
            r = self.run("cli", FERRY, "stat", "--node", f"{ip}:{PORT}", "--node-stats", "--timeout", "300ms",
                         check=False, capture_output=True)
            if r.returncode:
                return False
            epochs |= {l.split()[1] for l in r.stdout.splitlines() if l.startswith("map_epoch ")}
        return len(epochs) == 1 and "0" not in epochs

    def _ns(self, name):
        sh("ip", "netns", "add", f"{self.prefix}-{name}")
        self.spaces.append(f"{self.prefix}-{name}")
        sh("ip", "-n", f"{self.prefix}-{name}", "link", "set", "lo", "up")

    def run(self, name, *args, **kw):
        return sh("ip", "netns", "exec", f"{self.prefix}-{name}", *args, **kw)

    def bg(self, name, *args):
        self.procs.append(subprocess.Popen(["ip", "netns", "exec", f"{self.prefix}-{name}", "taskset", "-c",
                                            "1", *args], stdout=self.log, stderr=subprocess.STDOUT))

    def stop(self):
        for p in reversed(self.procs):
            p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        for sp in self.spaces:
            sh("ip", "netns", "del", sp, check=False)
        self.log.close()


def run_bench(args, cluster=None):
    """One ferry bench run on CPU 0; returns its JSON plus node CPU."""
    c0 = cpu_times()
    t0 = time.monotonic()
    if cluster:
        r = cluster.run("cli", "taskset", "-c", "0", FERRY, "bench", "--ctl", f"{CTL_IP}:7481", "--mtu",
                        str(MTU), "--duration", SECS, "--json", *args, capture_output=True, check=False)
    else:
        r = ns("cli", "taskset", "-c", "0", FERRY, "bench", "--node", f"{SRV_IP}:{PORT}", "--mtu", str(MTU),
               "--duration", SECS, "--json", *args, capture_output=True, check=False)
    wall = time.monotonic() - t0
    c1 = cpu_times()
    if not r.stdout.strip():
        raise RuntimeError(f"ferry bench {' '.join(args)} failed (exit {r.returncode}): {r.stderr.strip()}")
    res = json.loads(r.stdout.strip().splitlines()[-1])
    hz = os.sysconf("SC_CLK_TCK")
    # The bench preloads keys first; charge only the measured window by
    # scaling to the bench's own seconds (the preload is a small share).
    busy1 = (c1[1][0] - c0[1][0]) / hz
    if cluster:
        busy1 += (c1[1][1] - c0[1][1]) / hz
    soft0 = (c1[0][1] - c0[0][1]) / hz
    frac = min(1.0, res["seconds"] / wall) if wall > 0 else 1.0
    ops = max(res["ops"], 1)
    res["server_cpu_us_per_op"] = (busy1 + soft0) * frac * 1e6 / ops
    return res


def median(xs):
    return statistics.median(xs) if xs else 0.0


def machine():
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {"cores": os.cpu_count(), "cpu": cpu, "kernel": platform.release(),
            "nic": f"veth pair between two network namespaces, MTU {MTU}",
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def net_rows(net, results, rows, clustered):
    for name, configs in rows:
        per = {label: [] for label, _, _ in configs}
        for rep in range(REPEATS):
            for label, transport, args in configs:
                try:
                    if clustered:
                        cl = Cluster(net.tmp, transport)
                        try:
                            per[label].append(run_bench(args, cl))
                        finally:
                            cl.stop()
                    else:
                        node = Node(net, transport)
                        try:
                            if rep == 0 and label == "xdp":
                                results["xsk_mode"] = node.stats.get("xsk_mode", "?").strip()
                                results["xdp_attach"] = node.stats.get("xdp_attach", "?").strip()
                            per[label].append(run_bench(args))
                        finally:
                            node.stop()
                except RuntimeError as e:
                    # A failed run is reported, not hidden, and the rest goes on.
                    print(f"  {name:10} {label:8} run {rep + 1}: FAILED: {e}", flush=True)
                    results.setdefault("failures", []).append(f"{name} {label} run {rep + 1}: {e}")
                    continue
                r = per[label][-1]
                print(f"  {name:10} {label:8} run {rep + 1}: {r['ops_per_s']:9.0f} ops/s "
                      f"{r['mb_per_s']:8.1f} MB/s  p50 {r['lat_us']['p50']:8.1f} us  "
                      f"server {r['server_cpu_us_per_op']:7.2f} us/op  errors {r['errors']['total']}"
                      + (" (" + ", ".join(f"{k} {v}" for k, v in r["errors"].items()
                                          if k not in ("total", "other_last") and v)
                         + (f", last other status {r['errors'].get('other_last')}"
                            if r["errors"].get("other") else "") + ")"
                         if r["errors"]["total"] else ""),
                      flush=True)
        row = {"name": name, "configs": {}}
        for label, runs in per.items():
            if not runs:
                continue
            row["configs"][label] = {
                "ops_per_s": median([r["ops_per_s"] for r in runs]),
                "mb_per_s": median([r["mb_per_s"] for r in runs]),
                "p50_us": median([r["lat_us"]["p50"] for r in runs]),
                "p99_us": median([r["lat_us"]["p99"] for r in runs]),
                "p999_us": median([r["lat_us"]["p999"] for r in runs]),
                "server_cpu_us_per_op": median([r["server_cpu_us_per_op"] for r in runs]),
                "node_proc_cpu_us_per_op": median([r["node_cpu_us_per_op"] for r in runs]),
                "errors": sum(r["errors"]["total"] for r in runs),
                "runs": len(runs),
            }
        results["rows"].append(row)


def store_rows(results):
    script = os.path.join(ROOT, "scripts", "bench-store.sh")
    if not os.path.exists(script):
        return
    print("storage engine vs fio (scripts/bench-store.sh)", flush=True)
    r = sh("bash", script, capture_output=True, check=False, cwd=ROOT,
           env=dict(os.environ, RUNS=str(REPEATS)))
    results["store"] = {"ok": r.returncode == 0, "output": r.stdout + r.stderr}
    print(r.stdout[-3000:], flush=True)


def ratio(a, b):
    return a / b if b else float("nan")


def report(results):
    os.makedirs(OUT, exist_ok=True)
    m = results["machine"]
    lines = ["# Ferry benchmark report", "",
             f"Machine: {m['cores']} cores ({m['cpu']}), kernel {m['kernel']}, {m['nic']}; "
             f"AF_XDP mode {results.get('xsk_mode', '?')}, XDP attach {results.get('xdp_attach', '?')}. "
             f"{m['date']}. Medians of {REPEATS} interleaved runs of {SECS} each.", "",
             "Server CPU/op = node core (user+sys+irq) + the client core's softirq (veth runs the "
             "node's receive path there); node process CPU/op = the node's getrusage only.", "",
             "| row | transport | ops/s | MB/s | p50 µs | p99 µs | p99.9 µs | server CPU µs/op | "
             "node process µs/op | errors |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for row in results["rows"]:
        for label, c in row["configs"].items():
            lines.append(f"| {row['name']} | {label} | {c['ops_per_s']:.0f} | {c['mb_per_s']:.1f} | "
                         f"{c['p50_us']:.0f} | {c['p99_us']:.0f} | {c['p999_us']:.0f} | "
                         f"{c['server_cpu_us_per_op']:.2f} | {c['node_proc_cpu_us_per_op']:.2f} | "
                         f"{c['errors']} |")
    lines += ["", "## Ratios (AF_XDP / kernel UDP, same node, same run)", "",
              "Last column: the AF_XDP node with its zero-copy payload path against the same node "
              "with --copy-payload (work per server CPU-second).", "",
              "| row | ops/s | work per server CPU-second (ops or MB) | zero copy / copy |",
              "|---|---|---|---|"]
    for row in results["rows"]:
        if "xdp" not in row["configs"] or "udp" not in row["configs"]:
            continue
        x, u = row["configs"]["xdp"], row["configs"]["udp"]
        eff = ratio(u["server_cpu_us_per_op"], x["server_cpu_us_per_op"])
        xc = row["configs"].get("xdp-copy")
        zc = f"{ratio(xc['server_cpu_us_per_op'], x['server_cpu_us_per_op']):.2f}×" if xc else "-"
        lines.append(f"| {row['name']} | {ratio(x['ops_per_s'], u['ops_per_s']):.2f}× | {eff:.2f}× | {zc} |")
    if results.get("failures"):
        lines += ["", "## Failed runs (left out of the medians)", ""] + [f"- {f}" for f in results["failures"]]
    if "store" in results:
        lines += ["", "## Storage engine vs fio (same file)", "", "```",
                  results["store"]["output"].strip()[-4000:], "```"]
    lines += ["", "![throughput](throughput.png)", "", "![latency](latency.png)", ""]
    with open(os.path.join(OUT, "report.md"), "w") as f:
        f.write("\n".join(lines))
    with open(os.path.join(OUT, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    plots(results)
    print("\n".join(lines))


def plots(results):
    if not shutil.which("gnuplot"):
        print("gnuplot missing: no plots", file=sys.stderr)
        return
    dat = os.path.join(OUT, "rows.dat")
    with open(dat, "w") as f:
        f.write("# row udp_ops xdp_ops udp_cpu xdp_cpu udp_p50 xdp_p50 udp_p99 xdp_p99\n")
        for row in results["rows"]:
            if "xdp" not in row["configs"] or "udp" not in row["configs"]:
                continue
            u, x = row["configs"]["udp"], row["configs"]["xdp"]
            f.write(f"\"{row['name']}\" {u['ops_per_s']} {x['ops_per_s']} {u['server_cpu_us_per_op']} "
                    f"{x['server_cpu_us_per_op']} {u['p50_us']} {x['p50_us']} {u['p99_us']} {x['p99_us']}\n")
    common = ("set terminal pngcairo noenhanced size 1200,560 font 'sans,10'; set style data histograms; "
              "set style histogram clustered gap 1; set style fill solid 0.8 border -1; "
              "set key top right; set grid ytics; set xtics rotate by -30 scale 0; "
              "set bmargin 6; ")
    script = common + (
        f"set output '{OUT}/throughput.png'; set multiplot layout 1,2 title 'Ferry: AF_XDP vs kernel UDP (same node)'; "
        "set title 'operations per second'; set logscale y; "
        f"plot '{dat}' using 2:xtic(1) title 'udp' lc rgb '#888888', '' using 3 title 'xdp' lc rgb '#1f77b4'; "
        "set title 'server CPU µs per operation (lower is better)'; "
        f"plot '{dat}' using 4:xtic(1) title 'udp' lc rgb '#888888', '' using 5 title 'xdp' lc rgb '#1f77b4'; "
        "unset multiplot; unset logscale y; "
        f"set output '{OUT}/latency.png'; set title 'latency percentiles (µs, log scale)'; set logscale y; "
        f"plot '{dat}' using 6:xtic(1) title 'udp p50' lc rgb '#aaaaaa', '' using 7 title 'xdp p50' lc rgb '#6baed6', "
        "'' using 8 title 'udp p99' lc rgb '#555555', '' using 9 title 'xdp p99' lc rgb '#08519c'")
    sh("gnuplot", "-e", script, check=False)


def main():
    if sys.argv[1:] == ["--report"]:
        # Redo report.md and the plots from the last run's results.json.
        with open(os.path.join(OUT, "results.json")) as f:
            report(json.load(f))
        return
    if os.geteuid() != 0:
        sys.exit("make bench: needs root (network namespaces, XDP)")
    if not os.path.exists(FERRY):
        sys.exit("make bench: build/ferry is missing")
    results = {"machine": machine(), "rows": []}
    t0 = time.monotonic()
    # BENCH_ROWS="4 KiB GET,1 MiB PUT": only those rows (for development);
    # BENCH_CLUSTER=0 / BENCH_STORE=0 leave out the R=3 rows / engine vs fio.
    only = [r.strip() for r in os.environ.get("BENCH_ROWS", "").split(",") if r.strip()]
    pick = lambda rows: [r for r in rows if not only or r[0] in only]
    with Net() as net:
        net_rows(net, results, pick(ROWS), False)
        if os.environ.get("BENCH_CLUSTER", "1") == "1":
            net_rows(net, results, pick(CLUSTER_ROWS), True)
    if os.environ.get("BENCH_STORE", "1") == "1":
        store_rows(results)
    results["seconds"] = time.monotonic() - t0
    report(results)
    print(f"\nmake bench: {results['seconds']:.0f} s; report in build/bench/report.md")


if __name__ == "__main__":
    main()
