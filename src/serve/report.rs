//! The bodies of `/all` and `/ready/NAME`: one line per target as text
//! (`ok   postgres`, `fail envoy: connection refused`), or JSON.

use std::fmt::Write as _;

use crate::json::write::write_string as write_json_string;
use crate::kube::target::ObjectRef as Object;

/// One target's line: its name and `None` when ready, else why not.
pub type Entry<'a> = (&'a str, Option<&'a str>);

/// Renders the entries; the caller picks the status from
/// [`all_ready`].
pub fn render(entries: &[Entry<'_>], json: bool) -> String {
    let mut out = String::with_capacity(32 + entries.len() * 48);
    if !json {
        for (name, error) in entries {
            let _ = match error {
                None => writeln!(out, "ok   {name}"),
                Some(e) => writeln!(out, "fail {name}: {e}"),
            };
        }
        return out;
    }
    let _ = write!(out, "{{\"ready\":{},\"targets\":[", all_ready(entries));
    for (i, (name, error)) in entries.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"name\":");
        write_json_string(&mut out, name);
        let _ = write!(out, ",\"ready\":{}", error.is_none());
        if let Some(e) = error {
            out.push_str(",\"error\":");
            write_json_string(&mut out, e);
        }
        out.push('}');
    }
    out.push_str("]}\n");
    out
}

/// The body of `/api/healthz/…`: `ok   deployment/web: …` or
/// `fail deployment/web: …`, or a JSON object.
pub fn object(object: &Object, healthy: bool, message: &str, json: bool) -> String {
    let kind = object.kind_word();
    let name = object.name();
    let mut out = String::with_capacity(96 + message.len());
    if !json {
        let word = if healthy { "ok  " } else { "fail" };
        let _ = writeln!(out, "{word} {kind}/{name}: {message}");
        return out;
    }
    out.push_str("{\"namespace\":");
    write_json_string(&mut out, object.namespace.as_deref().unwrap_or(""));
    out.push_str(",\"kind\":");
    write_json_string(&mut out, kind);
    out.push_str(",\"name\":");
    write_json_string(&mut out, name);
    let _ = write!(out, ",\"healthy\":{healthy},\"message\":");
    write_json_string(&mut out, message);
    out.push_str("}\n");
    out
}

/// Whether every entry is ready.
pub fn all_ready(entries: &[Entry<'_>]) -> bool {
    entries.iter().all(|(_, error)| error.is_none())
}

/// The body of a forced answer (`--force`): no target was probed.
pub fn forced(ready: bool, json: bool) -> String {
    let state = if ready { "ready" } else { "unready" };
    match json {
        true => format!("{{\"ready\":{ready},\"forced\":\"{state}\",\"targets\":[]}}\n"),
        false => format!("forced {state}\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_json() {
        let entries = [("postgres", None), ("envoy", Some("connection refused"))];
        assert_eq!(
            render(&entries, false),
            "ok   postgres\nfail envoy: connection refused\n"
        );
        assert_eq!(
            render(&entries, true),
            "{\"ready\":false,\"targets\":[{\"name\":\"postgres\",\"ready\":true},\
             {\"name\":\"envoy\",\"ready\":false,\"error\":\"connection refused\"}]}\n"
        );
        assert!(!all_ready(&entries));
        assert!(all_ready(&entries[..1]));
    }
}
