//! The caller's side of an error capture: sample, link to the entered span, snapshot the
//! scopes and queue a deferred build (or, for crash handlers, build and wait right here).

use std::sync::Arc;
use std::time::{Duration, Instant};

use sentry_sdk_transport::{DataCategory, DiscardReason, Outgoing};

use crate::binding::set_last_event_id;
use crate::client::Client;
use crate::payload::{event_envelope, Capture};
use crate::protocol::{Event, EventId};
use crate::stacktrace::RawStack;
use crate::{callback, performance, random, scope};

impl Client {
    /// Captures `capture` on the caller's thread: samples, snapshots the scopes and hands a
    /// deferred build to the transport. Its stack, if any, is resolved on the worker.
    pub(crate) fn capture(self: &Arc<Self>, mut capture: Capture) -> EventId {
        if self.is_closed() {
            return EventId::NIL;
        }
        let event = &capture.event;
        let settings = self.options().settings();
        let rate = match &settings.error_sampler {
            // User code on the caller's thread; no SDK lock is held here.
            Some(sampler) => {
                let sampler = sampler.clone();
                callback::run("error_sampler", || sampler(event)).unwrap_or(0.0)
            }
            None => settings.sample_rate,
        };
        if !random::keep(rate) {
            self.client_reports()
                .record(DiscardReason::SampleRate, DataCategory::Error, 1);
            sentry_sdk_transport::sdk_debug!("event {} sampled out", event.event_id);
            return EventId::NIL;
        }
        let id = event.event_id;
        // After sampling: a sampled-out event does not pay for it.
        attach_trace(&mut capture.event);
        let snapshot = scope::stack::snapshot();
        let size_hint = queued_size(&capture);
        let context = self.build_context().clone();
        self.send(Outgoing::deferred(
            DataCategory::Error,
            size_hint,
            move || event_envelope(&context, capture, &snapshot),
        ));
        set_last_event_id(id);
        id
    }

    /// Captures `event` right now on this thread (symbolication, `before_send` and
    /// serialisation included) and waits up to `shutdown_timeout` for delivery: for crash
    /// handlers, after which the process may end at once.
    ///
    /// The whole call, symbolication included, stays within `shutdown_timeout`: frames not
    /// resolved in time keep their bare address, and the wait for delivery gets what is left.
    /// When the transport knows the server is unreachable it does not wait at all (the event
    /// is queued, and cached first when the offline cache is on).
    pub fn capture_and_wait(self: &Arc<Self>, event: Event, stack: Option<RawStack>) -> EventId {
        let timeout = self.options().settings().shutdown_timeout;
        let start = Instant::now();
        let deadline = start.checked_add(timeout);
        let mut capture = Capture::new(event, stack);
        // Symbolication may take all but a quarter of the time (at most 250 ms kept back):
        // a healthy server takes the envelope in far less, and readable frames are worth most.
        let for_delivery = (timeout / 4).min(Duration::from_millis(250));
        capture.resolve_until = start.checked_add(timeout - for_delivery);
        attach_trace(&mut capture.event);
        // Inside a user callback (a panic in `before_send`, say) capturing would re-enter it.
        if self.is_closed() || callback::is_inside() {
            return EventId::NIL;
        }
        let id = capture.event.event_id;
        let snapshot = scope::stack::snapshot();
        match event_envelope(self.build_context(), capture, &snapshot) {
            Some(envelope) => {
                set_last_event_id(id);
                let left =
                    deadline.map_or(timeout, |d| d.saturating_duration_since(Instant::now()));
                self.send_crash(envelope, left);
                id
            }
            None => EventId::NIL,
        }
    }
}

/// What a queued capture holds in memory, for the queue's byte bound: measured at ~1.1 KiB
/// for a message event with its scope snapshot, plus what the event itself carries (a rough
/// per-entry estimate; the scopes are shared, not copied, and not counted again).
fn queued_size(capture: &Capture) -> usize {
    let e = &capture.event;
    let text = |s: &Option<String>| s.as_ref().map_or(0, String::len);
    let frames: usize = e
        .exception
        .iter()
        .filter_map(|x| x.stacktrace.as_ref())
        .chain(e.threads.iter().filter_map(|t| t.stacktrace.as_ref()))
        .map(|s| s.frames.len() * 200)
        .sum();
    1024 + text(&e.message)
        + e.exception
            .iter()
            .map(|x| 256 + text(&x.value))
            .sum::<usize>()
        + (e.extra.len() + e.tags.len()) * 64
        + e.contexts.len() * 256
        + e.breadcrumbs.len() * 200
        + frames
        + capture.stack.as_ref().map_or(0, |s| s.len() * 8)
        + capture
            .local_values
            .iter()
            .map(|(k, v)| k.len() + v.len())
            .sum::<usize>()
}

/// Links an event to the span entered on this thread, if any (read here, on the caller's
/// thread, because that is where the span is entered).
fn attach_trace(event: &mut Event) {
    if !event.contexts.contains_key("trace") {
        if let Some(trace) = performance::trace_context() {
            event.contexts.insert("trace".into(), trace);
        }
    }
}
