//! One request's session (request mode), shared by the request's isolation scope, the events
//! captured in it, and the SDK's thread that builds them.
//!
//! The request may end before the SDK's thread has built its events (and `before_send` has
//! decided whether they count), so the session is counted exactly once, by whoever comes last:
//! the request's end, or the build of its last pending event. One atomic word holds the
//! outcome bits and the number of events still being built.

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use super::aggregate::minute_of;
use super::request_state::RequestState;
use super::{EventKind, SessionStatus, Sessions};

/// One request's session.
pub(crate) struct RequestSession {
    state: RequestState,
    /// The minute it started in (what aggregates are keyed by).
    minute: u64,
    sessions: Arc<Sessions>,
}

impl RequestSession {
    /// A request session starting now, counted into `sessions` when it ends.
    pub(crate) fn new(sessions: Arc<Sessions>) -> Arc<RequestSession> {
        Arc::new(RequestSession {
            state: RequestState::default(),
            minute: minute_of(SystemTime::now()),
            sessions,
        })
    }

    /// An event of this request is being queued for building: true if it counts in the
    /// session (the request has not ended), in which case [`RequestSession::event_built`]
    /// must follow, whatever becomes of the event ([`QueuedEvent`] sees to it).
    pub(crate) fn event_queued(&self) -> bool {
        self.state.event_queued()
    }

    /// An event of this request was built (or dropped while building, or never built) with
    /// `kind`.
    pub(crate) fn event_built(&self, kind: Option<EventKind>) {
        self.count(self.state.event_built(kind));
    }

    /// An event that counts was dropped before it was queued (sampled out): it still counts.
    pub(crate) fn event_sampled_out(&self, kind: EventKind) {
        self.state.event_sampled_out(kind);
    }

    /// The request is over.
    fn end(&self) {
        self.count(self.state.end());
    }

    fn count(&self, status: Option<SessionStatus>) {
        if let Some(status) = status {
            self.sessions.count_request(self.minute, status);
        }
    }
}

impl fmt::Debug for RequestSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestSession")
            .field("state", &self.state.raw())
            .finish()
    }
}

/// An event queued in a request's session: tells the session what the event meant when
/// dropped, however its pipeline ended (built and kept, dropped by a callback, or never built
/// because the queue was full or the client closed), so the session is never left waiting.
#[derive(Debug, Default)]
pub(crate) struct QueuedEvent {
    session: Option<Arc<RequestSession>>,
    /// What the event meant for the session, set once its build knows.
    pub(crate) kind: Option<EventKind>,
}

impl QueuedEvent {
    /// Queues an event in `session`, if any and still open.
    pub(crate) fn new(session: Option<&Arc<RequestSession>>) -> QueuedEvent {
        QueuedEvent {
            session: session.filter(|s| s.event_queued()).cloned(),
            kind: None,
        }
    }

    /// Whether the event counts in a request session.
    pub(crate) fn in_request(&self) -> bool {
        self.session.is_some()
    }
}

impl Drop for QueuedEvent {
    fn drop(&mut self) {
        if let Some(session) = &self.session {
            session.event_built(self.kind);
        }
    }
}

/// A request's session (request mode), open while this guard lives; made by
/// [`start_request_session`](crate::start_request_session), which the server integrations call
/// once per request. Dropping it ends the session; it is counted once the events captured
/// during the request are built.
pub struct RequestSessionGuard {
    session: Arc<RequestSession>,
}

impl RequestSessionGuard {
    /// The guard that ends `session` when dropped.
    pub(crate) fn new(session: Arc<RequestSession>) -> RequestSessionGuard {
        RequestSessionGuard { session }
    }
}

impl Drop for RequestSessionGuard {
    fn drop(&mut self) {
        self.session.end();
    }
}

impl fmt::Debug for RequestSessionGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestSessionGuard")
            .field("session", &self.session)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_request_is_counted_once_into_its_sessions() {
        let sessions = Arc::new(Sessions::for_test());
        // Ends with no event pending: counted at the end.
        RequestSessionGuard::new(RequestSession::new(sessions.clone()));
        // An event still building when the request ends: counted by the build.
        let s = RequestSession::new(sessions.clone());
        let mut queued = QueuedEvent::new(Some(&s));
        drop(RequestSessionGuard::new(s.clone()));
        assert_eq!(sessions.request_counts().exited, 1);
        queued.kind = Some(EventKind::Error);
        drop(queued);
        // An event never built (the queue was full): its session is still counted.
        let n = RequestSession::new(sessions.clone());
        let never_built = QueuedEvent::new(Some(&n));
        drop(RequestSessionGuard::new(n));
        drop(never_built);
        // Captured after the request ended: not part of it.
        let late = RequestSession::new(sessions.clone());
        drop(RequestSessionGuard::new(late.clone()));
        assert!(!QueuedEvent::new(Some(&late)).in_request());
        let counts = sessions.request_counts();
        assert_eq!(
            (counts.exited, counts.errored, counts.crashed),
            (3, 1, 0),
            "{counts:?}"
        );
    }
}
