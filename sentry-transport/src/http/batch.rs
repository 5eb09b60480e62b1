//! Where structured logs and trace metrics are batched: one [`Batch`] per item kind, each up to
//! 100 items in one container envelope (`log` or `trace_metric`), which leaves when it is full,
//! 5 s after its first item, or at `flush`/`close`.
//!
//! The batches belong to the worker's loop alone (filled and taken only there, never by a
//! delivery task), so they need no lock; the clock is passed in. What waits to be batched is
//! bounded by the transport's queue (by count and bytes), where overflow is counted.
//!
//! # Invariants
//! - A batch's `deadline` is `Some` exactly when it holds an item, and it is set by the first
//!   item: later ones never push it back, so no item waits longer than `BATCH_WAIT`.
//! - A batch never holds more than `MAX_ITEMS_PER_ENVELOPE` items: `push` says when it is
//!   full, and the worker takes it before adding another.

use std::panic::AssertUnwindSafe;
use std::time::Duration;

use tokio::time::Instant;

use crate::category::DataCategory;
use crate::client_report::{ClientReports, DiscardReason};
use crate::envelope::Envelope;
use crate::transport::Outgoing;

/// Items per container envelope, at most (PROTOCOL.md §6).
const MAX_ITEMS_PER_ENVELOPE: usize = 100;
/// How long an item may wait for others before its batch is sent.
const BATCH_WAIT: Duration = Duration::from_secs(5);

/// The items of one kind waiting to be sent together.
#[derive(Debug)]
pub(super) struct Batch {
    /// Writes the container envelope of this kind.
    envelope: fn(&[Vec<u8>]) -> Envelope,
    items: Vec<Vec<u8>>,
    deadline: Option<Instant>,
}

impl Batch {
    fn new(envelope: fn(&[Vec<u8>]) -> Envelope) -> Self {
        Batch {
            envelope,
            items: Vec::new(),
            deadline: None,
        }
    }

    /// Adds one built item; true when the batch is full and must be sent now.
    pub(super) fn push(&mut self, item: Vec<u8>, now: Instant) -> bool {
        if self.items.is_empty() {
            self.deadline = Some(now + BATCH_WAIT);
        }
        self.items.push(item);
        self.items.len() >= MAX_ITEMS_PER_ENVELOPE
    }

    /// When the oldest buffered item must go out; `None` while the batch is empty.
    pub(super) fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Empties the batch into one container envelope; `None` if it held nothing.
    pub(super) fn take(&mut self) -> Option<Envelope> {
        let items = std::mem::take(&mut self.items);
        self.deadline = None;
        if items.is_empty() {
            return None;
        }
        Some((self.envelope)(&items))
    }
}

/// One batch per kind of batched item: structured logs and trace metrics.
#[derive(Debug)]
pub(super) struct Batches {
    logs: Batch,
    metrics: Batch,
}

impl Default for Batches {
    fn default() -> Self {
        Batches {
            logs: Batch::new(crate::envelope::log_envelope),
            metrics: Batch::new(crate::envelope::trace_metric_envelope),
        }
    }
}

impl Batches {
    /// The batch for items of `category` (trace metrics, else logs).
    pub(super) fn of(&mut self, category: DataCategory) -> &mut Batch {
        match category {
            DataCategory::TraceMetric => &mut self.metrics,
            _ => &mut self.logs,
        }
    }

    /// The earliest deadline of any batch; `None` while all are empty.
    pub(super) fn deadline(&self) -> Option<Instant> {
        match (self.logs.deadline(), self.metrics.deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Takes the batches whose deadline has passed at `now` (all of them with `None`), as
    /// envelopes.
    pub(super) fn take_due(&mut self, now: Option<Instant>) -> Vec<Envelope> {
        [&mut self.logs, &mut self.metrics]
            .into_iter()
            .filter(|b| match (now, b.deadline()) {
                (_, None) => false,
                (None, Some(_)) => true,
                (Some(now), Some(due)) => due <= now,
            })
            .filter_map(Batch::take)
            .collect()
    }
}

/// Builds one batched item (user callbacks such as `before_send_log` run here). A panic in
/// them drops this item, counted as `internal_sdk_error`, and must not end the worker.
pub(super) fn build(outgoing: Outgoing, reports: &ClientReports) -> Option<Vec<u8>> {
    let size = outgoing.size_hint();
    let category = outgoing.category();
    match std::panic::catch_unwind(AssertUnwindSafe(|| outgoing.into_batched_item())) {
        Ok(item) => item,
        Err(_) => {
            reports.record_unbuilt(DiscardReason::InternalSdkError, category, size);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logs() -> Batch {
        Batch::new(crate::envelope::log_envelope)
    }

    #[test]
    fn the_first_item_sets_the_deadline_and_later_ones_keep_it() {
        let start = Instant::now();
        let mut batch = logs();
        assert_eq!(batch.deadline(), None);
        assert!(!batch.push(b"{}".to_vec(), start));
        assert!(!batch.push(b"{}".to_vec(), start + Duration::from_secs(3)));
        assert_eq!(batch.deadline(), Some(start + BATCH_WAIT));
    }

    #[test]
    fn full_at_the_envelope_limit() {
        let now = Instant::now();
        let mut batch = logs();
        for _ in 1..MAX_ITEMS_PER_ENVELOPE {
            assert!(!batch.push(b"{}".to_vec(), now));
        }
        assert!(batch.push(b"{}".to_vec(), now));
    }

    #[test]
    fn take_empties_the_batch_and_clears_the_deadline() {
        let mut batch = logs();
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
    fn each_kind_has_its_batch_and_only_due_ones_are_taken() {
        let start = Instant::now();
        let mut batches = Batches::default();
        assert_eq!(batches.deadline(), None);
        batches
            .of(DataCategory::LogItem)
            .push(b"{}".to_vec(), start);
        let later = start + Duration::from_secs(2);
        batches
            .of(DataCategory::TraceMetric)
            .push(b"{}".to_vec(), later);
        assert_eq!(batches.deadline(), Some(start + BATCH_WAIT));
        let due = batches.take_due(Some(start + BATCH_WAIT));
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].items()[0].item_type(), "log");
        assert_eq!(batches.deadline(), Some(later + BATCH_WAIT));
        let rest = batches.take_due(None);
        assert_eq!(rest.len(), 1);
        let item = &rest[0].items()[0];
        assert_eq!(item.item_type(), "trace_metric");
        assert_eq!(
            item.headers()["content_type"],
            crate::TRACE_METRIC_CONTENT_TYPE
        );
        assert!(batches.take_due(None).is_empty());
    }

    #[test]
    fn a_panicking_builder_is_counted_not_propagated() {
        let reports = ClientReports::new(true);
        let outgoing = Outgoing::log(10, || panic!("before_send_log"));
        assert_eq!(build(outgoing, &reports), None);
        assert!(reports.has_pending());
        let panics = || -> Option<Vec<u8>> { panic!("before_send_metric") };
        let outgoing = Outgoing::trace_metric(10, Box::new(panics));
        assert_eq!(build(outgoing, &reports), None);
    }
}
