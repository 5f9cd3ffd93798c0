//! `kubectl rollout status` for Deployments, StatefulSets and DaemonSets
//! (kubectl `pkg/polymorphichelpers/rollout_status.go`; docs/kubernetes.md §2.1-2.3).
//! Messages are kubectl's, without the trailing newline.

use super::{Verdict, condition, field, name_of};
use crate::json::{Value, int_or_zero};

fn int(object: &Value, path: &[&str]) -> i64 {
    int_or_zero(object, path)
}

/// `spec.replicas`, which may be unset (nil in Go).
fn spec_replicas(object: &Value) -> Option<i64> {
    object.at(&["spec", "replicas"]).and_then(Value::as_i64)
}

/// §2.1 DeploymentStatusViewer.
pub fn deployment(object: &Value) -> Verdict {
    let name = name_of(object);
    if int(object, &["metadata", "generation"]) > int(object, &["status", "observedGeneration"]) {
        return Verdict::Waiting("Waiting for deployment spec update to be observed...".to_owned());
    }
    // kubectl checks the reason only, whatever the condition's status.
    if condition(object, "Progressing")
        .is_some_and(|c| field(c, "reason") == "ProgressDeadlineExceeded")
    {
        return Verdict::Failed(format!(
            "deployment \"{name}\" exceeded its progress deadline"
        ));
    }
    let updated = int(object, &["status", "updatedReplicas"]);
    let waiting = |detail: String| {
        Verdict::Waiting(format!(
            "Waiting for deployment \"{name}\" rollout to finish: {detail}"
        ))
    };
    if let Some(replicas) = spec_replicas(object)
        && updated < replicas
    {
        return waiting(format!(
            "{updated} out of {replicas} new replicas have been updated..."
        ));
    }
    let replicas = int(object, &["status", "replicas"]);
    if replicas > updated {
        return waiting(format!(
            "{} old replicas are pending termination...",
            replicas - updated
        ));
    }
    let available = int(object, &["status", "availableReplicas"]);
    if available < updated {
        return waiting(format!(
            "{available} of {updated} updated replicas are available..."
        ));
    }
    Verdict::Ready(format!("deployment \"{name}\" successfully rolled out"))
}

/// The update strategy; the API defaults an omitted type to RollingUpdate.
fn strategy(object: &Value) -> &str {
    object
        .at(&["spec", "updateStrategy", "type"])
        .and_then(Value::as_str)
        .unwrap_or("RollingUpdate")
}

fn not_rolling() -> Verdict {
    Verdict::Failed("rollout status is only available for RollingUpdate strategy type".to_owned())
}

/// §2.2 StatefulSetStatusViewer.
pub fn statefulset(object: &Value) -> Verdict {
    if strategy(object) != "RollingUpdate" {
        return not_rolling();
    }
    let observed = int(object, &["status", "observedGeneration"]);
    if observed == 0 || int(object, &["metadata", "generation"]) > observed {
        return Verdict::Waiting(
            "Waiting for statefulset spec update to be observed...".to_owned(),
        );
    }
    let replicas = spec_replicas(object);
    let ready = int(object, &["status", "readyReplicas"]);
    if let Some(replicas) = replicas
        && ready < replicas
    {
        return Verdict::Waiting(format!(
            "Waiting for {} pods to be ready...",
            replicas - ready
        ));
    }
    let updated = int(object, &["status", "updatedReplicas"]);
    if let Some(rolling) = object.at(&["spec", "updateStrategy", "rollingUpdate"])
        && !matches!(rolling, Value::Null)
    {
        let partition = rolling.get("partition").and_then(Value::as_i64);
        if let (Some(replicas), Some(partition)) = (replicas, partition)
            && updated < replicas - partition
        {
            return Verdict::Waiting(format!(
                "Waiting for partitioned roll out to finish: {updated} out of {} new pods have been updated...",
                replicas - partition
            ));
        }
        return Verdict::Ready(format!(
            "partitioned roll out complete: {updated} new pods have been updated..."
        ));
    }
    let text = |key| {
        object
            .at(&["status", key])
            .and_then(Value::as_str)
            .unwrap_or("")
    };
    let (update_revision, current_revision) = (text("updateRevision"), text("currentRevision"));
    if update_revision != current_revision {
        return Verdict::Waiting(format!(
            "waiting for statefulset rolling update to complete {updated} pods at revision {update_revision}..."
        ));
    }
    Verdict::Ready(format!(
        "statefulset rolling update complete {} pods at revision {current_revision}...",
        int(object, &["status", "currentReplicas"])
    ))
}

