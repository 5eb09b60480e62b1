//! One request's session (request mode), shared by the request's isolation scope, the events
//! captured in it, and the SDK's thread that builds them.
//!
//! The request may end before the SDK's thread has built its events (and `before_send` has
//! decided whether they count), so the session is counted exactly once, by whoever comes last:
//! the request's end, or the build of its last pending event. One atomic word holds the
//! outcome bits and the number of events still being built.

use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::SystemTime;

use super::aggregate::minute_of;
use super::{EventKind, Sessions};

const ERRORED: u32 = 1;
const CRASHED: u32 = 2;
const ENDED: u32 = 4;
/// One event being built; the pending count lives above the flag bits.
const PENDING: u32 = 8;

/// One request's session.
pub(crate) struct RequestSession {
    state: AtomicU32,
    /// The minute it started in (what aggregates are keyed by).
    minute: u64,
    sessions: Arc<Sessions>,
}

impl RequestSession {
    /// A request session starting now, counted into `sessions` when it ends.
    pub(crate) fn new(sessions: Arc<Sessions>) -> Arc<RequestSession> {
        Arc::new(RequestSession {
            state: AtomicU32::new(0),
            minute: minute_of(SystemTime::now()),
            sessions,
        })
    }

    /// An event of this request was queued for building; its build must call
    /// [`RequestSession::event_built`].
    pub(crate) fn event_queued(&self) {
        self.state.fetch_add(PENDING, Ordering::AcqRel);
    }

    /// An event of this request was built (or dropped while building) with `kind`.
    pub(crate) fn event_built(&self, kind: Option<EventKind>) {
        let bits = match kind {
            Some(EventKind::Crash) => CRASHED,
            Some(EventKind::Error) => ERRORED,
            None => 0,
        };
        if bits != 0 {
            self.state.fetch_or(bits, Ordering::AcqRel);
        }
        let before = self.state.fetch_sub(PENDING, Ordering::AcqRel);
        if before & ENDED != 0 && before / PENDING == 1 {
            self.count(before - PENDING);
        }
    }

    /// An event that counts was dropped before it was queued (sampled out): it still counts.
    pub(crate) fn event_sampled_out(&self, kind: EventKind) {
        let bits = match kind {
            EventKind::Crash => CRASHED,
            EventKind::Error => ERRORED,
        };
        self.state.fetch_or(bits, Ordering::AcqRel);
    }

    /// The request is over.
    fn end(&self) {
        let before = self.state.fetch_or(ENDED, Ordering::AcqRel);
        if before & ENDED == 0 && before / PENDING == 0 {
            self.count(before | ENDED);
        }
    }

    fn count(&self, state: u32) {
        let status = if state & CRASHED != 0 {
            super::SessionStatus::Crashed
        } else if state & ERRORED != 0 {
            super::SessionStatus::Errored
        } else {
            super::SessionStatus::Exited
        };
        self.sessions.count_request(self.minute, status);
    }
}

impl fmt::Debug for RequestSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestSession")
            .field("state", &self.state.load(Ordering::Relaxed))
            .finish()
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
    use crate::session::SessionStatus;

    fn session(sessions: &Arc<Sessions>) -> RequestSession {
        RequestSession {
            state: AtomicU32::new(0),
            minute: minute_of(SystemTime::now()),
            sessions: sessions.clone(),
        }
    }

    #[test]
    fn counted_once_by_whoever_comes_last() {
        let sessions = Arc::new(Sessions::for_test());
        // Ends with no event pending: counted at the end.
        session(&sessions).end();
        // An event still building when the request ends: counted by the build.
        let s = session(&sessions);
        s.event_queued();
        s.end();
        assert_eq!(sessions.request_counts().exited, 1);
        s.event_built(Some(EventKind::Error));
        // A crash built before the end.
        let c = session(&sessions);
        c.event_queued();
        c.event_built(Some(EventKind::Crash));
        c.end();
        // A dropped event (before_send) does not count; a sampled-out error does.
        let d = session(&sessions);
        d.event_queued();
        d.event_built(None);
        d.end();
        let e = session(&sessions);
        e.event_sampled_out(EventKind::Error);
        e.end();
        e.end();
        let counts = sessions.request_counts();
        assert_eq!(
            (counts.exited, counts.errored, counts.crashed),
            (2, 2, 1),
            "{counts:?}"
        );
        let _ = SessionStatus::Ok;
    }
}
