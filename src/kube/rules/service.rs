//! Services by their ready endpoints (docs/kubernetes.md §2.7): EndpointSlices
//! labelled `kubernetes.io/service-name`, possibly several per Service, an
//! endpoint counted once (by `targetRef.uid`, else its addresses) when
//! `conditions.ready` is not false (nil means true). A Service with zero
//! endpoints is not ready — the mistake k8s-when-ready makes. The legacy
//! `v1 Endpoints` rule is the fallback where EndpointSlices are not served.

use super::Verdict;
use crate::json::Value;

/// The verdict from a Service's EndpointSlices.
pub fn slices(service: &str, min: u32, slices: &[&Value]) -> Verdict {
    let mut ready: Vec<String> = Vec::new();
    let mut total: Vec<String> = Vec::new();
    for slice in slices {
        // `endpoints` has no omitempty: an empty slice says null.
        for endpoint in slice.get("endpoints").map(Value::items).unwrap_or_default() {
            let identity = endpoint
                .at(&["targetRef", "uid"])
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or_else(|| addresses(endpoint));
            let is_ready = endpoint
                .at(&["conditions", "ready"])
                .and_then(Value::as_bool)
                != Some(false);
            if is_ready && !ready.contains(&identity) {
                ready.push(identity.clone());
            }
            if !total.contains(&identity) {
                total.push(identity);
            }
        }
    }
    judge(service, min, ready.len(), total.len(), slices.is_empty())
}

fn addresses(endpoint: &Value) -> String {
    let list: Vec<&str> = endpoint
        .get("addresses")
        .map(Value::items)
        .unwrap_or_default()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    list.join(",")
}

/// The verdict from a legacy `v1 Endpoints` object: `subsets[].addresses`
/// are ready, `notReadyAddresses` are not.
pub fn endpoints(service: &str, min: u32, object: Option<&Value>) -> Verdict {
    let Some(object) = object else {
        return judge(service, min, 0, 0, true);
    };
    let count = |key| {
        object
            .get("subsets")
            .map(Value::items)
            .unwrap_or_default()
            .iter()
            .map(|s| s.get(key).map(Value::items).unwrap_or_default().len())
            .sum::<usize>()
    };
    let ready = count("addresses");
    judge(
        service,
        min,
        ready,
        ready + count("notReadyAddresses"),
        false,
    )
}

fn judge(service: &str, min: u32, ready: usize, total: usize, nothing: bool) -> Verdict {
    let wanted = usize::try_from(min).unwrap_or(usize::MAX);
    let plural = |n: usize| if n == 1 { "endpoint" } else { "endpoints" };
    if ready >= wanted {
        return Verdict::Ready(format!(
            "service \"{service}\" has {ready} ready {}",
            plural(ready)
        ));
    }
    if nothing {
        return Verdict::Waiting(format!(
            "Waiting for service \"{service}\" to have {wanted} ready {}: no endpoints yet \
             (does the service exist and select pods?)",
            plural(wanted)
        ));
    }
    Verdict::Waiting(format!(
        "Waiting for service \"{service}\" to have {wanted} ready {}: {ready} of {total} ready",
        plural(wanted)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse;

    fn v(text: &str) -> Value {
        parse(text.as_bytes()).unwrap()
    }

    #[test]
    fn counts_distinct_ready_endpoints_across_slices() {
        let a = v(
            r#"{"endpoints":[{"addresses":["10.0.0.1"],"conditions":{"ready":true},"targetRef":{"uid":"p1"}},{"addresses":["10.0.0.2"],"conditions":{"ready":false,"serving":true,"terminating":true},"targetRef":{"uid":"p2"}}]}"#,
        );
        let b = v(
            r#"{"addressType":"IPv6","endpoints":[{"addresses":["fd00::1"],"conditions":{},"targetRef":{"uid":"p1"}},{"addresses":["fd00::3"]}]}"#,
        );
        assert_eq!(
            slices("web", 1, &[&a, &b]),
            Verdict::Ready("service \"web\" has 2 ready endpoints".into())
        );
        assert!(
            matches!(slices("web", 3, &[&a, &b]), Verdict::Waiting(m) if m.ends_with("2 of 3 ready"))
        );
        let empty = v(r#"{"endpoints":null}"#);
        assert!(
            matches!(slices("web", 1, &[&empty]), Verdict::Waiting(m) if m.ends_with("0 of 0 ready"))
        );
        assert!(
            matches!(slices("web", 1, &[]), Verdict::Waiting(m) if m.contains("no endpoints yet"))
        );
    }

    #[test]
    fn legacy_endpoints() {
        let e = v(
            r#"{"subsets":[{"addresses":[{"ip":"10.0.0.1"}],"notReadyAddresses":[{"ip":"10.0.0.2"}]}]}"#,
        );
        assert!(matches!(endpoints("web", 1, Some(&e)), Verdict::Ready(_)));
        assert!(
            matches!(endpoints("web", 2, Some(&e)), Verdict::Waiting(m) if m.ends_with("1 of 2 ready"))
        );
        assert!(matches!(endpoints("web", 1, None), Verdict::Waiting(_)));
    }
}
