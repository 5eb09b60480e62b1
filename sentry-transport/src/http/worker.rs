//! The background thread: receives jobs, builds envelopes, drops what is rate limited, POSTs
//! with bounded concurrency, retries network errors, and keeps what it could not deliver in
//! the offline cache.
//!
//! Everything runs on one thread: a current-thread tokio runtime whose tasks are the requests
//! in flight (at most `max_in_flight`), the cache drain and two timers (standalone client
//! reports, cache retries).

use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, Notify, Semaphore};

use super::options::HttpOptions;
use super::progress::{Completion, Progress};
use super::request::{Outcome, Poster};
use crate::cache::{Cache, Claimed};
use crate::client_report::DiscardReason;
use crate::envelope::Envelope;
use crate::error::{Error, ErrorKind};
use crate::rate_limit::RateLimits;
use crate::sync::Mutex;
use crate::transport::Outgoing;

/// Pause between two envelopes sent from the cache, so a backlog does not hammer a server
/// that just came back.
const CACHE_PACING: Duration = Duration::from_millis(100);
/// How often the cache is retried while it holds envelopes.
const CACHE_RETRY: Duration = Duration::from_secs(30);
/// The longest the cache waits between two attempts while the server stays away.
const MAX_CACHE_BACKOFF: Duration = Duration::from_secs(30 * 60);
/// Structured logs per envelope, at most (PROTOCOL.md §6).
const MAX_LOGS_PER_ENVELOPE: usize = 100;
/// How long a structured log may wait for others before its batch is sent.
const LOG_BATCH_WAIT: Duration = Duration::from_secs(5);

/// What callers put in the queue.
pub(super) enum Job {
    /// An envelope (or its builder) to send.
    Send(Outgoing),
    /// A crash report to send now, with its path if it was written to the cache first; `done`
    /// is dropped when its delivery ends.
    Crash {
        envelope: Box<Envelope>,
        stored: Option<PathBuf>,
        done: Completion,
    },
    /// Send pending client reports now (queued by `flush`).
    FlushReports,
}

pub(super) fn spawn(
    options: Arc<HttpOptions>,
    progress: Arc<Progress>,
    rx: mpsc::Receiver<Job>,
) -> Result<(), Error> {
    std::thread::Builder::new()
        .name("sentry-transport".into())
        .spawn(move || run(options, progress, rx))
        .map(|_| ())
        .map_err(|e| Error::with_source(ErrorKind::WorkerStart, e))
}

/// The state the worker's tasks share.
struct Worker {
    options: Arc<HttpOptions>,
    progress: Arc<Progress>,
    poster: Poster,
    limits: Mutex<RateLimits>,
    cache: Option<Cache>,
    permits: Arc<Semaphore>,
    draining: AtomicBool,
    /// Asks the main loop to start a cache drain (tasks cannot spawn one of their own: the
    /// drain's future would contain itself).
    drain_wanted: Notify,
    /// Structured logs waiting to be sent together (at most `MAX_LOGS_PER_ENVELOPE`).
    logs: Mutex<Vec<Vec<u8>>>,
    logs_deadline: Mutex<Option<tokio::time::Instant>>,
    /// Consecutive failed cache drains, and when the timer may try again (exponential
    /// backoff with jitter from `CACHE_RETRY` up to `MAX_CACHE_BACKOFF`). A delivery of a
    /// live envelope drains at once whatever the backoff says: the server is back.
    cache_failures: std::sync::atomic::AtomicU32,
    cache_backoff: Mutex<Option<Instant>>,
}

