//! Where the offline cache is drained: cached envelopes go out oldest first, one every
//! `CACHE_PACING`, when the worker starts, when a live envelope gets through (the server is
//! back), and on the cache timer, which backs off while the server stays away.
//!
//! A drain stops at the first network error (the envelope goes back to the cache), pauses
//! while a rate limit covers the next envelope, and ends at `close`. Only one runs at a time.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::futures::Notified;
use tokio::sync::Notify;

use super::delivery::{backoff, Delivery};
use super::request::Outcome;
use crate::client_report::DiscardReason;
use crate::sync::Mutex;

/// Pause between two envelopes sent from the cache, so a backlog does not hammer a server
/// that just came back.
const CACHE_PACING: Duration = Duration::from_millis(100);
/// How often the cache is retried while it holds envelopes.
pub(super) const CACHE_RETRY: Duration = Duration::from_secs(30);
/// The longest the cache waits between two attempts while the server stays away.
const MAX_CACHE_BACKOFF: Duration = Duration::from_secs(30 * 60);

/// Sends what the offline cache holds, and decides when to try again.
pub(super) struct CacheDrain {
    delivery: Arc<Delivery>,
    /// Set while a drain runs, so that a second one returns at once and a delivery does not
    /// ask for one. `Relaxed` is enough: every task runs on the worker's one thread, so this
    /// flag orders nothing but itself.
    running: AtomicBool,
    /// Asks the worker's loop to start a drain (tasks cannot spawn one of their own: the
    /// drain's future would contain itself).
    wanted: Notify,
    /// When the cache timer may try again. A std mutex, never held across an `.await`.
    backoff: Mutex<Backoff>,
}

impl CacheDrain {
    pub(super) fn new(delivery: Arc<Delivery>) -> Self {
        CacheDrain {
            delivery,
            running: AtomicBool::new(false),
            wanted: Notify::new(),
            backoff: Mutex::new(Backoff::default()),
        }
    }

    /// At start-up: claims left by processes that died go back to the cache, and what it
    /// holds (from an earlier run, or a crash) is sent at once.
    pub(super) fn start_up(self: &Arc<Self>) {
        let Some(cache) = &self.delivery.cache else {
            return;
        };
        cache.sweep(&self.delivery.options.client_reports);
        if !cache.is_empty() {
            self.start();
        }
    }

    /// The cache timer fired: drain if the cache holds envelopes and the backoff allows it.
    pub(super) fn retry_if_due(self: &Arc<Self>) {
        let cache = self.delivery.cache.as_ref();
        if let Some(cache) = cache {
            // Claims left by processes that died since start-up go back too.
            cache.sweep(&self.delivery.options.client_reports);
        }
        let due = self.backoff.lock().is_due(Instant::now());
        if due && cache.is_some_and(|c| !c.is_empty()) {
            self.start();
        }
    }

    /// Resolves when a task asked for a drain (see `wanted`).
    pub(super) fn wanted(&self) -> Notified<'_> {
        self.wanted.notified()
    }

    /// Starts a drain in a task of its own (which returns at once if one is running).
    pub(super) fn start(self: &Arc<Self>) {
        tokio::spawn(self.clone().run());
    }

    /// A live envelope was delivered: the server is back, so the cache is drained now, whatever
    /// the backoff says.
    pub(super) fn server_is_back(&self) {
        if let Some(cache) = &self.delivery.cache {
            if !self.running.load(Ordering::Relaxed) && !cache.is_empty() {
                self.wanted.notify_one();
            }
        }
    }

    /// Sends the cached envelopes oldest first, paced, until the server fails or limits us.
    async fn run(self: Arc<Self>) {
        let delivery = &self.delivery;
        let Some(cache) = &delivery.cache else { return };
        if self.running.swap(true, Ordering::Relaxed) {
            return;
        }
        let reports = &delivery.options.client_reports;
        for path in cache.pending() {
            if delivery.progress.is_closing() {
                break;
            }
            let Some(claimed) = cache.claim(&path) else {
                continue;
            };
            let Some((mut envelope, claimed)) = cache.read(claimed, reports) else {
                continue;
            };
            if let Some(until) = delivery
                .limits
                .lock()
                .envelope_limited_until(&envelope, Instant::now())
            {
                // Paused while rate limited: try again when the limit ends.
                claimed.release();
                let drain = self.clone();
                tokio::spawn(async move {
                    tokio::time::sleep_until(until.into()).await;
                    drain.wanted.notify_one();
                });
                break;
            }
            let Ok(permit) = delivery.permits.clone().acquire_owned().await else {
                break;
            };
            let outcome = delivery.poster.post(&mut envelope, &delivery.limits).await;
            drop(permit);
            crate::sdk_debug!("cached envelope {:?}: {outcome:?}", envelope.event_id());
            match outcome {
                Outcome::Delivered | Outcome::RateLimited => {
                    claimed.remove();
                    self.backoff.lock().succeeded();
                }
                Outcome::Rejected(_) => {
                    reports.record_envelope(DiscardReason::SendError, &envelope);
                    claimed.remove();
                }
                Outcome::NetworkError => {
                    claimed.release();
                    // The server is still away: the cache timer tries again, backing off.
                    self.backoff.lock().failed(Instant::now());
                    break;
                }
            }
            tokio::time::sleep(CACHE_PACING).await;
        }
        self.running.store(false, Ordering::Relaxed);
    }
}

/// Consecutive failed drains, and when the cache timer may try again: exponential backoff
/// with jitter from `CACHE_RETRY` up to `MAX_CACHE_BACKOFF`. A delivery of a live envelope
/// drains at once whatever this says (`server_is_back`): the server is back.
#[derive(Debug, Default)]
struct Backoff {
    failures: u32,
    until: Option<Instant>,
}

impl Backoff {
    fn is_due(&self, now: Instant) -> bool {
        self.until.map_or(true, |at| now >= at)
    }

    /// The server answered: the timer may try at its next tick.
    fn succeeded(&mut self) {
        *self = Backoff::default();
    }

    /// The server is still away: wait longer before the next try.
    fn failed(&mut self, now: Instant) {
        let wait = backoff(CACHE_RETRY, self.failures.min(6)).min(MAX_CACHE_BACKOFF);
        self.failures = self.failures.saturating_add(1);
        self.until = Some(now + wait);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_due_until_a_failure_and_again_after_success() {
        let now = Instant::now();
        let mut backoff = Backoff::default();
        assert!(backoff.is_due(now));
        backoff.failed(now);
        assert!(!backoff.is_due(now));
        // The first wait is `CACHE_RETRY` with at most +25 % jitter.
        assert!(backoff.is_due(now + CACHE_RETRY.mul_f64(1.25)));
        backoff.succeeded();
        assert!(backoff.is_due(now));
    }

    #[test]
    fn backoff_grows_but_never_past_its_cap() {
        let now = Instant::now();
        let mut backoff = Backoff::default();
        backoff.failed(now);
        let first = backoff.until.map(|at| at - now);
        for _ in 0..20 {
            backoff.failed(now);
        }
        let last = backoff.until.map(|at| at - now);
        assert!(last > first, "{first:?} -> {last:?}");
        assert!(!backoff.is_due(now + MAX_CACHE_BACKOFF.mul_f64(0.5)));
        assert!(backoff.is_due(now + MAX_CACHE_BACKOFF));
    }
}
