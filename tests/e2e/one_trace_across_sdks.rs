//! One trace across SDKs: a service instrumented by the official Python SDK calls our axum
//! example (`examples/axum.rs`, run as its own process, as outside tools drive it), which
//! calls a second Python service. All three report to one in-process receiver; the test reads
//! the three transactions and their envelope headers. And the reverse: the example heads the
//! trace and the Python SDK continues it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::python_peer::{transactions, PythonPeer};
use crate::receiver::Receiver;

/// `examples/axum.rs` as a process; stopped (SIGTERM, so that it closes the SDK) on drop.
struct AxumExample {
    child: Child,
    url: String,
}

impl AxumExample {
    fn start(dsn: &str, downstream: Option<&str>) -> AxumExample {
        let binary =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/debug/examples/axum");
        let binary = match std::env::var_os("CARGO_TARGET_DIR") {
            Some(dir) => std::path::Path::new(&dir).join("debug/examples/axum"),
            None => binary,
        };
        assert!(
            binary.exists(),
            "{} is built by `cargo test --all-features` (examples are built with the tests)",
            binary.display()
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let mut command = Command::new(binary);
        command
            .env("SENTRY_DSN", dsn)
            .env("SENTRY_TRACES_SAMPLE_RATE", "1.0")
            .env("PORT", port.to_string())
            .env_remove("SENTRY_DEBUG")
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        match downstream {
            Some(url) => command.env("DOWNSTREAM_URL", url),
            None => command.env_remove("DOWNSTREAM_URL"),
        };
        let mut child = command.spawn().expect("the axum example starts");
        let stdout = child.stdout.take().expect("piped");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.contains("listening on") {
                    let _ = tx.send(());
                }
            }
        });
        if rx.recv_timeout(Duration::from_secs(30)).is_err() {
            let _ = child.kill();
            panic!("the axum example did not say it listens");
        }
        AxumExample {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for AxumExample {
    fn drop(&mut self) {
        // SIGTERM: the example closes the SDK (sending what it holds) and exits.
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The one `http.client` span of `transaction`.
fn client_span(transaction: &Value) -> &Value {
    let spans = transaction["spans"].as_array().expect("spans");
    let clients: Vec<&Value> = spans.iter().filter(|s| s["op"] == "http.client").collect();
    assert_eq!(clients.len(), 1, "one http.client span: {spans:#?}");
    clients[0]
}

fn sdk_of(headers: &Value) -> &str {
    headers["sdk"]["name"].as_str().unwrap_or("")
}

#[test]
fn python_calls_rust_calls_python_in_one_trace() {
    let receiver = Receiver::start();
    let last = PythonPeer::start(&receiver.dsn(), None);
    let middle = AxumExample::start(&receiver.dsn(), Some(&format!("{}/last", last.url())));
    let first = PythonPeer::start(&receiver.dsn(), Some(&format!("{}/hello", middle.url)));
    let (status, body) = first.get("/first", &[]);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["downstream_status"], 200, "{body}");

    let found = transactions(&receiver, 3);
    let ours: Vec<&(Value, Value)> = found
        .iter()
        .filter(|(h, _)| sdk_of(h) == "sentry.rust.sdk")
        .collect();
    assert_eq!(ours.len(), 1, "one transaction from the Rust service");
    let (rust_headers, rust) = ours[0];
    let python: Vec<&(Value, Value)> = found
        .iter()
        .filter(|(h, _)| sdk_of(h) != "sentry.rust.sdk")
        .collect();
    // The first Python service heads the trace (no parent); the last continues it.
    let (first_headers, first_tx) = python
        .iter()
        .find(|(_, t)| t["contexts"]["trace"]["parent_span_id"].is_null())
        .map(|(h, t)| (h, t))
        .expect("the head of the trace");
    let (last_headers, last_tx) = python
        .iter()
        .find(|(_, t)| !t["contexts"]["trace"]["parent_span_id"].is_null())
        .map(|(h, t)| (h, t))
        .expect("the last service");

    let trace_id = &first_tx["contexts"]["trace"]["trace_id"];
    assert_eq!(&rust["contexts"]["trace"]["trace_id"], trace_id);
    assert_eq!(&last_tx["contexts"]["trace"]["trace_id"], trace_id);
    assert_eq!(
        rust["contexts"]["trace"]["parent_span_id"],
        client_span(first_tx)["span_id"],
        "the Rust transaction's parent is the first service's http.client span"
    );
    assert_eq!(
        last_tx["contexts"]["trace"]["parent_span_id"],
        client_span(rust)["span_id"],
        "the last service's parent is the Rust service's http.client span"
    );
    // The DSC the first service froze, in every envelope header.
    assert_eq!(rust_headers["trace"], first_headers["trace"]);
    assert_eq!(last_headers["trace"], first_headers["trace"]);
    assert_eq!(first_headers["trace"]["trace_id"], *trace_id);
}

#[test]
fn rust_heads_the_trace_and_python_continues_it() {
    let receiver = Receiver::start();
    let last = PythonPeer::start(&receiver.dsn(), None);
    let head = AxumExample::start(&receiver.dsn(), Some(&format!("{}/last", last.url())));
    let (status, _) = crate::python_peer::http_get_url(&format!("{}/hello", head.url));
    assert_eq!(status, 200);

    let found = transactions(&receiver, 2);
    let (rust_headers, rust) = found
        .iter()
        .find(|(h, _)| sdk_of(h) == "sentry.rust.sdk")
        .expect("the Rust transaction");
    let (python_headers, python) = found
        .iter()
        .find(|(h, _)| sdk_of(h) != "sentry.rust.sdk")
        .expect("the Python transaction");
    assert!(
        rust["contexts"]["trace"]["parent_span_id"].is_null(),
        "the head"
    );
    assert_eq!(
        python["contexts"]["trace"]["trace_id"],
        rust["contexts"]["trace"]["trace_id"]
    );
    assert_eq!(
        python["contexts"]["trace"]["parent_span_id"],
        client_span(rust)["span_id"]
    );
    // Our DSC, frozen when the request left, is what the Python SDK propagated.
    assert_eq!(python_headers["trace"], rust_headers["trace"]);
    let dsc = &rust_headers["trace"];
    assert_eq!(dsc["public_key"], "public");
    assert_eq!(dsc["sampled"], "true");
    assert_eq!(dsc["trace_id"], rust["contexts"]["trace"]["trace_id"]);
}
