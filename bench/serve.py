#!/usr/bin/env python3
"""Benchmark `rdy serve` under load with wrk, next to prometheus-blackbox-exporter.

    bench/serve.py [--rdy dist/rdy] [--seconds 5] [--repeat 3] [--no-build]

Needs wrk and prometheus-blackbox-exporter (Debian packages). Everything runs
on loopback: a TCP target, the server under test, wrk. For each server and
each of 1, 64 and 1,000 keep-alive connections it reports requests per second,
latency percentiles, errors, and the server's peak RSS (VmHWM of a fresh
server process, started with its binary evicted from the page cache, after
the run). Each row is the run with the median p99 of
`--repeat` runs, since other processes on a shared machine show up in the
latency tail. `/all` is also run with `--cache-ttl 0`, where
every request probes (concurrent ones still share a probe in flight), as
blackbox's `/probe` always does. Prints a Markdown report and writes the raw
numbers to bench/results/serve.json.

Measured, never asserted: these numbers depend on the machine. The bars from
issue 3 are printed next to them for reading convenience.
"""

import argparse
import json
import os
import re
import resource
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import RESULTS, ROOT, evict, size, tcp_server  # noqa: E402

CONNECTIONS = (1, 64, 1000)
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def raise_fd_limit():
    """wrk and the servers need more than 1,024 descriptors at 1,000 connections."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url, limit=10.0):
    end = time.monotonic() + limit
    while time.monotonic() < end:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except Exception:
            time.sleep(0.05)
    raise SystemExit(f"{url} did not answer within {limit}s")


def vm_hwm_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return -1


class Rdy:
    """`rdy serve` on a free loopback port, probing one TCP target."""

    def __init__(self, binary, target, *options):
        self.port = free_port()
        self.log = tempfile.TemporaryFile()
        evict(binary)
        self.proc = subprocess.Popen(
            [binary, "serve", "--listen", f"127.0.0.1:{self.port}", *options,
             f"127.0.0.1:{target}", "--name", "db"],
            stdout=subprocess.DEVNULL, stderr=self.log)
        wait_http(self.url("/self"))

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


class Blackbox:
    """prometheus-blackbox-exporter with a tcp_connect module."""

    def __init__(self, target, config_dir):
        self.port = free_port()
        self.target = target
        config = Path(config_dir) / "blackbox.yml"
        config.write_text("modules:\n  tcp_connect:\n    prober: tcp\n    timeout: 1s\n")
        evict("prometheus-blackbox-exporter")
        self.proc = subprocess.Popen(
            ["prometheus-blackbox-exporter", f"--config.file={config}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=error"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_http(self.url(None))

    def url(self, _path):
        return (f"http://127.0.0.1:{self.port}/probe"
                f"?target=127.0.0.1:{self.target}&module=tcp_connect")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def wrk(url, connections, seconds):
    threads = min(2, connections)
    out = subprocess.run(
        ["wrk", "--latency", f"-t{threads}", f"-c{connections}", f"-d{seconds}s",
         "--timeout", "5s", url],
        capture_output=True, text=True, check=True).stdout
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}
    for pct in ("50", "90", "99"):
        m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        result[f"p{pct}_ms"] = float(m.group(1)) * UNITS[m.group(2)]
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result["non_2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    result["socket_errors"] = sum(map(int, m.groups())) if m else 0
    return result


TICK = os.sysconf("SC_CLK_TCK")


def machine_busy_s():
    """CPU seconds the whole machine has been busy (all CPUs)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / TICK


