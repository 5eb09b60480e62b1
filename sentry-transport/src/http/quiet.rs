//! Keeps the HTTP stack's own `tracing` output (and `log` records bridged into `tracing`) out
//! of the program's subscriber.
//!
//! reqwest, hyper, hyper-util, h2 and rustls trace every connection, pool checkout and TLS
//! record. On the SDK's threads that is the SDK's noise, not the program's: a program with a
//! `fmt` subscriber at `TRACE` got about a hundred such lines a second from a busy SDK. So
//! every thread the transport owns (the worker, and the runtime's blocking threads, where
//! reqwest resolves names) runs with a no-op dispatcher as its default for its whole life,
//! unless the client's `debug` option asks to see it. A `log` logger that is not bridged into
//! `tracing` still gets reqwest's `log` records: `log` has one global logger, with no
//! per-thread override.

use std::cell::RefCell;

use tracing_core::dispatcher::{self, DefaultGuard, Dispatch};

thread_local! {
    /// Held for the thread's life: dropping it would restore the global dispatcher.
    static QUIET: RefCell<Option<DefaultGuard>> = const { RefCell::new(None) };
}

/// Makes a no-op dispatcher the calling thread's default until the thread ends. Called first
/// thing on each SDK thread, before anything there can emit.
pub(super) fn silence_this_thread() {
    // Set once: a second guard stored over the first would drop the first, which restores
    // the dispatcher from before it (the program's) on this thread. If the thread-local is
    // already gone (thread teardown), nothing is set and nothing is left half-done.
    let _ = QUIET.try_with(|q| {
        if let Ok(mut q) = q.try_borrow_mut() {
            if q.is_none() {
                *q = Some(dispatcher::set_default(&Dispatch::none()));
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_silenced_thread_has_no_subscriber_for_its_whole_life() {
        let seen = std::thread::spawn(|| {
            silence_this_thread();
            silence_this_thread(); // twice is harmless
            dispatcher::get_default(|d| d.is::<tracing_core::subscriber::NoSubscriber>())
        })
        .join()
        .unwrap();
        assert!(seen);
    }
}
