//! A loopback HTTP receiver that accepts envelopes like a Sentry server, for tests and the
//! quickstart. Std only (plus flate2 for gzip bodies): one thread accepts, one thread per
//! connection, HTTP/1.1 keep-alive, `Content-Length` bodies.
//!
//! Each request is answered by a [`Reply`] chosen by a closure, so tests can inject faults
//! (error statuses, headers, a server that accepts and never answers). With the environment
//! variable `SENTRY_SDK_DUMP_DIR` set, every envelope received is also written there, so that
//! `scripts/interop/relay_check.py` can run Relay's normaliser over everything the tests sent.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use sentry_sdk::transport::Envelope;

/// How to answer one request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A status code with extra headers.
    Status(u16, Vec<(String, String)>),
    /// Keep the connection open and never answer.
    Hang,
    /// Close the connection before reading the body: the peer sees a reset.
    Reset,
    /// Read the whole request, then close without answering.
    Close,
    /// Wait, then answer with the status.
    Slow(Duration, u16),
    /// Answer with the status, extra headers and a body of the given kind: what a server or
    /// proxy that sends far more than the client asked for looks like.
    Body(u16, Vec<(String, String)>, Body),
    /// Write these bytes as the whole answer (status line, headers and body: possibly not
    /// HTTP at all, or lying about its length), then keep the connection for the next request.
    Raw(Vec<u8>),
    /// Write these bytes one at a time, one every `Duration`: a server that trickles.
    Trickle(Vec<u8>, Duration),
}

/// A response body that a client must not read whole.
#[derive(Debug, Clone, Copy)]
pub enum Body {
    /// `Content-Length: n` and `n` zero bytes, written as fast as the peer reads them.
    Huge(u64),
    /// `Transfer-Encoding: chunked` with 64 KiB chunks of zeros that never end.
    Endless,
    /// `Content-Length: 1024`, then nothing: the connection stays open and silent.
    Stalled,
}

/// One request as received (body decompressed).
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub at: Instant,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn envelope(&self) -> Envelope {
        Envelope::parse(&self.body).expect("the receiver got a malformed envelope")
    }

    /// The parsed `event` item, if any.
    pub fn event(&self) -> Option<serde_json::Value> {
        self.envelope()
            .items()
            .iter()
            .find(|i| i.item_type() == "event")
            .and_then(|i| i.payload_json())
    }
}

type Responder = dyn Fn(&Request) -> Reply + Send + Sync;

struct Shared {
    requests: Mutex<Vec<Request>>,
    arrived: Condvar,
    stop: AtomicBool,
    respond: Box<Responder>,
}

/// The running receiver; stops (and releases hung connections) when dropped.
pub struct Receiver {
    port: u16,
    shared: Arc<Shared>,
}

static DUMPED: AtomicUsize = AtomicUsize::new(0);

impl Receiver {
    /// Answers every request with 200.
    pub fn start() -> Receiver {
        Receiver::start_with(|_| Reply::Status(200, Vec::new()))
    }

    /// Answers each request with what `respond` says.
    pub fn start_with(respond: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local addr").port();
        listener.set_nonblocking(true).expect("nonblocking");
        let shared = Arc::new(Shared {
            requests: Mutex::new(Vec::new()),
            arrived: Condvar::new(),
            stop: AtomicBool::new(false),
            respond: Box::new(respond),
        });
        let accept_shared = shared.clone();
        std::thread::Builder::new()
            .name("receiver-accept".into())
            .spawn(move || accept_loop(listener, accept_shared))
            .expect("spawn receiver");
        Receiver { port, shared }
    }

    /// For the examples: a local receiver unless `SENTRY_DSN` names a server to send to.
    pub fn unless_dsn_set() -> Option<Receiver> {
        match std::env::var("SENTRY_DSN") {
            Ok(dsn) if !dsn.trim().is_empty() => None,
            _ => Some(Receiver::start()),
        }
    }

