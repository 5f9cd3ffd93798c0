//! Real servers on loopback: TCP listeners, an HTTP/1.x server that records
//! what it received, HTTPS on top of it, and a forward proxy.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use socket2::{Domain, Socket, Type};

/// A hostile or broken server on 127.0.0.1: for each connection, reads
/// what the client sends first, then writes `reply` and, with `reset`,
/// resets the connection (`SO_LINGER` 0) instead of closing it; its port.
pub fn answering_server(reply: Vec<u8>, reset: bool) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let _ = stream.read(&mut [0; 512]);
            let _ = stream.write_all(&reply);
            if reset {
                let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
            }
        }
    });
    port
}

/// A listener that accepts and closes connections, counting them.
pub struct TcpServer {
    /// The port on 127.0.0.1.
    pub port: u16,
    accepted: Arc<AtomicUsize>,
}

impl TcpServer {
    /// Listens on 127.0.0.1 on a free port.
    pub fn start() -> TcpServer {
        TcpServer::serve(TcpListener::bind("127.0.0.1:0").expect("bind"))
    }

    fn serve(listener: TcpListener) -> TcpServer {
        let port = listener.local_addr().expect("addr").port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        thread::spawn(move || {
            for stream in listener.incoming() {
                if stream.is_ok() {
                    count.fetch_add(1, Ordering::SeqCst);
                }
            }
        });
        TcpServer { port, accepted }
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

/// A port bound on 127.0.0.1 but not listening: connections to it are
/// refused (RST) until [`ReservedPort::listen`], and no other test can take
/// it in between.
pub struct ReservedPort {
    socket: Socket,
    /// The port.
    pub port: u16,
}

impl ReservedPort {
    /// Binds a free port without listening.
    pub fn new() -> ReservedPort {
        let socket = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
        let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
        socket.bind(&addr.into()).expect("bind");
        let port = socket
            .local_addr()
            .expect("addr")
            .as_socket()
            .expect("inet")
            .port();
        ReservedPort { socket, port }
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Starts listening on the reserved port.
    pub fn listen(self) -> TcpServer {
        self.socket.listen(128).expect("listen");
        TcpServer::serve(self.socket.into())
    }
}

/// A request as the server received it.
#[derive(Debug, Clone)]
pub struct Request {
    /// `GET`, `HEAD`, `CONNECT`, ...
    pub method: String,
    /// The request target as sent (`/path`, or `http://host/path` to a proxy).
    pub target: String,
    /// `HTTP/1.1` or `HTTP/1.0`.
    pub version: String,
    /// Header fields in order, names as sent.
    pub headers: Vec<(String, String)>,
}

impl Request {
    /// Every value of a header, case-insensitively by name.
    pub fn header_values(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The single value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.header_values(name).first().copied()
    }
}

/// What the server answers.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Answer as an HTTP/1.0 server: no Content-Length, body ends at close.
    pub http10: bool,
}

impl Reply {
    /// A status with an empty body.
    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            http10: false,
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: &str) -> Reply {
        self.body = body.as_bytes().to_vec();
        self
    }

    /// Answers as HTTP/1.0.
    pub fn http10(mut self) -> Reply {
        self.http10 = true;
        self
    }

    fn write_to(&self, out: &mut impl Write) -> std::io::Result<()> {
        let version = if self.http10 { "HTTP/1.0" } else { "HTTP/1.1" };
        let mut head = format!("{version} {} Test\r\n", self.status);
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if !self.http10 {
            head.push_str(&format!(
                "Content-Length: {}\r\nConnection: close\r\n",
                self.body.len()
            ));
        }
        head.push_str("\r\n");
        out.write_all(head.as_bytes())?;
        out.write_all(&self.body)?;
        out.flush()
    }
}

type Handler = Arc<dyn Fn(&Request) -> Reply + Send + Sync>;

/// An HTTP/1.x server that records every request.
pub struct HttpServer {
    /// The port on 127.0.0.1.
    pub port: u16,
    requests: RequestLog,
}

impl HttpServer {
    /// Serves plain HTTP with `handler`.
    pub fn start(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> HttpServer {
        HttpServer::start_with(None, Arc::new(handler))
    }

    /// Serves HTTPS with `tls`.
    pub fn start_tls(
        tls: Arc<rustls::ServerConfig>,
        handler: impl Fn(&Request) -> Reply + Send + Sync + 'static,
    ) -> HttpServer {
        HttpServer::start_with(Some(tls), Arc::new(handler))
    }

    fn start_with(tls: Option<Arc<rustls::ServerConfig>>, handler: Handler) -> HttpServer {
        let (port, requests) =
            serve_each(move |stream, log| serve_connection(stream, tls.clone(), &*handler, log));
        HttpServer { port, requests }
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

type RequestLog = Arc<Mutex<Vec<Request>>>;

/// Listens on a free loopback port and runs `serve` for each connection on
/// its own thread, with a shared log of the requests it records.
fn serve_each(
    serve: impl Fn(TcpStream, &Mutex<Vec<Request>>) + Send + Sync + 'static,
) -> (u16, RequestLog) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let requests = RequestLog::default();
    let log = requests.clone();
    let serve = Arc::new(serve);
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (serve, log) = (serve.clone(), log.clone());
            thread::spawn(move || serve(stream, &log));
        }
    });
    (port, requests)
}