/// §2.3 DaemonSetStatusViewer.
pub fn daemonset(object: &Value) -> Verdict {
    if strategy(object) != "RollingUpdate" {
        return not_rolling();
    }
    let name = name_of(object);
    if int(object, &["metadata", "generation"]) > int(object, &["status", "observedGeneration"]) {
        return Verdict::Waiting("Waiting for daemon set spec update to be observed...".to_owned());
    }
    let desired = int(object, &["status", "desiredNumberScheduled"]);
    let updated = int(object, &["status", "updatedNumberScheduled"]);
    let waiting = |detail: String| {
        Verdict::Waiting(format!(
            "Waiting for daemon set \"{name}\" rollout to finish: {detail}"
        ))
    };
    if updated < desired {
        return waiting(format!(
            "{updated} out of {desired} new pods have been updated..."
        ));
    }
    let available = int(object, &["status", "numberAvailable"]);
    if available < desired {
        return waiting(format!(
            "{available} of {desired} updated pods are available..."
        ));
    }
    Verdict::Ready(format!("daemon set \"{name}\" successfully rolled out"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse;

    fn v(text: &str) -> Value {
        parse(text.as_bytes()).unwrap()
    }

    #[test]
    fn deployment_follows_kubectl() {
        let done = v(
            r#"{"metadata":{"name":"web","generation":3},"spec":{"replicas":3},"status":{"observedGeneration":3,"replicas":3,"updatedReplicas":3,"availableReplicas":3}}"#,
        );
        assert_eq!(
            deployment(&done),
            Verdict::Ready("deployment \"web\" successfully rolled out".into())
        );
        let rolling = v(
            r#"{"metadata":{"name":"web","generation":4},"spec":{"replicas":4},"status":{"observedGeneration":4,"replicas":4,"updatedReplicas":1,"availableReplicas":3}}"#,
        );
        assert_eq!(
            deployment(&rolling).message(),
            "Waiting for deployment \"web\" rollout to finish: 1 out of 4 new replicas have been updated..."
        );
        let old = v(
            r#"{"metadata":{"name":"web"},"spec":{"replicas":2},"status":{"replicas":3,"updatedReplicas":2}}"#,
        );
        assert_eq!(
            deployment(&old).message(),
            "Waiting for deployment \"web\" rollout to finish: 1 old replicas are pending termination..."
        );
        let unavailable = v(
            r#"{"metadata":{"name":"web"},"spec":{"replicas":2},"status":{"replicas":2,"updatedReplicas":2,"availableReplicas":1}}"#,
        );
        assert_eq!(
            deployment(&unavailable).message(),
            "Waiting for deployment \"web\" rollout to finish: 1 of 2 updated replicas are available..."
        );
        let unobserved =
            v(r#"{"metadata":{"name":"web","generation":5},"status":{"observedGeneration":4}}"#);
        assert_eq!(
            deployment(&unobserved).message(),
            "Waiting for deployment spec update to be observed..."
        );
        let stuck = v(
            r#"{"metadata":{"name":"web"},"status":{"conditions":[{"type":"Progressing","status":"False","reason":"ProgressDeadlineExceeded"}]}}"#,
        );
        assert_eq!(
            deployment(&stuck),
            Verdict::Failed("deployment \"web\" exceeded its progress deadline".into())
        );
    }

    #[test]
    fn statefulset_follows_kubectl() {
        let done = v(
            r#"{"metadata":{"generation":2},"spec":{"replicas":3,"updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"partition":0}}},"status":{"observedGeneration":2,"readyReplicas":3,"updatedReplicas":3}}"#,
        );
        assert_eq!(
            statefulset(&done).message(),
            "partitioned roll out complete: 3 new pods have been updated..."
        );
        assert!(matches!(statefulset(&done), Verdict::Ready(_)));
        let partitioned = v(
            r#"{"spec":{"replicas":3,"updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"partition":1}}},"status":{"observedGeneration":1,"readyReplicas":3,"updatedReplicas":1}}"#,
        );
        assert_eq!(
            statefulset(&partitioned).message(),
            "Waiting for partitioned roll out to finish: 1 out of 2 new pods have been updated..."
        );
        let bare = v(
            r#"{"spec":{"replicas":2,"updateStrategy":{"type":"RollingUpdate"}},"status":{"observedGeneration":1,"readyReplicas":2,"updatedReplicas":1,"currentReplicas":1,"updateRevision":"db-2","currentRevision":"db-1"}}"#,
        );
        assert_eq!(
            statefulset(&bare).message(),
            "waiting for statefulset rolling update to complete 1 pods at revision db-2..."
        );
        let unready =
            v(r#"{"spec":{"replicas":3},"status":{"observedGeneration":1,"readyReplicas":1}}"#);
        assert_eq!(
            statefulset(&unready).message(),
            "Waiting for 2 pods to be ready..."
        );
        let fresh = v(r#"{"spec":{"replicas":3},"status":{}}"#);
        assert_eq!(
            statefulset(&fresh).message(),
            "Waiting for statefulset spec update to be observed..."
        );
        let on_delete = v(r#"{"spec":{"updateStrategy":{"type":"OnDelete"}}}"#);
        assert!(matches!(statefulset(&on_delete), Verdict::Failed(_)));
    }

    #[test]
    fn daemonset_follows_kubectl() {
        let done = v(
            r#"{"metadata":{"name":"agent","generation":2},"spec":{"updateStrategy":{"type":"RollingUpdate"}},"status":{"observedGeneration":2,"desiredNumberScheduled":3,"updatedNumberScheduled":3,"numberAvailable":3}}"#,
        );
        assert_eq!(
            daemonset(&done),
            Verdict::Ready("daemon set \"agent\" successfully rolled out".into())
        );
        // updatedNumberScheduled and numberAvailable vanish at 0.
        let starting = v(r#"{"metadata":{"name":"agent"},"status":{"desiredNumberScheduled":3}}"#);
        assert_eq!(
            daemonset(&starting).message(),
            "Waiting for daemon set \"agent\" rollout to finish: 0 out of 3 new pods have been updated..."
        );
        let unavailable = v(
            r#"{"metadata":{"name":"agent"},"status":{"desiredNumberScheduled":3,"updatedNumberScheduled":3,"numberAvailable":2}}"#,
        );
        assert_eq!(
            daemonset(&unavailable).message(),
            "Waiting for daemon set \"agent\" rollout to finish: 2 of 3 updated pods are available..."
        );
        let on_delete = v(r#"{"spec":{"updateStrategy":{"type":"OnDelete"}}}"#);
        assert!(matches!(daemonset(&on_delete), Verdict::Failed(_)));
    }
}
