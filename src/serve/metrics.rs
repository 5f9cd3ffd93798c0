//! `GET /metrics`: the Prometheus text exposition format (0.0.4), written
//! by hand: four families per target and a build-info gauge.
//!
//! Every family has `# HELP` and `# TYPE` before its samples, counters end
//! in `_total`, and label values escape `\`, `"` and newlines, which is
//! what `promtool check metrics` looks for. A target that was never
//! checked has counters at 0 and no `up` or duration sample yet.

use std::fmt::Write as _;

use super::cache::Cache;
use crate::target::Target;

/// Renders every family.
pub fn render(targets: &[Target], cache: &Cache) -> String {
    let mut out = String::with_capacity(256 + targets.len() * 320);
    let last = |i: usize| cache.slot(i).last.as_ref();
    family(
        &mut out,
        "rdy_target_up",
        "gauge",
        "Whether the last check found the target ready (1) or not (0).",
        targets,
        |i| last(i).map(|l| u64::from(l.error.is_none()).to_string()),
    );
    family(
        &mut out,
        "rdy_target_check_duration_seconds",
        "gauge",
        "How long the last check of the target took.",
        targets,
        |i| {
            let took = last(i)?.took;
            Some(format!("{}.{:06}", took.as_secs(), took.subsec_micros()))
        },
    );
    family(
        &mut out,
        "rdy_target_checks_total",
        "counter",
        "Checks made of the target; answers from the cache are not checks.",
        targets,
        |i| Some(cache.slot(i).checks.to_string()),
    );
    family(
        &mut out,
        "rdy_target_failures_total",
        "counter",
        "Checks that found the target not ready.",
        targets,
        |i| Some(cache.slot(i).failures.to_string()),
    );
    let _ = write!(
        out,
        "# HELP rdy_build_info Build of rdy; the value is always 1.\n\
         # TYPE rdy_build_info gauge\n\
         rdy_build_info{{version=\"{}\"}} 1\n",
        env!("CARGO_PKG_VERSION")
    );
    out
}

/// `rdy_object_healthy{namespace,resource,name}`: 1 when the object's rule
/// says healthy, 0 when not, for each object in `gauges`.
pub fn objects(out: &mut String, gauges: &[((String, String, String), bool)]) {
    if gauges.is_empty() {
        return;
    }
    out.push_str(
        "# HELP rdy_object_healthy Whether the Kubernetes object is healthy by its kind's rule.\n\
         # TYPE rdy_object_healthy gauge\n",
    );
    for ((namespace, resource, name), healthy) in gauges {
        out.push_str("rdy_object_healthy{namespace=\"");
        escape_label(out, namespace);
        out.push_str("\",resource=\"");
        escape_label(out, resource);
        out.push_str("\",name=\"");
        escape_label(out, name);
        let _ = writeln!(out, "\"}} {}", u8::from(*healthy));
    }
}

fn family(
    out: &mut String,
    name: &str,
    kind: &str,
    help: &str,
    targets: &[Target],
    value: impl Fn(usize) -> Option<String>,
) {
    let _ = write!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n");
    for (i, target) in targets.iter().enumerate() {
        if let Some(value) = value(i) {
            let _ = write!(out, "{name}{{target=\"");
            escape_label(out, &target.name);
            let _ = writeln!(out, "\"}} {value}");
        }
    }
}

/// A label value as the format escapes it.
fn escape_label(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped() {
        let mut out = String::new();
        escape_label(&mut out, "a\"b\\c\nd");
        assert_eq!(out, r#"a\"b\\c\nd"#);
    }
}
