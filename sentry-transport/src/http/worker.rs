//! Where the worker thread starts and what it reacts to: the queue's jobs, the log and metric
//! batches' deadlines, the client-report timer, the cache timer and requests for a cache drain.
//!
//! Everything runs on one thread: a current-thread tokio runtime whose tasks are the requests
//! in flight (at most `max_in_flight`), the cache drain and two timers (standalone client
//! reports, cache retries). The loop in `Worker::serve` owns the batches and turns each job
//! into a delivery task; what those tasks share is `Delivery` (the way to the server) and
//! `CacheDrain`.

use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use tokio::sync::{mpsc, Semaphore};
use tokio::time::Instant;

use super::batch::{self, Batches};
use super::cache_drain::{CacheDrain, CACHE_RETRY};
use super::delivery::Delivery;
use super::health::Health;
use super::options::HttpOptions;
use super::progress::{Completion, Progress};
use super::quiet;
use super::request::Poster;
use super::spotlight::Spotlight;
use crate::cache::{Cache, Claimed};
use crate::client_report::DiscardReason;
use crate::envelope::Envelope;
use crate::error::{Error, ErrorKind};
use crate::rate_limit::RateLimits;
use crate::sync::Mutex;
use crate::transport::Outgoing;

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
    /// Send buffered logs and metrics, then pending client reports (queued by `flush`).
    FlushReports,
    /// Queued by a `flush` whose `FlushReports` found the queue full (and counted itself in
    /// `Progress::flushes_wanted` instead): wakes the worker, should it have drained the queue
    /// meanwhile, to serve the flushes counted there.
    Wake,
}

/// The name of every thread the transport runs: the worker and its runtime's blocking threads.
pub(super) const THREAD_NAME: &str = "sentry-transport";

/// How long the ending worker waits for deliveries still running before it leaves its
/// counts behind (closing makes them end at once; this only bounds a transport dropped
/// without `close`).
const IN_FLIGHT_AT_END: std::time::Duration = std::time::Duration::from_secs(1);

pub(super) fn spawn(
    options: Arc<HttpOptions>,
    progress: Arc<Progress>,
    health: Arc<Health>,
    rx: mpsc::Receiver<Job>,
    ended: Completion,
) -> Result<(), Error> {
    std::thread::Builder::new()
        .name(THREAD_NAME.into())
        .spawn(move || {
            // Dropped when the thread ends, however: `close` waits for it (what the worker
            // leaves behind is then written).
            let _ended = ended;
            // Before anything on this thread can emit (the runtime, reqwest's client).
            if !options.debug {
                quiet::silence_this_thread();
            }
            run(options, progress, health, rx)
        })
        .map(|_| ())
        .map_err(|e| Error::with_source(ErrorKind::WorkerStart, e))
}

/// The loop's state. Only the loop touches it; what the delivery tasks share is behind the
/// two `Arc`s.
struct Worker {
    delivery: Arc<Delivery>,
    drain: Arc<CacheDrain>,
    /// Logs and trace metrics; filled and emptied by the loop alone (never by a task), so they
    /// need no lock.
    batches: Batches,
}

fn run(
    options: Arc<HttpOptions>,
    progress: Arc<Progress>,
    health: Arc<Health>,
    mut rx: mpsc::Receiver<Job>,
) {
    crate::debug::mark_sdk_thread();
    let debug = options.debug;
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        // The blocking threads (reqwest resolves names there) are the SDK's too: named, never
        // captured, and as quiet as the worker.
        .thread_name(THREAD_NAME)
        .on_thread_start(move || {
            crate::debug::mark_sdk_thread();
            if !debug {
                quiet::silence_this_thread();
            }
        })
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            crate::debug::always_log(format_args!("transport disabled: no runtime: {e}"));
            return drain_dropping(&options, &progress, &mut rx);
        }
    };
    let poster = match Poster::new(&options, health) {
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
    let spotlight = options
        .spotlight
        .as_deref()
        .and_then(|url| match Spotlight::new(url) {
            Ok(spotlight) => Some(spotlight),
            Err(e) => {
                crate::debug::always_log(format_args!("spotlight disabled: {e}"));
                None
            }
        });
    let delivery = Arc::new(Delivery {
        spotlight,
        permits: Arc::new(Semaphore::new(options.max_in_flight.max(1))),
        options,
        progress,
        poster,
        limits: Mutex::new(RateLimits::new()),
        cache,
        in_flight: Default::default(),
    });
    let worker = Worker {
        drain: Arc::new(CacheDrain::new(delivery.clone())),
        delivery,
        batches: Batches::default(),
    };
    runtime.block_on(worker.serve(rx));
}

