//! The kinds rdy can wait for, their kubectl names, and the API resources
//! behind them (docs/kubernetes.md §2.0).

/// An API resource: where it is listed and watched, and how RBAC names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resource {
    /// API group; `""` is the core group.
    pub group: &'static str,
    /// Plural resource name (`deployments`).
    pub plural: &'static str,
}

/// `pods` in the core group.
pub const PODS: Resource = Resource {
    group: "",
    plural: "pods",
};
/// `deployments.apps`.
pub const DEPLOYMENTS: Resource = Resource {
    group: "apps",
    plural: "deployments",
};
/// `statefulsets.apps`.
pub const STATEFULSETS: Resource = Resource {
    group: "apps",
    plural: "statefulsets",
};
/// `daemonsets.apps`.
pub const DAEMONSETS: Resource = Resource {
    group: "apps",
    plural: "daemonsets",
};
/// `jobs.batch`.
pub const JOBS: Resource = Resource {
    group: "batch",
    plural: "jobs",
};
/// `endpointslices.discovery.k8s.io`: a Service's endpoints.
pub const ENDPOINT_SLICES: Resource = Resource {
    group: "discovery.k8s.io",
    plural: "endpointslices",
};
/// Legacy `endpoints`, used only where EndpointSlices are not served.
pub const ENDPOINTS: Resource = Resource {
    group: "",
    plural: "endpoints",
};

impl Resource {
    /// The namespaced collection path: `/api/v1/namespaces/NS/pods` or
    /// `/apis/GROUP/v1/namespaces/NS/PLURAL`. Every kind rdy reads is `v1`.
    pub fn collection(&self, namespace: &str) -> String {
        match self.group {
            "" => format!("/api/v1/namespaces/{namespace}/{}", self.plural),
            group => format!("/apis/{group}/v1/namespaces/{namespace}/{}", self.plural),
        }
    }

    /// `deployments.apps`, or `pods` for the core group, as `kubectl auth
    /// can-i` and error messages write it.
    pub fn qualified(&self) -> String {
        match self.group {
            "" => self.plural.to_owned(),
            group => format!("{}.{group}", self.plural),
        }
    }
}

/// What a `k8s:` target names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// One pod by name (optionally one of its containers).
    Pod,
    /// Pods matching a label selector.
    Pods,
    /// A Deployment rollout.
    Deployment,
    /// A StatefulSet rollout.
    StatefulSet,
    /// A DaemonSet rollout.
    DaemonSet,
    /// A Job's completion.
    Job,
    /// A Service's ready endpoints.
    Service,
    /// Any other resource, found through API discovery.
    Other,
}

impl Kind {
    /// kubectl's names, short names and plurals, case-insensitively, with
    /// or without their group (`deployments.apps`). `pods` is the
    /// label-selector form. Any other word is [`Kind::Other`]'s business.
    pub fn parse(word: &str) -> Option<Kind> {
        let word = word.to_ascii_lowercase();
        let (name, group) = match word.split_once('.') {
            Some((name, group)) => (name, Some(group)),
            None => (word.as_str(), None),
        };
        let kind = Kind::builtin(name)?;
        (group.is_none_or(|g| g == kind.resource().group && kind != Kind::Service)).then_some(kind)
    }

    fn builtin(word: &str) -> Option<Kind> {
        Some(match word {
            "pod" | "po" => Kind::Pod,
            "pods" => Kind::Pods,
            "deployment" | "deploy" | "deployments" => Kind::Deployment,
            "statefulset" | "sts" | "statefulsets" => Kind::StatefulSet,
            "daemonset" | "ds" | "daemonsets" => Kind::DaemonSet,
            "job" | "jobs" => Kind::Job,
            "service" | "svc" | "services" => Kind::Service,
            _ => return None,
        })
    }