fn run(options: Arc<HttpOptions>, progress: Arc<Progress>, mut rx: mpsc::Receiver<Job>) {
    crate::debug::mark_sdk_thread();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            crate::debug::always_log(format_args!("transport disabled: no runtime: {e}"));
            return drain_dropping(&options, &progress, &mut rx);
        }
    };
    let poster = match Poster::new(&options) {
        Ok(p) => p,
        Err(e) => {
            crate::debug::always_log(format_args!("transport disabled: no HTTP client: {e}"));
            return drain_dropping(&options, &progress, &mut rx);
        }
    };
    let cache = options.cache.clone().and_then(|c| match Cache::open(c) {
        Ok(cache) => Some(cache),
        Err(e) => {
            crate::debug::always_log(format_args!("offline cache disabled: {e}"));
            None
        }
    });
    let worker = Arc::new(Worker {
        permits: Arc::new(Semaphore::new(options.max_in_flight.max(1))),
        options,
        progress,
        poster,
        limits: Mutex::new(RateLimits::new()),
        cache,
        draining: AtomicBool::new(false),
        drain_wanted: Notify::new(),
        logs: Mutex::new(Vec::new()),
        logs_deadline: Mutex::new(None),
        cache_failures: Default::default(),
        cache_backoff: Mutex::new(None),
    });

    runtime.block_on(async move {
        if let Some(cache) = &worker.cache {
            cache.sweep(&worker.options.client_reports);
            if !cache.is_empty() {
                tokio::spawn(worker.clone().drain());
            }
        }
        let start = tokio::time::Instant::now();
        let every = worker.options.client_report_interval;
        let mut report_timer = tokio::time::interval_at(start + every, every);
        let mut cache_timer = tokio::time::interval_at(start + CACHE_RETRY, CACHE_RETRY);
        loop {
            let logs_due = worker.logs_deadline();
            tokio::select! {
                _ = tokio::time::sleep_until(logs_due.unwrap_or_else(tokio::time::Instant::now)), if logs_due.is_some() => {
                    worker.clone().flush_logs().await;
                }
                job = rx.recv() => match job {
                    Some(job) => worker.clone().handle(job).await,
                    None => {
                        // Closed: logs still buffered go out (or to the cache) like the rest.
                        worker.clone().flush_logs().await;
                        break;
                    }
                },
                _ = report_timer.tick() => {
                    if worker.options.client_reports.has_pending() {
                        worker.progress.begin();
                        worker.clone().send_reports().await;
                    }
                }
                _ = cache_timer.tick() => {
                    if let Some(cache) = &worker.cache {
                        // Claims left by processes that died since start-up go back too.
                        cache.sweep(&worker.options.client_reports);
                    }
                    let due = worker.cache_backoff.lock().map_or(true, |at| Instant::now() >= at);
                    if due && worker.cache.as_ref().is_some_and(|c| !c.is_empty()) {
                        tokio::spawn(worker.clone().drain());
                    }
                }
                _ = worker.drain_wanted.notified() => {
                    tokio::spawn(worker.clone().drain());
                }
            }
        }
    });
}

impl Worker {
    async fn handle(self: Arc<Self>, job: Job) {
        match job {
            Job::FlushReports => {
                // Buffered logs go first, so that `flush` covers them too.
                self.clone().flush_logs().await;
                self.send_reports().await
            }
            Job::Send(outgoing) => {
                self.progress
                    .queued_bytes
                    .fetch_sub(outgoing.size_hint(), Ordering::Relaxed);
                if outgoing.is_log() {
                    self.add_log(outgoing).await;
                    self.progress.finish();
                    return;
                }
                match self.build(outgoing) {
                    Some(envelope) => self.dispatch(envelope, None, None).await,
                    None => self.progress.finish(),
                }
            }
            Job::Crash {
                envelope,
                stored,
                done,
            } => {
                // If the drain (or another process) holds the cached file, this copy is sent
                // all the same, so the crash leaves before this process may end. The server
                // keeps one of two envelopes with the same event id.
                let claimed = stored.and_then(|path| self.cache.as_ref()?.claim(&path));
                self.dispatch(*envelope, claimed, Some(done)).await
            }
        }
    }

    /// Builds one structured log (user callbacks run here) and adds it to the batch, which
    /// goes out at `MAX_LOGS_PER_ENVELOPE`.
    async fn add_log(self: &Arc<Self>, outgoing: Outgoing) {
        let size = outgoing.size_hint();
        let item = match std::panic::catch_unwind(AssertUnwindSafe(|| outgoing.into_log_item())) {
            Ok(Some(item)) => item,
            Ok(None) => return,
            Err(_) => {
                self.options.client_reports.record_unbuilt(
                    DiscardReason::InternalSdkError,
                    crate::DataCategory::LogItem,
                    size,
                );
                return;
            }
        };
        let full = {
            let mut logs = self.logs.lock();
            if logs.is_empty() {
                *self.logs_deadline.lock() = Some(tokio::time::Instant::now() + LOG_BATCH_WAIT);
            }
            logs.push(item);
            logs.len() >= MAX_LOGS_PER_ENVELOPE
        };
        if full {
            self.clone().flush_logs().await;
        }
    }

    /// Sends the buffered logs, if any, in one `log` envelope.
    async fn flush_logs(self: Arc<Self>) {
        let items = std::mem::take(&mut *self.logs.lock());
        *self.logs_deadline.lock() = None;
        if items.is_empty() {
            return;
        }
        self.progress.begin();
        self.dispatch(crate::envelope::log_envelope(&items), None, None)
            .await;
    }

    /// When the oldest buffered log must go out, if any are buffered.
    fn logs_deadline(&self) -> Option<tokio::time::Instant> {
        *self.logs_deadline.lock()
    }

