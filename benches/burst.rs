//! Delivery throughput: a burst of 20,000 small events to a loopback sink, ours and the
//! official `sentry` crate (its default reqwest transport) side by side.
//!
//! Each sample captures the burst as fast as the caller can, then flushes (up to 60 s) and
//! counts what the sink received. Criterion's throughput line is events *sent* per second of
//! (burst + flush); the `delivered` line printed per SDK says how many of them arrived, and the
//! CPU the whole process (the in-process sink included) used per delivered event.
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

/// CPU time this process has used (all threads, the in-process sink included), from
/// `/proc/self/stat` in clock ticks of 10 ms (`USER_HZ` = 100 on Linux); zero elsewhere.
fn process_cpu() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return Duration::ZERO;
    };
    // The fields after the command name (which may hold spaces): utime and stime are the
    // 14th and 15th of the line, the 12th and 13th after ") ".
    let after = stat.rsplit_once(") ").map_or("", |(_, rest)| rest);
    let ticks: u64 = after
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|f| f.parse::<u64>().ok())
        .sum();
    Duration::from_millis(ticks * 10)
}

/// Wall time from burst start to flush end, and the process CPU time over it.
struct Timing {
    wall: Duration,
    cpu: Duration,
}

fn ours(receiver: &Receiver) -> Timing {
    let options = sentry_sdk::ClientOptions::new()
        .dsn(&receiver.dsn())
        .default_integrations(false);
    let client = Arc::new(sentry_sdk::Client::new(options).expect("client"));
    let (start, cpu) = (Instant::now(), process_cpu());
    sentry_sdk::with_thread_client(client.clone(), || {
        for i in 0..BURST {
            sentry_sdk::capture_message(&format!("burst {i}"), sentry_sdk::Level::Error);
        }
    });
    client.flush(Duration::from_secs(60));
    let took = Timing {
        wall: start.elapsed(),
        cpu: process_cpu() - cpu,
    };
    client.close(Duration::from_secs(1));
    took
}

fn official(receiver: &Receiver) -> Timing {
    let options = sentry::ClientOptions::new().dsn(&receiver.dsn());
    let client = Arc::new(sentry::Client::from_config(sentry::apply_defaults(options)));
    let hub = Arc::new(sentry::Hub::new(
        Some(client.clone()),
        Arc::new(Default::default()),
    ));
    let (start, cpu) = (Instant::now(), process_cpu());
    sentry::Hub::run(hub, || {
        for i in 0..BURST {
            sentry::capture_message(&format!("burst {i}"), sentry::Level::Error);
        }
    });
    client.flush(Some(Duration::from_secs(60)));
    let took = Timing {
        wall: start.elapsed(),
        cpu: process_cpu() - cpu,
    };
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
        ("ours", ours as fn(&Receiver) -> Timing),
        ("official", official),
    ] {
        let (mut total_time, mut total_cpu) = (Duration::ZERO, Duration::ZERO);
        let (mut total_delivered, mut runs) = (0usize, 0u32);
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let mut elapsed = Duration::ZERO;
                for _ in 0..iters {
                    // A fresh sink per burst: counting is outside the timed part.
                    let receiver = Receiver::start();
                    let took = run(&receiver);
                    elapsed += took.wall;
                    total_time += took.wall;
                    total_cpu += took.cpu;
                    total_delivered += count_events(&receiver);
                    runs += 1;
                }
                elapsed
            })
        });
        let per_run = total_delivered as f64 / f64::from(runs);
        println!(
            "{name}: delivered {per_run:.0} of {BURST} per burst ({:.1} %), {:.0} delivered events/s over {runs} bursts; \
             process CPU {:.0} % of one core, {:.1} µs per delivered event (sink included)",
            per_run * 100.0 / BURST as f64,
            total_delivered as f64 / total_time.as_secs_f64(),
            total_cpu.as_secs_f64() * 100.0 / total_time.as_secs_f64(),
            total_cpu.as_secs_f64() * 1e6 / total_delivered.max(1) as f64,
        );
    }
    group.finish();
}

criterion_group!(benches, burst);
criterion_main!(benches);
