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
    if mode == "sdk-thread" {
        // `before_send` runs on the SDK's own thread: the crash happens there.
        options = options.before_send(|event| {
            if event.message.as_deref() == Some("crash in before_send") {
                write_through_null();
            }
            Some(event)
        });
    }
    let guard = sentry_sdk::init(options);
    if mode == "no-dsn" || mode == "with-dsn" {
        // Whether `init` started a monitor: this process's children, listed per thread that
        // started them (Linux).
        std::thread::sleep(Duration::from_millis(100));
        let tasks = std::fs::read_dir(format!("/proc/{}/task", std::process::id())).unwrap();
        let children: String = tasks
            .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("children")).ok())
            .collect();
        let started = !children.trim().is_empty();
        assert_eq!(started, mode == "with-dsn", "monitor started: {children:?}");
        drop(guard);
        return;
    }
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
    // Where this function lies, so the parent can name the dump's frames by its own symbols
    // (written past the test harness's output capture, which a crash would lose).
    {
        use std::io::Write;
        let at = child_native_crash as fn() as usize;
        let _ = writeln!(std::io::stderr(), "{ANCHOR}{at:#x}");
    }
    match mode.as_str() {
        "segv" => write_through_null(),
        "abort" => std::process::abort(),
        "panic" => panic!("a panic, not a native crash"),
        "overflow" => {
            std::hint::black_box(recurse(0));
        }
        "panic-abort" => {
            // What a `panic = "abort"` build does: the hooks run, then the process aborts.
            let ours = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                ours(info);
                std::process::abort();
            }));
            panic!("a panic, then its abort");
        }
        "sdk-thread" => {
            sentry_sdk::capture_message("crash in before_send", sentry_sdk::Level::Error);
            std::thread::sleep(WAIT);
        }
        _ => {}
    }
    drop(guard);
}

/// The child's stderr line naming where `child_native_crash` lies in it.
const ANCHOR: &str = "e2e child_native_crash at ";

/// How far the child's copy of this program lies from ours (from its `ANCHOR` line).
fn slide(out: &std::process::Output) -> u64 {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let hex = stderr
        .lines()
        .find_map(|l| l.strip_prefix(ANCHOR))
        .expect("the child's anchor line");
    let theirs = u64::from_str_radix(hex.trim().trim_start_matches("0x"), 16).unwrap();
    (child_native_crash as fn() as usize as u64).wrapping_sub(theirs)
}

/// Walks the crashing thread's stack in `dump` as Sentry's processing does, names the frames
/// in the crashed program by this same program's symbols (moved by `slide`) and others by
/// their module, and checks that the top frame is `top` (a module or a function) and, if
/// given, that `expected` is among the top eight. Without symbol files there is no CFI: the
/// walk goes by frame pointers and stack scanning, which skips frames (a null write in
/// `memset` returns straight to the test harness) but keeps the top one exact.
fn check_stack(
    dump: &minidump::Minidump<'static, Vec<u8>>,
    slide: u64,
    top_frame: &str,
    expected: Option<&str>,
) -> Vec<String> {
    let symbols = minidump_unwind::Symbolizer::new(minidump_unwind::simple_symbol_supplier(vec![]));
    let state = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(minidump_processor::process_minidump(dump, &symbols))
        .expect("the minidump walks");
    let thread = &state.threads[state.requesting_thread.expect("a crashing thread")];
    assert!(thread.frames.len() >= 2, "frames: {}", thread.frames.len());
    let exe = std::env::current_exe().unwrap();
    let exe = exe.file_name().unwrap().to_string_lossy().into_owned();
    let top: Vec<String> = thread
        .frames
        .iter()
        .take(8)
        .map(|f| {
            use minidump::Module;
            let module = f.module.as_ref().map(|m| m.code_file().into_owned());
            let module = module.as_deref().unwrap_or("?");
            let module = module.rsplit('/').next().unwrap_or_default();
            if module != exe {
                return format!("{module}+{:#x}", f.instruction);
            }
            let mut name = String::from("?");
            backtrace::resolve(f.instruction.wrapping_add(slide) as usize as *mut _, |s| {
                if let Some(n) = s.name() {
                    name = format!("{n:#}");
                }
            });
            name
        })
        .collect();
    assert!(
        top[0].contains(top_frame),
        "the crashing thread's top frame is {top_frame}: {top:#?}"
    );
    if let Some(expected) = expected {
        assert!(
            top.iter().any(|n| n.contains(expected)),
            "{expected} among the crashing thread's top frames: {top:#?}"
        );
    }
    top
}

fn cached_files(dir: &Path) -> usize {
    std::fs::read_dir(dir.join("envelopes-v1"))
        .map(|d| d.count())
        .unwrap_or(0)
}

/// The session updates the receiver got.
fn sessions(receiver: &Receiver) -> Vec<serde_json::Value> {
    receiver
        .requests()
        .iter()
        .flat_map(|r| r.envelope().items().to_vec())
        .filter(|i| i.item_type() == "session")
        .filter_map(|i| i.payload_json())
        .collect()
}