    /// Sends pending client reports in an envelope of their own.
    async fn send_reports(self: Arc<Self>) {
        match self.options.client_reports.take_item() {
            Some(item) => {
                let mut envelope = Envelope::new();
                envelope.add_item(item);
                self.dispatch(envelope, None, None).await;
            }
            None => self.progress.finish(),
        }
    }

    /// Waits for a free request slot, then delivers in a task of its own. Finishes one unit of
    /// `progress` when done, and drops `done` (signalling whoever waits for this envelope).
    async fn dispatch(
        self: Arc<Self>,
        envelope: Envelope,
        stored: Option<Claimed>,
        done: Option<Completion>,
    ) {
        if self.progress.is_closing() {
            self.give_up(envelope, stored);
            self.progress.finish();
            return;
        }
        let permit = tokio::select! {
            permit = self.permits.clone().acquire_owned() => permit.ok(),
            _ = self.progress.wait_closing() => None,
        };
        let Some(permit) = permit else {
            self.give_up(envelope, stored);
            self.progress.finish();
            return;
        };
        tokio::spawn(async move {
            self.deliver(envelope, stored).await;
            drop(permit);
            self.progress.finish();
            drop(done);
        });
    }

    /// Builds a deferred envelope; a panic inside (user callbacks run here) drops it and is
    /// counted.
    fn build(&self, outgoing: Outgoing) -> Option<Envelope> {
        let category = outgoing.category();
        match std::panic::catch_unwind(AssertUnwindSafe(|| outgoing.into_envelope())) {
            Ok(envelope) => envelope.filter(|e| !e.is_empty()),
            Err(_) => {
                crate::sdk_debug!("building an envelope panicked; dropped");
                self.options
                    .client_reports
                    .record(DiscardReason::InternalSdkError, category, 1);
                None
            }
        }
    }

    /// One envelope through the response matrix, retrying network errors with backoff.
    async fn deliver(&self, mut envelope: Envelope, stored: Option<Claimed>) {
        let reports = &self.options.client_reports;
        let mut attempt = 0;
        loop {
            if attempt > 0 {
                // A retry is filtered again (limits may have changed since): keep its reports.
                restore_reports(&envelope, reports);
                envelope.retain_items(|i| i.item_type() != "client_report", |_| {});
            }
            let filtered = self.limits.lock().filter(envelope, reports, Instant::now());
            let Some(mut sendable) = filtered else {
                remove_stored(stored);
                return;
            };
            // Client reports ride along with whatever goes out next (after the filter, so
            // that they are never removed with the limited items).
            if let Some(report) = reports.take_item() {
                sendable.add_item(report);
            }
            let outcome = tokio::select! {
                outcome = self.poster.post(&mut sendable, &self.limits) => outcome,
                // Closing: stop waiting for this server and keep the envelope if we can.
                _ = self.progress.wait_closing() => Outcome::NetworkError,
            };
            crate::sdk_debug!("envelope {:?}: {outcome:?}", sendable.event_id());
            match outcome {
                Outcome::Delivered => {
                    remove_stored(stored);
                    self.after_delivery();
                    return;
                }
                Outcome::RateLimited => {
                    // The server counted it already: no client report. Reports riding along
                    // were not accepted either: back to the counters for the next envelope.
                    restore_reports(&sendable, reports);
                    remove_stored(stored);
                    return;
                }
                Outcome::Rejected(_) => {
                    reports.record_envelope(DiscardReason::SendError, &sendable);
                    remove_stored(stored);
                    return;
                }
                Outcome::NetworkError => {
                    // Retried with backoff; then cached (if there is a cache) or dropped.
                    // Closing interrupts the wait and caches at once.
                    let out_of_tries = attempt >= self.options.max_retries;
                    if out_of_tries || self.progress.is_closing() {
                        self.give_up(sendable, stored);
                        return;
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(backoff(self.options.retry_base_delay, attempt)) => {}
                        _ = self.progress.wait_closing() => {}
                    }
                    attempt += 1;
                    envelope = sendable;
                }
            }
        }
    }

    /// What could not be delivered: back to (or into) the cache if there is one, else counted
    /// as `network_error`.
    fn give_up(&self, mut envelope: Envelope, stored: Option<Claimed>) {
        let reports = &self.options.client_reports;
        // Client reports are never cached or lost: their counts go back to the counters.
        envelope.retain_items(
            |i| i.item_type() != "client_report",
            |i| reports.restore(&i),
        );
        if let Some(claimed) = stored {
            claimed.release();
            return;
        }
        if envelope.is_empty() {
            return;
        }
        let Some(cache) = &self.cache else {
            reports.record_envelope(DiscardReason::NetworkError, &envelope);
            return;
        };
        if let Err(e) = cache.store(&envelope, reports) {
            crate::sdk_debug!("could not write to the offline cache: {e}");
            reports.record_envelope(DiscardReason::NetworkError, &envelope);
        }
    }

