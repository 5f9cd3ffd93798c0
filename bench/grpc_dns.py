#!/usr/bin/env python3
"""Time one `rdy check` of a gRPC health server and of a DNS name against the
tools people run for them today, as paired wall-time ratios.

    bench/grpc_dns.py [--rdy dist/rdy] [--pairs 60]

Runs as root inside a network and mount namespace of its own (it re-executes
itself under `unshare -n -m`): loopback only, with dnsmasq on 127.0.0.1:53
and a private /etc/resolv.conf naming it, so `getent` and rdy's
resolv.conf path ask the same server as `dig`. Needs dnsmasq, dig
(dnsutils), getent, and Python's grpcio + grpcio-health-checking.

Each comparison alternates the two commands (who goes first alternates too)
for N pairs and reports the median of the per-pair ratios other/rdy, with
each command's median wall time. grpc-health-probe, the usual exec probe,
is a Go program whose modules cannot be fetched here, so gRPC is compared
with a Python client of the same health API (grpcio), which is what a
Python image without the Go binary runs instead.

Measured, never asserted; writes bench/results/grpc_dns.json.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
SERVER = ROOT / "tests" / "servers" / "health_server.py"

PY_CLIENT = """
import sys, grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
channel = grpc.insecure_channel(sys.argv[1])
answer = health_pb2_grpc.HealthStub(channel).Check(
    health_pb2.HealthCheckRequest(service=""), timeout=1)
sys.exit(0 if answer.status == health_pb2.HealthCheckResponse.SERVING else 1)
"""


def in_namespace():
    """Re-executes under unshare unless already inside."""
    if os.environ.get("RDY_BENCH_NS") == "1":
        return
    env = dict(os.environ, RDY_BENCH_NS="1")
    os.execvpe("unshare", ["unshare", "-n", "-m", "--", sys.executable, *sys.argv], env)


def setup_network(workdir):
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    resolv = Path(workdir) / "resolv.conf"
    resolv.write_text("nameserver 127.0.0.1\n")
    subprocess.run(["mount", "--bind", str(resolv), "/etc/resolv.conf"], check=True)
    hosts = Path(workdir) / "hosts"
    hosts.write_text("127.0.0.1 db.bench.test\n")
    dnsmasq = subprocess.Popen(
        ["dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv",
         "--no-hosts", "--local=/test/", "--listen-address=127.0.0.1",
         "--bind-interfaces", "--pid-file=", "--user=root", "--port=53",
         f"--addn-hosts={hosts}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return dnsmasq


def start_grpc():
    server = subprocess.Popen([sys.executable, str(SERVER), "0"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    port = int(server.stdout.readline().split()[1])
    server.stdin.write("serving \n")
    server.stdin.flush()
    assert server.stdout.readline().strip() == "ok"
    return server, port


def wall(command):
    start = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{command} exited {done.returncode}")
    return elapsed


def paired(rdy_cmd, other_cmd, pairs):
    """Median of per-pair ratios other/rdy, and each side's median (ms)."""
    for _ in range(3):  # warm the page cache and the servers
        wall(rdy_cmd)
        wall(other_cmd)
    ratios, ours, theirs = [], [], []
    for i in range(pairs):
        if i % 2 == 0:
            a = wall(rdy_cmd)
            b = wall(other_cmd)
        else:
            b = wall(other_cmd)
            a = wall(rdy_cmd)
        ours.append(a)
        theirs.append(b)
        ratios.append(b / a)
    return {
        "ratio_median": statistics.median(ratios),
        "rdy_ms_median": statistics.median(ours) * 1000,
        "other_ms_median": statistics.median(theirs) * 1000,
        "pairs": pairs,
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rdy", default=str(ROOT / "dist" / "rdy"))
    parser.add_argument("--pairs", type=int, default=60)
    args = parser.parse_args()
    in_namespace()
    rdy = os.path.abspath(args.rdy)
    results = {}
    with tempfile.TemporaryDirectory() as workdir:
        dnsmasq = setup_network(workdir)
        grpc_server, port = start_grpc()
        try:
            time.sleep(0.3)
            name = "db.bench.test"
            comparisons = {
                "dns: dig": ([rdy, "check", "-q", f"dns://{name}"],
                             ["dig", "+short", "+tries=1", "+time=1", name, "A"]),
                "dns: getent hosts": ([rdy, "check", "-q", f"dns://{name}"],
                                      ["getent", "hosts", name]),
                "grpc: python grpcio health client": (
                    [rdy, "check", "-q", f"grpc://127.0.0.1:{port}"],
                    [sys.executable, "-c", PY_CLIENT, f"127.0.0.1:{port}"]),
            }
            for label, (ours, theirs) in comparisons.items():
                results[label] = paired(ours, theirs, args.pairs)
        finally:
            grpc_server.kill()
            grpc_server.wait()
            dnsmasq.kill()
            dnsmasq.wait()
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "grpc_dns.json").write_text(json.dumps(results, indent=2) + "\n")
    print("| comparison | rdy (median) | other (median) | other/rdy (median of pairs) |")
    print("|---|---|---|---|")
    for label, r in results.items():
        print(f"| {label} | {r['rdy_ms_median']:.2f} ms | {r['other_ms_median']:.2f} ms "
              f"| {r['ratio_median']:.1f}× |")


if __name__ == "__main__":
    main()
