use crate::support::*;
use sentry_sdk::protocol::Level;

#[test]
fn before_send_returning_none_drops_and_reports_before_send() {
    let _serial = serial();
    let receiver = Receiver::start();
    let guard = sentry_sdk::init(
        options(&receiver).before_send(|e| (e.message.as_deref() != Some("drop me")).then_some(e)),
    );
    sentry_sdk::capture_message("drop me", Level::Error);
    sentry_sdk::capture_message("drop me", Level::Error);
    assert!(sentry_sdk::flush(WAIT));
    drop(guard);
    assert!(receiver.events().is_empty());
    assert_eq!(
        receiver.client_reports(),
        [("before_send".into(), "error".into(), 2)]
    );
}

#[test]
fn sample_rate_zero_sends_nothing_and_reports_sample_rate() {
    let _serial = serial();
    let receiver = Receiver::start();
    let guard = sentry_sdk::init(options(&receiver).sample_rate(0.0));
    for _ in 0..3 {
        assert!(sentry_sdk::capture_message("sampled", Level::Error).is_nil());
    }
    assert!(sentry_sdk::flush(WAIT));
    drop(guard);
    assert!(receiver.events().is_empty());
    assert_eq!(
        receiver.client_reports(),
        [("sample_rate".into(), "error".into(), 3)]
    );
}

#[test]
fn half_sample_rate_keeps_about_half() {
    let _serial = serial();
    let receiver = Receiver::start();
    let guard = sentry_sdk::init(options(&receiver).sample_rate(0.5));
    let kept = (0..400)
        .filter(|_| !sentry_sdk::capture_message("maybe", Level::Error).is_nil())
        .count();
    drop(guard);
    assert!((140..=260).contains(&kept), "kept {kept} of 400");
}

/// An envelope waiting to retry (after a network error) when a 429 sets a rate limit is
/// dropped for that limit at its retry; `flush` returns only after the report counting it has
/// been delivered (it used to be taken when `flush`'s marker reached the worker, before the
/// retry decided the drop, and was then left in the counters).
#[test]
fn drops_decided_while_flushing_are_reported_before_flush_returns() {
    for closing in [false, true] {
        let reports = report_of_a_drop_decided_during(closing);
        assert_eq!(
            reports,
            [("ratelimit_backoff".into(), "error".into(), 1)],
            "the retried envelope's drop, reported before {} returned",
            if closing { "close" } else { "flush" }
        );
    }
}

/// Two envelopes: the first meets a network error and waits to retry, the second is answered
/// with a 429 limiting errors; then `flush` (or `close`). The reports the receiver had when it
/// returned.
fn report_of_a_drop_decided_during(closing: bool) -> Vec<(String, String, u64)> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let _serial = serial();
    let answered = AtomicUsize::new(0);
    let receiver = Receiver::start_with(move |_| match answered.fetch_add(1, Ordering::SeqCst) {
        0 => Reply::Reset,
        1 => Reply::Status(
            429,
            vec![(
                "X-Sentry-Rate-Limits".into(),
                "60:error:organization".into(),
            )],
        ),
        _ => Reply::Status(200, vec![]),
    });
    let guard = sentry_sdk::init(options(&receiver));
    sentry_sdk::capture_message("first", Level::Error);
    sentry_sdk::capture_message("second", Level::Error);
    if closing {
        assert!(guard.close(WAIT));
        receiver.client_reports()
    } else {
        assert!(sentry_sdk::flush(WAIT));
        // Read as `flush` returned, before `close` could send anything.
        let reports = receiver.client_reports();
        drop(guard);
        reports
    }
}

/// While a flush waits for a delivery that hangs, the worker goes on sending what is queued
/// after it (it used to wait for every request slot inside its loop, so a hung request held
/// up everything behind the flush until the request timed out).
#[test]
fn a_flush_waiting_for_a_hung_delivery_does_not_hold_up_later_events() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let _serial = serial();
    let seen = AtomicUsize::new(0);
    let receiver = Receiver::start_with(move |_| match seen.fetch_add(1, Ordering::SeqCst) {
        0 => Reply::Hang,
        _ => Reply::Status(200, vec![]),
    });
    let guard = sentry_sdk::init(options(&receiver));
    sentry_sdk::capture_message("hangs", Level::Error);
    assert!(
        !sentry_sdk::flush(std::time::Duration::from_millis(300)),
        "the hung delivery is still pending"
    );
    sentry_sdk::capture_message("after the flush 1", Level::Error);
    sentry_sdk::capture_message("after the flush 2", Level::Error);
    // The hung request is recorded too (the receiver reads it, then never answers).
    let arrived = receiver.wait_for(3, std::time::Duration::from_secs(5));
    let later = arrived
        .iter()
        .filter_map(|r| r.event())
        .filter(|e| {
            e["logentry"]["formatted"]
                .as_str()
                .is_some_and(|m| m.starts_with("after the flush"))
        })
        .count();
    assert_eq!(later, 2, "sent while the first delivery still hangs");
    drop(guard);
}
