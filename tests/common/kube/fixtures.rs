//! Objects shaped as kube-apiserver serves them (`docs/kubernetes.md` §5),
//! built from a few numbers so a test states only what matters:
//!
//! ```ignore
//! api.apply(deployment("web", "default").replicas(3).updated(1).available(1));
//! api.apply(pod("web-1", "default").crash_loop());
//! api.apply(job("migrate", "default").failed());
//! ```
//!
//! Each builder starts from the §5 fixture in its finished, healthy state
//! and turns into a `serde_json::Value` with `.into()` or `.json()`. Status
//! fields follow Go's encoding: `omitempty` integers vanish at 0, pointers
//! (`collisionCount`, a Job's `ready`/`terminating`) stay, and a Pod
//! condition's `lastProbeTime` is `null`. Derived fields (a Pod's
//! Ready/ContainersReady conditions, a Deployment's conditions and
//! `unavailableReplicas`, a DaemonSet's `numberUnavailable`) are computed
//! the way the kubelet and controllers compute them, so a builder cannot
//! produce a state a cluster would not. For anything else, edit the Value
//! (see [`set`]).

use serde_json::{Value, json};

/// Creation time of every fixture (§5).
const CREATED: &str = "2025-06-01T09:00:00Z";
/// The time every status change happened.
const CHANGED: &str = "2025-06-01T10:00:15Z";

/// Sets the value at a JSON pointer (`/status/readyReplicas`), creating
/// objects on the way; `~1` stands for `/` in a key, as in RFC 6901.
pub fn set(object: &mut Value, pointer: &str, value: Value) {
    let mut at = object;
    for key in pointer.split('/').skip(1) {
        let key = key.replace("~1", "/").replace("~0", "~");
        if let Ok(i) = key.parse::<usize>()
            && at.is_array()
        {
            at = &mut at[i];
            continue;
        }
        if !at.is_object() {
            *at = json!({});
        }
        at = at
            .as_object_mut()
            .expect("object")
            .entry(key)
            .or_insert(Value::Null);
    }
    *at = value;
}

/// A stable UUID-shaped uid derived from a seed (FNV-1a), so fixtures are
/// reproducible and distinct objects get distinct uids.
pub fn uid(seed: &str) -> String {
    let hash = |salt: u64| {
        seed.bytes().fold(0xcbf29ce484222325 ^ salt, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
        })
    };
    let (a, b) = (hash(0), hash(0x9e3779b97f4a7c15));
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        b >> 52,
        b & 0xffff_ffff_ffff
    )
}

/// Metadata common to the fixtures.
fn metadata(kind: &str, name: &str, namespace: &str, generation: u64) -> Value {
    let mut meta = json!({
        "name": name,
        "namespace": namespace,
        "uid": uid(&format!("{kind}/{namespace}/{name}")),
        "resourceVersion": "1",
        "creationTimestamp": CREATED,
    });
    if generation > 0 {
        meta["generation"] = json!(generation);
    }
    meta
}

/// Inserts `key: n` unless n is 0 (Go's `omitempty`).
fn put_nonzero(map: &mut Value, key: &str, n: u32) {
    if n > 0 {
        map[key] = json!(n);
    }
}

fn labels_json(labels: &[(String, String)]) -> Value {
    Value::Object(labels.iter().map(|(k, v)| (k.clone(), json!(v))).collect())
}

// ---------------------------------------------------------------- Pod ----

/// A Pod with a regular init container `migrate`, a sidecar `proxy` (init
/// container with `restartPolicy: Always`) and an app container `app`
/// (§5), Running and Ready unless told otherwise.
#[derive(Debug, Clone)]
pub struct Pod {
    object: Value,
}

