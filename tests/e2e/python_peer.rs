//! The official Python SDK as a peer service (`scripts/interop/python_peer.py`), a std-only
//! HTTP/1.1 client to call it, and a downstream listener that records what the peer sends on.
//!
//! The pinned `sentry-sdk` lives in a venv under `target/interop/` (or `$INTEROP_DIR`), which
//! the first [`PythonPeer::start`] of a test run creates if needed (python3 + pip + network;
//! about 10 s once, then a ~0.3 s version check per test binary).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::receiver::Receiver;

/// How long the first start may take: creating the venv downloads the SDK.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a peer gets after SIGTERM to flush and exit before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/interop/python_peer.py")
}

/// The venv's python, with the pinned SDK installed (once per test binary: the script keeps
/// the pin, and `venv_install.py` takes a file lock so that test binaries don't race).
fn venv_python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let out = Command::new("python3")
            .arg(script())
            .arg("--ensure-venv")
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdin(Stdio::null())
            .output()
            .expect("run python3 (needed for the Python SDK peer)");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "installing the Python SDK failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        PathBuf::from(
            stdout
                .lines()
                .last()
                .expect("the venv's python path")
                .trim(),
        )
    })
}

/// A running `python_peer.py`, stopped on drop (SIGTERM, so it flushes; then SIGKILL).
pub struct PythonPeer {
    child: Child,
    port: u16,
    /// Everything the peer wrote to stderr, shown when a test fails.
    stderr: Arc<Mutex<String>>,
}

impl PythonPeer {
    /// Starts a peer that sends its envelopes to `dsn` and, with `downstream`, calls that URL
    /// while handling each request. Returns once it listens.
    pub fn start(dsn: &str, downstream: Option<&str>) -> PythonPeer {
        let mut command = Command::new(venv_python());
        command
            .arg(script())
            .env("PEER_DSN", dsn)
            .env("PEER_PORT", "0")
            .env_remove("PEER_DOWNSTREAM_URL")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(url) = downstream {
            command.env("PEER_DOWNSTREAM_URL", url);
        }
        let mut child = command.spawn().expect("spawn python_peer.py");
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr_pipe = child.stderr.take().expect("piped stderr");
        // Built before waiting, so that Drop stops the process if the wait below panics.
        let mut peer = PythonPeer {
            child,
            port: 0,
            stderr: Arc::new(Mutex::new(String::new())),
        };

        let stderr = peer.stderr.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr_pipe).lines().map_while(Result::ok) {
                let mut all = stderr.lock().unwrap_or_else(|p| p.into_inner());
                all.push_str(&line);
                all.push('\n');
            }
        });
        let (first_line, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines().map_while(Result::ok);
            let _ = first_line.send(lines.next());
            lines.for_each(drop); // keep draining: a closed pipe would fail the peer's prints
        });

        let line = rx.recv_timeout(START_TIMEOUT).ok().flatten();
        peer.port = line
            .as_deref()
            .and_then(|l| l.strip_prefix("listening on "))
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or_else(|| {
                panic!(
                    "python_peer.py did not say `listening on <port>` (first line: {line:?}); \
                     stderr:\n{}",
                    peer.stderr()
                )
            });
        peer
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn stderr(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// `GET path` with extra headers; returns the status and the JSON body.
    pub fn get(&self, path: &str, headers: &[(&str, &str)]) -> (u16, serde_json::Value) {
        let (status, body) = http_get(self.port, path, headers);
        let json = serde_json::from_slice(&body).unwrap_or_else(|e| {
            panic!(
                "the peer answered {status} with a body that is not JSON ({e}): {:?}; stderr:\n{}",
                String::from_utf8_lossy(&body),
                self.stderr()
            )
        });
        (status, json)
    }
}

impl Drop for PythonPeer {
    fn drop(&mut self) {
        // `kill` the command: std has no way to send SIGTERM, and this needs no new dependency.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill(); // no-op error if it already exited
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("python_peer.py stderr:\n{}", self.stderr());
        }
    }
}

