use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::support::*;
use sentry_sdk::protocol::{Breadcrumb, Level};

#[test]
fn capture_and_breadcrumb_from_inside_before_send_and_before_breadcrumb_do_not_deadlock() {
    let _serial = serial();
    let receiver = Receiver::start();
    let calls = Arc::new(AtomicUsize::new(0));
    let (send_calls, crumb_calls) = (calls.clone(), calls.clone());
    let opts = options(&receiver)
        .before_send(move |event| {
            send_calls.fetch_add(1, Ordering::SeqCst);
            // Both are ignored (we are inside an SDK callback), never a deadlock or a loop.
            sentry_sdk::capture_message("from before_send", Level::Error);
            sentry_sdk::add_breadcrumb(Breadcrumb::default());
            sentry_sdk::configure_scope(|s| s.set_tag("inner", "x"));
            Some(event)
        })
        .before_breadcrumb(move |crumb| {
            crumb_calls.fetch_add(1, Ordering::SeqCst);
            sentry_sdk::capture_message("from before_breadcrumb", Level::Error);
            sentry_sdk::add_breadcrumb(Breadcrumb::default());
            Some(crumb)
        });
    let guard = sentry_sdk::init(opts);
    let id = within(Duration::from_secs(10), || {
        sentry_sdk::add_breadcrumb(Breadcrumb {
            message: Some("outer".into()),
            ..Default::default()
        });
        let id = sentry_sdk::capture_message("outer", Level::Error);
        sentry_sdk::flush(WAIT);
        id
    });
    drop(guard);
    let events = receiver.events();
    assert_eq!(events.len(), 1, "nested captures are ignored: {events:#?}");
    assert_eq!(events[0]["event_id"], id.to_string());
    assert_eq!(
        events[0]["breadcrumbs"]["values"].as_array().unwrap().len(),
        1
    );
    assert_eq!(calls.load(Ordering::SeqCst), 2, "each callback ran once");
}

#[test]
fn a_panicking_before_send_drops_the_event_and_does_not_kill_the_worker() {
    let _serial = serial();
    let receiver = Receiver::start();
    let guard = sentry_sdk::init(options(&receiver).before_send(|event| {
        if event.message.as_deref() == Some("boom") {
            panic!("before_send bug");
        }
        Some(event)
    }));
    sentry_sdk::capture_message("boom", Level::Error);
    sentry_sdk::capture_message("fine", Level::Error);
    assert!(sentry_sdk::flush(WAIT));
    drop(guard);
    let events = receiver.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["logentry"]["formatted"], "fine");
}
