//! Delivery throughput: a burst of 20,000 small events to a loopback sink, ours and the
//! official `sentry` crate (its default reqwest transport) side by side.
//!
//! Each sample captures the burst as fast as the caller can, then flushes (up to 60 s) and
//! counts what the sink received. Criterion's throughput line is events *sent* per second of
//! (burst + flush); the `delivered` line printed per SDK says how many of them arrived.
//!
//! ```text
//! cargo bench --bench burst
//! ```

#[path = "../tests/support/receiver.rs"]
mod receiver;

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use receiver::Receiver;

const BURST: u64 = 20_000;

fn count_events(receiver: &Receiver) -> usize {
    receiver
        .requests()
        .iter()
        .map(|r| {
            r.envelope()
                .items()
                .iter()
                .filter(|i| i.item_type() == "event")
                .count()
        })
        .sum()
}

fn ours(receiver: &Receiver) -> Duration {
    let options = sentry_sdk::ClientOptions::new()
        .dsn(&receiver.dsn())
        .default_integrations(false);
    let client = Arc::new(sentry_sdk::Client::new(options).expect("client"));
    let start = Instant::now();
    sentry_sdk::with_thread_client(client.clone(), || {
        for i in 0..BURST {
            sentry_sdk::capture_message(&format!("burst {i}"), sentry_sdk::Level::Error);
        }
    });
    client.flush(Duration::from_secs(60));
    let took = start.elapsed();
    client.close(Duration::from_secs(1));
    took
}

fn official(receiver: &Receiver) -> Duration {
    let options = sentry::ClientOptions::new().dsn(&receiver.dsn());
    let client = Arc::new(sentry::Client::from_config(sentry::apply_defaults(options)));
    let hub = Arc::new(sentry::Hub::new(
        Some(client.clone()),
        Arc::new(Default::default()),
    ));
    let start = Instant::now();
    sentry::Hub::run(hub, || {
        for i in 0..BURST {
            sentry::capture_message(&format!("burst {i}"), sentry::Level::Error);
        }
    });
    client.flush(Some(Duration::from_secs(60)));
    let took = start.elapsed();
    client.close(Some(Duration::from_secs(1)));
    took
}

fn burst(c: &mut Criterion) {
    // The official crate's reqwest 0.13 is built without a TLS provider of its own.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut group = c.benchmark_group("burst_20000");
    group.throughput(Throughput::Elements(BURST));
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(100));
    group.measurement_time(Duration::from_secs(5));
    for (name, run) in [
        ("ours", ours as fn(&Receiver) -> Duration),
        ("official", official),
    ] {
        let (mut total_time, mut total_delivered, mut runs) = (Duration::ZERO, 0usize, 0u32);
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let mut elapsed = Duration::ZERO;
                for _ in 0..iters {
                    // A fresh sink per burst: counting is outside the timed part.
                    let receiver = Receiver::start();
                    let took = run(&receiver);
                    elapsed += took;
                    total_time += took;
                    total_delivered += count_events(&receiver);
                    runs += 1;
                }
                elapsed
            })
        });
        let per_run = total_delivered as f64 / f64::from(runs);
        println!(
            "{name}: delivered {per_run:.0} of {BURST} per burst ({:.1} %), {:.0} delivered events/s over {runs} bursts",
            per_run * 100.0 / BURST as f64,
            total_delivered as f64 / total_time.as_secs_f64()
        );
    }
    group.finish();
}

criterion_group!(benches, burst);
criterion_main!(benches);
