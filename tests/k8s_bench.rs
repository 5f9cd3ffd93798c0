//! Kubernetes benchmark against the fake API server; not part of the test
//! run (`#[ignore]`). Run it with `bench/k8s.sh`:
//!
//! - time from the server emitting the "ready" event to `rdy wait`'s exit;
//! - API requests made during a 60 s wait on an object that becomes ready
//!   at the end.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::kube::fixtures::deployment;
use common::kube::{FakeApi, Verb, collection};

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