/// A ready Pod, the §5 fixture under another name and namespace, labelled
/// `app: web`.
pub fn pod(name: &str, namespace: &str) -> Pod {
    let object = json!({
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": {
            "name": name,
            "generateName": "web-7c5ddbdf54-",
            "namespace": namespace,
            "uid": uid(&format!("Pod/{namespace}/{name}")),
            "resourceVersion": "1",
            "generation": 1,
            "creationTimestamp": "2025-06-01T10:00:00Z",
            "labels": {"app": "web", "pod-template-hash": "7c5ddbdf54"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-7c5ddbdf54", "uid": "b0d6c0f4-5e0b-4a3e-8d0e-2f4a9c1d7e11", "controller": true, "blockOwnerDeletion": true}]
        },
        "spec": {
            "initContainers": [
                {"name": "migrate", "image": "busybox:1.36", "command": ["sh", "-c", "true"], "resources": {}, "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File", "imagePullPolicy": "IfNotPresent"},
                {"name": "proxy", "image": "envoyproxy/envoy:v1.30.1", "resources": {}, "restartPolicy": "Always", "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File", "imagePullPolicy": "IfNotPresent"}
            ],
            "containers": [
                {"name": "app", "image": "nginx:1.27", "ports": [{"containerPort": 80, "protocol": "TCP"}], "resources": {}, "readinessProbe": {"httpGet": {"path": "/", "port": 80, "scheme": "HTTP"}, "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3}, "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File", "imagePullPolicy": "IfNotPresent"}
            ],
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst",
            "serviceAccountName": "default",
            "nodeName": "node-1",
            "schedulerName": "default-scheduler"
        },
        "status": {
            "observedGeneration": 1,
            "phase": "Running",
            "hostIP": "10.0.0.11",
            "hostIPs": [{"ip": "10.0.0.11"}],
            "podIP": "10.244.1.17",
            "podIPs": [{"ip": "10.244.1.17"}],
            "startTime": "2025-06-01T10:00:00Z",
            "initContainerStatuses": [
                {"name": "migrate", "state": {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": "2025-06-01T10:00:04Z", "finishedAt": "2025-06-01T10:00:04Z", "containerID": "containerd://5b1e0c2d9a"}}, "lastState": {}, "ready": true, "restartCount": 0, "image": "docker.io/library/busybox:1.36", "imageID": "docker.io/library/busybox@sha256:2f1c6b0e4d", "containerID": "containerd://5b1e0c2d9a", "started": false},
                {"name": "proxy", "state": {"running": {"startedAt": "2025-06-01T10:00:05Z"}}, "lastState": {}, "ready": true, "restartCount": 0, "image": "docker.io/envoyproxy/envoy:v1.30.1", "imageID": "docker.io/envoyproxy/envoy@sha256:8a7d3c1f0e", "containerID": "containerd://a4c9e7f3b2", "started": true}
            ],
            "containerStatuses": [
                {"name": "app", "state": {"running": {"startedAt": "2025-06-01T10:00:06Z"}}, "lastState": {}, "ready": true, "restartCount": 0, "image": "docker.io/library/nginx:1.27", "imageID": "docker.io/library/nginx@sha256:0d17b565c3", "containerID": "containerd://9e2f1a7c44", "started": true}
            ],
            "qosClass": "BestEffort"
        }
    });
    Pod { object }
}

impl Pod {
    /// The status entry of a container (app, sidecar or init).
    fn status_of(&mut self, container: &str) -> &mut Value {
        for list in ["initContainerStatuses", "containerStatuses"] {
            let found = self.object["status"][list]
                .as_array()
                .and_then(|l| l.iter().position(|c| c["name"] == container));
            if let Some(i) = found {
                return &mut self.object["status"][list][i];
            }
        }
        panic!("no container {container:?} in the pod fixture");
    }

    /// Replaces the labels.
    pub fn labels(mut self, labels: &[(&str, &str)]) -> Pod {
        let owned: Vec<(String, String)> = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.object["metadata"]["labels"] = labels_json(&owned);
        self
    }

    /// Sets `ready` of one container (`app`, `proxy`, `migrate`); the pod
    /// conditions follow.
    pub fn container_ready(mut self, container: &str, ready: bool) -> Pod {
        self.status_of(container)["ready"] = json!(ready);
        self
    }

    /// The app runs but its readiness probe fails (§5 not-ready variant).
    pub fn not_ready(self) -> Pod {
        self.container_ready("app", false)
    }

    /// The app keeps crashing: waiting in `CrashLoopBackOff` after exit 1.
    pub fn crash_loop(mut self) -> Pod {
        let name = self.object["metadata"]["name"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        let namespace = self.object["metadata"]["namespace"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        let uid = self.object["metadata"]["uid"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        let app = self.status_of("app");
        app["state"] = json!({"waiting": {
            "reason": "CrashLoopBackOff",
            "message": format!("back-off 40s restarting failed container=app pod={name}_{namespace}({uid})"),
        }});
        app["lastState"] = json!({"terminated": {"exitCode": 1, "reason": "Error", "startedAt": "2025-06-01T10:00:06Z", "finishedAt": "2025-06-01T10:00:07Z", "containerID": "containerd://9e2f1a7c44"}});
        app["ready"] = json!(false);
        app["started"] = json!(false);
        app["restartCount"] = json!(3);
        self
    }

    /// `restartPolicy: Never` and phase Failed: the app exited 1.
    pub fn failed(self) -> Pod {
        self.terminal("Failed", 1, "Error")
    }

    /// `restartPolicy: Never` and phase Succeeded: everything exited 0.
    pub fn succeeded(self) -> Pod {
        self.terminal("Succeeded", 0, "Completed")
    }

    fn terminal(mut self, phase: &str, exit_code: i32, reason: &str) -> Pod {
        self.object["spec"]["restartPolicy"] = json!("Never");
        self.object["status"]["phase"] = json!(phase);
        for container in ["app", "proxy"] {
            let id = self.status_of(container)["containerID"].clone();
            let status = self.status_of(container);
            status["state"] = json!({"terminated": {"exitCode": exit_code, "reason": reason, "startedAt": "2025-06-01T10:00:06Z", "finishedAt": "2025-06-01T10:01:00Z", "containerID": id}});
            status["ready"] = json!(false);
            status["started"] = json!(false);
        }
        self
    }

    /// Phase Pending, still running the init container `migrate`.
    pub fn initializing(mut self) -> Pod {
        self.object["status"]["phase"] = json!("Pending");
        for key in ["podIP", "podIPs"] {
            if let Some(status) = self.object["status"].as_object_mut() {
                status.remove(key);
            }
        }
        let migrate = self.status_of("migrate");
        migrate["state"] = json!({"running": {"startedAt": "2025-06-01T10:00:04Z"}});
        migrate["ready"] = json!(false);
        migrate["started"] = json!(true);
        for container in ["proxy", "app"] {
            let status = self.status_of(container);
            status["state"] = json!({"waiting": {"reason": "PodInitializing"}});
            status["ready"] = json!(false);
            status["started"] = json!(false);
            if let Some(s) = status.as_object_mut() {
                s.remove("containerID");
                s.remove("imageID");
            }
        }
        self
    }

    /// `metadata.generation`.
    pub fn generation(mut self, generation: u64) -> Pod {
        self.object["metadata"]["generation"] = json!(generation);
        self
    }

    /// `status.observedGeneration` and the conditions' `observedGeneration`.
    pub fn observed(mut self, generation: u64) -> Pod {
        self.object["status"]["observedGeneration"] = json!(generation);
        self
    }

    /// Being deleted (`deletionTimestamp` set).
    pub fn deleting(mut self) -> Pod {
        self.object["metadata"]["deletionTimestamp"] = json!("2025-06-01T10:05:00Z");
        self.object["metadata"]["deletionGracePeriodSeconds"] = json!(30);
        self
    }

    /// The object.
    pub fn json(self) -> Value {
        self.into()
    }
}

impl From<Pod> for Value {
    /// Computes the conditions as the kubelet does (`status/generate.go`):
    /// ContainersReady needs every app container and sidecar ready (sidecars
    /// listed first in the message), Ready follows it, and a terminal phase
    /// makes both False with reason PodCompleted/PodFailed.
    fn from(pod: Pod) -> Value {
        let mut object = pod.object;
        let status = &object["status"];
        let phase = status["phase"].as_str().unwrap_or("").to_owned();
        let observed = status["observedGeneration"].clone();
        let ready = |list: &str, name: &str| {
            status[list]
                .as_array()
                .and_then(|l| l.iter().find(|c| c["name"] == name))
                .is_some_and(|c| c["ready"] == true)
        };
        let spec = &object["spec"];
        let mut unready = Vec::new();
        let mut uninitialized = Vec::new();
        for c in spec["initContainers"].as_array().into_iter().flatten() {
            let name = c["name"].as_str().unwrap_or("");
            if c["restartPolicy"] == "Always" {
                if !ready("initContainerStatuses", name) {
                    unready.push(name.to_owned());
                }
            } else if !ready("initContainerStatuses", name) {
                uninitialized.push(name.to_owned());
            }
        }
        for c in spec["containers"].as_array().into_iter().flatten() {
            let name = c["name"].as_str().unwrap_or("");
            if !ready("containerStatuses", name) {
                unready.push(name.to_owned());
            }
        }
        let condition = |kind: &str, ok: bool, reason: &str, message: String, at: &str| {
            let mut c = json!({"type": kind, "observedGeneration": observed, "status": if ok {"True"} else {"False"}, "lastProbeTime": null, "lastTransitionTime": at});
            if !reason.is_empty() {
                c["reason"] = json!(reason);
            }
            if !message.is_empty() {
                c["message"] = json!(message);
            }
            c
        };
        let (ready_ok, reason, message) = match phase.as_str() {
            "Succeeded" => (false, "PodCompleted", String::new()),
            "Failed" => (false, "PodFailed", String::new()),
            _ if unready.is_empty() => (true, "", String::new()),
            _ => (
                false,
                "ContainersNotReady",
                format!("containers with unready status: [{}]", unready.join(" ")),
            ),
        };
        let initialized = uninitialized.is_empty();
        let conditions = vec![
            condition(
                "PodReadyToStartContainers",
                true,
                "",
                String::new(),
                "2025-06-01T10:00:03Z",
            ),
            if initialized {
                condition(
                    "Initialized",
                    true,
                    "",
                    String::new(),
                    "2025-06-01T10:00:06Z",
                )
            } else {
                condition(
                    "Initialized",
                    false,
                    "ContainersNotInitialized",
                    format!(
                        "containers with incomplete status: [{}]",
                        uninitialized.join(" ")
                    ),
                    "2025-06-01T10:00:00Z",
                )
            },
            condition("Ready", ready_ok, reason, message.clone(), CHANGED),
            condition("ContainersReady", ready_ok, reason, message, CHANGED),
            condition(
                "PodScheduled",
                true,
                "",
                String::new(),
                "2025-06-01T10:00:00Z",
            ),
        ];
        object["status"]["conditions"] = Value::Array(conditions);
        object
    }
}

// --------------------------------------------------------- Deployment ----

/// How a Deployment's Progressing condition reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Progress {
    /// From the counts: NewReplicaSetAvailable when done, else
    /// ReplicaSetUpdated.
    Auto,
    /// `ProgressDeadlineExceeded`, status False.
    DeadlineExceeded,
}

/// A Deployment (§5), complete with 3 replicas unless told otherwise.
#[derive(Debug, Clone)]
pub struct Deployment {
    name: String,
    namespace: String,
    /// `spec.replicas`; `None` leaves it out.
    spec_replicas: Option<u32>,
    replicas: u32,
    updated: u32,
    ready: u32,
    available: u32,
    /// Computed as `replicas - available` unless set.
    unavailable: Option<u32>,
    generation: u64,
    observed: u64,
    progress: Progress,
}

/// A complete Deployment: 3 of 3 updated and available, generation 3
/// observed.
pub fn deployment(name: &str, namespace: &str) -> Deployment {
    Deployment {
        name: name.to_owned(),
        namespace: namespace.to_owned(),
        spec_replicas: Some(3),
        replicas: 3,
        updated: 3,
        ready: 3,
        available: 3,
        unavailable: None,
        generation: 3,
        observed: 3,
        progress: Progress::Auto,
    }
}

impl Deployment {
    /// `spec.replicas` and every status count to `n` (a complete rollout
    /// of n); call it before the other counts.
    pub fn replicas(mut self, n: u32) -> Deployment {
        self.spec_replicas = Some(n);
        (self.replicas, self.updated, self.ready, self.available) = (n, n, n, n);
        self
    }

    /// Leaves `spec.replicas` out (kubectl then skips the updated check).
    pub fn no_spec_replicas(mut self) -> Deployment {
        self.spec_replicas = None;
        self
    }

    /// `status.replicas` (old plus new pods).
    pub fn status_replicas(mut self, n: u32) -> Deployment {
        self.replicas = n;
        self
    }

    /// `status.updatedReplicas`.
    pub fn updated(mut self, n: u32) -> Deployment {
        self.updated = n;
        self
    }

    /// `status.readyReplicas`.
    pub fn ready(mut self, n: u32) -> Deployment {
        self.ready = n;
        self
    }

    /// `status.availableReplicas`.
    pub fn available(mut self, n: u32) -> Deployment {
        self.available = n;
        self
    }

    /// `status.unavailableReplicas` (else `replicas - available`).
    pub fn unavailable(mut self, n: u32) -> Deployment {
        self.unavailable = Some(n);
        self
    }

    /// `metadata.generation`.
    pub fn generation(mut self, generation: u64) -> Deployment {
        self.generation = generation;
        self
    }

    /// `status.observedGeneration`.
    pub fn observed(mut self, generation: u64) -> Deployment {
        self.observed = generation;
        self
    }

    /// §5 "Rolling": generation 4 observed, 4 pods of which 1 updated,
    /// 3 ready and available, 1 unavailable.
    pub fn rolling(self) -> Deployment {
        self.generation(4)
            .observed(4)
            .status_replicas(4)
            .updated(1)
            .ready(3)
            .available(3)
    }

    /// §5 "Stuck": Progressing False with `ProgressDeadlineExceeded`.
    pub fn progress_deadline_exceeded(mut self) -> Deployment {
        self.progress = Progress::DeadlineExceeded;
        self
    }

    /// A new spec not yet seen by the controller: generation one above
    /// observedGeneration.
    pub fn not_observed(self) -> Deployment {
        let observed = self.generation;
        self.generation(observed + 1).observed(observed)
    }

    /// The object.
    pub fn json(self) -> Value {
        self.into()
    }
}

impl From<Deployment> for Value {
    fn from(d: Deployment) -> Value {
        let name = &d.name;
        let mut spec = json!({
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600
        });
        if let Some(n) = d.spec_replicas {
            spec["replicas"] = json!(n);
        }
        let desired = d.spec_replicas.unwrap_or(d.replicas);
        let unavailable = d
            .unavailable
            .unwrap_or(d.replicas.saturating_sub(d.available));
        let mut status = json!({});
        put_nonzero(&mut status, "observedGeneration", d.observed as u32);
        put_nonzero(&mut status, "replicas", d.replicas);
        put_nonzero(&mut status, "updatedReplicas", d.updated);
        put_nonzero(&mut status, "readyReplicas", d.ready);
        put_nonzero(&mut status, "availableReplicas", d.available);
        put_nonzero(&mut status, "unavailableReplicas", unavailable);
        // maxUnavailable 25% rounds down.
        let minimum = desired - desired / 4;
        let available = if d.available >= minimum {
            json!({"type": "Available", "status": "True", "lastUpdateTime": CHANGED, "lastTransitionTime": "2025-06-01T09:00:20Z", "reason": "MinimumReplicasAvailable", "message": "Deployment has minimum availability."})
        } else {
            json!({"type": "Available", "status": "False", "lastUpdateTime": CHANGED, "lastTransitionTime": CHANGED, "reason": "MinimumReplicasUnavailable", "message": "Deployment does not have minimum availability."})
        };
        let rs = format!("{name}-7c5ddbdf54");
        let done = d.updated >= desired && d.replicas == d.updated && d.available >= d.updated;
        let progressing = match d.progress {
            Progress::DeadlineExceeded => {
                json!({"type": "Progressing", "status": "False", "lastUpdateTime": CHANGED, "lastTransitionTime": CHANGED, "reason": "ProgressDeadlineExceeded", "message": format!("ReplicaSet \"{rs}\" has timed out progressing.")})
            }
            Progress::Auto if done => {
                json!({"type": "Progressing", "status": "True", "lastUpdateTime": CHANGED, "lastTransitionTime": CREATED, "reason": "NewReplicaSetAvailable", "message": format!("ReplicaSet \"{rs}\" has successfully progressed.")})
            }
            Progress::Auto => {
                json!({"type": "Progressing", "status": "True", "lastUpdateTime": CHANGED, "lastTransitionTime": CREATED, "reason": "ReplicaSetUpdated", "message": format!("ReplicaSet \"{rs}\" is progressing.")})
            }
        };
        status["conditions"] = json!([available, progressing]);
        let mut metadata = metadata("Deployment", name, &d.namespace, d.generation);
        metadata["labels"] = json!({"app": name});
        metadata["annotations"] =
            json!({"deployment.kubernetes.io/revision": d.generation.to_string()});
        json!({
            "kind": "Deployment",
            "apiVersion": "apps/v1",
            "metadata": metadata,
            "spec": spec,
            "status": status,
        })
    }
}

// -------------------------------------------------------- StatefulSet ----

/// A StatefulSet's update strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Strategy {
    /// `RollingUpdate` with a `rollingUpdate: {partition: P}` block (what
    /// the API server defaults to).
    Rolling(u32),
    /// `RollingUpdate` without the block (only if written that way).
    RollingBare,
    OnDelete,
}

/// A StatefulSet (§5), 3 of 3 ready at one revision unless told otherwise.
#[derive(Debug, Clone)]
pub struct StatefulSet {
    name: String,
    namespace: String,
    spec_replicas: u32,
    replicas: u32,
    ready: u32,
    current: u32,
    updated: u32,
    available: u32,
    generation: u64,
    observed: u64,
    current_revision: String,
    update_revision: String,
    strategy: Strategy,
}

/// A rolled-out StatefulSet: 3 replicas, generation 2 observed.
pub fn statefulset(name: &str, namespace: &str) -> StatefulSet {
    let revision = format!("{name}-6d4b8c9f7");
    StatefulSet {
        name: name.to_owned(),
        namespace: namespace.to_owned(),
        spec_replicas: 3,
        replicas: 3,
        ready: 3,
        current: 3,
        updated: 3,
        available: 3,
        generation: 2,
        observed: 2,
        current_revision: revision.clone(),
        update_revision: revision,
        strategy: Strategy::Rolling(0),
    }
}

impl StatefulSet {
    /// `spec.replicas` and every status count to `n`; call it first.
    pub fn replicas(mut self, n: u32) -> StatefulSet {
        self.spec_replicas = n;
        (
            self.replicas,
            self.ready,
            self.current,
            self.updated,
            self.available,
        ) = (n, n, n, n, n);
        self
    }

    /// `status.readyReplicas`.
    pub fn ready(mut self, n: u32) -> StatefulSet {
        self.ready = n;
        self
    }

    /// `status.currentReplicas` (pods at `currentRevision`).
    pub fn current(mut self, n: u32) -> StatefulSet {
        self.current = n;
        self
    }

    /// `status.updatedReplicas` (pods at `updateRevision`).
    pub fn updated(mut self, n: u32) -> StatefulSet {
        self.updated = n;
        self
    }

    /// `status.availableReplicas`.
    pub fn available(mut self, n: u32) -> StatefulSet {
        self.available = n;
        self
    }

    /// `metadata.generation`.
    pub fn generation(mut self, generation: u64) -> StatefulSet {
        self.generation = generation;
        self
    }

    /// `status.observedGeneration` (0 leaves it out).
    pub fn observed(mut self, generation: u64) -> StatefulSet {
        self.observed = generation;
        self
    }

    /// `spec.updateStrategy.rollingUpdate.partition`.
    pub fn partition(mut self, partition: u32) -> StatefulSet {
        self.strategy = Strategy::Rolling(partition);
        self
    }

    /// `updateStrategy: {type: RollingUpdate}` without a `rollingUpdate`
    /// block, which sends kubectl to the revision comparison (docs/kubernetes.md §2.2).
    pub fn bare_rolling_update(mut self) -> StatefulSet {
        self.strategy = Strategy::RollingBare;
        self
    }

    /// `updateStrategy: {type: OnDelete}` (kubectl refuses rollout status).
    pub fn on_delete(mut self) -> StatefulSet {
        self.strategy = Strategy::OnDelete;
        self
    }

    /// Rolling to a new revision: 1 pod updated, 2 still current, all 3
    /// ready.
    pub fn updating(mut self) -> StatefulSet {
        self.update_revision = format!("{}-7f8c9d6b5", self.name);
        self.generation = 3;
        self.observed = 3;
        self.updated(1).current(2)
    }

    /// Partitioned roll-out (partition 1 of 3) with 1 of the 2 pods above
    /// the partition updated.
    pub fn partitioned(self) -> StatefulSet {
        self.updating().partition(1)
    }

    /// The object.
    pub fn json(self) -> Value {
        self.into()
    }
}

impl From<StatefulSet> for Value {
    fn from(s: StatefulSet) -> Value {
        let name = &s.name;
        let strategy = match s.strategy {
            Strategy::Rolling(p) => {
                json!({"type": "RollingUpdate", "rollingUpdate": {"partition": p}})
            }
            Strategy::RollingBare => json!({"type": "RollingUpdate"}),
            Strategy::OnDelete => json!({"type": "OnDelete"}),
        };
        let mut status = json!({});
        put_nonzero(&mut status, "observedGeneration", s.observed as u32);
        status["replicas"] = json!(s.replicas);
        put_nonzero(&mut status, "readyReplicas", s.ready);
        put_nonzero(&mut status, "currentReplicas", s.current);
        put_nonzero(&mut status, "updatedReplicas", s.updated);
        status["currentRevision"] = json!(s.current_revision);
        status["updateRevision"] = json!(s.update_revision);
        status["collisionCount"] = json!(0);
        status["availableReplicas"] = json!(s.available);
        let mut metadata = metadata("StatefulSet", name, &s.namespace, s.generation);
        metadata["labels"] = json!({"app": name});
        json!({
            "kind": "StatefulSet",
            "apiVersion": "apps/v1",
            "metadata": metadata,
            "spec": {
                "replicas": s.spec_replicas,
                "selector": {"matchLabels": {"app": name}},
                "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "postgres", "image": "postgres:16"}]}},
                "serviceName": name,
                "podManagementPolicy": "OrderedReady",
                "updateStrategy": strategy,
                "revisionHistoryLimit": 10,
                "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"}
            },
            "status": status,
        })
    }
}

// ---------------------------------------------------------- DaemonSet ----

/// A DaemonSet (§5), on 3 nodes and rolled out unless told otherwise.
#[derive(Debug, Clone)]
pub struct DaemonSet {
    name: String,
    namespace: String,
    desired: u32,
    current: u32,
    ready: u32,
    updated: u32,
    available: u32,
    /// Computed as `desired - available` unless set.
    unavailable: Option<u32>,
    misscheduled: u32,
    generation: u64,
    observed: u64,
    on_delete: bool,
}

/// A rolled-out DaemonSet on 3 nodes, generation 2 observed.
pub fn daemonset(name: &str, namespace: &str) -> DaemonSet {
    DaemonSet {
        name: name.to_owned(),
        namespace: namespace.to_owned(),
        desired: 3,
        current: 3,
        ready: 3,
        updated: 3,
        available: 3,
        unavailable: None,
        misscheduled: 0,
        generation: 2,
        observed: 2,
        on_delete: false,
    }
}

impl DaemonSet {
    /// `desiredNumberScheduled` and every count to `n`; call it first.
    pub fn desired(mut self, n: u32) -> DaemonSet {
        (
            self.desired,
            self.current,
            self.ready,
            self.updated,
            self.available,
        ) = (n, n, n, n, n);
        self
    }

    /// `currentNumberScheduled`.
    pub fn current(mut self, n: u32) -> DaemonSet {
        self.current = n;
        self
    }

    /// `numberReady`.
    pub fn ready(mut self, n: u32) -> DaemonSet {
        self.ready = n;
        self
    }

    /// `updatedNumberScheduled`.
    pub fn updated(mut self, n: u32) -> DaemonSet {
        self.updated = n;
        self
    }

    /// `numberAvailable`.
    pub fn available(mut self, n: u32) -> DaemonSet {
        self.available = n;
        self
    }

    /// `numberUnavailable` (else `desired - available`).
    pub fn unavailable(mut self, n: u32) -> DaemonSet {
        self.unavailable = Some(n);
        self
    }

    /// `numberMisscheduled`.
    pub fn misscheduled(mut self, n: u32) -> DaemonSet {
        self.misscheduled = n;
        self
    }

    /// `metadata.generation`.
    pub fn generation(mut self, generation: u64) -> DaemonSet {
        self.generation = generation;
        self
    }

    /// `status.observedGeneration`.
    pub fn observed(mut self, generation: u64) -> DaemonSet {
        self.observed = generation;
        self
    }

    /// Rolling: generation 3 observed, 1 of 3 updated, 2 ready and
    /// available.
    pub fn updating(self) -> DaemonSet {
        self.generation(3)
            .observed(3)
            .updated(1)
            .ready(2)
            .available(2)
    }

    /// `updateStrategy: {type: OnDelete}`.
    pub fn on_delete(mut self) -> DaemonSet {
        self.on_delete = true;
        self
    }

    /// The object.
    pub fn json(self) -> Value {
        self.into()
    }
}

impl From<DaemonSet> for Value {
    fn from(d: DaemonSet) -> Value {
        let name = &d.name;
        let strategy = if d.on_delete {
            json!({"type": "OnDelete"})
        } else {
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}})
        };
        let mut status = json!({
            "currentNumberScheduled": d.current,
            "numberMisscheduled": d.misscheduled,
            "desiredNumberScheduled": d.desired,
            "numberReady": d.ready,
        });
        put_nonzero(&mut status, "observedGeneration", d.observed as u32);
        put_nonzero(&mut status, "updatedNumberScheduled", d.updated);
        put_nonzero(&mut status, "numberAvailable", d.available);
        let unavailable = d
            .unavailable
            .unwrap_or(d.desired.saturating_sub(d.available));
        put_nonzero(&mut status, "numberUnavailable", unavailable);
        let mut metadata = metadata("DaemonSet", name, &d.namespace, d.generation);
        metadata["labels"] = json!({"app": name});
        metadata["annotations"] =
            json!({"deprecated.daemonset.template.generation": d.generation.to_string()});
        json!({
            "kind": "DaemonSet",
            "apiVersion": "apps/v1",
            "metadata": metadata,
            "spec": {
                "selector": {"matchLabels": {"app": name}},
                "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "agent", "image": "example/agent:2.1"}]}},
                "updateStrategy": strategy,
                "revisionHistoryLimit": 10
            },
            "status": status,
        })
    }
}

// ---------------------------------------------------------------- Job ----

/// Where a Job stands, by its conditions (§2.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum JobState {
    Running,
    Complete,
    /// `SuccessCriteriaMet` only: succeeded, pods still terminating.
    SuccessCriteriaMet,
    Failed,
    /// `FailureTarget` only: failing, pods still terminating.
    FailureTarget,
    Suspended,
}

