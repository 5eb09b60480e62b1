//! Counters shared between the callers and the worker: how much is queued and how much is done,
//! so `flush` can wait with a deadline without sending anything to the worker.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Condvar;
use std::time::{Duration, Instant};

use crate::sync::Mutex;

#[derive(Debug, Default)]
pub(super) struct Progress {
    /// Jobs handed to the queue and not yet finished by the worker.
    in_flight: Mutex<usize>,
    idle: Condvar,
    /// Bytes (estimated) held by queued jobs; the byte bound of the queue.
    pub(super) queued_bytes: AtomicUsize,
    /// Set by `close`: the worker stops waiting on the network and spills what it holds into
    /// the offline cache (or counts it as dropped).
    pub(super) closing: AtomicBool,
    /// Woken when `closing` is set, so that tasks waiting for a request slot or a response
    /// give up at once.
    pub(super) closed: tokio::sync::Notify,
    /// Flushes whose marker found the queue full, not yet served, each holding one unit begun
    /// by `flush`: the worker serves them once it has drained the queue, so that such a flush
    /// still sends the buffered logs, metrics and client reports instead of leaving them
    /// behind while it returns.
    pub(super) flushes_wanted: AtomicUsize,
}

impl Progress {
    pub(super) fn begin(&self) {
        *self.in_flight.lock() += 1;
    }

    pub(super) fn finish(&self) {
        let mut n = self.in_flight.lock();
        *n = n.saturating_sub(1);
        if *n == 0 {
            drop(n);
            self.idle.notify_all();
        }
    }

    pub(super) fn pending(&self) -> usize {
        *self.in_flight.lock()
    }

    /// Waits until nothing is in flight or `timeout` passes; true if idle.
    pub(super) fn wait_idle(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut n = self.in_flight.lock();
        while *n > 0 {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            n = Mutex::wait_timeout(&self.idle, n, deadline - now).0;
        }
        true
    }

    /// Sets `closing` and wakes every task waiting on `closed`.
    pub(super) fn start_closing(&self) {
        self.closing.store(true, Ordering::SeqCst);
        self.closed.notify_waiters();
    }

    /// Resolves once `closing` is set (at once if it already is).
    pub(super) async fn wait_closing(&self) {
        let notified = self.closed.notified();
        // Checked after creating the waiter: a `start_closing` in between is not missed.
        if self.is_closing() {
            return;
        }
        notified.await;
    }

    pub(super) fn is_closing(&self) -> bool {
        self.closing.load(Ordering::SeqCst)
    }
}

/// Signals, when dropped, that one envelope's delivery ended (delivered, given up on, or
/// cached): how a crash handler waits for its own envelope and not for the whole queue. The
/// sending half of a channel nothing is ever sent on: dropping it disconnects the waiter.
#[derive(Debug)]
pub(super) struct Completion {
    _disconnects_on_drop: std::sync::mpsc::SyncSender<()>,
}

/// The waiting side of a [`Completion`].
#[derive(Debug)]
pub(super) struct CompletionWaiter(std::sync::mpsc::Receiver<()>);

pub(super) fn completion() -> (Completion, CompletionWaiter) {
    let (tx, rx) = std::sync::mpsc::sync_channel(0);
    let done = Completion {
        _disconnects_on_drop: tx,
    };
    (done, CompletionWaiter(rx))
}

impl CompletionWaiter {
    /// Waits at most `timeout` for the completion; true if it came.
    pub(super) fn wait(&self, timeout: Duration) -> bool {
        matches!(
            self.0.recv_timeout(timeout),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected)
        )
    }
}
