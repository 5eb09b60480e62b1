use std::time::Duration;

use crate::support::*;
use sentry_sdk::protocol::Level;

/// Run as a child by the tests below: captures `E2E_SHUTDOWN_EVENTS` events, then drops the
/// guard with a short shutdown timeout.
#[test]
#[ignore = "run as a child process by the close_prints_* tests in shutdown_says_what_it_waits_for"]
fn child_that_closes_with_events_pending() {
    let dsn = from_parent("E2E_SHUTDOWN_DSN");
    let n = from_parent("E2E_SHUTDOWN_EVENTS");
    let guard = sentry_sdk::init(
        sentry_sdk::ClientOptions::new()
            .dsn(&dsn)
            .default_integrations(false)
            .shutdown_timeout(Duration::from_millis(300)),
    );
    for _ in 0..n.parse::<usize>().unwrap() {
        sentry_sdk::capture_message("pending", Level::Error);
    }
    std::thread::sleep(Duration::from_millis(200));
    drop(guard);
}

fn child_stderr(receiver: &Receiver, events: usize) -> String {
    let out = child_test("shutdown_says_what_it_waits_for::child_that_closes_with_events_pending")
        .env("E2E_SHUTDOWN_DSN", receiver.dsn())
        .env("E2E_SHUTDOWN_EVENTS", events.to_string())
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn close_prints_one_line_with_the_pending_count_and_the_wait() {
    let receiver = Receiver::start_with(|_| Reply::Hang);
    let stderr = child_stderr(&receiver, 3);
    let lines: Vec<_> = stderr
        .lines()
        .filter(|l| l.starts_with("[sentry]"))
        .collect();
    assert_eq!(
        lines,
        ["[sentry] 3 envelopes pending; waiting up to 0.3 s to send"],
        "{stderr}"
    );
}

#[test]
fn close_prints_nothing_when_nothing_is_pending() {
    let receiver = Receiver::start();
    let stderr = child_stderr(&receiver, 2);
    assert!(!stderr.contains("[sentry]"), "{stderr}");
    assert_eq!(receiver.wait_for(2, WAIT).len(), 2);
}
