//! The HTTP transport: one background thread with a private current-thread tokio runtime and a
//! reqwest client, fed through a bounded queue.
//!
//! # Layout
//! - `worker`: the thread, its runtime, the loop that says what the worker reacts to, and
//!   how a job becomes a delivery task (at most `max_in_flight` at once).
//! - `batch`: where structured logs and trace metrics are batched, a batch per kind (100 per
//!   envelope, or 5 s).
//! - `delivery`: where one envelope is sent, retried with backoff, or given up on.
//! - `cache_drain`: where the offline cache is drained, and how it backs off.
//! - `request`: one POST (gzip, headers, what the response means; at most 4 KiB of its body).
//! - `progress`: the counters `flush` and `close` wait on.
//! - `health`: whether the server is known to be unreachable, so `send_crash` need not wait.
//! - `spotlight`: a copy of every envelope for Spotlight's sidecar (local development).
//!
//! # Invariants
//! - `send` never blocks: `try_send` into a bounded channel, plus a byte budget.
//! - `flush`/`close` wait on a condition variable with a deadline, never on a join or a send.
//! - `send_crash` waits with a deadline too, and not at all while the server is known to be
//!   unreachable.
//! - A response body is never held beyond a few KiB, nor waited for beyond the request timeout.
//! - Every envelope that is not delivered is counted in the client reports with its reason.

mod batch;
mod cache_drain;
mod delivery;
mod health;
mod in_flight;
mod left_behind;
mod options;
mod progress;
mod quiet;
mod request;
mod spotlight;
mod worker;

pub use options::{HttpOptions, Periodic};

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::client_report::DiscardReason;
use crate::sync::Mutex;
use crate::transport::{Outgoing, Transport};
use health::Health;
use progress::Progress;
use worker::Job;

/// Sends envelopes to a Sentry-compatible server from a background thread.
///
/// Cheap to share behind an `Arc`; dropping the last handle closes the queue and lets the worker
/// finish on its own (nothing waits for it).
pub struct HttpTransport {
    sender: Mutex<Option<mpsc::Sender<Job>>>,
    /// Disconnected when the worker thread has ended (`close` waits for it, bounded).
    worker_end: Mutex<Option<progress::CompletionWaiter>>,
    progress: Arc<Progress>,
    /// Written by the worker after every POST; read by `send_crash`.
    health: Arc<Health>,
    options: Arc<HttpOptions>,
}

impl HttpTransport {
    /// Starts the background worker. Never fails: if the thread cannot start, the transport
    /// drops what it is given (counted as `queue_overflow`: there is no queue) and says so on
    /// stderr.
    pub fn new(options: HttpOptions) -> Self {
        let options = Arc::new(options);
        // What a closed transport of this DSN (before a re-`init`) could not send.
        left_behind::take_into(&options.dsn, &options.client_reports);
        let progress = Arc::new(Progress::default());
        let health = Arc::new(Health::default());
        let (tx, rx) = mpsc::channel(options.queue_capacity.max(1));
        let (ended, worker_end) = progress::completion();
        let spawned = worker::spawn(options.clone(), progress.clone(), health.clone(), rx, ended);
        let sender = match spawned {
            Ok(()) => Some(tx),
            Err(err) => {
                crate::debug::always_log(format_args!("transport disabled: {err}"));
                None
            }
        };
        HttpTransport {
            sender: Mutex::new(sender),
            worker_end: Mutex::new(Some(worker_end)),
            progress,
            health,
            options,
        }
    }

    /// Queues `job` without waiting; a transport that is closed (or never started) answers
    /// `Closed`.
    fn try_enqueue(&self, job: Job) -> Result<(), mpsc::error::TrySendError<Job>> {
        let guard = self.sender.lock();
        match guard.as_ref() {
            Some(sender) => sender.try_send(job),
            None => Err(mpsc::error::TrySendError::Closed(job)),
        }
    }
}

impl Transport for HttpTransport {
    fn send(&self, outgoing: Outgoing) {
        let size = outgoing.size_hint();
        let reports = &self.options.client_reports;
        // Reserve bytes first so concurrent senders cannot overshoot the budget together.
        let before = self
            .progress
            .queued_bytes
            .fetch_add(size, Ordering::Relaxed);
        if before + size > self.options.queue_max_bytes {
            self.progress
                .queued_bytes
                .fetch_sub(size, Ordering::Relaxed);
            reports.record_unbuilt(DiscardReason::QueueOverflow, outgoing.category(), size);
            crate::sdk_debug!(
                "queue over its byte bound: dropped one {}",
                outgoing.category()
            );
            return;
        }
        let category = outgoing.category();
        self.progress.begin();
        if let Err(e) = self.try_enqueue(Job::Send(outgoing)) {
            self.progress
                .queued_bytes
                .fetch_sub(size, Ordering::Relaxed);
            self.progress.finish();
            reports.record_unbuilt(DiscardReason::QueueOverflow, category, size);
            crate::sdk_debug!("queue full or closed: dropped one {category}");
            if matches!(e, mpsc::error::TrySendError::Closed(_)) {
                // Closed (a capture that raced `close`): the worker may have left its counts
                // behind already, so this one follows them to the next transport.
                left_behind::leave(&self.options.dsn, reports);
            }
        }
    }

