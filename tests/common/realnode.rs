//! A real node: a kubelet and containerd joined to a real API server, both
//! on loopback, that `.ci/run` starts and names in `RDY_TEST_REALNODE` (the
//! node's state directory, where its recorded PIDs are) and
//! `RDY_TEST_REALNODE_KUBE` (the state directory of the API server it
//! joined). Pods really run there: the tests apply them, make their
//! dependencies appear and vanish on 127.0.0.1, and read what the kubelet
//! writes into their status.
//!
//! The node runs only `hostNetwork: true` pods (it has no pod network), so
//! every connection a pod makes is to the host's loopback, where the test
//! process listens. Its images are imported without a registry:
//! [`RDY_IMAGE`] (the project's `Dockerfile.scratch` around `dist/rdy-min`),
//! [`APP_IMAGE`] (a static program that sleeps until SIGTERM, `/pause`) and
//! [`PROBE_IMAGE`] (both binaries in one image). Pods name them with
//! `imagePullPolicy: Never`.

use std::io::ErrorKind;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde_json::Value;
use socket2::{Domain, Socket, Type};

use super::realkube::RealKube;
use super::skip;

/// The rdy image: `/rdy` and nothing else, user 65532.
pub const RDY_IMAGE: &str = "localhost/rdy:dev";
/// The stand-in app: `/pause` sleeps until SIGTERM or SIGINT, says which on
/// stderr (`rn-pause: got SIGTERM`) and exits 0.
pub const APP_IMAGE: &str = "localhost/rn-pause:1";
/// `/rdy` and `/pause` in one image, for exec probes and supervision.
pub const PROBE_IMAGE: &str = "localhost/rn-probe:1";

/// How long a test waits for the kubelet to do something: pods start in a
/// second or two here, but two cores are shared with the rest of the suite.
pub const NODE_LIMIT: Duration = Duration::from_secs(90);

/// The node and the API server it joined.
pub struct RealNode {
    /// The API server.
    pub kube: RealKube,
    /// The node's name (`spec.nodeName`).
    pub name: String,
}

/// The running node, or `None` after recording `test` as skipped (with the
/// reason: nothing started, the kubelet gone, the node not Ready).
pub fn realnode(test: &str) -> Option<RealNode> {
    let why = match find() {
        Ok(node) => return Some(node),
        Err(why) => why,
    };
    skip(test, &why);
    None
}

fn find() -> Result<RealNode, String> {
    let var = |name: &str| {
        std::env::var_os(name).map(PathBuf::from).ok_or(format!(
            "no real node: {name} is unset (.ci/run starts ../shared/realnode)"
        ))
    };
    let dir = var("RDY_TEST_REALNODE")?;
    let kube_dir = var("RDY_TEST_REALNODE_KUBE")?;
    let pid_file = dir.join("pids/kubelet.pid");
    let pid = std::fs::read_to_string(&pid_file).map_err(|e| {
        format!(
            "no kubelet: cannot read {}: {}",
            pid_file.display(),
            e.kind()
        )
    })?;
    if !PathBuf::from(format!("/proc/{}", pid.trim())).is_dir() {
        return Err(format!("the kubelet (pid {}) is not running", pid.trim()));
    }
    if !kube_dir.join("admin.kubeconfig").is_file() {
        return Err(format!("no admin.kubeconfig in {}", kube_dir.display()));
    }
    let name = std::env::var("RDY_TEST_REALNODE_NAME").unwrap_or_else(|_| "127.0.0.1".to_owned());
    let node = RealNode {
        kube: RealKube { dir: kube_dir },
        name,
    };
    let status = node.get(&format!("/api/v1/nodes/{}", node.name));
    let ready = status.as_ref().and_then(|n| condition(n, "Ready"));
    if ready.as_deref() != Some("True") {
        return Err(format!("node {} is not Ready ({ready:?})", node.name));
    }
    Ok(node)
}

/// The status (`"True"`, `"False"`) of an object's condition `kind`.
pub fn condition(object: &Value, kind: &str) -> Option<String> {
    object["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == kind)
        .and_then(|c| c["status"].as_str())
        .map(str::to_owned)
}

/// The status of container `name` of a pod, among its containers or its
/// initContainers (`Value::Null` while the kubelet has not reported it).
pub fn container<'a>(pod: &'a Value, name: &str) -> &'a Value {
    ["containerStatuses", "initContainerStatuses"]
        .iter()
        .filter_map(|list| pod["status"][list].as_array())
        .flatten()
        .find(|c| c["name"] == name)
        .unwrap_or(&Value::Null)
}

