//! A server (or something pretending to be one) that answers with garbage leaves the SDK
//! working: a bad status line, a `Content-Length` that lies either way, a body that trickles,
//! rate-limit headers that make no sense or name absurd durations, redirects and a failed TLS
//! handshake. In every case no capture blocks, a later event still reaches a healthy server
//! (or the same one once it answers 200 again), what was lost is counted, and `close` returns
//! within its timeout.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use sentry_sdk::protocol::Level;

use crate::support::*;

const SHUTDOWN: Duration = Duration::from_secs(2);
/// What `close` may take beyond its timeout (scheduling on a busy CI machine).
const SLACK: Duration = Duration::from_millis(300);

/// A receiver that answers the first `hostile` requests with `reply`, and 200 after.
fn hostile_then_healthy(hostile: usize, reply: Reply) -> Receiver {
    let seen = AtomicUsize::new(0);
    Receiver::start_with(move |_| {
        if seen.fetch_add(1, Ordering::SeqCst) < hostile {
            reply.clone()
        } else {
            Reply::Status(200, Vec::new())
        }
    })
}

fn messages(receiver: &Receiver) -> Vec<String> {
    receiver
        .events()
        .iter()
        .filter_map(|e| e["logentry"]["formatted"].as_str().map(str::to_owned))
        .collect()
}

/// Waits until an event with `message` arrived; false after the e2e deadline.
fn arrives(receiver: &Receiver, message: &str) -> bool {
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        if messages(receiver).iter().any(|m| m == message) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// Captures one event that meets the hostile answer, then one that must arrive; checks no
/// capture blocked and `close` kept its timeout. Returns the client reports counted in the
/// process and those that reached the server.
fn survives(receiver: &Receiver) -> Vec<(String, String, u64)> {
    let guard = sentry_sdk::init(options(receiver).shutdown_timeout(SHUTDOWN));
    let start = Instant::now();
    sentry_sdk::capture_message("meets the hostile answer", Level::Error);
    assert!(
        start.elapsed() < Duration::from_millis(50),
        "capture blocked"
    );
    receiver.wait_for(1, WAIT);
    // Whatever the first answer did, the SDK still delivers.
    sentry_sdk::capture_message("after the hostile answer", Level::Error);
    assert!(
        arrives(receiver, "after the hostile answer"),
        "a later event was not delivered; got {:?}",
        messages(receiver)
    );
    let mut reports = still_counted(&guard);
    let start = Instant::now();
    within(SHUTDOWN + Duration::from_secs(3), move || drop(guard));
    let took = start.elapsed();
    assert!(took <= SHUTDOWN + SLACK, "close took {took:?}");
    reports.extend(receiver.client_reports());
    reports
}

#[test]
fn a_garbage_status_line_is_a_network_error_and_the_next_event_arrives() {
    let _serial = serial();
    let receiver = hostile_then_healthy(1, Reply::Raw(b"SENTRY SAYS NO\r\n\r\n".to_vec()));
    survives(&receiver);
    // The envelope that met the garbage was retried (a network error) and delivered.
    assert!(arrives(&receiver, "meets the hostile answer"));
}

#[test]
fn a_content_length_shorter_than_the_body_does_not_poison_the_connection() {
    let _serial = serial();
    // Two bytes announced, many sent: the rest would be read as the next response on a
    // reused connection.
    let lying = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}HTTP/1.1 500 Oops\r\ncontent-length: 0\r\n\r\ngarbage".to_vec();
    let receiver = hostile_then_healthy(1, Reply::Raw(lying));
    let reports = survives(&receiver);
    assert!(arrives(&receiver, "meets the hostile answer"));
    assert!(
        !reports.iter().any(|(r, _, _)| r == "send_error"),
        "the smuggled 500 was taken for the next answer: {reports:?}"
    );
}

#[test]
fn a_content_length_longer_than_the_body_is_not_waited_for() {
    let _serial = serial();
    // 100 kB announced, 2 bytes sent, then silence on an open connection.
    let lying = b"HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\n{}".to_vec();
    let receiver = hostile_then_healthy(1, Reply::Raw(lying));
    survives(&receiver);
    assert!(arrives(&receiver, "meets the hostile answer"));
}

#[test]
fn a_trickling_answer_holds_neither_the_sdk_nor_close() {
    let _serial = serial();
    let mut answer = b"HTTP/1.1 200 OK\r\ncontent-length: 4096\r\n\r\n".to_vec();
    answer.resize(answer.len() + 4096, b'x');
    // One byte every 5 ms: the whole answer would take over 20 s.
    let receiver = hostile_then_healthy(1, Reply::Trickle(answer, Duration::from_millis(5)));
    survives(&receiver);
}