    /// Writes the crash to the offline cache (if on), queues it, and waits at most `timeout`
    /// for its delivery; returns at once, without waiting, if the server was known to be
    /// unreachable when the call began: the last POST to end got no HTTP answer (refused,
    /// reset, timed out) and none has ended since. A server with nothing known yet, or one
    /// that answered, is waited for. True if the crash was delivered (or finally given up on)
    /// before returning.
    fn send_crash(&self, envelope: crate::Envelope, timeout: Duration) -> bool {
        // A server that refuses or never answers will not take this crash within `timeout`:
        // waiting would only hold the panicking thread (a tokio worker, say) for all of it,
        // on every panic. Read before anything of this crash is written or queued, so that its
        // own first attempt (or a cache drain sending its file) cannot decide for it: what
        // was known when the crash came decides.
        let unreachable = self.health.is_unreachable();
        // Written to the cache first: under `panic = "abort"` the process may end before the
        // worker gets to it, and the next start sends it.
        let stored = self.options.cache.as_ref().and_then(|options| {
            let cache = crate::cache::Cache::open(options.clone()).ok()?;
            cache.store(&envelope, &self.options.client_reports).ok()
        });
        let (done, waiter) = progress::completion();
        let job = Job::Crash {
            envelope: Box::new(envelope),
            stored,
            done,
        };
        self.progress.begin();
        if let Err(e) = self.try_enqueue(job) {
            self.progress.finish();
            let closed = matches!(e, mpsc::error::TrySendError::Closed(_));
            if let Job::Crash {
                envelope,
                stored: None,
                ..
            } = e.into_inner()
            {
                // The queue is full (or closed) and there is no cache: the crash is lost, and
                // counted; after `close`, for the next transport to send.
                let reports = &self.options.client_reports;
                reports.record_envelope(DiscardReason::QueueOverflow, &envelope);
                if closed {
                    left_behind::leave(&self.options.dsn, reports);
                }
            }
            return false; // a cached crash stays on disk for the next start
        }
        // Queued (and on disk, with a cache) all the same; only the wait is skipped.
        if unreachable {
            crate::sdk_debug!("server unreachable: crash report queued, not waited for");
            return false;
        }
        // Only this envelope is waited for, not the whole queue: a program that catches
        // panics under load is not held up for the full timeout.
        let ended = waiter.wait(timeout);
        // Only a real wait tells anything: a crash whose build used up its whole timeout
        // waits zero, and that says nothing of the server.
        if !ended && timeout >= Duration::from_millis(50) {
            // No answer within a crash's whole wait: a hung server (whose requests time out
            // only after the request timeout, 30 s by default) counts as unreachable from
            // now on, so that the next panics do not wait too. Its answer, or its timeout,
            // when it comes, decides again.
            self.health.note_no_answer_yet();
        }
        ended
    }

    fn flush(&self, timeout: Duration) -> bool {
        // The marker makes the worker send buffered logs and metrics, then pending client
        // reports once the queue before it is done. If the queue is full, the flush is counted
        // instead and served once the worker has drained the queue (a `Wake` rouses it, should
        // it have drained it meanwhile). The wait covers everything queued either way.
        self.progress.begin();
        match self.try_enqueue(Job::FlushReports) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.progress.flushes_wanted.fetch_add(1, Ordering::SeqCst);
                // If this does not fit either, the queue still holds jobs, after which the
                // worker looks at the count.
                let _ = self.try_enqueue(Job::Wake);
            }
            Err(mpsc::error::TrySendError::Closed(_)) => self.progress.finish(),
        }
        self.progress.wait_idle(timeout)
    }

    fn close(&self, timeout: Duration) -> bool {
        // The last part of the timeout is kept for what closing makes the worker do: spill
        // what is still queued or in flight to the offline cache (so that a hung server loses
        // nothing), or without one, count it as dropped and put client reports it had taken
        // back into the counters, so that what `close` leaves behind is settled.
        let spill = if self.options.cache.is_some() {
            (timeout / 4).min(Duration::from_millis(250))
        } else {
            (timeout / 10).min(Duration::from_millis(50))
        };
        let flushed = self.flush(timeout - spill);
        let spill_until = Instant::now() + spill;
        self.progress.start_closing();
        if !flushed && !spill.is_zero() {
            self.progress.wait_idle(spill / 2);
        }
        // Dropping the sender ends the worker once it has drained the channel. The rest of the
        // spill time goes to its end, when it writes what it still counts as dropped (to the
        // cache, or for the next transport of this DSN): a program that exits right after
        // `close` would otherwise lose those counts with the thread.
        drop(self.sender.lock().take());
        if let Some(worker_end) = self.worker_end.lock().take() {
            worker_end.wait(spill_until.saturating_duration_since(Instant::now()));
        }
        flushed
    }

    fn pending(&self) -> usize {
        self.progress.pending()
    }
}

impl std::fmt::Debug for HttpTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpTransport")
            .field("url", &self.options.dsn.envelope_url())
            .field("pending", &self.progress.pending())
            .finish()
    }
}