/// Whether container `name` is in state `state` (`waiting`, `running`,
/// `terminated`).
pub fn in_state(pod: &Value, name: &str, state: &str) -> bool {
    container(pod, name)["state"].get(state).is_some()
}

/// Container `name`'s `state.terminated` (`Value::Null` if it is not).
pub fn terminated<'a>(pod: &'a Value, name: &str) -> &'a Value {
    &container(pod, name)["state"]["terminated"]
}

/// Pod Security `restricted` settings for a pod: `(pod, container)`
/// securityContexts as YAML flow mappings, what every pod here carries.
pub const POD_SECURITY: &str = "{runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: {type: RuntimeDefault}}";
/// The container half of [`POD_SECURITY`].
pub const CONTAINER_SECURITY: &str =
    "{readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}";

impl RealNode {
    /// The API server's port, for `KUBERNETES_SERVICE_PORT`: pods here
    /// reach the API server on 127.0.0.1, never through a Service IP.
    pub fn api_port(&self) -> u16 {
        let server = self.kube.server();
        let port = server.rsplit(':').next().unwrap_or_default();
        port.parse().expect("port in the API server's URL")
    }

    /// The env entries that send in-cluster configuration to the loopback
    /// API server, as a YAML flow sequence.
    pub fn api_env(&self) -> String {
        format!(
            r#"[{{name: KUBERNETES_SERVICE_HOST, value: "127.0.0.1"}}, {{name: KUBERNETES_SERVICE_PORT, value: "{}"}}]"#,
            self.api_port()
        )
    }

    /// A namespace for one test that warns and audits against Pod Security
    /// `restricted` (enforcing it would refuse `hostNetwork`).
    pub fn namespace(&self, prefix: &str) -> String {
        self.kube.namespace_labelled(
            prefix,
            &[
                ("pod-security.kubernetes.io/warn", "restricted"),
                ("pod-security.kubernetes.io/audit", "restricted"),
            ],
        )
    }

