//! A server (or a proxy in front of it) that answers every envelope with a huge, endless or
//! stalled body costs the process next to no memory and no time: the transport needs only the
//! status and headers, reads at most a few KiB of any body, and drops the connection rather
//! than drain the rest. What the answers mean is still honoured: a 2xx is delivered, a 500 or
//! 413 is dropped and counted as `send_error`, a 429 is left for the server to count.

use std::time::{Duration, Instant};

use crate::receiver::{Body, Request};
use crate::support::*;
use sentry_sdk::protocol::Level;

const CAPTURES: usize = 20;
/// The target for the growth of peak RSS while 20 such answers come in.
const MAX_GROWTH_KIB: u64 = 6 * 1024;
/// Far more than the transport may ever hold: read whole, 8 requests in flight would take 8 GiB.
const HUGE: u64 = 1 << 30;

fn status_kib(field: &str) -> Option<u64> {
    std::fs::read_to_string("/proc/self/status")
        .ok()?
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// The child: 20 captures against the parent's receiver, then one line with what it measured.
#[test]
#[ignore = "run as a child process by the tests in huge_responses_are_not_read"]
fn child_captures_against_a_server_that_answers_with_huge_bodies() {
    let dsn = from_parent("E2E_HUGE_DSN");
    let guard = sentry_sdk::init(
        sentry_sdk::ClientOptions::new()
            .dsn(&dsn)
            .default_integrations(false)
            .shutdown_timeout(Duration::from_secs(2)),
    );
    // Lets the worker build its runtime and HTTP client before the baseline is taken (the
    // flush has nothing to send).
    sentry_sdk::flush(Duration::from_secs(2));
    // "5" resets the peak (VmHWM) to the current RSS (Linux 4.0+): from here on, VmHWM is the
    // highest RSS reached during the captures, however briefly.
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let before = status_kib("VmRSS:").unwrap_or(0);
    let start = Instant::now();
    for i in 0..CAPTURES {
        sentry_sdk::capture_message(&format!("answered with a huge body {i}"), Level::Error);
    }
    let flushed = sentry_sdk::flush(Duration::from_secs(15));
    let took = start.elapsed();
    let peak = status_kib("VmHWM:").unwrap_or(0);
    // What is still counted here; what already rode along to the server the parent adds.
    let mut send_errors = 0;
    let mut other_drops = 0;
    if let Some(client) = guard.client() {
        for (reason, _category, n) in client.client_reports().take() {
            if reason.as_str() == "send_error" {
                send_errors += n;
            } else {
                other_drops += n;
            }
        }
    }
    println!(
        "HUGE reset={reset} flushed={flushed} took_ms={} rss_growth_kib={} send_error={send_errors} other_drops={other_drops}",
        took.as_millis(),
        peak.saturating_sub(before),
    );
    drop(guard);
}

struct Measured {
    line: String,
    requests: Vec<Request>,
    reports: Vec<(String, String, u64)>,
}

impl Measured {
    fn field(&self, name: &str) -> String {
        self.line
            .split_whitespace()
            .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("no {name} in {}", self.line))
            .to_owned()
    }

    fn number(&self, name: &str) -> u64 {
        self.field(name).parse().unwrap()
    }

    /// `send_error` counts for error events: those still in the child plus those that reached
    /// the server in client reports.
    fn send_errors(&self) -> u64 {
        let arrived: u64 = self
            .reports
            .iter()
            .filter(|(reason, category, _)| reason == "send_error" && category == "error")
            .map(|(_, _, n)| n)
            .sum();
        arrived + self.number("send_error")
    }

    fn events_received(&self) -> usize {
        self.requests.iter().filter(|r| r.event().is_some()).count()
    }

    /// What every kind of answer must give: all 20 arrived, everything settled in time, and
    /// the peak RSS grew by at most 6 MiB.
    fn assert_bounded(&self) {
        let line = &self.line;
        assert_eq!(self.events_received(), CAPTURES, "{line}");
        assert_eq!(self.field("flushed"), "true", "delivery hung: {line}");
        if self.field("reset") != "true" {
            eprintln!("VmHWM cannot be reset here: peak memory not checked ({line})");
            return;
        }
        assert!(
            self.number("rss_growth_kib") <= MAX_GROWTH_KIB,
            "response bodies were held in memory: {line}"
        );
    }
}

