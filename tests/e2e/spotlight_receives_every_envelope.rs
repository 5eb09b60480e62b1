//! Spotlight: the real sidecar (npm `@spotlightjs/spotlight`, started on 127.0.0.1 by
//! `scripts/interop/spotlight-sidecar.sh`, which installs it) gets every envelope: with no DSN
//! at all, and beside the real delivery with one, byte for byte what the server got.

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::*;
use sentry_sdk::performance::{start_transaction, TransactionContext};
use sentry_sdk::protocol::Level;
use sentry_sdk::ClientOptions;

/// The sidecar, stopped when dropped.
struct Sidecar {
    child: Child,
    port: u16,
}

impl Sidecar {
    fn start() -> Sidecar {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/scripts/interop/spotlight-sidecar.sh"
        );
        let child = Command::new("bash")
            .arg(script)
            .arg(port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("bash runs the sidecar script");
        // Stopped by `drop` whatever happens below.
        let mut sidecar = Sidecar { child, port };
        // The first run installs it first (npm ci): allow a few minutes.
        let deadline = Instant::now() + Duration::from_secs(300);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = sidecar.child.try_wait() {
                panic!("the Spotlight sidecar exited before listening: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "the Spotlight sidecar did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        sidecar
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/stream", self.port)
    }

    /// What the sidecar holds: every envelope as its event stream replays it to a new viewer,
    /// `(header, [(item header, payload)])`, read until `done` says all expected ones are in.
    fn envelopes(
        &self,
        done: impl Fn(&[(Value, Vec<(Value, Value)>)]) -> bool,
    ) -> Vec<(Value, Vec<(Value, Value)>)> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let url = self.url();
        runtime.block_on(async move {
            let http = reqwest::Client::builder().no_proxy().build().unwrap();
            let mut response = http.get(&url).send().await.expect("the event stream");
            let mut text = String::new();
            let mut envelopes = Vec::new();
            let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
            loop {
                let chunk = tokio::time::timeout_at(deadline, response.chunk()).await;
                let Ok(Ok(Some(chunk))) = chunk else { break };
                text.push_str(&String::from_utf8_lossy(&chunk));
                envelopes = parse_events(&text);
                if done(&envelopes) {
                    break;
                }
            }
            envelopes
        })
    }
}

impl Drop for Sidecar {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `data:` lines of a server-sent event stream, each an envelope as Spotlight parsed it.
fn parse_events(text: &str) -> Vec<(Value, Vec<(Value, Value)>)> {
    text.lines()
        .filter_map(|line| line.strip_prefix("data: "))
        .filter_map(|data| serde_json::from_str::<Value>(data).ok())
        .filter_map(|envelope| {
            let header = envelope.get(0)?.clone();
            let items = envelope
                .get(1)?
                .as_array()?
                .iter()
                .filter_map(|item| Some((item.get(0)?.clone(), item.get(1)?.clone())))
                .collect();
            Some((header, items))
        })
        .collect()
}

/// Items of `kind` across `envelopes`.
fn items<'a>(envelopes: &'a [(Value, Vec<(Value, Value)>)], kind: &str) -> Vec<&'a Value> {
    envelopes
        .iter()
        .flat_map(|(_, items)| items.iter())
        .filter(|(header, _)| header["type"] == kind)
        .map(|(_, payload)| payload)
        .collect()
}

fn all_three(envelopes: &[(Value, Vec<(Value, Value)>)]) -> bool {
    ["event", "transaction", "log"]
        .iter()
        .all(|kind| !items(envelopes, kind).is_empty())
}

/// An event, a transaction and a log.
fn send_one_of_each() -> sentry_sdk::EventId {
    let id = sentry_sdk::capture_message("hello spotlight", Level::Error);
    let transaction = start_transaction(TransactionContext::new("spotlight-job", "task"));
    transaction.start_child("db.query", "SELECT 1").finish();
    transaction.finish();
    sentry_sdk::logger_info!("log for spotlight {}", 7);
    id
}

#[test]
fn spotlight_receives_every_envelope() {
    let _serial = serial();
    let sidecar = Sidecar::start();

    // No DSN: Spotlight alone, nothing sampled away (tracing is on without a rate).
    let guard = sentry_sdk::init(
        ClientOptions::new()
            .spotlight(sidecar.url())
            .release("e2e@1.0.0")
            .auto_session_tracking(false)
            .enable_logs(true)
            .default_integrations(false),
    );
    assert!(
        guard.is_enabled(),
        "a Spotlight-only client runs without a DSN"
    );
    let id = send_one_of_each();
    drop(guard);
    let envelopes = sidecar.envelopes(all_three);
    let events = items(&envelopes, "event");
    assert_eq!(events.len(), 1, "{envelopes:#?}");
    assert_eq!(events[0]["event_id"], id.to_string());
    assert_eq!(events[0]["logentry"]["formatted"], "hello spotlight");
    assert_eq!(events[0]["level"], "error");
    let transactions = items(&envelopes, "transaction");
    assert_eq!(transactions.len(), 1);
    assert_eq!(transactions[0]["transaction"], "spotlight-job");
    assert_eq!(transactions[0]["spans"][0]["description"], "SELECT 1");
    let logs = items(&envelopes, "log");
    assert_eq!(logs[0]["items"][0]["body"], "log for spotlight 7");
    let event_header = envelopes
        .iter()
        .find(|(_, items)| items.iter().any(|(h, _)| h["type"] == "event"))
        .map(|(header, _)| header)
        .unwrap();
    assert_eq!(event_header["event_id"], id.to_string());
}

#[test]
fn with_a_dsn_spotlight_gets_what_the_server_got() {
    let _serial = serial();
    let sidecar = Sidecar::start();
    let receiver = Receiver::start();
    let guard = sentry_sdk::init(
        options(&receiver)
            .spotlight(sidecar.url())
            .traces_sample_rate(1.0)
            .enable_logs(true),
    );
    send_one_of_each();
    drop(guard);
    let envelopes = sidecar.envelopes(all_three);
    let mut compared = 0;
    for request in receiver.requests() {
        for item in request.envelope().items() {
            let kind = item.item_type();
            if !["event", "transaction", "log"].contains(&kind) {
                continue;
            }
            let sent = item.payload_json().unwrap();
            let seen = items(&envelopes, kind);
            assert_eq!(seen.len(), 1, "{kind}: {envelopes:#?}");
            // Spotlight adds the item type into the payload it shows; nothing else differs.
            let mut seen = seen[0].clone();
            if sent.get("type").is_none() {
                seen.as_object_mut().unwrap().remove("type");
            }
            assert_eq!(seen, sent, "{kind} arrived changed");
            compared += 1;
        }
    }
    assert_eq!(
        compared, 3,
        "the server got an event, a transaction and a log"
    );
}

#[test]
fn a_spotlight_that_is_not_running_costs_the_real_delivery_nothing() {
    let _serial = serial();
    let receiver = Receiver::start();
    // A port nobody listens on: every copy is refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap();
    let nowhere = format!("http://127.0.0.1:{port}/stream");
    let guard = sentry_sdk::init(options(&receiver).spotlight(nowhere));
    let id = sentry_sdk::capture_message("delivered anyway", Level::Info);
    assert!(sentry_sdk::flush(WAIT));
    drop(guard);
    let events = receiver.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["event_id"], id.to_string());
}