    /// The first lines of a pod on this node with the restricted settings:
    /// `spec:` is open for `initContainers:` / `containers:` to follow.
    pub fn pod_head(&self, namespace: &str, name: &str, grace: u32) -> String {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: {namespace}}}\nspec:\n  nodeName: \"{}\"\n  hostNetwork: true\n  enableServiceLinks: false\n  automountServiceAccountToken: false\n  terminationGracePeriodSeconds: {grace}\n  securityContext: {POD_SECURITY}\n",
            self.name
        )
    }

    /// GET as the admin user: the JSON object, or `None` on 404.
    pub fn get(&self, path: &str) -> Option<Value> {
        let response = self.kube.request("GET", path, None);
        match response.status {
            404 => None,
            200 => Some(serde_json::from_str(&response.body).expect("JSON from the API server")),
            status => panic!("GET {path}: {status} {}", response.body),
        }
    }

    /// A pod, or `None` when it does not exist.
    pub fn pod(&self, namespace: &str, name: &str) -> Option<Value> {
        self.get(&format!("/api/v1/namespaces/{namespace}/pods/{name}"))
    }

    /// Polls the pod (every 200 ms, at most [`NODE_LIMIT`]) until `done`
    /// holds, and returns it then; panics naming `what` and showing the
    /// pod's status otherwise.
    #[track_caller]
    pub fn await_pod(
        &self,
        namespace: &str,
        name: &str,
        what: &str,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        let end = Instant::now() + NODE_LIMIT;
        loop {
            let pod = self.pod(namespace, name);
            if let Some(pod) = pod.as_ref().filter(|p| done(p)) {
                return pod.clone();
            }
            if Instant::now() >= end {
                let status = pod.map(|p| p["status"].to_string());
                panic!("pod {namespace}/{name}: never {what}; status: {status:?}");
            }
            thread::sleep(Duration::from_millis(200));
        }
    }

    /// A container's log (through the API server, which asks the kubelet).
    pub fn log(&self, namespace: &str, pod: &str, container: &str) -> String {
        let path = format!("/api/v1/namespaces/{namespace}/pods/{pod}/log?container={container}");
        let response = self.kube.request("GET", &path, None);
        if response.status == 200 {
            response.body
        } else {
            String::new()
        }
    }

    /// Follows a container's log from now on, into a file: what a
    /// container writes as it ends cannot be read after the kubelet has
    /// removed it.
    pub fn follow_log(&self, namespace: &str, pod: &str, container: &str) -> LogFollower {
        let file = super::temp_dir("node-log").join(format!("{pod}-{container}.log"));
        let token = std::fs::read_to_string(self.kube.dir.join("pki/admin.token")).expect("token");
        let path = format!(
            "/api/v1/namespaces/{namespace}/pods/{pod}/log?container={container}&follow=true"
        );
        let child = Command::new("curl")
            .args(["-sS", "-N", "--max-time", "120"])
            .arg("--cacert")
            .arg(self.kube.dir.join("pki/ca.crt"))
            .args(["-H", &format!("Authorization: Bearer {}", token.trim())])
            .arg("-o")
            .arg(&file)
            .arg(format!("{}{path}", self.kube.server()))
            .spawn()
            .expect("run curl");
        LogFollower { child, file }
    }

    /// Polls a container's log until it contains `needle`; returns the log.
    #[track_caller]
    pub fn await_log(&self, namespace: &str, pod: &str, container: &str, needle: &str) -> String {
        let end = Instant::now() + NODE_LIMIT;
        loop {
            let log = self.log(namespace, pod, container);
            if log.contains(needle) {
                return log;
            }
            assert!(
                Instant::now() < end,
                "{namespace}/{pod} container {container}: no {needle:?} in its log:\n{log}"
            );
            thread::sleep(Duration::from_millis(200));
        }
    }

    /// Polls the namespace's Events until one of `reason` about `pod`
    /// contains `needle`; returns its message. The kubelet records every
    /// failed probe so, with the probe's output: proof that it ran.
    #[track_caller]
    pub fn await_event(&self, namespace: &str, pod: &str, reason: &str, needle: &str) -> String {
        let end = Instant::now() + NODE_LIMIT;
        let path = format!("/api/v1/namespaces/{namespace}/events");
        loop {
            let events = self.get(&path).unwrap_or_default();
            let found = events["items"].as_array().into_iter().flatten().find(|e| {
                e["involvedObject"]["name"] == pod
                    && e["reason"] == reason
                    && e["message"].as_str().unwrap_or("").contains(needle)
            });
            if let Some(event) = found {
                return event["message"].as_str().unwrap_or("").to_owned();
            }
            assert!(
                Instant::now() < end,
                "{namespace}: no {reason} event for {pod} containing {needle:?}: {events}"
            );
            thread::sleep(Duration::from_millis(200));
        }
    }

    /// Creates every document of a YAML manifest in `namespace` (as
    /// `kubectl apply -n NAMESPACE -f` would for new objects: a namespaced
    /// object without a namespace gets this one) and returns the API
    /// server's warnings (Pod Security's among them).
    #[track_caller]
    pub fn apply(&self, namespace: &str, yaml: &str) -> Vec<String> {
        let mut warnings = Vec::new();
        for doc in serde_yaml::Deserializer::from_str(yaml) {
            let yaml: serde_yaml::Value =
                serde_yaml::with::singleton_map_recursive::deserialize(doc).expect("YAML manifest");
            let value = serde_json::to_value(yaml).expect("YAML as JSON");
            if value.is_null() {
                continue;
            }
            warnings.extend(self.create(namespace, value));
        }
        warnings
    }

    fn create(&self, namespace: &str, mut object: Value) -> Vec<String> {
        let kind = object["kind"].as_str().expect("kind").to_owned();
        let api_version = object["apiVersion"]
            .as_str()
            .expect("apiVersion")
            .to_owned();
        let cluster_wide = ["Namespace", "ClusterRole", "ClusterRoleBinding", "Node"]
            .contains(&kind.as_str())
            || kind == "CustomResourceDefinition";
        let namespace = if cluster_wide {
            None
        } else {
            let ns = object["metadata"]["namespace"]
                .as_str()
                .unwrap_or(namespace)
                .to_owned();
            object["metadata"]["namespace"] = Value::String(ns.clone());
            Some(ns)
        };
        let collection = RealKube::collection(&api_version, &kind, namespace.as_deref());
        self.post(&collection, &object.to_string())
    }

    /// POSTs JSON as the admin user; asserts 201 and returns the warnings.
    #[track_caller]
    pub fn post(&self, path: &str, body: &str) -> Vec<String> {
        let token = std::fs::read_to_string(self.kube.dir.join("pki/admin.token")).expect("token");
        let out = Command::new("curl")
            .args(["-sS", "--max-time", "20", "-X", "POST", "-D", "/dev/stderr"])
            .arg("--cacert")
            .arg(self.kube.dir.join("pki/ca.crt"))
            .args(["-H", &format!("Authorization: Bearer {}", token.trim())])
            .args(["-H", "Content-Type: application/json"])
            .args(["--data-binary", body, "-o", "-", "-w", "\n%{http_code}"])
            .arg(format!("{}{path}", self.kube.server()))
            .output()
            .expect("run curl");
        let text = String::from_utf8_lossy(&out.stdout);
        let (reply, status) = text.rsplit_once('\n').unwrap_or(("", &text));
        assert_eq!(status.trim(), "201", "POST {path}: {reply}\n{body}");
        String::from_utf8_lossy(&out.stderr)
            .lines()
            .filter_map(|l| l.strip_prefix("warning: ").or(l.strip_prefix("Warning: ")))
            .map(|w| w.trim().to_owned())
            .collect()
    }

    /// Deletes a pod; its finalizers (if any) hold it in the API until
    /// [`RealNode::release`].
    pub fn delete_pod(&self, namespace: &str, name: &str) {
        self.kube
            .delete(&format!("/api/v1/namespaces/{namespace}/pods/{name}"));
    }

    /// Removes a pod's finalizers, so a deleted pod goes.
    pub fn release(&self, namespace: &str, name: &str) {
        self.kube.patch(
            &format!("/api/v1/namespaces/{namespace}/pods/{name}"),
            r#"{"metadata":{"finalizers":null}}"#,
        );
    }
}

