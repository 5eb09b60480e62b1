//! Caller-thread cost of trace metrics, ours and the official `sentry` crate (`metrics`
//! feature) side by side: a counter increment, and a distribution with a unit and two
//! attributes; and the same with no client bound.
//!
//! Both SDKs get a transport that discards what it is handed. Ours: what the caller pays is
//! the builder, the trace lookup and handing one deferred build to the transport (the
//! attribute map, the defaults, `before_send_metric` and serialisation run on the worker,
//! measured by the `ours/worker` cases: caller and build together). The official crate builds
//! the metric (defaults included) on the caller and pushes it into its batcher under a mutex,
//! handing an envelope to the transport every 100 metrics.
//!
//! ```text
//! cargo bench --bench metrics                    # criterion, times
//! METRICS_BENCH_CASE=ours-count valgrind --tool=callgrind --collect-atstart=no \
//!     '--toggle-collect=*measured_region*' target/release/deps/metrics-<hash> --bench
//! ```
//! Cases: `ours-count`, `official-count`, `ours-distribution`, `official-distribution`,
//! `ours-no-client`, `official-no-client`: 1,000 metrics in `measured_region` after 100
//! warm-up ones (so that the official batcher's envelope every 100 falls inside in
//! proportion).

use std::sync::Arc;
use std::time::Duration;

#[path = "support/discard.rs"]
mod discard;

use criterion::{black_box, Criterion};

const DSN: &str = "https://public@127.0.0.1:9/1";

mod ours {
    use super::*;
    use sentry_sdk::metrics;
    use sentry_sdk::transport::Transport;

    pub use crate::discard::BuildAndDiscard;

    pub fn client(transport: Arc<dyn Transport>) -> Arc<sentry_sdk::Client> {
        let options = sentry_sdk::ClientOptions::new()
            .dsn(DSN)
            .release("bench@1.0.0")
            .default_integrations(false)
            .transport(move |_| transport.clone());
        Arc::new(sentry_sdk::Client::new(options).expect("bench client"))
    }

    pub fn count() {
        metrics::count(black_box("orders.placed"), 1);
    }

    pub fn distribution() {
        metrics::distribution(black_box("checkout.latency"), black_box(12.5))
            .unit("millisecond")
            .attribute("region", "eu")
            .attribute("retried", false);
    }
}

mod official {
    use super::*;
    use sentry::metrics;
    use sentry::Hub;

    pub fn hub() -> Arc<Hub> {
        let options = sentry::ClientOptions::new()
            .dsn(DSN)
            .release("bench@1.0.0")
            .transport(Arc::new(crate::discard::OfficialDiscard));
        let client = sentry::Client::from_config(options);
        Arc::new(Hub::new(
            Some(Arc::new(client)),
            Arc::new(Default::default()),
        ))
    }

    pub fn no_client() -> Arc<Hub> {
        Arc::new(Hub::new(None, Arc::new(Default::default())))
    }

    pub fn count() {
        metrics::counter(black_box("orders.placed"), 1).capture();
    }

    pub fn distribution() {
        metrics::distribution(black_box("checkout.latency"), black_box(12.5))
            .unit("millisecond")
            .attribute("region", "eu")
            .attribute("retried", false)
            .capture();
    }
}

/// 1,000 metrics (callgrind counts what runs inside).
#[inline(never)]
fn measured_region(record: fn()) {
    for _ in 0..1000 {
        record();
    }
}

fn warm_then_measure(record: fn()) {
    for _ in 0..100 {
        record();
    }
    measured_region(record);
}

/// The `METRICS_BENCH_CASE` run, if one is asked for; true if it ran.
fn one_case() -> bool {
    let Ok(case) = std::env::var("METRICS_BENCH_CASE") else {
        return false;
    };
    let ours = |record: fn()| {
        let client = ours::client(Arc::new(discard::Discard));
        sentry_sdk::with_thread_client(client, || warm_then_measure(record));
    };
    let official = |hub: Arc<sentry::Hub>, record: fn()| {
        sentry::Hub::run(hub, || warm_then_measure(record));
    };
    match case.as_str() {
        "ours-count" => ours(ours::count),
        "ours-distribution" => ours(ours::distribution),
        "ours-no-client" => warm_then_measure(ours::distribution),
        "official-count" => official(official::hub(), official::count),
        "official-distribution" => official(official::hub(), official::distribution),
        "official-no-client" => official(official::no_client(), official::distribution),
        other => eprintln!("unknown METRICS_BENCH_CASE {other}"),
    }
    true
}

fn criterion_benches(c: &mut Criterion) {
    let client = ours::client(Arc::new(discard::Discard));
    sentry_sdk::with_thread_client(client, || {
        c.bench_function("ours/count", |b| b.iter(ours::count));
        c.bench_function("ours/distribution", |b| b.iter(ours::distribution));
    });
    let client = ours::client(Arc::new(ours::BuildAndDiscard));
    sentry_sdk::with_thread_client(client, || {
        c.bench_function("ours/worker/count", |b| b.iter(ours::count));
        c.bench_function("ours/worker/distribution", |b| b.iter(ours::distribution));
    });
    c.bench_function("ours/no_client/distribution", |b| {
        b.iter(ours::distribution)
    });
    sentry::Hub::run(official::hub(), || {
        c.bench_function("official/count", |b| b.iter(official::count));
        c.bench_function("official/distribution", |b| b.iter(official::distribution));
    });
    sentry::Hub::run(official::no_client(), || {
        c.bench_function("official/no_client/distribution", |b| {
            b.iter(official::distribution)
        });
    });
}

fn main() {
    if one_case() {
        return;
    }
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30)
        .configure_from_args();
    criterion_benches(&mut c);
    c.final_summary();
}
