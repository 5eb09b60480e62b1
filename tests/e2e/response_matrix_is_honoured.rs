//! One test per row of the response matrix (PROTOCOL.md §2), against the HTTP transport
//! itself: what reached the server, what was retried, the client reports that arrived
//! afterwards, that the caller never blocked and that `close` stayed within its timeout.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::*;
use sentry_sdk::transport::{
    ClientReports, Dsn, Envelope, HttpOptions, HttpTransport, Item, Outgoing, Transport,
};

struct Setup {
    transport: HttpTransport,
    reports: Arc<ClientReports>,
    slowest_send: Duration,
    dsn: String,
}

fn transport(dsn: &str, tweak: impl FnOnce(&mut HttpOptions)) -> Setup {
    let mut options = HttpOptions::new(dsn.parse::<Dsn>().unwrap(), "sentry.rust.sdk/test");
    options.retry_base_delay = Duration::from_millis(20);
    options.max_retries = 2;
    options.request_timeout = Duration::from_millis(500);
    tweak(&mut options);
    let reports = options.client_reports.clone();
    Setup {
        transport: HttpTransport::new(options),
        reports,
        slowest_send: Duration::ZERO,
        dsn: dsn.to_owned(),
    }
}

impl Setup {
    fn send(&mut self, envelope: Envelope) {
        let start = Instant::now();
        self.transport.send(Outgoing::ready(envelope));
        self.slowest_send = self.slowest_send.max(start.elapsed());
    }

    /// Flushes (client reports go out standalone), closes, and checks both were bounded.
    fn finish(self) -> Arc<ClientReports> {
        self.transport.flush(Duration::from_secs(3));
        let start = Instant::now();
        self.transport.close(Duration::from_secs(2));
        assert!(
            start.elapsed() <= Duration::from_millis(2200),
            "close took {:?}",
            start.elapsed()
        );
        assert!(
            self.slowest_send < Duration::from_millis(20),
            "send blocked for {:?}",
            self.slowest_send
        );
        counted_after_close(&self.dsn, &self.reports)
    }
}

/// Seconds since the epoch, for payload timestamps Relay accepts.
fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// A small but complete error event, as the SDK would send it.
fn event(n: u32) -> Envelope {
    let mut e = Envelope::new();
    let id = format!(
        "{:032x}",
        u128::from(n) + 0xe2e0_0000_0000_0000_0000_0000_0000_0000
    );
    e.set_header("event_id", id.as_str());
    let payload = json!({
        "event_id": id,
        "timestamp": now(),
        "platform": "native",
        "level": "error",
        "logentry": {"formatted": format!("event {n}")},
    });
    e.add_item(Item::new("event", payload.to_string().into_bytes()));
    e
}

/// A minimal valid transaction (another data category than events).
fn transaction() -> Envelope {
    let mut e = Envelope::new();
    let id = format!("{:032x}", now().to_bits());
    e.set_header("event_id", id.as_str());
    let payload = json!({
        "event_id": id,
        "type": "transaction",
        "transaction": "checkout",
        "transaction_info": {"source": "custom"},
        "start_timestamp": now() - 0.5,
        "timestamp": now(),
        "platform": "native",
        "contexts": {"trace": {"trace_id": "4c79f60c11214eb38604f4ae0781bfb2", "span_id": "fa90fdead5f74052", "op": "task"}},
        "spans": [],
    });
    e.add_item(Item::new("transaction", payload.to_string().into_bytes()));
    e
}

fn data_requests(receiver: &Receiver) -> usize {
    receiver
        .requests()
        .iter()
        .filter(|r| {
            r.envelope()
                .items()
                .iter()
                .any(|i| i.item_type() != "client_report")
        })
        .count()
}

/// Answers the first `n` requests with `first`, then 200.
fn first_n(n: usize, first: Reply) -> impl Fn(&Request) -> Reply + Send + Sync {
    let seen = AtomicUsize::new(0);
    move |_| {
        if seen.fetch_add(1, Ordering::SeqCst) < n {
            first.clone()
        } else {
            Reply::Status(200, Vec::new())
        }
    }
}

use crate::receiver::Request;

