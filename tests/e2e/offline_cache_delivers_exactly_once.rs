//! The offline cache across processes: what a process could not deliver is sent by the next
//! one, exactly once, including a crash report from a process that aborted.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::support::*;
use sentry_sdk::protocol::Level;

fn cache_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sentry-e2e-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn cached_files(dir: &Path) -> usize {
    std::fs::read_dir(dir.join("envelopes-v1"))
        .map(|d| d.count())
        .unwrap_or(0)
}

/// Runs this test binary as a child in `mode` (see `child_offline`).
fn child(mode: &str, dsn: &str, dir: &Path) -> std::process::ExitStatus {
    child_test("offline_cache_delivers_exactly_once::child_offline")
        .arg("--test-threads=1")
        .env("E2E_OFFLINE_MODE", mode)
        .env("E2E_OFFLINE_DSN", dsn)
        .env("E2E_OFFLINE_DIR", dir)
        .output()
        .unwrap()
        .status
}

#[inline(never)]
fn crash_in_checkout() {
    panic!("checkout crashed");
}

/// The child: `capture` sends 5 events and exits; `abort` panics and aborts after the hooks;
/// `start` only starts the SDK and waits (at most 10 s) for the cache to empty.
#[test]
#[ignore = "run as a child process by the other tests in offline_cache_delivers_exactly_once"]
fn child_offline() {
    let mode = from_parent("E2E_OFFLINE_MODE");
    let dsn = from_parent("E2E_OFFLINE_DSN");
    let dir = from_parent("E2E_OFFLINE_DIR");
    // The crash's symbolication must finish within the hook's time (three quarters of it):
    // the first one in this debug binary takes ~0.8 s alone, more with the other tests running.
    let timeout = if mode == "abort" { 4 } else { 1 };
    let mut options = sentry_sdk::ClientOptions::new()
        .dsn(&dsn)
        .cache_dir(&dir)
        .shutdown_timeout(Duration::from_secs(timeout));
    if mode == "abort" {
        // With a release: the run's session, `crashed`, leaves in the crash envelope.
        options = options.release("e2e@1.0.0");
    }
    let guard = sentry_sdk::init(options);
    match mode.as_str() {
        "capture" => {
            for i in 0..5 {
                sentry_sdk::capture_message(&format!("offline {i}"), Level::Error);
            }
        }
        "abort" => {
            let ours = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                ours(info);
                std::process::abort(); // what a `panic = "abort"` build does after the hooks
            }));
            crash_in_checkout();
        }
        _ => {
            let deadline = Instant::now() + Duration::from_secs(10);
            while cached_files(Path::new(&dir)) > 0 && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
    drop(guard);
}

