//! `redis://` and `rediss://` targets against a real redis-server on
//! loopback.

mod common;

use common::Rdy;
use common::databases::{
    a_ca_certificate_is_refused_in_words, free_port, redis, redis_command, verified_by_ca_file,
};

#[test]
fn a_running_server_is_ready() {
    let port = free_port();
    let Some(_server) = redis("a_running_server_is_ready", port, None, &[]) else {
        return;
    };
    let target = format!("redis://127.0.0.1:{port}");
    Rdy::new(&["check", &target])
        .run()
        .expect(0, "127.0.0.1 is ready ✓");
}

#[test]
fn a_stopped_server_is_refused() {
    let out = Rdy::new(&["check", &format!("redis://127.0.0.1:{}", free_port())]).run();
    out.expect(1, "error=\"connection refused\"");
}

#[test]
fn a_server_started_during_the_wait() {
    let port = free_port();
    let target = format!("redis://127.0.0.1:{port}");
    let mut wait = Rdy::new(&["wait", "-t", "30s", "-i", "100ms", &target]).spawn();
    wait.wait_for("connection refused");
    let Some(_server) = redis("a_server_started_during_the_wait", port, None, &[]) else {
        return;
    };
    wait.finish().expect(0, "127.0.0.1 is ready ✓");
}

#[test]
fn a_server_with_requirepass_is_up_and_the_password_is_never_logged() {
    let port = free_port();
    let test = "a_server_with_requirepass_is_up_and_the_password_is_never_logged";
    let Some(_server) = redis(test, port, None, &["--requirepass", "s3cret-pw"]) else {
        return;
    };
    let target = format!("redis://127.0.0.1:{port}");
    // NOAUTH: up, and wants a password.
    Rdy::new(&["check", &target]).run().expect(0, "is ready ✓");
    // The right password, then a wrong one (WRONGPASS: still up).
    for password in ["s3cret-pw", "wrong-pw"] {
        let out = Rdy::new(&["check", "-v", &target])
            .env("REDISCLI_AUTH", password)
            .run();
        out.expect(0, "is ready ✓");
        assert!(!out.stderr.contains(password), "{}", out.stderr);
    }
    let dir = common::temp_dir("redis-pw");
    let file = common::write_file(&dir, "password", b"s3cret-pw\n");
    let with_file = format!("{target}?user=default&password_file={}", file.display());
    let out = Rdy::new(&["check", "-v", &with_file]).run();
    out.expect(0, "is ready ✓");
    assert!(!out.stderr.contains("s3cret-pw"), "{}", out.stderr);
}

/// A real `LOADING` state: a dump of 2,000 keys loaded with redis-server's
/// (hidden, test-suite) `key-load-delay` of 5 ms per key takes about 10 s,
/// and `loading-process-events-interval-bytes 1024` lets it answer
/// clients meanwhile. It also requires a password, which the probe needs
/// to see past NOAUTH.
#[test]
fn a_server_loading_its_dataset_is_not_ready_until_loaded() {
    let test = "a_server_loading_its_dataset_is_not_ready_until_loaded";
    let port = free_port();
    let Some(first) = redis(test, port, None, &[]) else {
        return;
    };
    let value = "v".repeat(100);
    let mut mset = vec!["MSET".to_owned()];
    for i in 0..2000 {
        mset.push(format!("key:{i}"));
        mset.push(value.clone());
    }
    let args: Vec<&str> = mset.iter().map(String::as_str).collect();
    assert_eq!(redis_command(port, &args), "+OK");
    assert_eq!(redis_command(port, &["SAVE"]), "+OK");
    let dir = first.stop_keeping_dir();
    let port = free_port();
    let loading = [
        "--key-load-delay",
        "5000",
        "--loading-process-events-interval-bytes",
        "1024",
        "--requirepass",
        "pw",
    ];
    let Some(_server) = redis(test, port, Some(dir), &loading) else {
        return;
    };
    let target = format!("redis://127.0.0.1:{port}");
    // Redis checks the password before the loading state: without one the
    // answer is NOAUTH, which the ready rule counts as up.
    Rdy::new(&["check", &target]).run().expect(0, "is ready ✓");
    // With the password, AUTH (allowed while loading) lets PING tell.
    Rdy::new(&["check", &target])
        .env("REDISCLI_AUTH", "pw")
        .run()
        .expect(1, "LOADING Redis is loading the dataset in memory");
    let mut wait = Rdy::new(&["wait", "-t", "30s", "-i", "200ms", &target])
        .env("REDISCLI_AUTH", "pw")
        .spawn();
    wait.wait_for("LOADING");
    wait.finish().expect(0, "127.0.0.1 is ready ✓");
}

