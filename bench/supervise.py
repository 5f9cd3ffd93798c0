#!/usr/bin/env python3
"""Measure what `rdy wait --supervise` costs a workload.

    bench/supervise.py [--rdy dist/rdy] [--runs 200] [--trials 50] [--no-build]

Needs hyperfine and gcc (for bench/maxrss.c). Every target is on loopback.
Reports, as Markdown, and writes bench/results/supervise.json:

- wall time of a trivial command (`true`) run directly, through
  `rdy wait T -- true` (exec) and through `rdy wait --supervise T -- true`,
  and the ratios;
- the resident set of the supervising rdy while its child runs (VmRSS
  from /proc once the child is up, and after a forwarded signal);
- SIGTERM-to-child-exit latency: from `kill(rdy, SIGTERM)` to a pidfd of
  the child becoming readable (Linux 5.3+: readable once the child has
  exited), next to the same signal sent straight to the child.

Measured, never asserted: these numbers depend on the machine. The bars from
issue 6 are printed next to them for reading convenience.
"""

import argparse
import json
import os
import select
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import RESULTS, ROOT, evict, hyperfine, tcp_server  # noqa: E402

TRUE = "/bin/true"
SLEEP = "/bin/sleep"


def children_of(pid):
    """The child pids of `pid`, whichever of its threads started them
    (Linux 3.5+ /proc/PID/task/TID/children)."""
    tasks = Path(f"/proc/{pid}/task").glob("*/children")
    return [int(p) for task in tasks for p in task.read_text().split()]


def await_child(pid, limit=5.0):
    """The one child `pid` starts, waited for at most `limit` seconds."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        kids = children_of(pid)
        if kids:
            return kids[0]
        time.sleep(0.001)
    raise SystemExit(f"rdy (pid {pid}) started no child within {limit}s")


def status_kib(pid, field):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return -1


def supervised(rdy, port, *command):
    return subprocess.Popen(
        [rdy, "wait", "-q", "--supervise", f"127.0.0.1:{port}", "--", *command])


def resident(rdy, port):
    """VmRSS (KiB) of the supervisor while `sleep` runs under it: once the
    child is up, and again after a forwarded signal (SIGWINCH, which sleep
    ignores) has run the forwarding code. The binary starts from a cold
    page cache, like a container's first start (see bench.evict)."""
    evict(rdy)
    proc = supervised(rdy, port, SLEEP, "30")
    try:
        await_child(proc.pid)
        # Let the supervisor settle into sigwait() before reading.
        time.sleep(0.2)
        started = status_kib(proc.pid, "VmRSS")
        proc.send_signal(signal.SIGWINCH)
        time.sleep(0.2)
        return started, status_kib(proc.pid, "VmRSS")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)


def exit_latency_ms(signalled, child):
    """Milliseconds from SIGTERM to `signalled` until `child` has exited."""
    fd = os.pidfd_open(child)
    try:
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        sent = time.perf_counter()
        os.kill(signalled, signal.SIGTERM)
        if not poller.poll(10_000):
            raise SystemExit(f"child {child} outlived SIGTERM by 10 s")
        return (time.perf_counter() - sent) * 1000
    finally:
        os.close(fd)


def latencies(rdy, port, trials):
    """SIGTERM latency through rdy and, as a baseline, straight to the child."""
    through, direct = [], []
    for _ in range(trials):
        proc = supervised(rdy, port, SLEEP, "30")
        child = await_child(proc.pid)
        through.append(exit_latency_ms(proc.pid, child))
        proc.wait(timeout=10)
        alone = subprocess.Popen([SLEEP, "30"])
        direct.append(exit_latency_ms(alone.pid, alone.pid))
        alone.wait(timeout=10)
    return through, direct


def build():
    subprocess.run([str(ROOT / "build.sh")], check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rdy", default=str(ROOT / "dist" / "rdy"))
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--no-build", action="store_true")
    args = parser.parse_args()
    if not args.no_build:
        build()
    RESULTS.mkdir(parents=True, exist_ok=True)
    port = tcp_server()
    target = f"127.0.0.1:{port}"
    direct, execd, supervise = hyperfine(
        [[TRUE],
         [args.rdy, "wait", "-q", target, "--", TRUE],
         [args.rdy, "wait", "-q", "--supervise", target, "--", TRUE]],
        args.runs, "supervise")
    rss, after_signal = resident(args.rdy, port)
    through, alone = latencies(args.rdy, port, args.trials)
    ms = 1000
    result = {
        "true_ms": direct * ms, "exec_ms": execd * ms, "supervise_ms": supervise * ms,
        "supervisor_rss_kib": rss, "supervisor_rss_after_signal_kib": after_signal,
        "sigterm_through_rdy_ms": sorted(through), "sigterm_direct_ms": sorted(alone),
    }
    (RESULTS / "supervise.json").write_text(json.dumps(result, indent=2))
    p95 = lambda xs: sorted(xs)[int(len(xs) * 0.95) - 1]  # noqa: E731
    print(f"# rdy wait --supervise ({args.rdy})\n")
    print("| measure | value | bar |")
    print("|---|---|---|")
    print(f"| `true` directly | {direct * ms:.2f} ms | |")
    print(f"| `rdy wait T -- true` (exec) | {execd * ms:.2f} ms | |")
    print(f"| `rdy wait --supervise T -- true` | {supervise * ms:.2f} ms "
          f"(× {supervise / direct:.1f} of direct, +{(supervise - execd) * ms:.2f} ms over exec) | |")
    print(f"| supervisor RSS while the child runs | {rss} KiB, {after_signal} KiB after "
          "forwarding a signal | ≤ 700 KiB |")
    print(f"| SIGTERM → child exit through rdy | median {statistics.median(through):.3f} ms, "
          f"p95 {p95(through):.3f} ms, max {max(through):.3f} ms | ≤ 5 ms |")
    print(f"| SIGTERM → exit sent to the child directly | median {statistics.median(alone):.3f} ms, "
          f"p95 {p95(alone):.3f} ms | |")


if __name__ == "__main__":
    main()