/// A Job (§5), complete unless told otherwise.
#[derive(Debug, Clone)]
pub struct Job {
    name: String,
    namespace: String,
    state: JobState,
    active: u32,
    ready: u32,
    succeeded: u32,
    failed: u32,
    terminating: u32,
}

/// A Job that completed (v1.31+: SuccessCriteriaMet then Complete).
pub fn job(name: &str, namespace: &str) -> Job {
    Job {
        name: name.to_owned(),
        namespace: namespace.to_owned(),
        state: JobState::Complete,
        active: 0,
        ready: 0,
        succeeded: 1,
        failed: 0,
        terminating: 0,
    }
}

impl Job {
    fn state(mut self, state: JobState) -> Job {
        self.state = state;
        (
            self.active,
            self.ready,
            self.succeeded,
            self.failed,
            self.terminating,
        ) = match state {
            JobState::Running => (1, 1, 0, 0, 0),
            JobState::Complete => (0, 0, 1, 0, 0),
            JobState::SuccessCriteriaMet => (0, 0, 1, 0, 1),
            JobState::Failed => (0, 0, 0, 7, 0),
            JobState::FailureTarget => (0, 0, 0, 7, 1),
            JobState::Suspended => (0, 0, 0, 0, 0),
        };
        self
    }

    /// Running: one active, ready pod, no conditions (the key absent).
    pub fn running(self) -> Job {
        self.state(JobState::Running)
    }

