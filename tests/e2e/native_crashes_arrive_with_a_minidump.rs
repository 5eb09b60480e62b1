//! Native crashes (feature `minidump`): a null write through FFI, `std::process::abort()` and a
//! stack overflow each arrive as one fatal event with an `event.minidump` attachment that a
//! minidump reader opens, with the crashing thread and its registers; with the server down and
//! the offline cache on, the next start delivers it exactly once.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::receiver::Receiver;
use crate::support::*;

/// Runs this test binary as the crashing child in `mode`.
fn child(mode: &str, dsn: &str, dir: Option<&Path>) -> std::process::ExitStatus {
    child_output(mode, dsn, dir).status
}

/// Runs the crashing child and returns its output.
fn child_output(mode: &str, dsn: &str, dir: Option<&Path>) -> std::process::Output {
    let mut command = child_test("native_crashes_arrive_with_a_minidump::child_native_crash");
    command
        .arg("--test-threads=1")
        .env("E2E_NATIVE_MODE", mode)
        .env("E2E_NATIVE_DSN", dsn);
    if let Some(dir) = dir {
        command.env("E2E_NATIVE_DIR", dir);
    }
    command.output().unwrap()
}

#[inline(never)]
#[allow(unsafe_code)]
fn write_through_null() {
    extern "C" {
        fn memset(dest: *mut u8, c: i32, n: usize) -> *mut u8;
    }
    // SAFETY: none; this is the crash under test (a null write inside libc).
    unsafe {
        memset(std::hint::black_box(std::ptr::null_mut()), 1, 64);
    }
}

#[inline(never)]
fn recurse(depth: u64) -> u64 {
    if depth == u64::MAX {
        return 0;
    }
    let buf = std::hint::black_box([depth; 64]);
    recurse(depth + 1) + buf[3]
}

/// The child: runs the monitor if it is one; else starts the SDK, sets its scope, waits for
/// the snapshot to reach the monitor, and crashes as `E2E_NATIVE_MODE` says (`start`: only
/// starts and waits for the cache to empty).
#[test]
#[ignore = "run as a child process by the other tests in native_crashes_arrive_with_a_minidump"]
fn child_native_crash() {
    sentry_sdk::minidump::run_monitor_if_requested();
    let mode = from_parent("E2E_NATIVE_MODE");
    let dsn = from_parent("E2E_NATIVE_DSN");
    let mut options = sentry_sdk::ClientOptions::new()
        .dsn(&dsn)
        .release("e2e-native@1.0.0")
        .environment("crash-test")
        .shutdown_timeout(Duration::from_secs(3));
    let dir = std::env::var("E2E_NATIVE_DIR").ok();
    if let Some(dir) = &dir {
        options = options.cache_dir(dir);
    }
    let guard = sentry_sdk::init(options);
    if mode == "start" {
        let deadline = Instant::now() + Duration::from_secs(10);
        let dir = PathBuf::from(dir.unwrap_or_default());
        while cached_files(&dir) > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        drop(guard);
        return;
    }
    sentry_sdk::set_tag("shard", "7");
    sentry_sdk::set_user(Some(sentry_sdk::protocol::User {
        id: Some("user-42".into()),
        ..Default::default()
    }));
    sentry_sdk::add_breadcrumb(sentry_sdk::protocol::Breadcrumb {
        message: Some("about to crash".into()),
        ..Default::default()
    });
    // The monitor's copy of the scope is refreshed each SNAPSHOT_INTERVAL.
    std::thread::sleep(sentry_sdk::minidump::SNAPSHOT_INTERVAL * 2);
    match mode.as_str() {
        "segv" => write_through_null(),
        "abort" => std::process::abort(),
        "panic" => panic!("a panic, not a native crash"),
        "overflow" => {
            std::hint::black_box(recurse(0));
        }
        _ => {}
    }
    drop(guard);
}

fn cached_files(dir: &Path) -> usize {
    std::fs::read_dir(dir.join("envelopes-v1"))
        .map(|d| d.count())
        .unwrap_or(0)
}