/// Starts `redis-server` with TLS only, presenting the certificate of `pki`.
fn redis_tls(test: &str, port: u16, pki: &common::pki::Pki) -> Option<common::databases::Server> {
    let dir = common::temp_dir("redis-tls");
    let cert = common::write_file(&dir, "cert.pem", pki.cert_pem.as_bytes());
    let key = common::write_file(&dir, "key.pem", pki.key_pem.as_bytes());
    let tls = [
        // Plain port off (it comes after redis()'s own --port), TLS on it.
        "--port".to_owned(),
        "0".to_owned(),
        "--tls-port".to_owned(),
        port.to_string(),
        "--tls-cert-file".to_owned(),
        cert.display().to_string(),
        "--tls-key-file".to_owned(),
        key.display().to_string(),
        "--tls-ca-cert-file".to_owned(),
        pki.ca_file.display().to_string(),
        "--tls-auth-clients".to_owned(),
        "no".to_owned(),
    ];
    let args: Vec<&str> = tls.iter().map(String::as_str).collect();
    redis(test, port, None, &args)
}

#[test]
fn rediss_verifies_the_server_like_https() {
    let test = "rediss_verifies_the_server_like_https";
    let pki = common::pki::pki(&["localhost"]);
    let port = free_port();
    let Some(_server) = redis_tls(test, port, &pki) else {
        return;
    };
    let target = format!("rediss://localhost:{port}");
    verified_by_ca_file(&target, &pki);
    Rdy::new(&["check", &target, "-k"])
        .run()
        .expect(0, "localhost is ready ✓");
    // Plain redis:// to a TLS port: the server never answers PING.
    Rdy::new(&["check", &format!("redis://localhost:{port}")])
        .run()
        .expect(1, "not ready");
    let ca = common::pki::ca_as_server(&["localhost"]);
    let ca_port = free_port();
    let Some(_ca_server) = redis_tls(test, ca_port, &ca) else {
        return;
    };
    a_ca_certificate_is_refused_in_words(&format!("rediss://localhost:{ca_port}"), &ca);
}

#[test]
fn bad_targets_are_usage_errors() {
    let cases = [
        (
            "redis://:pw@cache",
            "give the password in REDISCLI_AUTH or password_file=FILE",
        ),
        (
            "redis://cache/0",
            "expected redis://host[:port][?user=U&password_file=FILE], without a path",
        ),
        ("redis://cache?db=1", "unknown option \"db\""),
        ("redis://cache?user=app", "user= needs a password"),
        (
            "redis://cache?password_file=/nonexistent",
            "password_file=/nonexistent: cannot read it",
        ),
        ("mysql://db?user=x", "mysql://HOST[:3306] takes no options"),
    ];
    for (target, says) in cases {
        Rdy::new(&["check", target]).run().expect(2, says);
    }
    Rdy::new(&["check", "redis://cache", "-k"])
        .run()
        .expect(2, "-k applies to https://, grpcs://, postgres:// and rediss:// targets, but \"redis://cache\" is a redis target");
}

#[test]
fn serve_reports_redis_targets() {
    let port = free_port();
    let Some(_server) = redis("serve_reports_redis_targets", port, None, &[]) else {
        return;
    };
    let up = format!("redis://127.0.0.1:{port}");
    let down = format!("redis://127.0.0.1:{}", free_port());
    let serve = common::serve::Server::start(&[&up, "--name", "cache", &down, "--name", "gone"]);
    let all = serve.get("/all");
    assert_eq!(all.status, 503, "{}", all.body);
    assert!(all.body.contains("ok   cache"), "{}", all.body);
    assert!(
        all.body.contains("fail gone: connection refused"),
        "{}",
        all.body
    );
    assert_eq!(serve.get("/ready/cache").status, 200);
}
