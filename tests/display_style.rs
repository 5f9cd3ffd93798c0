//! Errors are enums whose `Display` reads like a log line: never Rust's
//! debug form of a value (checked on the source, over the body of every
//! `impl Display` in `src/`), never an errno (`(os error 104)`; checked on
//! the lines rdy prints for real socket errors).

mod common;

use std::fs;
use std::net::TcpListener;
use std::path::Path;

use common::net::answering_server;
use common::{Rdy, sources};

/// The bodies of the `impl ... Display for ...` blocks of `text`, each
/// with the number of its first line.
fn display_bodies(text: &str) -> Vec<(usize, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut bodies = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim_start();
        if !(line.starts_with("impl") && line.contains("Display for")) {
            i += 1;
            continue;
        }
        let (start, mut depth, mut body) = (i + 1, 0i32, String::new());
        loop {
            let code = lines[i].split("//").next().unwrap_or_default();
            depth += code.matches('{').count() as i32 - code.matches('}').count() as i32;
            body.push_str(lines[i]);
            body.push('\n');
            i += 1;
            if depth <= 0 && body.contains('{') || i == lines.len() {
                break;
            }
        }
        bodies.push((start, body));
    }
    bodies
}

/// A value in its debug form: `{:?}` of anything, or `{e:?}` of an error
/// (a name such as `e`, `err`, `error`, `source`). A named text value may
/// be quoted with `{name:?}`: Rust's string quoting escapes control
/// characters, which keeps a line one line.
fn debug_forms(body: &str) -> Vec<&str> {
    let errors = ["e", "err", "error", "source", "cause", "inner", "self"];
    let mut found = Vec::new();
    for (at, _) in body.match_indices("?}") {
        let open = body[..at].rfind('{').unwrap_or(at);
        let Some((name, spec)) = body[open + 1..at].split_once(':') else {
            continue;
        };
        let debug = spec.is_empty() || spec == "#";
        if debug && (name.is_empty() || errors.contains(&name) || name.contains('.')) {
            found.push(&body[open..at + 2]);
        }
    }
    found
}

#[test]
fn no_display_prints_a_debug_form() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut offenders = Vec::new();
    let mut bodies = 0;
    for file in files {
        let text = fs::read_to_string(&file).expect("read");
        for (line, body) in display_bodies(&text) {
            bodies += 1;
            for form in debug_forms(&body) {
                offenders.push(format!("{}:{line}: {form}", file.display()));
            }
        }
    }
    assert!(bodies > 20, "found the Display impls ({bodies})");
    assert!(offenders.is_empty(), "{}", offenders.join("\n"));
}

#[test]
fn the_check_finds_debug_forms() {
    let body = "impl fmt::Display for X {\n    fn fmt(&self) {\n        \
                write!(f, \"{:?} {e:?} {name:?} {err:#?}\")\n    }\n}\n";
    let bodies = display_bodies(body);
    assert_eq!(bodies.len(), 1);
    assert_eq!(debug_forms(&bodies[0].1), ["{:?}", "{e:?}", "{err:#?}"]);
}

#[test]
fn a_reset_connection_is_said_in_words() {
    let port = answering_server(Vec::new(), true);
    for target in [
        format!("redis://127.0.0.1:{port}"),
        format!("postgres://127.0.0.1:{port}"),
        format!("http://127.0.0.1:{port}/"),
    ] {
        let out = Rdy::new(&["check", &target]).run();
        out.expect(1, "connection reset by peer");
        assert!(!out.stderr.contains("(os error"), "{}", out.stderr);
    }
}

#[test]
fn an_address_in_use_is_said_in_words() {
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let listen = taken.local_addr().expect("addr").to_string();
    let out = Rdy::new(&["serve", "--listen", &listen, "tcp://127.0.0.1:1"]).run();
    out.expect(2, "address already in use");
    assert!(!out.stderr.contains("(os error"), "{}", out.stderr);
}