    /// Complete (the default).
    pub fn complete(self) -> Job {
        self.state(JobState::Complete)
    }

    /// Succeeded but not yet Complete: only `SuccessCriteriaMet`.
    pub fn success_criteria_met(self) -> Job {
        self.state(JobState::SuccessCriteriaMet)
    }

    /// Failed: 7 failed pods, `FailureTarget` then `Failed`, both
    /// `BackoffLimitExceeded`.
    pub fn failed(self) -> Job {
        self.state(JobState::Failed)
    }

    /// Failing but not yet Failed: only `FailureTarget`.
    pub fn failure_target(self) -> Job {
        self.state(JobState::FailureTarget)
    }

    /// Suspended: `spec.suspend: true` and `Suspended=True`.
    pub fn suspended(self) -> Job {
        self.state(JobState::Suspended)
    }

    /// `status.active`.
    pub fn active(mut self, n: u32) -> Job {
        self.active = n;
        self
    }

    /// `status.ready`.
    pub fn ready(mut self, n: u32) -> Job {
        self.ready = n;
        self
    }

    /// `status.succeeded`.
    pub fn succeeded(mut self, n: u32) -> Job {
        self.succeeded = n;
        self
    }

    /// `status.failed`.
    pub fn failures(mut self, n: u32) -> Job {
        self.failed = n;
        self
    }

