//! Native crashes with a minidump (feature `minidump`), and what the crash handler costs at
//! `init`.
//!
//! ```text
//! cargo run --example native_crash --features minidump -- cost      # init time and memory
//! cargo run --example native_crash -- cost                          # the same, feature off
//! SENTRY_DSN=https://key@your.server/1 cargo run --example native_crash --features minidump -- abort
//! ```
//! `cost` starts the SDK (DSN from `SENTRY_DSN`, else a local one nobody listens on) and prints
//! how long `init` took and the resident memory of this process and, with the feature, of its
//! monitor. `segv` and `abort` crash after `init`.

use std::time::{Duration, Instant};

/// Resident memory of `pid`, in KiB (Linux; 0 elsewhere).
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        })
        .unwrap_or(0)
}

/// The monitor's pid: this process's child, if any.
fn child_pids() -> Vec<u32> {
    let me = std::process::id();
    std::fs::read_to_string(format!("/proc/{me}/task/{me}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

#[cfg(feature = "minidump")]
fn monitor_first() {
    sentry_sdk::minidump::run_monitor_if_requested();
}

#[cfg(not(feature = "minidump"))]
fn monitor_first() {}

fn main() {
    monitor_first();
    let mode = std::env::args().nth(1).unwrap_or_else(|| "cost".into());
    let dsn = std::env::var("SENTRY_DSN").unwrap_or_else(|_| "http://public@127.0.0.1:9/1".into());
    let before = rss_kib(std::process::id());
    let start = Instant::now();
    let guard = sentry_sdk::init(
        sentry_sdk::ClientOptions::new()
            .dsn(&dsn)
            .release(concat!("native-crash@", env!("CARGO_PKG_VERSION")))
            .shutdown_timeout(Duration::from_secs(2)),
    );
    let took = start.elapsed();
    std::thread::sleep(Duration::from_millis(300));
    let after = rss_kib(std::process::id());
    let monitor: u64 = child_pids().into_iter().map(rss_kib).sum();
    match mode.as_str() {
        "abort" => std::process::abort(),
        _ => {
            println!(
                "init {:.2} ms, process RSS {} KiB (+{} KiB over init), monitor RSS {} KiB",
                took.as_secs_f64() * 1000.0,
                after,
                after.saturating_sub(before),
                monitor
            );
        }
    }
    drop(guard);
}
