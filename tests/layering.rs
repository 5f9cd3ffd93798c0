//! The layers of the crate: `cli` reads the command line and builds each
//! mode's settings; the modes (`wait`, `serve`), probes and protocols
//! below it never name it, so that each can be used and tested on its own
//! settings. Checked on the source, as the compiler does not.

mod common;

use std::fs;
use std::path::Path;

use common::sources;

/// Whether a line names the `cli` module (not `client`).
fn names_cli(line: &str) -> bool {
    ["crate::cli", "super::cli"].iter().any(|path| {
        line.match_indices(path).any(|(at, _)| {
            let next = line[at + path.len()..].chars().next();
            !next.is_some_and(|c| c.is_alphanumeric() || c == '_')
        })
    })
}

#[test]
fn nothing_below_cli_imports_cli() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    assert!(files.len() > 20, "found the sources");
    let mut offenders = Vec::new();
    for file in files {
        let relative = file.strip_prefix(&src).unwrap();
        // main.rs sits above cli; cli may name itself.
        if relative.starts_with("cli") || relative == Path::new("main.rs") {
            continue;
        }
        let text = fs::read_to_string(&file).expect("read");
        for (n, line) in text.lines().enumerate() {
            if names_cli(line) {
                offenders.push(format!(
                    "src/{}:{}: {}",
                    relative.display(),
                    n + 1,
                    line.trim()
                ));
            }
        }
    }
    assert!(offenders.is_empty(), "{}", offenders.join("\n"));
}

/// The lines of the files under `src/DIR` that name any of `paths`.
fn naming(dir: &str, paths: &[&str]) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(dir);
    let mut files = Vec::new();
    sources(&root, &mut files);
    assert!(!files.is_empty(), "found src/{dir}");
    let mut found = Vec::new();
    for file in files {
        let text = fs::read_to_string(&file).expect("read");
        for (n, line) in text.lines().enumerate() {
            if paths.iter().any(|p| line.contains(p)) {
                found.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    found
}

/// Transport (dialling, TLS, the HTTP agent) sits below the probes and the
/// Kubernetes client, and the Kubernetes client below the `k8s:` probe and
/// `serve`: neither names a layer above it.
#[test]
fn transport_and_kube_never_import_the_layers_above() {
    let above = ["crate::probe", "crate::kube", "crate::serve", "crate::wait"];
    let transport = naming("transport", &above);
    assert!(transport.is_empty(), "{}", transport.join("\n"));
    let kube = naming("kube", &["crate::probe", "crate::serve", "crate::wait"]);
    assert!(kube.is_empty(), "{}", kube.join("\n"));
}

// File-level imports: every path a file names (`use` statements, grouped
// ones unfolded, and paths written inline), resolved to the file that
// defines the module it reaches.

/// The module path of a source file: `cli/mod.rs` and `cli.rs` are `cli`,
/// `lib.rs` and `main.rs` the crate root.
fn module_of(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().unwrap_or_default();
    let stem = last.trim_end_matches(".rs");
    if !matches!(stem, "mod" | "lib" | "main") {
        parts.push(stem.to_owned());
    }
    parts
}

/// The code of a file without comments, string literals and its unit
/// tests (`#[cfg(test)]` to the end: the tests of a module may reach
/// anything).
fn code(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or(text);
    let mut out = String::new();
    for line in text.lines() {
        let line = line.split("//").next().unwrap_or("");
        let mut in_string = false;
        let mut escaped = false;
        for c in line.chars() {
            match (in_string, c) {
                (true, '\\') if !escaped => escaped = true,
                (true, '"') if !escaped => in_string = false,
                (true, _) => escaped = false,
                (false, '"') => in_string = true,
                (false, c) => out.push(c),
            }
        }
        out.push('\n');
    }
    out
}

/// Unfolds `a::{b, c::{d, e}}` into `a::b`, `a::c::d`, `a::c::e`.
fn unfold(tree: &str, prefix: &str, out: &mut Vec<String>) {
    let tree = tree.trim();
    match tree.find('{') {
        Some(open) if tree.ends_with('}') => {
            let head = format!("{prefix}{}", &tree[..open]);
            let inner = &tree[open + 1..tree.len() - 1];
            let mut depth = 0;
            let mut start = 0;
            for (i, c) in inner.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        unfold(&inner[start..i], &head, out);
                        start = i + 1;
                    }
                    _ => {}
                }
            }
            unfold(&inner[start..], &head, out);
        }
        _ if tree.is_empty() => {}
        _ => out.push(format!(
            "{prefix}{}",
            tree.split(" as ").next().unwrap_or(tree)
        )),
    }
}

