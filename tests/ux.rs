//! What a new user reads: settings that would be ignored are refused, a
//! misplaced or mistyped option points at the right one, each command has
//! its own help, and failure lines say which target failed and why in words.

mod common;

use common::Rdy;
use common::net::TcpServer;
use nix::sys::signal::Signal;

/// Runs rdy and asserts one line, exit 2, containing `says`.
fn refused(args: &[&str], env: &[(&str, &str)], says: &str) {
    let mut rdy = Rdy::new(args);
    for (key, value) in env {
        rdy = rdy.env(key, value);
    }
    let out = rdy.run();
    let context = format!("args {args:?} env {env:?}:\n{}", out.stderr);
    assert_eq!(out.code, Some(2), "{context}");
    assert_eq!(out.lines().len(), 1, "{context}");
    assert!(out.stderr.contains(says), "wanted {says:?} in {context}");
}

#[test]
fn settings_that_would_be_ignored_are_refused() {
    let server = TcpServer::start();
    let t = server.addr();
    let s = format!("https://{t}/");
    let ca = common::pki::pki(&["localhost"]);
    let ca_file = ca.ca_file.to_str().unwrap().to_owned();
    refused(
        &["check", "--then-post", "http://localhost:1/", &t],
        &[],
        "--then-post applies to rdy wait only",
    );
    refused(
        &["check", "--supervise", &t],
        &[],
        "--supervise applies to rdy wait only",
    );
    refused(
        &["wait", &t],
        &[("TARGET_ADDRESS", &t)],
        "TARGET_ADDRESS and targets on the command line cannot be used together",
    );
    refused(
        &["check", &t],
        &[("WAIT_HOSTS", &t)],
        "WAIT_HOSTS and targets on the command line cannot be used together",
    );
    refused(
        &[],
        &[("TARGET_ADDRESS", &t), ("WAIT_HOSTS", &t)],
        "TARGET_ADDRESS and WAIT_HOSTS cannot be used together",
    );
    refused(
        &["wait", "-k", "--ca-file", &ca_file, &s],
        &[],
        "--insecure and --ca-file cannot be used together",
    );
    refused(
        &["wait", "--ca-file", &ca_file, &s],
        &[("HTTP_SKIP_TLS_VERIFY", "true")],
        "--insecure and --ca-file cannot be used together",
    );
    refused(
        &["wait", "--supervise", &t],
        &[],
        "--supervise would do nothing: there is no command to supervise",
    );
    refused(
        &["wait", &t],
        &[("RDY_SUPERVISE", "true")],
        "RDY_SUPERVISE would do nothing",
    );
    refused(
        &["wait", "-q", "-v", &t],
        &[],
        "-q and -v cannot be used together",
    );
    refused(
        &["wait", &t],
        &[("RDY_QUIET", "1"), ("LOG_EXTRA_FIELDS", "1")],
        "RDY_QUIET and LOG_EXTRA_FIELDS cannot be used together",
    );
    refused(
        &["serve", "--listen", "127.0.0.1:0", &t],
        &[("RDY_TOKEN", "")],
        "RDY_TOKEN: invalid value \"\"; expected a token",
    );
    assert_eq!(server.accepted(), 0, "a usage error touched the network");

    // What stays allowed: one layer turning the other's setting off.
    let out = Rdy::new(&["check", "--ca-file", &ca_file, &t])
        .env("HTTP_SKIP_TLS_VERIFY", "true")
        .env("LOG_EXTRA_FIELDS", "true")
        .run();
    assert_eq!(out.code, Some(0), "{}", out.stderr);
}

#[test]
fn serve_says_at_start_up_whether_a_token_is_required() {
    let server = TcpServer::start();
    for (token, says) in [(None, "token=none"), (Some("s3cret"), "token=required")] {
        let mut rdy = Rdy::new(&["serve", "--listen", "127.0.0.1:0", &server.addr()]);
        if let Some(token) = token {
            rdy = rdy.env("RDY_TOKEN", token);
        }
        let mut run = rdy.spawn();
        let line = run.wait_for("msg=Serving");
        assert!(line.contains(says), "{line}");
        assert!(!line.contains("s3cret"), "{line}");
        run.signal(Signal::SIGTERM);
        assert_eq!(run.finish().code, Some(143));
    }
}

#[test]
fn options_before_the_command_and_typos_point_at_the_right_spelling() {
    refused(
        &["-q", "wait", "db:5432"],
        &[],
        "-q comes before the command; options follow it: rdy wait -q",
    );
    refused(
        &["--timeout", "5s", "check", "db:5432"],
        &[],
        "options follow it: rdy check --timeout",
    );
    refused(
        &["wait", "--timout", "5s", "db:5432"],
        &[],
        "unknown option --timout (did you mean --timeout?); see rdy wait --help",
    );
    refused(&["serve", "--listn", ":0"], &[], "(did you mean --listen?)");
    let out = Rdy::new(&["wait", "--zzzzzz", "db:5432"]).run();
    assert!(!out.stderr.contains("did you mean"), "{}", out.stderr);
}

/// The help page of `args`.
fn help(args: &[&str]) -> String {
    let out = Rdy::new(args).run();
    assert_eq!(out.code, Some(0), "{args:?}: {}", out.stderr);
    out.stdout
}

#[test]
fn each_command_has_its_own_help() {
    let overview = help(&["--help"]);
    let wait = help(&["wait", "--help"]);
    let check = help(&["check", "-h"]);
    let serve = help(&["serve", "--help"]);
    assert_eq!(help(&["help", "serve"]), serve);
    assert_eq!(help(&["help"]), overview);
    for page in [&overview, &wait, &check, &serve] {
        for scheme in ["tcp://", "http://", "https://", "icmp://", "k8s:"] {
            assert!(page.contains(scheme), "{scheme} in\n{page}");
        }
    }
    for page in [&overview, &wait] {
        assert!(page.contains("126") && page.contains("127"), "{page}");
    }
    assert!(!check.contains("127") && !serve.contains("127"), "{check}");
    // Each page lists exactly the options its command takes.
    for flag in rdy::cli::flags::FLAGS {
        let option = format!("--{} ", flag.long);
        let listed = |page: &str| {
            page.contains(&option)
                || page.contains(&format!("--{}\n", flag.long))
                || page.contains(&format!("--{}  ", flag.long))
        };
        let wait_only = rdy::cli::flags::WAIT_ONLY.contains(&flag.id);
        let serve_only = flag.scope == rdy::cli::flags::Scope::Serve;
        assert_eq!(listed(&wait), !serve_only, "--{} in wait", flag.long);
        assert_eq!(
            listed(&check),
            !serve_only && !wait_only,
            "--{} in check",
            flag.long
        );
        assert_eq!(listed(&serve), !wait_only, "--{} in serve", flag.long);
        if let Some(env) = flag.env {
            assert_eq!(wait.contains(&format!("[{env}]")), !serve_only, "{env}");
        }
    }
    assert!(serve.lines().count() < 160 && check.lines().count() < 100);
}