    /// `options` pointed at `local` if there is one (else `init` reads `SENTRY_DSN`).
    pub fn point(
        local: &Option<Receiver>,
        options: sentry_sdk::ClientOptions,
    ) -> sentry_sdk::ClientOptions {
        match local {
            Some(r) => options.dsn(&r.dsn()),
            None => options,
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// A DSN pointing here.
    pub fn dsn(&self) -> String {
        format!("http://public@127.0.0.1:{}/1", self.port)
    }

    /// Everything received so far.
    pub fn requests(&self) -> Vec<Request> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// Waits until at least `n` requests arrived or `timeout` passed; returns what arrived.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Request> {
        let deadline = Instant::now() + timeout;
        let mut requests = self.shared.requests.lock().unwrap();
        while requests.len() < n {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            requests = self
                .shared
                .arrived
                .wait_timeout(requests, deadline - now)
                .unwrap()
                .0;
        }
        requests.clone()
    }

    /// The client-report entries received so far, as sorted (reason, category, quantity).
    pub fn client_reports(&self) -> Vec<(String, String, u64)> {
        let mut out: Vec<_> = self
            .requests()
            .iter()
            .flat_map(|r| r.envelope().items().to_vec())
            .filter(|i| i.item_type() == "client_report")
            .filter_map(|i| i.payload_json())
            .flat_map(|report| {
                report["discarded_events"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .map(|v| {
                (
                    v["reason"].as_str().unwrap_or("?").to_owned(),
                    v["category"].as_str().unwrap_or("?").to_owned(),
                    v["quantity"].as_u64().unwrap_or(0),
                )
            })
            .collect();
        // One (reason, category) may arrive in several reports: add them up.
        out.sort();
        let mut merged: Vec<(String, String, u64)> = Vec::new();
        for (reason, category, n) in out {
            match merged.last_mut() {
                Some(last) if last.0 == reason && last.1 == category => last.2 += n,
                _ => merged.push((reason, category, n)),
            }
        }
        merged
    }

    /// The event payloads received so far, in arrival order.
    pub fn events(&self) -> Vec<serde_json::Value> {
        self.requests().iter().filter_map(Request::event).collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    while !shared.stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((stream, _)) => {
                let shared = shared.clone();
                let _ = std::thread::Builder::new()
                    .name("receiver-conn".into())
                    .spawn(move || serve(stream, shared));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

fn serve(stream: TcpStream, shared: Arc<Shared>) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(100)));
    let mut writer = match stream.try_clone() {
        Ok(w) => w,
        Err(_) => return,
    };
    let mut reader = BufReader::new(stream);
    loop {
        let Some(mut request) = read_head(&mut reader, &shared) else {
            return;
        };
        // Decided before the body is read, so that `Reset` can leave it unread.
        let reply = (shared.respond)(&request);
        if matches!(reply, Reply::Reset) {
            // Closing with unread data in the receive buffer makes the kernel send a RST.
            return;
        }
        if read_body(&mut reader, &shared, &mut request).is_none() {
            return;
        }
        dump(&request);
        shared.requests.lock().unwrap().push(request);
        shared.arrived.notify_all();
        let (code, headers) = match reply {
            Reply::Reset | Reply::Close => return,
            Reply::Body(code, headers, body) => {
                if write_with_body(&mut writer, &shared, code, &headers, body).is_none() {
                    return;
                }
                continue;
            }
            Reply::Raw(bytes) => {
                if writer.write_all(&bytes).is_err() {
                    return;
                }
                continue;
            }
            Reply::Trickle(bytes, every) => {
                for byte in bytes {
                    if shared.stop.load(Ordering::Relaxed) || writer.write_all(&[byte]).is_err() {
                        return;
                    }
                    std::thread::sleep(every);
                }
                continue;
            }
            Reply::Hang => {
                while !shared.stop.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(20));
                }
                return;
            }
            Reply::Slow(delay, code) => {
                std::thread::sleep(delay);
                (code, Vec::new())
            }
            Reply::Status(code, headers) => (code, headers),
        };
        let mut head = format!("HTTP/1.1 {code} X\r\ncontent-length: 0\r\n");
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        if writer.write_all(head.as_bytes()).is_err() {
            return;
        }
    }
}

/// Answers with a body of the kind asked for; `None` once the connection is done with (the
/// peer closed it, the receiver stopped, or the body never ends).
fn write_with_body(
    writer: &mut TcpStream,
    shared: &Shared,
    code: u16,
    headers: &[(String, String)],
    body: Body,
) -> Option<()> {
    // A write that cannot proceed (the peer stopped reading) returns now and then, so that a
    // stopped receiver releases the connection.
    writer
        .set_write_timeout(Some(Duration::from_millis(100)))
        .ok()?;
    let mut head = format!("HTTP/1.1 {code} X\r\n");
    match body {
        Body::Huge(len) => head.push_str(&format!("content-length: {len}\r\n")),
        Body::Endless => head.push_str("transfer-encoding: chunked\r\n"),
        Body::Stalled => head.push_str("content-length: 1024\r\n"),
    }
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    write_patiently(writer, shared, head.as_bytes())?;
    const BLOCK: usize = 64 * 1024;
    match body {
        Body::Huge(mut left) => {
            let zeros = vec![0u8; BLOCK];
            while left > 0 {
                let n = left.min(BLOCK as u64) as usize;
                write_patiently(writer, shared, &zeros[..n])?;
                left -= n as u64;
            }
            Some(())
        }
        Body::Endless => {
            let mut chunk = format!("{BLOCK:x}\r\n").into_bytes();
            chunk.resize(chunk.len() + BLOCK, 0);
            chunk.extend_from_slice(b"\r\n");
            loop {
                write_patiently(writer, shared, &chunk)?;
            }
        }
        Body::Stalled => {
            while !shared.stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(20));
            }
            None
        }
    }
}

