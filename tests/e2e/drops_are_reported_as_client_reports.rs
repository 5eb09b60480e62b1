use serde_json::Value;

use crate::support::*;
use sentry_sdk::protocol::Level;

fn discarded(receiver: &Receiver) -> Vec<Value> {
    receiver
        .requests()
        .iter()
        .flat_map(|r| r.envelope().items().to_vec())
        .filter(|i| i.item_type() == "client_report")
        .flat_map(|i| {
            i.payload_json().unwrap()["discarded_events"]
                .as_array()
                .unwrap()
                .clone()
        })
        .collect()
}

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
    let reports = discarded(&receiver);
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0]["reason"], "before_send");
    assert_eq!(reports[0]["category"], "error");
    assert_eq!(reports[0]["quantity"], 2);
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
    let reports = discarded(&receiver);
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0]["reason"], "sample_rate");
    assert_eq!(reports[0]["quantity"], 3);
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
