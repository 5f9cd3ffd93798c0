#!/usr/bin/env python3
"""One `rdy check` per database protocol against the tool a user runs today.

    bench/databases.py [--rdy dist/rdy] [--pairs 60]

Starts PostgreSQL (as nobody), MariaDB and Redis from the Debian packages
(`postgresql`, `mariadb-server`, `redis-server`; the clients `pg_isready`,
`mysqladmin` and `redis-cli` come with them) on free loopback ports in a
temp dir, then times each pair of commands in alternation:

    rdy check -q postgres://127.0.0.1:P   vs  pg_isready -h 127.0.0.1 -p P
    rdy check -q mysql://127.0.0.1:P      vs  mysqladmin --protocol=tcp -h 127.0.0.1 -P P ping
    rdy check -q redis://127.0.0.1:P      vs  redis-cli -h 127.0.0.1 -p P ping

Each pair runs both commands once, in alternating order, and the ratio is
rdy's wall time over the tool's; the figure is the median of the per-pair
ratios (a pair shares the machine's state, so background load cancels out
better than in two separate series). Needs root (PostgreSQL runs as nobody).
Measured, never asserted.
"""

import argparse
import glob
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 60  # seconds any start-up step may take


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port):
    end = time.monotonic() + LIMIT
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"port {port} did not open within {LIMIT}s")


def wait_ready(cmd):
    """Runs `cmd` until it exits 0, at most LIMIT seconds."""
    end = time.monotonic() + LIMIT
    while time.monotonic() < end:
        if subprocess.run(cmd, capture_output=True).returncode == 0:
            return
        time.sleep(0.1)
    sys.exit(f"{cmd} did not succeed within {LIMIT}s")


def pg_bin(name):
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        sys.exit(f"{name} not found: apt-get install postgresql")
    return found[-1]


NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]


def start_postgres(tmp):
    data = tmp / "pg"
    data.mkdir()
    os.chown(data, 65534, 65534)
    subprocess.run(NOBODY + [pg_bin("initdb"), "-D", str(data), "-A", "trust",
                             "-U", "postgres", "--no-sync"],
                   check=True, capture_output=True, cwd="/")
    port = free_port()
    proc = subprocess.Popen(
        NOBODY + [pg_bin("postgres"), "-D", str(data), "-p", str(port),
                  "-c", "listen_addresses=127.0.0.1",
                  "-c", f"unix_socket_directories={data}", "-c", "fsync=off"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd="/")
    wait_listening(port)
    wait_ready([pg_bin("pg_isready"), "-h", "127.0.0.1", "-p", str(port)])
    return proc, port


def start_mariadb(tmp):
    data = tmp / "maria"
    subprocess.run(["mariadb-install-db", "--no-defaults", f"--datadir={data}",
                    "--user=root", "--auth-root-authentication-method=normal",
                    "--skip-test-db"], check=True, capture_output=True)
    port = free_port()
    proc = subprocess.Popen(
        ["mariadbd", "--no-defaults", f"--datadir={data}", "--user=root",
         f"--socket={tmp / 'maria.sock'}", f"--pid-file={tmp / 'maria.pid'}",
         "--bind-address=127.0.0.1", f"--port={port}", "--skip-log-bin"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_listening(port)
    return proc, port


def start_redis(tmp):
    port = free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1",
         "--dir", str(tmp), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_listening(port)
    return proc, port


def wall(cmd):
    start = time.perf_counter()
    result = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    took = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"{cmd} exited {result.returncode}")
    return took


def paired(rdy_cmd, tool_cmd, pairs):
    """Median of rdy/tool over `pairs` pairs, alternating which runs first;
    also the median wall times."""
    for _ in range(3):  # warm the page cache and the servers
        wall(rdy_cmd)
        wall(tool_cmd)
    ratios, rdy_times, tool_times = [], [], []
    for i in range(pairs):
        if i % 2 == 0:
            r, t = wall(rdy_cmd), wall(tool_cmd)
        else:
            t, r = wall(tool_cmd), wall(rdy_cmd)
        ratios.append(r / t)
        rdy_times.append(r)
        tool_times.append(t)
    return (statistics.median(ratios), statistics.median(rdy_times),
            statistics.median(tool_times))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rdy", default=str(ROOT / "dist" / "rdy"))
    parser.add_argument("--pairs", type=int, default=60)
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench/databases.py: needs root (PostgreSQL runs as nobody)")
    rdy = args.rdy
    procs = []
    with tempfile.TemporaryDirectory(prefix="rdy-bench-db-") as tmp:
        tmp = Path(tmp)
        os.chmod(tmp, 0o755)
        try:
            pg, pg_port = start_postgres(tmp)
            procs.append(pg)
            maria, my_port = start_mariadb(tmp)
            procs.append(maria)
            redis, redis_port = start_redis(tmp)
            procs.append(redis)
            rows = [
                ("postgres", [rdy, "check", "-q", f"postgres://127.0.0.1:{pg_port}"],
                 [pg_bin("pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(pg_port)]),
                ("mysql", [rdy, "check", "-q", f"mysql://127.0.0.1:{my_port}"],
                 ["mysqladmin", "--no-defaults", "--protocol=tcp", "-h", "127.0.0.1",
                  "-P", str(my_port), "ping"]),
                ("redis", [rdy, "check", "-q", f"redis://127.0.0.1:{redis_port}"],
                 ["redis-cli", "-h", "127.0.0.1", "-p", str(redis_port), "ping"]),
            ]
            wait_ready(rows[1][1])
            print(f"{args.pairs} pairs each, rdy = {rdy}\n")
            print("| protocol | tool | median rdy/tool | rdy median | tool median |")
            print("|---|---|---|---|---|")
            for name, rdy_cmd, tool_cmd in rows:
                ratio, r, t = paired(rdy_cmd, tool_cmd, args.pairs)
                tool = Path(tool_cmd[0]).name
                print(f"| {name} | {tool} | {ratio:.2f} | {r * 1000:.2f} ms | {t * 1000:.2f} ms |")
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()


if __name__ == "__main__":
    main()