#[test]
fn ok_2xx_is_delivered_once_and_nothing_is_reported() {
    let receiver = Receiver::start();
    let mut t = transport(&receiver.dsn(), |_| {});
    t.send(event(1));
    t.finish();
    assert_eq!(data_requests(&receiver), 1);
    assert!(receiver.client_reports().is_empty());
}

#[test]
fn a_413_is_dropped_without_retry_and_reported_as_send_error() {
    let receiver = Receiver::start_with(first_n(1, Reply::Status(413, Vec::new())));
    let mut t = transport(&receiver.dsn(), |_| {});
    t.send(event(1));
    t.finish();
    assert_eq!(data_requests(&receiver), 1, "never retried");
    assert_eq!(
        receiver.client_reports(),
        [("send_error".into(), "error".into(), 1)]
    );
}

#[test]
fn a_500_or_503_is_dropped_without_retry_and_reported_as_send_error() {
    for status in [500, 503, 400] {
        let receiver = Receiver::start_with(first_n(1, Reply::Status(status, Vec::new())));
        let mut t = transport(&receiver.dsn(), |_| {});
        t.send(event(1));
        t.finish();
        assert_eq!(data_requests(&receiver), 1, "{status}: never retried");
        assert_eq!(
            receiver.client_reports(),
            [("send_error".into(), "error".into(), 1)],
            "{status}"
        );
    }
}

/// Client reports riding along with an envelope the server rejects are not lost with it: the
/// next envelope carries them.
#[test]
fn reports_riding_on_a_rejected_envelope_are_kept() {
    let receiver = Receiver::start_with(first_n(2, Reply::Status(500, Vec::new())));
    let mut t = transport(&receiver.dsn(), |_| {});
    t.send(event(1)); // rejected: one send_error counted
                      // The flush sends that report on its own: rejected too, so it must be kept, not counted
                      // as lost itself.
    t.transport.flush(Duration::from_secs(3));
    t.send(event(2)); // accepted, with the report riding along
    t.finish();
    assert_eq!(data_requests(&receiver), 2);
    // The receiver sums every report it saw: the rejected one and its resent copy. (Before,
    // the rejected report's own item was counted as a lost `internal` item instead.)
    assert_eq!(
        receiver.client_reports(),
        [("send_error".into(), "error".into(), 2)]
    );
}

#[test]
fn a_429_with_rate_limit_header_limits_only_its_categories_and_is_not_reported() {
    let limited = vec![(
        "X-Sentry-Rate-Limits".to_owned(),
        "60:error:key, 1:foo:org".to_owned(),
    )];
    let receiver = Receiver::start_with(first_n(1, Reply::Status(429, limited)));
    let mut t = transport(&receiver.dsn(), |_| {});
    t.send(event(1));
    t.transport.flush(Duration::from_secs(2));
    for n in 2..5 {
        t.send(event(n)); // limited: never requested
    }
    t.send(transaction()); // another category: still sent
    let reports = t.finish();
    let requests = receiver.requests();
    let events_sent = requests
        .iter()
        .filter(|r| {
            r.envelope()
                .items()
                .iter()
                .any(|i| i.item_type() == "event")
        })
        .count();
    assert_eq!(events_sent, 1, "no event request while error is limited");
    assert!(requests
        .iter()
        .any(|r| r.envelope().items()[0].item_type() == "transaction"));
    // The 429'd envelope is not reported (the server counted it); the limited ones are.
    assert_eq!(
        receiver.client_reports(),
        [("ratelimit_backoff".into(), "error".into(), 3)]
    );
    assert!(reports.take().is_empty());
}

#[test]
fn a_429_with_retry_after_or_nothing_limits_everything() {
    let forms: Vec<Vec<(String, String)>> = vec![
        vec![("Retry-After".into(), "30".into())],
        vec![("Retry-After".into(), "Wed, 21 Oct 2099 07:28:00 GMT".into())],
        vec![],
    ];
    for headers in forms {
        let receiver = Receiver::start_with(move |_| Reply::Status(429, headers.clone()));
        let mut t = transport(&receiver.dsn(), |_| {});
        t.send(event(1));
        t.transport.flush(Duration::from_secs(2));
        t.send(event(2));
        t.send(transaction());
        let reports = t.finish();
        assert_eq!(
            data_requests(&receiver),
            1,
            "everything limited after the 429"
        );
        // Client reports are never limited: the drops are reported, the 429'd event is not.
        // A 429 on an envelope puts its reports back, so the same report may reach the
        // server more than once while it keeps answering 429; what matters is that none is
        // lost.
        let mut got: Vec<(String, String)> = receiver
            .client_reports()
            .into_iter()
            .chain(as_strings(reports.take()))
            .map(|(reason, category, _)| (reason, category))
            .collect();
        got.sort();
        got.dedup();
        let want = |r: &str, c: &str| (r.to_owned(), c.to_owned());
        assert_eq!(
            got,
            [
                want("ratelimit_backoff", "error"),
                // A dropped transaction also counts its spans plus the root.
                want("ratelimit_backoff", "span"),
                want("ratelimit_backoff", "transaction"),
            ]
        );
    }
}