def process_cpu_s(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def harness_cpu_s():
    """wrk (a reaped child) and this script, whose thread is the TCP target."""
    total = 0.0
    for who in (resource.RUSAGE_CHILDREN, resource.RUSAGE_SELF):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def measure(start, path, connections, seconds):
    """One wrk run against a fresh server; its peak RSS afterwards. The CPU
    that other processes used meanwhile is kept too: the machine may be
    shared, and their load shows up in the latency tail."""
    server = start()
    try:
        urllib.request.urlopen(server.url(path), timeout=5).read()  # warm the cache
        before = (machine_busy_s(), process_cpu_s(server.proc.pid), harness_cpu_s())
        started = time.monotonic()
        result = wrk(server.url(path), connections, seconds)
        wall = time.monotonic() - started
        busy, own, load = (machine_busy_s() - before[0],
                           process_cpu_s(server.proc.pid) - before[1],
                           harness_cpu_s() - before[2])
        result["server_cpus"] = own / wall
        result["other_cpus"] = max(0.0, busy - own - load) / wall
        result["peak_rss_kib"] = vm_hwm_kib(server.proc.pid)
    finally:
        server.stop()
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rdy", default=str(ROOT / "dist" / "rdy"))
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-build", action="store_true")
    args = parser.parse_args()
    for tool in ("wrk", "prometheus-blackbox-exporter"):
        if subprocess.run(["which", tool], capture_output=True).returncode != 0:
            sys.exit(f"{tool} is missing: apt-get install wrk prometheus-blackbox-exporter")
    RESULTS.mkdir(parents=True, exist_ok=True)
    if not args.no_build:
        subprocess.run([str(ROOT / "build.sh"), "--min"], check=True)
    raise_fd_limit()
    target = tcp_server()
    config_dir = tempfile.mkdtemp(prefix="rdy-bench-serve-")

    servers = [("rdy", args.rdy)]
    if os.path.exists(ROOT / "dist" / "rdy-min") and args.rdy == str(ROOT / "dist" / "rdy"):
        servers.append(("rdy-min", str(ROOT / "dist" / "rdy-min")))
    runs = []
    for label, binary in servers:
        for path in ("/self", "/all"):
            runs.append((label, path, lambda b=binary: Rdy(b, target)))
    # Every request probes (concurrent ones still share the probe in
    # flight): the fair comparison with blackbox, which never caches.
    runs.append(("rdy --cache-ttl 0", "/all",
                 lambda: Rdy(args.rdy, target, "--cache-ttl", "0")))
    runs.append(("blackbox", "/probe", lambda: Blackbox(target, config_dir)))

    report = {"seconds": args.seconds, "results": [], "sizes": {}}
    lines = ["| server | endpoint | connections | req/s | p50 | p90 | p99 | errors | peak RSS "
             "| server CPUs | other CPUs |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for label, path, start in runs:
        for connections in CONNECTIONS:
            tries = sorted((measure(start, path, connections, args.seconds)
                            for _ in range(args.repeat)), key=lambda t: t["p99_ms"])
            r = tries[len(tries) // 2]
            r["p99_ms_all_runs"] = [t["p99_ms"] for t in tries]
            r.update(server=label, endpoint=path, connections=connections)
            report["results"].append(r)
            errors = r["non_2xx"] + r["socket_errors"]
            lines.append(
                f"| {label} | `{path}` | {connections:,} | {r['rps']:,.0f} | {r['p50_ms']:.2f} ms "
                f"| {r['p90_ms']:.2f} ms | {r['p99_ms']:.2f} ms | {errors} | "
                f"{r['peak_rss_kib']:,} KiB | {r['server_cpus']:.2f} | {r['other_cpus']:.2f} |")
            print(lines[-1], flush=True)

    lines += ["", "Bars (issue 3): `/self` ≥ 20,000 req/s with p99 ≤ 5 ms at 64 connections; "
              "peak RSS ≤ 2 MiB (2,048 KiB) at 1,000 connections. wrk and the server share "
              f"the machine's {os.cpu_count()} CPUs. \"server CPUs\" is the server's CPU time "
              "over the run's wall time; \"other CPUs\" what processes other than wrk and the "
              "server used meanwhile (a shared machine's noise, visible in the latency tail). "
              f"Each row is the run with the median p99 of {args.repeat}.",
              ""]
    for label, path in servers + [("prometheus-blackbox-exporter",
                                   "/usr/bin/prometheus-blackbox-exporter")]:
        report["sizes"][label] = size(path)
        lines.append(f"- {label}: {size(path):,} bytes")
    (RESULTS / "serve.json").write_text(json.dumps(report, indent=2))
    (RESULTS / "serve.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