/// The paths a file's code names: unfolded `use` trees, and inline paths
/// starting at `crate::`, `super::`, `self::` or a child module it
/// declares. A `pub use` is a name the module lends, not a use: its paths
/// come back apart, as the module's re-exports.
#[derive(Default)]
struct Named {
    paths: Vec<String>,
    reexports: Vec<String>,
}

fn paths_in(code: &str) -> Named {
    let mut named = Named::default();
    let mut children = Vec::new();
    for statement in code.split(';') {
        let tokens: Vec<&str> = statement.split_whitespace().collect();
        let Some(at) = tokens.iter().position(|t| *t == "use" || *t == "mod") else {
            continue;
        };
        // Only a statement: `use` after attributes, visibility or a brace.
        let before = &tokens[..at];
        if !before.iter().all(|t| {
            t.starts_with("pub") || t.starts_with('#') || t.ends_with('}') || t.ends_with(']')
        }) {
            continue;
        }
        let rest = tokens[at + 1..].join(" ");
        match tokens[at] {
            "mod" if !rest.contains('{') => children.push(rest),
            "use" if before.last().is_some_and(|t| t.starts_with("pub")) => {
                unfold(&rest, "", &mut named.reexports)
            }
            "use" => unfold(&rest, "", &mut named.paths),
            _ => {}
        }
    }
    // Inline paths, leaving out the re-exports.
    let code: String = code
        .split(';')
        .map(
            |s| match s.find("pub use ").or_else(|| s.find("pub(crate) use ")) {
                Some(at) => &s[..at],
                None => s,
            },
        )
        .collect::<Vec<_>>()
        .join(";");
    let ident = |c: char| c.is_alphanumeric() || c == '_' || c == ':';
    let mut roots: Vec<String> = vec!["crate".into(), "super".into(), "self".into()];
    roots.extend(children);
    for (at, _) in code.match_indices("::") {
        let start = code[..at].rfind(|c: char| !ident(c)).map_or(0, |i| i + 1);
        if code[..start].ends_with("::") {
            continue;
        }
        let end = code[at..]
            .find(|c: char| !ident(c))
            .map_or(code.len(), |i| at + i);
        let path = code[start..end].trim_end_matches(':');
        if roots.iter().any(|r| path.starts_with(&format!("{r}::"))) {
            named.paths.push(path.to_owned());
        }
    }
    named
}

/// A module and the first segment after it that is not a module.
type Reached = (Vec<String>, Option<String>);

/// The module a path reaches from module `from`, as the longest prefix
/// that is a module of the crate, and the name it goes on with.
fn reach(from: &[String], path: &str, modules: &[Vec<String>]) -> Option<Reached> {
    let mut segments = path.split("::").filter(|s| !s.is_empty());
    let mut at: Vec<String> = match segments.next()? {
        "crate" => Vec::new(),
        "self" => from.to_vec(),
        "super" => from[..from.len().saturating_sub(1)].to_vec(),
        child => [from, &[child.to_owned()]].concat(),
    };
    for segment in segments {
        match segment {
            "super" => {
                at.pop();
            }
            "self" | "*" => {}
            name => {
                let deeper = [at.as_slice(), &[name.to_owned()]].concat();
                if !modules.contains(&deeper) {
                    return modules.contains(&at).then(|| (at, Some(name.to_owned())));
                }
                at = deeper;
            }
        }
    }
    modules.contains(&at).then_some((at, None))
}

/// [`reach`], then through a re-export (`pub use`) to the file that
/// defines the name.
fn resolve(
    from: &[String],
    path: &str,
    modules: &[Vec<String>],
    reexports: &[(Vec<String>, String, Vec<String>)],
) -> Option<Vec<String>> {
    let (module, name) = reach(from, path, modules)?;
    let lent = reexports
        .iter()
        .find(|(m, n, _)| *m == module && Some(n) == name.as_ref());
    Some(lent.map_or(module, |(_, _, to)| to.clone()))
}

