#!/usr/bin/env python3
"""What one readiness probe costs a real node, in CPU: the kubelet, the
container runtime (containerd, its shims and the runc they run) and the pod
(every process of its cgroup, the probe's own among them).

Needs the real node the tests use (tests/common/realnode.rs): its state
directory in RDY_TEST_REALNODE and its API server's in
RDY_TEST_REALNODE_KUBE, with the images localhost/rn-probe:1 (/rdy,
/connect, /pause) and localhost/rdy:dev. The node's daemons run in cpuacct
cgroups of their own (realnode/kubelet, realnode/runtime; cgroup v1), so
their CPU time is one file each.

For each variant, PODS pods probe every second for WINDOW seconds against a
listener of this script on 127.0.0.1 (always up):
  idle       the same pod without a probe: the baseline subtracted from all
  exec-rdy   exec: /rdy check tcp://127.0.0.1:P
  exec-c     exec: /connect 127.0.0.1 P, a static C program that only
             connects: the floor of any exec probe
  http       httpGet /all on an rdy serve sidecar (--cache-ttl 0: one TCP
             check per request)
  tcp        tcpSocket: the kubelet connects itself, no process at all
The cost per probe is (CPU of the window - idle's CPU for as long) / probes,
probes counted by the kubelet (prober_probe_total of /metrics/probes).
Memory: each pod's peak during the window (cgroup v1
memory.max_usage_in_bytes of its pod cgroup, reset when the window starts;
an exec probe's process is charged to its container), less idle's. The
daemons' own memory is not in a memory cgroup of theirs here, so it is not
counted.

usage: bench/node_costs.py [--window 60] [--pods 4] [--variants idle,exec-rdy,...]
"""
import argparse
import glob
import json
import os
import socket
import ssl
import sys
import threading
import time
import urllib.request

NS = "rdy-node-costs"


def api(kube, method, path, body=None, ctype="application/json"):
    token = open(os.path.join(kube, "pki/admin.token")).read().strip()
    server = next(l.split("server:")[1].strip() for l in open(os.path.join(kube, "admin.kubeconfig")) if "server:" in l)
    ctx = ssl.create_default_context(cafile=os.path.join(kube, "pki/ca.crt"))
    req = urllib.request.Request(server + path, method=method, data=body and json.dumps(body).encode())
    req.add_header("Authorization", "Bearer " + token)
    req.add_header("Content-Type", ctype)
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=20) as r:
            return json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        if e.code in (404, 409):
            return None
        raise


def listen():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(512)

    def accept():
        while True:
            c, _ = s.accept()
            c.close()

    threading.Thread(target=accept, daemon=True).start()
    return s.getsockname()[1]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def pod(variant, i, node, port):
    probe = {
        "exec-rdy": {"exec": {"command": ["/rdy", "check", f"tcp://127.0.0.1:{port}"]}},
        "exec-c": {"exec": {"command": ["/connect", "127.0.0.1", str(port)]}},
        "tcp": {"tcpSocket": {"port": port}},
    }.get(variant)
    app = {"name": "app", "image": "localhost/rn-probe:1", "imagePullPolicy": "Never", "command": ["/pause"]}
    containers = [app]
    if variant == "http":
        listen_port = free_port()
        probe = {"httpGet": {"path": "/all", "port": listen_port}}
        containers.append({"name": "rdy", "image": "localhost/rdy:dev", "imagePullPolicy": "Never",
                           "args": ["serve", "--listen", f"127.0.0.1:{listen_port}", "--cache-ttl", "0",
                                    f"tcp://127.0.0.1:{port}", "--name", "dep"]})
    if probe:
        app["readinessProbe"] = dict(probe, periodSeconds=1, timeoutSeconds=1)
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": f"cost-{variant}-{i}", "labels": {"rdy-cost": variant}},
            "spec": {"nodeName": node, "hostNetwork": True, "enableServiceLinks": False,
                     "automountServiceAccountToken": False, "terminationGracePeriodSeconds": 2,
                     "containers": containers}}


def usage(path):
    try:
        return int(open(os.path.join(path, "cpuacct.usage")).read())
    except OSError:
        return 0


def kubelet_port():
    """The kubelet's API port (anonymous, loopback only), from its config."""
    config = os.path.join(os.environ["RDY_TEST_REALNODE"], "kubelet/config.yaml")
    return next(int(l.split(":")[1]) for l in open(config) if l.startswith("port:"))


