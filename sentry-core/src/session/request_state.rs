//! The counting-once state machine of a request's session, alone, so that a model checker can
//! run it: one atomic word holds the outcome bits, the "request ended" bit and the number of
//! events still being built. Each transition says whether its caller must count the session
//! now (and with which status); over any interleaving exactly one does, once the request has
//! ended and its last queued event is built. The `loom` model in this module's tests checks
//! that over every interleaving of an end, two events and a sampled-out error.

use std::sync::atomic::{AtomicU32, Ordering};

use super::{EventKind, SessionStatus};

const ERRORED: u32 = 1;
const CRASHED: u32 = 2;
const ENDED: u32 = 4;
/// One event being built; the pending count lives above the flag bits.
const PENDING: u32 = 8;

/// The atomic operations the state machine needs: `std`'s `AtomicU32` in the SDK, `loom`'s in
/// the model.
pub(crate) trait Word {
    fn load(&self, order: Ordering) -> u32;
    fn fetch_or(&self, bits: u32, order: Ordering) -> u32;
    fn fetch_sub(&self, n: u32, order: Ordering) -> u32;
    fn compare_exchange_weak(&self, current: u32, new: u32) -> Result<u32, u32>;
}

/// Implements [`Word`] for an atomic type with one body: `std`'s here, `loom`'s in the
/// model, which so runs exactly the SDK's operations and orderings.
macro_rules! word_atomic {
    ($t:ty) => {
        impl Word for $t {
            fn load(&self, order: Ordering) -> u32 {
                <$t>::load(self, order)
            }
            fn fetch_or(&self, bits: u32, order: Ordering) -> u32 {
                <$t>::fetch_or(self, bits, order)
            }
            fn fetch_sub(&self, n: u32, order: Ordering) -> u32 {
                <$t>::fetch_sub(self, n, order)
            }
            fn compare_exchange_weak(&self, current: u32, new: u32) -> Result<u32, u32> {
                <$t>::compare_exchange_weak(self, current, new, Ordering::AcqRel, Ordering::Acquire)
            }
        }
    };
}

word_atomic!(AtomicU32);

/// The state of one request's session.
#[derive(Debug, Default)]
pub(crate) struct RequestState<W: Word = AtomicU32> {
    word: W,
}

fn bits_of(kind: EventKind) -> u32 {
    match kind {
        EventKind::Crash => CRASHED,
        EventKind::Error => ERRORED,
    }
}

fn status_of(word: u32) -> SessionStatus {
    if word & CRASHED != 0 {
        SessionStatus::Crashed
    } else if word & ERRORED != 0 {
        SessionStatus::Errored
    } else {
        SessionStatus::Exited
    }
}

impl<W: Word> RequestState<W> {
    /// A request that has just started, its state in `word` (0; the model's own atomic).
    #[cfg(test)]
    pub(crate) fn with(word: W) -> Self {
        RequestState { word }
    }

    /// An event of this request is queued for building: true if it counts in the session, in
    /// which case its build must call [`RequestState::event_built`]. False once the request
    /// has ended: an event captured after it (a task outliving its request) is not part of it,
    /// so it can never make the session count twice.
    pub(crate) fn event_queued(&self) -> bool {
        let mut current = self.word.load(Ordering::Acquire);
        loop {
            if current & ENDED != 0 {
                return false;
            }
            match self.word.compare_exchange_weak(current, current + PENDING) {
                Ok(_) => return true,
                Err(now) => current = now,
            }
        }
    }

    /// A queued event was built (or dropped, `None`): returns the status to count the session
    /// with if this call must count it (the request had ended and this was the last build).
    pub(crate) fn event_built(&self, kind: Option<EventKind>) -> Option<SessionStatus> {
        if let Some(kind) = kind {
            self.word.fetch_or(bits_of(kind), Ordering::AcqRel);
        }
        let before = self.word.fetch_sub(PENDING, Ordering::AcqRel);
        (before & ENDED != 0 && before / PENDING == 1).then(|| status_of(before))
    }

