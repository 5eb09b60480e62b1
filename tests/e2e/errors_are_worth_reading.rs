//! What an error event carries: the exact frames of a known call chain, source lines, local
//! values, contexts (computed once), debug images; and what keeps noise out: dedupe,
//! `ignore_errors`, `error_sampler`.

use std::fmt;
use std::time::Duration;

use serde_json::Value;

use crate::support::*;
use sentry_sdk::protocol::Level;

#[derive(Debug)]
struct StockError {
    sku: &'static str,
}

impl fmt::Display for StockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} is out of stock", self.sku)
    }
}

impl std::error::Error for StockError {}

#[inline(never)]
fn reserve(sku: &'static str, quantity: u32) -> sentry_sdk::EventId {
    let err = StockError { sku };
    let warehouse = "north";
    sentry_sdk::capture_exception!(&err, quantity, warehouse) // LINE:reserve
}

#[inline(never)]
fn add_to_cart(sku: &'static str) -> sentry_sdk::EventId {
    let id = reserve(sku, 3);
    std::hint::black_box(id)
}

#[inline(never)]
fn place_order() -> sentry_sdk::EventId {
    let id = add_to_cart("SKU-1");
    std::hint::black_box(id)
}

fn line_of(marker: &str) -> u64 {
    let source = include_str!("errors_are_worth_reading.rs");
    1 + source.lines().position(|l| l.ends_with(marker)).unwrap() as u64
}

fn capture_with_defaults(
    options: sentry_sdk::ClientOptions,
    f: impl FnOnce(),
) -> (Receiver, Vec<Value>) {
    let receiver = Receiver::start();
    let guard = sentry_sdk::init(options.dsn(&receiver.dsn()).release("e2e@1.0.0"));
    f();
    drop(guard);
    let events = receiver.events();
    (receiver, events)
}

#[test]
fn the_stack_source_lines_and_local_values_of_a_known_call_chain() {
    let _serial = serial();
    let (_r, events) = capture_with_defaults(sentry_sdk::ClientOptions::new(), || {
        place_order();
    });
    assert_eq!(events.len(), 1);
    let exception = &events[0]["exception"]["values"][0];
    assert_eq!(exception["type"], "StockError");
    assert_eq!(exception["value"], "SKU-1 is out of stock");
    let frames = exception["stacktrace"]["frames"].as_array().unwrap();
    let names: Vec<&str> = frames
        .iter()
        .filter_map(|f| f["function"].as_str())
        .collect();
    let n = names.len();
    assert_eq!(
        names[n - 3..],
        [
            "e2e::errors_are_worth_reading::place_order",
            "e2e::errors_are_worth_reading::add_to_cart",
            "e2e::errors_are_worth_reading::reserve",
        ],
        "{names:#?}"
    );
    for f in &frames[n - 3..] {
        assert_eq!(f["in_app"], true);
    }
    let top = frames.last().unwrap();
    assert_eq!(top["lineno"].as_u64().unwrap(), line_of("// LINE:reserve"));
    // Source context is the file's own lines around the line.
    let source: Vec<&str> = include_str!("errors_are_worth_reading.rs")
        .lines()
        .collect();
    let line = top["lineno"].as_u64().unwrap() as usize - 1;
    assert_eq!(top["context_line"], source[line]);
    assert_eq!(
        top["pre_context"],
        serde_json::json!(source[line - 5..line])
    );
    assert_eq!(
        top["post_context"],
        serde_json::json!(source[line + 1..line + 6])
    );
    // The local values sit on that frame.
    assert_eq!(top["vars"]["quantity"], "3");
    assert_eq!(top["vars"]["warehouse"], "\"north\"");
    // Library frames carry no context or values.
    let std_frame = frames
        .iter()
        .find(|f| f["in_app"] == false && f["function"].is_string())
        .expect("a library frame (the test harness's) below the user's");
    assert!(
        std_frame.get("context_line").is_none() && std_frame.get("vars").is_none(),
        "{std_frame}"
    );
}

#[test]
fn scope_local_values_reach_the_capture_frame() {
    let _serial = serial();
    let (_r, events) = capture_with_defaults(sentry_sdk::ClientOptions::new(), || {
        let batch = vec![1, 2, 3];
        sentry_sdk::with_scope(
            |scope| scope.set_local_value("batch", &batch),
            || sentry_sdk::capture_exception(&StockError { sku: "SKU-9" }),
        );
    });
    let frames = events[0]["exception"]["values"][0]["stacktrace"]["frames"]
        .as_array()
        .unwrap()
        .clone();
    let top = frames.iter().rev().find(|f| f["in_app"] == true).unwrap();
    assert_eq!(top["vars"]["batch"], "[1, 2, 3]");
}

