//! What rdy keeps of each Kubernetes object it reads: the one table of
//! fields per resource. LIST and WATCH bodies are read as a stream
//! ([`crate::json::stream`]) and only these members survive, so memory
//! grows with what the rules read, not with what the server sends (a pod's
//! spec, managed fields and annotations are most of its bytes).
//!
//! **Keep this table in step with `rules/*.rs`, `expect.rs` and
//! `object.rs`**: a path a rule reads (`.at(&[...])`, `.get(...)`) must be
//! kept here, or the rule sees it absent. `status` is kept whole for jobs
//! and other resources; for workloads without the conditions' timestamps,
//! for pods without what container statuses carry besides their state
//! (images, ids, resources). `--for` conditions and JSONPath can read any
//! path, so their objects are kept whole.

use crate::json::stream::Keep::{self, All, Only};

/// `metadata`: what messages name, the generation guards, deletion, the
/// reflector's resource version, and what selectors and owners match.
const METADATA: (&str, Keep) = (
    "metadata",
    Only(&[
        ("name", All),
        ("namespace", All),
        ("generation", All),
        ("resourceVersion", All),
        ("deletionTimestamp", All),
        ("labels", All),
        ("ownerReferences", All),
    ]),
);

/// What is kept of each condition: what rules/*.rs and kstatus read (not
/// the two timestamps, a third of a Deployment's status).
const CONDITION: Keep = Only(&[
    ("type", All),
    ("status", All),
    ("reason", All),
    ("message", All),
    ("observedGeneration", All),
]);

/// A workload's status: every field but the conditions' timestamps.
const WORKLOAD_STATUS: Keep = Only(&[
    ("observedGeneration", All),
    ("replicas", All),
    ("updatedReplicas", All),
    ("readyReplicas", All),
    ("availableReplicas", All),
    ("unavailableReplicas", All),
    ("currentReplicas", All),
    ("updateRevision", All),
    ("currentRevision", All),
    ("currentNumberScheduled", All),
    ("desiredNumberScheduled", All),
    ("numberReady", All),
    ("numberAvailable", All),
    ("numberUnavailable", All),
    ("numberMisscheduled", All),
    ("updatedNumberScheduled", All),
    ("collisionCount", All),
    ("conditions", CONDITION),
]);

/// Deployments (rules/workload.rs).
pub const DEPLOYMENT: Keep = Only(&[
    METADATA,
    ("spec", Only(&[("replicas", All), ("paused", All)])),
    ("status", WORKLOAD_STATUS),
]);

/// StatefulSets and DaemonSets (rules/workload.rs): their update strategy.
pub const WORKLOAD: Keep = Only(&[
    METADATA,
    ("spec", Only(&[("replicas", All), ("updateStrategy", All)])),
    ("status", WORKLOAD_STATUS),
]);

/// Jobs (rules/job.rs).
pub const JOB: Keep = Only(&[
    METADATA,
    (
        "spec",
        Only(&[("completions", All), ("parallelism", All), ("suspend", All)]),
    ),
    ("status", All),
]);

/// A container status: what rules/pod.rs reads of it.
const CONTAINER_STATUS: Keep = Only(&[
    ("name", All),
    ("ready", All),
    ("started", All),
    ("restartCount", All),
    ("state", All),
    // A back-off's last termination, for the not-ready line.
    ("lastState", All),
]);

/// Pods, by name, by container or by label selector (rules/pod.rs).
pub const POD: Keep = Only(&[
    METADATA,
    (
        "spec",
        Only(&[
            ("restartPolicy", All),
            ("containers", Only(&[("name", All)])),
            (
                "initContainers",
                Only(&[("name", All), ("restartPolicy", All)]),
            ),
        ]),
    ),
    (
        "status",
        Only(&[
            ("phase", All),
            ("reason", All),
            ("message", All),
            ("observedGeneration", All),
            ("conditions", All),
            ("containerStatuses", CONTAINER_STATUS),
            ("initContainerStatuses", CONTAINER_STATUS),
        ]),
    ),
]);

/// EndpointSlices of a Service (rules/service.rs).
pub const SLICE: Keep = Only(&[
    METADATA,
    (
        "endpoints",
        Only(&[
            ("addresses", All),
            ("conditions", All),
            ("targetRef", Only(&[("uid", All)])),
        ]),
    ),
]);

/// A Service's legacy `v1 Endpoints` (rules/service.rs).
pub const ENDPOINTS: Keep = Only(&[METADATA, ("subsets", All)]);

/// Secrets and ConfigMaps: `?key=` reads their maps (rules/generic.rs).
pub const KEYED: Keep = Only(&[METADATA, ("data", All), ("binaryData", All)]);

/// Any other resource: kstatus, CRDs and the rule table read metadata and
/// status (rules/generic.rs, rules/table.rs), and of the spec what an Argo
/// Rollout's pause and replicas say, and whether Crossplane's
/// `forProvider` / `resourceRef` are there (their contents are not read).
pub const GENERIC: Keep = Only(&[
    METADATA,
    (
        "spec",
        Only(&[
            ("paused", All),
            ("replicas", All),
            ("forProvider", Only(&[])),
            ("resourceRef", Only(&[])),
        ]),
    ),
    ("status", All),
]);

/// What an `ERROR` watch event's object (a `Status`) keeps besides the
/// resource's own fields.
pub const STATUS: Keep = Only(&[("code", All), ("reason", All), ("message", All)]);

/// A LIST's own fields: its resource version.
pub const LIST: Keep = Only(&[("metadata", Only(&[("resourceVersion", All)]))]);

/// Aggregated discovery (`APIGroupDiscoveryList`, discovery.rs).
pub const DISCOVERY: Keep = Only(&[
    ("kind", All),
    (
        "items",
        Only(&[
            ("metadata", Only(&[("name", All)])),
            (
                "versions",
                Only(&[
                    ("version", All),
                    (
                        "resources",
                        Only(&[
                            ("resource", All),
                            ("singularResource", All),
                            ("shortNames", All),
                            ("scope", All),
                        ]),
                    ),
                ]),
            ),
        ]),
    ),
]);

/// `/version`: only that it answers matters.
pub const VERSION: Keep = Only(&[("gitVersion", All)]);