    /// The object.
    pub fn json(self) -> Value {
        self.into()
    }
}

impl From<Job> for Value {
    fn from(j: Job) -> Value {
        let at = "2025-06-01T10:05:40Z";
        let condition = |kind: &str, reason: &str, message: &str| json!({"type": kind, "status": "True", "lastProbeTime": at, "lastTransitionTime": at, "reason": reason, "message": message});
        let succeeded = || {
            condition(
                "SuccessCriteriaMet",
                "CompletionsReached",
                "Reached expected number of succeeded pods",
            )
        };
        let failure = |kind: &str| {
            condition(
                kind,
                "BackoffLimitExceeded",
                "Job has reached the specified backoff limit",
            )
        };
        let conditions = match j.state {
            JobState::Running => vec![],
            JobState::Complete => vec![
                succeeded(),
                condition(
                    "Complete",
                    "CompletionsReached",
                    "Reached expected number of succeeded pods",
                ),
            ],
            JobState::SuccessCriteriaMet => vec![succeeded()],
            JobState::Failed => vec![failure("FailureTarget"), failure("Failed")],
            JobState::FailureTarget => vec![failure("FailureTarget")],
            JobState::Suspended => vec![condition("Suspended", "JobSuspended", "Job suspended")],
        };
        let mut status = json!({});
        if !conditions.is_empty() {
            status["conditions"] = Value::Array(conditions);
        }
        if j.state != JobState::Suspended {
            status["startTime"] = json!("2025-06-01T10:05:00Z");
        }
        if j.state == JobState::Complete {
            status["completionTime"] = json!(at);
        }
        put_nonzero(&mut status, "active", j.active);
        put_nonzero(&mut status, "succeeded", j.succeeded);
        put_nonzero(&mut status, "failed", j.failed);
        status["terminating"] = json!(j.terminating);
        status["uncountedTerminatedPods"] = json!({});
        status["ready"] = json!(j.ready);
        let job_uid = uid(&format!("Job/{}/{}", j.namespace, j.name));
        let mut metadata = metadata("Job", &j.name, &j.namespace, 1);
        metadata["uid"] = json!(job_uid);
        metadata["labels"] = json!({
            "batch.kubernetes.io/controller-uid": job_uid,
            "batch.kubernetes.io/job-name": j.name,
            "controller-uid": job_uid,
            "job-name": j.name,
        });
        json!({
            "kind": "Job",
            "apiVersion": "batch/v1",
            "metadata": metadata,
            "spec": {
                "parallelism": 1,
                "completions": 1,
                "backoffLimit": 6,
                "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": job_uid}},
                "template": {"metadata": {"labels": {"job-name": j.name}}, "spec": {"containers": [{"name": j.name, "image": "example/migrate:1.0"}], "restartPolicy": "Never"}},
                "completionMode": "NonIndexed",
                "suspend": j.state == JobState::Suspended,
                "podReplacementPolicy": "TerminatingOrFailed"
            },
            "status": status,
        })
    }
}

