//! Where `rdy serve` listens by default (issue 13 item 17): one rule for
//! every spelling, an address without a host (`:PORT`, and the default
//! `:8081`) is every interface, IPv6 and IPv4. Run in a network namespace
//! of its own, so the fixed default port collides with nothing.

mod common;

use common::Rdy;
use common::serve::field;

#[test]
fn the_default_listen_address_is_every_interface_ipv6_and_ipv4() {
    let test = "the_default_listen_address_is_every_interface_ipv6_and_ipv4";
    if common::skip_unless_root(test) {
        return;
    }
    let in_own_netns = [
        "unshare",
        "--net",
        "sh",
        "-c",
        "ip link set lo up && exec \"$0\" \"$@\"",
    ];
    let mut server = Rdy::new(&["serve", "127.0.0.1:1"])
        .wrapped(&in_own_netns, common::bin())
        .spawn();
    let serving = server.wait_for("msg=Serving");
    assert_eq!(field(&serving, "listen"), "[::]:8081", "{serving}");
    let netns = format!("--net=/proc/{}/ns/net", server.pid());
    for url in ["http://127.0.0.1:8081/self", "http://[::1]:8081/self"] {
        Rdy::new(&["check", url])
            .wrapped(&["nsenter", &netns], common::bin())
            .run()
            .expect(0, "is ready ✓");
    }
    server.signal(nix::sys::signal::Signal::SIGTERM);
    server.finish();
}