#[test]
fn rate_limits_on_a_200_are_honoured_too() {
    let header = vec![(
        "X-Sentry-Rate-Limits".to_owned(),
        "60:transaction:organization".to_owned(),
    )];
    let receiver = Receiver::start_with(move |_| Reply::Status(200, header.clone()));
    let mut t = transport(&receiver.dsn(), |_| {});
    t.send(event(1));
    t.transport.flush(Duration::from_secs(2));
    t.send(transaction());
    t.send(event(2));
    t.finish();
    assert_eq!(data_requests(&receiver), 2, "both events, no transaction");
    assert_eq!(
        receiver.client_reports(),
        [
            ("ratelimit_backoff".into(), "span".into(), 1),
            ("ratelimit_backoff".into(), "transaction".into(), 1)
        ]
    );
}

fn network_failure_is_retried_then_reported(reply: Reply) {
    // Fails every attempt (1 + 2 retries), then answers: the report arrives afterwards.
    let receiver = Receiver::start_with(first_n(3, reply.clone()));
    let mut t = transport(&receiver.dsn(), |_| {});
    t.send(event(1));
    t.transport.flush(Duration::from_secs(5));
    t.send(event(2));
    t.finish();
    let attempts = receiver
        .requests()
        .iter()
        .filter(|r| r.envelope().event_id() == event(1).event_id())
        .count();
    if !matches!(reply, Reply::Reset) {
        assert_eq!(
            attempts, 3,
            "{reply:?}: first try and two retries reached the server"
        );
    }
    assert_eq!(
        receiver.client_reports(),
        [("network_error".into(), "error".into(), 1)],
        "{reply:?}"
    );
    let delivered: Vec<_> = receiver
        .events()
        .iter()
        .map(|e| e["logentry"]["formatted"].clone())
        .collect();
    assert!(delivered.contains(&json!("event 2")));
}

#[test]
fn a_connection_closed_mid_request_is_retried_then_reported_as_network_error() {
    network_failure_is_retried_then_reported(Reply::Close);
}

#[test]
fn a_reset_connection_is_retried_then_reported_as_network_error() {
    network_failure_is_retried_then_reported(Reply::Reset);
}

#[test]
fn a_server_that_never_answers_times_out_is_retried_then_reported() {
    network_failure_is_retried_then_reported(Reply::Hang);
}

#[test]
fn a_slow_server_is_waited_for() {
    let receiver = Receiver::start_with(|_| Reply::Slow(Duration::from_millis(200), 200));
    let mut t = transport(&receiver.dsn(), |_| {});
    t.send(event(1));
    t.finish();
    assert_eq!(data_requests(&receiver), 1);
    assert!(receiver.client_reports().is_empty());
}

#[test]
fn a_refused_connection_is_retried_then_counted_as_network_error() {
    let mut t = transport(&closed_port_dsn(), |_| {});
    t.send(event(1));
    t.send(event(2));
    let reports = t.finish();
    let counted = reports.take();
    assert_eq!(counted.len(), 1, "{counted:?}");
    assert_eq!(
        (counted[0].0.as_str(), counted[0].1.as_str(), counted[0].2),
        ("network_error", "error", 2)
    );
}