// ------------------------------------------------------ EndpointSlice ----

/// An EndpointSlice of a Service (§5), with no endpoints until added (which
/// serialises as `"endpoints": null`).
#[derive(Debug, Clone)]
pub struct EndpointSlice {
    name: String,
    namespace: String,
    service: String,
    address_type: String,
    endpoints: Vec<Value>,
}

/// An empty slice `name` of `service` (labelled
/// `kubernetes.io/service-name`).
pub fn endpoint_slice(name: &str, namespace: &str, service: &str) -> EndpointSlice {
    EndpointSlice {
        name: name.to_owned(),
        namespace: namespace.to_owned(),
        service: service.to_owned(),
        address_type: "IPv4".into(),
        endpoints: Vec::new(),
    }
}

impl EndpointSlice {
    fn endpoint(mut self, address: &str, conditions: Value) -> EndpointSlice {
        let n = self.endpoints.len();
        let pod = format!("{}-7c5ddbdf54-{n:05}", self.service);
        self.endpoints.push(json!({
            "addresses": [address],
            "conditions": conditions,
            "targetRef": {"kind": "Pod", "namespace": self.namespace, "name": pod, "uid": uid(&format!("Pod/{}/{pod}", self.namespace))},
            "nodeName": format!("node-{}", n % 3 + 1),
        }));
        self
    }

