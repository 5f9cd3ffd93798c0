//! `postgres://` targets against a real PostgreSQL on loopback, run as
//! `nobody` from a fresh cluster per test.

mod common;

use common::databases::{
    PgData, Postgres, a_ca_certificate_is_refused_in_words, free_port, verified_by_ca_file,
};
use common::{Rdy, is_root, skip};

/// PostgreSQL refuses to run as root, so the harness needs root to switch
/// to `nobody`; CI runs as root.
fn cluster(test: &str) -> Option<PgData> {
    if !is_root() {
        skip(test, "needs root to run PostgreSQL as nobody");
        return None;
    }
    PgData::new(test)
}

#[test]
fn a_running_server_is_ready() {
    let Some(data) = cluster("a_running_server_is_ready") else {
        return;
    };
    let pg = data.start(free_port());
    pg.server_ready();
    let target = format!("postgres://127.0.0.1:{}", pg.port);
    Rdy::new(&["check", &target])
        .run()
        .expect(0, "127.0.0.1 is ready ✓");
    // A role that does not exist is an ErrorResponse (28000): still up.
    let nosuch = format!("postgresql://localhost:{}/app?user=nosuch", pg.port);
    Rdy::new(&["check", &nosuch])
        .run()
        .expect(0, "localhost is ready ✓");
}

#[test]
fn a_stopped_server_is_refused() {
    let port = free_port();
    let out = Rdy::new(&["check", &format!("postgres://127.0.0.1:{port}")]).run();
    out.expect(1, "error=\"connection refused\"");
}

#[test]
fn a_server_started_during_the_wait() {
    let Some(data) = cluster("a_server_started_during_the_wait") else {
        return;
    };
    let port = free_port();
    let target = format!("postgres://127.0.0.1:{port}");
    let mut wait = Rdy::new(&["wait", "-t", "30s", "-i", "100ms", &target]).spawn();
    wait.wait_for("connection refused");
    let pg = data.start(port);
    let out = wait.finish();
    out.expect(0, "127.0.0.1 is ready ✓");
    drop(pg);
}

#[test]
fn a_standby_without_hot_standby_answers_57p03_until_promoted() {
    let Some(data) = cluster("a_standby_without_hot_standby_answers_57p03_until_promoted") else {
        return;
    };
    data.standby();
    let mut pg = data.start(free_port());
    pg.server.wait_for_log("entering standby mode");
    let target = format!("postgres://127.0.0.1:{}", pg.port);
    // pg_isready calls this "rejecting connections"; so does rdy.
    Rdy::new(&["check", &target]).run().expect(
        1,
        "the database system is not accepting connections (57P03): \
         Hot standby mode is disabled.",
    );
    let mut wait = Rdy::new(&["wait", "-t", "30s", "-i", "100ms", &target]).spawn();
    wait.wait_for("57P03");
    pg.promote();
    wait.finish().expect(0, "127.0.0.1 is ready ✓");
}

#[test]
fn sslmode_require_needs_a_server_with_tls() {
    let Some(data) = cluster("sslmode_require_needs_a_server_with_tls") else {
        return;
    };
    let pg = data.start(free_port());
    pg.server_ready();
    let plain = format!("postgres://127.0.0.1:{}?sslmode=require", pg.port);
    Rdy::new(&["check", &plain])
        .run()
        .expect(1, "the server does not accept TLS (sslmode=require)");
    let prefer = format!("postgres://127.0.0.1:{}?sslmode=prefer", pg.port);
    Rdy::new(&["check", &prefer]).run().expect(0, "is ready ✓");
}

/// A cluster with TLS presenting the certificate of `pki`, started; its
/// `sslmode=require` target on `localhost`.
fn tls_server(test: &str, pki: &common::pki::Pki) -> Option<(Postgres, String)> {
    let data = cluster(test)?;
    data.tls(pki);
    let pg = data.start(free_port());
    pg.server_ready();
    let target = format!("postgres://localhost:{}?sslmode=require", pg.port);
    Some((pg, target))
}

#[test]
fn sslmode_require_over_tls_verified_with_the_ca_file() {
    let test = "sslmode_require_over_tls_verified_with_the_ca_file";
    let pki = common::pki::pki(&["localhost"]);
    let Some((_pg, target)) = tls_server(test, &pki) else {
        return;
    };
    // As libpq: without a root certificate, require encrypts and does not verify.
    Rdy::new(&["check", &target]).run().expect(0, "is ready ✓");
    verified_by_ca_file(&target, &pki);
    let ca = common::pki::ca_as_server(&["localhost"]);
    let Some((_pg, target)) = tls_server(test, &ca) else {
        return;
    };
    a_ca_certificate_is_refused_in_words(&target, &ca);
}

#[test]
fn bad_parameters_are_usage_errors() {
    let cases = [
        (
            "postgres://db?sslmode=verify-full",
            "sslmode=\"verify-full\" is not one of disable, prefer or require",
        ),
        (
            "postgres://db?password=x",
            "unknown option \"password\"; postgres://HOST[:5432][/DBNAME] takes user=U, dbname=D, sslmode=MODE",
        ),
        (
            "postgres://u:p@db",
            "credentials do not belong in the target",
        ),
        ("postgres://db/app?dbname=b", "the database is named twice"),
        ("postgres://db?user=", "user= needs a non-empty"),
    ];
    for (target, says) in cases {
        Rdy::new(&["check", target]).run().expect(2, says);
    }
    Rdy::new(&["check", "postgres://db", "--ca-file", "/nonexistent"])
        .run()
        .expect(2, "--ca-file");
    Rdy::new(&["check", "postgres://db", "-k"])
        .run()
        .expect(2, "-k does nothing without sslmode=prefer or require");
}