    /// The server answered: if the cache holds envelopes, send them now.
    fn after_delivery(&self) {
        if let Some(cache) = &self.cache {
            if !self.draining.load(Ordering::Relaxed) && !cache.is_empty() {
                self.drain_wanted.notify_one();
            }
        }
    }

    /// Sends the cached envelopes oldest first, paced, until the server fails or limits us.
    async fn drain(self: Arc<Self>) {
        let Some(cache) = &self.cache else { return };
        if self.draining.swap(true, Ordering::Relaxed) {
            return;
        }
        let reports = &self.options.client_reports;
        for path in cache.pending() {
            if self.progress.is_closing() {
                break;
            }
            let Some(claimed) = cache.claim(&path) else {
                continue;
            };
            let Some((mut envelope, claimed)) = cache.read(claimed, reports) else {
                continue;
            };
            if let Some(until) = self
                .limits
                .lock()
                .envelope_limited_until(&envelope, Instant::now())
            {
                // Paused while rate limited: try again when the limit ends.
                claimed.release();
                let worker = self.clone();
                tokio::spawn(async move {
                    tokio::time::sleep_until(until.into()).await;
                    worker.drain_wanted.notify_one();
                });
                break;
            }
            let Ok(permit) = self.permits.clone().acquire_owned().await else {
                break;
            };
            let outcome = self.poster.post(&mut envelope, &self.limits).await;
            drop(permit);
            crate::sdk_debug!("cached envelope {:?}: {outcome:?}", envelope.event_id());
            match outcome {
                Outcome::Delivered | Outcome::RateLimited => {
                    claimed.remove();
                    self.cache_failures.store(0, Ordering::Relaxed);
                    *self.cache_backoff.lock() = None;
                }
                Outcome::Rejected(_) => {
                    reports.record_envelope(DiscardReason::SendError, &envelope);
                    claimed.remove();
                }
                Outcome::NetworkError => {
                    claimed.release();
                    // The server is still away: the cache timer tries again, backing off.
                    let failures = self.cache_failures.fetch_add(1, Ordering::Relaxed);
                    let wait = backoff(CACHE_RETRY, failures.min(6)).min(MAX_CACHE_BACKOFF);
                    *self.cache_backoff.lock() = Some(Instant::now() + wait);
                    break;
                }
            }
            tokio::time::sleep(CACHE_PACING).await;
        }
        self.draining.store(false, Ordering::Relaxed);
    }
}

/// Puts the counts of the `client_report` items of an envelope that was not accepted back.
fn restore_reports(envelope: &Envelope, reports: &crate::ClientReports) {
    for item in envelope.items() {
        if item.item_type() == "client_report" {
            reports.restore(item);
        }
    }
}

/// A cached envelope that was delivered (or is given up on) leaves the cache.
fn remove_stored(stored: Option<Claimed>) {
    if let Some(claimed) = stored {
        claimed.remove();
    }
}

/// `base * 2^attempt`, with ±25 % jitter so that many clients do not retry in step.
fn backoff(base: Duration, attempt: u32) -> Duration {
    let exp = base.saturating_mul(1 << attempt.min(16));
    let jitter = 0.75 + (uuid::Uuid::new_v4().as_u64_pair().0 % 1000) as f64 / 2000.0;
    exp.mul_f64(jitter)
}

/// Without a runtime nothing can be sent: count and release every job so flushes return.
fn drain_dropping(options: &HttpOptions, progress: &Progress, rx: &mut mpsc::Receiver<Job>) {
    while let Some(job) = rx.blocking_recv() {
        match job {
            Job::Send(outgoing) => {
                progress
                    .queued_bytes
                    .fetch_sub(outgoing.size_hint(), Ordering::Relaxed);
                options.client_reports.record_unbuilt(
                    DiscardReason::InternalSdkError,
                    outgoing.category(),
                    outgoing.size_hint(),
                );
            }
            // A cached crash stays on disk for the next start; one not cached is lost.
            Job::Crash {
                envelope,
                stored: None,
                ..
            } => options
                .client_reports
                .record_envelope(DiscardReason::InternalSdkError, &envelope),
            Job::Crash { .. } | Job::FlushReports => {}
        }
        progress.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_bounded_jitter() {
        let base = Duration::from_millis(100);
        for attempt in 0..4 {
            let d = backoff(base, attempt);
            let nominal = 100.0 * f64::from(1u32 << attempt);
            let ms = d.as_secs_f64() * 1000.0;
            assert!(
                ms >= nominal * 0.75 - 0.01 && ms <= nominal * 1.25 + 0.01,
                "{attempt}: {ms}"
            );
        }
    }
}
