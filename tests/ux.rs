//! What a new user reads: settings that would be ignored are refused, a
//! misplaced or mistyped option points at the right one, each command has
//! its own help, and failure lines say which target failed and why in words.

mod common;

use common::Rdy;

use common::net::{HttpServer, Reply, TcpServer};
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
    assert!(!check.contains("126") && !serve.contains("126"), "{check}");
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
        let not_serve = rdy::cli::flags::NOT_SERVE.contains(&flag.id);
        assert_eq!(
            listed(&serve),
            !wait_only && !not_serve,
            "--{} in serve",
            flag.long
        );
        if let Some(env) = flag.env {
            assert_eq!(wait.contains(&format!("[{env}]")), !serve_only, "{env}");
        }
    }
    // check takes none of wait's command and pause options: a shorter page.
    assert!(serve.lines().count() < 180 && check.lines().count() < wait.lines().count());
}

#[test]
fn tls_failures_are_said_in_words() {
    let good = common::pki::pki(&["localhost"]);
    let other = common::pki::pki(&["localhost"]);
    let wrong_name = common::pki::pki(&["elsewhere.example"]);
    let ca_as_server = common::pki::ca_as_server(&["localhost"]);
    let (ca_config, ca_file) = (ca_as_server.server.clone(), ca_as_server.ca_file.clone());
    let ok = |_: &common::net::Request| Reply::status(200);
    let server = HttpServer::start_tls(good.server.clone(), ok);
    let named = HttpServer::start_tls(wrong_name.server.clone(), ok);
    let ca_server = HttpServer::start_tls(ca_config, ok);
    // A plain HTTP server answers a ClientHello with a 400 in clear text.
    let plain = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let plain_port = plain.local_addr().unwrap().port();
    std::thread::spawn(move || {
        if let Ok((mut stream, _)) = plain.accept() {
            use std::io::Write;
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        }
    });
    let https = |port: u16| format!("https://localhost:{port}/");
    let cases = [
        (
            other.ca_file.clone(),
            https(server.port),
            "the server's certificate is not signed by a CA rdy trusts (give the CA that signed it with --ca-file)",
        ),
        (
            wrong_name.ca_file.clone(),
            https(named.port),
            "the server's certificate is not valid for localhost (it names elsewhere.example)",
        ),
        (
            ca_file,
            https(ca_server.port),
            "the server's certificate is a CA certificate, not a server certificate",
        ),
        (
            good.ca_file.clone(),
            https(plain_port),
            "the server did not answer with TLS (a plain http:// port?)",
        ),
    ];
    for (ca, url, says) in cases {
        let out = Rdy::new(&["check", "--ca-file", ca.to_str().unwrap(), &url]).run();
        let context = format!("{url}: {}", out.stderr);
        assert_eq!(out.code, Some(1), "{context}");
        assert!(
            out.stderr.contains(&format!("error=\"tls: {says}\"")),
            "{context}"
        );
        for rust_name in [
            "UnknownIssuer",
            "NotValidForName",
            "CaUsedAsEndEntity",
            "Other(",
        ] {
            assert!(!out.stderr.contains(rust_name), "{context}");
        }
    }
}

#[test]
fn an_untrusted_certificate_is_named_on_the_first_attempt() {
    let good = common::pki::pki(&["localhost"]);
    let other = common::pki::pki(&["localhost"]);
    let server = HttpServer::start_tls(good.server.clone(), |_| Reply::status(200));
    let url = format!("https://localhost:{}/", server.port);
    let mut run = Rdy::new(&[
        "wait",
        "-i",
        "50ms",
        "--ca-file",
        other.ca_file.to_str().unwrap(),
        &url,
    ])
    .spawn();
    let first = run.wait_for("is not ready");
    assert!(first.contains("not signed by a CA rdy trusts"), "{first}");
    assert!(first.contains("level=WARN"), "{first}");
    run.signal(Signal::SIGTERM);
    assert_eq!(run.finish().code, Some(143));
}