#[test]
fn invalid_rate_limit_headers_are_ignored() {
    let _serial = serial();
    let mut categories = vec!["no_such_category"; 2000].join(";");
    categories.push_str(";transaction");
    let header = format!(
        "NaN:error:organization, -5:error:organization, inf:error:key, 1e400:error:key, \
         abc, :::::, ,,, 99999999999999999999:transaction:organization, 60:{categories}:key"
    );
    let receiver = hostile_then_healthy(
        1,
        Reply::Status(200, vec![("X-Sentry-Rate-Limits".into(), header)]),
    );
    let reports = survives(&receiver);
    assert!(
        !reports
            .iter()
            .any(|(r, c, _)| r == "ratelimit_backoff" && c == "error"),
        "an invalid limit stopped errors: {reports:?}"
    );
}

#[test]
fn absurd_retry_after_values_limit_for_at_most_the_default_or_a_day() {
    let _serial = serial();
    for value in [
        "99999999999999999999",
        "-1",
        "NaN",
        "1e400",
        "Wed, 21 Oct 99999999999 07:28:00 GMT",
    ] {
        let receiver = hostile_then_healthy(
            1,
            Reply::Status(429, vec![("Retry-After".into(), value.into())]),
        );
        let guard = sentry_sdk::init(options(&receiver).shutdown_timeout(SHUTDOWN));
        sentry_sdk::capture_message("meets the 429", Level::Error);
        receiver.wait_for(1, WAIT);
        assert!(sentry_sdk::flush(WAIT), "{value}: flush");
        // Limited (60 s by default, a day at most): dropped on the client and counted.
        sentry_sdk::capture_message("while limited", Level::Error);
        sentry_sdk::flush(WAIT);
        let mut reports = still_counted(&guard);
        let start = Instant::now();
        within(SHUTDOWN + Duration::from_secs(3), move || drop(guard));
        assert!(
            start.elapsed() <= SHUTDOWN + SLACK,
            "{value}: close took {:?}",
            start.elapsed()
        );
        reports.extend(receiver.client_reports());
        assert!(
            reports
                .iter()
                .any(|(r, c, n)| r == "ratelimit_backoff" && c == "error" && *n == 1),
            "{value}: {reports:?}"
        );
        assert!(
            !messages(&receiver).iter().any(|m| m == "while limited"),
            "{value}: sent while limited"
        );
    }
}

#[test]
fn redirects_are_not_followed_with_the_envelope() {
    let _serial = serial();
    for status in [301, 302, 303, 307, 308] {
        let elsewhere = Receiver::start();
        let location = format!("http://127.0.0.1:{}/api/1/envelope/", elsewhere.port());
        let receiver = hostile_then_healthy(
            1,
            Reply::Status(status, vec![("Location".into(), location)]),
        );
        let reports = survives(&receiver);
        assert!(
            elsewhere.requests().is_empty(),
            "{status}: the envelope followed the redirect"
        );
        // A redirect is an error answer: the event is dropped and counted.
        assert!(
            reports
                .iter()
                .any(|(r, c, n)| r == "send_error" && c == "error" && *n == 1),
            "{status}: {reports:?}"
        );
    }
}

#[test]
fn a_failed_tls_handshake_leaves_the_sdk_able_to_deliver() {
    let _serial = serial();
    // A plain-HTTP server behind an https DSN: the handshake fails.
    let plain = Receiver::start_with(|_| Reply::Status(200, Vec::new()));
    let dsn = format!("https://public@127.0.0.1:{}/1", plain.port());
    let guard = sentry_sdk::init(
        sentry_sdk::ClientOptions::new()
            .dsn(&dsn)
            .default_integrations(false)
            .shutdown_timeout(SHUTDOWN),
    );
    sentry_sdk::capture_message("over a failed handshake", Level::Error);
    let start = Instant::now();
    within(SHUTDOWN + Duration::from_secs(3), move || drop(guard));
    assert!(
        start.elapsed() <= SHUTDOWN + SLACK,
        "close took {:?}",
        start.elapsed()
    );
    assert!(plain.events().is_empty());
    // The next client, to a healthy server, delivers.
    let healthy = Receiver::start();
    let guard = sentry_sdk::init(options(&healthy));
    sentry_sdk::capture_message("after the failed handshake", Level::Error);
    assert!(arrives(&healthy, "after the failed handshake"));
    drop(guard);
}
