use std::time::{Duration, Instant};

use crate::support::*;
use sentry_sdk::protocol::Level;

#[test]
fn close_returns_within_its_timeout_with_1000_events_queued_and_a_server_that_never_answers() {
    let _serial = serial();
    let receiver = Receiver::start_with(|_| Reply::Hang);
    let guard = sentry_sdk::init(options(&receiver).shutdown_timeout(Duration::from_secs(2)));
    let mut slowest = Duration::ZERO;
    for i in 0..1000 {
        let start = Instant::now();
        sentry_sdk::capture_message(&format!("event {i}"), Level::Error);
        slowest = slowest.max(start.elapsed());
    }
    // The worker is stuck on the first request: the server accepted it and never answers.
    receiver.wait_for(1, WAIT);
    let start = Instant::now();
    drop(guard);
    let took = start.elapsed();
    assert!(took <= Duration::from_millis(2200), "close took {took:?}");
    assert!(
        took >= Duration::from_millis(1900),
        "close gave up early: {took:?}"
    );
    // No capture waited on the network.
    assert!(
        slowest < Duration::from_millis(50),
        "slowest capture {slowest:?}"
    );
    eprintln!("close took {took:?}; slowest of 1000 captures {slowest:?}");
}

#[test]
fn flush_returns_within_its_timeout_when_the_server_port_is_closed() {
    let _serial = serial();
    let guard = sentry_sdk::init(
        sentry_sdk::ClientOptions::new()
            .dsn(&closed_port_dsn())
            .default_integrations(false),
    );
    for _ in 0..10 {
        sentry_sdk::capture_message("nobody listens", Level::Error);
    }
    let start = Instant::now();
    sentry_sdk::flush(Duration::from_millis(500));
    assert!(
        start.elapsed() <= Duration::from_millis(700),
        "{:?}",
        start.elapsed()
    );
    let start = Instant::now();
    drop(guard);
    assert!(start.elapsed() <= Duration::from_millis(2200));
}
