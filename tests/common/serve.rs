//! A client side for `rdy serve`: start it on a port the kernel chose,
//! and talk HTTP/1.1 to it with plain sockets, every read bounded.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use nix::sys::signal::Signal;

use super::{Rdy, Running};

/// Bound on every socket read in these tests.
pub const IO_LIMIT: Duration = Duration::from_secs(20);

/// A running `rdy serve` on a port the kernel chose; killed when dropped.
pub struct Server {
    run: Option<Running>,
    /// The bound address.
    pub addr: SocketAddr,
}

impl Server {
    /// `rdy serve -v --listen 127.0.0.1:0 ARGS...`
    pub fn start(args: &[&str]) -> Server {
        Server::with(Rdy::new(&serve_args("127.0.0.1:0", args)))
    }

    /// Starts a prepared command line and reads the bound address from the
    /// `Serving` line.
    pub fn with(rdy: Rdy) -> Server {
        let mut run = rdy.spawn();
        let line = run.wait_for("msg=Serving");
        let addr = field(&line, "listen").parse().expect("listen address");
        Server {
            run: Some(run),
            addr,
        }
    }

    pub fn running(&mut self) -> &mut Running {
        self.run.as_mut().expect("running")
    }

    pub fn connect(&self) -> TcpStream {
        connect(self.addr)
    }

    /// One request on a new connection.
    pub fn get(&self, path: &str) -> Response {
        get(self.addr, path)
    }

    /// Raw bytes on a new connection; the first response.
    pub fn send(&self, raw: &str) -> Response {
        send(self.addr, raw.as_bytes())
    }

    pub fn send_bytes(&self, raw: &[u8]) -> Response {
        send(self.addr, raw)
    }

    /// Waits for the exit and collects the output.
    pub fn finish(mut self) -> super::Finished {
        self.run.take().expect("running").finish()
    }

    /// Stops the server with SIGTERM and collects its output.
    pub fn stop(mut self) -> super::Finished {
        self.running().signal(Signal::SIGTERM);
        let out = self.finish();
        assert_eq!(out.code, Some(143), "{}", out.stderr);
        out
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(run) = &self.run {
            run.signal(Signal::SIGKILL);
        }
    }
}

pub fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("connect to rdy");
    stream.set_read_timeout(Some(IO_LIMIT)).unwrap();
    stream
}

/// `GET path` on a new connection.
pub fn get(addr: SocketAddr, path: &str) -> Response {
    send(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: rdy\r\n\r\n").as_bytes(),
    )
}

/// Raw bytes on a new connection; the first response.
pub fn send(addr: SocketAddr, raw: &[u8]) -> Response {
    let mut stream = connect(addr);
    stream.write_all(raw).expect("send");
    read_response(&mut BufReader::new(stream), false).expect("a response")
}

pub fn serve_args<'a>(listen: &'a str, args: &[&'a str]) -> Vec<&'a str> {
    let mut all = vec!["serve", "-v", "--listen", listen];
    all.extend_from_slice(args);
    all
}

/// The value of `key=` in a logfmt line.
pub fn field(line: &str, key: &str) -> String {
    let start = line
        .find(&format!(" {key}="))
        .unwrap_or_else(|| panic!("no {key}= in {line}"));
    let rest = &line[start + key.len() + 2..];
    rest.split(' ').next().unwrap_or_default().to_owned()
}

/// A parsed response.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: HashMap<String, String>,
    pub body: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

/// Reads one response; `head` for the answer to a HEAD request.
pub fn read_response(reader: &mut impl BufRead, head: bool) -> Option<Response> {
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.trim_end().splitn(3, ' ');
    assert_eq!(parts.next(), Some("HTTP/1.1"), "status line {line:?}");
    let status = parts.next()?.parse().ok()?;
    let mut headers = HashMap::new();
    for _ in 0..100 {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        assert!(line.ends_with("\r\n"), "header line {line:?}");
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(": ").expect("header");
        headers.insert(name.to_ascii_lowercase(), value.to_owned());
    }
    let length: usize = headers.get("content-length")?.parse().ok()?;
    let mut body = vec![0; if head { 0 } else { length }];
    reader.read_exact(&mut body).ok()?;
    Some(Response {
        status,
        headers,
        body: String::from_utf8(body).ok()?,
    })
}

/// A keep-alive connection.
pub struct Client {
    writer: TcpStream,
    reader: BufReader<TcpStream>,
}

impl Client {
    pub fn new(server: &Server) -> Client {
        let writer = server.connect();
        let reader = BufReader::new(writer.try_clone().unwrap());
        Client { writer, reader }
    }

    pub fn request(&mut self, method: &str, path: &str, headers: &str) -> Response {
        let raw = format!("{method} {path} HTTP/1.1\r\nHost: rdy\r\n{headers}\r\n");
        self.writer.write_all(raw.as_bytes()).unwrap();
        read_response(&mut self.reader, method == "HEAD").expect("a response")
    }

    pub fn get(&mut self, path: &str) -> Response {
        self.request("GET", path, "")
    }

    /// Waits until the server closes the connection (or the read limit).
    pub fn closed(&mut self) -> bool {
        let mut byte = [0];
        matches!(self.reader.read(&mut byte), Ok(0) | Err(_))
    }

    /// Whether the server has closed the connection, without waiting.
    pub fn closed_now(&mut self) -> bool {
        self.writer.set_nonblocking(true).unwrap();
        let mut byte = [0];
        let closed = match self.reader.get_mut().read(&mut byte) {
            Ok(0) => true,
            Err(e) => e.kind() != std::io::ErrorKind::WouldBlock,
            Ok(_) => false,
        };
        self.writer.set_nonblocking(false).unwrap();
        closed
    }
}