/// Checks the one crash event the receiver got, and its minidump.
fn check_crash(receiver: &Receiver) {
    let events = receiver.events();
    assert_eq!(events.len(), 1, "one event: {events:?}");
    let event = &events[0];
    assert_eq!(event["level"], "fatal");
    assert_eq!(event["release"], "e2e-native@1.0.0");
    assert_eq!(event["environment"], "crash-test");
    assert_eq!(event["tags"]["shard"], "7", "{event}");
    assert_eq!(event["user"]["id"], "user-42");
    let crumbs = event["breadcrumbs"]["values"].as_array().unwrap();
    assert!(crumbs.iter().any(|c| c["message"] == "about to crash"));
    let ex = &event["exception"]["values"][0];
    assert_eq!(ex["mechanism"]["type"], "minidump");
    assert_eq!(ex["mechanism"]["handled"], false);

    let dumps: Vec<Vec<u8>> = receiver
        .requests()
        .iter()
        .flat_map(|r| r.envelope().items().to_vec())
        .filter(|i| {
            i.item_type() == "attachment" && i.headers()["attachment_type"] == "event.minidump"
        })
        .map(|i| i.payload().to_vec())
        .collect();
    assert_eq!(dumps.len(), 1, "one minidump");
    let dump = minidump::Minidump::read(dumps[0].clone()).expect("a minidump");
    let exception = dump
        .get_stream::<minidump::MinidumpException>()
        .expect("an exception stream");
    let crashed = exception.get_crashing_thread_id();
    let threads = dump
        .get_stream::<minidump::MinidumpThreadList>()
        .expect("threads");
    let thread = threads
        .get_thread(crashed)
        .expect("the crashing thread is in the dump");
    assert!(
        thread.raw.stack.memory.data_size > 0,
        "with its stack memory"
    );
    let system = dump.get_stream::<minidump::MinidumpSystemInfo>().ok();
    let misc = dump.get_stream::<minidump::MinidumpMiscInfo>().ok();
    let context = exception
        .context(system.as_ref().expect("system info"), misc.as_ref())
        .expect("the crash's registers");
    assert_ne!(context.get_instruction_pointer(), 0, "a top frame");
}

fn crash_reaches_the_receiver(mode: &str) {
    let receiver = Receiver::start();
    let status = child(mode, &receiver.dsn(), None);
    assert!(!status.success(), "the child crashed");
    // The monitor sends after the program has died.
    receiver.wait_for(1, WAIT * 2);
    std::thread::sleep(Duration::from_millis(300));
    check_crash(&receiver);
}

#[test]
fn a_null_write_through_ffi_arrives_with_a_minidump() {
    crash_reaches_the_receiver("segv");
}

#[test]
fn an_abort_arrives_with_a_minidump() {
    crash_reaches_the_receiver("abort");
}

#[test]
fn a_stack_overflow_arrives_with_a_minidump() {
    crash_reaches_the_receiver("overflow");
}

#[test]
fn the_signal_handler_installed_before_still_runs() {
    // Rust's runtime installs a SIGSEGV handler before `main` that reports a stack overflow;
    // ours runs first and then hands the signal on to it.
    let receiver = Receiver::start();
    let out = child_output("overflow", &receiver.dsn(), None);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("has overflowed its stack"), "{stderr}");
    receiver.wait_for(1, WAIT * 2);
}

#[test]
fn a_crash_with_the_server_down_is_sent_by_the_next_start_once() {
    let dir = std::env::temp_dir().join(format!("sentry-e2e-native-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let status = child("abort", &closed_port_dsn(), Some(&dir));
    assert!(!status.success(), "the child crashed");
    // The monitor outlives the child by the time it takes to write and send.
    let deadline = Instant::now() + WAIT * 2;
    while cached_files(&dir) == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(cached_files(&dir), 1, "the crash is kept on disk");

    let receiver = Receiver::start();
    assert!(child("start", &receiver.dsn(), Some(&dir)).success());
    receiver.wait_for(1, WAIT);
    check_crash(&receiver);
    // The crashed run's session, reported by the next start.
    let sessions: Vec<serde_json::Value> = receiver
        .requests()
        .iter()
        .flat_map(|r| r.envelope().items().to_vec())
        .filter(|i| i.item_type() == "session")
        .filter_map(|i| i.payload_json())
        .filter(|s| s["status"] == "crashed")
        .collect();
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    assert!(child("start", &receiver.dsn(), Some(&dir)).success());
    assert_eq!(receiver.events().len(), 1, "exactly once");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_panic_is_still_reported_by_the_panic_hook_and_not_as_a_minidump() {
    let receiver = Receiver::start();
    let status = child("panic", &receiver.dsn(), None);
    assert!(!status.success(), "the child test failed by its panic");
    receiver.wait_for(1, WAIT);
    // The monitor has nothing to send: it ends with the program.
    std::thread::sleep(Duration::from_millis(500));
    let events = receiver.events();
    assert_eq!(events.len(), 1, "{events:?}");
    let ex = &events[0]["exception"]["values"][0];
    assert_eq!(ex["mechanism"]["type"], "panic");
    assert_eq!(ex["value"], "a panic, not a native crash");
    let minidumps = receiver
        .requests()
        .iter()
        .flat_map(|r| r.envelope().items().to_vec())
        .filter(|i| i.item_type() == "attachment")
        .count();
    assert_eq!(minidumps, 0);
}