// === impl Worker: what the loop reacts to ===

impl Worker {
    /// The loop, one arm per thing the worker reacts to, until the queue is closed.
    async fn serve(mut self, mut rx: mpsc::Receiver<Job>) {
        self.drain.start_up();
        let start = Instant::now();
        let every = self.delivery.options.client_report_interval;
        let mut report_timer = tokio::time::interval_at(start + every, every);
        let mut cache_timer = tokio::time::interval_at(start + CACHE_RETRY, CACHE_RETRY);
        let periodic = self.delivery.options.periodic.clone();
        let every = periodic.as_ref().map_or(CACHE_RETRY, |p| p.every);
        let mut periodic_timer = tokio::time::interval_at(start + every, every);
        loop {
            let batch_due = self.batches.deadline();
            // tokio drops the arms' futures before running the chosen handler, so a handler
            // may borrow `self` mutably.
            tokio::select! {
                _ = sleep_until(batch_due), if batch_due.is_some() => {
                    self.flush_batches(Some(Instant::now())).await
                }
                job = rx.recv() => match job {
                    Some(job) => {
                        self.handle(job).await;
                        // Flushes that found the queue full: once it is drained.
                        if rx.is_empty() {
                            self.serve_counted_flushes().await;
                        }
                    }
                    None => break,
                },
                _ = report_timer.tick() => self.send_due_reports().await,
                _ = cache_timer.tick() => self.drain.retry_if_due(),
                _ = periodic_timer.tick(), if periodic.is_some() => self.send_periodic().await,
                _ = self.drain.wanted() => self.drain.start(),
            }
        }
        // The queue is closed: logs and metrics still buffered go out (or to the cache) like
        // the rest; flushes still counted end here (their reports stay counted).
        self.flush_batches(None).await;
        for _ in 0..self
            .delivery
            .progress
            .flushes_wanted
            .swap(0, Ordering::SeqCst)
        {
            self.delivery.progress.finish();
        }
        // Deliveries still running (closing makes them give up at once: cached or counted)
        // put back the reports that rode along; only then are the counts left behind. Bounded:
        // a transport dropped without `close` does not wait out a slow server.
        let all = u32::try_from(self.delivery.options.max_in_flight.max(1)).unwrap_or(u32::MAX);
        let _ =
            tokio::time::timeout(IN_FLIGHT_AT_END, self.delivery.permits.acquire_many(all)).await;
        self.leave_reports_behind();
    }

    /// What the reports still count when the worker ends (what `close` dropped) is sent by
    /// whoever comes next: with the offline cache, the next start, from a `client_report`
    /// envelope written there; without, the next transport of this DSN in this process (see
    /// `left_behind`).
    fn leave_reports_behind(&self) {
        let reports = &self.delivery.options.client_reports;
        if let Some(cache) = &self.delivery.cache {
            if let Some(item) = reports.take_item() {
                let mut envelope = crate::Envelope::new();
                envelope.add_item(item);
                if cache.store(&envelope, reports).is_err() {
                    reports.restore(&envelope.items()[0]);
                }
            }
        }
        // What is still counted (all of it without a cache; what storing the file dropped from
        // a full cache with one) waits for the next transport of this DSN.
        super::left_behind::leave(&self.delivery.options.dsn, reports);
    }

    /// Serves the flushes whose marker found the queue full, if any (see `Job::Wake`).
    async fn serve_counted_flushes(&mut self) {
        let wanted = self
            .delivery
            .progress
            .flushes_wanted
            .swap(0, Ordering::SeqCst);
        if wanted > 0 {
            self.serve_flushes(wanted).await;
        }
    }