/// Writes all of `bytes`, riding out write timeouts until the receiver stops; `None` when the
/// peer is gone or the receiver stopped.
fn write_patiently(writer: &mut TcpStream, shared: &Shared, mut bytes: &[u8]) -> Option<()> {
    while !bytes.is_empty() {
        match writer.write(bytes) {
            Ok(0) => return None,
            Ok(n) => bytes = &bytes[n..],
            Err(e) if is_timeout(&e) => {
                if shared.stop.load(Ordering::Relaxed) {
                    return None;
                }
            }
            Err(_) => return None,
        }
    }
    Some(())
}

/// Reads the request line and headers; `None` when the peer closed or the receiver stopped.
fn read_head(reader: &mut BufReader<TcpStream>, shared: &Shared) -> Option<Request> {
    let mut line = String::new();
    read_line_patiently(reader, &mut line, shared)?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let path = parts.next()?.to_owned();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        read_line_patiently(reader, &mut h, shared)?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    Some(Request {
        method,
        path,
        headers,
        body: Vec::new(),
        at: Instant::now(),
    })
}

/// Reads the body (`Content-Length`), gunzipping it if needed.
fn read_body(
    reader: &mut BufReader<TcpStream>,
    shared: &Shared,
    request: &mut Request,
) -> Option<()> {
    let len: usize = request
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    let mut read = 0;
    while read < len {
        match reader.read(&mut body[read..]) {
            Ok(0) => return None,
            Ok(n) => read += n,
            Err(e) if is_timeout(&e) => {
                if shared.stop.load(Ordering::Relaxed) {
                    return None;
                }
            }
            Err(_) => return None,
        }
    }
    if request
        .header("content-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("gzip"))
    {
        let mut out = Vec::new();
        if flate2::read::GzDecoder::new(&body[..])
            .read_to_end(&mut out)
            .is_ok()
        {
            body = out;
        }
    }
    request.body = body;
    request.at = Instant::now();
    Some(())
}

fn is_timeout(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}

fn read_line_patiently(
    reader: &mut BufReader<TcpStream>,
    buf: &mut String,
    shared: &Shared,
) -> Option<()> {
    loop {
        match reader.read_line(buf) {
            Ok(0) => return None,
            Ok(_) => return Some(()),
            Err(e) if is_timeout(&e) => {
                if shared.stop.load(Ordering::Relaxed) {
                    return None;
                }
            }
            Err(_) => return None,
        }
    }
}

fn dump(request: &Request) {
    let Some(dir) = std::env::var_os("SENTRY_SDK_DUMP_DIR") else {
        return;
    };
    let _ = std::fs::create_dir_all(&dir);
    let n = DUMPED.fetch_add(1, Ordering::Relaxed);
    let name = format!(
        "{}-{}-{n}.envelope",
        std::process::id(),
        request.at.elapsed().as_nanos()
    );
    let _ = std::fs::write(std::path::Path::new(&dir).join(name), &request.body);
}