/// A log followed by [`RealNode::follow_log`]; stops when dropped.
pub struct LogFollower {
    child: std::process::Child,
    file: PathBuf,
}

impl LogFollower {
    /// What has arrived so far.
    pub fn text(&self) -> String {
        std::fs::read_to_string(&self.file).unwrap_or_default()
    }

    /// Polls until the log contains `needle` (at most [`NODE_LIMIT`]).
    #[track_caller]
    pub fn await_text(&self, needle: &str) -> String {
        let end = Instant::now() + NODE_LIMIT;
        loop {
            let text = self.text();
            if text.contains(needle) {
                return text;
            }
            assert!(Instant::now() < end, "no {needle:?} in the log:\n{text}");
            thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for LogFollower {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// See [`RealNode::scoped`].
pub struct Scoped<'a> {
    node: &'a RealNode,
    namespace: String,
}

impl Drop for Scoped<'_> {
    fn drop(&mut self) {
        let ns = &self.namespace;
        self.node.kube.delete(&format!("/api/v1/namespaces/{ns}"));
        let end = Instant::now() + NODE_LIMIT;
        let path = format!("/api/v1/namespaces/{ns}/pods");
        while Instant::now() < end {
            let pods = self.node.get(&path).unwrap_or_default();
            if pods["items"]
                .as_array()
                .is_none_or(|items| items.is_empty())
            {
                return;
            }
            thread::sleep(Duration::from_millis(200));
        }
        eprintln!("namespace {ns}: pods still there after {NODE_LIMIT:?}");
    }
}

/// Asserts that Pod Security `restricted` found nothing wrong with the
/// pods but what this node needs: host networking (and host ports, which
/// it implies for declared ports).
#[track_caller]
pub fn assert_only_host_network_warned(warnings: &[String]) {
    for warning in warnings {
        if let Some((_, why)) = warning.split_once("violate PodSecurity") {
            let rest = why.replace("host namespaces (hostNetwork=true)", "");
            let rest = rest
                .split_once("hostPort (")
                .map_or(rest.clone(), |(a, _)| a.to_owned());
            assert!(
                !rest.contains('(') && !rest.contains(" must "),
                "Pod Security restricted complains of more than hostNetwork: {warning}"
            );
        }
    }
}

/// A TCP dependency on 127.0.0.1 that the test makes appear and vanish: the
/// port is chosen once and reused (`SO_REUSEADDR`), and while it is up a
/// thread accepts and closes every connection.
pub struct Dependency {
    /// The port on 127.0.0.1.
    pub port: u16,
    running: Option<(Arc<AtomicBool>, JoinHandle<()>)>,
}

impl Dependency {
    /// A free port, not listening yet: connections are refused.
    pub fn absent() -> Dependency {
        Dependency {
            port: free_port(),
            running: None,
        }
    }

    /// `tcp://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("tcp://127.0.0.1:{}", self.port)
    }

    /// Starts listening.
    pub fn up(&mut self) {
        assert!(self.running.is_none(), "already up");
        let socket = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
        socket.set_reuse_address(true).expect("SO_REUSEADDR");
        let addr: SocketAddr = format!("127.0.0.1:{}", self.port).parse().unwrap();
        socket
            .bind(&addr.into())
            .expect("bind the dependency's port");
        socket.listen(128).expect("listen");
        let listener: TcpListener = socket.into();
        listener.set_nonblocking(true).expect("nonblocking");
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = thread::spawn(move || {
            while !flag.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok(_) => {}
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        thread::sleep(Duration::from_millis(10))
                    }
                    Err(_) => break,
                }
            }
        });
        self.running = Some((stop, thread));
    }

    /// Stops listening: connections are refused again.
    pub fn down(&mut self) {
        if let Some((stop, thread)) = self.running.take() {
            stop.store(true, Ordering::SeqCst);
            let _ = thread.join();
        }
    }
}

