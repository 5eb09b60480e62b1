//! The caller's side of an error capture: sample, link to the entered span, snapshot the
//! scopes and queue a deferred build (or, for crash handlers, build and wait right here).

use std::sync::Arc;
use std::time::{Duration, Instant};

use sentry_sdk_transport::{DataCategory, DiscardReason, Outgoing};

use crate::binding::set_last_event_id;
use crate::client::Client;
use crate::dedupe::{self, Sighting};
use crate::payload::{attachments_dropped_unread, event_envelope, Capture};
use crate::protocol::{Event, EventId};
use crate::session::QueuedEvent;
use crate::stacktrace::RawStack;
use crate::{callback, performance, random, scope};

impl Client {
    /// Captures `capture` on the caller's thread: samples, snapshots the scopes and hands a
    /// deferred build to the transport. Its stack, if any, is resolved on the worker.
    pub(crate) fn capture(self: &Arc<Self>, mut capture: Capture) -> EventId {
        if self.is_closed() {
            return EventId::NIL;
        }
        let settings = self.options().settings();
        let rate = match &settings.error_sampler {
            // User code on the caller's thread; no SDK lock is held here. The event is only
            // built for it when a sampler is set.
            Some(sampler) => {
                let sampler = sampler.clone();
                let event = capture.seed.preview();
                callback::run("error_sampler", || sampler(&event)).unwrap_or(0.0)
            }
            None => settings.sample_rate,
        };
        let id = capture.seed.event_id;
        if !random::keep(rate) {
            self.client_reports()
                .record(DiscardReason::SampleRate, DataCategory::Error, 1);
            self.session_sampled_out(&capture);
            if scope::attachments_used() {
                let snapshot = scope::stack::snapshot();
                let reason = DiscardReason::SampleRate;
                let attachments = scope::attachments(&snapshot);
                attachments_dropped_unread(self.client_reports(), reason, attachments);
            }
            sentry_sdk_transport::sdk_debug!("event {id} sampled out");
            return EventId::NIL;
        }
        // After sampling: a sampled-out event does not pay for it.
        attach_trace(&mut capture);
        let snapshot = scope::stack::snapshot();
        let queued = event_queued(&snapshot);
        // Attachments' bytes count too: they are held until the event is built.
        let size_hint = capture.queued_size()
            + scope::attachments(&snapshot)
                .map(|a| a.queued_size())
                .sum::<usize>();
        let context = self.build_context().clone();
        self.send(Outgoing::deferred(
            DataCategory::Error,
            size_hint,
            move || event_envelope(&context, capture, &snapshot, queued, None),
        ));
        set_last_event_id(id);
        id
    }

    /// Whether an error capture of `sighting` at the site of `stack` is a second report of one
    /// error value (see `ClientOptions::dedupe`): then it is counted as dropped.
    pub(crate) fn is_second_report(
        &self,
        sighting: Option<Sighting>,
        stack: Option<&RawStack>,
    ) -> bool {
        let Some(sighting) = sighting.filter(|_| self.options().settings().dedupe) else {
            return false;
        };
        // Without a stack (the error brought its own) every such capture shares one site.
        let site = stack.map_or(1, |s| dedupe::site_of(s.ips()));
        if !dedupe::is_second_report(sighting, site) {
            return false;
        }
        self.client_reports()
            .record(DiscardReason::EventProcessor, DataCategory::Error, 1);
        sentry_sdk_transport::sdk_debug!(
            "error dropped by dedupe: this error value was reported just before"
        );
        true
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
        let mut capture = Capture::event(event, stack);
        // Symbolication may take all but a quarter of the time (at most 250 ms kept back):
        // a healthy server takes the envelope in far less, and readable frames are worth most.
        let for_delivery = (timeout / 4).min(Duration::from_millis(250));
        let resolve_until = start.checked_add(timeout - for_delivery);
        attach_trace(&mut capture);
        // Inside a user callback (a panic in `before_send`, say) capturing would re-enter it.
        if self.is_closed() || callback::is_inside() {
            return EventId::NIL;
        }
        let id = capture.seed.event_id;
        let snapshot = scope::stack::snapshot();
        let queued = event_queued(&snapshot);
        match event_envelope(
            self.build_context(),
            capture,
            &snapshot,
            queued,
            resolve_until,
        ) {
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

impl Client {
    /// An event dropped by sampling still counts in its session (Sentry's rule: only what
    /// user code drops does not).
    #[cold]
    fn session_sampled_out(&self, capture: &Capture) {
        let sessions = self.build_context().sessions();
        if !sessions.is_on() {
            return;
        }
        let Some(kind) = capture.seed.session_kind() else {
            return;
        };
        let request = scope::stack::request_session();
        match request {
            Some(session) => session.event_sampled_out(kind),
            None => sessions.note_sampled_out(),
        }
    }
}

/// The event about to be built counts in the request session of its isolation scope, if any
/// and still open: that session is not counted before the event's build (or its drop, if it
/// is never built) has said what the event meant.
fn event_queued(snapshot: &scope::Snapshot) -> QueuedEvent {
    QueuedEvent::new(snapshot.isolation.request_session())
}

/// Links a capture to the span entered on this thread, if any (read here, on the caller's
/// thread, because that is where the span is entered; an event's own `trace` context wins).
fn attach_trace(capture: &mut Capture) {
    capture.seed.trace = performance::current_span().and_then(|span| span.trace_info());
}