    /// A ready endpoint (`ready`, `serving`, not `terminating`).
    pub fn ready(self, address: &str) -> EndpointSlice {
        self.endpoint(
            address,
            json!({"ready": true, "serving": true, "terminating": false}),
        )
    }

    /// A pod that is not ready.
    pub fn not_ready(self, address: &str) -> EndpointSlice {
        self.endpoint(
            address,
            json!({"ready": false, "serving": false, "terminating": false}),
        )
    }

    /// A terminating pod, still serving.
    pub fn terminating(self, address: &str) -> EndpointSlice {
        self.endpoint(
            address,
            json!({"ready": false, "serving": true, "terminating": true}),
        )
    }

    /// An endpoint with no conditions set (`ready` nil means ready).
    pub fn unconditioned(self, address: &str) -> EndpointSlice {
        self.endpoint(address, json!({}))
    }

    /// `addressType` (`IPv6`, `FQDN`).
    pub fn address_type(mut self, address_type: &str) -> EndpointSlice {
        self.address_type = address_type.to_owned();
        self
    }

    /// The object.
    pub fn json(self) -> Value {
        self.into()
    }
}

impl From<EndpointSlice> for Value {
    fn from(s: EndpointSlice) -> Value {
        let mut metadata = metadata("EndpointSlice", &s.name, &s.namespace, 1);
        metadata["generateName"] = json!(format!("{}-", s.service));
        metadata["labels"] = json!({
            "app": s.service,
            "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
            "kubernetes.io/service-name": s.service,
        });
        metadata["annotations"] =
            json!({"endpoints.kubernetes.io/last-change-trigger-time": CHANGED});
        metadata["ownerReferences"] = json!([{"apiVersion": "v1", "kind": "Service", "name": s.service, "uid": uid(&format!("Service/{}/{}", s.namespace, s.service)), "controller": true, "blockOwnerDeletion": true}]);
        let endpoints = if s.endpoints.is_empty() {
            Value::Null
        } else {
            Value::Array(s.endpoints)
        };
        json!({
            "kind": "EndpointSlice",
            "apiVersion": "discovery.k8s.io/v1",
            "metadata": metadata,
            "addressType": s.address_type,
            "endpoints": endpoints,
            "ports": [{"name": "http", "protocol": "TCP", "port": 80}],
        })
    }
}