    /// The singular name used in messages (`deployment/web`).
    pub fn name(self) -> &'static str {
        match self {
            Kind::Pod => "pod",
            Kind::Pods => "pods",
            Kind::Deployment => "deployment",
            Kind::StatefulSet => "statefulset",
            Kind::DaemonSet => "daemonset",
            Kind::Job => "job",
            Kind::Service => "service",
            Kind::Other => "resource",
        }
    }

    /// The resource listed and watched for this kind.
    pub fn resource(self) -> Resource {
        match self {
            Kind::Pod | Kind::Pods => PODS,
            Kind::Deployment => DEPLOYMENTS,
            Kind::StatefulSet => STATEFULSETS,
            Kind::DaemonSet => DAEMONSETS,
            Kind::Job => JOBS,
            Kind::Service => ENDPOINT_SLICES,
            // Resolved through discovery; `services` when `--for` reads the
            // Service object itself.
            Kind::Other => SERVICES,
        }
    }
}

/// `services`: the Service object, read only for `--for` conditions.
pub const SERVICES: Resource = Resource {
    group: "",
    plural: "services",
};

/// The built-in kind a group-less word is one or two typing mistakes away
/// from (`deploymnet`), so that it is refused before any request instead of
/// being looked up. Words of three letters or fewer are short names of
/// their own (`no`, `pdb`).
pub fn misspelt(word: &str) -> Option<&'static str> {
    const NAMES: [&str; 12] = [
        "pod",
        "pods",
        "deployment",
        "deployments",
        "statefulset",
        "statefulsets",
        "daemonset",
        "daemonsets",
        "job",
        "jobs",
        "service",
        "services",
    ];
    let word = word.to_ascii_lowercase();
    // Built-in names have at most 12 letters: longer words are not near.
    let limit = match word.len() {
        0..=3 | 15.. => return None,
        4..=6 => 1,
        _ => 2,
    };
    if word.contains('.') || Kind::builtin(&word).is_some() {
        return None;
    }
    NAMES
        .into_iter()
        .find(|name| distance(word.as_bytes(), name.as_bytes()) <= limit)
}

/// Edit distance with adjacent transpositions (optimal string alignment)
/// of two words shorter than 16 bytes.
fn distance(a: &[u8], b: &[u8]) -> u8 {
    let mut d = [[0u8; 16]; 16];
    for i in 0..=a.len() {
        for j in 0..=b.len() {
            d[i][j] = match (i, j) {
                (0, j) => j as u8,
                (i, 0) => i as u8,
                _ => {
                    let cost = u8::from(a[i - 1] != b[j - 1]);
                    let mut v = (d[i - 1][j] + 1)
                        .min(d[i][j - 1] + 1)
                        .min(d[i - 1][j - 1] + cost);
                    if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                        v = v.min(d[i - 2][j - 2] + 1);
                    }
                    v
                }
            };
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_names_and_paths() {
        assert_eq!(Kind::parse("Deploy"), Some(Kind::Deployment));
        assert_eq!(Kind::parse("sts"), Some(Kind::StatefulSet));
        assert_eq!(Kind::parse("svc"), Some(Kind::Service));
        assert_eq!(Kind::parse("cronjob"), None);
        assert_eq!(Kind::parse("deployments.apps"), Some(Kind::Deployment));
        assert_eq!(Kind::parse("job.batch"), Some(Kind::Job));
        assert_eq!(Kind::parse("deployment.example.com"), None);
        assert_eq!(misspelt("deploymnet"), Some("deployment"));
        assert_eq!(misspelt("Statfulset"), Some("statefulset"));
        assert_eq!(misspelt("podss"), Some("pods"));
        for fine in [
            "cronjob",
            "no",
            "pdb",
            "node",
            "nodes",
            "secret",
            "cert",
            "widget.example.com",
            "ingress",
        ] {
            assert_eq!(misspelt(fine), None, "{fine}");
        }
        assert_eq!(
            PODS.collection("default"),
            "/api/v1/namespaces/default/pods"
        );
        assert_eq!(
            ENDPOINT_SLICES.collection("a"),
            "/apis/discovery.k8s.io/v1/namespaces/a/endpointslices"
        );
        assert_eq!(DEPLOYMENTS.qualified(), "deployments.apps");
        assert_eq!(PODS.qualified(), "pods");
    }
}
