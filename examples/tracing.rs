//! `tracing` spans as a Sentry transaction with child spans, and events as breadcrumbs,
//! events (with exception chains) and structured logs.
//!
//! ```text
//! cargo run --example tracing --features tracing   # local receiver, prints a summary
//! ```

#[path = "../tests/support/receiver.rs"]
mod receiver;

use std::time::Duration;

use tracing_subscriber::prelude::*;

#[derive(Debug)]
struct QuotaError;

impl std::fmt::Display for QuotaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("storage quota exceeded")
    }
}

impl std::error::Error for QuotaError {}

#[tracing::instrument(fields(sentry.op = "task"))]
fn import(batch: u32) {
    tracing::info!(rows = 120, "parsed the batch");
    store(batch);
}

#[tracing::instrument(fields(sentry.op = "db.query"))]
fn store(batch: u32) {
    let err = QuotaError;
    tracing::error!(
        error = &err as &dyn std::error::Error,
        batch,
        "could not store the batch"
    );
}

fn main() {
    let local = receiver::Receiver::unless_dsn_set();
    let options = sentry_sdk::ClientOptions::new()
        .release(sentry_sdk::release_name!())
        .traces_sample_rate(1.0)
        .enable_logs(true);
    let options = receiver::Receiver::point(&local, options);
    let guard = sentry_sdk::init(options);
    tracing_subscriber::registry()
        .with(sentry_sdk::integrations::tracing::SentryLayer::new())
        .with(tracing_subscriber::fmt::layer())
        .init();

    import(7);

    drop(guard);
    if let Some(receiver) = local {
        for r in receiver.wait_for(3, Duration::from_secs(5)) {
            for item in r.envelope().items() {
                let p = item.payload_json().unwrap_or_default();
                match item.item_type() {
                    "event" => println!(
                        "\nevent: {} / exception {}: {} / trace {}",
                        p["logentry"]["formatted"],
                        p["exception"]["values"][0]["type"],
                        p["exception"]["values"][0]["value"],
                        p["contexts"]["trace"]["trace_id"]
                    ),
                    "transaction" => {
                        println!(
                            "\ntransaction {} (trace {})",
                            p["transaction"], p["contexts"]["trace"]["trace_id"]
                        );
                        for s in p["spans"].as_array().into_iter().flatten() {
                            println!("  span {} {} data {}", s["op"], s["description"], s["data"]);
                        }
                    }
                    "log" => println!("\n{} log(s) in one envelope", item.headers()["item_count"]),
                    _ => {}
                }
            }
        }
    }
}
