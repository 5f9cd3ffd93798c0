//! ICMP echo to 127.0.0.1 and ::1, through both kinds of socket.
//!
//! The socket kind is chosen by the kernel's rules, so each case runs rdy in
//! a network namespace the test creates (`unshare --net`), where it sets
//! `net.ipv4.ping_group_range` itself and drops to an unprivileged user
//! with `setpriv`. Only that namespace's loopback is touched.

mod common;

use common::{Rdy, bin, skip_unless_root};

const NOBODY: &str = "65534";
const EVERY_GROUP: &str = "0 2147483647";
const NO_GROUP: &str = "1 0";

/// Runs `rdy ARGS` in a fresh network namespace with loopback up and the
/// given ping_group_range, as root or as an unprivileged user without
/// capabilities.
fn in_netns(range: &str, unprivileged: bool, args: &[&str]) -> common::Finished {
    let drop = if unprivileged {
        format!(
            "setpriv --reuid={NOBODY} --regid={NOBODY} --clear-groups \
             --inh-caps=-all --bounding-set=-all "
        )
    } else {
        String::new()
    };
    let script = format!(
        "ip link set lo up && echo '{range}' > /proc/sys/net/ipv4/ping_group_range \
         && exec {drop}\"$0\" \"$@\""
    );
    Rdy::new(args)
        .wrapped(&["unshare", "--net", "sh", "-c", &script], bin())
        .run()
}

#[test]
fn loopback_answers_on_both_families() {
    let out = Rdy::new(&[
        "check",
        "icmp://127.0.0.1",
        "icmp://::1",
        "icmp://localhost",
    ])
    .run();
    if out.code == Some(3) {
        // Neither socket kind is allowed here; the message must say why,
        // and the run must say that the replies went untested.
        assert!(out.stderr.contains("CAP_NET_RAW"), "{}", out.stderr);
        common::skip(
            "loopback_answers_on_both_families",
            "ICMP is not permitted here (no CAP_NET_RAW, group outside ping_group_range)",
        );
        return;
    }
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(
        out.stderr.matches("is ready ✓").count(),
        3,
        "{}",
        out.stderr
    );
}

#[test]
fn unprivileged_users_ping_through_datagram_sockets() {
    if skip_unless_root("unprivileged_users_ping_through_datagram_sockets") {
        return;
    }
    let out = in_netns(
        EVERY_GROUP,
        true,
        &["check", "-v", "icmp://127.0.0.1", "icmp://[::1]"],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(
        out.stderr.matches("socket=datagram").count(),
        2,
        "{}",
        out.stderr
    );
}

#[test]
fn raw_sockets_skip_their_own_echo_request() {
    if skip_unless_root("raw_sockets_skip_their_own_echo_request") {
        return;
    }
    // Root outside the group range: the datagram socket is refused, the raw
    // one sees the echo request it sent on loopback before the reply.
    let out = in_netns(
        NO_GROUP,
        false,
        &["check", "-v", "icmp://127.0.0.1", "icmp://::1"],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(
        out.stderr.matches("socket=raw").count(),
        2,
        "{}",
        out.stderr
    );
}

#[test]
fn no_permission_is_exit_3_with_both_remedies() {
    if skip_unless_root("no_permission_is_exit_3_with_both_remedies") {
        return;
    }
    let out = in_netns(NO_GROUP, true, &["wait", "icmp://127.0.0.1"]);
    assert_eq!(out.code, Some(3), "{}", out.stderr);
    let last = out.lines().last().copied().unwrap_or_default().to_owned();
    assert!(last.contains("CAP_NET_RAW"), "{last}");
    assert!(last.contains("net.ipv4.ping_group_range"), "{last}");
    assert!(last.contains("group 65534"), "{last}");
}

#[test]
fn an_address_without_a_host_on_it_gets_no_reply() {
    if skip_unless_root("an_address_without_a_host_on_it_gets_no_reply") {
        return;
    }
    // Inside the namespace only loopback exists; 192.0.2.1 (TEST-NET-1) is
    // unroutable there, so the attempt fails without leaving the namespace.
    let out = in_netns(EVERY_GROUP, true, &["check", "icmp://192.0.2.1"]);
    out.expect(1, "error=\"network unreachable\"");
}
