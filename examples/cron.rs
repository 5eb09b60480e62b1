//! A scheduled job reported to a Sentry cron monitor.
//!
//! ```text
//! cargo run --example cron                       # no account needed
//! SENTRY_DSN=https://key@host/1 cargo run --example cron
//! ```
//! Without `SENTRY_DSN` it starts a local receiver on 127.0.0.1 and prints the check-ins that
//! arrived there; with it, the monitor `nightly-report` appears in your project (created from
//! the config sent with the check-ins).

#[path = "../tests/support/receiver.rs"]
mod receiver;

use std::time::Duration;

use sentry_sdk::{monitor, ClientOptions, MonitorConfig};

/// The job: writes a report, or fails when there is nothing to report on.
fn write_report(rows: u32) -> Result<u32, String> {
    std::thread::sleep(Duration::from_millis(150)); // the work
    match rows {
        0 => Err("no rows to report on".to_owned()),
        n => Ok(n),
    }
}

fn main() {
    let local = receiver::Receiver::unless_dsn_set();
    let options = ClientOptions::new()
        .release(concat!("cron-example@", env!("CARGO_PKG_VERSION")))
        .environment("example");
    let guard = sentry_sdk::init(receiver::Receiver::point(&local, options));
    if !guard.is_enabled() {
        eprintln!("the SDK is disabled: check SENTRY_DSN");
        std::process::exit(1);
    }

    // Every day at 02:30 Vienna time; late by 10 minutes counts as missed, 5 minutes in
    // progress as failed; an issue after 2 failed runs in a row.
    let config = MonitorConfig::crontab("30 2 * * *")
        .timezone("Europe/Vienna")
        .checkin_margin(10)
        .max_runtime(5)
        .failure_issue_threshold(2)
        .recovery_threshold(1);

    // A good run, then a failed one: four check-ins in all.
    let good = monitor::run("nightly-report", config.clone(), || write_report(120));
    println!("first run:  {good:?}");
    let bad = monitor::run("nightly-report", config, || write_report(0));
    println!("second run: {bad:?}");

    // Dropping the guard waits (at most 2 s) until everything is delivered.
    drop(guard);

    if let Some(receiver) = local {
        let requests = receiver.wait_for(4, Duration::from_secs(5));
        println!(
            "\nThe local receiver on 127.0.0.1:{} got {} envelope(s):",
            receiver.port(),
            requests.len()
        );
        for request in &requests {
            for item in request.envelope().items() {
                if item.item_type() != "check_in" {
                    continue;
                }
                let Some(c) = item.payload_json() else {
                    continue;
                };
                println!(
                    "- check-in {} {:<11} {:<8} duration {}  schedule {}",
                    c["check_in_id"].as_str().unwrap_or("?"),
                    c["status"].as_str().unwrap_or("?"),
                    c["monitor_slug"].as_str().unwrap_or("?"),
                    c["duration"]
                        .as_f64()
                        .map_or("-".to_owned(), |d| format!("{d:.3} s")),
                    c["monitor_config"]["schedule"]["value"],
                );
            }
        }
    }
}
