//! The `log` and `tracing` integrations with the real macros: breadcrumbs, events (with
//! exception chains), structured logs, spans; the wrapped logger still gets every record; the
//! SDK's own logging never loops back.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;
use std::time::Duration;

use serde_json::Value;
use tracing_subscriber::prelude::*;

use crate::support::*;
use sentry_sdk::integrations::log::SentryLogger;
use sentry_sdk::integrations::tracing::SentryLayer;
use sentry_sdk::test::{events_of, with_captured_envelopes_options};
use sentry_sdk::ClientOptions;

/// The program's own logger: counts what it receives (without formatting anything).
struct CountingLogger;
static RECEIVED: AtomicUsize = AtomicUsize::new(0);
/// Of those, the records logged on the SDK's own threads.
static FROM_SDK_THREADS: AtomicUsize = AtomicUsize::new(0);

impl log::Log for CountingLogger {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, _: &log::Record<'_>) {
        RECEIVED.fetch_add(1, Ordering::SeqCst);
        if std::thread::current().name() == Some("sentry-transport") {
            FROM_SDK_THREADS.fetch_add(1, Ordering::SeqCst);
        }
    }
    fn flush(&self) {}
}

/// Installs the process-wide logger (once): `SentryLogger` around a counting logger.
pub(crate) fn install_logger() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        log::set_boxed_logger(Box::new(SentryLogger::with_dest(CountingLogger))).unwrap();
        log::set_max_level(log::LevelFilter::Trace);
    });
}

/// The event's stack starts at the macro call in this file: no SDK, `log`/`tracing` or
/// thread-local frames above it.
fn assert_stack_starts_in_this_file(event: &Value) {
    let exceptions = event["exception"]["values"].as_array();
    let frames = event["stacktrace"]["frames"]
        .as_array()
        .or_else(|| {
            exceptions?
                .iter()
                .find_map(|x| x["stacktrace"]["frames"].as_array())
        })
        .or_else(|| event["threads"]["values"][0]["stacktrace"]["frames"].as_array())
        .expect("a stack");
    let names: Vec<&str> = frames
        .iter()
        .filter_map(|f| f["function"].as_str())
        .collect();
    assert!(
        names
            .last()
            .is_some_and(|top| top.starts_with("e2e::log_and_tracing_reach_sentry::")),
        "{names:#?}"
    );
}

fn items_of(envelopes: &[sentry_sdk::transport::Envelope], ty: &str) -> Vec<Value> {
    envelopes
        .iter()
        .flat_map(|e| e.items())
        .filter(|i| i.item_type() == ty)
        .filter_map(|i| i.payload_json())
        .collect()
}

#[test]
fn log_records_become_breadcrumbs_events_and_logs_and_still_reach_the_wrapped_logger() {
    install_logger();
    let before = RECEIVED.load(Ordering::SeqCst);
    let envelopes = with_captured_envelopes_options(ClientOptions::new().enable_logs(true), || {
        log::trace!(target: "e2e::log", "not kept");
        log::debug!(target: "e2e::log", "not kept either");
        log::info!(target: "e2e::log", user_id = 42; "user signed in");
        log::warn!("provider slow"); // default target: this module's path
        log::error!(target: "e2e::log", order = 1001, paid = false; "order could not be charged");
    });
    assert!(
        RECEIVED.load(Ordering::SeqCst) - before >= 5,
        "the wrapped logger got every record"
    );
    let events = events_of(&envelopes);
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(e["level"], "error");
    assert_eq!(e["logger"], "e2e::log");
    assert_eq!(e["logentry"]["formatted"], "order could not be charged");
    assert_eq!(e["extra"]["order"], 1001);
    assert_eq!(e["extra"]["paid"], false);
    let crumbs: Vec<_> = e["breadcrumbs"]["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["message"].clone())
        .collect();
    assert_eq!(
        crumbs,
        [Value::from("user signed in"), Value::from("provider slow")]
    );
    assert_stack_starts_in_this_file(e);
    assert_eq!(e["breadcrumbs"]["values"][0]["category"], "e2e::log");
    assert_eq!(e["breadcrumbs"]["values"][1]["category"], module_path!());
    assert_eq!(e["breadcrumbs"]["values"][0]["data"]["user_id"], 42);
    let logs: Vec<Value> = items_of(&envelopes, "log")
        .iter()
        .flat_map(|c| c["items"].as_array().unwrap().clone())
        .collect();
    let bodies: Vec<_> = logs.iter().map(|l| l["body"].clone()).collect();
    assert_eq!(
        bodies,
        [
            "user signed in",
            "provider slow",
            "order could not be charged"
        ]
    );
    assert_eq!(
        logs[0]["attributes"]["user_id"],
        serde_json::json!({"value": 42, "type": "integer"})
    );
    assert_eq!(
        logs[0]["attributes"]["sentry.origin"]["value"],
        "auto.log.log"
    );
}

#[test]
fn with_no_client_a_log_record_is_not_formatted() {
    install_logger();
    struct Explodes;
    impl std::fmt::Display for Explodes {
        fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            panic!("formatted with no client bound")
        }
    }
    // Runs on a thread with no client (tests that `init` hold the serial lock).
    let _serial = serial();
    std::thread::spawn(|| log::error!("{}", Explodes))
        .join()
        .expect("not formatted");
}

