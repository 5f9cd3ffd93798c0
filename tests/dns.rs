//! dns:// targets against a real dnsmasq on a loopback port: no daemon, no
//! resolv.conf, no /etc/hosts, only the records and the hosts file each
//! test writes.

mod common;

use std::fs::OpenOptions;
use std::io::Write;
use std::net::UdpSocket;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use common::{Rdy, eventually, skip, temp_dir, write_file};

/// A dnsmasq answering for the zone `test.`, stopped on drop.
struct Dnsmasq {
    child: Child,
    port: u16,
    hosts: PathBuf,
}

impl Dnsmasq {
    /// Starts dnsmasq, or records a skip when it is not installed.
    fn start(test: &str) -> Option<Dnsmasq> {
        let dir = temp_dir("dnsmasq");
        let hosts = write_file(&dir, "hosts", b"127.0.0.1 db.test\n::1 db6.test\n");
        // A free port for UDP; dnsmasq takes the same number for TCP.
        let port = UdpSocket::bind("127.0.0.1:0")
            .and_then(|s| s.local_addr())
            .expect("free port")
            .port();
        let big = format!(
            "--txt-record=big.test,{}",
            vec!["x".repeat(200); 4].join(",")
        );
        let spawned = Command::new("dnsmasq")
            .args([
                "--keep-in-foreground",
                "--conf-file=/dev/null",
                "--no-resolv",
                "--no-hosts",
                "--local=/test/",
                "--listen-address=127.0.0.1",
                "--bind-interfaces",
                "--pid-file=",
                "--user=root",
                "--cache-size=0",
            ])
            .arg(format!("--port={port}"))
            .arg(format!("--addn-hosts={}", hosts.display()))
            .args([
                "--txt-record=info.test,\"ready\"",
                "--srv-host=_pg._tcp.test,db.test,5432",
                "--mx-host=test,mail.test,10",
                &big,
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let Ok(child) = spawned else {
            skip(test, "dnsmasq is not installed");
            return None;
        };
        let server = Dnsmasq { child, port, hosts };
        // Up once it answers a query of the test's own making: rdy's DNS
        // probe, the code under test, must not be what decides it.
        assert!(
            eventually(|| answers_a_query(port)),
            "dnsmasq never answered on 127.0.0.1:{port}"
        );
        Some(server)
    }

    fn target(&self, name: &str, options: &str) -> String {
        let server = format!("server=127.0.0.1:{}", self.port);
        match options {
            "" => format!("dns://{name}?{server}"),
            more => format!("dns://{name}?{more}&{server}"),
        }
    }

    /// Adds a line to the hosts file and has dnsmasq read it again.
    fn add_host(&self, line: &str) {
        let mut file = OpenOptions::new()
            .append(true)
            .open(&self.hosts)
            .expect("hosts");
        writeln!(file, "{line}").expect("append");
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGHUP).expect("SIGHUP");
    }
}

/// Sends `db.test. IN A` (RFC 1035 §4.1: a 12-byte header with RD set and
/// one question) and whether the reply has its ID, is a response, has
/// RCODE 0 and at least one answer.
fn answers_a_query(port: u16) -> bool {
    let mut query = vec![0x4a, 0x17, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    query.extend_from_slice(b"\x02db\x04test\x00\x00\x01\x00\x01");
    let Ok(socket) = UdpSocket::bind("127.0.0.1:0") else {
        return false;
    };
    let _ = socket.set_read_timeout(Some(std::time::Duration::from_millis(100)));
    if socket.send_to(&query, ("127.0.0.1", port)).is_err() {
        return false;
    }
    let mut reply = [0u8; 512];
    match socket.recv(&mut reply) {
        Ok(n) if n >= 12 => {
            let answers = u16::from_be_bytes([reply[6], reply[7]]);
            reply[..2] == query[..2] && reply[2] & 0x80 != 0 && reply[3] & 0x0f == 0 && answers > 0
        }
        _ => false,
    }
}

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn records_of_each_type_make_a_name_ready() {
    let test = "records_of_each_type_make_a_name_ready";
    let Some(dns) = Dnsmasq::start(test) else {
        return;
    };
    let ready = [
        ("db.test", ""),
        ("db6.test", "type=AAAA"),
        ("info.test", "type=TXT"),
        ("_pg._tcp.test", "type=srv"),
        ("test", "type=MX"),
        // Over 512 bytes: the UDP answer is truncated, TCP brings it.
        ("big.test", "type=TXT"),
    ];
    for (name, options) in ready {
        Rdy::new(&["check", &dns.target(name, options)])
            .run()
            .expect(0, &format!("msg=\"{name} is ready ✓\""));
    }
}

#[test]
fn missing_names_and_records_are_not_ready() {
    let test = "missing_names_and_records_are_not_ready";
    let Some(dns) = Dnsmasq::start(test) else {
        return;
    };
    Rdy::new(&["check", &dns.target("nowhere.test", "")])
        .run()
        .expect(1, r#"error="nowhere.test does not exist (NXDOMAIN)""#);
    Rdy::new(&["check", &dns.target("db.test", "type=AAAA")])
        .run()
        .expect(1, r#"error="db.test has no AAAA record (empty answer)""#);
}

#[test]
fn a_name_added_while_waiting_ends_the_wait() {
    let test = "a_name_added_while_waiting_ends_the_wait";
    let Some(dns) = Dnsmasq::start(test) else {
        return;
    };
    let target = dns.target("new.test", "");
    let mut rdy = Rdy::new(&["wait", "-i", "100ms", "-t", "20s", &target]).spawn();
    rdy.wait_for("new.test does not exist (NXDOMAIN)");
    dns.add_host("127.0.0.2 new.test");
    rdy.wait_for("new.test is ready ✓");
    assert_eq!(rdy.finish().code, Some(0));
}

#[test]
fn a_silent_server_times_out() {
    // A bound UDP socket that never answers.
    let silent = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let port = silent.local_addr().unwrap().port();
    let target = format!("dns://db.test?server=127.0.0.1:{port}");
    Rdy::new(&["check", "--dial-timeout", "300ms", &target])
        .run()
        .expect(1, r#"error="no DNS answer for db.test within the timeout""#);
}

#[test]
fn bad_dns_targets_are_usage_errors() {
    let cases = [
        (
            "dns://db.test?type=PTR",
            "type=\"PTR\" is not one of A, AAAA",
        ),
        (
            "dns://db.test?server=dns.example",
            "server=\"dns.example\" is not an IP address",
        ),
        (
            "dns://db.test?ttl=5",
            "unknown option \"ttl\"; dns://NAME takes type=T, server=IP[:PORT]",
        ),
        // One parser of target options: a repeated one is refused, not
        // the last kept.
        ("dns://db.test?type=A&type=AAAA", "type= is given twice"),
        ("dns://10.0.0.1", "is not a DNS name to look up"),
        ("dns://db.test:53", "expected dns://name"),
    ];
    for (target, says) in cases {
        Rdy::new(&["check", target]).run().expect(2, says);
    }
}

/// In a network and mount namespace of its own: dnsmasq on 127.0.0.1:53
/// and a resolv.conf whose first nameserver does not answer, bind-mounted
/// over /etc/resolv.conf. rdy reads it, gets a refusal from the first
/// nameserver and its answers from the second.
#[test]
fn the_nameservers_of_resolv_conf_are_asked_in_turn() {
    let test = "the_nameservers_of_resolv_conf_are_asked_in_turn";
    if common::skip_unless_root(test) {
        return;
    }
    if Command::new("dnsmasq").arg("--version").output().is_err() {
        skip(test, "dnsmasq is not installed");
        return;
    }
    let dir = temp_dir("resolv");
    let resolv = write_file(
        &dir,
        "resolv.conf",
        b"nameserver 127.0.0.2\nnameserver 127.0.0.1\n",
    );
    let hosts = write_file(&dir, "hosts", b"127.0.0.1 db.test\n");
    let script = format!(
        "set -e
ip link set lo up
mount --bind {resolv} /etc/resolv.conf
dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts \\
    --local=/test/ --listen-address=127.0.0.1 --bind-interfaces --pid-file= \\
    --user=root --port=53 --addn-hosts={hosts} &
dns=$!
set +e
\"$@\"
code=$?
kill $dns
wait $dns
exit $code
",
        resolv = resolv.display(),
        hosts = hosts.display(),
    );
    let script = write_file(&dir, "run.sh", script.as_bytes());
    let script = script.to_str().unwrap();
    let wrapper = ["unshare", "-n", "-m", "--", "sh", script];
    Rdy::new(&["wait", "-t", "10s", "-i", "100ms", "dns://db.test"])
        .wrapped(&wrapper, common::bin())
        .run()
        .expect(0, "db.test is ready ✓");
    // Waits (until dnsmasq is up) and times out on the NXDOMAIN.
    Rdy::new(&["wait", "-t", "3s", "-i", "100ms", "dns://gone.test"])
        .wrapped(&wrapper, common::bin())
        .run()
        .expect(1, "gone.test does not exist (NXDOMAIN)");
}
