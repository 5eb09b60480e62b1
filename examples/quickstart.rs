//! The SDK end to end in one program.
//!
//! ```text
//! cargo run --example quickstart                     # no account needed
//! SENTRY_DSN=https://key@host/1 cargo run --example quickstart
//! ```
//! Without `SENTRY_DSN` it starts a local receiver on 127.0.0.1 and prints what arrived there;
//! with it, the same three events go to your server.

#[path = "../tests/support/receiver.rs"]
mod receiver;

use std::fmt;
use std::time::Duration;

use sentry_sdk::protocol::{Breadcrumb, Level, User};
use sentry_sdk::ClientOptions;

/// An application error with a cause, as most programs have.
#[derive(Debug)]
struct ConfigError {
    path: String,
    source: std::num::ParseIntError,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "could not load config from {}", self.path)
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

fn load_config(path: &str) -> Result<u32, ConfigError> {
    "eight".parse::<u32>().map_err(|source| ConfigError {
        path: path.to_owned(),
        source,
    })
}

fn divide(a: u32, b: u32) -> u32 {
    if b == 0 {
        panic!("cannot divide {a} by zero");
    }
    a / b
}

fn main() {
    let local = receiver::Receiver::unless_dsn_set();
    let options = ClientOptions::new()
        .release(concat!("quickstart@", env!("CARGO_PKG_VERSION")))
        .environment("quickstart");
    let options = receiver::Receiver::point(&local, options);
    let guard = sentry_sdk::init(options);
    if !guard.is_enabled() {
        eprintln!("the SDK is disabled: check SENTRY_DSN");
        std::process::exit(1);
    }

    sentry_sdk::set_user(Some(User {
        id: Some("42".into()),
        username: Some("ada".into()),
        ..Default::default()
    }));
    sentry_sdk::set_tag("feature", "quickstart");
    sentry_sdk::add_breadcrumb(Breadcrumb {
        category: Some("app".into()),
        message: Some("started".into()),
        ..Default::default()
    });

    let message_id =
        sentry_sdk::capture_message("Hello from the sentry-sdk quickstart", Level::Info);
    println!("sent message   {message_id}");

    if let Err(err) = load_config("app.toml") {
        let id = sentry_sdk::capture_exception(&err);
        println!("sent error     {id}");
    }

    // The panic hook reports the panic; catch_unwind keeps the program going.
    let _ = std::panic::catch_unwind(|| divide(1, 0));
    println!("sent panic     {}", sentry_sdk::last_event_id());

    // Dropping the guard waits (at most 2 s) until everything is delivered.
    drop(guard);

    if let Some(receiver) = local {
        let requests = receiver.wait_for(3, Duration::from_secs(5));
        println!(
            "\nThe local receiver on 127.0.0.1:{} got {} envelope(s):",
            receiver.port(),
            requests.len()
        );
        for request in &requests {
            if let Some(event) = request.event() {
                summarize(&event);
            }
            // The run's release-health session rides with the events that change its status.
            for item in request.envelope().items() {
                if let Some(session) = item
                    .payload_json()
                    .filter(|_| item.item_type() == "session")
                {
                    println!(
                        "  + session {}: {} (errors {})",
                        session["sid"].as_str().unwrap_or("?"),
                        session["status"].as_str().unwrap_or("?"),
                        session["errors"],
                    );
                }
            }
        }
    }
}

/// Prints one event: id, level, what it is, and its top in-app frames.
fn summarize(event: &serde_json::Value) {
    let id = event["event_id"].as_str().unwrap_or("?");
    let level = event["level"].as_str().unwrap_or("?");
    println!("\n- event {id} [{level}]");
    if let Some(message) = event["logentry"]["formatted"].as_str() {
        println!("  message: {message}");
    }
    let empty = Vec::new();
    let exceptions = event["exception"]["values"].as_array().unwrap_or(&empty);
    for ex in exceptions.iter().rev() {
        println!(
            "  exception: {}: {} (mechanism {})",
            ex["type"].as_str().unwrap_or("?"),
            ex["value"].as_str().unwrap_or(""),
            ex["mechanism"]["type"].as_str().unwrap_or("-"),
        );
    }
    let frames = exceptions
        .last()
        .and_then(|ex| ex["stacktrace"]["frames"].as_array())
        .unwrap_or(&empty);
    for frame in frames.iter().rev().filter(|f| f["in_app"] == true).take(3) {
        println!(
            "    at {} ({}:{})",
            frame["function"].as_str().unwrap_or("?"),
            frame["filename"].as_str().unwrap_or("?"),
            frame["lineno"],
        );
    }
    println!(
        "  user {}, tags {}, {} breadcrumb(s), release {}",
        event["user"]["id"],
        event["tags"],
        event["breadcrumbs"]["values"]
            .as_array()
            .map_or(0, Vec::len),
        event["release"],
    );
}