#[derive(Debug)]
struct DiskFull;
impl std::fmt::Display for DiskFull {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("disk full")
    }
}
impl std::error::Error for DiskFull {}

#[derive(Debug)]
struct SaveFailed(DiskFull);
impl std::fmt::Display for SaveFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("save failed")
    }
}
impl std::error::Error for SaveFailed {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

#[tracing::instrument(err)]
fn save(name: &str) -> Result<(), SaveFailed> {
    Err(SaveFailed(DiskFull))
}

#[tracing::instrument(fields(sentry.op = "task", sentry.name = "nightly import"))]
fn import(batch: u32) {
    tracing::info!(rows = 3, "parsed");
    load(batch);
}

#[tracing::instrument(fields(sentry.op = "db.query"))]
fn load(batch: u32) {
    tracing::warn!("slow query");
}

fn with_layer<R>(f: impl FnOnce() -> R) -> R {
    let subscriber = tracing_subscriber::registry().with(SentryLayer::new());
    tracing::subscriber::with_default(subscriber, f)
}

#[test]
fn tracing_events_become_events_with_exception_chains_breadcrumbs_and_logs() {
    let envelopes = with_captured_envelopes_options(ClientOptions::new().enable_logs(true), || {
        with_layer(|| {
            tracing::debug!("ignored");
            tracing::info!(cart = 3, "added to cart");
            let err = SaveFailed(DiskFull);
            tracing::error!(
                error = &err as &dyn std::error::Error,
                file = "a.txt",
                "saving failed"
            );
            let _ = save("b.txt"); // #[instrument(err)]
        })
    });
    let events = events_of(&envelopes);
    assert_eq!(events.len(), 2, "{events:#?}");
    let chained = &events[0];
    let values = chained["exception"]["values"].as_array().unwrap();
    assert_eq!(values.len(), 2);
    assert_eq!(values[0]["value"], "disk full");
    assert_eq!(values[1]["value"], "save failed");
    assert_eq!(chained["logentry"]["formatted"], "saving failed");
    assert_stack_starts_in_this_file(chained);
    assert_eq!(chained["extra"]["file"], "a.txt");
    assert_eq!(
        chained["breadcrumbs"]["values"][0]["message"],
        "added to cart"
    );
    assert_eq!(chained["breadcrumbs"]["values"][0]["data"]["cart"], 3);
    // `#[instrument(err)]` records the error with Display: an error-level event.
    let instrumented = &events[1];
    assert_eq!(instrumented["level"], "error");
    assert!(instrumented["extra"]["error"]
        .as_str()
        .unwrap()
        .contains("save failed"));
    let logs: Vec<Value> = items_of(&envelopes, "log")
        .iter()
        .flat_map(|c| c["items"].as_array().unwrap().clone())
        .collect();
    assert!(logs
        .iter()
        .any(|l| l["body"] == "added to cart" && l["attributes"]["cart"]["value"] == 3));
    assert!(logs
        .iter()
        .all(|l| l["attributes"]["sentry.origin"]["value"] == "auto.log.tracing"));
}

#[test]
fn spans_become_a_transaction_with_children_when_tracing_is_on() {
    let envelopes =
        with_captured_envelopes_options(ClientOptions::new().traces_sample_rate(1.0), || {
            with_layer(|| import(7))
        });
    let transactions = items_of(&envelopes, "transaction");
    assert_eq!(transactions.len(), 1);
    let t = &transactions[0];
    assert_eq!(t["transaction"], "nightly import");
    assert_eq!(t["contexts"]["trace"]["op"], "task");
    assert_eq!(t["contexts"]["trace"]["data"]["batch"], 7);
    let spans = t["spans"].as_array().unwrap();
    assert_eq!(spans.len(), 1);
    assert_eq!(spans[0]["op"], "db.query");
    assert_eq!(spans[0]["description"], "load");
    assert_eq!(
        spans[0]["parent_span_id"],
        t["contexts"]["trace"]["span_id"]
    );
    assert_eq!(spans[0]["origin"], "auto.tracing");

    let off = with_captured_envelopes_options(ClientOptions::new(), || with_layer(|| import(1)));
    assert!(
        items_of(&off, "transaction").is_empty(),
        "tracing off: no transaction"
    );
}

#[test]
fn log_envelopes_are_exact_on_the_wire_and_batched() {
    let _serial = serial();
    let receiver = Receiver::start();
    let guard = sentry_sdk::init(options(&receiver).enable_logs(true));
    for n in 0..150 {
        sentry_sdk::logger_info!(n = n; "line {}", n);
    }
    drop(guard);
    let log_requests: Vec<_> = receiver
        .requests()
        .into_iter()
        .filter(|r| r.envelope().items().iter().any(|i| i.item_type() == "log"))
        .collect();
    assert_eq!(
        log_requests.len(),
        2,
        "100 in the first envelope, 50 in the second"
    );
    let mut total = 0;
    for r in &log_requests {
        let body = &r.body;
        let first_nl = body.iter().position(|&b| b == b'\n').unwrap();
        let rest = &body[first_nl + 1..];
        let header_end = rest.iter().position(|&b| b == b'\n').unwrap();
        let header = std::str::from_utf8(&rest[..header_end]).unwrap();
        let envelope = r.envelope();
        let item = &envelope.items()[0];
        let n = item.headers()["item_count"].as_u64().unwrap();
        assert_eq!(
            header,
            format!(
                "{{\"type\":\"log\",\"length\":{},\"item_count\":{n},\"content_type\":\"application/vnd.sentry.items.log+json\"}}",
                item.payload().len()
            )
        );
        assert!(item.payload().starts_with(b"{\"items\":[{"));
        assert_eq!(
            item.payload_json().unwrap()["items"]
                .as_array()
                .unwrap()
                .len() as u64,
            n
        );
        total += n;
    }
    assert_eq!(total, 150);
}

#[test]
fn the_sdks_own_debug_logging_does_not_loop() {
    install_logger();
    let _serial = serial();
    let receiver = Receiver::start();
    // Debug output on, every `log` level captured: reqwest and hyper log while sending.
    let logger_options = options(&receiver).debug(true).enable_logs(true);
    let guard = sentry_sdk::init(logger_options);
    log::error!(target: "e2e::loop", "one error");
    assert!(sentry_sdk::flush(WAIT));
    std::thread::sleep(Duration::from_millis(200));
    drop(guard);
    let events = receiver.events();
    assert_eq!(
        events.len(),
        1,
        "exactly the one error, nothing from the transport"
    );
    let leaked = receiver
        .requests()
        .iter()
        .flat_map(|r| r.envelope().items().to_vec())
        .filter(|i| i.item_type() == "log")
        .filter_map(|i| i.payload_json())
        .flat_map(|c| c["items"].as_array().unwrap().clone())
        .filter(|l| {
            l["attributes"]["logger.name"]["value"]
                .as_str()
                .is_some_and(|t| !t.starts_with("e2e"))
        })
        .count();
    assert_eq!(leaked, 0, "no log from reqwest, hyper or the SDK");
}

#[test]
fn a_traced_request_reaches_the_server_as_a_transaction_with_its_error_and_logs() {
    let _serial = serial();
    let receiver = Receiver::start();
    let guard = sentry_sdk::init(options(&receiver).traces_sample_rate(1.0).enable_logs(true));
    with_layer(|| {
        import(3);
        let span = tracing::info_span!("checkout", sentry.op = "http.server", order = 9);
        let _entered = span.enter();
        let err = SaveFailed(DiskFull);
        tracing::error!(error = &err as &dyn std::error::Error, "checkout failed");
    });
    drop(guard);
    let requests = receiver.requests();
    let of = |ty: &str| -> Vec<Value> {
        requests
            .iter()
            .flat_map(|r| r.envelope().items().to_vec())
            .filter(|i| i.item_type() == ty)
            .filter_map(|i| i.payload_json())
            .collect()
    };
    let transactions = of("transaction");
    assert_eq!(transactions.len(), 2, "import and checkout");
    let checkout = transactions
        .iter()
        .find(|t| t["transaction"] == "checkout")
        .unwrap();
    let events = of("event");
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0]["contexts"]["trace"]["trace_id"],
        checkout["contexts"]["trace"]["trace_id"]
    );
    assert_eq!(
        events[0]["contexts"]["trace"]["span_id"],
        checkout["contexts"]["trace"]["span_id"]
    );
    assert!(!of("log").is_empty());
}

