//! An event processor sees the scopes' breadcrumbs unless it says it does not read them; the
//! event sent carries them either way.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use sentry_sdk_core::protocol::{Breadcrumb, Event, Level};
use sentry_sdk_core::test::with_captured_events_options;
use sentry_sdk_core::{ClientOptions, Integration};

/// Counts the breadcrumbs it is shown.
struct Seen {
    reads: bool,
    shown: Arc<AtomicUsize>,
}

impl Integration for Seen {
    fn name(&self) -> &'static str {
        "seen"
    }

    fn process_event(&self, event: Event, _: &ClientOptions) -> Option<Event> {
        self.shown.store(event.breadcrumbs.len(), Ordering::Relaxed);
        Some(event)
    }

    fn reads_breadcrumbs(&self) -> bool {
        self.reads
    }
}

fn capture_with(reads: bool) -> (usize, Vec<serde_json::Value>) {
    let shown = Arc::new(AtomicUsize::new(usize::MAX));
    let options = ClientOptions::new().add_integration(Seen {
        reads,
        shown: shown.clone(),
    });
    let events = with_captured_events_options(options, || {
        for n in 0..3 {
            sentry_sdk_core::add_breadcrumb(Breadcrumb {
                message: Some(format!("step {n}")),
                ..Default::default()
            });
        }
        sentry_sdk_core::capture_message("done", Level::Info);
    });
    (shown.load(Ordering::Relaxed), events)
}

#[test]
fn a_processor_that_reads_breadcrumbs_sees_them() {
    let (shown, events) = capture_with(true);
    assert_eq!(shown, 3);
    assert_eq!(
        events[0]["breadcrumbs"]["values"].as_array().map(Vec::len),
        Some(3)
    );
}

#[test]
fn a_processor_that_does_not_is_shown_none_and_the_event_still_carries_them() {
    let (shown, events) = capture_with(false);
    assert_eq!(shown, 0);
    let crumbs = events[0]["breadcrumbs"]["values"]
        .as_array()
        .expect("breadcrumbs");
    let messages: Vec<_> = crumbs.iter().map(|c| c["message"].as_str()).collect();
    assert_eq!(messages, [Some("step 0"), Some("step 1"), Some("step 2")]);
}

/// Gives every event an `os` context.
struct StaticOs(sentry_sdk_core::protocol::Map<serde_json::Value>);

impl Integration for StaticOs {
    fn name(&self) -> &'static str {
        "static-os"
    }

    fn static_contexts(&self) -> Option<&sentry_sdk_core::protocol::Map<serde_json::Value>> {
        Some(&self.0)
    }
}

fn static_os() -> StaticOs {
    let mut contexts = sentry_sdk_core::protocol::Map::new();
    contexts.insert("os".into(), serde_json::json!({"name": "Static"}));
    StaticOs(contexts)
}

#[test]
fn static_contexts_reach_every_event_and_before_send_sees_them_but_an_events_own_win() {
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    let options = ClientOptions::new()
        .add_integration(static_os())
        .before_send(move |event| {
            if event.contexts.get("os").and_then(|os| os["name"].as_str()) == Some("Static") {
                counter.fetch_add(1, Ordering::Relaxed);
            }
            Some(event)
        });
    let events = with_captured_events_options(options, || {
        sentry_sdk_core::capture_message("one", Level::Info);
    });
    assert_eq!(
        seen.load(Ordering::Relaxed),
        1,
        "before_send saw the static context"
    );
    assert_eq!(events[0]["contexts"]["os"]["name"], "Static");

    // Nothing reads the event: written from the serialised form, the event's own one wins.
    let events =
        with_captured_events_options(ClientOptions::new().add_integration(static_os()), || {
            sentry_sdk_core::capture_message("two", Level::Info);
            let mut own = Event::default();
            own.contexts
                .insert("os".into(), serde_json::json!({"name": "Own"}));
            sentry_sdk_core::capture_event(own);
        });
    assert_eq!(events[0]["contexts"]["os"]["name"], "Static");
    assert_eq!(events[1]["contexts"]["os"]["name"], "Own");
}
