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
}

/// The kind names accepted; quoted in error messages.
pub const KINDS: &str = "pod (po), pods?selector=…, deployment (deploy), statefulset (sts), \
                         daemonset (ds), job, service (svc)";

impl Kind {
    /// kubectl's names, short names and plurals, case-insensitively.
    /// `pods` is the label-selector form.
    pub fn parse(word: &str) -> Option<Kind> {
        Some(match word.to_ascii_lowercase().as_str() {
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
        }
    }
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
