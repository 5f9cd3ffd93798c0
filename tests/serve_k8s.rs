//! `rdy serve` in front of Kubernetes, against the fake API server: the pod
//! health sidecar, the object health API, the seed tools' variables, the
//! exposure rule, and what the API server sees (one LIST and one WATCH per
//! object, however many HTTP requests).

mod common;

use common::kube::fixtures::{daemonset, deployment, endpoint_slice, job, pod, statefulset};
use common::kube::{FakeApi, Verb, collection};
use common::serve::{Client, Server, serve_args};
use common::{Rdy, eventually};

const NS: &str = "default";

/// `rdy serve -v --listen 127.0.0.1:0 ARGS` configured for the fake.
fn serve(api: &FakeApi, args: &[&str]) -> Rdy {
    api.kubeconfig()
        .configure(Rdy::new(&serve_args("127.0.0.1:0", args)))
}

/// Polls `path` until it answers `status` (at most 500 times, 5 s).
fn until_status(server: &Server, path: &str, status: u16) -> bool {
    eventually(|| server.get(path).status == status)
}

#[test]
fn a_pod_sidecar_answers_from_one_watch() {
    let api = FakeApi::start();
    api.apply(pod("web-0", NS));
    let server =
        Server::with(serve(&api, &["--cache-ttl", "0", "k8s:pod/self"]).env("HOSTNAME", "web-0"));
    for _ in 0..50 {
        let response = server.get("/all");
        assert_eq!(response.status, 200, "{}", response.body);
    }
    api.apply(pod("web-0", NS).not_ready());
    assert!(until_status(&server, "/all", 503), "not ready is seen");
    assert!(
        server
            .get("/all")
            .body
            .contains("Waiting for pod \"web-0\" to be ready")
    );
    api.apply(pod("web-0", NS));
    assert!(until_status(&server, "/all", 200), "ready again is seen");
    let pods = collection("Pod", NS);
    assert_eq!(
        api.count(Verb::List, &pods),
        1,
        "no request per HTTP request"
    );
    assert_eq!(api.count(Verb::Watch, &pods), 1);
}

#[test]
fn the_health_sidecars_variables_work_unchanged() {
    let api = FakeApi::start();
    api.apply(pod("web-0", NS).crash_loop());
    let server = Server::with(
        serve(&api, &["--cache-ttl", "0"])
            .env("HTTP_HEALTHCHECK_SIDECAR_TARGET_POD_OVERRIDE", "web-0")
            .env("HTTP_HEALTHCHECK_SIDECAR_TARGET_CONTAINER", "app"),
    );
    let response = server.get("/health");
    assert_eq!(response.status, 503, "{}", response.body);
    assert!(
        response.body.contains("CrashLoopBackOff"),
        "{}",
        response.body
    );
    api.apply(pod("web-0", NS));
    assert!(until_status(&server, "/health", 200));
    drop(server);

    let forced = Server::with(
        serve(&api, &[])
            .env("HOSTNAME", "web-0")
            .env("HTTP_HEALTHCHECK_SIDECAR_STATE_OVERRIDE", "false"),
    );
    let response = forced.get("/health");
    assert_eq!(
        (response.status, response.body.as_str()),
        (503, "forced unready\n")
    );
}