#[test]
fn children_of_an_unsampled_span_are_not_sampled_anew() {
    let envelopes =
        with_captured_envelopes_options(ClientOptions::new().traces_sample_rate(0.5), || {
            with_layer(|| {
                for batch in 0..200 {
                    import(batch);
                }
            })
        });
    let transactions = items_of(&envelopes, "transaction");
    assert!(
        (50..150).contains(&transactions.len()),
        "{} of 200 sampled",
        transactions.len()
    );
    for t in &transactions {
        assert_eq!(
            t["transaction"], "nightly import",
            "a child became a root: {t}"
        );
        assert_eq!(t["spans"].as_array().unwrap().len(), 1);
    }
}

#[test]
fn tracing_spans_inside_an_entered_unsampled_transaction_stay_unsampled() {
    use sentry_sdk::performance::{start_transaction, TransactionContext};
    let envelopes =
        with_captured_envelopes_options(ClientOptions::new().traces_sample_rate(1.0), || {
            let unsampled =
                start_transaction(TransactionContext::new("manual", "task").sampled(false));
            let _entered = unsampled.as_span().enter();
            with_layer(|| import(1));
        });
    assert!(
        items_of(&envelopes, "transaction").is_empty(),
        "no orphan transaction"
    );
}

/// With the client bound process-wide (as `init` binds it) the record reaches it through a
/// thread-local copy; those frames are trimmed too.
#[test]
fn an_error_record_with_init_starts_its_stack_at_the_call() {
    let _serial = serial();
    install_logger();
    let receiver = Receiver::start();
    let guard = sentry_sdk::init(options(&receiver));
    log::error!(target: "e2e::log", "payment declined");
    drop(guard);
    let events = receiver.events();
    assert_eq!(events.len(), 1);
    assert_stack_starts_in_this_file(&events[0]);
}

