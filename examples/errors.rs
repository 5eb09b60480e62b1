//! Errors worth reading: source chains, local values beside the code, anyhow, and a hot loop
//! that makes one issue.
//!
//! ```text
//! cargo run --example errors --features anyhow                 # local receiver, prints a summary
//! SENTRY_DSN=https://key@host/1 cargo run --example errors --features anyhow
//! RUST_BACKTRACE=1 ...                                          # anyhow keeps its own backtrace
//! ```

#[path = "../tests/support/receiver.rs"]
mod receiver;

use std::fmt;
use std::time::Duration;

use sentry_sdk::ClientOptions;

#[derive(Debug)]
struct PaymentError {
    code: u32,
}

impl fmt::Display for PaymentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "card declined (code {})", self.code)
    }
}

impl std::error::Error for PaymentError {}

#[derive(Debug)]
struct CheckoutError {
    source: PaymentError,
}

impl fmt::Display for CheckoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("checkout failed")
    }
}

impl std::error::Error for CheckoutError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

#[derive(Debug)]
struct Cart {
    items: Vec<&'static str>,
    total_cents: u64,
}

fn charge(order_id: u64, cart: &Cart) -> Result<(), CheckoutError> {
    if cart.total_cents > 10_000 {
        return Err(CheckoutError {
            source: PaymentError {
                code: (order_id % 7) as u32,
            },
        });
    }
    Ok(())
}

fn checkout(order_id: u64, cart: &Cart) {
    if let Err(err) = charge(order_id, cart) {
        // The values show up beside this line in Sentry.
        sentry_sdk::capture_exception!(&err, order_id, cart.items, cart.total_cents);
    }
}

fn load_settings() -> anyhow::Result<u16> {
    use anyhow::Context;
    let port: u16 = "80800"
        .parse()
        .context("the port in settings.toml is not a port number")?;
    Ok(port)
}

fn main() {
    let local = receiver::Receiver::unless_dsn_set();
    let options = ClientOptions::new()
        .release(sentry_sdk::release_name!())
        .environment("examples")
        // 101 events in a burst: give a small self-hosted server time to take them all.
        .shutdown_timeout(Duration::from_secs(15));
    let options = receiver::Receiver::point(&local, options);
    let guard = sentry_sdk::init(options);

    // A hot loop failing the same way: 100 events, one issue (same outer error and stack).
    let cart = Cart {
        items: vec!["keyboard", "monitor"],
        total_cents: 45_900,
    };
    for order_id in 1000..1100 {
        checkout(order_id, &cart);
    }

    // anyhow, with its context chain (and its backtrace when RUST_BACKTRACE=1).
    if let Err(err) = load_settings() {
        sentry_sdk::capture_anyhow(&err);
    }

    drop(guard);
    if let Some(receiver) = local {
        let requests = receiver.wait_for(101, Duration::from_secs(5));
        let events: Vec<_> = requests.iter().filter_map(|r| r.event()).collect();
        println!("The local receiver got {} events.", events.len());
        if let Some(first) = events.first() {
            let ex = &first["exception"]["values"];
            let frames = ex[1]["stacktrace"]["frames"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            if let Some(top) = frames.iter().rev().find(|f| f["in_app"] == true) {
                println!(
                    "\nTop frame of the first checkout error: {} ({}:{})",
                    top["function"], top["filename"], top["lineno"]
                );
                for line in top["pre_context"].as_array().into_iter().flatten() {
                    println!("    {}", line.as_str().unwrap_or(""));
                }
                println!("  > {}", top["context_line"].as_str().unwrap_or(""));
                println!("  vars: {}", top["vars"]);
            }
        }
        if let Some(last) = events.last() {
            for ex in last["exception"]["values"].as_array().into_iter().flatten() {
                println!("anyhow chain: {}: {}", ex["type"], ex["value"]);
            }
        }
    }
}