/// A minimal HTTP/1.1 GET over a fresh connection (`Connection: close`).
/// `GET` of an `http://127.0.0.1:<port><path>` URL, without extra headers.
pub fn http_get_url(url: &str) -> (u16, Vec<u8>) {
    let rest = url
        .strip_prefix("http://127.0.0.1:")
        .expect("a loopback http URL");
    let (port, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    http_get(port.parse().expect("a port"), path, &[])
}

fn http_get(port: u16, path: &str, headers: &[(&str, &str)]) -> (u16, Vec<u8>) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to the peer");
    stream.set_read_timeout(Some(Duration::from_secs(30))).ok();
    let mut head =
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).expect("send the request");
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .expect("read the response");
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete response head");
    let status = String::from_utf8_lossy(&response[..split])
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    (status, response[split + 4..].to_vec())
}

/// A loopback listener standing for the next service: records the head of the first request
/// it gets and answers 200.
pub struct Downstream {
    port: u16,
    requests: mpsc::Receiver<Vec<(String, String)>>,
}

impl Downstream {
    pub fn start() -> Downstream {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local addr").port();
        let (tx, requests) = mpsc::channel();
        std::thread::spawn(move || {
            // Nonblocking with a deadline, so that the thread ends even if nobody calls.
            listener.set_nonblocking(true).expect("nonblocking");
            let deadline = Instant::now() + START_TIMEOUT;
            while Instant::now() < deadline {
                let Ok((stream, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                };
                let _ = tx.send(answer(stream));
                return;
            }
        });
        Downstream { port, requests }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/downstream", self.port)
    }

    /// The headers of the request that arrived (names lowercased).
    pub fn request(&self) -> BTreeMap<String, String> {
        let headers = self
            .requests
            .recv_timeout(crate::support::WAIT)
            .expect("the peer called the downstream service");
        headers.into_iter().collect()
    }
}

fn answer(stream: TcpStream) -> Vec<(String, String)> {
    stream.set_nonblocking(false).ok();
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let mut reader = BufReader::new(stream.try_clone().expect("clone the stream"));
    let mut headers = Vec::new();
    let mut line = String::new();
    reader.read_line(&mut line).expect("request line"); // GET /downstream HTTP/1.1
    loop {
        line.clear();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    let mut stream = stream;
    let _ =
        stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
    headers
}

/// The one transaction the peer sent to `receiver`: (envelope headers, payload).
pub fn transaction(receiver: &Receiver) -> (serde_json::Value, serde_json::Value) {
    // The peer flushes before it answers, so this is there already; the wait is a safety net.
    receiver.wait_for(1, crate::support::WAIT);
    let found = transactions_now(receiver);
    assert_eq!(found.len(), 1, "one transaction from the peer: {found:?}");
    found.into_iter().next().expect("checked above")
}

/// Waits (at most 15 s) until `n` transactions arrived at `receiver`; returns (envelope
/// headers, payload) of each, and fails if another number arrived.
pub fn transactions(receiver: &Receiver, n: usize) -> Vec<(serde_json::Value, serde_json::Value)> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let found = transactions_now(receiver);
        if found.len() >= n || Instant::now() > deadline {
            assert_eq!(found.len(), n, "transactions: {found:#?}");
            return found;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn transactions_now(receiver: &Receiver) -> Vec<(serde_json::Value, serde_json::Value)> {
    receiver
        .requests()
        .iter()
        .map(|r| r.envelope())
        .flat_map(|envelope| {
            let headers = serde_json::Value::Object(envelope.headers().clone());
            envelope
                .items()
                .iter()
                .filter(|i| i.item_type() == "transaction")
                .filter_map(|i| i.payload_json())
                .map(|payload| (headers.clone(), payload))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// `baggage` as a map, values percent-decoded (the Python SDK encodes `@` as `%40`).
pub fn baggage_entries(header: &str) -> BTreeMap<String, String> {
    header
        .split(',')
        .filter_map(|entry| entry.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), percent_decode(v.trim())))
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