#[test]
fn a_full_queue_drops_and_counts_queue_overflow_without_blocking() {
    let receiver = Receiver::start_with(|_| Reply::Hang);
    let mut t = transport(&receiver.dsn(), |o| {
        o.queue_capacity = 5;
        o.max_in_flight = 1;
        o.request_timeout = Duration::from_secs(30);
    });
    t.send(event(0));
    receiver.wait_for(1, WAIT); // one request in flight, hung
    for n in 1..50 {
        t.send(event(n));
    }
    let slowest = t.slowest_send;
    let start = Instant::now();
    t.transport.close(Duration::from_millis(300));
    assert!(start.elapsed() < Duration::from_millis(500));
    let reports = counted_after_close(&t.dsn, &t.reports);
    assert!(slowest < Duration::from_millis(20));
    // Counted drops ride along with the next request (here the hung one) or stay counted.
    let overflow = |v: Vec<(String, String, u64)>| -> u64 {
        v.iter()
            .filter(|(r, _, _)| r == "queue_overflow")
            .map(|(_, _, q)| q)
            .sum()
    };
    let left = as_strings(reports.take());
    let arrived = receiver.client_reports();
    let requests = receiver.requests().len();
    let counted = overflow(left.clone()) + overflow(arrived.clone());
    // One in flight, 5 queued, and one more if the worker took it off the queue to wait for
    // a request slot before the burst ended: 43 or 44 of the 49 are dropped.
    assert!(
        (43..=44).contains(&counted),
        "{counted}: counters {left:?}, reported {arrived:?}, {requests} request(s)"
    );
}

fn as_strings(
    v: Vec<(
        sentry_sdk::transport::DiscardReason,
        sentry_sdk::transport::DataCategory,
        u64,
    )>,
) -> Vec<(String, String, u64)> {
    v.into_iter()
        .map(|(r, c, q)| (r.as_str().to_owned(), c.as_str().to_owned(), q))
        .collect()
}

#[test]
fn bodies_above_the_threshold_are_gzipped() {
    let receiver = Receiver::start();
    let mut t = transport(&receiver.dsn(), |_| {});
    let mut big = Envelope::new();
    big.set_header("event_id", event(1).event_id().unwrap());
    big.add_item(Item::new("attachment", vec![b'x'; 10_000]).with_header("filename", "x.txt"));
    t.send(big);
    t.send(event(1));
    t.finish();
    let requests = receiver.requests();
    let encodings: Vec<_> = requests
        .iter()
        .map(|r| r.header("content-encoding").map(str::to_owned))
        .collect();
    assert!(encodings.contains(&Some("gzip".to_owned())));
    assert!(encodings.contains(&None), "small bodies go as they are");
    let big = requests
        .iter()
        .find(|r| r.header("content-encoding").is_some())
        .unwrap();
    assert!(
        big.header("content-length")
            .unwrap()
            .parse::<usize>()
            .unwrap()
            < 1000
    );
    assert_eq!(big.envelope().items()[0].payload().len(), 10_000);
}

#[test]
fn client_reports_go_out_on_their_own_at_the_interval() {
    let receiver = Receiver::start();
    let t = transport(&receiver.dsn(), |o| {
        o.client_report_interval = Duration::from_millis(200)
    });
    t.reports.record(
        sentry_sdk::transport::DiscardReason::SampleRate,
        sentry_sdk::transport::DataCategory::Error,
        2,
    );
    // No flush, no other envelope: only the timer can send it.
    let requests = receiver.wait_for(1, WAIT);
    assert_eq!(requests.len(), 1);
    assert_eq!(
        receiver.client_reports(),
        [("sample_rate".into(), "error".into(), 2)]
    );
    t.transport.close(Duration::from_secs(1));
}

#[test]
fn an_http_proxy_carries_the_request() {
    let proxy = Receiver::start();
    let mut t = transport("http://public@sentry.invalid/1", |o| {
        o.http_proxy = Some(format!("http://127.0.0.1:{}", proxy.port()))
    });
    t.send(event(1));
    t.finish();
    let requests = proxy.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path, "http://sentry.invalid/api/1/envelope/");
}

/// With no `http_proxy` option, the `HTTP_PROXY` environment variable is used. A child
/// process, so that the variable does not reach the other tests.
#[test]
fn the_http_proxy_environment_variable_is_honoured() {
    let proxy = Receiver::start();
    let status =
        child_test("response_matrix_is_honoured::child_sends_through_the_environment_proxy")
            .env("HTTP_PROXY", format!("http://127.0.0.1:{}", proxy.port()))
            .env_remove("NO_PROXY")
            .env_remove("no_proxy")
            .status()
            .unwrap();
    assert!(status.success());
    let requests = proxy.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path, "http://sentry.invalid/api/1/envelope/");
}

