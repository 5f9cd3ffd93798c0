//! Pods (docs/kubernetes.md §2.4, §2.5, §2.8): the `Ready` condition behind the
//! generation guard, one container by name, or every pod matching a label
//! selector.

use super::{Verdict, condition, field, is_true, name_of};
use crate::json::Value;

/// Whether the pod's `Ready` condition is met for its current generation.
/// kubectl (`wait --for=condition=Ready`) treats a condition observed for
/// an older `metadata.generation` as not met; pods carry generations since
/// `PodObservedGenerationTracking` (1.33+), older servers skip the guard.
pub fn is_ready(pod: &Value) -> bool {
    let ready = condition(pod, "Ready");
    if !is_true(ready) {
        return false;
    }
    let Some(generation) = pod.at(&["metadata", "generation"]).and_then(Value::as_i64) else {
        return true;
    };
    let observed = ready
        .and_then(|c| c.get("observedGeneration"))
        .or_else(|| pod.at(&["status", "observedGeneration"]))
        .and_then(Value::as_i64);
    observed.is_none_or(|observed| observed >= generation)
}

fn phase(pod: &Value) -> &str {
    pod.at(&["status", "phase"])
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// `status.reason: status.message` of a pod, or its phase.
fn why(pod: &Value) -> String {
    let status = pod.get("status");
    let text = |key| {
        status
            .and_then(|s| s.get(key))
            .and_then(Value::as_str)
            .unwrap_or("")
    };
    match (text("reason"), text("message")) {
        ("", "") => format!("phase {}", phase(pod)),
        (reason, "") | ("", reason) => reason.to_owned(),
        (reason, message) => format!("{reason}: {message}"),
    }
}

/// One pod by name: failed or completed pods never become ready.
pub fn named(pod: &Value) -> Verdict {
    let name = name_of(pod);
    match phase(pod) {
        "Failed" => return Verdict::Failed(format!("pod \"{name}\" failed: {}", why(pod))),
        "Succeeded" => {
            return Verdict::Failed(format!(
                "pod \"{name}\" has completed (phase Succeeded) and will never be ready"
            ));
        }
        _ => {}
    }
    if is_ready(pod) {
        return Verdict::Ready(format!("pod/{name} condition met"));
    }
    let detail = condition(pod, "Ready")
        .map(|c| match (field(c, "message"), field(c, "reason")) {
            ("", "") => String::new(),
            ("", reason) => format!(": {reason}"),
            (message, _) => format!(": {message}"),
        })
        .unwrap_or_default();
    let trouble = trouble(pod).map(|t| format!("; {t}")).unwrap_or_default();
    Verdict::Waiting(format!(
        "Waiting for pod \"{name}\" to be ready{detail}{trouble}"
    ))
}

/// Why a pod that is not ready may stay so, in the words of whoever knows:
/// the scheduler's `PodScheduled=False` message (reason `Unschedulable`),
/// or a container the kubelet keeps in a back-off (`state.waiting.reason`
/// such as `CrashLoopBackOff`) with its last termination.
fn trouble(pod: &Value) -> Option<String> {
    if let Some(c) = condition(pod, "PodScheduled")
        && field(c, "status").eq_ignore_ascii_case("false")
    {
        return Some(format!("{}: {}", field(c, "reason"), field(c, "message")));
    }
    ["initContainerStatuses", "containerStatuses"]
        .iter()
        .flat_map(|list| {
            pod.at(&["status", list])
                .map(Value::items)
                .unwrap_or_default()
        })
        .find_map(|status| {
            let reason = status
                .at(&["state", "waiting", "reason"])
                .and_then(Value::as_str)?;
            if !reason.ends_with("BackOff")
                && !reason.starts_with("Err")
                && !reason.contains("Error")
            {
                return None;
            }
            let last = status
                .at(&["lastState", "terminated"])
                .map(|t| {
                    let code = t.get("exitCode").and_then(Value::as_i64).unwrap_or(0);
                    format!(
                        " (last terminated: {}, exit code {code})",
                        field(t, "reason")
                    )
                })
                .unwrap_or_default();
            Some(format!(
                "container \"{}\" is in {reason}{last}",
                field(status, "name")
            ))
        })
}

/// Where a container is declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Declared {
    App,
    /// An init container with `restartPolicy: Always`: runs alongside.
    Sidecar,
    /// A regular init container: "ready" once it exits 0.
    Init,
}

fn declared(pod: &Value, container: &str) -> Option<Declared> {
    let named = |list: &str| {
        pod.at(&["spec", list])
            .map(Value::items)
            .unwrap_or_default()
            .iter()
            .find(|c| c.get("name").and_then(Value::as_str) == Some(container))
            .cloned()
    };
    if named("containers").is_some() {
        return Some(Declared::App);
    }
    let init = named("initContainers")?;
    match init.get("restartPolicy").and_then(Value::as_str) {
        Some("Always") => Some(Declared::Sidecar),
        _ => Some(Declared::Init),
    }
}

