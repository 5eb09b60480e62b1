//! Release health through the local receiver: the application session of a run (errored,
//! crashed, exited, sampled errors counted, dropped ones not), an `abnormal` previous run
//! found through the offline cache directory, and request-mode aggregates under axum.

use std::path::PathBuf;
use std::time::Duration;

use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use serde_json::Value;
use tower_http::catch_panic::CatchPanicLayer;

use crate::support::*;
use sentry_sdk::integrations::tower::SentryLayer;
use sentry_sdk::{ClientOptions, SessionMode};

/// Every `session` item received, in order, with the types of the items beside it.
fn session_updates(receiver: &Receiver) -> Vec<(Value, Vec<String>)> {
    let mut out = Vec::new();
    for request in receiver.requests() {
        let envelope = request.envelope();
        let types: Vec<String> = envelope
            .items()
            .iter()
            .map(|i| i.item_type().to_owned())
            .collect();
        for item in envelope.items() {
            if item.item_type() == "session" {
                out.push((item.payload_json().unwrap(), types.clone()));
            }
        }
    }
    out
}

/// Every aggregate bucket received, and the `attrs` of its item.
fn aggregates(receiver: &Receiver) -> Vec<(Value, Value)> {
    let mut out = Vec::new();
    for request in receiver.requests() {
        for item in request.envelope().items() {
            if item.item_type() == "sessions" {
                let body = item.payload_json().unwrap();
                for bucket in body["aggregates"].as_array().unwrap() {
                    out.push((bucket.clone(), body["attrs"].clone()));
                }
            }
        }
    }
    out
}

fn with_sessions(receiver: &Receiver) -> ClientOptions {
    options(receiver).auto_session_tracking(true)
}

