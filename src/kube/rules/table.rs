//! Readiness of the resources people wait on most, as data: one row per
//! resource, written in `--for`'s own syntax (docs/kubernetes.md §2.9), so
//! that the next rule is one row here and one fixture in the tests below.
//! Each row says what "ready" is, what can never become ready by itself
//! (exit 3), and where the status shape comes from. Resources without a
//! row fall back to [`super::generic::kstatus`].
//!
//! Every row whose resource has a controller-written status is judged
//! behind [`reconciled`]: an object no controller has looked at yet has no
//! `status`, and "no news" is never "ready" (the kstatus difference the
//! README explains).

use super::Verdict;
use crate::json::Value;
use crate::kube::expect::{self, Expect};
use crate::kube::jsonpath;

/// What a row's resource has before anyone judges it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Written by a controller: no status yet is "not reconciled yet".
    Controller,
    /// None by design (RBAC objects, ServiceAccounts...): existing is all.
    Absent,
}

/// A final state: when `when` holds, waiting longer cannot help.
#[derive(Debug, Clone, Copy)]
pub struct Final {
    /// A `--for` expression.
    pub when: &'static str,
    /// What it means, after the object's name in the message.
    pub means: &'static str,
}

/// One resource's readiness rule.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// API group (`""` is the core group) and plural, as discovery names them.
    pub group: &'static str,
    pub plural: &'static str,
    /// Whether [`reconciled`] applies.
    pub status: Status,
    /// `--for` expressions that must all hold on the current generation.
    pub ready: &'static [&'static str],
    /// States that can never become ready by themselves.
    pub failed: &'static [Final],
    /// What `--for` cannot say (comparisons between fields): why the object
    /// is not ready yet, or `None`.
    pub more: Option<fn(&Value) -> Option<String>>,
}

const fn row(
    group: &'static str,
    plural: &'static str,
    ready: &'static [&'static str],
    failed: &'static [Final],
) -> Rule {
    Rule {
        group,
        plural,
        status: Status::Controller,
        ready,
        failed,
        more: None,
    }
}

/// Exists by design: no controller ever writes a status.
const fn exists(group: &'static str, plural: &'static str) -> Rule {
    Rule {
        group,
        plural,
        status: Status::Absent,
        ready: &[],
        failed: &[],
        more: None,
    }
}

const READY: &[&str] = &["condition=Ready"];

/// Flux (fluxcd.io `meta.ReadyCondition`, `StalledCondition`): `Ready` for
/// `status.observedGeneration`; `Stalled=True` means it stopped retrying.
const FLUX_STALLED: &[Final] = &[Final {
    when: "condition=Stalled",
    means: "is stalled: Flux stopped retrying until its spec changes",
}];

