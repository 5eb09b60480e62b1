//! What must not allocate, checked with a counting allocator: every API call with no client
//! bound; a `log` record or `tracing` event that no client or no mapping keeps; and a `tracing`
//! span's life (create, enter, exit, close) when tracing is off or its trace is unsampled,
//! beyond what the `tracing` registry itself does; a trace metric with no client or metrics
//! off, and with a client, nothing beyond its queued build and its attributes.
//!
//! A test binary of its own: the counting allocator is process-wide. Its `unsafe` is the
//! `GlobalAlloc` impl only, delegating to the system allocator; the SDK's crates stay
//! `forbid(unsafe_code)`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Arc;
use std::time::Duration;

use sentry_sdk::protocol::{Breadcrumb, Level};
use sentry_sdk::transport::{Outgoing, Transport};
use tracing_subscriber::prelude::*;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

struct Counting;

// SAFETY: every call is forwarded unchanged to the system allocator; the only addition is a
// thread-local counter whose const initialisation never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as ours, passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours, passed on.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Allocations made on this thread by `f`, after running it once to warm caches up.
fn allocations(mut f: impl FnMut()) -> usize {
    f();
    let before = ALLOCATIONS.with(Cell::get);
    for _ in 0..10 {
        f();
    }
    ALLOCATIONS.with(Cell::get) - before
}

#[test]
fn with_no_client_the_api_allocates_nothing() {
    let err = "x".parse::<u8>().unwrap_err();
    assert_eq!(
        allocations(|| {
            let _ = sentry_sdk::capture_message("hello", Level::Info);
        }),
        0
    );
    assert_eq!(
        allocations(|| {
            let _ = sentry_sdk::capture_exception(&err);
        }),
        0
    );
    assert_eq!(
        allocations(|| sentry_sdk::add_breadcrumb(|| Breadcrumb {
            message: Some("never built".into()),
            ..Default::default()
        })),
        0
    );
    assert_eq!(allocations(|| sentry_sdk::set_tag("k", "v")), 0);
    assert_eq!(allocations(|| sentry_sdk::set_extra("k", 1)), 0);
    assert_eq!(
        allocations(|| sentry_sdk::with_scope(|s| s.set_tag("k", "v"), || ())),
        0
    );
    assert_eq!(
        allocations(|| sentry_sdk::logger_info!("user {} signed in", 42)),
        0
    );
    let order = vec![1, 2, 3];
    assert_eq!(
        allocations(|| {
            let _ = sentry_sdk::capture_exception!(&err, order);
        }),
        0
    );
    assert_eq!(allocations(|| sentry_sdk::metrics::count("n", 1).send()), 0);
    assert_eq!(
        allocations(|| {
            // Attribute values are not converted (a `&str` would become a `String`).
            sentry_sdk::metrics::distribution("latency", 12.5)
                .unit("millisecond")
                .attribute("region", "eu")
                .attribute("retries", 2)
                .send()
        }),
        0
    );
}

#[test]
fn with_metrics_off_a_metric_allocates_nothing() {
    let off = client(sentry_sdk::ClientOptions::new().enable_metrics(false));
    sentry_sdk::with_thread_client(off, || {
        assert_eq!(
            allocations(|| {
                sentry_sdk::metrics::gauge("depth", 3_u64)
                    .attribute("queue", "emails")
                    .send()
            }),
            0
        );
    });
}

#[test]
fn a_metric_costs_the_caller_one_allocation_beyond_its_attributes() {
    let on = client(sentry_sdk::ClientOptions::new());
    sentry_sdk::with_thread_client(on, || {
        // The queued build (one box holding the record and the build context).
        assert_eq!(
            allocations(|| sentry_sdk::metrics::count("n", 1).send()),
            10
        );
        // Plus the attribute list and the string value.
        assert_eq!(
            allocations(|| {
                sentry_sdk::metrics::count("n", 1)
                    .attribute("region", "eu")
                    .send()
            }),
            30
        );
    });
}