/// Runs the child against a receiver answering every request with `reply`.
fn run_child(reply: Reply) -> Option<Measured> {
    if !std::path::Path::new("/proc/self/status").exists() {
        eprintln!("no /proc: memory cannot be measured on this platform");
        return None;
    }
    let receiver = Receiver::start_with(move |_| reply.clone());
    let out = child_test(
        "huge_responses_are_not_read::child_captures_against_a_server_that_answers_with_huge_bodies",
    )
    .env("E2E_HUGE_DSN", receiver.dsn())
    .output()
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find(|l| l.starts_with("HUGE"))
        .unwrap_or_else(|| {
            panic!(
                "{stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
                    .lines()
                    .rev()
                    .take(20)
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        })
        .to_owned();
    eprintln!("{line}");
    Some(Measured {
        line,
        requests: receiver.requests(),
        reports: receiver.client_reports(),
    })
}

#[test]
fn a_2xx_with_a_1_gib_body_is_delivered_without_reading_the_body() {
    let Some(m) = run_child(Reply::Body(200, Vec::new(), Body::Huge(HUGE))) else {
        return;
    };
    m.assert_bounded();
    assert_eq!(m.send_errors(), 0, "{}", m.line);
    assert_eq!(m.number("other_drops"), 0, "{}", m.line);
    assert!(m.reports.is_empty(), "{:?}", m.reports);
}

#[test]
fn a_2xx_with_an_endless_chunked_body_is_delivered_and_the_connection_dropped() {
    let Some(m) = run_child(Reply::Body(200, Vec::new(), Body::Endless)) else {
        return;
    };
    m.assert_bounded();
    assert_eq!(m.send_errors(), 0, "{}", m.line);
    assert_eq!(m.number("other_drops"), 0, "{}", m.line);
}

#[test]
fn a_500_with_an_endless_body_is_counted_as_send_error_once_per_event() {
    let Some(m) = run_child(Reply::Body(500, Vec::new(), Body::Endless)) else {
        return;
    };
    m.assert_bounded();
    // Every envelope is rejected, so the reports riding along are too: they go back to the
    // counters each time, where all the drops are at the end (none lost, none counted twice).
    assert_eq!(m.number("send_error"), CAPTURES as u64, "{}", m.line);
}

#[test]
fn a_413_with_a_1_gib_body_is_counted_as_send_error_once_per_event() {
    let Some(m) = run_child(Reply::Body(413, Vec::new(), Body::Huge(HUGE))) else {
        return;
    };
    m.assert_bounded();
    // Every envelope is rejected, so the reports riding along are too: they go back to the
    // counters each time, where all the drops are at the end (none lost, none counted twice).
    assert_eq!(m.number("send_error"), CAPTURES as u64, "{}", m.line);
}

#[test]
fn a_429_with_an_endless_body_still_sets_its_limits_and_is_not_counted() {
    // The limit covers transactions only, so that every error event still goes out and
    // meets this answer.
    let limits = vec![(
        "X-Sentry-Rate-Limits".to_owned(),
        "60:transaction:key".to_owned(),
    )];
    let Some(m) = run_child(Reply::Body(429, limits, Body::Endless)) else {
        return;
    };
    m.assert_bounded();
    assert_eq!(m.send_errors(), 0, "{}", m.line);
    assert_eq!(m.number("other_drops"), 0, "{}", m.line);
}

#[test]
fn a_2xx_whose_body_never_comes_does_not_hold_delivery_up() {
    let Some(m) = run_child(Reply::Body(200, Vec::new(), Body::Stalled)) else {
        return;
    };
    m.assert_bounded();
    // The request timeout is 30 s; the body is given far less (20 captures, 8 at a time).
    assert!(m.number("took_ms") < 10_000, "{}", m.line);
    assert_eq!(m.number("other_drops"), 0, "{}", m.line);
}
