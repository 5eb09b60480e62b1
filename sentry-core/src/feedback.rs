//! The caller's side of a user feedback: stamp it, snapshot the scopes and queue a deferred
//! build (see `payload::feedback` for what is sent).

use std::sync::Arc;
use std::time::SystemTime;

use sentry_sdk_transport::{DataCategory, Outgoing};

use crate::client::Client;
use crate::payload::feedback_envelope;
use crate::protocol::{EventId, Feedback};
use crate::scope;

impl Client {
    /// Queues `feedback` (its message cut to 4096 characters); returns the feedback's own id.
    pub(crate) fn capture_feedback(self: &Arc<Self>, mut feedback: Feedback) -> EventId {
        if self.is_closed() {
            return EventId::NIL;
        }
        feedback.trim_message();
        let id = EventId::random();
        let timestamp = SystemTime::now();
        let snapshot = scope::stack::snapshot();
        let size_hint = feedback.queued_size();
        let context = self.build_context().clone();
        self.send(Outgoing::deferred(
            DataCategory::Feedback,
            size_hint,
            move || feedback_envelope(&context, id, timestamp, feedback, &snapshot),
        ));
        id
    }
}
