#!/usr/bin/env python3
"""rdy's footprint against its budget and against docker-compose-wait, in one run.

    bench/footprint.py [--no-build] [--pairs 60] [--rss-runs 5] [--dist DIR]
                       [--peer ../shared/peers/docker-compose-wait]

For dist/rdy (./build.sh) and dist/rdy-min (./build.sh --min):
  - size in bytes against the limits in size-budget;
  - peak RSS (VmHWM at exit, see bench/maxrss.c) of every form users run,
    from a warm page cache, as when a probe repeats every periodSeconds:
    `check` that succeeds (it logs "ready"), `check -q`, a `check` that
    fails (the line the kubelet shows in the pod's events), a `wait` that
    succeeds at once, and a `wait` that times out; median of 5 runs after
    one that warms the cache;
  - wall time against docker-compose-wait like for like, 60 alternating
    pairs (bench/pairs.c), as the median of the per-pair ratios rdy/peer:
    both logging (`check`, and `wait`, against its default logger) and
    both silent (`check -q` against `WAIT_LOGGER_LEVEL=off`).

Needs gcc (for the two helpers). The TCP servers are on loopback. Measured,
never asserted: the bars are printed next to the numbers.
"""

import argparse
import socket
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import RESULTS, ROOT, evict, maxrss_helper, tcp_server  # noqa: E402

PEER = ROOT.parent / "shared" / "peers" / "docker-compose-wait"
# Peak RSS (KiB) of every form, and the time ratio, per binary.
BARS = {"rdy": (520, 0.95), "rdy-min": (450, 0.95)}


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


def peak_rss_median(command, env, runs, code=0):
    """Median VmHWM of `runs` runs after one that warms the page cache. The
    binary is evicted first, so that the warm-up reads it as a node does
    (readahead into large folios), not as `cp` left it (small pages, which
    map fewer pages per fault)."""
    evict(command[0])
    peaks = []
    for _ in range(runs + 1):
        out = subprocess.run([maxrss_helper()] + command, env=env,
                             capture_output=True, text=True)
        if out.returncode != code:
            raise SystemExit(f"{command} exited {out.returncode}, not {code}: {out.stderr}")
        peaks.append(int(out.stdout.split()[-1]))
    return statistics.median(peaks[1:]), peaks[1:]


def paired(rdy_cmd, peer_cmd, pairs):
    out = subprocess.run([pairs_helper(), str(pairs), "--", *rdy_cmd, "--", *peer_cmd],
                         capture_output=True, text=True, check=True)
    rows = [tuple(map(int, line.split())) for line in out.stdout.splitlines() if line]
    ratios = [a / b for a, b in rows]
    return (statistics.median(ratios),
            statistics.median(a for a, _ in rows) / 1e6,
            statistics.median(b for _, b in rows) / 1e6)


def closed_port():
    """A loopback port nothing listens on (bound, never listening)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock, sock.getsockname()[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--pairs", type=int, default=60)
    parser.add_argument("--rss-runs", type=int, default=5)
    parser.add_argument("--peer", default=str(PEER))
    parser.add_argument("--dist", default=str(ROOT / "dist"),
                        help="where rdy and rdy-min are (implies --no-build)")
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    if not args.no_build and Path(args.dist) == ROOT / "dist":
        subprocess.run([str(ROOT / "build.sh"), "--min"], check=True)

    up = f"127.0.0.1:{tcp_server()}"
    _held, down_port = closed_port()
    down = f"127.0.0.1:{down_port}"
    # (form, rdy's arguments, exit code)
    forms = [
        ("check", ["check", f"tcp://{up}"], 0),
        ("check -q", ["check", "-q", f"tcp://{up}"], 0),
        ("check, failing", ["check", f"tcp://{down}"], 1),
        ("wait, ready at once", ["wait", f"tcp://{up}"], 0),
        ("wait, timing out", ["wait", "-t", "1s", "-i", "250ms", f"tcp://{down}"], 1),
    ]
    peer_forms = [
        ("logging, ready", {"WAIT_HOSTS": up}, 0),
        ("silent, ready", {"WAIT_HOSTS": up, "WAIT_LOGGER_LEVEL": "off"}, 0),
        ("logging, timing out", {"WAIT_HOSTS": down, "WAIT_TIMEOUT": "1"}, 1),
    ]
    limits = budget()
    binaries = [(n, Path(args.dist) / n) for n in ("rdy", "rdy-min")]
    binaries = [(n, p) for n, p in binaries if p.exists()]

    print("| binary | bytes | budget |")
    print("|---|---:|---:|")
    for name, path in binaries:
        print(f"| {name} | {path.stat().st_size:,} | {limits.get(name, 0):,} |")

    print("\nPeak RSS, KiB (warm page cache; bar: "
          + ", ".join(f"{n} ≤ {BARS[n][0]}" for n, _ in binaries) + ")\n")
    print("| form | " + " | ".join(n for n, _ in binaries) + " |")
    print("|---|" + "---:|" * len(binaries))
    for form, words, code in forms:
        cells = []
        for name, path in binaries:
            rss, _ = peak_rss_median([str(path), *words], {}, args.rss_runs, code)
            mark = "" if rss <= BARS[name][0] else " (over)"
            cells.append(f"{rss:.0f}{mark}")
        print(f"| `{form}` | " + " | ".join(cells) + " |")
    for form, env, code in peer_forms:
        rss, _ = peak_rss_median([args.peer], env, args.rss_runs, code)
        print(f"| docker-compose-wait, {form} | {rss:.0f} | |")

    print(f"\nTime against docker-compose-wait, median of {args.pairs} paired "
          "ratios (bar ≤ 0.95)\n")
    print("| like for like | " + " | ".join(n for n, _ in binaries) + " |")
    print("|---|" + "---:|" * len(binaries))
    pairs = [
        ("logging: `check` / default logger", ["check", f"tcp://{up}"], []),
        ("logging: `wait` / default logger", ["wait", f"tcp://{up}"], []),
        ("silent: `check -q` / `WAIT_LOGGER_LEVEL=off`", ["check", "-q", f"tcp://{up}"],
         ["WAIT_LOGGER_LEVEL=off"]),
    ]
    for label, words, peer_env in pairs:
        cells = []
        for name, path in binaries:
            ratio, ours, theirs = paired([str(path), *words],
                                         [f"WAIT_HOSTS={up}", *peer_env, args.peer],
                                         args.pairs)
            cells.append(f"{ratio:.2f} ({ours:.3f} vs {theirs:.3f} ms)")
        print(f"| {label} | " + " | ".join(cells) + " |")
    print(f"\ndocker-compose-wait: {Path(args.peer).stat().st_size:,} bytes.")


if __name__ == "__main__":
    main()
