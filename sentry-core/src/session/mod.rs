//! Release health: where sessions are kept, counted and turned into `session` / `sessions`
//! items (PROTOCOL.md §4).
//!
//! # Two modes
//! - **Application** (default): one session per process run, from `init` to `close`. `ok`
//!   while nothing failed, `errored` after an error-level exception, `crashed` after a panic
//!   (also in a `panic = "abort"` build: the panic hook runs before the abort), `exited` at
//!   `close`. A run that ended without closing is reported `abnormal` by the next start when the
//!   offline cache directory is set (a run marker is kept there).
//! - **Request** (servers, [`SessionMode::Request`]): the tower/axum and actix integrations
//!   open one session per request; finished ones are counted per minute and sent as
//!   aggregates every 60 s and at `flush`/`close`.
//!
//! # Where the work happens
//! The caller pays nothing for the application session: every change to it happens where the
//! event is built (on the SDK's thread, or in the panic hook), after `before_send` and the
//! event processors, so an event they drop does not touch the session (one dropped by
//! sampling or a rate limit does). The update that changes a status rides in the envelope of
//! the event that changed it; other changes wait for the next periodic update or `close`.
//!
//! # Layout
//! - `app`: the application session's state machine (pure; the clock is passed in);
//! - `request`: one request's session, shared by the request and the SDK's thread;
//! - `request_state`: its counting-once state machine (one atomic word, checked with `loom`);
//! - `aggregate`: finished request sessions counted per minute;
//! - `marker`: the run marker in the offline cache directory (abnormal ends);
//! - `tracker`: `Sessions`, one client's sessions, and what the client calls.
//!
//! The items themselves are serialised in `payload/session.rs`.

mod aggregate;
mod app;
mod marker;
mod request;
mod request_state;
mod tracker;

pub(crate) use aggregate::Counts;
pub(crate) use app::{AppSession, EventKind, Update};
pub use request::RequestSessionGuard;
pub(crate) use request::{QueuedEvent, RequestSession};
pub(crate) use tracker::{Pending, Sessions};

/// The status of a release-health session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionStatus {
    /// Running, nothing failed yet.
    Ok,
    /// Ended normally.
    Exited,
    /// Ended by a crash (a panic, or a native crash).
    Crashed,
    /// Ended without closing (the process was killed, or hung).
    Abnormal,
    /// At least one error-level exception was captured.
    Errored,
}

impl SessionStatus {
    /// The name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Ok => "ok",
            SessionStatus::Exited => "exited",
            SessionStatus::Crashed => "crashed",
            SessionStatus::Abnormal => "abnormal",
            SessionStatus::Errored => "errored",
        }
    }

    /// Whether a session with this status has ended for good (it is never updated again).
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            SessionStatus::Exited | SessionStatus::Crashed | SessionStatus::Abnormal
        )
    }

    pub(crate) fn from_wire(s: &str) -> Option<SessionStatus> {
        Some(match s {
            "ok" => SessionStatus::Ok,
            "exited" => SessionStatus::Exited,
            "crashed" => SessionStatus::Crashed,
            "abnormal" => SessionStatus::Abnormal,
            "errored" => SessionStatus::Errored,
            _ => return None,
        })
    }
}

/// How sessions are tracked; see [`ClientOptions::session_mode`](crate::ClientOptions::session_mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SessionMode {
    /// One session per process run (CLIs, desktop programs, workers).
    #[default]
    Application,
    /// One session per request, sent as per-minute aggregates (servers).
    Request,
}