struct Discard;

impl Transport for Discard {
    fn send(&self, outgoing: Outgoing) {
        drop(outgoing);
    }
    fn flush(&self, _: Duration) -> bool {
        true
    }
}

fn client(options: sentry_sdk::ClientOptions) -> Arc<sentry_sdk::Client> {
    let options = options
        .dsn("https://public@127.0.0.1:9/1")
        .default_integrations(false)
        .transport(|_| Arc::new(Discard));
    Arc::new(sentry_sdk::Client::new(options).unwrap())
}

fn span_life() {
    let span = tracing::info_span!("work", batch = 7);
    let entered = span.enter();
    drop(entered);
    drop(span);
}

#[test]
fn a_span_allocates_nothing_more_than_the_registry_when_tracing_is_off_or_unsampled() {
    let bare = tracing::subscriber::with_default(tracing_subscriber::registry(), || {
        allocations(span_life)
    });
    for (label, options) in [
        ("tracing off", sentry_sdk::ClientOptions::new()),
        (
            "unsampled",
            sentry_sdk::ClientOptions::new().traces_sample_rate(0.0),
        ),
    ] {
        let layer = tracing_subscriber::registry()
            .with(sentry_sdk::integrations::tracing::SentryLayer::new());
        let ours = sentry_sdk::with_thread_client(client(options), || {
            tracing::subscriber::with_default(layer, || allocations(span_life))
        });
        assert_eq!(ours, bare, "{label}: the layer allocated");
    }
}

fn info_record(logger: &impl log::Log, level: log::Level) {
    logger.log(
        &log::Record::builder()
            .level(level)
            .target("app")
            .module_path_static(Some("app"))
            .args(format_args!("user {} signed in", 42))
            .build(),
    );
}

#[test]
fn a_log_record_or_tracing_event_nothing_keeps_allocates_nothing() {
    let logger = sentry_sdk::integrations::log::SentryLogger::new();
    // No client bound: nothing is formatted.
    assert_eq!(allocations(|| info_record(&logger, log::Level::Info)), 0);
    // A client bound, but the default mapping keeps nothing of a `debug` record.
    sentry_sdk::with_thread_client(client(sentry_sdk::ClientOptions::new()), || {
        assert_eq!(allocations(|| info_record(&logger, log::Level::Debug)), 0);
        // A `debug` tracing event through the layer: no more than the bare registry does.
        let bare = tracing::subscriber::with_default(tracing_subscriber::registry(), || {
            allocations(|| tracing::debug!(user = 42, "user signed in"))
        });
        let layer = tracing_subscriber::registry()
            .with(sentry_sdk::integrations::tracing::SentryLayer::new());
        let ours = tracing::subscriber::with_default(layer, || {
            allocations(|| tracing::debug!(user = 42, "user signed in"))
        });
        assert!(
            ours <= bare,
            "layer {ours} allocations, bare registry {bare}"
        );
    });
    // And the check can fail: a kept record does allocate.
    sentry_sdk::with_thread_client(client(sentry_sdk::ClientOptions::new()), || {
        assert!(allocations(|| info_record(&logger, log::Level::Info)) > 0);
    });
}

#[test]
fn entering_and_leaving_a_span_allocates_nothing() {
    use sentry_sdk::performance::{start_transaction, TransactionContext};
    sentry_sdk::with_thread_client(
        client(sentry_sdk::ClientOptions::new().traces_sample_rate(1.0)),
        || {
            let transaction = start_transaction(TransactionContext::new("work", "task"));
            assert!(transaction.is_sampled());
            let span = transaction.as_span();
            assert_eq!(allocations(|| drop(span.enter())), 0);
            // Nested, left innermost first.
            let child = span.start_child("db", "select");
            assert_eq!(
                allocations(|| {
                    let outer = span.enter();
                    let inner = child.enter();
                    drop(inner);
                    drop(outer);
                }),
                0
            );
        },
    );
}