#[derive(Debug)]
struct Failure(&'static str);

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for Failure {}

#[test]
fn a_run_that_errs_then_panics_sends_each_status_change_with_its_event_and_nothing_after() {
    let _serial = serial();
    let receiver = Receiver::start();
    let guard = sentry_sdk::init(
        with_sessions(&receiver)
            .default_integrations(true)
            // Dropped by user code: must not touch the session.
            .before_send(|event| {
                let dropped = event
                    .exception
                    .iter()
                    .any(|e| e.value.as_deref() == Some("ignored"));
                (!dropped).then_some(event)
            }),
    );
    sentry_sdk::capture_message("not an error", sentry_sdk::Level::Error);
    sentry_sdk::capture_exception(&Failure("ignored"));
    assert!(sentry_sdk::flush(WAIT));
    sentry_sdk::capture_exception(&Failure("first"));
    sentry_sdk::capture_exception(&Failure("second"));
    assert!(sentry_sdk::flush(WAIT));
    let joined = std::thread::spawn(|| panic!("worker exploded")).join();
    assert!(joined.is_err());
    drop(guard);

    let mut updates = session_updates(&receiver);
    // Envelopes are delivered in parallel: their arrival order is not the order they left in.
    updates.sort_by_key(|(u, _)| u["seq"].as_u64());
    let statuses: Vec<(&str, bool, u64, u64)> = updates
        .iter()
        .map(|(u, _)| {
            (
                u["status"].as_str().unwrap(),
                u["init"].as_bool().unwrap(),
                u["seq"].as_u64().unwrap(),
                u["errors"].as_u64().unwrap(),
            )
        })
        .collect();
    // 1. `ok`, init, sent by the first flush (the message and the dropped error do not count);
    // 2. `errored` with the first error's event; 3. the second error's count, by the flush;
    // 4. `crashed` with the panic's event; nothing after a terminal status (not at close).
    assert_eq!(
        statuses,
        [
            ("ok", true, 0, 0),
            ("errored", false, 1, 1),
            ("errored", false, 2, 2),
            ("crashed", false, 3, 3)
        ],
        "{updates:#?}"
    );
    assert_eq!(updates[1].1, ["event", "session"], "rides with its event");
    assert_eq!(updates[3].1, ["event", "session"], "rides with the panic");
    let sid = &updates[0].0["sid"];
    for (update, _) in &updates {
        assert_eq!(&update["sid"], sid);
        assert_eq!(update["attrs"]["release"], "e2e@1.0.0");
        assert_eq!(update["attrs"]["environment"], "test");
        assert_eq!(update["started"], updates[0].0["started"]);
        assert!(update["duration"].as_f64().unwrap() >= 0.0);
    }
}

#[test]
fn a_clean_run_exits_and_sampled_out_errors_still_count() {
    let _serial = serial();
    let receiver = Receiver::start();
    let guard = sentry_sdk::init(with_sessions(&receiver).sample_rate(0.0));
    sentry_sdk::set_user(Some(sentry_sdk::User {
        id: Some("user-7".into()),
        ..Default::default()
    }));
    // The user is read when the session starts: `init` started it without one.
    sentry_sdk::capture_exception(&Failure("sampled out"));
    sentry_sdk::capture_exception(&Failure("sampled out too"));
    drop(guard);
    let updates = session_updates(&receiver);
    assert_eq!(updates.len(), 1, "one update at close: {updates:#?}");
    let only = &updates[0].0;
    assert_eq!(only["status"], "errored");
    assert_eq!(only["errors"], 2);
    assert_eq!(only["init"], true);
    assert!(receiver.events().is_empty());

    // A run with no error exits; a session carries the scope's user (when it starts) as `did`.
    let receiver = Receiver::start();
    let guard = sentry_sdk::init(with_sessions(&receiver));
    sentry_sdk::start_session();
    sentry_sdk::end_session(sentry_sdk::SessionStatus::Exited);
    drop(guard);
    let mut updates = session_updates(&receiver);
    // Delivered in parallel: ordered by when each session started.
    updates.sort_by(|a, b| a.0["started"].as_str().cmp(&b.0["started"].as_str()));
    let seen: Vec<(&str, Option<&str>)> = updates
        .iter()
        .map(|(u, _)| (u["status"].as_str().unwrap(), u["did"].as_str()))
        .collect();
    // The first session (started by `init`, with the user set above) ends when the second
    // starts; the second is ended by hand.
    assert_eq!(
        seen,
        [("exited", Some("user-7")), ("exited", Some("user-7"))],
        "{updates:#?}"
    );
    assert_ne!(updates[0].0["sid"], updates[1].0["sid"]);
    sentry_sdk::set_user(None);
}

#[test]
fn no_release_no_sessions_and_auto_tracking_can_be_turned_off() {
    let _serial = serial();
    let receiver = Receiver::start();
    let no_release = ClientOptions::new()
        .dsn(&receiver.dsn())
        .default_integrations(false);
    drop(sentry_sdk::init(no_release));
    let guard = sentry_sdk::init(options(&receiver));
    sentry_sdk::capture_exception(&Failure("counted nowhere"));
    drop(guard);
    assert!(session_updates(&receiver).is_empty());
    assert_eq!(receiver.events().len(), 1);
}

fn marker_dir(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("sentry-e2e-sessions-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// The child: a run that starts its session, sends the first update, and then ends without
/// closing (as if killed).
#[test]
#[ignore = "run as a child process by an_unclosed_previous_run_is_reported_abnormal_by_the_next_start"]
fn child_runs_and_ends_without_closing() {
    let dsn = from_parent("SESSIONS_CHILD_DSN");
    let dir = from_parent("SESSIONS_CHILD_CACHE");
    let guard = sentry_sdk::init(
        ClientOptions::new()
            .dsn(&dsn)
            .release("e2e@0.9.0")
            .environment("test")
            .default_integrations(false)
            .cache_dir(dir),
    );
    sentry_sdk::capture_exception(&Failure("before the kill"));
    assert!(sentry_sdk::flush(WAIT));
    std::mem::forget(guard);
    std::process::exit(0);
}

#[test]
fn an_unclosed_previous_run_is_reported_abnormal_by_the_next_start() {
    let _serial = serial();
    let receiver = Receiver::start();
    let dir = marker_dir("abnormal");
    let status = child_test("release_health::child_runs_and_ends_without_closing")
        .env("SESSIONS_CHILD_DSN", receiver.dsn())
        .env("SESSIONS_CHILD_CACHE", &dir)
        .status()
        .unwrap();
    assert!(status.success());
    let before = session_updates(&receiver);
    assert_eq!(before.len(), 1, "{before:#?}");
    let sid = before[0].0["sid"].clone();
    assert_eq!(before[0].0["status"], "errored");

    // The next start (another release) reports that run, once.
    for _ in 0..2 {
        let guard = sentry_sdk::init(with_sessions(&receiver).cache_dir(&dir));
        drop(guard);
    }
    let updates = session_updates(&receiver);
    let abnormal: Vec<&Value> = updates
        .iter()
        .map(|(u, _)| u)
        .filter(|u| u["status"] == "abnormal")
        .collect();
    assert_eq!(abnormal.len(), 1, "{updates:#?}");
    let report = abnormal[0];
    assert_eq!(report["sid"], sid);
    assert_eq!(report["init"], false, "its first update had left");
    assert_eq!(report["seq"], 1);
    assert_eq!(report["errors"], 1);
    assert_eq!(
        report["attrs"]["release"], "e2e@0.9.0",
        "the previous run's release"
    );
    // The two runs of this test closed cleanly: exited, and nothing left to report.
    let exited = updates
        .iter()
        .filter(|(u, _)| u["status"] == "exited")
        .count();
    assert_eq!(exited, 2);
    let _ = std::fs::remove_dir_all(&dir);
}

async fn work(Path(n): Path<u32>) -> StatusCode {
    if n == 99 {
        panic!("request {n} exploded");
    }
    if n % 33 == 1 {
        sentry_sdk::capture_exception(&std::io::Error::other(format!("request {n} failed")));
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    if n == 50 {
        // A message does not make a request errored.
        sentry_sdk::capture_message("slow", sentry_sdk::Level::Warning);
    }
    StatusCode::OK
}

#[test]
fn request_mode_counts_each_request_once_per_minute() {
    let _serial = serial();
    let receiver = Receiver::start();
    let guard = sentry_sdk::init(
        with_sessions(&receiver)
            .session_mode(SessionMode::Request)
            .default_integrations(true),
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new()
        .route("/work/{n}", get(work))
        .layer(SentryLayer::new())
        .layer(CatchPanicLayer::new());
    runtime.spawn(async move { axum::serve(listener, app).await });
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let statuses = runtime.block_on(async move {
        let mut statuses = Vec::new();
        for n in 0..100u32 {
            let response = http.get(format!("http://{addr}/work/{n}")).send().await;
            statuses.push(response.unwrap().status().as_u16());
        }
        statuses
    });
    assert_eq!(statuses.iter().filter(|s| **s == 500).count(), 4);
    drop(guard);
    drop(runtime);

    // No application session in request mode.
    assert!(session_updates(&receiver).is_empty());
    let buckets = aggregates(&receiver);
    let sum = |key: &str| {
        buckets
            .iter()
            .map(|(b, _)| b[key].as_u64().unwrap_or(0))
            .sum::<u64>()
    };
    assert_eq!(
        (
            sum("exited"),
            sum("errored"),
            sum("crashed"),
            sum("abnormal")
        ),
        (96, 3, 1, 0),
        "{buckets:#?}"
    );
    for (bucket, attrs) in &buckets {
        let started = bucket["started"].as_str().unwrap();
        assert!(
            started.ends_with(":00.000000Z"),
            "rounded to the minute: {started}"
        );
        assert_eq!(attrs["release"], "e2e@1.0.0");
    }
    // At most two minutes if the run crossed one.
    assert!(buckets.len() <= 2);
    std::thread::sleep(Duration::from_millis(1));
}

#[test]
fn the_worker_asks_for_periodic_envelopes_at_their_interval() {
    use sentry_sdk::transport::{
        Dsn, Envelope, HttpOptions, HttpTransport, Item, Periodic, Transport,
    };
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    let receiver = Receiver::start();
    let mut options = HttpOptions::new(
        receiver.dsn().parse::<Dsn>().unwrap(),
        "sentry.rust.sdk/test",
    );
    let asked = Arc::new(AtomicU32::new(0));
    let counter = asked.clone();
    options.periodic = Some(Periodic {
        every: Duration::from_millis(100),
        make: Arc::new(move || {
            // Every other call has something due.
            let n = counter.fetch_add(1, Ordering::Relaxed);
            (n % 2 == 0).then(|| {
                let mut envelope = Envelope::new();
                envelope.add_item(Item::new(
                    "client_report",
                    br#"{"discarded_events":[]}"#.to_vec(),
                ));
                envelope
            })
        }),
    });
    let transport = HttpTransport::new(options);
    std::thread::sleep(Duration::from_millis(650));
    assert!(transport.flush(WAIT));
    let calls = asked.load(Ordering::Relaxed);
    assert!(
        (4..=8).contains(&calls),
        "asked {calls} times in 650 ms at 100 ms"
    );
    let sent = receiver.wait_for(calls.div_ceil(2) as usize, WAIT).len() as u32;
    assert_eq!(
        sent,
        calls.div_ceil(2),
        "one envelope per call that had one"
    );
}