#[test]
fn events_captured_while_the_server_is_down_are_sent_once_by_the_next_start() {
    let dir = cache_dir("down");
    assert!(child("capture", &closed_port_dsn(), &dir).success());
    assert_eq!(cached_files(&dir), 5, "all five kept on disk");

    let receiver = Receiver::start();
    assert!(child("start", &receiver.dsn(), &dir).success());
    let events = receiver.wait_for(5, WAIT);
    let mut ids: Vec<_> = receiver
        .events()
        .iter()
        .map(|e| e["event_id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 5, "every event exactly once: {events:?}");
    assert_eq!(cached_files(&dir), 0);
    // A stale `sent_at` is never replayed: each was written at its own send.
    for r in receiver.requests() {
        assert!(r.envelope().headers().contains_key("sent_at"));
    }
    // A third start sends nothing again.
    assert!(child("start", &receiver.dsn(), &dir).success());
    assert_eq!(receiver.events().len(), 5);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_crash_that_aborts_with_the_server_down_is_sent_by_the_next_start() {
    let dir = cache_dir("abort");
    let status = child("abort", &closed_port_dsn(), &dir);
    assert!(!status.success(), "the child aborted");
    assert_eq!(
        cached_files(&dir),
        1,
        "the crash was written before the hook waited"
    );

    let receiver = Receiver::start();
    assert!(child("start", &receiver.dsn(), &dir).success());
    let events = receiver.events();
    assert_eq!(events.len(), 1);
    // The session ended `crashed` in the same envelope as its crash.
    let sessions: Vec<serde_json::Value> = receiver
        .requests()
        .iter()
        .flat_map(|r| r.envelope().items().to_vec())
        .filter(|i| i.item_type() == "session")
        .map(|i| i.payload_json().unwrap())
        .collect();
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    assert_eq!(sessions[0]["status"], "crashed");
    assert_eq!(sessions[0]["init"], true);
    assert_eq!(sessions[0]["errors"], 1);
    let ex = &events[0]["exception"]["values"][0];
    assert_eq!(ex["value"], "checkout crashed");
    assert_eq!(ex["mechanism"]["handled"], false);
    let frames = ex["stacktrace"]["frames"].as_array().unwrap();
    assert_eq!(
        frames.last().unwrap()["function"],
        "e2e::offline_cache_delivers_exactly_once::crash_in_checkout"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_crash_with_the_server_up_is_delivered_and_leaves_nothing_in_the_cache() {
    let dir = cache_dir("up");
    let receiver = Receiver::start();
    assert!(!child("abort", &receiver.dsn(), &dir).success());
    assert_eq!(receiver.events().len(), 1, "delivered before the abort");
    assert_eq!(cached_files(&dir), 0, "and removed from the cache");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn two_processes_sharing_a_cache_send_each_envelope_once() {
    let dir = cache_dir("shared");
    for _ in 0..2 {
        assert!(child("capture", &closed_port_dsn(), &dir).success());
    }
    assert_eq!(cached_files(&dir), 10);
    let receiver = Receiver::start();
    let dsn = receiver.dsn();
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| child("start", &dsn, &dir));
        let b = s.spawn(|| child("start", &dsn, &dir));
        (a.join().unwrap(), b.join().unwrap())
    });
    assert!(a.success() && b.success());
    let mut ids: Vec<_> = receiver
        .events()
        .iter()
        .map(|e| e["event_id"].as_str().unwrap().to_owned())
        .collect();
    let total = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!((total, ids.len()), (10, 10), "ten events, none twice");
    let _ = std::fs::remove_dir_all(dir);
}

mod in_process {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use serde_json::json;

    use super::cache_dir;
    use crate::support::*;
    use sentry_sdk::transport::{
        CacheOptions, Dsn, Envelope, HttpOptions, HttpTransport, Item, Outgoing, Transport,
    };

    fn event(n: u32) -> Envelope {
        let mut e = Envelope::new();
        let id = format!("{:032x}", 0xcac4e_u128 << 64 | u128::from(n));
        e.set_header("event_id", id.as_str());
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        let payload = json!({"event_id": id, "timestamp": now, "platform": "native", "logentry": {"formatted": format!("cached {n}")}});
        e.add_item(Item::new("event", payload.to_string().into_bytes()));
        e
    }

    fn transport(dsn: &str, dir: &std::path::Path) -> HttpTransport {
        let mut options = HttpOptions::new(dsn.parse::<Dsn>().unwrap(), "sentry.rust.sdk/test");
        options.cache = Some(CacheOptions::new(dir));
        // No retries: a network error goes to the cache at once.
        options.max_retries = 0;
        HttpTransport::new(options)
    }

    /// Fails the first `n` requests with a reset, then answers with `then`.
    fn reset_first(n: usize, then: Reply) -> impl Fn(&Request) -> Reply + Send + Sync {
        let seen = AtomicUsize::new(0);
        move |_| {
            if seen.fetch_add(1, Ordering::SeqCst) < n {
                Reply::Reset
            } else {
                then.clone()
            }
        }
    }

    use crate::receiver::Request;

    #[test]
    fn cached_envelopes_go_out_as_soon_as_the_server_answers_again() {
        let dir = cache_dir("reachable");
        let receiver = Receiver::start_with(reset_first(2, Reply::Status(200, Vec::new())));
        let t = transport(&receiver.dsn(), &dir);
        t.send(Outgoing::ready(event(1)));
        t.send(Outgoing::ready(event(2)));
        assert!(t.flush(WAIT));
        assert_eq!(
            super::cached_files(&dir),
            2,
            "network errors went to the cache"
        );
        // A live envelope gets through: the cache follows it without waiting for the timer.
        t.send(Outgoing::ready(event(3)));
        let got = receiver.wait_for(3, WAIT);
        let mut ids: Vec<_> = got
            .iter()
            .filter(|r| !r.body.is_empty())
            .filter_map(|r| r.event())
            .map(|e| e["logentry"]["formatted"].clone())
            .collect();
        ids.sort_by_key(|v| v.to_string());
        assert_eq!(
            ids,
            [json!("cached 1"), json!("cached 2"), json!("cached 3")]
        );
        // The file goes once the response is read, a moment after the sink recorded it.
        let deadline = std::time::Instant::now() + WAIT;
        while super::cached_files(&dir) > 0 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(super::cached_files(&dir), 0);
        t.close(Duration::from_secs(1));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn the_cache_waits_while_the_server_rate_limits_its_categories() {
        let dir = cache_dir("limited");
        let limited = vec![("X-Sentry-Rate-Limits".to_owned(), "60:error:key".to_owned())];
        let seen = AtomicUsize::new(0);
        let receiver = Receiver::start_with(move |_| match seen.fetch_add(1, Ordering::SeqCst) {
            0 => Reply::Reset,
            1 => Reply::Status(429, limited.clone()),
            _ => Reply::Status(200, Vec::new()),
        });
        let t = transport(&receiver.dsn(), &dir);
        t.send(Outgoing::ready(event(1))); // reset: cached
        assert!(t.flush(WAIT));
        assert_eq!(super::cached_files(&dir), 1);
        t.send(Outgoing::ready(event(2))); // 429: errors limited for 60 s
        assert!(t.flush(WAIT));
        t.send(Outgoing::ready(event(3))); // limited: dropped before any request
                                           // Another category is not limited: its delivery wakes the cache drain, which must
                                           // leave the cached error alone while errors are limited.
        let mut session = Envelope::new();
        let payload = json!({
            "sid": "6b3bd6b5-1c8b-4b51-9a0b-0a6c5e5b0c11",
            "init": true,
            "started": sentry_sdk_transport::time::rfc3339(std::time::SystemTime::now()),
            "status": "ok",
            "attrs": {"release": "e2e@1.0.0"},
        });
        session.add_item(Item::new("session", payload.to_string().into_bytes()));
        t.send(Outgoing::ready(session));
        assert!(t.flush(WAIT));
        std::thread::sleep(Duration::from_millis(300)); // time for a (wrong) drain to show
        t.close(Duration::from_millis(500));
        let requests = receiver.requests();
        assert!(requests
            .iter()
            .any(|r| r.envelope().items()[0].item_type() == "session"));
        assert!(
            requests
                .iter()
                .all(|r| r.envelope().event_id() != event(1).event_id()),
            "nothing sent from the cache while errors are limited"
        );
        assert_eq!(
            super::cached_files(&dir),
            1,
            "the cached error waits for the limit to end"
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}
