#!/usr/bin/env python3
"""rdy serve's object API at cluster scale, against a real API server
(issue 19 item 6). Fill it first (RK_NO_KCM=1, so that only these writes
change status):

    RK_NO_KCM=1 ../shared/realkube/up.sh     # or any test cluster, token kubeconfig
    python3 bench/kube_api.py deployments 100 10000
    python3 bench/serve_scale.py [RDY] [NAMESPACES] [COUNT]

Starts `rdy serve --expose bench-0 ... bench-N`, asks for every Deployment
once, then reports: the API server's LIST requests and open namespaced
WATCHes of deployments (its /metrics), rdy's RSS and threads, latency of
/api/healthz at about 1,000 requests/s from wrk with random names (a Lua
delay paces two connections), and the time from a status write to the
changed answer. Needs wrk.
"""
import http.client
import os
import random
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import kube_api  # noqa: E402

RDY = sys.argv[1] if len(sys.argv) > 1 else "dist/rdy"
NAMESPACES = int(sys.argv[2]) if len(sys.argv) > 2 else 100
COUNT = int(sys.argv[3]) if len(sys.argv) > 3 else 10000
PORT = 18099


def api_metric(name, **labels):
    text = kube_api.call_text("/metrics")
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def lists():
    return api_metric("apiserver_request_total", resource="deployments", scope="namespace", verb="LIST")


def watches():
    return api_metric("apiserver_longrunning_requests", resource="deployments", scope="namespace", verb="WATCH")


def status_of(pid):
    fields = {}
    for line in open(f"/proc/{pid}/status"):
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return fields


def name(i):
    return f"bench-{i % NAMESPACES}", f"d-{i:05d}"


def main():
    expose = ",".join(f"bench-{n}" for n in range(NAMESPACES))
    env = dict(os.environ, RDY_EXPOSE=expose)
    lists0, watches0 = lists(), watches()
    rdy = subprocess.Popen([RDY, "serve", "-q", "--listen", f"127.0.0.1:{PORT}", "--max-watches", str(max(NAMESPACES, 100))], env=env)
    time.sleep(0.5)
    conn = http.client.HTTPConnection("127.0.0.1", PORT)
    refused = 0
    started = time.monotonic()
    for i in range(COUNT):
        ns, n = name(i)
        conn.request("GET", f"/api/healthz/{ns}/deployment/{n}")
        r = conn.getresponse()
        body = r.read()
        if r.status != 200:
            refused += 1
            if refused <= 3:
                print("not 200:", r.status, body[:200])
    first_pass = time.monotonic() - started
    st = status_of(rdy.pid)
    print(f"objects: {COUNT} Deployments in {NAMESPACES} namespaces; first pass {first_pass:.1f} s, {refused} not 200")
    print(f"API server: {lists() - lists0:.0f} LIST requests, {watches() - watches0:.0f} open namespaced WATCHes of deployments")
    print(f"rdy: VmRSS {st['VmRSS']}, VmHWM {st['VmHWM']}, threads {st['Threads']}")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(f"""
math.randomseed(os.time())
request = function()
  local i = math.random(0, {COUNT - 1})
  return wrk.format("GET", string.format("/api/healthz/bench-%d/deployment/d-%05d", i % {NAMESPACES}, i))
end
delay = function() return 2 end
""")
    out = subprocess.run(["wrk", "-t1", "-c2", "-d15s", "--latency", "-s", lua.name, f"http://127.0.0.1:{PORT}"],
                         capture_output=True, text=True).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)
    p50 = re.search(r"50%\s+(\S+)", out).group(1)
    p99 = re.search(r"99%\s+(\S+)", out).group(1)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    print(f"wrk: {rate} req/s, p50 {p50}, p99 {p99}, non-2xx {non2xx.group(1) if non2xx else 0}")
    st = status_of(rdy.pid)
    print(f"rdy after wrk: VmRSS {st['VmRSS']}, VmHWM {st['VmHWM']}, threads {st['Threads']}")
    delays = []
    for _ in range(20):
        ns, n = name(random.randrange(COUNT))
        path = f"/api/healthz/{ns}/deployment/{n}"
        for ready, want in ((0, 503), (1, 200)):
            t0 = time.monotonic()
            kube_api.set_status(ns, n, ready)
            while True:
                conn.request("GET", path)
                r = conn.getresponse()
                r.read()
                if r.status == want:
                    break
                if time.monotonic() - t0 > 5:
                    raise SystemExit(f"{path} never answered {want}")
            delays.append((time.monotonic() - t0) * 1000)
    delays.sort()
    print(f"status write to changed answer (from before the PATCH, {len(delays)} writes): "
          f"p50 {delays[len(delays) // 2]:.1f} ms, max {delays[-1]:.1f} ms")
    rdy.terminate()
    rdy.wait()


if __name__ == "__main__":
    main()