/// Checks the one crash event the receiver got, its minidump (returned) and the crashed
/// program's session, ended `crashed` by the crash envelope.
fn check_crash(receiver: &Receiver) -> minidump::Minidump<'static, Vec<u8>> {
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

    let crash_envelope = receiver
        .requests()
        .into_iter()
        .find(|r| {
            r.envelope()
                .items()
                .iter()
                .any(|i| i.item_type() == "event")
        })
        .unwrap();
    let session = crash_envelope
        .envelope()
        .items()
        .iter()
        .find(|i| i.item_type() == "session")
        .and_then(|i| i.payload_json())
        .expect("the session's update rides in the crash envelope");
    assert_eq!(session["status"], "crashed", "{session}");
    assert_eq!(session["attrs"]["release"], "e2e-native@1.0.0");
    assert!(session["errors"].as_u64() >= Some(1), "{session}");
    let crashed = sessions(receiver)
        .into_iter()
        .filter(|s| s["status"] == "crashed")
        .count();
    assert_eq!(crashed, 1, "one crashed update");
    dump
}

fn crash_reaches_the_receiver(
    mode: &str,
    top_frame: &str,
    expected_frame: Option<&str>,
) -> minidump::Minidump<'static, Vec<u8>> {
    let receiver = Receiver::start();
    let out = child_output(mode, &receiver.dsn(), None);
    assert!(!out.status.success(), "the child crashed");
    // The monitor sends after the program has died.
    receiver.wait_for(1, WAIT * 2);
    std::thread::sleep(Duration::from_millis(300));
    let dump = check_crash(&receiver);
    check_stack(&dump, slide(&out), top_frame, expected_frame);
    dump
}

#[test]
fn a_null_write_through_ffi_arrives_with_a_minidump() {
    let _ = crash_reaches_the_receiver("segv", "libc.so.6", Some("test::run_test"));
}

#[test]
fn an_abort_arrives_with_a_minidump() {
    let _ = crash_reaches_the_receiver("abort", "libc.so.6", None);
}

#[test]
fn a_stack_overflow_arrives_with_a_minidump() {
    let _ = crash_reaches_the_receiver("overflow", "recurse", None);
}

#[test]
fn a_crash_on_the_sdks_own_thread_arrives_with_a_minidump() {
    let dump = crash_reaches_the_receiver(
        "sdk-thread",
        "libc.so.6",
        Some("child_native_crash::{{closure}}"),
    );
    // The dump says which thread crashed: the SDK's, where `before_send` runs.
    let crashed = dump
        .get_stream::<minidump::MinidumpException>()
        .unwrap()
        .get_crashing_thread_id();
    let names = dump
        .get_stream::<minidump::MinidumpThreadNames>()
        .expect("thread names");
    assert_eq!(
        names.get_name(crashed).as_deref(),
        Some("sentry-transpor"),
        "the crashing thread (Linux keeps 15 bytes of a thread's name)"
    );
}

#[test]
fn without_a_dsn_nothing_is_started_or_installed() {
    let receiver = Receiver::start();
    for (mode, dsn) in [("no-dsn", String::new()), ("with-dsn", receiver.dsn())] {
        let out = child_output(mode, &dsn, None);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{mode}: {stderr}");
    }
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
    let out = child_output("abort", &closed_port_dsn(), Some(&dir));
    assert!(!out.status.success(), "the child crashed");
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
    // The crashed run's session rides in the cached crash envelope; the run marker is gone,
    // so the next start reports no `abnormal` session for it.
    let dump = check_crash(&receiver);
    check_stack(&dump, slide(&out), "libc.so.6", None);
    assert!(child("start", &receiver.dsn(), Some(&dir)).success());
    assert_eq!(receiver.events().len(), 1, "exactly once");
    let statuses: Vec<_> = sessions(&receiver)
        .into_iter()
        .map(|s| s["status"].clone())
        .collect();
    assert!(
        statuses.iter().filter(|s| *s == "crashed").count() == 1
            && !statuses.iter().any(|s| s == "abnormal"),
        "{statuses:?}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_panic_then_its_abort_end_the_session_once() {
    // `panic = "abort"`: the panic hook reports the panic and ends the session `crashed`; the
    // abort that follows is reported by the monitor as a native crash, without a second
    // session update (the program told the monitor the session had ended).
    let receiver = Receiver::start();
    let out = child_output("panic-abort", &receiver.dsn(), None);
    assert!(!out.status.success(), "the child aborted");
    receiver.wait_for(2, WAIT * 2);
    std::thread::sleep(Duration::from_millis(300));
    let events = receiver.events();
    let mechanisms: Vec<_> = events
        .iter()
        .map(|e| e["exception"]["values"][0]["mechanism"]["type"].clone())
        .collect();
    assert_eq!(mechanisms.len(), 2, "{mechanisms:?}");
    assert!(mechanisms.contains(&"panic".into()) && mechanisms.contains(&"minidump".into()));
    let crashed: Vec<_> = sessions(&receiver)
        .into_iter()
        .filter(|s| s["status"] == "crashed")
        .collect();
    assert_eq!(crashed.len(), 1, "the session ended once: {crashed:?}");
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
