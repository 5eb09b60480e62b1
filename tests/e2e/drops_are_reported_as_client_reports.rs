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
