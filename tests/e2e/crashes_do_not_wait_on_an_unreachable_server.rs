//! A crash report waits for its delivery only while the server may take it: with a server
//! known to be unreachable (the last request to end got no HTTP answer), `send_crash` queues
//! the envelope, writes it to the offline cache first if there is one, and returns at once, so
//! that a program whose tasks keep panicking is not held up for `shutdown_timeout` on each.
//! With a reachable server, or nothing known yet, it still waits.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::receiver::Request;
use crate::support::*;
use sentry_sdk::transport::{
    CacheOptions, ClientReports, DiscardReason, Dsn, Envelope, HttpOptions, HttpTransport, Item,
    Transport,
};

/// The first crash's wait: long enough to tell a wait from none.
const TIMEOUT: Duration = Duration::from_secs(1);
/// What "returns at once" must stay under (the target is 50 ms; this is generous on purpose,
/// so that a loaded machine does not fail it).
const QUICK: Duration = Duration::from_millis(500);

fn transport(
    dsn: &str,
    tweak: impl FnOnce(&mut HttpOptions),
) -> (HttpTransport, Arc<ClientReports>) {
    let mut options = HttpOptions::new(dsn.parse::<Dsn>().unwrap(), "sentry.rust.sdk/test");
    tweak(&mut options);
    let reports = options.client_reports.clone();
    (HttpTransport::new(options), reports)
}

fn event_id(n: u32) -> String {
    format!(
        "{:032x}",
        0xc4a5_0000_0000_0000_0000_0000_0000_0000 + u128::from(n)
    )
}

/// A fatal error event, as the panic hook sends it.
fn crash(n: u32) -> Envelope {
    let id = event_id(n);
    let mut envelope = Envelope::new();
    envelope.set_header("event_id", id.as_str());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    let payload = json!({
        "event_id": id,
        "timestamp": now,
        "level": "fatal",
        "platform": "native",
        "exception": {"values": [{"type": "panic", "value": format!("crash {n}")}]},
    });
    envelope.add_item(Item::new("event", payload.to_string().into_bytes()));
    envelope
}

/// `send_crash` timed.
fn timed_crash(transport: &HttpTransport, n: u32) -> (bool, Duration) {
    let start = Instant::now();
    let waited = transport.send_crash(crash(n), TIMEOUT);
    (waited, start.elapsed())
}

fn received(receiver: &Receiver, n: u32) -> bool {
    let id = event_id(n);
    receiver
        .requests()
        .iter()
        .any(|r| r.envelope().event_id() == Some(id.as_str()))
}