    /// An event that counts was dropped before it was queued (sampled out): it still counts.
    pub(crate) fn event_sampled_out(&self, kind: EventKind) {
        self.word.fetch_or(bits_of(kind), Ordering::AcqRel);
    }

    /// The request is over: returns the status to count the session with if this call must
    /// count it (no event was still being built); a second end counts nothing.
    pub(crate) fn end(&self) -> Option<SessionStatus> {
        let before = self.word.fetch_or(ENDED, Ordering::AcqRel);
        (before & ENDED == 0 && before / PENDING == 0).then(|| status_of(before))
    }

    /// The raw word (debug output).
    pub(crate) fn raw(&self) -> u32 {
        self.word.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> RequestState {
        RequestState::with(AtomicU32::new(0))
    }

    #[test]
    fn counted_once_by_whoever_comes_last() {
        // Ends with no event pending: counted at the end.
        assert_eq!(state().end(), Some(SessionStatus::Exited));
        // An event still building when the request ends: counted by the build.
        let s = state();
        assert!(s.event_queued());
        assert_eq!(s.end(), None);
        assert_eq!(
            s.event_built(Some(EventKind::Error)),
            Some(SessionStatus::Errored)
        );
        // A crash built before the end.
        let c = state();
        assert!(c.event_queued());
        assert_eq!(c.event_built(Some(EventKind::Crash)), None);
        assert_eq!(c.end(), Some(SessionStatus::Crashed));
        // A dropped event (before_send) does not count; a sampled-out error does.
        let d = state();
        assert!(d.event_queued());
        assert_eq!(d.event_built(None), None);
        assert_eq!(d.end(), Some(SessionStatus::Exited));
        let e = state();
        e.event_sampled_out(EventKind::Error);
        assert_eq!(e.end(), Some(SessionStatus::Errored));
        assert_eq!(e.end(), None, "a second end counts nothing");
        // An event captured after the end is not part of the request.
        assert!(!e.event_queued());
    }

    mod loom_model {
        use super::super::*;
        use loom::sync::atomic::{AtomicU32 as LoomU32, AtomicUsize};
        use loom::sync::Arc;
        use loom::thread;

        word_atomic!(LoomU32);

        /// What the counting calls returned: how many counted, and the status of the last.
        #[derive(Default)]
        struct Counted {
            times: AtomicUsize,
            crashed: AtomicUsize,
        }

        impl Counted {
            fn note(&self, status: Option<SessionStatus>) {
                if let Some(status) = status {
                    self.times.fetch_add(1, Ordering::SeqCst);
                    if status == SessionStatus::Crashed {
                        self.crashed.fetch_add(1, Ordering::SeqCst);
                    }
                }
            }
        }

        /// The request ends on one thread while a crash event is queued and built on another
        /// and an error is queued (maybe after the end) and built, or sampled out, on a third:
        /// over every interleaving the session is counted exactly once, and `crashed` whenever
        /// the crash's build came before the count could be made.
        #[test]
        fn the_session_is_counted_exactly_once_in_every_interleaving() {
            loom::model(|| {
                let state = Arc::new(RequestState::with(LoomU32::new(0)));
                let counted = Arc::new(Counted::default());
                // The crash is queued while the request runs (as a capture inside it is).
                assert!(state.event_queued());
                let builder = {
                    let (state, counted) = (state.clone(), counted.clone());
                    thread::spawn(move || {
                        counted.note(state.event_built(Some(EventKind::Crash)));
                    })
                };
                let late = {
                    let (state, counted) = (state.clone(), counted.clone());
                    thread::spawn(move || {
                        if state.event_queued() {
                            counted.note(state.event_built(Some(EventKind::Error)));
                        } else {
                            state.event_sampled_out(EventKind::Error);
                        }
                    })
                };
                counted.note(state.end());
                builder.join().unwrap();
                late.join().unwrap();
                assert_eq!(counted.times.load(Ordering::SeqCst), 1, "counted once");
                // The crash was queued before the end: the count waited for its build.
                assert_eq!(counted.crashed.load(Ordering::SeqCst), 1, "as crashed");
            });
        }
    }
}
