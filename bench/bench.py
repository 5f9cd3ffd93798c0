#!/usr/bin/env python3
"""Benchmark `rdy check` against the tools people use instead, in one run.

    bench/bench.py [--rdy dist/rdy] [--runs 50] [--no-build]

Needs hyperfine, curl, netcat-openbsd, fping, iputils-ping and openssl
(Debian packages). Every server is on loopback. Prints a Markdown report and
writes the raw numbers to bench/results/.

Measured, never asserted: these numbers depend on the machine. The bars from
the project's issues are shown next to each ratio for reading convenience.
"""

import argparse
import json
import os
import random
import shlex
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


# --- servers on loopback ---------------------------------------------------

def tcp_server():
    """A listener that accepts and closes; returns its port."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)

    def loop():
        while True:
            conn, _ = sock.accept()
            conn.close()

    threading.Thread(target=loop, daemon=True).start()
    return sock.getsockname()[1]


class Ok(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        body = b"ok"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def http_server(tls_dir=None):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Ok)
    if tls_dir:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(tls_dir / "cert.pem", tls_dir / "key.pem")
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.server_address[1]


def self_signed(directory):
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(directory / "key.pem"), "-out", str(directory / "cert.pem")],
        check=True, capture_output=True)


# --- measurement -------------------------------------------------------------

def hyperfine(commands, runs, label):
    """Median wall time (s) per command, measured without a shell."""
    out = RESULTS / f"hyperfine-{label}.json"
    args = ["hyperfine", "-N", "--warmup", "5", "--runs", str(runs),
            "--export-json", str(out), "--style", "none", "-i"]
    subprocess.run(args + [shlex.join(c) for c in commands], check=True,
                   stdout=subprocess.DEVNULL)
    data = json.loads(out.read_text())
    return [r["median"] for r in data["results"]]


def maxrss_helper():
    """Compiles bench/maxrss.c (ptrace + VmHWM; see the comment there)."""
    helper = RESULTS / "maxrss"
    source = ROOT / "bench" / "maxrss.c"
    if not helper.exists() or helper.stat().st_mtime < source.stat().st_mtime:
        subprocess.run(["gcc", "-O2", "-o", str(helper), str(source)], check=True)
    return str(helper)


def evict(path):
    """Drops a file from the page cache, as on a node that has not run it
    yet: how the kernel cached a file (large folios after readahead, small
    pages after `cp`) changes how much of it one page fault maps."""
    fd = os.open(os.path.realpath(shutil.which(path) or path), os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def peak_rss_kib(command, repeat=10):
    """Largest peak resident set size (VmHWM, KiB) over `repeat` runs, each
    started from a cold page cache."""
    peaks = []
    for _ in range(repeat):
        evict(command[0])
        out = subprocess.run([maxrss_helper()] + command, capture_output=True, text=True)
        if out.returncode != 0:
            raise SystemExit(f"{command} failed during the RSS measurement: {out.stderr}")
        peaks.append(int(out.stdout.split()[-1]))
    return max(peaks)


def detection(rdy, interval, seconds, trials):
    """Time from a port starting to listen to `rdy wait` exiting (ms).

    The port opens at a moment spread evenly over one interval across the
    trials (stratified, with jitter inside each stratum): a uniformly random
    moment would leave the mean of 20 trials at 100 ms with a standard error
    of 6.5 ms, more than the 5 ms the bar allows for rdy itself."""
    delays = []
    for i in range(trials):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        proc = subprocess.Popen([rdy, "wait", "-q", "-i", interval, f"127.0.0.1:{port}"])
        time.sleep(0.3 + (i + random.random()) / trials * seconds)
        watchdog = threading.Timer(30, proc.kill)
        watchdog.start()
        sock.listen(16)
        opened = time.monotonic()
        # A blocking wait: Popen.wait(timeout=...) polls with sleeps of up to
        # 50 ms, which would be measured as detection time.
        proc.wait()
        delays.append((time.monotonic() - opened) * 1000)
        watchdog.cancel()
        sock.close()
    return delays


def size(path):
    resolved = shutil.which(path) or path
    return os.path.getsize(os.path.realpath(resolved))


# --- report ------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rdy", default=str(ROOT / "dist" / "rdy"))
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--no-build", action="store_true")
    args = parser.parse_args()
    if args.runs < 20:
        sys.exit("--runs must be at least 20")
    RESULTS.mkdir(parents=True, exist_ok=True)
    if not args.no_build:
        subprocess.run([str(ROOT / "build.sh"), "--min"], check=True)
    rdy = args.rdy

    tls_dir = Path(tempfile.mkdtemp(prefix="rdy-bench-"))
    self_signed(tls_dir)
    tcp = tcp_server()
    http = http_server()
    https = http_server(tls_dir)
    h, s = f"http://127.0.0.1:{http}/", f"https://127.0.0.1:{https}/"

    groups = [
        ("TCP", 0.5, [[rdy, "check", f"127.0.0.1:{tcp}"],
                      ["nc", "-z", "127.0.0.1", str(tcp)],
                      ["bash", "-c", f"exec 3<>/dev/tcp/127.0.0.1/{tcp}"]]),
        ("HTTP", 0.3, [[rdy, "check", h], ["curl", "-sf", "-o", "/dev/null", h]]),
        ("HTTPS", 0.35, [[rdy, "check", "-k", s], ["curl", "-sfk", "-o", "/dev/null", s]]),
        ("ICMP", 0.7, [[rdy, "check", "icmp://127.0.0.1"], ["fping", "-q", "127.0.0.1"],
                       ["ping", "-c1", "-q", "-W1", "127.0.0.1"]]),
    ]
    report = {"rdy": rdy, "rdy_bytes": size(rdy), "groups": {}, "detection": {}}
    lines = ["| check | command | median | ratio rdy/peer (bar) | peak RSS |",
             "|---|---|---:|---:|---:|"]
    for name, bar, commands in groups:
        medians = hyperfine(commands, args.runs, name.lower())
        rss = [peak_rss_kib(cmd) for cmd in commands]
        report["groups"][name] = [
            {"command": " ".join(c), "median_s": m, "peak_rss_kib": r}
            for c, m, r in zip(commands, medians, rss)]
        for i, (cmd, median, kib) in enumerate(zip(commands, medians, rss)):
            ratio = "" if i == 0 else f"{medians[0] / median:.2f} (≤ {bar})" if i == 1 else f"{medians[0] / median:.2f}"
            shown = shlex.join(cmd).replace(rdy, "rdy")
            lines.append(f"| {name} | `{shown}` | {median * 1000:.2f} ms | {ratio} | {kib} KiB |")

    for interval, seconds, trials in (("100ms", 0.1, args.trials),
                                      ("1s", 1.0, max(10, args.trials // 2))):
        delays = detection(rdy, interval, seconds, trials)
        report["detection"][interval] = delays
        lines.append("")
        lines.append(f"time to detect, interval {interval}: mean {statistics.mean(delays):.1f} ms, "
                     f"median {statistics.median(delays):.1f} ms, max {max(delays):.1f} ms "
                     f"over {trials} trials (bar: mean ≤ interval/2 + 5 ms)")

    lines.append("")
    sizes = [("rdy (build.sh)", rdy)]
    if os.path.exists(ROOT / "dist" / "rdy-min"):
        sizes.append(("rdy (build.sh --min)", str(ROOT / "dist" / "rdy-min")))
    sizes += [("nc", "nc"), ("curl", "curl"), ("fping", "fping"), ("ping", "ping")]
    for label, path in sizes:
        report.setdefault("sizes", {})[label] = size(path)
        lines.append(f"- {label}: {size(path):,} bytes")
    (RESULTS / "report.json").write_text(json.dumps(report, indent=2))
    (RESULTS / "report.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