/// The rules, searched by group and plural.
pub const RULES: &[Rule] = &[
    // core/v1 PersistentVolumeClaimStatus.phase: Pending, Bound or Lost
    // (the bound volume is gone; the claim never binds again by itself).
    row(
        "",
        "persistentvolumeclaims",
        &["jsonpath={.status.phase}=Bound"],
        &[Final {
            when: "jsonpath={.status.phase}=Lost",
            means: "is Lost: its volume no longer exists",
        }],
    ),
    // core/v1 NamespaceStatus.phase: Active or Terminating.
    row("", "namespaces", &["jsonpath={.status.phase}=Active"], &[]),
    // core/v1 NodeStatus.conditions: the kubelet's `Ready`.
    row("", "nodes", READY, &[]),
    // apiextensions.k8s.io/v1: `Established`; `NamesAccepted=False` when
    // another CRD holds the names, which never resolves by itself.
    row(
        "apiextensions.k8s.io",
        "customresourcedefinitions",
        &["condition=Established"],
        &[Final {
            when: "condition=NamesAccepted=False",
            means: "cannot be established: its names are taken",
        }],
    ),
    // Argo Rollouts v1 RolloutStatus: `phase` is Healthy, Progressing,
    // Paused or Degraded (an abort or failed analysis), `InvalidSpec` is a
    // condition; Argo CD's argoproj.io/Rollout health.lua also compares
    // updated and available replicas, which [`rollout`] does.
    Rule {
        more: Some(rollout),
        ..row(
            "argoproj.io",
            "rollouts",
            &["jsonpath={.status.phase}=Healthy"],
            &[
                Final {
                    when: "jsonpath={.status.phase}=Degraded",
                    means: "is Degraded",
                },
                Final {
                    when: "condition=InvalidSpec",
                    means: "has an invalid spec",
                },
            ],
        )
    },
    row(
        "helm.toolkit.fluxcd.io",
        "helmreleases",
        READY,
        FLUX_STALLED,
    ),
    row(
        "kustomize.toolkit.fluxcd.io",
        "kustomizations",
        READY,
        FLUX_STALLED,
    ),
    row(
        "source.toolkit.fluxcd.io",
        "gitrepositories",
        READY,
        FLUX_STALLED,
    ),
    row(
        "source.toolkit.fluxcd.io",
        "ocirepositories",
        READY,
        FLUX_STALLED,
    ),
    row(
        "source.toolkit.fluxcd.io",
        "helmrepositories",
        READY,
        FLUX_STALLED,
    ),
    // cert-manager.io/v1 CertificateStatus.conditions: `Ready` (with
    // observedGeneration); `Issuing` while a request is in flight. A
    // failed issuance is retried with backoff, so nothing here is final.
    row("cert-manager.io", "certificates", READY, &[]),
    row("cert-manager.io", "issuers", READY, &[]),
    row("cert-manager.io", "clusterissuers", READY, &[]),
    // external-secrets.io/v1 ExternalSecretStatus.conditions: `Ready`
    // (reason SecretSynced); a sync error is retried every refreshInterval.
    row("external-secrets.io", "externalsecrets", READY, &[]),
    row("external-secrets.io", "secretstores", READY, &[]),
    row("external-secrets.io", "clustersecretstores", READY, &[]),
    // CloudNativePG postgresql.cnpg.io/v1 ClusterStatus.conditions:
    // `Ready` (ConditionClusterReady) once every instance is ready.
    row("postgresql.cnpg.io", "clusters", READY, &[]),
    // Strimzi kafka.strimzi.io/v1beta2: every custom resource's status has
    // `observedGeneration` and a `Ready` condition (`NotReady` meanwhile).
    row("kafka.strimzi.io", "kafkas", READY, &[]),
    row("kafka.strimzi.io", "kafkatopics", READY, &[]),
    row("kafka.strimzi.io", "kafkausers", READY, &[]),
    // KEDA keda.sh/v1alpha1 ScaledObjectStatus.conditions: `Ready`,
    // `Active`, `Fallback`, `Paused`; ready is `Ready`, whatever the load.
    row("keda.sh", "scaledobjects", READY, &[]),
    // Knative serving.knative.dev/v1 (duck `Status`): `Ready` for
    // `status.observedGeneration`.
    row("serving.knative.dev", "services", READY, &[]),
    // Objects that carry no status at all.
    exists("", "serviceaccounts"),
    exists("", "limitranges"),
    exists("", "podtemplates"),
    exists("rbac.authorization.k8s.io", "roles"),
    exists("rbac.authorization.k8s.io", "rolebindings"),
    exists("rbac.authorization.k8s.io", "clusterroles"),
    exists("rbac.authorization.k8s.io", "clusterrolebindings"),
    exists("networking.k8s.io", "networkpolicies"),
    exists("networking.k8s.io", "ingressclasses"),
    exists("storage.k8s.io", "storageclasses"),
    exists("scheduling.k8s.io", "priorityclasses"),
    exists("node.k8s.io", "runtimeclasses"),
    exists("coordination.k8s.io", "leases"),
    exists(
        "admissionregistration.k8s.io",
        "validatingwebhookconfigurations",
    ),
    exists(
        "admissionregistration.k8s.io",
        "mutatingwebhookconfigurations",
    ),
];

/// Crossplane managed resources live in any provider's group; they, their
/// composites and claims share xpv1's `Synced` and `Ready` conditions
/// (crossplane-runtime `apis/common/v1/condition.go`), and both must hold:
/// `Synced=False` is a failed update of a resource that was ready before.
const CROSSPLANE: Rule = row("", "", &["condition=Synced", "condition=Ready"], &[]);

/// Whether an object is Crossplane's: a managed resource's
/// `spec.forProvider`, a claim's `spec.resourceRef`, or a `Synced`
/// condition.
fn is_crossplane(object: &Value) -> bool {
    let spec = |key| object.at(&["spec", key]).is_some();
    spec("forProvider") || spec("resourceRef") || super::condition(object, "Synced").is_some()
}

/// The row for a resource, if any.
pub fn find(group: &str, plural: &str, object: &Value) -> Option<&'static Rule> {
    RULES
        .iter()
        .find(|r| r.group == group && r.plural == plural)
        .or_else(|| is_crossplane(object).then_some(&CROSSPLANE))
}

/// An expression of the table, parsed; every row is parsed by a test.
fn parsed(text: &str) -> Option<Expect> {
    expect::parse(text).ok()
}

