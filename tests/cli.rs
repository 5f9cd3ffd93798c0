//! Command line and environment: every bad input is one line and exit 2
//! before any network activity; PortPatrol's variables work unchanged.

mod common;

use common::Rdy;
use common::net::{HttpServer, Reply, ReservedPort, TcpServer};

/// One bad input: arguments, environment, and a fragment of the message.
struct Bad {
    args: Vec<String>,
    env: Vec<(&'static str, String)>,
    says: &'static str,
}

fn bad(args: &[&str], says: &'static str) -> Bad {
    Bad {
        args: args.iter().map(|a| a.to_string()).collect(),
        env: Vec::new(),
        says,
    }
}

fn bad_env(env: &[(&'static str, &str)], args: &[&str], says: &'static str) -> Bad {
    Bad {
        env: env.iter().map(|(k, v)| (*k, v.to_string())).collect(),
        ..bad(args, says)
    }
}

#[test]
fn bad_input_is_one_line_and_exit_2_before_any_connection() {
    // Every case also names a reachable target: it must never be contacted.
    let server = TcpServer::start();
    let t = server.addr();
    let h = format!("http://{t}/");
    let s = format!("https://{t}/");
    let cases = vec![
        bad(
            &["wait", "--interval", "2x", &t],
            "--interval: invalid value \"2x\"; expected a duration",
        ),
        bad(
            &["wait", "-i", "0", &t],
            "-i: invalid value \"0\"; expected a duration such as 1500ms, 2s, 1m30s, 1h, or a number of seconds greater than 0",
        ),
        bad(
            &["wait", "--dial-timeout", "-1s", &t],
            "--dial-timeout: invalid value \"-1s\"",
        ),
        bad(
            &["wait", "--timeout", "soon", &t],
            "--timeout: invalid value \"soon\"",
        ),
        bad(
            &["wait", "--status", "600", &h],
            "--status: invalid value \"600\"; expected status codes 100-599",
        ),
        bad(
            &["wait", "--status", "2xx,", &h],
            "--status: invalid value \"2xx,\"",
        ),
        bad(
            &["wait", "--status", "302-300", &h],
            "--status: invalid value \"302-300\"",
        ),
        bad(
            &["wait", "-X", "FETCH", &h],
            "-X: invalid value \"FETCH\"; expected GET, HEAD, POST",
        ),
        bad(
            &["wait", "-H", "novalue", &h],
            "-H: expected NAME=VALUE, or a comma list of them (the value is not shown)",
        ),
        bad(
            &["wait", "-H", "bad name=1", &h],
            "header name \"bad\" is followed by ' '",
        ),
        bad(
            &["wait", "-H", "X-A=1", "-H", "x-a=2", &h],
            "is given twice",
        ),
        bad(
            &["wait", "-H", "Content-Length=3", &h],
            "rdy sends no request body",
        ),
        bad(
            &["wait", "--type", "udp", &t],
            "--type: invalid value \"udp\"; expected tcp, http, https, icmp, postgres, mysql, redis or rediss",
        ),
        bad(
            &["wait", "--log-format", "xml", &t],
            "--log-format: invalid value \"xml\"; expected logfmt or json",
        ),
        bad(
            &["wait", "--insecure=maybe", &h],
            "--insecure: invalid value \"maybe\"; expected true or false",
        ),
        bad(&["wait", "--bogus", &t], "unknown option --bogus"),
        bad(&["wait", "-Z", &t], "unknown option -Z"),
        bad(
            &["wait", &t, "--interval"],
            "--interval needs a value (DUR)",
        ),
        bad(
            &["wait"],
            "wait: no targets given; e.g. rdy wait tcp://db:5432",
        ),
        bad(&["check"], "check: no targets given"),
        bad(
            &["frobnicate"],
            "unknown command \"frobnicate\"; expected wait, check or serve",
        ),
        bad(&[&t], "did you mean rdy wait 127.0.0.1"),
        bad(
            &["wait", "db"],
            "target \"db\": missing port; expected host:port",
        ),
        bad(
            &["wait", "db:0"],
            "target \"db:0\": port \"0\" is not a number from 1 to 65535",
        ),
        bad(&["wait", "db:99999"], "port \"99999\""),
        bad(&["wait", "::1:80"], "needs brackets, e.g. [::1]:8080"),
        bad(&["wait", "ftp://files:21"], "unknown scheme \"ftp://\""),
        bad(
            &["wait", "http://user:pw@db/"],
            "credentials in the URL are not supported",
        ),
        bad(
            &["wait", "icmp://gw:80"],
            "icmp://host, without port or path",
        ),
        bad(
            &["wait", "db host:80"],
            "a target contains no spaces; lists of targets (WAIT_HOSTS) are separated by commas",
        ),
        bad(
            &["wait", &t, "--method", "GET"],
            "--method applies to http:// and https:// targets, but \"127.0.0.1",
        ),
        bad(
            &["wait", &h, "--icmp-read-timeout", "1s"],
            "--icmp-read-timeout applies to icmp:// targets",
        ),
        bad(
            &["wait", "icmp://127.0.0.1", "--status", "200"],
            "--status applies to http:// and https:// targets",
        ),
        bad(
            &["wait", "--name", "X", &t, &h],
            "--name before the first target would give all 2 targets one name",
        ),
        bad(
            &["check", &t, "--", "true"],
            "check: -- COMMAND is only supported by rdy wait",
        ),
        bad(
            &["wait", "--ca-file", "/nonexistent/ca.pem", &s],
            "--ca-file: invalid value \"/nonexistent/ca.pem\"",
        ),
        bad(
            &["wait", &h, "--body-contains", ""],
            "--body-contains: invalid value \"\"; expected a non-empty text",
        ),
        bad_env(
            &[("CHECK_INTERVAL", "abc")],
            &["wait", &t],
            "CHECK_INTERVAL: invalid value \"abc\"",
        ),
        bad_env(
            &[("DIAL_TIMEOUT", "0")],
            &["check", &t],
            "DIAL_TIMEOUT: invalid value \"0\"",
        ),
        bad_env(
            &[("HTTP_EXPECTED_STATUS_CODES", "20x")],
            &["check", &h],
            "HTTP_EXPECTED_STATUS_CODES: invalid value \"20x\"",
        ),
        bad_env(
            &[("HTTP_HEADERS", "oops")],
            &["check", &h],
            "HTTP_HEADERS: expected NAME=VALUE",
        ),
        bad_env(
            &[("LOG_EXTRA_FIELDS", "yes")],
            &["check", &t],
            "LOG_EXTRA_FIELDS: invalid value \"yes\"; expected true or false",
        ),
        bad_env(
            &[("HTTP_SKIP_TLS_VERIFY", "nope")],
            &["check", &s],
            "HTTP_SKIP_TLS_VERIFY: invalid value \"nope\"",
        ),
        bad_env(
            &[("ICMP_READ_TIMEOUT", "1x")],
            &["check", &t],
            "ICMP_READ_TIMEOUT: invalid value \"1x\"",
        ),
        bad_env(
            &[("HTTPS_PROXY", "socks5://proxy:1080")],
            &["check", &s],
            "HTTPS_PROXY: invalid value \"socks5://proxy:1080\"",
        ),
        bad_env(
            &[("RDY_TIMEOUT", "forever")],
            &["wait", &t],
            "RDY_TIMEOUT: invalid value \"forever\"",
        ),
        bad_env(
            &[("TARGET_ADDRESS", &t), ("TARGET_CHECK_TYPE", "smtp")],
            &[],
            "TARGET_CHECK_TYPE: invalid value \"smtp\"",
        ),
        bad_env(
            &[("TARGET_ADDRESS", "db")],
            &[],
            "target \"db\": missing port",
        ),
        bad_env(
            &[("TARGET_ADDRESS", &h), ("TARGET_CHECK_TYPE", "tcp")],
            &[],
            "check type tcp conflicts with the http:// scheme",
        ),
        bad(&[], "no command given and TARGET_ADDRESS is not set"),
    ];
    assert!(cases.len() >= 30);
    refused(&cases);
    assert_eq!(server.accepted(), 0, "a usage error touched the network");
}

/// docker-compose-wait's WAIT_LOGGER_LEVEL: off and error keep a ready
/// check silent, debug adds the verbose fields, info is the default.
#[test]
fn wait_logger_level_is_honoured() {
    let server = TcpServer::start();
    let t = server.addr();
    let run = |level: &str| {
        Rdy::new(&["check", &t])
            .env("WAIT_LOGGER_LEVEL", level)
            .run()
    };
    for quiet in ["off", "ERROR"] {
        let out = run(quiet);
        assert_eq!(out.code, Some(0), "{quiet}: {}", out.stderr);
        assert_eq!(out.stderr, "", "{quiet}");
    }
    let out = run("debug");
    assert!(
        out.stderr.contains("is ready") && out.stderr.contains("check_type=tcp"),
        "{}",
        out.stderr
    );
    let out = run("info");
    assert!(
        out.stderr.contains("is ready") && !out.stderr.contains("check_type="),
        "{}",
        out.stderr
    );
}

/// Each case exits 2 with one line, `rdy: ...` naming what it says, and
/// nothing on stdout.
fn refused(cases: &[Bad]) {
    for case in cases {
        let args: Vec<&str> = case.args.iter().map(String::as_str).collect();
        let mut rdy = Rdy::new(&args);
        for (key, value) in &case.env {
            rdy = rdy.env(key, value);
        }
        let out = rdy.run();
        let context = format!("args {:?} env {:?}:\n{}", case.args, case.env, out.stderr);
        assert_eq!(out.code, Some(2), "{context}");
        assert_eq!(out.lines().len(), 1, "{context}");
        assert!(out.stderr.starts_with("rdy: "), "{context}");
        assert!(
            out.stderr.contains(case.says),
            "wanted {:?} in {context}",
            case.says
        );
        assert!(out.stdout.is_empty(), "{context}");
    }
}

/// A setting that would do nothing is refused, not ignored: the options
/// of TLS after a plain http target, an option given twice, one --name
/// for two targets, serve's ignored --interval, an unknown
/// WAIT_LOGGER_LEVEL.
#[test]
fn settings_that_would_do_nothing_are_refused() {
    let server = TcpServer::start();
    let t = server.addr();
    let h = format!("http://{t}/");
    let cases = vec![
        bad(
            &["wait", &h, "-k"],
            "-k applies to https://, grpcs://, postgres:// and rediss:// targets, but \"http://",
        ),
        bad(&["check", &h, "--ca-file", "/etc/hostname"], "--ca-file"),
        bad(
            &["wait", "--timeout", "1m", &t, "-t", "5s"],
            "--timeout is given twice (again as -t); it takes one value",
        ),
        bad(
            &["check", &t, "--status", "200", "--status", "204"],
            "--status is given twice; it takes one value",
        ),
        bad(
            &["wait", &t, "--name", "db", &h, "--name", "db"],
            "two targets are named \"db\" with --name",
        ),
        bad(
            &["serve", "--listen", "127.0.0.1:0", &t, "-i", "1s"],
            "-i applies to rdy wait and rdy check only",
        ),
        bad_env(
            &[("WAIT_LOGGER_LEVEL", "verbose")],
            &["wait", &t],
            "WAIT_LOGGER_LEVEL: invalid value \"verbose\"; expected off, error, info or debug",
        ),
    ];
    refused(&cases);
    assert_eq!(server.accepted(), 0, "a usage error touched the network");
}

#[test]
fn help_lists_every_option_and_its_variable() {
    let pages: String = [&["wait", "--help"][..], &["serve", "--help"]]
        .iter()
        .map(|form| Rdy::new(form).run().stdout)
        .collect();
    for flag in rdy::cli::flags::FLAGS {
        assert!(
            pages.contains(&format!("--{}", flag.long)),
            "--{}",
            flag.long
        );
        if let Some(env) = flag.env {
            assert!(pages.contains(&format!("[{env}]")), "{env}");
        }
    }
}

#[test]
fn version_prints_the_version() {
    for flag in ["--version", "-V"] {
        let out = Rdy::new(&[flag]).run();
        assert_eq!(out.code, Some(0));
        assert_eq!(out.stdout, concat!("rdy ", env!("CARGO_PKG_VERSION"), "\n"));
    }
}

#[test]
fn portpatrol_tcp_environment_works_unchanged() {
    let late = ReservedPort::new();
    let mut run = Rdy::new(&[])
        .env("TARGET_NAME", "PostgreSQL")
        .env("TARGET_ADDRESS", &late.addr())
        .env("TARGET_CHECK_TYPE", "TCP")
        .env("CHECK_INTERVAL", "50ms")
        .env("DIAL_TIMEOUT", "500ms")
        .env("LOG_EXTRA_FIELDS", "false")
        .spawn();
    run.wait_for("msg=\"Waiting for PostgreSQL to become ready...\"");
    run.wait_for("msg=\"PostgreSQL is not ready ✗\" error=\"connection refused\"");
    let server = late.listen();
    let out = run.finish();
    out.expect(0, "msg=\"PostgreSQL is ready ✓\"");
    assert!(server.accepted() >= 1);
}

#[test]
fn portpatrol_http_environment_works_unchanged() {
    let server = HttpServer::start(|_| Reply::status(203));
    let out = Rdy::new(&[])
        .env("TARGET_ADDRESS", &format!("localhost:{}", server.port))
        .env("TARGET_CHECK_TYPE", "http")
        .env("HTTP_METHOD", "POST")
        .env("HTTP_HEADERS", "Authorization=Bearer t0k3n,X-Env=1")
        .env("HTTP_EXPECTED_STATUS_CODES", "200,202-204")
        .env("LOG_EXTRA_FIELDS", "true")
        .run();
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let request = &server.requests()[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.header("authorization"), Some("Bearer t0k3n"));
    assert_eq!(request.header("x-env"), Some("1"));
    // The name is inferred from the address; extra fields are on.
    let ready = out
        .lines()
        .into_iter()
        .find(|l| l.contains("is ready"))
        .unwrap()
        .to_owned();
    assert!(ready.contains("msg=\"localhost is ready ✓\""), "{ready}");
    assert!(ready.contains("check_type=http"), "{ready}");
    assert!(
        ready.contains(&format!("target_address=localhost:{}", server.port)),
        "{ready}"
    );
    assert!(!out.stderr.contains("t0k3n"), "headers must not be logged");
}

#[test]
fn portpatrol_variables_work_with_subcommands_and_flags_beat_them() {
    let server = HttpServer::start(|_| Reply::status(200));
    let out = Rdy::new(&["check", "-X", "HEAD", &server.url("/")])
        .env("HTTP_METHOD", "DELETE")
        .env("HTTP_HEADERS", "X-From-Env=yes")
        .run();
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let request = &server.requests()[0];
    assert_eq!(request.method, "HEAD");
    assert_eq!(request.header("x-from-env"), Some("yes"));
}

#[test]
fn target_name_is_inferred_from_the_address() {
    let server = HttpServer::start(|_| Reply::status(200));
    let out = Rdy::new(&[])
        .env(
            "TARGET_ADDRESS",
            &format!("http://localhost:{}/health", server.port),
        )
        .run();
    out.expect(0, "msg=\"localhost is ready ✓\"");
}

#[test]
fn json_logs_are_one_object_per_line() {
    let closed = ReservedPort::new();
    let out = Rdy::new(&[
        "wait",
        "--log-format",
        "json",
        "-t",
        "150ms",
        "-i",
        "50ms",
        &closed.addr(),
    ])
    .run();
    assert_eq!(out.code, Some(1));
    let lines = out.lines();
    assert!(lines.len() >= 3, "{}", out.stderr);
    for line in &lines {
        let value: serde_json::Value = serde_json::from_str(line).expect(line);
        for key in ["ts", "level", "msg"] {
            assert!(value[key].is_string(), "{key} in {line}");
        }
    }
    let last: serde_json::Value = serde_json::from_str(lines.last().unwrap()).unwrap();
    assert_eq!(last["level"], "ERROR");
    assert_eq!(last["error"], "connection refused");
}

#[test]
fn quiet_keeps_only_errors() {
    let closed = ReservedPort::new();
    let out = Rdy::new(&["wait", "-q", "-t", "150ms", "-i", "50ms", &closed.addr()]).run();
    assert_eq!(out.code, Some(1));
    let lines = out.lines();
    assert_eq!(lines.len(), 1, "{}", out.stderr);
    assert!(lines[0].contains("level=ERROR"), "{}", lines[0]);
}

/// The README's option table against `FLAGS`, cell by cell: each option
/// has exactly one row, whose first cell spells it as `--help` does
/// (`-t, --timeout DUR`) and whose second names its variable or nothing;
/// no row names an option that does not exist. The meaning column is
/// prose of its own and not compared.
#[test]
fn readme_option_table_matches_flags_cell_by_cell() {
    let readme = include_str!("../README.md");
    let start = readme
        .find("| option | variable | meaning |")
        .expect("the option table");
    let rows: Vec<Vec<String>> = readme[start..]
        .lines()
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        // `\|` is a pipe inside a cell, not a cell's end.
        .map(|l| l.replace("\\|", "\u{0}"))
        .map(|l| {
            let cells = l.trim_matches('|').split('|');
            cells.map(|c| c.trim().replace('\u{0}', "|")).collect()
        })
        .collect();
    // Code spans of a cell: "`-h, --help`, `-V, --version`" has two.
    let spans = |cell: &str| -> Vec<String> {
        cell.split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect()
    };
    let mut seen = Vec::new();
    for row in &rows {
        let (names, variable) = (spans(&row[0]), spans(&row[1]));
        for name in &names {
            let long = name
                .split_whitespace()
                .find_map(|w| w.strip_prefix("--"))
                .unwrap_or_else(|| panic!("no --long name in {name:?}"));
            let flag = rdy::cli::flags::FLAGS
                .iter()
                .find(|f| f.long == long)
                .unwrap_or_else(|| panic!("README names --{long}, which FLAGS has not"));
            let spelt = [
                flag.short.map(|c| format!("-{c}, ")).unwrap_or_default(),
                format!("--{}", flag.long),
                flag.value.map(|v| format!(" {v}")).unwrap_or_default(),
            ]
            .concat();
            assert_eq!(name, &spelt, "README's spelling of --{long}");
            let expected: Vec<String> = flag.env.iter().map(|e| e.to_string()).collect();
            match names.len() {
                1 => assert_eq!(variable, expected, "README's variable of --{long}"),
                _ => assert!(
                    expected.is_empty(),
                    "--{long} shares a row, yet has a variable"
                ),
            }
            seen.push(long.to_owned());
        }
    }
    for flag in rdy::cli::flags::FLAGS {
        let rows = seen.iter().filter(|l| *l == flag.long).count();
        assert_eq!(
            rows, 1,
            "--{} has {rows} rows in README's option table",
            flag.long
        );
    }
}
