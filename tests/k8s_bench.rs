//! Kubernetes benchmark against the fake API server; not part of the test
//! run (`#[ignore]`). Run it with `bench/k8s.sh`:
//!
//! - time from the server emitting the "ready" event to `rdy wait`'s exit;
//! - API requests made during a 60 s wait on an object that becomes ready
//!   at the end;
//! - `rdy serve` answering `/api/healthz/ns/deployment/web` from its watch
//!   cache under `wrk` at 64 connections, next to `/self`, and the API
//!   requests that run made.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::Rdy;
use common::kube::fixtures::deployment;
use common::kube::{FakeApi, Verb, collection};
use common::serve::Server;

/// `rdy wait -q k8s:deployment/web`, waited for with a blocking `wait`
/// so the measurement has no polling granularity.
fn rdy_wait(kubeconfig: &std::path::Path) -> std::process::Child {
    Command::new(common::bin())
        .args(["wait", "-q", "k8s:deployment/web"])
        .env_clear()
        .env("KUBECONFIG", kubeconfig)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn rdy")
}

#[test]
#[ignore = "benchmark: run bench/k8s.sh"]
fn ready_event_to_exit() {
    let api = FakeApi::start();
    let kubeconfig = api.kubeconfig().write(&common::temp_dir("bench"));
    let deployments = collection("Deployment", "default");
    let mut samples = Vec::new();
    for round in 0..25 {
        api.apply(deployment("web", "default").replicas(3).updated(round % 3));
        let mut child = rdy_wait(&kubeconfig);
        api.await_watchers(&deployments, 1);
        let emitted = Instant::now();
        api.apply(deployment("web", "default").replicas(3));
        let status = child.wait().expect("wait");
        samples.push(emitted.elapsed());
        assert!(status.success());
        api.await_no_watchers(&deployments);
        api.delete("Deployment", "default", "web");
    }
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "ready event -> rdy wait exit over {} runs: median {:.2} ms, min {:.2} ms, max {:.2} ms (bar: median <= 50 ms)",
        samples.len(),
        ms(samples[samples.len() / 2]),
        ms(samples[0]),
        ms(samples[samples.len() - 1])
    );
}

#[test]
#[ignore = "benchmark: run bench/k8s.sh"]
fn requests_during_a_minute_long_wait() {
    let api = FakeApi::start();
    let kubeconfig = api.kubeconfig().write(&common::temp_dir("bench"));
    let deployments = collection("Deployment", "default");
    api.apply(deployment("web", "default").replicas(3).updated(1));
    let started = Instant::now();
    let mut child = rdy_wait(&kubeconfig);
    api.await_watchers(&deployments, 1);
    std::thread::sleep(Duration::from_secs(60).saturating_sub(started.elapsed()));
    api.apply(deployment("web", "default").replicas(3));
    assert!(child.wait().expect("wait").success());
    let lists = api.count(Verb::List, &deployments);
    let watches = api.count(Verb::Watch, &deployments);
    println!(
        "API requests during a {:.0} s wait: {} ({} LIST + {} WATCH) (bar: <= 3; a 2 s poller makes 30)",
        started.elapsed().as_secs_f64(),
        lists + watches,
        lists,
        watches
    );
}

/// Requests per second and p99 latency from `wrk --latency` output.
#[derive(Debug)]
struct Load {
    per_second: f64,
    p99: String,
    errors: bool,
}

/// `wrk -t2 -c64 -d5s --latency URL`.
fn wrk(url: &str) -> Load {
    let out = Command::new("wrk")
        .args(["-t2", "-c64", "-d5s", "--latency", url])
        .output()
        .expect("wrk is installed (apt install wrk)");
    let text = String::from_utf8_lossy(&out.stdout);
    let word_after = |label: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(label))
            .map(|rest| rest.trim().to_owned())
            .unwrap_or_default()
    };
    Load {
        per_second: word_after("Requests/sec:").parse().unwrap_or(0.0),
        p99: word_after("99%"),
        errors: text.contains("Non-2xx") || text.contains("Socket errors"),
    }
}

/// The run with the median requests per second.
fn median(mut runs: Vec<Load>) -> Load {
    runs.sort_by(|a, b| a.per_second.total_cmp(&b.per_second));
    runs.swap_remove(runs.len() / 2)
}

#[test]
#[ignore = "benchmark: run bench/k8s.sh"]
fn object_health_from_the_cache_under_load() {
    let api = FakeApi::start();
    api.apply(deployment("web", "ns").replicas(3));
    let server = Server::with(api.kubeconfig().configure(Rdy::new(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--expose",
        "ns",
    ])));
    let base = format!("http://{}", server.addr);
    let object = format!("{base}/api/healthz/ns/deployment/web");
    assert_eq!(server.get("/api/healthz/ns/deployment/web").status, 200);
    // Alternate the two paths, three runs each, and keep each path's median
    // run: other processes on a shared machine move single runs a lot.
    let before = api.requests().len();
    let (mut cached, mut live) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        cached.push(wrk(&object));
        live.push(wrk(&format!("{base}/self")));
    }
    let made = api.requests().len() - before;
    let (cached, live) = (median(cached), median(live));
    let deployments = collection("Deployment", "ns");
    println!(
        "object health from the cache @64 connections, median of 3: {:.0} req/s, p99 {}; /self {:.0} req/s, p99 {} (bar: within 20 %: {:.0} %)",
        cached.per_second,
        cached.p99,
        live.per_second,
        live.p99,
        100.0 * cached.per_second / live.per_second
    );
    println!(
        "API requests for the object: {} LIST + {} WATCH in all, {} during the six wrk runs (bar: 2)",
        api.count(Verb::List, &deployments),
        api.count(Verb::Watch, &deployments),
        made
    );
    assert!(!cached.errors && !live.errors, "{cached:?} {live:?}");
}