impl Drop for Dependency {
    fn drop(&mut self) {
        self.down();
    }
}

/// A port on 127.0.0.1 that was free a moment ago (bound and released), for
/// a server that a pod starts.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// `GET path` on 127.0.0.1:port from the host: the status code (0 when
/// nothing answers).
pub fn http_status(port: u16, path: &str) -> u16 {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return 0;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return 0;
    }
    let mut reply = String::new();
    let _ = stream.read_to_string(&mut reply);
    reply
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}

impl Dependency {
    /// A dependency on a port the caller names (an example's own port), not
    /// listening yet. Panics when something else holds the port: a test
    /// then says so instead of passing against another server.
    pub fn at(port: u16) -> Dependency {
        let probe = TcpListener::bind(("127.0.0.1", port));
        assert!(
            probe.is_ok(),
            "port {port} on 127.0.0.1 is taken: {probe:?}"
        );
        Dependency {
            port,
            running: None,
        }
    }
}

/// An HTTP dependency on a fixed port of 127.0.0.1: answers every request
/// with `status`, and records each request line (`POST /quitquitquit`).
pub struct HttpDependency {
    requests: Arc<std::sync::Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

impl HttpDependency {
    /// Listens on `port` (which must be free) and answers `status`.
    pub fn start(port: u16, status: u16) -> HttpDependency {
        use std::io::{BufRead, BufReader, Write};
        let listener = TcpListener::bind(("127.0.0.1", port))
            .unwrap_or_else(|e| panic!("port {port} on 127.0.0.1: {e}"));
        listener.set_nonblocking(true).expect("nonblocking");
        let requests = Arc::new(std::sync::Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (seen, flag) = (requests.clone(), stop.clone());
        thread::spawn(move || {
            while !flag.load(Ordering::SeqCst) {
                let Ok((stream, _)) = listener.accept() else {
                    thread::sleep(Duration::from_millis(10));
                    continue;
                };
                let _ = stream.set_nonblocking(false);
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let mut reader = BufReader::new(&stream);
                let mut line = String::new();
                let _ = reader.read_line(&mut line);
                seen.lock().unwrap().push(line.trim_end().to_owned());
                loop {
                    let mut header = String::new();
                    if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
                        break;
                    }
                }
                let reply = format!(
                    "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
                let _ = (&stream).write_all(reply.as_bytes());
            }
        });
        HttpDependency { requests, stop }
    }

    /// The request lines received so far.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for HttpDependency {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// The cluster's DNS as far as the examples need it: on the nameserver the
/// node gives its pods (the `nameserver` line of `RDY_TEST_REALNODE`'s
/// `resolv.conf`), every name under `.svc` (`postgres.db.svc.cluster.local`,
/// `rdy.platform.svc`) is 127.0.0.1, where the test's dependencies listen;
/// any other name does not exist. A stand-in for cluster DNS, not a
/// resolver: one A record per `.svc` name, nothing else.
pub struct DnsStub {
    stop: Arc<AtomicBool>,
}

impl DnsStub {
    /// Answers on the node's nameserver address, port 53 (UDP).
    pub fn start() -> DnsStub {
        let dir = std::env::var_os("RDY_TEST_REALNODE")
            .map(PathBuf::from)
            .expect("a node");
        let conf =
            std::fs::read_to_string(dir.join("resolv.conf")).expect("the node's resolv.conf");
        let server = conf
            .lines()
            .find_map(|l| l.strip_prefix("nameserver "))
            .expect("a nameserver line")
            .trim()
            .to_owned();
        let ip: std::net::Ipv4Addr = server.parse().expect("an IPv4 nameserver");
        assert!(
            ip.is_loopback(),
            "the node's nameserver {ip} is not on loopback"
        );
        let socket = std::net::UdpSocket::bind((ip, 53)).expect("bind the node's nameserver");
        socket
            .set_read_timeout(Some(Duration::from_millis(100)))
            .expect("timeout");
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        thread::spawn(move || {
            let mut buf = [0u8; 512];
            while !flag.load(Ordering::SeqCst) {
                let Ok((n, peer)) = socket.recv_from(&mut buf) else {
                    continue;
                };
                if let Some(reply) = dns_answer(&buf[..n]) {
                    let _ = socket.send_to(&reply, peer);
                }
            }
        });
        DnsStub { stop }
    }
}

impl Drop for DnsStub {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        thread::sleep(Duration::from_millis(150));
    }
}

/// The reply to one query (RFC 1035 §4.1): the question echoed, and for an
/// A question about a `.svc` name one answer, 127.0.0.1 (TTL 5); NXDOMAIN
/// for other names, no answer for other types.
fn dns_answer(query: &[u8]) -> Option<Vec<u8>> {
    let mut at = 12;
    let mut labels = Vec::new();
    loop {
        let len = *query.get(at)? as usize;
        at += 1;
        if len == 0 {
            break;
        }
        labels.push(String::from_utf8_lossy(query.get(at..at + len)?).to_lowercase());
        at += len;
    }
    let question = query.get(12..at + 4)?;
    let qtype = u16::from_be_bytes([query[at], query[at + 1]]);
    let svc = labels.iter().any(|l| l == "svc");
    let answer = svc && qtype == 1;
    let rcode = if svc { 0 } else { 3 };
    let mut reply = vec![
        query[0],
        query[1],
        0x81,
        0x80 | rcode,
        0,
        1,
        0,
        u8::from(answer),
        0,
        0,
        0,
        0,
    ];
    reply.extend_from_slice(question);
    if answer {
        reply.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 5, 0, 4, 127, 0, 0, 1]);
    }
    Some(reply)
}