/// The verdict of `rule` on `object`; `what` is `certificate "web"`.
pub fn judge(rule: &Rule, what: &str, object: &Value) -> Verdict {
    if rule.status == Status::Controller
        && let Some(not_yet) = reconciled(what, object)
    {
        return not_yet;
    }
    for end in rule.failed {
        if parsed(end.when).is_some_and(|e| e.holds(Some(object), true).is_ok()) {
            return Verdict::Failed(format!("{what} {}{}", end.means, said(end.when, object)));
        }
    }
    for text in rule.ready {
        let why = match parsed(text).map(|e| e.holds(Some(object), true)) {
            Some(Ok(())) => continue,
            Some(Err(why)) => why,
            None => format!("{text} cannot be read"),
        };
        return Verdict::Waiting(format!("{what} is not ready: {why}{}", said(text, object)));
    }
    match rule.more.and_then(|more| more(object)) {
        Some(why) => Verdict::Waiting(format!("{what} is not ready: {why}")),
        None if rule.ready.is_empty() => Verdict::Ready(format!("{what} exists")),
        None => Verdict::Ready(format!("{what} is ready")),
    }
}

/// What the controller said about the state `text` tests: the condition's
/// reason and message, or `status.message`.
pub fn said(text: &str, object: &Value) -> String {
    let condition = text
        .strip_prefix("condition=")
        .map(|c| c.split('=').next().unwrap_or(c))
        .and_then(|name| super::condition(object, name));
    let parts: Vec<&str> = match condition {
        Some(c) => vec![super::field(c, "reason"), super::field(c, "message")],
        None => vec![
            object
                .at(&["status", "message"])
                .and_then(Value::as_str)
                .unwrap_or(""),
        ],
    };
    parts
        .into_iter()
        .filter(|p| !p.is_empty())
        .map(|p| format!(" ({p})"))
        .collect()
}

/// The guard every controller-written status is read behind: an object
/// being deleted, one with no (or an empty) `status`, and one whose status
/// was written for an older `metadata.generation` are "not yet". kstatus
/// calls an object without status "Current" when it has no
/// `observedGeneration` to compare; a gate cannot, since that is exactly
/// a custom resource its operator has not reconciled yet.
pub fn reconciled(what: &str, object: &Value) -> Option<Verdict> {
    if object.at(&["metadata", "deletionTimestamp"]).is_some() {
        return Some(Verdict::Waiting(format!("{what} is being deleted")));
    }
    let status = object.get("status");
    if status.is_none_or(|s| s.members().iter().all(|(_, v)| !jsonpath::is_present(v))) {
        return Some(Verdict::Waiting(format!(
            "{what} has no status yet: no controller has reconciled it (an object that no \
             controller will ever give a status is waited for with --for create)"
        )));
    }
    let generation = object
        .at(&["metadata", "generation"])
        .and_then(Value::as_i64);
    let observed = status
        .and_then(|s| s.get("observedGeneration"))
        .and_then(generation_of);
    match (generation, observed) {
        (Some(g), Some(o)) if o < g => Some(Verdict::Waiting(format!(
            "{what}: waiting for generation {g} to be observed (observed {o})"
        ))),
        _ => None,
    }
}

/// `observedGeneration` as a number, or as the decimal string Argo
/// Rollouts writes (`RolloutStatus.observedGeneration` is a string).
fn generation_of(value: &Value) -> Option<i64> {
    value
        .as_i64()
        .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
}