#[test]
#[ignore = "run as a child process by the_http_proxy_environment_variable_is_honoured"]
fn child_sends_through_the_environment_proxy() {
    let proxy = from_parent("HTTP_PROXY");
    assert!(
        proxy.starts_with("http://127.0.0.1:"),
        "the parent's loopback proxy, not {proxy}"
    );
    let mut t = transport("http://public@sentry.invalid/1", |_| {});
    t.send(event(1));
    t.finish();
}

#[test]
fn an_unusable_root_certificate_disables_the_transport_without_panicking() {
    let dsn = closed_port_dsn().replacen("http://", "https://", 1);
    let mut t = transport(&dsn, |o| {
        o.root_certificates = vec![b"not a certificate".to_vec()]
    });
    t.send(event(1));
    let reports = t.finish();
    assert_eq!(
        as_strings(reports.take()),
        [("internal_sdk_error".into(), "error".into(), 1)]
    );
}

/// An envelope cached while its delivery retries, whose retry then drops an item for a rate
/// limit set meanwhile, is rewritten on disk without that item: the next start must not send
/// what was counted as dropped.
#[test]
fn a_retry_that_drops_items_for_a_new_limit_rewrites_its_cached_copy() {
    let dir = std::env::temp_dir().join(format!("sentry-e2e-retry-rewrite-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    // Requests that are reset are not recorded by the receiver: count them here.
    let arrived = |n: usize| {
        let deadline = Instant::now() + Duration::from_secs(5);
        while seen.load(Ordering::SeqCst) < n && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        seen.load(Ordering::SeqCst)
    };
    let receiver = Receiver::start_with(move |_| match counter.fetch_add(1, Ordering::SeqCst) {
        // The second request (the other envelope) sets a limit on transactions; every other
        // request fails at the network level, so the first envelope retries and stays cached.
        1 => Reply::Status(
            429,
            vec![(
                "X-Sentry-Rate-Limits".into(),
                "60:transaction:organization".into(),
            )],
        ),
        _ => Reply::Reset,
    });
    let cache_dir = dir.clone();
    let mut t = transport(&receiver.dsn(), move |o| {
        o.retry_base_delay = Duration::from_millis(300);
        o.cache = Some(sentry_sdk::transport::CacheOptions::new(cache_dir));
    });
    let mut both = event(41);
    both.add_item(transaction().items()[0].clone());
    t.send(both);
    assert_eq!(arrived(1), 1);
    t.send(event(42)); // answered 429 for transactions while the first waits to retry
    assert_eq!(arrived(3), 3, "the first envelope's retry");
    let reports = t.finish();
    let read_files = || -> Vec<Vec<u8>> {
        std::fs::read_dir(dir.join("envelopes-v1"))
            .map(|d| {
                d.filter_map(|e| std::fs::read(e.ok()?.path()).ok())
                    .collect()
            })
            .unwrap_or_default()
    };
    // `close` waited for the worker to end, which left its unsent counts in the cache: read
    // once, right away.
    let files = read_files();
    let _ = std::fs::remove_dir_all(&dir);
    let has = |file: &[u8], ty: &str| {
        let needle = format!("\"type\":\"{ty}\"");
        file.windows(needle.len()).any(|w| w == needle.as_bytes())
    };
    let first: Vec<&Vec<u8>> = files.iter().filter(|f| has(f, "event")).collect();
    assert!(!first.is_empty(), "the first envelope stays cached");
    assert!(
        first.iter().all(|f| !has(f, "transaction")),
        "the dropped transaction is not on disk"
    );
    // Counted; the transport, closed with the count unsent, left it in the cache as a
    // `client_report` envelope for the next start.
    assert!(reports.take().is_empty(), "nothing left in memory");
    let counted: Vec<&Vec<u8>> = files
        .iter()
        .filter(|f| {
            has(f, "client_report")
                && String::from_utf8_lossy(f).contains(
                    r#"{"reason":"ratelimit_backoff","category":"transaction","quantity":1}"#,
                )
        })
        .collect();
    assert_eq!(counted.len(), 1, "and it was counted");
}
