//! Where structured logs are batched: up to 100 in one `log` envelope, which leaves when it is
//! full, 5 s after its first log, or at `flush`/`close`.
//!
//! The batch belongs to the worker's loop alone (it is filled and taken only there, never by a
//! delivery task), so it needs no lock; the clock is passed in.
//!
//! # Invariants
//! - `deadline` is `Some` exactly when the batch holds a log, and it is set by the first log:
//!   later ones never push it back, so no log waits longer than `LOG_BATCH_WAIT`.
//! - The batch never holds more than `MAX_LOGS_PER_ENVELOPE` logs: `push` says when it is full,
//!   and the worker takes it before adding another.

use std::panic::AssertUnwindSafe;
use std::time::Duration;

use tokio::time::Instant;

use crate::client_report::{ClientReports, DiscardReason};
use crate::envelope::Envelope;
use crate::transport::Outgoing;

/// Structured logs per envelope, at most (PROTOCOL.md §6).
const MAX_LOGS_PER_ENVELOPE: usize = 100;
/// How long a structured log may wait for others before its batch is sent.
const LOG_BATCH_WAIT: Duration = Duration::from_secs(5);

/// The structured logs waiting to be sent together.
#[derive(Debug, Default)]
pub(super) struct LogBatch {
    items: Vec<Vec<u8>>,
    deadline: Option<Instant>,
}

impl LogBatch {
    /// Adds one built log; true when the batch is full and must be sent now.
    pub(super) fn push(&mut self, item: Vec<u8>, now: Instant) -> bool {
        if self.items.is_empty() {
            self.deadline = Some(now + LOG_BATCH_WAIT);
        }
        self.items.push(item);
        self.items.len() >= MAX_LOGS_PER_ENVELOPE
    }

    /// When the oldest buffered log must go out; `None` while the batch is empty.
    pub(super) fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Empties the batch into one `log` envelope; `None` if it held nothing.
    pub(super) fn take(&mut self) -> Option<Envelope> {
        let items = std::mem::take(&mut self.items);
        self.deadline = None;
        if items.is_empty() {
            return None;
        }
        Some(crate::envelope::log_envelope(&items))
    }
}

/// Builds one structured log (user callbacks such as `before_send_log` run here). A panic in
/// them drops this log, counted as `internal_sdk_error`, and must not end the worker.
pub(super) fn build(outgoing: Outgoing, reports: &ClientReports) -> Option<Vec<u8>> {
    let size = outgoing.size_hint();
    match std::panic::catch_unwind(AssertUnwindSafe(|| outgoing.into_log_item())) {
        Ok(item) => item,
        Err(_) => {
            reports.record_unbuilt(
                DiscardReason::InternalSdkError,
                crate::DataCategory::LogItem,
                size,
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_log_sets_the_deadline_and_later_ones_keep_it() {
        let start = Instant::now();
        let mut batch = LogBatch::default();
        assert_eq!(batch.deadline(), None);
        assert!(!batch.push(b"{}".to_vec(), start));
        assert!(!batch.push(b"{}".to_vec(), start + Duration::from_secs(3)));
        assert_eq!(batch.deadline(), Some(start + LOG_BATCH_WAIT));
    }

    #[test]
    fn full_at_the_envelope_limit() {
        let now = Instant::now();
        let mut batch = LogBatch::default();
        for _ in 1..MAX_LOGS_PER_ENVELOPE {
            assert!(!batch.push(b"{}".to_vec(), now));
        }
        assert!(batch.push(b"{}".to_vec(), now));
    }

    #[test]
    fn take_empties_the_batch_and_clears_the_deadline() {
        let mut batch = LogBatch::default();
        assert!(batch.take().is_none());
        batch.push(b"{\"body\":\"a\"}".to_vec(), Instant::now());
        batch.push(b"{\"body\":\"b\"}".to_vec(), Instant::now());
        let envelope = batch.take().expect("two logs make an envelope");
        assert_eq!(
            envelope.items().len(),
            1,
            "one log item holds the whole batch"
        );
        assert_eq!(batch.deadline(), None);
        assert!(batch.take().is_none());
    }

    #[test]
    fn a_panicking_builder_is_counted_not_propagated() {
        let reports = ClientReports::new(true);
        let outgoing = Outgoing::log(10, || panic!("before_send_log"));
        assert_eq!(build(outgoing, &reports), None);
        assert!(reports.has_pending());
    }
}