/// The pod's containers in declaration order, init containers first as
/// the kubelet starts them.
fn container_names(pod: &Value) -> String {
    let names: Vec<&str> = ["initContainers", "containers"]
        .iter()
        .flat_map(|list| {
            pod.at(&["spec", list])
                .map(Value::items)
                .unwrap_or_default()
        })
        .filter_map(|c| c.get("name").and_then(Value::as_str))
        .collect();
    names.join(", ")
}

fn container_status<'a>(pod: &'a Value, container: &str) -> Option<&'a Value> {
    ["containerStatuses", "initContainerStatuses"]
        .iter()
        .flat_map(|list| {
            pod.at(&["status", list])
                .map(Value::items)
                .unwrap_or_default()
        })
        .find(|s| s.get("name").and_then(Value::as_str) == Some(container))
}

/// One container of a pod (`?container=`), sidecars and init containers
/// included (docs/kubernetes.md §2.5).
pub fn container(pod: &Value, container: &str) -> Verdict {
    let name = name_of(pod);
    let Some(declared) = declared(pod, container) else {
        return Verdict::Failed(format!(
            "pod \"{name}\" has no container \"{container}\"; it has: {}",
            container_names(pod)
        ));
    };
    let status = container_status(pod, container);
    if status.and_then(|s| s.get("ready")).and_then(Value::as_bool) == Some(true) {
        return Verdict::Ready(match declared {
            Declared::Init => {
                format!("init container \"{container}\" of pod \"{name}\" has completed")
            }
            _ => format!("container \"{container}\" of pod \"{name}\" is ready"),
        });
    }
    if matches!(phase(pod), "Failed" | "Succeeded") {
        return Verdict::Failed(format!(
            "pod \"{name}\" has ended ({}) and container \"{container}\" is not ready",
            why(pod)
        ));
    }
    let never_restarts =
        pod.at(&["spec", "restartPolicy"]).and_then(Value::as_str) == Some("Never");
    if let Some(terminated) = status.and_then(|s| s.at(&["state", "terminated"]))
        && never_restarts
    {
        let code = terminated
            .get("exitCode")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        let reason = field(terminated, "reason");
        return Verdict::Failed(format!(
            "container \"{container}\" of pod \"{name}\" terminated: {reason} (exit code {code}) and restartPolicy is Never"
        ));
    }
    let state = match status {
        None => "not started yet".to_owned(),
        Some(s) => match s
            .at(&["state", "waiting", "reason"])
            .and_then(Value::as_str)
        {
            Some(reason) => reason.to_owned(),
            None if s.at(&["state", "running"]).is_some() => "running, not ready".to_owned(),
            None => "not running".to_owned(),
        },
    };
    Verdict::Waiting(format!(
        "Waiting for container \"{container}\" of pod \"{name}\" to be ready: {state}"
    ))
}