#[test]
fn object_health_for_every_kind() {
    let api = FakeApi::start();
    api.apply(deployment("web", NS).replicas(3));
    api.apply(deployment("rolling", NS).replicas(3).updated(1));
    api.apply(statefulset("db", NS).replicas(3).ready(1));
    api.apply(daemonset("agent", NS).desired(2));
    api.apply(job("migrate", NS).failed());
    api.apply(job("done", NS).complete());
    api.apply(endpoint_slice("api-x", NS, "api").ready("10.0.0.1"));
    api.apply(endpoint_slice("empty-x", NS, "empty"));
    api.apply(pod("p", NS).not_ready());
    let server = Server::with(serve(&api, &[]));
    let cases = [
        (
            "deployment/web",
            200,
            "deployment \"web\" successfully rolled out",
        ),
        (
            "deployment/rolling",
            503,
            "1 out of 3 new replicas have been updated",
        ),
        ("deploy/missing", 404, "not found"),
        ("statefulset/db", 503, "Waiting for 2 pods to be ready..."),
        ("daemonset/agent", 200, "successfully rolled out"),
        ("job/migrate", 503, "BackoffLimitExceeded"),
        ("job/done", 200, "job \"done\" completed"),
        ("service/api", 200, "has 1 ready endpoint"),
        ("svc/empty", 503, "0 of 0 ready"),
        ("service/none", 404, "not found"),
        ("pod/p", 503, "Waiting for pod \"p\" to be ready"),
        ("pod/gone", 404, "not found"),
    ];
    for (object, status, says) in cases {
        let response = server.get(&format!("/api/healthz/{NS}/{object}"));
        assert_eq!(response.status, status, "{object}: {}", response.body);
        assert!(response.body.contains(says), "{object}: {}", response.body);
    }
    let json = server
        .get("/api/healthz/default/deployment/web?format=json")
        .json();
    assert_eq!(json["healthy"], true);
    assert_eq!(json["kind"], "deployment");
    assert_eq!(json["namespace"], "default");
    let failed = server.get("/api/healthz/default/job/migrate");
    assert_eq!(
        failed.header("Rdy-Outcome"),
        Some("failed"),
        "failed for good"
    );
    let waiting = server.get("/api/healthz/default/deployment/rolling");
    assert_eq!(waiting.header("Rdy-Outcome"), None, "may still roll out");
    let mut client = Client::new(&server);
    let head = client.request("HEAD", "/api/healthz/default/job/migrate", "");
    assert_eq!((head.status, head.body.as_str()), (503, ""));
    assert_eq!(server.get("/api/healthz/default/cronjob/x").status, 404);
    // Issue 19 item 3: the collection, every object with its verdict.
    let all = server.get("/api/healthz/default/deployment");
    assert_eq!(all.status, 503, "one rolls out still: {}", all.body);
    assert!(
        all.body.contains("fail deployment/rolling: "),
        "{}",
        all.body
    );
    let listed = server.get("/api/healthz/default/deployment?format=json");
    let json: serde_json::Value = serde_json::from_str(&listed.body).expect(&listed.body);
    let names: Vec<&str> = json["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .filter_map(|o| o["name"].as_str())
        .collect();
    assert!(names.contains(&"rolling") && names.len() >= 2, "{names:?}");
    assert_eq!(server.get("/api/healthz/default/service").status, 404);
}

/// The server/client split: an initContainer without permissions waits on
/// the server's answer, and a failed Job ends its wait at once with exit 3,
/// as `rdy wait k8s:job/migrate` would, instead of at `--timeout`.
#[test]
fn a_client_of_the_split_stops_at_once_on_a_failed_job() {
    let api = FakeApi::start();
    api.apply(job("migrate", NS).failed());
    api.apply(job("seed", NS).running());
    let server = Server::with(serve(&api, &["k8s:job/migrate"]));
    let url = |path: &str| format!("http://{}{path}", server.addr);
    Rdy::new(&[
        "wait",
        "--timeout",
        "30s",
        &url("/api/healthz/default/job/migrate"),
    ])
    .run()
    .expect(3, "BackoffLimitExceeded");
    Rdy::new(&["check", &url("/api/healthz/default/job/seed")])
        .run()
        .expect(1, "status 503, expected 200");
    let all = server.get("/all");
    assert_eq!(
        (all.status, all.header("Rdy-Outcome")),
        (503, Some("failed"))
    );
    Rdy::new(&["wait", "--timeout", "30s", &url("/all")])
        .run()
        .expect(3, "BackoffLimitExceeded");
}

#[test]
fn a_thousand_requests_cost_one_list_and_one_watch() {
    let api = FakeApi::start();
    api.apply(deployment("web", NS).replicas(1));
    let server = Server::with(serve(&api, &[]));
    let mut client = Client::new(&server);
    for _ in 0..1000 {
        let response = client.get("/api/healthz/default/deployment/web");
        assert_eq!(response.status, 200, "{}", response.body);
    }
    let deployments = collection("Deployment", NS);
    assert_eq!(api.count(Verb::List, &deployments), 1);
    assert_eq!(api.count(Verb::Watch, &deployments), 1);
}

#[test]
fn only_exposed_namespaces_and_kinds_are_answered() {
    let api = FakeApi::start();
    api.apply(deployment("web", NS).replicas(1));
    api.apply(deployment("web", "other").replicas(1));
    api.apply(job("nightly", "other").complete());
    let own = Server::with(serve(&api, &[]));
    assert_eq!(own.get("/api/healthz/default/deployment/web").status, 200);
    let hidden = own.get("/api/healthz/other/deployment/web");
    assert_eq!(
        (hidden.status, hidden.body.as_str()),
        (404, "fail deployment/web: not found\n")
    );
    drop(own);
    let exposed = Server::with(serve(&api, &["--expose", "other/deployment"]));
    assert_eq!(exposed.get("/api/healthz/other/deployment/web").status, 200);
    assert_eq!(exposed.get("/api/healthz/other/job/nightly").status, 404);
    assert_eq!(
        exposed.get("/api/healthz/default/deployment/web").status,
        404
    );
    // Nothing outside the exposure was ever asked of the API server.
    assert_eq!(api.count(Verb::List, &collection("Job", "other")), 0);
}

#[test]
fn the_heartbeats_token_rate_limit_and_variables() {
    let api = FakeApi::start();
    api.apply(deployment("web", NS).replicas(1));
    let server = Server::with(
        serve(&api, &[])
            .env("AUTH_TOKEN_BASIC", "s3cret")
            .env("RATE_LIMIT", "4")
            .env("RATE_LIMIT_PERIOD", "1h")
            .env("LOG_LEVEL", "debug"),
    );
    let path = "/api/healthz/default/deployment/web";
    assert_eq!(server.get(path).status, 401);
    assert_eq!(server.get(&format!("{path}?token=wrong")).status, 403);
    assert_eq!(server.get(&format!("{path}?token=s3cret")).status, 200);
    let mut client = Client::new(&server);
    assert_eq!(
        client
            .request("GET", path, "Authorization: Basic s3cret\r\n")
            .status,
        200
    );
    assert_eq!(
        client
            .request("GET", path, "Authorization: Bearer s3cret\r\n")
            .status,
        200
    );
    assert_eq!(
        client
            .request("HEAD", path, "Authorization: Basic s3cret\r\n")
            .status,
        200
    );
    let limited = client.request("GET", path, "Authorization: Basic s3cret\r\n");
    assert_eq!(limited.status, 429);
    assert!(limited.header("retry-after").is_some());
    assert_eq!(server.get("/self").status, 200, "/self is exempt");
    let out = { server }.stop();
    assert!(
        out.stderr.contains("msg=Request"),
        "LOG_LEVEL=debug logs requests"
    );
    assert!(!out.stderr.contains("s3cret"), "the token is never logged");
}

#[test]
fn the_port_variable_listens_on_every_interface() {
    let api = FakeApi::start();
    api.apply(deployment("web", NS).replicas(1));
    let mut run = serve(&api, &[]).env("PORT", "0").spawn();
    // PORT=0: the kernel picks; the Serving line says which.
    let line = run.wait_for("msg=Serving");
    let port = common::serve::field(&line, "listen")
        .rsplit(':')
        .next()
        .unwrap()
        .parse::<u16>()
        .unwrap();
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    assert_eq!(
        common::serve::get(addr, "/api/healthz/default/deployment/web").status,
        200
    );
    run.signal(nix::sys::signal::Signal::SIGTERM);
    assert_eq!(run.finish().code, Some(143));
}

#[test]
fn the_api_server_going_away_is_503_and_coming_back_recovers() {
    let api = FakeApi::start();
    api.apply(deployment("web", NS).replicas(1));
    let open = Server::with(serve(&api, &["--cache-ttl", "0"]));
    let guarded = Server::with(serve(&api, &["--cache-ttl", "0"]).env("RDY_TOKEN", "t"));
    let path = "/api/healthz/default/deployment/web";
    assert_eq!(open.get(path).status, 200);
    assert_eq!(open.get("/healthz").status, 200);
    assert_eq!(guarded.get(&format!("{path}?token=t")).status, 200);
    api.pause();
    assert!(until_status(&open, path, 503), "a lost API server is 503");
    assert!(until_status(&open, "/healthz", 503));
    let generic = open.get(path);
    assert_eq!(
        generic.body,
        "fail deployment/web: Kubernetes API unavailable\n"
    );
    assert!(
        eventually(|| guarded
            .get(&format!("{path}?token=t"))
            .body
            .contains("API server:")),
        "callers with the token learn why"
    );
    api.resume();
    assert!(until_status(&open, path, 200), "the watch comes back");
    assert!(until_status(&open, "/healthz", 200));
    assert_eq!(open.get("/self").status, 200, "the server never stopped");
}

#[test]
fn the_number_of_watched_collections_is_bounded() {
    let api = FakeApi::start();
    api.apply(deployment("a", NS).replicas(1));
    api.apply(deployment("b", NS).replicas(1));
    api.apply(job("nightly", NS).complete());
    let server = Server::with(serve(&api, &["--max-watches", "1"]));
    assert_eq!(server.get("/api/healthz/default/deployment/a").status, 200);
    // Issue 19 item 1: the same collection, the same watch.
    assert_eq!(server.get("/api/healthz/default/deployment/b").status, 200);
    let refused = server.get("/api/healthz/default/job/nightly");
    assert_eq!(refused.status, 503, "{}", refused.body);
    // Issue 13 item 9: the local limit, not "Kubernetes API unavailable",
    // and what to raise.
    assert_eq!(
        refused.body,
        "fail job/nightly: this server already watches as many collections as --max-watches allows (1); raise --max-watches\n"
    );
    assert_eq!(api.count(Verb::List, &collection("Deployment", NS)), 1);
    assert_eq!(api.count(Verb::List, &collection("Job", NS)), 0);
}

#[test]
fn serve_without_targets_needs_a_kubernetes_configuration() {
    let dir = common::temp_dir("no-kube");
    Rdy::new(&["serve", "--listen", "127.0.0.1:0"])
        .env("HOME", dir.to_str().unwrap())
        .run()
        .expect(
            2,
            "serve: no targets given, and /api/healthz has no Kubernetes configuration",
        );
    Rdy::new(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--expose",
        "Bad",
        "127.0.0.1:1",
    ])
    .run()
    .expect(2, "--expose: invalid value \"Bad\"");
}

/// With a Kubernetes configuration and no targets, `/all` has nothing to
/// report: 503 with the reason, never a 200 a load balancer would take for
/// ready forever; the start-up line counts the user's targets (none).
#[test]
fn serve_without_targets_answers_all_with_503() {
    let api = FakeApi::start();
    let server = Server::with(serve(&api, &[]));
    let all = server.get("/all");
    assert_eq!(all.status, 503, "{}", all.body);
    assert!(all.body.contains("no targets"), "{}", all.body);
    assert_eq!(server.get("/healthz").status, 200);
}
