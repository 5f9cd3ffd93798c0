#!/usr/bin/env python3
"""Fill a real API server with objects for rdy's Kubernetes benchmarks.

    kube_api.py pods NAMESPACE COUNT           ready pods labelled app=bench,
                                               spec and status as a kubelet
                                               and a Deployment make them
    kube_api.py deployments NAMESPACES COUNT   COUNT Deployments over
                                               NAMESPACES namespaces (bench-0..),
                                               status written as the
                                               controller writes it
    kube_api.py status NAMESPACE NAME REPLICAS set a Deployment's status:
                                               REPLICAS ready of 1

The server and token come from $KUBECONFIG (a token kubeconfig, as
realkube's admin.kubeconfig). With no controller manager (RK_NO_KCM=1)
nothing but these writes changes the objects. Requests go over a few
keep-alive connections in parallel, so 10,000 objects take about a minute.
"""
import concurrent.futures
import datetime
import http.client
import json
import os
import ssl
import sys
import threading
import urllib.parse


def config():
    server = token = ca = None
    for line in open(os.environ["KUBECONFIG"]):
        key, _, value = line.strip().partition(": ")
        if key == "server":
            server = value
        elif key == "token":
            token = value
        elif key == "certificate-authority":
            ca = value
    return urllib.parse.urlsplit(server), token, ca


URL, TOKEN, CA = config()
LOCAL = threading.local()


def conn():
    if not hasattr(LOCAL, "conn"):
        context = ssl.create_default_context(cafile=CA)
        LOCAL.conn = http.client.HTTPSConnection(URL.hostname, URL.port, context=context)
    return LOCAL.conn


def call(method, path, body=None, content="application/json"):
    headers = {"Authorization": f"Bearer {TOKEN}", "Accept": "application/json"}
    if body is not None:
        headers["Content-Type"] = content
        body = json.dumps(body)
    for attempt in range(3):
        try:
            c = conn()
            c.request(method, path, body, headers)
            response = c.getresponse()
            data = response.read()
            break
        except (http.client.HTTPException, OSError):
            del LOCAL.conn
            if attempt == 2:
                raise
    if response.status >= 300 and response.status != 409:
        raise SystemExit(f"{method} {path}: {response.status} {data[:300]!r}")
    return json.loads(data or b"{}")


def call_text(path):
    c = conn()
    c.request("GET", path, None, {"Authorization": f"Bearer {TOKEN}"})
    return c.getresponse().read().decode()


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def namespace(name):
    call("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})


def container(name, image):
    return {
        "name": name,
        "image": image,
        "ports": [{"containerPort": 8080, "name": "http", "protocol": "TCP"}],
        "env": [{"name": "LOG_LEVEL", "value": "info"}, {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
        "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}},
        "readinessProbe": {"httpGet": {"path": "/ready", "port": "http"}, "periodSeconds": 5},
        "volumeMounts": [{"name": "config", "mountPath": "/etc/app"}],
    }


def pod(ns, i):
    name = f"bench-{i:05d}"
    body = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "labels": {"app": "bench", "pod-template-hash": "5d9c7b8f4"},
            "annotations": {"kubectl.kubernetes.io/restartedAt": now()},
        },
        "spec": {
            "containers": [container("app", "registry.example/app:1.2.3"), container("proxy", "registry.example/proxy:0.9")],
            "volumes": [{"name": "config", "configMap": {"name": "app-config"}}],
            "nodeName": f"node-{i % 20}",
        },
    }
    call("POST", f"/api/v1/namespaces/{ns}/pods", body)
    t = now()
    statuses = [
        {"name": c, "image": f"registry.example/{c}", "imageID": f"registry.example/{c}@sha256:" + "ab" * 32,
         "containerID": "containerd://" + "cd" * 32, "ready": True, "started": True, "restartCount": 0,
         "state": {"running": {"startedAt": t}}, "lastState": {}}
        for c in ("app", "proxy")
    ]
    status = {"status": {
        "phase": "Running", "hostIP": "10.0.0.1", "podIP": f"10.1.{i // 250}.{i % 250}", "podIPs": [{"ip": f"10.1.{i // 250}.{i % 250}"}],
        "startTime": t, "qosClass": "Burstable",
        "conditions": [{"type": k, "status": "True", "lastProbeTime": None, "lastTransitionTime": t}
                       for k in ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled")],
        "containerStatuses": statuses,
    }}
    call("PATCH", f"/api/v1/namespaces/{ns}/pods/{name}/status", status, "application/merge-patch+json")


def deployment_status(ready, generation=1):
    t = now()
    available = "True" if ready else "False"
    return {"status": {
        "observedGeneration": generation, "replicas": 1, "updatedReplicas": 1,
        "readyReplicas": ready, "availableReplicas": ready, **({} if ready else {"unavailableReplicas": 1}),
        "conditions": [
            {"type": "Available", "status": available, "lastUpdateTime": t, "lastTransitionTime": t,
             "reason": "MinimumReplicasAvailable" if ready else "MinimumReplicasUnavailable",
             "message": "Deployment has minimum availability." if ready else "Deployment does not have minimum availability."},
            {"type": "Progressing", "status": "True", "lastUpdateTime": t, "lastTransitionTime": t,
             "reason": "NewReplicaSetAvailable", "message": "ReplicaSet has successfully progressed."},
        ],
    }}


def deployment(ns, name):
    body = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": {
                "containers": [container("app", "registry.example/app:1.2.3")],
                "volumes": [{"name": "config", "configMap": {"name": "app-config"}}]}},
        },
    }
    call("POST", f"/apis/apps/v1/namespaces/{ns}/deployments", body)
    set_status(ns, name, 1)


def set_status(ns, name, ready):
    call("PATCH", f"/apis/apps/v1/namespaces/{ns}/deployments/{name}/status", deployment_status(ready), "application/merge-patch+json")


def parallel(jobs):
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        for future in concurrent.futures.as_completed([pool.submit(*job) for job in jobs]):
            future.result()


def main():
    what = sys.argv[1]
    if what == "pods":
        ns, count = sys.argv[2], int(sys.argv[3])
        namespace(ns)
        parallel([(pod, ns, i) for i in range(count)])
    elif what == "deployments":
        namespaces, count = int(sys.argv[2]), int(sys.argv[3])
        parallel([(namespace, f"bench-{n}") for n in range(namespaces)])
        parallel([(deployment, f"bench-{i % namespaces}", f"d-{i:05d}") for i in range(count)])
    elif what == "status":
        set_status(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