def probes(prefix):
    ctx = ssl._create_unverified_context()  # the kubelet's self-signed serving certificate, on loopback
    text = urllib.request.urlopen(f"https://127.0.0.1:{kubelet_port()}/metrics/probes", context=ctx, timeout=10).read().decode()
    return sum(float(l.rsplit(" ", 1)[1]) for l in text.splitlines()
               if l.startswith("prober_probe_total{") and f'pod="{prefix}' in l)


def pod_cgroups(uids, kind):
    for uid in uids:
        yield from glob.glob(f"/sys/fs/cgroup/{kind}/kubepods/**/pod{uid}", recursive=True)


def reset_peaks(uids):
    for d in pod_cgroups(uids, "memory"):
        try:
            open(os.path.join(d, "memory.max_usage_in_bytes"), "w").write("0")
        except OSError:
            pass


def peak(uids):
    """The mean of the pods' peak memory, in bytes."""
    peaks = []
    for d in pod_cgroups(uids, "memory"):
        try:
            peaks.append(int(open(os.path.join(d, "memory.max_usage_in_bytes")).read()))
        except OSError:
            pass
    return sum(peaks) / len(peaks) if peaks else 0


def snapshot(uids, prefix):
    pods = 0
    for uid in uids:
        pods += sum(usage(d) for d in glob.glob(f"/sys/fs/cgroup/cpuacct/kubepods/**/pod{uid}", recursive=True))
    return {"kubelet": usage("/sys/fs/cgroup/cpuacct/realnode/kubelet"),
            "runtime": usage("/sys/fs/cgroup/cpuacct/realnode/runtime"),
            "pods": pods, "probes": probes(prefix), "t": time.monotonic()}


def run(variant, args, kube, node, port):
    path = f"/api/v1/namespaces/{NS}/pods"
    for i in range(args.pods):
        api(kube, "POST", path, pod(variant, i, node, port))
    uids = []
    for i in range(args.pods):
        for _ in range(300):
            p = api(kube, "GET", f"{path}/cost-{variant}-{i}")
            ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in p.get("status", {}).get("conditions", []))
            running = p.get("status", {}).get("phase") == "Running"
            if ready or (variant == "idle" and running):
                break
            time.sleep(0.2)
        uids.append(p["metadata"]["uid"])
    time.sleep(5)
    reset_peaks(uids)
    before = snapshot(uids, f"cost-{variant}-")
    time.sleep(args.window)
    after = snapshot(uids, f"cost-{variant}-")
    after["peak"] = peak(uids)
    before["peak"] = 0
    for i in range(args.pods):
        api(kube, "DELETE", f"{path}/cost-{variant}-{i}")
    while (api(kube, "GET", f"{path}?labelSelector=rdy-cost%3D{variant}") or {}).get("items"):
        time.sleep(0.5)
    return {k: after[k] - before[k] for k in after}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", type=int, default=60)
    parser.add_argument("--pods", type=int, default=4)
    parser.add_argument("--variants", default="idle,exec-rdy,exec-c,http,tcp")
    args = parser.parse_args()
    kube = os.environ.get("RDY_TEST_REALNODE_KUBE")
    if not kube or not os.environ.get("RDY_TEST_REALNODE"):
        sys.exit("set RDY_TEST_REALNODE and RDY_TEST_REALNODE_KUBE (a running real node)")
    node = os.environ.get("RDY_TEST_REALNODE_NAME", "127.0.0.1")
    api(kube, "POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
    port = listen()
    results = {}
    for variant in args.variants.split(","):
        results[variant] = run(variant, args, kube, node, port)
        print(variant, json.dumps(results[variant]), file=sys.stderr, flush=True)
    idle = results.get("idle")
    print(f"| probe ({args.pods} pods, 1/s, {args.window} s) | probes | kubelet | runtime | pods | node CPU per probe | pod peak memory over idle |")
    print("|---|---|---|---|---|---|---|")
    for variant, r in results.items():
        if variant == "idle" or not r["probes"]:
            continue
        row = []
        for key in ("kubelet", "runtime", "pods"):
            base = idle[key] / idle["t"] * r["t"] if idle else 0
            row.append((r[key] - base) / r["probes"] / 1e6)
        memory = (r["peak"] - (idle["peak"] if idle else 0)) / 1024
        print(f"| {variant} | {int(r['probes'])} | " + " | ".join(f"{v:.2f} ms" for v in row)
              + f" | **{sum(row):.2f} ms** | {memory:,.0f} KiB |")
    api(kube, "DELETE", f"/api/v1/namespaces/{NS}")


if __name__ == "__main__":
    main()