/// Waits (at most `WAIT`) until crash `n` reached the server.
fn eventually_received(receiver: &Receiver, n: u32) -> bool {
    let deadline = Instant::now() + WAIT;
    while !received(receiver, n) {
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    true
}

/// The `network_error` drops counted, waiting (at most `WAIT`) until `expected` are: `close`
/// may return while the worker is still giving up on the last ones.
fn network_errors(reports: &ClientReports, expected: u64) -> u64 {
    let deadline = Instant::now() + WAIT;
    let mut counted = 0;
    loop {
        counted += reports
            .take()
            .iter()
            .filter(|(reason, _, _)| *reason == DiscardReason::NetworkError)
            .map(|(_, _, n)| n)
            .sum::<u64>();
        if counted >= expected || Instant::now() >= deadline {
            return counted;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The first crash against a server that does not answer: nothing is known yet, so it waits
/// its whole timeout, and no longer. Returns how long it took.
fn first_crash_waits_its_whole_timeout(t: &HttpTransport) -> Duration {
    let (delivered, first) = timed_crash(t, 0);
    assert!(!delivered);
    assert!(
        first >= TIMEOUT - Duration::from_millis(50),
        "did not wait: {first:?}"
    );
    assert!(
        first < TIMEOUT + QUICK,
        "waited past its timeout: {first:?}"
    );
    first
}

/// Five more crashes (numbered 1 to 5); the longest any of them took.
fn slowest_of_later_crashes(t: &HttpTransport) -> Duration {
    (1..=5)
        .map(|n| timed_crash(t, n).1)
        .max()
        .unwrap_or_default()
}

#[test]
fn with_a_reachable_server_each_crash_is_delivered_before_send_crash_returns() {
    let receiver = Receiver::start();
    let (t, _) = transport(&receiver.dsn(), |_| {});
    for n in 0..3 {
        let (delivered, took) = timed_crash(&t, n);
        assert!(delivered, "crash {n} not delivered within {TIMEOUT:?}");
        assert!(
            received(&receiver, n),
            "send_crash returned before delivery"
        );
        eprintln!("reachable: crash {n} delivered and returned after {took:?}");
    }
    t.close(Duration::from_secs(1));
}

#[test]
fn with_a_refused_server_only_the_first_crash_waits() {
    // Default retries (500 ms, doubling): the first crash cannot be settled within 1 s.
    let dsn = closed_port_dsn();
    let (t, reports) = transport(&dsn, |_| {});
    let first = first_crash_waits_its_whole_timeout(&t);
    let mut slowest = Duration::ZERO;
    for n in 1..=5 {
        let (delivered, took) = timed_crash(&t, n);
        assert!(
            !delivered,
            "crash {n} was not waited for, so not known delivered"
        );
        slowest = slowest.max(took);
    }
    assert!(slowest < QUICK, "a later crash waited {slowest:?}");
    eprintln!("refused: first crash waited {first:?}, later ones at most {slowest:?}");
    // All six were queued all the same: without a cache, `close` counts each one it gives up
    // (for the next transport of the DSN to send).
    t.close(Duration::from_secs(2));
    assert_eq!(network_errors(&counted_after_close(&dsn, &reports), 6), 6);
}

#[test]
fn with_a_hung_server_crashes_stop_waiting_once_a_request_timed_out() {
    let receiver = Receiver::start_with(|_| Reply::Hang);
    let (t, reports) = transport(&receiver.dsn(), |o| {
        o.request_timeout = Duration::from_millis(300);
    });
    // The first request hangs until its timeout (300 ms); until then nothing is known, so the
    // first crash waits its whole timeout (its retries hang too).
    let first = first_crash_waits_its_whole_timeout(&t);
    let slowest = slowest_of_later_crashes(&t);
    assert!(slowest < QUICK, "a later crash waited {slowest:?}");
    assert!(
        eventually_received(&receiver, 1),
        "later crashes are still sent"
    );
    eprintln!("hung: first crash waited {first:?}, later ones at most {slowest:?}");
    t.close(Duration::from_secs(2));
    let counted = counted_after_close(&receiver.dsn(), &reports);
    assert_eq!(network_errors(&counted, 6), 6);
}

#[test]
fn with_a_hung_server_and_the_default_request_timeout_only_the_first_crash_waits() {
    // Requests time out only after 30 s: it is the first crash's wait running out with no
    // answer that tells the transport the server does not answer.
    let receiver = Receiver::start_with(|_| Reply::Hang);
    let (t, _reports) = transport(&receiver.dsn(), |_| {});
    first_crash_waits_its_whole_timeout(&t);
    let slowest = slowest_of_later_crashes(&t);
    assert!(slowest < QUICK, "a later crash waited {slowest:?}");
    t.close(Duration::from_millis(200));
}

#[test]
fn a_server_that_answers_again_even_with_a_500_is_waited_for_again() {
    // First request: read, then the connection is closed unanswered (a network error); second:
    // HTTP 500 after 800 ms (a wait for it would show), an answer all the same; then 200.
    let seen = AtomicUsize::new(0);
    let receiver =
        Receiver::start_with(
            move |_: &Request| match seen.fetch_add(1, Ordering::SeqCst) {
                0 => Reply::Close,
                1 => Reply::Slow(Duration::from_millis(800), 500),
                _ => Reply::Status(200, Vec::new()),
            },
        );
    let (t, _) = transport(&receiver.dsn(), |o| {
        o.max_retries = 0; // the first crash is given up at once, not retried
        o.client_reports = Arc::new(ClientReports::new(false)); // no report envelopes
    });
    let (settled, first) = timed_crash(&t, 0);
    assert!(settled, "given up without retries: {first:?}");
    let (_, second) = timed_crash(&t, 1);
    assert!(
        second < QUICK,
        "the server was known unreachable: {second:?}"
    );
    // The second crash's answer (500) ends before the third starts.
    assert!(t.flush(WAIT));
    let (delivered, third) = timed_crash(&t, 2);
    assert!(delivered, "the third crash was not waited for: {third:?}");
    assert!(
        received(&receiver, 2),
        "send_crash returned before delivery"
    );
    t.close(Duration::from_secs(1));
}

fn cache_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sentry-e2e-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Whether a file in the cache (claimed or not) holds the envelope of crash `n`. Scanned up
/// to five times: the worker claims a file by renaming it, and a scan that meets the rename
/// half-way misses the file under both names.
fn cached(dir: &Path, n: u32) -> bool {
    let id = event_id(n);
    let scan = || {
        std::fs::read_dir(dir.join("envelopes-v1"))
            .map(|entries| {
                entries.flatten().any(|e| {
                    std::fs::read(e.path())
                        .is_ok_and(|bytes| String::from_utf8_lossy(&bytes).contains(&id))
                })
            })
            .unwrap_or(false)
    };
    (0..5).any(|attempt| {
        if attempt > 0 {
            std::thread::sleep(Duration::from_millis(20));
        }
        scan()
    })
}

#[test]
fn with_the_cache_on_a_crash_not_waited_for_is_on_disk_when_send_crash_returns() {
    let dir = cache_dir("crash-unreachable");
    let (t, _) = transport(&closed_port_dsn(), |o| {
        o.cache = Some(CacheOptions::new(&dir));
    });
    // Nothing known yet: the first crash waits (its retries outlast the timeout).
    let (_, first) = timed_crash(&t, 0);
    assert!(
        first >= TIMEOUT - Duration::from_millis(50),
        "did not wait: {first:?}"
    );
    assert!(cached(&dir, 0), "crash 0 is not on disk");
    for n in 1..=3 {
        let (_, took) = timed_crash(&t, n);
        assert!(took < QUICK, "crash {n} waited {took:?}");
        assert!(cached(&dir, n), "crash {n} is not on disk");
        eprintln!("refused, cache on: crash {n} on disk and returned after {took:?}");
    }
    t.close(Duration::from_secs(1));
    for n in 0..=3 {
        assert!(cached(&dir, n), "crash {n} is kept for the next start");
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[inline(never)]
fn task_that_panics(n: u32) {
    panic!("task {n} failed");
}

#[test]
fn caught_panics_with_sentry_unreachable_hold_their_thread_once_only() {
    let _serial = serial();
    let guard = sentry_sdk::init(
        sentry_sdk::ClientOptions::new()
            .dsn(&closed_port_dsn())
            .shutdown_timeout(TIMEOUT),
    );
    // Like tokio tasks panicking one after another: each panic runs the hook on its thread.
    let mut took = Vec::new();
    for n in 0..4 {
        let start = Instant::now();
        let joined = std::thread::spawn(move || task_that_panics(n)).join();
        took.push(start.elapsed());
        assert!(joined.is_err());
    }
    drop(guard);
    eprintln!("panics with the server refusing took {took:?}");
    assert!(took[0] >= TIMEOUT - Duration::from_millis(50), "{took:?}");
    for later in &took[1..] {
        assert!(*later < QUICK, "{took:?}");
    }
}
