//! Whether the server is known to be unreachable: what `send_crash` asks before it waits.
//!
//! A crash handler waits for its envelope's delivery so that the event leaves a process that
//! may end right after. With a server that refuses connections or never answers, that wait
//! cannot succeed and only holds the panicking thread (a tokio worker, say) for the whole
//! timeout, on every panic. So every POST's ending is noted here:
//! - no HTTP answer (refused, reset, DNS, connect or request timeout): unreachable;
//! - any HTTP answer (2xx, 429, 413, 5xx alike: something is there and speaks HTTP): reachable.
//!
//! The last POST to end decides; a crash whose wait ran out with no answer yet counts as no
//! answer until its request ends. Nothing known yet counts as reachable, so the first crash of
//! a process still waits.

use std::sync::atomic::{AtomicBool, Ordering};

use super::request::Outcome;

/// Shared by the callers (`send_crash` reads it) and the worker (every POST writes it).
#[derive(Debug, Default)]
pub(super) struct Health {
    /// `Relaxed` is enough: the flag publishes no other data, and a stale read only means one
    /// crash waits (bounded by its timeout) or does not, as it would a moment earlier or later.
    unreachable: AtomicBool,
}

impl Health {
    /// Notes how one POST ended.
    pub(super) fn note(&self, outcome: Outcome) {
        let unreachable = outcome == Outcome::NetworkError;
        self.unreachable.store(unreachable, Ordering::Relaxed);
    }

    /// Notes that a crash's delivery got no answer within its whole wait (the request is
    /// still running): unreachable until that request, or another, ends.
    pub(super) fn note_no_answer_yet(&self) {
        self.unreachable.store(true, Ordering::Relaxed);
    }

    /// True if the last POST got no HTTP answer (and none has ended since).
    pub(super) fn is_unreachable(&self) -> bool {
        self.unreachable.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_is_reachable_a_network_error_is_not_and_any_answer_clears_it() {
        let health = Health::default();
        assert!(!health.is_unreachable(), "nothing known yet");
        health.note(Outcome::NetworkError);
        assert!(health.is_unreachable());
        health.note(Outcome::NetworkError);
        assert!(health.is_unreachable());
        for answer in [
            Outcome::Delivered,
            Outcome::RateLimited,
            Outcome::Rejected(413),
            Outcome::Rejected(500),
        ] {
            health.note(Outcome::NetworkError);
            health.note(answer);
            assert!(!health.is_unreachable(), "{answer:?} is an answer");
        }
    }
}