#[test]
fn contexts_and_debug_images_are_attached_and_computed_once() {
    let _serial = serial();
    let (_r, events) = capture_with_defaults(sentry_sdk::ClientOptions::new(), || {
        sentry_sdk::capture_exception(&StockError { sku: "A" });
        sentry_sdk::capture_exception(&StockError { sku: "B" });
        sentry_sdk::capture_message("with contexts", Level::Info);
    });
    assert_eq!(events.len(), 3);
    for e in &events {
        let c = &e["contexts"];
        assert_eq!(c["runtime"]["name"], "rustc");
        assert!(c["os"]["name"].is_string());
        assert!(c["device"]["processor_count"].as_u64().unwrap() >= 1);
        assert!(c["app"]["app_start_time"].is_string());
    }
    assert_eq!(
        sentry_sdk::integrations::ContextsIntegration::times_computed(),
        1
    );
    if cfg!(target_os = "linux") {
        // Sent concurrently: take an error event, whichever arrived first.
        let error = events
            .iter()
            .find(|e| e.get("exception").is_some())
            .unwrap();
        let ex = &error["exception"]["values"][0];
        let top = ex["stacktrace"]["frames"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()
            .clone();
        let addr = u64::from_str_radix(
            top["instruction_addr"]
                .as_str()
                .unwrap()
                .trim_start_matches("0x"),
            16,
        )
        .unwrap();
        let images = error["debug_meta"]["images"].as_array().unwrap();
        let covering = images.iter().find(|img| {
            let start = u64::from_str_radix(
                img["image_addr"].as_str().unwrap().trim_start_matches("0x"),
                16,
            )
            .unwrap();
            (start..start + img["image_size"].as_u64().unwrap()).contains(&addr)
        });
        let image = covering.expect("the top frame's image is listed");
        assert_eq!(image["type"], "elf");
        assert!(!image["debug_id"].as_str().unwrap().is_empty());
        assert_eq!(image["code_id"].as_str().unwrap().len(), 40);
    }
}

#[test]
fn every_occurrence_is_sent_even_when_equal() {
    let _serial = serial();
    let (receiver, events) = capture_with_defaults(sentry_sdk::ClientOptions::new(), || {
        // One capture site in a loop: ten occurrences of an equal error.
        for _ in 0..10 {
            reserve("SKU-2", 1);
        }
        // 200 equal panics, each caught: 200 occurrences.
        for _ in 0..200 {
            let caught = std::panic::catch_unwind(|| panic!("the same panic every time"));
            assert!(caught.is_err());
        }
    });
    let errors = events
        .iter()
        .filter(|e| e["exception"]["values"][0]["value"] == "SKU-2 is out of stock")
        .count();
    let panics = events
        .iter()
        .filter(|e| e["exception"]["values"][0]["value"] == "the same panic every time")
        .count();
    assert_eq!((errors, panics), (10, 200));
    assert_eq!(receiver.client_reports(), []);
}

#[test]
fn one_error_value_reported_through_two_paths_is_sent_once() {
    use tracing_subscriber::layer::SubscriberExt;
    let _serial = serial();
    let subscriber =
        tracing_subscriber::registry().with(sentry_sdk::integrations::tracing::SentryLayer::new());
    let (receiver, events) = capture_with_defaults(sentry_sdk::ClientOptions::new(), || {
        tracing::subscriber::with_default(subscriber, || {
            let err = StockError { sku: "SKU-3" };
            tracing::error!(error = &err as &dyn std::error::Error, "reserving failed");
            sentry_sdk::capture_exception(&err);
            // And the other way round, with a boxed error.
            let boxed: Box<dyn std::error::Error + Send + Sync> =
                Box::new(StockError { sku: "SKU-4" });
            sentry_sdk::capture_exception(&*boxed);
            tracing::error!(error = &*boxed as &dyn std::error::Error, "again");
        });
    });
    let mut values: Vec<&str> = events
        .iter()
        .map(|e| e["exception"]["values"][0]["value"].as_str().unwrap())
        .collect();
    values.sort_unstable(); // deliveries run side by side: arrival order is not capture order
    assert_eq!(values, ["SKU-3 is out of stock", "SKU-4 is out of stock"]);
    // The tracing path came first for SKU-3: its event (with the message) is the one kept.
    let sku3 = events
        .iter()
        .find(|e| e["exception"]["values"][0]["value"] == "SKU-3 is out of stock")
        .unwrap();
    assert_eq!(sku3["logentry"]["formatted"], "reserving failed");
    assert_eq!(
        receiver.client_reports(),
        [("event_processor".into(), "error".into(), 2)]
    );
}

#[test]
fn dedupe_can_be_turned_off_alone() {
    let _serial = serial();
    let options = sentry_sdk::ClientOptions::new().dedupe(false);
    let (_r, events) = capture_with_defaults(options, || {
        let err = StockError { sku: "SKU-5" };
        sentry_sdk::capture_exception(&err);
        sentry_sdk::capture_exception(&err);
    });
    assert_eq!(events.len(), 2);
    // The other defaults are still there.
    assert!(events[0]["contexts"]["os"]["name"].is_string());
}

#[test]
fn a_dedupe_window_counts_repeats_into_the_next_event() {
    let _serial = serial();
    let options = sentry_sdk::ClientOptions::new().dedupe_window(Duration::from_millis(300));
    let (_r, events) = capture_with_defaults(options, || {
        // One capture site (same stack), as in a hot loop; the sixth round comes after the
        // window.
        for round in 0..6 {
            if round == 5 {
                assert!(sentry_sdk::flush(WAIT));
                std::thread::sleep(Duration::from_millis(350));
            }
            sentry_sdk::capture_exception(&StockError { sku: "W" });
            sentry_sdk::capture_exception(&StockError { sku: "V" }); // interleaved: still merged
        }
    });
    let w: Vec<_> = events
        .iter()
        .filter(|e| e["exception"]["values"][0]["value"] == "W is out of stock")
        .collect();
    assert_eq!(
        w.len(),
        2,
        "first of the window, then the next one after it"
    );
    assert!(w[0]["contexts"].get("repeats").is_none());
    assert_eq!(w[1]["contexts"]["repeats"]["count"], 4);
}

#[test]
fn ignore_errors_and_error_sampler_drop_what_they_should() {
    let _serial = serial();
    let options = sentry_sdk::ClientOptions::new()
        .ignore_errors("ParseIntError")
        .ignore_errors("out of stock")
        .error_sampler(|event| {
            if event.message.as_deref() == Some("noisy") {
                0.0
            } else {
                1.0
            }
        });
    let (receiver, events) = capture_with_defaults(options, || {
        sentry_sdk::capture_exception(&"x".parse::<u8>().unwrap_err());
        sentry_sdk::capture_exception(&StockError { sku: "Q" });
        sentry_sdk::capture_message("noisy", Level::Error);
        sentry_sdk::capture_message("kept", Level::Error);
    });
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["logentry"]["formatted"], "kept");
    assert_eq!(
        receiver.client_reports(),
        [
            ("event_processor".into(), "error".into(), 2),
            ("sample_rate".into(), "error".into(), 1)
        ]
    );
}

