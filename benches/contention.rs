//! How long a capture takes on the caller while symbolication runs, ours and the official
//! `sentry` crate side by side. One-shot latencies, so a plain harness (criterion's repeated
//! sampling cannot measure "the first symbolication of a process").
//!
//! ```text
//! cargo bench --bench contention
//! ```
//!
//! - `first_symbolication`: in a fresh process, one `capture_exception` on the main thread,
//!   then four threads capture an error each at once, while that first event's stack is being
//!   symbolicated (ours: on the SDK thread; the official crate: on the capturing threads
//!   themselves). Reported: the slowest of the four captures, per process, over 7 processes.
//! - `while_symbolicating`: 2,000 `capture_exception` calls on one thread while the SDK thread
//!   symbolicates them (the symbol cache emptied before every 100): per-call p50 / p99 / max.
//!   Ours only: the official crate symbolicates on the caller, so its p50 already includes it.
//!   A control run with the symbols kept cached (the SDK thread mostly idle) follows.
//! - `after_idle`: five captures in a row every 1.5 s: the first of each round against the rest.
//! - `panics_with_a_hung_server`: caught panics with a server that never answers: the first
//!   must return within `shutdown_timeout` (2 s), the later ones at once.
//!
//! Both SDKs send to a closed port on 127.0.0.1 (nothing is delivered; ours and the official
//! crate both give up quickly on a refused connection).

use std::process::Command;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

#[derive(Debug)]
struct BenchError(u32);

impl std::fmt::Display for BenchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "bench error {}", self.0)
    }
}

impl std::error::Error for BenchError {}

/// A DSN whose port nothing listens on.
fn closed_port_dsn() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(9);
    format!("http://public@127.0.0.1:{port}/1")
}

/// Runs `capture` once on this thread, then on four threads at once; returns the slowest of
/// the four, in microseconds.
fn four_threads_after_one(capture: fn(u32)) -> f64 {
    capture(0);
    let barrier = Arc::new(Barrier::new(4));
    let threads: Vec<_> = (1..=4)
        .map(|n| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                let start = Instant::now();
                capture(n);
                start.elapsed()
            })
        })
        .collect();
    threads
        .into_iter()
        .filter_map(|t| t.join().ok())
        .max()
        .unwrap_or_default()
        .as_secs_f64()
        * 1e6
}

fn ours_capture(n: u32) {
    sentry_sdk::capture_exception(&BenchError(n));
}

fn official_capture(n: u32) {
    sentry::capture_error(&BenchError(n));
}

/// One fresh process's `first_symbolication` round for `sdk`; prints `slowest_us=..`.
fn child_first_symbolication(sdk: &str) {
    let dsn = closed_port_dsn();
    let slowest = if sdk == "ours" {
        let _guard = sentry_sdk::init(
            sentry_sdk::ClientOptions::new()
                .dsn(&dsn)
                .default_integrations(false)
                .shutdown_timeout(Duration::from_millis(100)),
        );
        four_threads_after_one(ours_capture)
    } else {
        let _ = rustls::crypto::ring::default_provider().install_default();
        // With a stack, as ours: the official crate walks and symbolicates it on the caller.
        let mut options = sentry::ClientOptions::new()
            .dsn(dsn.as_str())
            .attach_stacktrace(true);
        options.shutdown_timeout = Duration::from_millis(100);
        let _guard = sentry::init(options);
        four_threads_after_one(official_capture)
    };
    println!("slowest_us={slowest:.0}");
}

fn first_symbolication() {
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(_) => return,
    };
    for sdk in ["ours", "official"] {
        let mut slowest: Vec<f64> = (0..7)
            .filter_map(|_| {
                let out = Command::new(&exe)
                    .env("CONTENTION_CHILD", sdk)
                    .output()
                    .ok()?;
                let text = String::from_utf8_lossy(&out.stdout);
                text.lines()
                    .find_map(|l| l.strip_prefix("slowest_us="))
                    .and_then(|v| v.parse().ok())
            })
            .collect();
        slowest.sort_by(f64::total_cmp);
        let median = slowest.get(slowest.len() / 2).copied().unwrap_or(f64::NAN);
        let max = slowest.last().copied().unwrap_or(f64::NAN);
        println!(
            "first_symbolication sdk={sdk} processes={} slowest_of_four_us_median={median:.0} max={max:.0} all={slowest:.0?}",
            slowest.len()
        );
    }
}