/// An example of `examples/` made runnable on this node, and nothing more:
/// every pod on this node (`nodeName`) with `hostNetwork: true` (there is no
/// pod network); images from the node's store (no registry: rdy's image for
/// rdy containers, the probe image for a container that runs `/rdy` or
/// whose probe does, the stand-in app `/pause` for any other, whose own
/// arguments are dropped); `--listen :PORT` on 127.0.0.1 (with host
/// networking, `:PORT` would listen on every interface of the machine);
/// one replica (two would bind the same host ports); and rdy containers
/// told the API server's loopback address (`KUBERNETES_SERVICE_HOST`/
/// `_PORT`), since no Service IP routes here.
pub fn adapt_example(node: &RealNode, file: &str) -> Vec<Value> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(file);
    let text = std::fs::read_to_string(&path).expect("read the example");
    let mut docs = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(&text) {
        let yaml: serde_yaml::Value =
            serde_yaml::with::singleton_map_recursive::deserialize(doc).expect("YAML");
        let mut value = serde_json::to_value(yaml).expect("YAML as JSON");
        if value.is_null() {
            continue;
        }
        if value["spec"]["replicas"].as_u64().is_some_and(|n| n > 1) {
            value["spec"]["replicas"] = 1.into();
        }
        let spec = if value["kind"] == "Pod" {
            Some(&mut value["spec"])
        } else if value["spec"]["template"]["spec"].is_object() {
            Some(&mut value["spec"]["template"]["spec"])
        } else {
            None
        };
        if let Some(spec) = spec {
            spec["nodeName"] = node.name.clone().into();
            spec["hostNetwork"] = true.into();
            for list in ["initContainers", "containers"] {
                for container in spec[list].as_array_mut().into_iter().flatten() {
                    adapt_container(node, container);
                }
            }
        }
        docs.push(value);
    }
    docs
}

