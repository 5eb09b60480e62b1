use std::time::Duration;

use crate::support::*;

#[inline(never)]
fn explode(n: u32) -> u32 {
    if n > 1 {
        panic!("exploded with {n}");
    }
    n
}

#[test]
fn a_panic_on_a_named_thread_becomes_a_fatal_unhandled_exception() {
    let _serial = serial();
    let receiver = Receiver::start();
    let guard = sentry_sdk::init(options(&receiver).default_integrations(true));
    let result = std::thread::Builder::new()
        .name("worker-7".into())
        .spawn(|| explode(3))
        .unwrap()
        .join();
    assert!(result.is_err());
    drop(guard);

    let events = receiver.events();
    assert_eq!(events.len(), 1, "{events:#?}");
    let event = &events[0];
    assert_eq!(event["level"], "fatal");
    assert_eq!(event["sdk"]["integrations"][0], "panic");
    let ex = &event["exception"]["values"][0];
    assert_eq!(ex["type"], "panic");
    assert_eq!(ex["value"], "exploded with 3");
    assert_eq!(ex["mechanism"]["type"], "panic");
    assert_eq!(ex["mechanism"]["handled"], false);
    let location = ex["mechanism"]["data"]["location"].as_str().unwrap();
    assert!(
        location.contains("panics_are_reported_as_fatal_events.rs:"),
        "{location}"
    );
    let thread = &event["threads"]["values"][0];
    assert_eq!(thread["name"], "worker-7");
    assert_eq!(thread["crashed"], true);
    assert_eq!(thread["id"], ex["thread_id"]);
    // The top frame is the user's function, not the panic machinery or the SDK.
    let frames = ex["stacktrace"]["frames"].as_array().unwrap();
    let top = frames.last().unwrap();
    assert_eq!(
        top["function"], "e2e::panics_are_reported_as_fatal_events::explode",
        "{frames:#?}"
    );
    assert_eq!(top["in_app"], true);
}

/// Run as a child process by the test below: panics, then aborts right after the hooks ran,
/// exactly what a `panic = "abort"` build does.
#[test]
#[ignore = "run as a child process by the_panic_event_is_delivered_before_an_abort"]
fn child_that_panics_and_aborts() {
    let dsn = from_parent("E2E_CHILD_DSN");
    let _guard = sentry_sdk::init(
        sentry_sdk::ClientOptions::new()
            .dsn(&dsn)
            .shutdown_timeout(Duration::from_secs(5)),
    );
    let ours = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        ours(info);
        std::process::abort();
    }));
    explode(9);
}

#[test]
fn the_panic_event_is_delivered_before_an_abort() {
    let receiver = Receiver::start();
    let status = child_test("panics_are_reported_as_fatal_events::child_that_panics_and_aborts")
        .arg("--test-threads=1")
        .env("E2E_CHILD_DSN", receiver.dsn())
        .status()
        .unwrap();
    assert!(!status.success(), "the child aborted");
    let events = receiver.events();
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0]["exception"]["values"][0]["value"],
        "exploded with 9"
    );
}

#[test]
fn a_caught_panic_under_steady_traffic_waits_for_its_own_event_only() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::Instant;

    let _serial = serial();
    let receiver = Receiver::start_with(|_| Reply::Slow(Duration::from_millis(10), 200));
    let guard = sentry_sdk::init(
        options(&receiver)
            .default_integrations(true)
            .shutdown_timeout(Duration::from_secs(3)),
    );
    // Another thread keeps the queue busy the whole time: it is never idle.
    let stop = Arc::new(AtomicBool::new(false));
    let traffic = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                sentry_sdk::capture_message("steady", sentry_sdk::Level::Info);
                std::thread::sleep(Duration::from_millis(2));
            }
        })
    };
    std::thread::sleep(Duration::from_millis(100));
    let start = Instant::now();
    let caught = std::panic::catch_unwind(|| explode(5));
    let took = start.elapsed();
    stop.store(true, Ordering::Relaxed);
    traffic.join().unwrap();
    drop(guard);
    assert!(caught.is_err());
    assert!(
        took < Duration::from_millis(1500),
        "the hook waited {took:?}"
    );
    let panics = receiver
        .events()
        .into_iter()
        .filter(|e| e["exception"]["values"][0]["type"] == "panic")
        .count();
    assert_eq!(panics, 1);
    eprintln!("panic hook returned after {took:?} under steady traffic");
}