fn serve_connection(
    stream: TcpStream,
    tls: Option<Arc<rustls::ServerConfig>>,
    handler: &(dyn Fn(&Request) -> Reply + Send + Sync),
    log: &Mutex<Vec<Request>>,
) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    match tls {
        None => {
            let mut stream = stream;
            answer(&mut stream, handler, log);
            let _ = stream.shutdown(Shutdown::Both);
        }
        Some(config) => {
            let Ok(conn) = rustls::ServerConnection::new(config) else {
                return;
            };
            let mut tls = rustls::StreamOwned::new(conn, stream);
            answer(&mut tls, handler, log);
            tls.conn.send_close_notify();
            let _ = tls.flush();
        }
    }
}

fn answer(
    stream: &mut (impl Read + Write),
    handler: &(dyn Fn(&Request) -> Reply + Send + Sync),
    log: &Mutex<Vec<Request>>,
) {
    let Some(request) = read_request(stream) else {
        return;
    };
    let reply = handler(&request);
    log.lock().unwrap().push(request);
    let _ = reply.write_to(stream);
}

/// Reads a request head (no body: rdy never sends one).
pub fn read_request(stream: &mut impl Read) -> Option<Request> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.trim_end().splitn(3, ' ');
    let (method, target, version) = (parts.next()?, parts.next()?, parts.next()?);
    let mut headers = Vec::new();
    for _ in 0..200 {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            break;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        headers.push((name.to_owned(), value.trim().to_owned()));
    }
    Some(Request {
        method: method.to_owned(),
        target: target.to_owned(),
        version: version.to_owned(),
        headers,
    })
}

/// A forward proxy: answers absolute-form requests itself with 200 (and
/// records them), and tunnels `CONNECT` to `tunnel_port` on 127.0.0.1
/// whatever host was asked for, so an https target with any name lands on
/// a local test server.
pub struct Proxy {
    /// The port on 127.0.0.1.
    pub port: u16,
    requests: RequestLog,
}

impl Proxy {
    /// Starts the proxy.
    pub fn start(tunnel_port: u16) -> Proxy {
        let (port, requests) =
            serve_each(move |stream, log| proxy_connection(stream, tunnel_port, log));
        Proxy { port, requests }
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

fn proxy_connection(mut client: TcpStream, tunnel_port: u16, log: &Mutex<Vec<Request>>) {
    let _ = client.set_read_timeout(Some(Duration::from_secs(10)));
    let Some(request) = read_request(&mut client) else {
        return;
    };
    let connect = request.method == "CONNECT";
    log.lock().unwrap().push(request);
    if !connect {
        let _ = Reply::status(200).body("via proxy").write_to(&mut client);
        return;
    }
    let Ok(upstream) = TcpStream::connect(("127.0.0.1", tunnel_port)) else {
        let _ = Reply::status(502).write_to(&mut client);
        return;
    };
    if client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .is_err()
    {
        return;
    }
    let (mut c2, mut u2) = (client.try_clone().unwrap(), upstream.try_clone().unwrap());
    let (mut c1, mut u1) = (client, upstream);
    let up = thread::spawn(move || {
        let _ = std::io::copy(&mut c1, &mut u1);
        let _ = u1.shutdown(Shutdown::Write);
    });
    let _ = std::io::copy(&mut u2, &mut c2);
    let _ = c2.shutdown(Shutdown::Write);
    let _ = up.join();
}