/// Both integrations take a closure as their filter (here one that captures a prefix), so a
/// rule can hold state; a plain `fn` still works.
#[test]
fn both_integrations_take_a_closure_as_their_filter() {
    use sentry_sdk::integrations::log::RecordMapping;
    let ignored = String::from("noisy");
    let for_log = ignored.clone();
    let logger = SentryLogger::new().mapping(log::LevelFilter::Info, move |metadata| {
        if metadata.target().starts_with(&for_log) {
            RecordMapping::IGNORE
        } else {
            sentry_sdk::integrations::log::default_mapping(metadata)
        }
    });
    let layer = SentryLayer::new().event_filter(move |metadata| {
        if metadata.target().starts_with(&ignored) {
            RecordMapping::IGNORE
        } else {
            sentry_sdk::integrations::tracing::default_event_mapping(metadata)
        }
    });
    let _still_a_fn =
        SentryLayer::new().event_filter(sentry_sdk::integrations::tracing::default_event_mapping);
    let envelopes = with_captured_envelopes_options(ClientOptions::new().enable_logs(true), || {
        let record = |target: &'static str, text: &'static str| {
            log::Log::log(
                &logger,
                &log::Record::builder()
                    .level(log::Level::Info)
                    .target(target)
                    .args(format_args!("{text}"))
                    .build(),
            );
        };
        record("noisy::pool", "log dropped");
        record("app", "log kept");
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(target: "noisy::conn", "tracing dropped");
            tracing::info!(target: "app", "tracing kept");
        });
    });
    let bodies: Vec<Value> = items_of(&envelopes, "log")
        .iter()
        .flat_map(|c| c["items"].as_array().unwrap().clone())
        .map(|l| l["body"].clone())
        .collect();
    assert_eq!(bodies, ["log kept", "tracing kept"]);
}

/// The program's logger, wrapped in `SentryLogger`, gets no record from the SDK's threads
/// (reqwest's, hyper's) unless `debug(true)`; with it, it does (so this test can fail).
#[test]
fn the_sdk_threads_log_records_reach_the_wrapped_logger_only_in_debug() {
    install_logger();
    let _serial = serial();
    let sends = |debug: bool| {
        let receiver = Receiver::start();
        let before = FROM_SDK_THREADS.load(Ordering::SeqCst);
        let guard = sentry_sdk::init(options(&receiver).debug(debug));
        for _ in 0..3 {
            sentry_sdk::capture_message("over HTTP", sentry_sdk::Level::Info);
            assert!(sentry_sdk::flush(WAIT));
        }
        drop(guard);
        assert_eq!(receiver.events().len(), 3);
        FROM_SDK_THREADS.load(Ordering::SeqCst) - before
    };
    assert_eq!(sends(false), 0, "quiet without debug");
    assert!(sends(true) > 0, "the HTTP stack does log on the SDK thread");
}
