//! The `log` and `tracing` integrations, ours and the official `sentry-log` /
//! `sentry-tracing` side by side, with a client bound whose transport discards.
//!
//! - a `log::info!`-style record through each logger (default mapping: a breadcrumb), and the
//!   "bare logger" baseline: a logger that only formats the record into a reused buffer, what
//!   any real logger does at least;
//! - a `tracing::info!` event through each layer, and a bare `fmt` layer writing to a sink;
//! - a span created, entered, exited and closed, with tracing off and on.
//!
//! ```text
//! cargo bench --bench integrations --features log,tracing
//! ```

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[path = "support/discard.rs"]
mod discard;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use tracing_subscriber::prelude::*;

const DSN: &str = "https://public@127.0.0.1:9/1";

fn record_bench<L: log::Log>(c: &mut Criterion, name: &str, logger: &L) {
    c.bench_function(name, |b| {
        b.iter(|| {
            // Built as `log::info!("user {} signed in", id)` builds it in a module `bench`:
            // target = the static module path, plus static file and line.
            logger.log(
                &log::Record::builder()
                    .level(log::Level::Info)
                    .target("bench")
                    .module_path_static(Some("bench"))
                    .file_static(Some("benches/integrations.rs"))
                    .line(Some(30))
                    .args(format_args!("user {} signed in", black_box(42)))
                    .build(),
            )
        })
    });
}

/// Formats every record into a reused buffer: the least a real logger does.
struct BareLogger(Mutex<String>);

impl log::Log for BareLogger {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        let mut buf = self.0.lock().unwrap();
        buf.clear();
        let _ = write!(
            buf,
            "[{}] {}: {}",
            record.level(),
            record.target(),
            record.args()
        );
        black_box(&*buf);
    }
    fn flush(&self) {}
}

mod ours {
    use super::*;

    pub use crate::discard::Discard;

    pub fn client(tracing_on: bool) -> Arc<sentry_sdk::Client> {
        let mut options = sentry_sdk::ClientOptions::new()
            .dsn(DSN)
            .default_integrations(false)
            .transport(|_| Arc::new(Discard));
        if tracing_on {
            options = options.traces_sample_rate(1.0);
        }
        Arc::new(sentry_sdk::Client::new(options).expect("bench client"))
    }

    /// Runs `f` with `client` bound process-wide, as `init` binds it: the path a real
    /// program's records take.
    pub fn bound<R>(client: Arc<sentry_sdk::Client>, f: impl FnOnce() -> R) -> R {
        client.bind();
        let r = f();
        sentry_sdk::unbind();
        r
    }
}

mod official {
    use super::*;

    use crate::discard::OfficialDiscard as Discard;

    pub fn hub(traces_sample_rate: f32) -> Arc<sentry::Hub> {
        let options = sentry::ClientOptions::new()
            .dsn(DSN)
            .transport(Arc::new(Discard))
            .traces_sample_rate(traces_sample_rate);
        let client = sentry::Client::from_config(options);
        Arc::new(sentry::Hub::new(
            Some(Arc::new(client)),
            Arc::new(Default::default()),
        ))
    }
}

fn log_records(c: &mut Criterion) {
    record_bench(
        c,
        "log_record/bare_logger",
        &BareLogger(Mutex::new(String::new())),
    );
    let ours_logger = sentry_sdk::integrations::log::SentryLogger::new();
    ours::bound(ours::client(false), || {
        // A thread of a program that never forks an isolation scope writes to the
        // process-wide default one.
        record_bench(c, "log_record/ours_default_isolation", &ours_logger);
        sentry_sdk::with_isolation_scope(|| record_bench(c, "log_record/ours", &ours_logger));
    });
    let official_logger = sentry::integrations::log::SentryLogger::new();
    sentry::Hub::run(official::hub(0.0), || {
        record_bench(c, "log_record/official", &official_logger)
    });
}

fn tracing_events(c: &mut Criterion) {
    let bare = tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::sink));
    tracing::subscriber::with_default(bare, || {
        c.bench_function("tracing_event/bare_fmt_layer", |b| {
            b.iter(|| tracing::info!(user = black_box(42), "user signed in"))
        });
    });
    let layer =
        tracing_subscriber::registry().with(sentry_sdk::integrations::tracing::SentryLayer::new());
    ours::bound(ours::client(false), || {
        sentry_sdk::with_isolation_scope(|| {
            tracing::subscriber::with_default(layer, || {
                c.bench_function("tracing_event/ours", |b| {
                    b.iter(|| tracing::info!(user = black_box(42), "user signed in"))
                });
            });
        });
    });
    let layer = tracing_subscriber::registry().with({
        #[allow(deprecated)]
        sentry::integrations::tracing::layer()
    });
    sentry::Hub::run(official::hub(0.0), || {
        tracing::subscriber::with_default(layer, || {
            c.bench_function("tracing_event/official", |b| {
                b.iter(|| tracing::info!(user = black_box(42), "user signed in"))
            });
        });
    });
}

fn span_cycle() {
    let span = tracing::info_span!("work", batch = black_box(7));
    let entered = span.enter();
    drop(black_box(entered));
    drop(span);
}

fn spans(c: &mut Criterion) {
    tracing::subscriber::with_default(tracing_subscriber::registry(), || {
        c.bench_function("span_cycle/bare_registry", |b| b.iter(span_cycle));
    });
    for (label, on) in [("off", false), ("on", true)] {
        let layer = tracing_subscriber::registry()
            .with(sentry_sdk::integrations::tracing::SentryLayer::new());
        ours::bound(ours::client(on), || {
            tracing::subscriber::with_default(layer, || {
                c.bench_function(&format!("span_cycle/tracing_{label}/ours"), |b| {
                    b.iter(span_cycle)
                });
            });
        });
        // Official: "off" is a sample rate of 0 (its layer has no other off switch).
        let layer = tracing_subscriber::registry().with({
            #[allow(deprecated)]
            sentry::integrations::tracing::layer()
        });
        sentry::Hub::run(official::hub(if on { 1.0 } else { 0.0 }), || {
            tracing::subscriber::with_default(layer, || {
                c.bench_function(&format!("span_cycle/tracing_{label}/official"), |b| {
                    b.iter(span_cycle)
                });
            });
        });
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30);
    targets = log_records, tracing_events, spans
}
criterion_main!(benches);