    /// Serves `n` flushes: buffered logs and metrics go first, so that `flush` covers them
    /// too; then pending client reports. Each flush holds one unit of progress, finished here
    /// (all but one at once, the last when the reports are sent).
    async fn serve_flushes(&mut self, n: usize) {
        self.flush_batches(None).await;
        for _ in 1..n {
            self.delivery.progress.finish();
        }
        // Drops are decided until the deliveries started before this point end (a 429
        // answered now rate-limits envelopes still waiting to retry): the report is taken
        // after them, in a task of its own, while this loop goes on.
        let mark = self.delivery.in_flight.mark();
        let (delivery, drain) = (self.delivery.clone(), self.drain.clone());
        tokio::spawn(async move {
            tokio::select! {
                _ = delivery.in_flight.wait_before(mark) => {}
                _ = delivery.progress.wait_closing() => {}
            }
            send_reports(&delivery, &drain).await;
        });
    }

    /// One job from the queue.
    async fn handle(&mut self, job: Job) {
        match job {
            Job::FlushReports => self.serve_flushes(1).await,
            // The counted flushes are served after this job, once the queue is drained.
            Job::Wake => {}
            Job::Send(outgoing) => {
                self.delivery
                    .progress
                    .queued_bytes
                    .fetch_sub(outgoing.size_hint(), Ordering::Relaxed);
                if outgoing.is_batched() {
                    self.add_batched(outgoing).await;
                    self.delivery.progress.finish();
                    return;
                }
                match self.build(outgoing) {
                    Some(envelope) => self.dispatch(envelope, None, None).await,
                    None => self.delivery.progress.finish(),
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
                let claimed = stored.and_then(|path| self.delivery.cache.as_ref()?.claim(&path));
                self.dispatch(*envelope, claimed, Some(done)).await
            }
        }
    }

    /// Builds one structured log or trace metric (user callbacks run here) and adds it to its
    /// batch, which goes out at once when full.
    async fn add_batched(&mut self, outgoing: Outgoing) {
        let category = outgoing.category();
        let reports = &self.delivery.options.client_reports;
        let Some(item) = batch::build(outgoing, reports) else {
            return;
        };
        let batch = self.batches.of(category);
        if batch.push(item, Instant::now()) {
            if let Some(envelope) = batch.take() {
                self.delivery.progress.begin();
                self.dispatch(envelope, None, None).await;
            }
        }
    }

    /// Sends the batches due at `now` (all of them with `None`), each in one container
    /// envelope.
    async fn flush_batches(&mut self, now: Option<Instant>) {
        for envelope in self.batches.take_due(now) {
            self.delivery.progress.begin();
            self.dispatch(envelope, None, None).await;
        }
    }

    /// The periodic timer fired: what the client has due (session aggregates) goes out.
    async fn send_periodic(&self) {
        let Some(periodic) = &self.delivery.options.periodic else {
            return;
        };
        let make = periodic.make.clone();
        // User-free code, but a panic must not take the worker down.
        let envelope = std::panic::catch_unwind(AssertUnwindSafe(|| make()))
            .ok()
            .flatten();
        if let Some(envelope) = envelope.filter(|e| !e.is_empty()) {
            self.delivery.progress.begin();
            self.dispatch(envelope, None, None).await;
        }
    }

    /// The client-report timer fired: pending reports go out on their own, so that they are
    /// sent at least this often even when nothing else is.
    async fn send_due_reports(&self) {
        let options = &self.delivery.options;
        super::left_behind::take_into(&options.dsn, &options.client_reports);
        if options.client_reports.has_pending() {
            self.delivery.progress.begin();
            self.send_reports().await;
        }
    }

    /// Sends pending client reports in an envelope of their own; finishes one unit of
    /// `progress` either way.
    async fn send_reports(&self) {
        send_reports(&self.delivery, &self.drain).await
    }

    /// Waits for a free request slot, then delivers in a task of its own. Finishes one unit of
    /// `progress` when done, and drops `done` (signalling whoever waits for this envelope).
    async fn dispatch(
        &self,
        envelope: Envelope,
        stored: Option<Claimed>,
        done: Option<Completion>,
    ) {
        dispatch(&self.delivery, &self.drain, envelope, stored, done).await
    }

    /// Builds a deferred envelope; a panic inside (user callbacks run here) drops it and is
    /// counted.
    fn build(&self, outgoing: Outgoing) -> Option<Envelope> {
        let category = outgoing.category();
        match std::panic::catch_unwind(AssertUnwindSafe(|| outgoing.into_envelope())) {
            Ok(envelope) => envelope.filter(|e| !e.is_empty()),
            Err(_) => {
                crate::sdk_debug!("building an envelope panicked; dropped");
                self.delivery.options.client_reports.record(
                    DiscardReason::InternalSdkError,
                    category,
                    1,
                );
                None
            }
        }
    }
}

/// Sends pending client reports in an envelope of their own; finishes one unit of
/// `progress` either way.
async fn send_reports(delivery: &Arc<Delivery>, drain: &Arc<CacheDrain>) {
    // With what a closed transport of this DSN left unsent (a flush sends those too).
    super::left_behind::take_into(&delivery.options.dsn, &delivery.options.client_reports);
    match delivery.options.client_reports.take_item() {
        Some(item) => {
            let mut envelope = Envelope::new();
            envelope.add_item(item);
            dispatch(delivery, drain, envelope, None, None).await;
        }
        None => delivery.progress.finish(),
    }
}

/// Waits for a free request slot, then delivers in a task of its own. Finishes one unit of
/// `progress` when done, and drops `done` (signalling whoever waits for this envelope).
async fn dispatch(
    delivery: &Arc<Delivery>,
    drain: &Arc<CacheDrain>,
    envelope: Envelope,
    stored: Option<Claimed>,
    done: Option<Completion>,
) {
    let progress = &delivery.progress;
    // Spotlight gets its copy first, before any filter, whatever becomes of this one.
    if let Some(spotlight) = &delivery.spotlight {
        spotlight.send(&envelope, progress);
    }
    if !delivery.options.send_to_dsn {
        // Spotlight only: nothing else to do (and no cache without a DSN).
        progress.finish();
        drop(done);
        return;
    }
    if progress.is_closing() {
        delivery.give_up(envelope, stored);
        progress.finish();
        return;
    }
    let permit = tokio::select! {
        permit = delivery.permits.clone().acquire_owned() => permit.ok(),
        _ = progress.wait_closing() => None,
    };
    let Some(permit) = permit else {
        delivery.give_up(envelope, stored);
        progress.finish();
        return;
    };
    let running = Running {
        n: delivery.in_flight.start(),
        delivery: delivery.clone(),
    };
    let (delivery, drain) = (delivery.clone(), drain.clone());
    tokio::spawn(async move {
        if delivery.deliver(envelope, stored).await {
            drain.server_is_back();
        }
        drop(permit);
        drop(running);
        delivery.progress.finish();
        drop(done);
    });
}

/// A delivery in [`InFlight`](super::in_flight::InFlight), ended when dropped (also if its
/// task ends early), so that a flush waiting for it is never left waiting.
struct Running {
    delivery: Arc<Delivery>,
    n: u64,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.delivery.in_flight.end(self.n);
    }
}

/// Sleeps until `deadline`; with `None` it is never polled (the arm's precondition is false).
fn sleep_until(deadline: Option<Instant>) -> tokio::time::Sleep {
    tokio::time::sleep_until(deadline.unwrap_or_else(Instant::now))
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
            // No unit of its own: the counted flushes', finished below.
            Job::Wake => {
                for _ in 0..progress.flushes_wanted.swap(0, Ordering::SeqCst) {
                    progress.finish();
                }
                continue;
            }
        }
        progress.finish();
        for _ in 0..progress.flushes_wanted.swap(0, Ordering::SeqCst) {
            progress.finish();
        }
    }
}
