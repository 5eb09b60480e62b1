//! Where one envelope is delivered and retried: the rate-limit filter, the POST, retries of
//! network errors with backoff, and what becomes of an envelope that cannot be delivered (the
//! offline cache, or a `network_error` count).
//!
//! [`Delivery`] is what the worker's tasks share to reach the server: the HTTP client, the rate
//! limits, the request slots and the cache. It knows nothing of jobs, batches or the cache
//! drain, which build on it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use super::in_flight::InFlight;
use super::options::HttpOptions;
use super::progress::Progress;
use super::request::{Outcome, Poster};
use super::spotlight::Spotlight;
use crate::cache::{Cache, Claimed};
use crate::client_report::{ClientReports, DiscardReason};
use crate::envelope::Envelope;
use crate::rate_limit::RateLimits;
use crate::sync::Mutex;

/// The way to the server, shared by the live deliveries and the cache drain.
pub(super) struct Delivery {
    pub(super) options: Arc<HttpOptions>,
    pub(super) progress: Arc<Progress>,
    pub(super) poster: Poster,
    /// A std mutex: only ever held for a lookup or an update, never across an `.await`.
    pub(super) limits: Mutex<RateLimits>,
    /// `None` when the offline cache is off or could not be opened.
    pub(super) cache: Option<Cache>,
    /// Request slots: at most `max_in_flight` POSTs at once, live and cached ones together.
    pub(super) permits: Arc<Semaphore>,
    /// The queued envelopes' deliveries still running (what a flush waits for).
    pub(super) in_flight: InFlight,
    /// Where a copy of every envelope goes, if Spotlight is on.
    pub(super) spotlight: Option<Spotlight>,
}

impl Delivery {
    /// One envelope through the response matrix, retrying network errors with backoff. True
    /// if the server accepted it (a 2xx), which tells the caller the server is back.
    pub(super) async fn deliver(
        &self,
        mut envelope: Envelope,
        mut stored: Option<Claimed>,
    ) -> bool {
        let reports = &self.options.client_reports;
        let mut attempt = 0;
        loop {
            if attempt > 0 {
                // A retry is filtered again (limits may have changed since): keep its reports.
                restore_reports(&envelope, reports);
                envelope.retain_items(|i| i.item_type() != "client_report", |_| {});
            }
            let before = envelope.items().len();
            let filtered = self.limits.lock().filter(envelope, reports, Instant::now());
            let Some(mut sendable) = filtered else {
                remove_stored(stored);
                return false;
            };
            if stored.is_some() && sendable.items().len() < before {
                // A limit set since the copy was cached dropped some items (counted): the
                // copy on disk must not bring them back at the next start.
                remove_stored(stored.take());
                stored = self.keep_on_disk(&sendable);
            }
            // Client reports ride along with whatever goes out next (after the filter, so
            // that they are never removed with the limited items), with what a closed
            // transport of this DSN left unsent.
            super::left_behind::take_into(&self.options.dsn, reports);
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
                    return true;
                }
                Outcome::RateLimited => {
                    // The server counted it already: no client report. Reports riding along
                    // were not accepted either: back to the counters for the next envelope.
                    restore_reports(&sendable, reports);
                    remove_stored(stored);
                    return false;
                }
                Outcome::Rejected(_) => {
                    // The items are lost and counted; reports riding along were not taken
                    // either and go back to the counters (not counted as lost themselves).
                    restore_reports(&sendable, reports);
                    for item in sendable.items() {
                        if item.item_type() != "client_report" {
                            reports.record_item(DiscardReason::SendError, item);
                        }
                    }
                    remove_stored(stored);
                    return false;
                }
                Outcome::NetworkError => {
                    // Retried with backoff; then cached (if there is a cache) or dropped.
                    // Closing interrupts the wait and caches at once.
                    let out_of_tries = attempt >= self.options.max_retries;
                    if out_of_tries || self.progress.is_closing() {
                        self.give_up(sendable, stored);
                        return false;
                    }
                    if stored.is_none() {
                        // On disk before the backoff: a process that ends meanwhile (a short
                        // program whose `close` ran out of time, a crash) leaves it for the next
                        // start instead of losing it; held claimed while the retries run.
                        stored = self.keep_on_disk(&sendable);
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
    /// Writes an envelope that could not be sent to the offline cache, if there is one, and
    /// claims the file for the retries of this delivery (client reports riding along stay in
    /// memory: they are never cached).
    fn keep_on_disk(&self, envelope: &Envelope) -> Option<Claimed> {
        let cache = self.cache.as_ref()?;
        let mut copy = envelope.clone();
        copy.retain_items(|i| i.item_type() != "client_report", |_| {});
        if copy.is_empty() {
            return None;
        }
        match cache.store(&copy, &self.options.client_reports) {
            Ok(path) => cache.claim(&path),
            Err(e) => {
                crate::sdk_debug!("could not write to the offline cache: {e}");
                None
            }
        }
    }

    pub(super) fn give_up(&self, mut envelope: Envelope, stored: Option<Claimed>) {
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
}

/// Puts the counts of the `client_report` items of an envelope that was not accepted back.
fn restore_reports(envelope: &Envelope, reports: &ClientReports) {
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
pub(super) fn backoff(base: Duration, attempt: u32) -> Duration {
    let exp = base.saturating_mul(1 << attempt.min(16));
    let jitter = 0.75 + (uuid::Uuid::new_v4().as_u64_pair().0 % 1000) as f64 / 2000.0;
    // `try_` form: a huge base delay saturates instead of panicking inside the delivery task.
    Duration::try_from_secs_f64(exp.as_secs_f64() * jitter).unwrap_or(Duration::MAX)
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
