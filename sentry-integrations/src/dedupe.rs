//! The dedupe integration (opt-in through `ClientOptions::dedupe_window`): a hot loop that fails
//! the same way does not flood the server or the quota.
//!
//! Two errors are the same when their exception chains (types and values) and stack frames
//! (function and line) are equal. Events without exceptions are never merged. With
//! `ClientOptions::dedupe_window(w)`, the first of a repeated error in each window is sent, the
//! rest are dropped and counted, and the next one sent after the window carries the count as
//! `contexts.repeats.count`. Without a window it passes every event on. (The default dedupe,
//! one error value reported twice, is not this integration: see `ClientOptions::dedupe`.)
//!
//! Dropped events are reported as `event_processor` in client reports.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::time::Instant;

use sentry_sdk_core::protocol::Event;
use sentry_sdk_core::{ClientOptions, Integration};
use serde_json::json;

use sentry_sdk_core::__private::Mutex;

/// How many distinct errors the window remembers; beyond this the oldest are forgotten.
const MAX_TRACKED: usize = 1024;

/// Merges repeats of the same error within `dedupe_window`. Added by `init` when a window is
/// set (unless `default_integrations(false)`).
#[derive(Debug, Default)]
pub struct DedupeIntegration {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// fingerprint -> (start of its window, repeats dropped in it)
    windows: HashMap<u64, (Instant, u64)>,
}

impl DedupeIntegration {
    /// The integration.
    pub fn new() -> Self {
        DedupeIntegration::default()
    }
}

impl Integration for DedupeIntegration {
    fn name(&self) -> &'static str {
        "dedupe"
    }

    fn reads_breadcrumbs(&self) -> bool {
        false
    }

    fn reads_contexts(&self) -> bool {
        false
    }

    fn process_event(&self, mut event: Event, options: &ClientOptions) -> Option<Event> {
        let Some(window) = options.settings().dedupe_window else {
            return Some(event);
        };
        let Some(fingerprint) = fingerprint(&event) else {
            return Some(event);
        };
        let mut state = self.state.lock();
        let now = Instant::now();
        match state.windows.get_mut(&fingerprint) {
            Some((start, repeats)) if now.duration_since(*start) < window => {
                *repeats += 1;
                None
            }
            Some((start, repeats)) => {
                if *repeats > 0 {
                    event.contexts.insert(
                        "repeats".into(),
                        json!({ "type": "repeats", "count": *repeats }),
                    );
                }
                *start = now;
                *repeats = 0;
                Some(event)
            }
            None => {
                if state.windows.len() >= MAX_TRACKED {
                    let oldest = state
                        .windows
                        .iter()
                        .min_by_key(|(_, (s, _))| *s)
                        .map(|(k, _)| *k);
                    if let Some(k) = oldest {
                        state.windows.remove(&k);
                    }
                }
                state.windows.insert(fingerprint, (now, 0));
                Some(event)
            }
        }
    }
}

/// A hash of the exception chain and its stack frames; `None` for events without exceptions.
fn fingerprint(event: &Event) -> Option<u64> {
    if event.exception.is_empty() {
        return None;
    }
    let mut h = DefaultHasher::new();
    for e in &event.exception {
        e.ty.hash(&mut h);
        e.value.hash(&mut h);
        for f in e.stacktrace.iter().flat_map(|s| &s.frames) {
            f.function.hash(&mut h);
            f.lineno.hash(&mut h);
        }
    }
    Some(h.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sentry_sdk_core::protocol::Exception;
    use std::time::Duration;

    fn error(value: &str) -> Event {
        Event {
            exception: vec![Exception {
                ty: "E".into(),
                value: Some(value.into()),
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    #[test]
    fn without_a_window_every_event_passes() {
        let d = DedupeIntegration::new();
        let o = ClientOptions::new();
        for _ in 0..3 {
            assert!(d.process_event(error("a"), &o).is_some());
        }
    }

    #[test]
    fn a_window_sends_the_first_and_counts_the_rest_into_the_next() {
        let d = DedupeIntegration::new();
        let o = ClientOptions::new().dedupe_window(Duration::from_millis(50));
        assert!(d.process_event(error("a"), &o).is_some());
        for _ in 0..9 {
            assert!(d.process_event(error("a"), &o).is_none());
        }
        assert!(
            d.process_event(error("b"), &o).is_some(),
            "another error is not held back"
        );
        std::thread::sleep(Duration::from_millis(60));
        let next = d.process_event(error("a"), &o).unwrap();
        assert_eq!(next.contexts["repeats"]["count"], 9);
        assert!(d.process_event(error("a"), &o).is_none());
    }
}
