#!/usr/bin/env python3
"""Make layout/rdy.order (and layout/rdy-min.order): the functions rdy's
common runs execute, in the order build.sh asks lld to lay them out.

    bench/layout.py [--min] [--no-build]

Why: Linux maps a binary's pages in 64 KiB windows around each page fault,
so a check that runs 300 functions scattered over 1.2 MiB of code makes
most of the binary resident. Packing those functions at the start of .text
makes the same check touch a few windows (see build.sh).

How: `./build.sh --symbols` builds twins of the release binaries with their
symbol tables (same code, same symbol names); each workload below runs
under valgrind's callgrind, which records every function executed, on any
thread; the names are written most-frequent-use first: a TCP check, then
HTTP, HTTPS and ICMP checks, `rdy wait`, `rdy wait --supervise`, and
`rdy serve` answering requests. Kubernetes targets need an API server and
are left out: they run once per pod start, not every few seconds.

Needs valgrind and openssl (Debian packages). Every server is on loopback.
Regenerate after a toolchain or dependency upgrade (build.sh warns when the
order no longer matches).
"""

import argparse
import bisect
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import ROOT, http_server, self_signed, tcp_server  # noqa: E402
from serve import free_port, wait_http  # noqa: E402

# A name defined in a callgrind profile: `fn=(12) name` or `cfn=(12) name`;
# later mentions are `(12)` alone. Recursion levels get a `'2` suffix.
DEFINITION = re.compile(r"^c?fn=\(\d+\) (.+?)(?:'\d+)?$")


def callgrind(command, out):
    return ["valgrind", "--tool=callgrind", "--demangle=no",
            f"--callgrind-out-file={out}", *command]


def run_profiled(command, out):
    subprocess.run(callgrind(command, out), check=True, capture_output=True, timeout=120)


def serve_profiled(rdy, target, out):
    """`rdy serve` answering a few requests of each kind, then SIGTERM."""
    port = free_port()
    proc = subprocess.Popen(
        callgrind([rdy, "serve", "--listen", f"127.0.0.1:{port}", target, "--name", "db"], out),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_http(f"{base}/self", limit=60)
        for path in ("/self", "/all", "/readyz", "/ready/db", "/metrics") * 3:
            try:
                urllib.request.urlopen(base + path, timeout=10).read()
            except urllib.error.HTTPError:
                pass  # a 404 or 503 still runs the server's code
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)


def symbol_table(binary):
    """(address, name) of every code symbol, sorted by address.

    musl's assembly functions (`_start`, `memcpy`, `memset`, `__clone`,
    `__set_thread_area`) have no symbol size, so callgrind names them by
    address (`0x...`); the nearest symbol at or below the address is the
    function. Left out, each would stay outside the hot block and cost a
    fault-around window of its own."""
    out = subprocess.run(["nm", "--defined-only", binary], capture_output=True,
                         text=True, check=True).stdout
    table = []
    for line in out.splitlines():
        words = line.split()
        if len(words) == 3 and words[1] in "tTwW":
            table.append((int(words[0], 16), words[2]))
    return sorted(table)


def resolve(name, table):
    """The symbol name for a callgrind name: `0x...` addresses are looked
    up, and valgrind calls musl's `__libc_start_main` "(below main)"."""
    if name == "(below main)":
        return "__libc_start_main"
    if name.startswith("("):
        return None
    if not name.startswith("0x"):
        return name
    index = bisect.bisect_right(table, (int(name, 16), "\uffff")) - 1
    return table[index][1] if index >= 0 else None


def functions(profile, table):
    """Function names in a profile, in order of first mention."""
    names = []
    for line in Path(profile).read_text().splitlines():
        match = DEFINITION.match(line)
        if match:
            name = resolve(match.group(1), table)
            if name:
                names.append(name)
    return names


def order(rdy, work):
    """Profiles every workload and returns the names, first use first."""
    tls = work / "tls"
    tls.mkdir()
    self_signed(tls)
    tcp = f"127.0.0.1:{tcp_server()}"
    http = f"http://127.0.0.1:{http_server()}/"
    https = f"https://127.0.0.1:{http_server(tls)}/"
    workloads = [
        # Quiet first: the readiness-probe form of the README; the scheme
        # is parsed only when written, so both forms are profiled.
        ("check-tcp-quiet", [rdy, "check", "-q", f"tcp://{tcp}"]),
        ("check-tcp", [rdy, "check", "-q", tcp]),
        ("check-tcp-logged", [rdy, "check", tcp]),
        ("check-http", [rdy, "check", http]),
        ("check-https", [rdy, "check", "-k", https]),
        ("check-icmp", [rdy, "check", "icmp://127.0.0.1"]),
        ("wait", [rdy, "wait", tcp]),
        ("supervise", [rdy, "wait", "--supervise", tcp, "--", "/bin/true"]),
    ]
    table = symbol_table(rdy)
    seen, names = set(), []
    for label, command in workloads + [("serve", None)]:
        out = work / f"{label}.callgrind"
        if command is None:
            serve_profiled(rdy, tcp, out)
        else:
            run_profiled(command, out)
        new = list(dict.fromkeys(n for n in functions(out, table) if n not in seen))
        seen.update(new)
        names += new
        print(f"{label}: {len(new)} new functions", file=sys.stderr)
    return [label for label, _ in workloads] + ["serve"], names


def toolchain(variant):
    plus = ["+nightly"] if variant == "rdy-min" else []
    return subprocess.run(["rustc", *plus, "-V"], capture_output=True, text=True,
                          check=True).stdout.strip()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min", action="store_true", help="also layout/rdy-min.order")
    parser.add_argument("--no-build", action="store_true")
    args = parser.parse_args()
    if not args.no_build:
        build = [str(ROOT / "build.sh"), "--symbols"] + (["--min"] if args.min else [])
        subprocess.run(build, check=True, cwd=ROOT)
    variants = ["rdy"] + (["rdy-min"] if args.min else [])
    (ROOT / "layout").mkdir(exist_ok=True)
    for variant in variants:
        binary = ROOT / "dist" / f"{variant}-symbols"
        with tempfile.TemporaryDirectory(prefix="rdy-layout-") as work:
            started = time.monotonic()
            workloads, names = order(str(binary), Path(work))
        header = [
            f"# Function order for {variant} (build.sh passes it to lld).",
            "# Generated by bench/layout.py; do not edit.",
            f"# {toolchain(variant)}; workloads: {', '.join(workloads)}.",
        ]
        path = ROOT / "layout" / f"{variant}.order"
        path.write_text("\n".join(header + names) + "\n")
        print(f"{path.relative_to(ROOT)}: {len(names)} functions "
              f"({time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