fn adapt_container(node: &RealNode, container: &mut Value) {
    let runs_rdy = |v: &Value| {
        v.as_array()
            .and_then(|a| a.first())
            .is_some_and(|c| c == "/rdy")
    };
    let probe_runs_rdy = ["readinessProbe", "livenessProbe", "startupProbe"]
        .iter()
        .any(|p| runs_rdy(&container[p]["exec"]["command"]));
    let rdy_image = container["image"].as_str().unwrap_or("").contains("/rdy:");
    let (image, is_rdy) = if rdy_image {
        (RDY_IMAGE, true)
    } else if runs_rdy(&container["command"]) {
        (PROBE_IMAGE, true)
    } else {
        let object = container.as_object_mut().expect("a container");
        object.remove("args");
        object.insert("command".into(), serde_json::json!(["/pause"]));
        (
            if probe_runs_rdy {
                PROBE_IMAGE
            } else {
                APP_IMAGE
            },
            false,
        )
    };
    container["image"] = image.into();
    container["imagePullPolicy"] = "Never".into();
    if let Some(args) = container["args"].as_array_mut() {
        for i in 1..args.len() {
            let listen = args[i - 1] == "--listen";
            if let (true, Some(port)) = (listen, args[i].as_str().and_then(|a| a.strip_prefix(':')))
            {
                args[i] = format!("127.0.0.1:{port}").into();
            }
        }
    }
    if is_rdy {
        let env = container["env"].as_array().cloned().unwrap_or_default();
        let mut env: Vec<Value> = env;
        env.push(serde_json::json!({"name": "KUBERNETES_SERVICE_HOST", "value": "127.0.0.1"}));
        env.push(serde_json::json!({"name": "KUBERNETES_SERVICE_PORT", "value": node.api_port().to_string()}));
        container["env"] = env.into();
    }
}

impl RealNode {
    /// Creates adapted objects (see [`adapt_example`]) in `namespace`; the
    /// API server's warnings.
    pub fn apply_values(&self, namespace: &str, docs: &[Value]) -> Vec<String> {
        docs.iter()
            .flat_map(|d| self.create(namespace, d.clone()))
            .collect()
    }

    /// Polls (every 200 ms, at most [`NODE_LIMIT`]) until a pod matching
    /// `selector` satisfies `done`; returns it.
    #[track_caller]
    pub fn await_selected(
        &self,
        namespace: &str,
        selector: &str,
        what: &str,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        let end = Instant::now() + NODE_LIMIT;
        let path = format!("/api/v1/namespaces/{namespace}/pods?labelSelector={selector}");
        loop {
            let pods = self.get(&path).unwrap_or_default();
            let items = pods["items"].as_array().cloned().unwrap_or_default();
            if let Some(pod) = items.iter().find(|p| done(p)) {
                return pod.clone();
            }
            assert!(
                Instant::now() < end,
                "{namespace}: no pod {selector} {what}; pods: {}",
                Value::from(
                    items
                        .iter()
                        .map(|p| p["status"].clone())
                        .collect::<Vec<_>>()
                )
            );
            thread::sleep(Duration::from_millis(200));
        }
    }

    /// Deletes `namespace` when the returned guard drops, and waits
    /// (bounded) until the node has stopped its pods: with host networking
    /// a pod's declared ports are host ports, which the kubelet refuses to
    /// give a second pod (`Predicate NodePorts failed`) while the first
    /// one runs.
    pub fn scoped<'a>(&'a self, namespace: &str) -> Scoped<'a> {
        Scoped {
            node: self,
            namespace: namespace.to_owned(),
        }
    }

    /// The name of a pod object.
    pub fn name_of(pod: &Value) -> String {
        pod["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}
