//! `log` records as breadcrumbs, events and structured logs, while your own logger still
//! prints them.
//!
//! ```text
//! cargo run --example log --features log          # local receiver, prints a summary
//! SENTRY_DSN=https://key@host/1 cargo run --example log --features log
//! ```

#[path = "../tests/support/receiver.rs"]
mod receiver;

use std::time::Duration;

use sentry_sdk::integrations::log::SentryLogger;

/// Stands in for env_logger, fern, simplelog...: prints every record.
struct PrintLogger;

impl log::Log for PrintLogger {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        println!(
            "[{}] {}: {}",
            record.level(),
            record.target(),
            record.args()
        );
    }
    fn flush(&self) {}
}

fn main() {
    let local = receiver::Receiver::unless_dsn_set();
    let options = sentry_sdk::ClientOptions::new()
        .release(sentry_sdk::release_name!())
        .enable_logs(true);
    let options = receiver::Receiver::point(&local, options);
    let guard = sentry_sdk::init(options);
    let _ = log::set_boxed_logger(Box::new(SentryLogger::with_dest(PrintLogger)));
    log::set_max_level(log::LevelFilter::Trace);

    log::debug!("cache warm-up skipped"); // printed only
    log::info!(user_id = 42; "user signed in"); // breadcrumb + structured log
    log::warn!("payment provider slow"); // breadcrumb + structured log
    log::error!(order = 1001; "order could not be charged"); // event (with both crumbs) + log

    drop(guard);
    if let Some(receiver) = local {
        let requests = receiver.wait_for(2, Duration::from_secs(5));
        for r in &requests {
            for item in r.envelope().items() {
                let payload = item.payload_json().unwrap_or_default();
                match item.item_type() {
                    "event" => println!(
                        "\nevent: {} with {} breadcrumb(s), extra {}",
                        payload["logentry"]["formatted"],
                        payload["breadcrumbs"]["values"]
                            .as_array()
                            .map_or(0, Vec::len),
                        payload["extra"]
                    ),
                    "log" => {
                        for log in payload["items"].as_array().into_iter().flatten() {
                            println!(
                                "log [{}] {}",
                                log["level"].as_str().unwrap_or(""),
                                log["body"]
                            );
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}