/// Which files each file imports, by module path.
fn imports() -> Vec<(Vec<String>, Vec<Vec<String>>)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let files: Vec<(Vec<String>, Named)> = files
        .iter()
        .filter(|f| !f.ends_with("main.rs"))
        .map(|f| {
            let relative = f.strip_prefix(&src).unwrap();
            let text = fs::read_to_string(f).expect("read");
            (module_of(relative), paths_in(&code(&text)))
        })
        .collect();
    let modules: Vec<Vec<String>> = files.iter().map(|(m, _)| m.clone()).collect();
    let mut reexports = Vec::new();
    for (module, named) in &files {
        for path in &named.reexports {
            let name = path.rsplit("::").next().unwrap_or(path).to_owned();
            if let Some((to, _)) = reach(module, path, &modules) {
                reexports.push((module.clone(), name, to));
            }
        }
    }
    files
        .iter()
        .map(|(module, named)| {
            let mut targets: Vec<Vec<String>> = named
                .paths
                .iter()
                .filter_map(|p| resolve(module, p, &modules, &reexports))
                .filter(|t| t != module)
                .collect();
            targets.sort();
            targets.dedup();
            (module.clone(), targets)
        })
        .collect()
}

#[test]
fn the_import_reader_unfolds_groups_and_follows_super_and_reexports() {
    let mut out = Vec::new();
    unfold("crate::{a, b::{c, d as e}}", "", &mut out);
    assert_eq!(out, ["crate::a", "crate::b::c", "crate::b::d"]);
    let code = "use super::{x, y::Z};\nmod kid;\npub use self::kid::Lent;\n\
                fn f() { kid::go(); crate::q::r(); }\n";
    let named = paths_in(code);
    for want in ["super::x", "super::y::Z", "kid::go", "crate::q::r"] {
        assert!(
            named.paths.contains(&want.to_owned()),
            "{want} in {:?}",
            named.paths
        );
    }
    assert_eq!(named.reexports, ["self::kid::Lent"]);
    let m = |path: &[&str]| path.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let modules = vec![m(&[]), m(&["a"]), m(&["a", "b"])];
    let lent = vec![(m(&["a"]), "Lent".to_owned(), m(&["a", "b"]))];
    let b = &modules[2];
    assert_eq!(resolve(b, "super::Thing", &modules, &[]), Some(m(&["a"])));
    assert_eq!(resolve(&modules[1], "b::f", &modules, &[]), Some(b.clone()));
    assert_eq!(resolve(b, "crate::a::b::X", &modules, &[]), Some(b.clone()));
    assert_eq!(
        resolve(&[], "crate::a::Lent", &modules, &lent),
        Some(b.clone())
    );
}

/// No two files import each other, directly or round a longer circle: a
/// cycle means neither can be read, tested or moved without the other.
#[test]
fn no_file_level_import_cycles() {
    let graph = imports();
    assert!(graph.len() > 20, "found the sources");
    let name = |m: &Vec<String>| match m.is_empty() {
        true => "lib".to_owned(),
        false => m.join("::"),
    };
    let mut cycles = Vec::new();
    for (start, _) in &graph {
        // Depth-first from `start`, looking for a way back to it.
        let mut stack = vec![vec![start.clone()]];
        let mut seen: Vec<Vec<String>> = Vec::new();
        while let Some(route) = stack.pop() {
            let last = route.last().unwrap();
            let Some((_, next)) = graph.iter().find(|(m, _)| m == last) else {
                continue;
            };
            for target in next {
                if target == start {
                    let circle: Vec<String> = route.iter().map(name).collect();
                    cycles.push(format!("{} -> {}", circle.join(" -> "), name(start)));
                } else if !seen.contains(target) {
                    seen.push(target.clone());
                    stack.push([route.clone(), vec![target.clone()]].concat());
                }
            }
        }
    }
    // Each circle once, from its smallest member.
    cycles.retain(|c| {
        let members: Vec<&str> = c.split(" -> ").collect();
        members.iter().min() == members.first()
    });
    cycles.sort();
    cycles.dedup();
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}