#[test]
fn anyhow_errors_keep_their_chain() {
    let _serial = serial();
    let (_r, events) = capture_with_defaults(sentry_sdk::ClientOptions::new(), || {
        let err = anyhow::anyhow!("disk full").context("saving the report");
        sentry_sdk::capture_anyhow(&err);
    });
    let values = events[0]["exception"]["values"].as_array().unwrap();
    let texts: Vec<_> = values
        .iter()
        .map(|v| v["value"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["disk full", "saving the report"]);
    let frames = values[1]["stacktrace"]["frames"].as_array().unwrap();
    assert!(frames.iter().any(|f| f["function"]
        .as_str()
        .is_some_and(|n| n.contains("anyhow_errors_keep_their_chain"))));
}

#[inline(never)]
fn make_anyhow_error() -> anyhow::Error {
    anyhow::anyhow!("disk full").context("saving the report")
}

#[inline(never)]
fn make_eyre_report() -> eyre::Report {
    eyre::eyre!("disk full").wrap_err("saving the report")
}

/// Run as a child with `RUST_LIB_BACKTRACE=1`: anyhow and eyre capture their own backtraces.
#[test]
#[ignore = "run as a child process by anyhow_and_eyre_backtraces_become_the_stack_where_the_error_was_made"]
fn child_captures_anyhow_and_eyre_with_backtraces() {
    let dsn = from_parent("E2E_BACKTRACE_DSN");
    let guard = sentry_sdk::init(
        sentry_sdk::ClientOptions::new()
            .dsn(&dsn)
            .default_integrations(false),
    );
    sentry_sdk::capture_anyhow(&make_anyhow_error());
    sentry_sdk::capture_eyre(&make_eyre_report());
    drop(guard);
}

#[test]
fn anyhow_and_eyre_backtraces_become_the_stack_where_the_error_was_made() {
    let receiver = Receiver::start();
    let status =
        child_test("errors_are_worth_reading::child_captures_anyhow_and_eyre_with_backtraces")
            .env("E2E_BACKTRACE_DSN", receiver.dsn())
            .env("RUST_LIB_BACKTRACE", "1")
            .status()
            .unwrap();
    assert!(status.success());
    let events = receiver.events();
    assert_eq!(events.len(), 2);
    // Sent concurrently: find each by its own stack.
    for maker in ["make_anyhow_error", "make_eyre_report"] {
        let top_function = |e: &Value| {
            let values = e["exception"]["values"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let frames = values.last().map(|v| v["stacktrace"]["frames"].clone());
            frames
                .and_then(|f| f.as_array().and_then(|f| f.last().cloned()))
                .and_then(|f| f["function"].as_str().map(str::to_owned))
                .unwrap_or_default()
        };
        let event = events
            .iter()
            .find(|e| top_function(e).ends_with(maker))
            .unwrap_or_else(|| panic!("no event whose top frame is {maker}: {events:#?}"));
        let values = event["exception"]["values"].as_array().unwrap();
        assert_eq!(values.last().unwrap()["value"], "saving the report");
        let frames = values.last().unwrap()["stacktrace"]["frames"]
            .as_array()
            .unwrap();
        let top = frames.last().unwrap();
        assert!(
            top["function"].as_str().unwrap().ends_with(maker),
            "the error's own stack, not the capture site's: {frames:#?}"
        );
        assert_eq!(top["in_app"], true);
        assert!(top["lineno"].as_u64().unwrap() > 0);
    }
}

/// Every event names the thread that captured it (as a panic does), stacks end without the
/// unwinder's null frame, no frame has column 0, and an `io::Error` in a chain is named with its
/// kind.
#[test]
fn events_name_their_thread_and_stacks_hold_only_real_frames() {
    use tracing_subscriber::layer::SubscriberExt;
    let _serial = serial();
    let subscriber =
        tracing_subscriber::registry().with(sentry_sdk::integrations::tracing::SentryLayer::new());
    let (_r, events) = capture_with_defaults(sentry_sdk::ClientOptions::new(), || {
        std::thread::Builder::new()
            .name("order-worker".into())
            .spawn(move || {
                tracing::subscriber::with_default(subscriber, || {
                    let io = std::io::Error::from_raw_os_error(2);
                    sentry_sdk::capture_exception(&io);
                    tracing::error!(error = &io as &dyn std::error::Error, "open failed");
                    tracing::error!("no error value");
                });
            })
            .unwrap()
            .join()
            .unwrap();
    });
    assert_eq!(
        events.len(),
        2,
        "the io error (reported through two paths) and the message"
    );
    for event in &events {
        let threads = event["threads"]["values"].as_array().expect("threads");
        let current: Vec<&Value> = threads.iter().filter(|t| t["current"] == true).collect();
        assert_eq!(current.len(), 1, "{event}");
        assert_eq!(current[0]["name"], "order-worker");
        assert!(current[0]["id"].as_u64().unwrap() > 0);
        let frames = event["exception"]["values"]
            .as_array()
            .and_then(|v| v.last())
            .map(|e| &e["stacktrace"]["frames"])
            .unwrap_or(&current[0]["stacktrace"]["frames"])
            .as_array()
            .expect("a stack")
            .clone();
        assert!(!frames.is_empty());
        for frame in &frames {
            assert_ne!(frame["instruction_addr"], "0x0", "{frame}");
            assert_ne!(frame["colno"], 0, "{frame}");
        }
    }
    let io = events
        .iter()
        .find(|e| e["exception"]["values"][0]["type"] == "io::Error")
        .expect("the io error, named");
    let exception = &io["exception"]["values"][0];
    assert_eq!(exception["module"], "std::io");
    assert_eq!(exception["mechanism"]["data"]["kind"], "NotFound");
    assert_eq!(exception["mechanism"]["data"]["errno"], 2);
    assert_eq!(exception["thread_id"], io["threads"]["values"][0]["id"]);
}
