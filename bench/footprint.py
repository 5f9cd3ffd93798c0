#!/usr/bin/env python3
"""rdy's footprint against its budget and against docker-compose-wait, in one run.

    bench/footprint.py [--no-build] [--pairs 60] [--rss-runs 5]
                       [--peer ../shared/peers/docker-compose-wait]

For dist/rdy (./build.sh) and dist/rdy-min (./build.sh --min):
  - size in bytes against the limits in size-budget;
  - peak RSS of `rdy check tcp://127.0.0.1:PORT`: median of 5 runs, each
    from a cold page cache (VmHWM at exit, see bench/maxrss.c);
  - wall time of the same check against docker-compose-wait's
    `WAIT_HOSTS=127.0.0.1:PORT wait`, 60 alternating pairs (bench/pairs.c),
    as the median of the per-pair ratios rdy/peer.

Needs gcc (for the two helpers). The TCP server is on loopback. Measured,
never asserted: the bars of issue 10 are printed next to the numbers.
"""

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import RESULTS, ROOT, evict, maxrss_helper, tcp_server  # noqa: E402

PEER = ROOT.parent / "shared" / "peers" / "docker-compose-wait"
BARS = {"rdy": (600, 1.00), "rdy-min": (450, 1.00)}


def pairs_helper():
    helper = RESULTS / "pairs"
    source = ROOT / "bench" / "pairs.c"
    if not helper.exists() or helper.stat().st_mtime < source.stat().st_mtime:
        subprocess.run(["gcc", "-O2", "-o", str(helper), str(source)], check=True)
    return str(helper)


def budget():
    """Limits per binary from size-budget: base + landed allowances."""
    base, extra = {}, 0
    for line in (ROOT / "size-budget").read_text().splitlines():
        words = line.split("#")[0].split()
        if len(words) >= 3 and words[0] == "base":
            base[words[1]] = int(words[2])
        elif len(words) >= 3 and words[0] == "allowance" and words[2] == "landed":
            extra += int(words[1])
    return {name: limit + extra for name, limit in base.items()}


def peak_rss_median(command, env, runs):
    peaks = []
    for _ in range(runs):
        evict(command[0])
        out = subprocess.run([maxrss_helper()] + command, env=env,
                             capture_output=True, text=True)
        if out.returncode != 0:
            raise SystemExit(f"{command} failed: {out.stderr}")
        peaks.append(int(out.stdout.split()[-1]))
    return statistics.median(peaks), peaks


def paired(rdy_cmd, peer_cmd, pairs):
    out = subprocess.run([pairs_helper(), str(pairs), "--", *rdy_cmd, "--", *peer_cmd],
                         capture_output=True, text=True, check=True)
    rows = [tuple(map(int, line.split())) for line in out.stdout.splitlines() if line]
    ratios = [a / b for a, b in rows]
    return (statistics.median(ratios),
            statistics.median(a for a, _ in rows) / 1e6,
            statistics.median(b for _, b in rows) / 1e6)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--pairs", type=int, default=60)
    parser.add_argument("--rss-runs", type=int, default=5)
    parser.add_argument("--peer", default=str(PEER))
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    if not args.no_build:
        subprocess.run([str(ROOT / "build.sh"), "--min"], check=True)

    port = tcp_server()
    target = f"tcp://127.0.0.1:{port}"
    peer_env = {"WAIT_HOSTS": f"127.0.0.1:{port}"}
    peer_rss, _ = peak_rss_median([args.peer], peer_env, args.rss_runs)
    limits = budget()

    print("| binary | bytes | budget | peak RSS, TCP check (bar) | time vs docker-compose-wait (bar) |")
    print("|---|---:|---:|---:|---:|")
    for name in ("rdy", "rdy-min"):
        path = ROOT / "dist" / name
        if not path.exists():
            print(f"| {name} | not built | | | |")
            continue
        rss, _ = peak_rss_median([str(path), "check", "-q", target], {}, args.rss_runs)
        ratio, ours, theirs = paired([str(path), "check", "-q", target],
                                     [f"WAIT_HOSTS=127.0.0.1:{port}", args.peer],
                                     args.pairs)
        rss_bar, ratio_bar = BARS[name]
        print(f"| {name} | {path.stat().st_size:,} | {limits.get(name, 0):,} "
              f"| {rss:.0f} KiB (≤ {rss_bar}) "
              f"| {ratio:.2f} ({ours:.3f} ms vs {theirs:.3f} ms; ≤ {ratio_bar:.2f}) |")
    print(f"\ndocker-compose-wait: {Path(args.peer).stat().st_size:,} bytes, "
          f"peak RSS {peer_rss:.0f} KiB; {args.pairs} alternating pairs, "
          f"RSS median of {args.rss_runs} cold runs.")


if __name__ == "__main__":
    main()