#[test]
fn every_failure_line_names_its_target_unambiguously() {
    // The README's exec probe: two targets on localhost.
    let http = common::net::ReservedPort::new();
    let tcp = common::net::ReservedPort::new();
    let web = format!("http://localhost:{}/ready", http.port);
    let db = format!("localhost:{}", tcp.port);
    let out = Rdy::new(&["check", "-q", &web, &db]).run();
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    let lines = out.lines();
    assert_eq!(lines.len(), 2, "{}", out.stderr);
    assert!(
        out.stderr
            .contains(&format!("msg=\"{web} is not ready ✗\"")),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(&format!("msg=\"{db} is not ready ✗\"")),
        "{}",
        out.stderr
    );
    // A name given is kept, and a host used once stays the name.
    let out = Rdy::new(&["check", &web, "--name", "web", &db, "icmp://127.0.0.2"]).run();
    assert!(
        out.stderr.contains("msg=\"web is not ready ✗\""),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("msg=\"localhost is not ready ✗\""),
        "{}",
        out.stderr
    );
}

#[test]
fn a_password_in_a_target_url_is_never_echoed() {
    for args in [
        &["wait", "http://admin:s3cret@db:80/health"][..],
        &[
            "wait",
            "tcp://db:1",
            "--then-post",
            "http://admin:s3cret@db/quit",
        ],
        &[
            "wait",
            "https://admin:s3cret@db/",
            "--icmp-read-timeout",
            "1s",
        ],
    ] {
        let out = Rdy::new(args).run();
        assert_eq!(out.code, Some(2), "{args:?}: {}", out.stderr);
        assert!(!out.stderr.contains("s3cret"), "{}", out.stderr);
        assert!(out.stderr.contains("…@db"), "{}", out.stderr);
    }
    // A token in the query is cut from the start-up line too.
    let closed = common::net::ReservedPort::new();
    let url = format!("http://127.0.0.1:{}/?token=s3cret", closed.port);
    let out = Rdy::new(&["wait", "-t", "100ms", "-i", "50ms", &url]).run();
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert!(out.stderr.contains("msg=\"Waiting for"), "{}", out.stderr);
    assert!(!out.stderr.contains("s3cret"), "{}", out.stderr);
}

/// Every file of the repository that may cite the docs.
fn repo_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with('.') || name == "target" || name == "dist" || name == "corpus" {
            continue;
        }
        if path.is_dir() {
            repo_files(&path, out);
        } else if ["rs", "md", "yaml", "py", "sh", "toml"]
            .iter()
            .any(|e| name.ends_with(&format!(".{e}")))
        {
            out.push(path);
        }
    }
}

#[test]
fn every_doc_the_code_cites_is_in_the_repository() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let design = std::fs::read_to_string(root.join("docs/design.md")).unwrap();
    let kubernetes = std::fs::read_to_string(root.join("docs/kubernetes.md")).unwrap();
    let mut files = Vec::new();
    repo_files(root, &mut files);
    let mut cited = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let shown = file.strip_prefix(root).unwrap().display().to_string();
        if shown == "tests/ux.rs" {
            continue;
        }
        assert!(
            !text.contains(concat!("k8s-api", ".md")),
            "{shown} cites a file outside the repository"
        );
        for (doc, body) in [("design.md §", &design), ("kubernetes.md §", &kubernetes)] {
            for (at, _) in text.match_indices(doc) {
                let section: String = text[at + doc.len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_digit() || *c == '.')
                    .collect();
                let section = section.trim_end_matches('.');
                let heading = match doc.starts_with("design") {
                    true => format!("## §{section} "),
                    false if section.contains('.') => format!("### {section} "),
                    false => format!("## {section}. "),
                };
                assert!(
                    body.contains(&heading),
                    "{shown}: {doc}{section} has no heading {heading:?}"
                );
                cited += 1;
            }
        }
    }
    assert!(cited >= 15, "{cited} citations");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    assert!(!readme.contains("(see \"Tests\" below)") && readme.contains("\n### Tests\n"));
    let license = std::fs::read_to_string(root.join("LICENSE")).expect("LICENSE");
    assert!(license.contains("Apache License") && license.contains("Version 2.0, January 2004"));
    assert!(license.contains("END OF TERMS AND CONDITIONS"));
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    assert!(manifest.contains("license = \"Apache-2.0\""));
}
