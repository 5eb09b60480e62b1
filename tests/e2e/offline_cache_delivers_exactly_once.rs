//! The offline cache across processes: what a process could not deliver is sent by the next
//! one, exactly once, including a crash report from a process that aborted.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::*;
use sentry_sdk::protocol::Level;

fn closed_port_dsn() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("http://public@127.0.0.1:{port}/1")
}

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
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "offline_cache_delivers_exactly_once::child_offline",
            "--nocapture",
            "--test-threads=1",
        ])
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
fn child_offline() {
    let (Ok(mode), Ok(dsn), Ok(dir)) = (
        std::env::var("E2E_OFFLINE_MODE"),
        std::env::var("E2E_OFFLINE_DSN"),
        std::env::var("E2E_OFFLINE_DIR"),
    ) else {
        return; // only meaningful as a child
    };
    let options = sentry_sdk::ClientOptions::new()
        .dsn(&dsn)
        .cache_dir(&dir)
        .shutdown_timeout(Duration::from_secs(1));
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
