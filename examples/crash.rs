//! A program that crashes, for trying the offline cache with `panic = "abort"`.
//!
//! ```text
//! # build it the way a `panic = "abort"` release would run:
//! cargo rustc --example crash -- -C panic=abort
//! SENTRY_DSN=http://public@127.0.0.1:9/1 target/debug/examples/crash /tmp/sentry-cache  # server down: cached, aborts
//! SENTRY_DSN=https://key@your.server/1 target/debug/examples/crash /tmp/sentry-cache --deliver
//! ```
//! The first run panics; the panic hook writes the event to the cache directory, tries to send
//! it and, with the server down, the process aborts with the event still on disk. The second run
//! (`--deliver`) only starts the SDK, which sends what the cache holds, and waits for it.

use std::path::Path;
use std::time::{Duration, Instant};

fn files_in(cache: &Path) -> usize {
    std::fs::read_dir(cache.join("envelopes-v1")).map_or(0, |d| d.count())
}

#[inline(never)]
fn charge_card(amount: u32) -> u32 {
    if amount > 100 {
        panic!("card declined for {amount}");
    }
    amount
}

fn main() {
    let mut args = std::env::args().skip(1);
    let cache = args.next().unwrap_or_else(|| "sentry-cache".to_owned());
    let deliver = args.next().as_deref() == Some("--deliver");
    let options = sentry_sdk::ClientOptions::new()
        .cache_dir(&cache)
        .release(concat!("crash@", env!("CARGO_PKG_VERSION")))
        .shutdown_timeout(Duration::from_secs(2));
    let guard = sentry_sdk::init(options); // DSN from SENTRY_DSN
    if !guard.is_enabled() {
        eprintln!("set SENTRY_DSN");
        std::process::exit(2);
    }
    if deliver {
        let deadline = Instant::now() + Duration::from_secs(15);
        while files_in(Path::new(&cache)) > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        let left = files_in(Path::new(&cache));
        println!("cache holds {left} envelope(s)");
        std::process::exit(if left == 0 { 0 } else { 1 });
    }
    charge_card(250);
}
