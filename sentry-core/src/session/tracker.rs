//! [`Sessions`]: one client's release-health state (its application session, the counts of
//! finished request sessions, the run marker) and the calls the client makes into it.
//!
//! Locks: both mutexes are taken by the SDK's thread (building events, periodic updates) and,
//! rarely, by callers (a request's end when nothing of it is still being built; the panic
//! hook). Nothing slow happens under them: the marker file is written after the lock is let go.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Instant, SystemTime};

use sentry_sdk_transport::sync::Mutex;

use super::aggregate::{Aggregates, CurrentMinute};
use super::app::Update;
use super::marker::{Marker, Previous};
use super::{AppSession, Counts, EventKind, SessionMode, SessionStatus};

/// Session updates and aggregates to send, with the release and environment they belong to.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    /// Application-session updates, each with its release and environment.
    pub(crate) updates: Vec<(Update, String, String)>,
    /// Finished request sessions per minute (this client's release and environment).
    pub(crate) aggregates: Vec<(SystemTime, Counts)>,
}

impl Pending {
    pub(crate) fn is_empty(&self) -> bool {
        self.updates.is_empty() && self.aggregates.is_empty()
    }
}

/// One client's sessions.
#[derive(Debug)]
pub(crate) struct Sessions {
    /// `None`: no release, so no sessions (Relay drops sessions without one).
    release: Option<String>,
    pub(crate) environment: String,
    auto: bool,
    mode: SessionMode,
    app: Mutex<Option<AppSession>>,
    aggregates: Mutex<Aggregates>,
    /// The minute most request sessions end in, counted without the lock.
    current_minute: CurrentMinute,
    /// Errors dropped by sampling on callers' threads, not yet counted in the app session.
    sampled_out: AtomicU64,
    marker: Option<Marker>,
    /// Whether the previous run's marker was looked at.
    checked_previous: AtomicBool,
}

impl Sessions {
    /// The sessions of a client with these options.
    pub(crate) fn new(
        release: Option<&str>,
        environment: &str,
        auto: bool,
        mode: SessionMode,
        cache_dir: Option<&Path>,
    ) -> Sessions {
        Sessions {
            release: release.map(str::to_owned),
            environment: environment.to_owned(),
            auto,
            mode,
            app: Mutex::new(None),
            aggregates: Mutex::new(Aggregates::default()),
            current_minute: CurrentMinute::default(),
            sampled_out: AtomicU64::new(0),
            marker: cache_dir.map(Marker::in_dir),
            checked_previous: AtomicBool::new(false),
        }
    }

    #[cfg(test)]
    pub(crate) fn for_test() -> Sessions {
        Sessions::new(Some("r@1"), "test", true, SessionMode::Request, None)
    }

    /// The release sessions are sent for; `None` turns sessions off.
    pub(crate) fn release(&self) -> Option<&str> {
        self.release.as_deref()
    }

    /// Whether server integrations open a session per request.
    pub(crate) fn tracks_requests(&self) -> bool {
        self.release.is_some() && self.auto && self.mode == SessionMode::Request
    }

    /// Whether anything here may ever be sent (cheap check for the callers' paths).
    pub(crate) fn is_on(&self) -> bool {
        self.release.is_some()
    }

    fn with_release(&self, update: Update) -> (Update, String, String) {
        let release = self.release.clone().unwrap_or_default();
        (update, release, self.environment.clone())
    }

    /// Starts the application session (ending the one open, if any), for user `did`: on the
    /// caller's thread, so that an event captured right after (a panic just after `init`)
    /// already counts in it. Returns the ended session's final update and the new session's
    /// id, for [`Sessions::after_start`] on the SDK's thread.
    pub(crate) fn begin(
        &self,
        did: Option<String>,
        now: SystemTime,
        at: Instant,
    ) -> Option<(Option<Update>, uuid::Uuid)> {
        self.release.as_ref()?;
        let session = AppSession::new(did, now, at);
        let sid = session.sid;
        let mut app = self.app.lock();
        let ended = app.as_mut().and_then(|old| {
            old.end(None);
            old.take_update(now, at)
        });
        *app = Some(session);
        Some((ended, sid))
    }