/// An Argo Rollout beyond its phase, as Argo CD's health check reads it:
/// not paused, every replica updated, the updated ones available, and no
/// old ones left (`spec.replicas` defaults to 1).
fn rollout(object: &Value) -> Option<String> {
    let count = |path: &[&str]| crate::json::int_or_zero(object, path);
    let paused = object.at(&["spec", "paused"]).and_then(Value::as_bool) == Some(true)
        || !object
            .at(&["status", "pauseConditions"])
            .map(Value::items)
            .unwrap_or_default()
            .is_empty();
    let desired = object
        .at(&["spec", "replicas"])
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let updated = count(&["status", "updatedReplicas"]);
    let available = count(&["status", "availableReplicas"]);
    let total = count(&["status", "replicas"]);
    Some(match () {
        _ if paused => "it is paused".to_owned(),
        _ if updated < desired => format!("{updated} of {desired} replicas updated"),
        _ if available < updated => format!("{available} of {updated} updated replicas available"),
        _ if total > updated => format!("{} old replicas pending termination", total - updated),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse;

    fn v(text: &str) -> Value {
        parse(text.as_bytes()).unwrap()
    }

    fn verdict(group: &str, plural: &str, object: &str) -> Verdict {
        let object = v(object);
        let rule = find(group, plural, &object).expect("a row");
        judge(rule, "it", &object)
    }

    #[test]
    fn every_row_parses() {
        for rule in RULES.iter().chain([&CROSSPLANE]) {
            for text in rule.ready.iter().chain(rule.failed.iter().map(|f| &f.when)) {
                assert!(
                    parsed(text).is_some(),
                    "{}/{}: {text}",
                    rule.group,
                    rule.plural
                );
            }
        }
    }

    #[test]
    fn unreconciled_objects_are_not_ready() {
        for fresh in [
            r#"{"metadata":{"generation":1}}"#,
            r#"{"metadata":{"generation":1},"status":{}}"#,
            r#"{"metadata":{"generation":1},"status":{"conditions":[]}}"#,
        ] {
            let v = verdict("cert-manager.io", "certificates", fresh);
            assert!(
                matches!(&v, Verdict::Waiting(m) if m.contains("no status yet") && m.contains("--for create")),
                "{fresh}: {v:?}"
            );
        }
        let stale = r#"{"metadata":{"generation":3},"status":{"observedGeneration":2,"conditions":[{"type":"Ready","status":"True"}]}}"#;
        assert!(
            matches!(verdict("helm.toolkit.fluxcd.io", "helmreleases", stale), Verdict::Waiting(m) if m.contains("generation 3"))
        );
        let stale_condition = r#"{"metadata":{"generation":3},"status":{"conditions":[{"type":"Ready","status":"True","observedGeneration":2}]}}"#;
        assert!(matches!(
            verdict("cert-manager.io", "certificates", stale_condition),
            Verdict::Waiting(_)
        ));
    }

    #[test]
    fn persistent_volume_claims() {
        let pending = r#"{"status":{"phase":"Pending"}}"#;
        assert!(
            matches!(verdict("", "persistentvolumeclaims", pending), Verdict::Waiting(m) if m.contains("\"Pending\""))
        );
        let bound = r#"{"status":{"phase":"Bound"}}"#;
        assert!(matches!(
            verdict("", "persistentvolumeclaims", bound),
            Verdict::Ready(_)
        ));
        let lost = r#"{"status":{"phase":"Lost"}}"#;
        assert!(matches!(
            verdict("", "persistentvolumeclaims", lost),
            Verdict::Failed(_)
        ));
    }

    #[test]
    fn argo_rollouts() {
        let base = r#"{"metadata":{"generation":2},"spec":{"replicas":3PAUSE},"status":{"observedGeneration":"2","phase":"PHASE","replicas":3,"updatedReplicas":3,"availableReplicas":AVAIL}}"#;
        let make = |phase: &str, avail: &str, pause: &str| {
            base.replace("PHASE", phase)
                .replace("AVAIL", avail)
                .replace("PAUSE", pause)
        };
        let r = |o: String| verdict("argoproj.io", "rollouts", &o);
        assert!(matches!(r(make("Healthy", "3", "")), Verdict::Ready(_)));
        assert!(
            matches!(r(make("Paused", "3", "")), Verdict::Waiting(m) if m.contains("\"Paused\""))
        );
        assert!(
            matches!(r(make("Healthy", "3", r#","paused":true"#)), Verdict::Waiting(m) if m.contains("paused"))
        );
        assert!(matches!(r(make("Healthy", "1", "")), Verdict::Waiting(m) if m.contains("1 of 3")));
        assert!(matches!(r(make("Degraded", "3", "")), Verdict::Failed(_)));
        let old = make("Healthy", "3", "")
            .replace(r#""observedGeneration":"2""#, r#""observedGeneration":"1""#);
        assert!(matches!(r(old), Verdict::Waiting(m) if m.contains("generation 2")));
    }

    #[test]
    fn flux_and_crossplane() {
        let stalled = r#"{"status":{"conditions":[{"type":"Stalled","status":"True","reason":"InstallFailed","message":"chart not found"},{"type":"Ready","status":"False"}]}}"#;
        assert!(
            matches!(verdict("kustomize.toolkit.fluxcd.io", "kustomizations", stalled), Verdict::Failed(m) if m.contains("InstallFailed") && m.contains("chart not found"))
        );
        let unsynced = r#"{"spec":{"forProvider":{}},"status":{"conditions":[{"type":"Ready","status":"True"},{"type":"Synced","status":"False","reason":"ReconcileError"}]}}"#;
        assert!(
            matches!(verdict("s3.aws.upbound.io", "buckets", unsynced), Verdict::Waiting(m) if m.contains("Synced"))
        );
        let fine = unsynced.replace(r#""status":"False""#, r#""status":"True""#);
        assert!(matches!(
            verdict("s3.aws.upbound.io", "buckets", &fine),
            Verdict::Ready(_)
        ));
        assert!(find("example.com", "widgets", &v("{}")).is_none());
    }

    #[test]
    fn objects_without_status_by_design() {
        assert_eq!(
            verdict("rbac.authorization.k8s.io", "roles", "{}"),
            Verdict::Ready("it exists".into())
        );
    }
}