/// Every pod matching a label selector (§2.8): at least one, and each
/// `Ready` (with the generation guard) or `Succeeded`. Pods being deleted
/// are ignored; a failed pod keeps the wait going, as a controller may
/// replace it.
pub fn selected(selector: &str, pods: &[&Value]) -> Verdict {
    let live: Vec<&Value> = pods
        .iter()
        .copied()
        .filter(|p| p.at(&["metadata", "deletionTimestamp"]).is_none())
        .collect();
    if live.is_empty() {
        return Verdict::Waiting(format!(
            "Waiting for pods matching {selector}: none exist yet"
        ));
    }
    let not_ready: Vec<&str> = live
        .iter()
        .filter(|p| !(is_ready(p) || phase(p) == "Succeeded"))
        .map(|p| name_of(p))
        .collect();
    if not_ready.is_empty() {
        return Verdict::Ready(format!(
            "all {} pods matching {selector} are ready",
            live.len()
        ));
    }
    let why = live
        .iter()
        .find_map(|p| trouble(p).map(|t| format!("; {}: {t}", name_of(p))))
        .unwrap_or_default();
    Verdict::Waiting(format!(
        "Waiting for pods matching {selector}: {} of {} ready (not ready: {}){why}",
        live.len() - not_ready.len(),
        live.len(),
        not_ready.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse;

    fn v(text: &str) -> Value {
        parse(text.as_bytes()).unwrap()
    }

    const READY: &str = r#"{"metadata":{"name":"web","generation":2},"spec":{"restartPolicy":"Always","containers":[{"name":"app"}],"initContainers":[{"name":"migrate"},{"name":"proxy","restartPolicy":"Always"}]},
        "status":{"phase":"Running","observedGeneration":2,"conditions":[{"type":"Ready","status":"True","observedGeneration":2}],
        "initContainerStatuses":[{"name":"migrate","ready":true,"state":{"terminated":{"exitCode":0}}},{"name":"proxy","ready":true}],
        "containerStatuses":[{"name":"app","ready":true,"state":{"running":{}}}]}}"#;

    #[test]
    fn named_pods() {
        assert_eq!(
            named(&v(READY)),
            Verdict::Ready("pod/web condition met".into())
        );
        let stale = READY.replace(r#""observedGeneration":2}]"#, r#""observedGeneration":1}]"#);
        assert!(
            matches!(named(&v(&stale)), Verdict::Waiting(_)),
            "a condition from an older generation does not count"
        );
        let unready = v(
            r#"{"metadata":{"name":"web"},"status":{"phase":"Running","conditions":[{"type":"Ready","status":"False","reason":"ContainersNotReady","message":"containers with unready status: [app]"}]}}"#,
        );
        assert_eq!(
            named(&unready).message(),
            "Waiting for pod \"web\" to be ready: containers with unready status: [app]"
        );
        let failed = v(
            r#"{"metadata":{"name":"web"},"status":{"phase":"Failed","reason":"Evicted","message":"low on memory"}}"#,
        );
        assert_eq!(
            named(&failed),
            Verdict::Failed("pod \"web\" failed: Evicted: low on memory".into())
        );
        let done = v(r#"{"metadata":{"name":"web"},"status":{"phase":"Succeeded"}}"#);
        assert!(matches!(named(&done), Verdict::Failed(_)));
    }

    #[test]
    fn crash_loops_and_unschedulable_pods_say_why() {
        let crashing = v(
            r#"{"metadata":{"name":"web"},"status":{"phase":"Running","conditions":[{"type":"Ready","status":"False","reason":"ContainersNotReady"}],"containerStatuses":[{"name":"app","ready":false,"state":{"waiting":{"reason":"CrashLoopBackOff"}},"lastState":{"terminated":{"reason":"Error","exitCode":1}}}]}}"#,
        );
        assert_eq!(
            named(&crashing).message(),
            "Waiting for pod \"web\" to be ready: ContainersNotReady; container \"app\" is in CrashLoopBackOff (last terminated: Error, exit code 1)"
        );
        let unschedulable = v(
            r#"{"metadata":{"name":"web"},"status":{"phase":"Pending","conditions":[{"type":"PodScheduled","status":"False","reason":"Unschedulable","message":"0/3 nodes are available: 3 Insufficient memory."}]}}"#,
        );
        assert!(matches!(
            named(&unschedulable),
            Verdict::Waiting(m) if m.ends_with("; Unschedulable: 0/3 nodes are available: 3 Insufficient memory.")
        ));
    }

    #[test]
    fn containers_sidecars_and_init_containers() {
        let pod = v(READY);
        assert!(matches!(container(&pod, "app"), Verdict::Ready(_)));
        assert!(
            matches!(container(&pod, "proxy"), Verdict::Ready(m) if m.starts_with("container"))
        );
        assert!(
            matches!(container(&pod, "migrate"), Verdict::Ready(m) if m.contains("has completed"))
        );
        assert_eq!(
            container(&pod, "nope"),
            Verdict::Failed(
                "pod \"web\" has no container \"nope\"; it has: migrate, proxy, app".into()
            )
        );
        let crashing = v(
            r#"{"metadata":{"name":"web"},"spec":{"containers":[{"name":"app"}]},"status":{"phase":"Running","containerStatuses":[{"name":"app","ready":false,"state":{"waiting":{"reason":"CrashLoopBackOff"}}}]}}"#,
        );
        assert_eq!(
            container(&crashing, "app").message(),
            "Waiting for container \"app\" of pod \"web\" to be ready: CrashLoopBackOff"
        );
        let pending = v(
            r#"{"metadata":{"name":"web"},"spec":{"containers":[{"name":"app"}]},"status":{"phase":"Pending"}}"#,
        );
        assert!(
            matches!(container(&pending, "app"), Verdict::Waiting(m) if m.ends_with("not started yet"))
        );
        let dead = v(
            r#"{"metadata":{"name":"web"},"spec":{"restartPolicy":"Never","containers":[{"name":"app"}]},"status":{"phase":"Running","containerStatuses":[{"name":"app","ready":false,"state":{"terminated":{"exitCode":2,"reason":"Error"}}}]}}"#,
        );
        assert!(
            matches!(container(&dead, "app"), Verdict::Failed(m) if m.contains("Error (exit code 2)"))
        );
    }

    #[test]
    fn pods_by_label() {
        let ready = v(READY);
        let done = v(r#"{"metadata":{"name":"job-x"},"status":{"phase":"Succeeded"}}"#);
        let gone = v(
            r#"{"metadata":{"name":"old","deletionTimestamp":"2025-01-01T00:00:00Z"},"status":{"phase":"Running"}}"#,
        );
        let unready = v(r#"{"metadata":{"name":"web-2"},"status":{"phase":"Running"}}"#);
        assert!(
            matches!(selected("app=web", &[&ready, &done, &gone]), Verdict::Ready(m) if m == "all 2 pods matching app=web are ready")
        );
        assert_eq!(
            selected("app=web", &[&ready, &unready]).message(),
            "Waiting for pods matching app=web: 1 of 2 ready (not ready: web-2)"
        );
        assert!(
            matches!(selected("app=web", &[]), Verdict::Waiting(m) if m.ends_with("none exist yet"))
        );
        assert!(matches!(selected("app=web", &[&gone]), Verdict::Waiting(_)));
    }
}