// -------------------------------------------- Service and v1 Endpoints ----

/// A ClusterIP Service selecting `app: {name}` on port 80.
pub fn service(name: &str, namespace: &str) -> Value {
    let mut metadata = metadata("Service", name, namespace, 0);
    metadata["labels"] = json!({"app": name});
    json!({
        "kind": "Service",
        "apiVersion": "v1",
        "metadata": metadata,
        "spec": {
            "ports": [{"name": "http", "protocol": "TCP", "port": 80, "targetPort": 80}],
            "selector": {"app": name},
            "clusterIP": "10.96.12.34",
            "clusterIPs": ["10.96.12.34"],
            "type": "ClusterIP",
            "sessionAffinity": "None",
            "ipFamilies": ["IPv4"],
            "ipFamilyPolicy": "SingleStack",
            "internalTrafficPolicy": "Cluster"
        },
        "status": {"loadBalancer": {}}
    })
}

/// Legacy `v1 Endpoints` of a Service: `ready` addresses and
/// `not_ready` ones. With neither, `subsets` is left out (omitempty).
pub fn endpoints(name: &str, namespace: &str, ready: &[&str], not_ready: &[&str]) -> Value {
    let address = |ip: &&str| json!({"ip": ip, "nodeName": "node-1", "targetRef": {"kind": "Pod", "namespace": namespace, "name": format!("{name}-{}", ip.replace('.', "-")), "uid": uid(&format!("Pod/{namespace}/{ip}"))}});
    let mut metadata = metadata("Endpoints", name, namespace, 0);
    metadata["labels"] = json!({"app": name});
    let mut object = json!({"kind": "Endpoints", "apiVersion": "v1", "metadata": metadata});
    if !ready.is_empty() || !not_ready.is_empty() {
        let mut subset = json!({"ports": [{"name": "http", "port": 80, "protocol": "TCP"}]});
        if !ready.is_empty() {
            subset["addresses"] = ready.iter().map(address).collect();
        }
        if !not_ready.is_empty() {
            subset["notReadyAddresses"] = not_ready.iter().map(address).collect();
        }
        object["subsets"] = json!([subset]);
    }
    object
}
