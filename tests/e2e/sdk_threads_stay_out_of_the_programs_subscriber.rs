//! The SDK's own threads run with a no-op `tracing` dispatcher: what reqwest, hyper and rustls
//! trace while sending (and `log` records bridged into `tracing`) never reaches the program's
//! global subscriber, unless `debug(true)` asks for it. The program's own events still do.
//!
//! A child test: it installs the process-wide subscriber.

use std::sync::Mutex;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;

use crate::support::*;

/// One event the program's subscriber saw: its target (the `log` target for a bridged `log`
/// record) and the name of the thread it was emitted on.
#[derive(Debug, Clone)]
struct Seen {
    target: String,
    thread: String,
}

static SEEN: Mutex<Vec<Seen>> = Mutex::new(Vec::new());

/// What the program's `fmt` layer printed.
static PRINTED: Mutex<Vec<u8>> = Mutex::new(Vec::new());

struct Printed;

impl std::io::Write for Printed {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        PRINTED
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The program's subscriber: records every event at any level, from any thread.
struct Recorder;

impl<S: Subscriber> Layer<S> for Recorder {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        struct LogTarget(Option<String>);
        impl Visit for LogTarget {
            fn record_str(&mut self, field: &Field, value: &str) {
                if field.name() == "log.target" {
                    self.0 = Some(value.to_owned());
                }
            }
            fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}
        }
        let mut log_target = LogTarget(None);
        event.record(&mut log_target);
        let seen = Seen {
            target: log_target
                .0
                .unwrap_or_else(|| event.metadata().target().to_owned()),
            thread: std::thread::current().name().unwrap_or("").to_owned(),
        };
        SEEN.lock().unwrap_or_else(|p| p.into_inner()).push(seen);
    }
}

const NOISY: [&str; 4] = ["hyper", "reqwest", "rustls", "h2"];

fn is_sdk_noise(s: &Seen) -> bool {
    s.thread.starts_with("sentry-transport") || NOISY.iter().any(|n| s.target.starts_with(n))
}

#[test]
fn the_http_stack_on_sdk_threads_stays_out_of_the_programs_subscriber() {
    for debug in ["0", "1"] {
        let output = child_test(
            "sdk_threads_stay_out_of_the_programs_subscriber::child_sends_with_a_trace_subscriber",
        )
        .env("E2E_SDK_DEBUG", debug)
        .output()
        .expect("child test runs");
        assert!(
            output.status.success(),
            "debug={debug}: {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[test]
#[ignore = "child test: run by its parent"]
fn child_sends_with_a_trace_subscriber() {
    let debug = from_parent("E2E_SDK_DEBUG") == "1";
    let trace = || tracing_subscriber::filter::LevelFilter::from_level(Level::TRACE);
    // A plain `fmt` subscriber at TRACE, as a program would have, plus a recorder that also
    // notes the thread of each event.
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_thread_names(true)
                .with_writer(|| Printed)
                .with_filter(trace()),
        )
        .with(Recorder.with_filter(trace()))
        .init();
    let receiver = Receiver::start();
    let guard = sentry_sdk::init(options(&receiver).debug(debug));
    for n in 0..3 {
        sentry_sdk::capture_message(&format!("message {n}"), sentry_sdk::Level::Info);
    }
    assert!(sentry_sdk::flush(WAIT));
    tracing::info!(target: "e2e::program", "the program's own event");
    drop(guard);
    assert_eq!(receiver.events().len(), 3, "the SDK did send over HTTP");

    let seen = SEEN.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let main_thread = std::thread::current().name().unwrap_or("").to_owned();
    assert!(
        seen.iter()
            .any(|s| s.target == "e2e::program" && s.thread == main_thread),
        "the program's own event reached its subscriber: {seen:#?}"
    );
    let printed =
        String::from_utf8_lossy(&PRINTED.lock().unwrap_or_else(|p| p.into_inner())).into_owned();
    assert!(printed.contains("the program's own event"), "{printed}");
    let printed_noise = printed
        .lines()
        .filter(|l| l.contains("sentry-transport") || NOISY.iter().any(|n| l.contains(n)))
        .count();
    assert_eq!(printed_noise > 0, debug, "fmt printed:\n{printed}");
    let noise: Vec<&Seen> = seen.iter().filter(|s| is_sdk_noise(s)).collect();
    if debug {
        // The same check finds the HTTP stack's events when they are let through.
        assert!(!noise.is_empty(), "debug(true): {seen:#?}");
    } else {
        assert!(noise.is_empty(), "from the SDK's threads: {noise:#?}");
    }
}
