//! The application session's state machine: one session per process run.
//!
//! Pure: no clock of its own, no I/O. Rules (PROTOCOL.md §4): `init` is true on the first
//! update sent only; `seq` grows with every update; a terminal session (`exited`, `crashed`,
//! `abnormal`) is never updated again; only status, duration and errors change after the first
//! update.

use std::time::{Instant, SystemTime};

use uuid::Uuid;

use super::SessionStatus;
use crate::protocol::{Event, Level};

/// What an event that reached the server (or was dropped by sampling or a rate limit) means
/// for the session it was captured in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EventKind {
    /// An error-level exception: the session is `errored`, its error count grows.
    Error,
    /// An unhandled exception (a panic): the session `crashed`.
    Crash,
}

impl EventKind {
    /// What `event` means for its session: `None` for messages and anything below `error`
    /// (Sentry counts exceptions only, never `capture_message`).
    pub(crate) fn of(event: &Event) -> Option<EventKind> {
        if event.exception.is_empty() {
            return None;
        }
        let unhandled = event.exception.iter().any(|e| {
            e.mechanism
                .as_ref()
                .is_some_and(|m| m.handled == Some(false))
        });
        if unhandled {
            Some(EventKind::Crash)
        } else if event.level >= Level::Error {
            Some(EventKind::Error)
        } else {
            None
        }
    }
}

/// One run's session.
#[derive(Debug, Clone)]
pub(crate) struct AppSession {
    pub(crate) sid: Uuid,
    pub(crate) did: Option<String>,
    pub(crate) started: SystemTime,
    /// For the duration (wall clock may jump).
    pub(crate) started_at: Instant,
    /// The `seq` of the last update made.
    pub(crate) seq: u64,
    pub(crate) errors: u64,
    pub(crate) status: SessionStatus,
    /// Whether an update of this session has been handed to the transport (later ones carry
    /// `init: false`).
    pub(crate) init_sent: bool,
    /// Whether the session changed since its last update.
    pub(crate) dirty: bool,
    /// Set by `end`: no update after the final one.
    pub(crate) ended: bool,
}

/// One update of a session, as sent.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Update {
    pub(crate) sid: Uuid,
    pub(crate) did: Option<String>,
    pub(crate) init: bool,
    pub(crate) started: SystemTime,
    pub(crate) timestamp: SystemTime,
    pub(crate) seq: u64,
    /// Seconds; `None` when not known (an abnormal end found by the next run).
    pub(crate) duration: Option<f64>,
    pub(crate) status: SessionStatus,
    pub(crate) errors: u64,
}

impl AppSession {
    /// A session starting now, for the user `did` (if one is known).
    pub(crate) fn new(did: Option<String>, started: SystemTime, started_at: Instant) -> Self {
        AppSession {
            sid: Uuid::new_v4(),
            did,
            started,
            started_at,
            seq: 0,
            errors: 0,
            status: SessionStatus::Ok,
            init_sent: false,
            dirty: true,
            ended: false,
        }
    }

    /// Whether the session takes no more changes.
    pub(crate) fn is_closed(&self) -> bool {
        self.ended || self.status.is_terminal()
    }

    /// Counts one event of `kind`; true when it changed the status (the update then goes with
    /// the event).
    pub(crate) fn record(&mut self, kind: EventKind) -> bool {
        self.record_errors(kind, 1)
    }

    /// Counts `n` events of `kind` at once (errors dropped by sampling are counted this way).
    pub(crate) fn record_errors(&mut self, kind: EventKind, n: u64) -> bool {
        if self.is_closed() || n == 0 {
            return false;
        }
        self.errors += n;
        self.dirty = true;
        let next = match kind {
            EventKind::Crash => SessionStatus::Crashed,
            EventKind::Error => SessionStatus::Errored,
        };
        let changed = matches!(
            (self.status, next),
            (SessionStatus::Ok, _) | (SessionStatus::Errored, SessionStatus::Crashed)
        );
        if changed {
            self.status = next;
        }
        changed
    }