    /// The file work of a start, on the SDK's thread: the first start reports a previous run
    /// that ended without closing as `abnormal`; the run marker then describes session `sid`
    /// (if it is still open). Returns what must be sent now; the new session's first update
    /// waits for the next event, the periodic update or the end.
    pub(crate) fn after_start(
        &self,
        ended: Option<Update>,
        sid: uuid::Uuid,
        now: SystemTime,
    ) -> Pending {
        let mut pending = Pending::default();
        if !self.checked_previous.swap(true, Ordering::AcqRel) {
            if let Some(Previous {
                update,
                release,
                environment,
            }) = self.marker.as_ref().and_then(|m| m.take_previous(now))
            {
                pending.updates.push((update, release, environment));
            }
        }
        if let Some(update) = ended {
            self.forget(update.sid);
            pending.updates.push(self.with_release(update));
        }
        let open = {
            let app = self.app.lock();
            app.as_ref()
                .filter(|s| s.sid == sid && !s.is_closed())
                .cloned()
        };
        if let Some(session) = open {
            self.remember(&session);
        }
        pending
    }

    /// Ends the application session with `status` (`None`: `exited`, or `errored` if it
    /// had errors) and takes the aggregates: what `close` sends.
    pub(crate) fn end(
        &self,
        status: Option<SessionStatus>,
        now: SystemTime,
        at: Instant,
    ) -> Pending {
        let mut pending = Pending::default();
        if self.release.is_none() {
            return pending;
        }
        let update = {
            let mut app = self.app.lock();
            app.take().and_then(|mut session| {
                self.fold_sampled_out(&mut session);
                session.end(status);
                session.take_update(now, at)
            })
        };
        if let Some(update) = update {
            self.forget(update.sid);
            pending.updates.push(self.with_release(update));
        }
        pending.aggregates = self.take_aggregates();
        pending
    }

    /// What is due now (the periodic update, `flush`): the application session's update if
    /// it changed, and the aggregates.
    pub(crate) fn take_due(&self, now: SystemTime, at: Instant) -> Pending {
        let mut pending = Pending::default();
        if self.release.is_none() {
            return pending;
        }
        let (update, snapshot) = {
            let mut app = self.app.lock();
            match app.as_mut() {
                Some(session) => {
                    self.fold_sampled_out(session);
                    let first = !session.init_sent;
                    let update = session.take_update(now, at);
                    (update, first.then(|| session.clone()))
                }
                None => (None, None),
            }
        };
        if let Some(session) = snapshot {
            // The marker now says the first update left.
            self.remember(&session);
        }
        if let Some(update) = update {
            pending.updates.push(self.with_release(update));
        }
        pending.aggregates = self.take_aggregates();
        pending
    }

    /// An error event was built and kept (after `before_send`): counts it in the application
    /// session. Returns the update to send with the event when the status changed (or the
    /// session's first update has not left yet).
    pub(crate) fn on_event(&self, kind: EventKind, now: SystemTime, at: Instant) -> Option<Update> {
        self.release.as_ref()?;
        let (update, snapshot) = {
            let mut app = self.app.lock();
            let session = app.as_mut()?;
            self.fold_sampled_out(session);
            let changed = session.record(kind);
            if !changed && session.init_sent {
                return None;
            }
            (session.take_update(now, at), session.clone())
        };
        if snapshot.status.is_terminal() {
            // A crash's update leaves in the crash envelope (cached first when the cache is on).
            self.forget(snapshot.sid);
        } else {
            self.remember(&snapshot);
        }
        update
    }

    /// The open application session as the run marker records it (`marker::state`).
    pub(crate) fn state(&self) -> Option<serde_json::Value> {
        let release = self.release.as_deref()?;
        let session = self
            .app
            .lock()
            .as_ref()
            .filter(|s| !s.is_closed())
            .cloned()?;
        Some(super::marker::state(&session, release, &self.environment))
    }

    /// Makes the session `state` describes (another process's, of this release) the
    /// application session; false if `state` is unreadable, ended or of another release, or
    /// a session of this client's own is open (it is never dropped unended).
    pub(crate) fn resume(&self, state: &serde_json::Value) -> bool {
        let Some(release) = self.release.as_deref() else {
            return false;
        };
        match super::marker::from_state(state) {
            Some((session, of)) if of == release => {
                let mut app = self.app.lock();
                if app.as_ref().is_some_and(|open| !open.is_closed()) {
                    return false;
                }
                *app = Some(session);
                true
            }
            _ => false,
        }
    }