fn while_symbolicating() {
    let _guard = sentry_sdk::init(
        sentry_sdk::ClientOptions::new()
            .dsn(&closed_port_dsn())
            .default_integrations(false)
            .shutdown_timeout(Duration::from_millis(100)),
    );
    // The same loop twice: with the symbol cache emptied every 100 captures (the SDK thread
    // symbolicates all along), and as a control with it kept (the SDK thread mostly idle).
    for (name, clear_every) in [("while_symbolicating", 100), ("control_symbols_cached", 0)] {
        let mut calls = Vec::with_capacity(2_000);
        for n in 0..2_000u32 {
            if clear_every > 0 && n % clear_every == 0 {
                sentry_sdk::__clear_symbol_cache();
            }
            let start = Instant::now();
            ours_capture(n);
            calls.push(start.elapsed().as_secs_f64() * 1e6);
            // Spaced as a busy service's captures would be, without the thread going idle
            // (that case is `after_idle`).
            let until = Instant::now() + Duration::from_micros(100);
            while Instant::now() < until {
                std::hint::spin_loop();
            }
        }
        calls.sort_by(f64::total_cmp);
        let at = |p: f64| calls[((calls.len() - 1) as f64 * p) as usize];
        println!(
            "{name} sdk=ours calls={} p50_us={:.1} p99_us={:.1} max_us={:.1}",
            calls.len(),
            at(0.50),
            at(0.99),
            at(1.0)
        );
    }
}

/// Five captures in a row every 1.5 s (the thread sleeps in between): the first of each
/// round, against the others.
fn after_idle() {
    let _guard = sentry_sdk::init(
        sentry_sdk::ClientOptions::new()
            .dsn(&closed_port_dsn())
            .default_integrations(false)
            .shutdown_timeout(Duration::from_millis(100)),
    );
    let (mut first, mut rest) = (Vec::new(), Vec::new());
    for round in 0..6u32 {
        std::thread::sleep(Duration::from_millis(1_500));
        for n in 0..5 {
            let start = Instant::now();
            ours_capture(round * 10 + n);
            let us = start.elapsed().as_secs_f64() * 1e6;
            if round == 0 {
                continue; // the process's very first captures: one-time setup
            }
            if n == 0 {
                first.push(us);
            } else {
                rest.push(us);
            }
        }
    }
    rest.sort_by(f64::total_cmp);
    println!(
        "after_idle sdk=ours first_of_round_us={first:.1?} others_median_us={:.1}",
        rest.get(rest.len() / 2).copied().unwrap_or(f64::NAN)
    );
}

/// Caught panics with the panic hook on and a server that accepts connections and never
/// answers, `shutdown_timeout` 2 s: how long each `catch_unwind(panic)` takes. The first is
/// the SDK's first symbolication and a full wait; the others come once the transport knows
/// the server does not answer.
fn panics_with_a_hung_server() {
    let listener = match std::net::TcpListener::bind("127.0.0.1:0") {
        Ok(l) => l,
        Err(_) => return,
    };
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(9);
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream); // accepted, never read nor answered
        }
    });
    // Quiet: the SDK's hook chains to this one instead of the default printer.
    std::panic::set_hook(Box::new(|_| {}));
    let _guard = sentry_sdk::init(
        sentry_sdk::ClientOptions::new()
            .dsn(&format!("http://public@127.0.0.1:{port}/1"))
            .shutdown_timeout(Duration::from_secs(2)),
    );
    let times: Vec<f64> = (0..6)
        .map(|n| {
            let start = Instant::now();
            let _ = std::panic::catch_unwind(|| panic!("bench panic {n}"));
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    println!(
        "panics_with_a_hung_server sdk=ours shutdown_timeout_ms=2000 first_ms={:.1} later_ms={:.2?}",
        times[0],
        &times[1..]
    );
}

fn main() {
    if let Ok(sdk) = std::env::var("CONTENTION_CHILD") {
        child_first_symbolication(&sdk);
        return;
    }
    // `cargo bench` passes `--bench`; a filter argument picks one scenario.
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let wanted = |name: &str| filter.as_deref().map_or(true, |f| name.contains(f));
    if wanted("first_symbolication") {
        first_symbolication();
    }
    if wanted("while_symbolicating") {
        while_symbolicating();
    }
    if wanted("after_idle") {
        after_idle();
    }
    if wanted("panics_with_a_hung_server") {
        panics_with_a_hung_server();
    }
}