    /// Ends the session with `status` (`None`: `exited`, or `errored` if errors were counted);
    /// false if it had ended already.
    pub(crate) fn end(&mut self, status: Option<SessionStatus>) -> bool {
        if self.is_closed() {
            return false;
        }
        self.status = match (status, self.status) {
            (Some(status), _) => status,
            (None, SessionStatus::Errored) => SessionStatus::Errored,
            (None, _) => SessionStatus::Exited,
        };
        self.ended = true;
        self.dirty = true;
        true
    }

    /// The update to send now, if the session changed since the last one (`now`: this
    /// update's time).
    pub(crate) fn take_update(&mut self, now: SystemTime, at: Instant) -> Option<Update> {
        if !self.dirty {
            return None;
        }
        self.dirty = false;
        let init = !self.init_sent;
        self.init_sent = true;
        // `init` updates carry seq 0 (Relay forces it); each later one is one more.
        let seq = if init { 0 } else { self.seq + 1 };
        self.seq = seq;
        Some(Update {
            sid: self.sid,
            did: self.did.clone(),
            init,
            started: self.started,
            timestamp: now.max(self.started),
            seq,
            duration: Some(at.saturating_duration_since(self.started_at).as_secs_f64()),
            status: self.status,
            errors: self.errors,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{Exception, Mechanism};

    fn session() -> AppSession {
        AppSession::new(None, SystemTime::now(), Instant::now())
    }

    #[test]
    fn init_only_on_the_first_update_and_seq_grows() {
        let mut s = session();
        let first = s.take_update(SystemTime::now(), Instant::now()).unwrap();
        assert!(first.init);
        assert_eq!(first.seq, 0);
        assert!(s.take_update(SystemTime::now(), Instant::now()).is_none());
        assert!(s.record(EventKind::Error));
        let second = s.take_update(SystemTime::now(), Instant::now()).unwrap();
        assert!(!second.init);
        assert_eq!(second.seq, 1);
        assert_eq!(second.status, SessionStatus::Errored);
        assert!(!s.record(EventKind::Error), "errored stays errored");
        assert_eq!(
            s.take_update(SystemTime::now(), Instant::now())
                .unwrap()
                .errors,
            2
        );
    }

    #[test]
    fn a_crash_is_terminal() {
        let mut s = session();
        assert!(s.record(EventKind::Error));
        assert!(s.record(EventKind::Crash));
        assert_eq!(s.status, SessionStatus::Crashed);
        let update = s.take_update(SystemTime::now(), Instant::now()).unwrap();
        assert_eq!(update.errors, 2);
        assert!(!s.record(EventKind::Error));
        assert!(!s.end(None), "a crashed session is not ended again");
        assert!(s.take_update(SystemTime::now(), Instant::now()).is_none());
    }

    #[test]
    fn end_keeps_errored_and_otherwise_exits() {
        let mut s = session();
        assert!(s.end(None));
        assert_eq!(s.status, SessionStatus::Exited);
        let mut e = session();
        e.record(EventKind::Error);
        assert!(e.end(None));
        assert_eq!(e.status, SessionStatus::Errored);
        assert!(!e.record(EventKind::Error), "no change after the end");
    }

    #[test]
    fn only_exceptions_count() {
        let mut event = Event {
            level: Level::Error,
            message: Some("m".into()),
            ..Default::default()
        };
        assert_eq!(EventKind::of(&event), None);
        event.exception.push(Exception::default());
        assert_eq!(EventKind::of(&event), Some(EventKind::Error));
        event.level = Level::Warning;
        assert_eq!(EventKind::of(&event), None);
        event.exception[0].mechanism = Some(Mechanism {
            handled: Some(false),
            ..Default::default()
        });
        assert_eq!(EventKind::of(&event), Some(EventKind::Crash));
    }
}