    /// An error that counts was dropped by sampling on the caller's thread (application mode;
    /// a request's session is told directly).
    pub(crate) fn note_sampled_out(&self) {
        if self.release.is_some() {
            self.sampled_out.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn fold_sampled_out(&self, session: &mut AppSession) {
        let n = self.sampled_out.swap(0, Ordering::Relaxed);
        session.record_errors(EventKind::Error, n);
    }

    /// Counts one finished request session that started in `minute` (see `aggregate`).
    pub(crate) fn count_request(&self, minute: u64, status: SessionStatus) {
        if !self.current_minute.try_count(minute, status) {
            let mut store = self.aggregates.lock();
            self.current_minute.count_other(&mut store, minute, status);
        }
    }

    fn take_aggregates(&self) -> Vec<(SystemTime, Counts)> {
        let mut store = self.aggregates.lock();
        self.current_minute.drain_into(&mut store);
        store.take()
    }

    #[cfg(test)]
    pub(crate) fn request_counts(&self) -> Counts {
        let mut store = self.aggregates.lock();
        self.current_minute.drain_into(&mut store);
        store.total()
    }

    /// Updates the run marker for `session` (outside the lock).
    fn remember(&self, session: &AppSession) {
        if let (Some(marker), Some(release)) = (&self.marker, &self.release) {
            marker.write(session, release, &self.environment);
        }
    }

    fn forget(&self, sid: uuid::Uuid) {
        if let Some(marker) = &self.marker {
            marker.remove(sid);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app() -> Sessions {
        Sessions::new(Some("r@1"), "test", true, SessionMode::Application, None)
    }

    #[test]
    fn an_errored_run_sends_its_status_change_with_the_event_and_ends_errored() {
        let s = app();
        let (now, at) = (SystemTime::now(), Instant::now());
        let (ended, sid) = s.begin(None, now, at).unwrap();
        assert!(s.after_start(ended, sid, now).is_empty());
        let first = s.on_event(EventKind::Error, now, at).unwrap();
        assert!(first.init);
        assert_eq!(first.status, SessionStatus::Errored);
        assert!(s.on_event(EventKind::Error, now, at).is_none());
        s.note_sampled_out();
        let end = s.end(None, now, at);
        assert_eq!(end.updates.len(), 1);
        let last = &end.updates[0].0;
        assert_eq!(
            (last.status, last.errors, last.init, last.seq),
            (SessionStatus::Errored, 3, false, 1)
        );
        assert!(s.end(None, now, at).is_empty(), "ended once");
    }

    #[test]
    fn a_session_resumed_elsewhere_is_ended_crashed_by_the_crash() {
        let program = app();
        let (now, at) = (SystemTime::now(), Instant::now());
        let (ended, sid) = program.begin(Some("u1".into()), now, at).unwrap();
        program.after_start(ended, sid, now);
        program.on_event(EventKind::Error, now, at).unwrap();
        let state = program.state().expect("an open session");

        assert!(
            !program.resume(&state),
            "its own open session is never replaced"
        );
        let monitor = app();
        let other = Sessions::new(Some("r@2"), "test", true, SessionMode::Application, None);
        assert!(
            !other.resume(&state),
            "another release's session is refused"
        );
        assert!(!monitor.resume(&serde_json::json!({ "sid": "x" })));
        assert!(monitor.resume(&state));
        let update = monitor.on_event(EventKind::Crash, now, at).unwrap();
        assert_eq!(
            (
                update.sid,
                update.did.as_deref(),
                update.status,
                update.errors
            ),
            (sid, Some("u1"), SessionStatus::Crashed, 2)
        );
        assert!(!update.init, "its first update had left");
        assert_eq!(update.seq, 1);
        assert!(monitor.state().is_none(), "ended");
        assert!(
            monitor.end(None, now, at).is_empty(),
            "and never updated again"
        );
    }

    #[test]
    fn no_release_no_sessions() {
        let s = Sessions::new(None, "test", true, SessionMode::Application, None);
        let (now, at) = (SystemTime::now(), Instant::now());
        assert!(s.begin(None, now, at).is_none());
        assert!(s.on_event(EventKind::Crash, now, at).is_none());
        assert!(s.end(None, now, at).is_empty());
        assert!(!s.tracks_requests() && !s.is_on());
    }
}
