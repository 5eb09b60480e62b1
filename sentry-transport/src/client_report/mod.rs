//! Client reports: counts of what the SDK dropped, by reason and category (PROTOCOL.md §3).
//!
//! Every component that drops something calls [`ClientReports::record`]; the transport worker
//! drains the counters into a `client_report` item that rides along the next envelope.

mod tally;

use std::time::SystemTime;

use serde_json::json;

use crate::category::DataCategory;
use crate::envelope::Item;

/// Why an item was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DiscardReason {
    /// The transport queue was full.
    QueueOverflow,
    /// The offline cache was full and dropped its oldest entry.
    CacheOverflow,
    /// A rate limit from the server was in force.
    RatelimitBackoff,
    /// The server could not be reached, after retries.
    NetworkError,
    /// `sample_rate` or an error sampler dropped the event.
    SampleRate,
    /// `before_send` (or a similar hook) returned nothing.
    BeforeSend,
    /// An event processor or `ignore_errors` dropped the event.
    EventProcessor,
    /// The server answered with an error status other than 429.
    SendError,
    /// Something inside the SDK failed (serialisation, a corrupt cache file).
    InternalSdkError,
    /// A batching buffer was full.
    BufferOverflow,
    /// The item failed the SDK's own validation (an attachment over `max_attachment_size`).
    Invalid,
}

impl DiscardReason {
    const ALL: [DiscardReason; 11] = [
        DiscardReason::QueueOverflow,
        DiscardReason::CacheOverflow,
        DiscardReason::RatelimitBackoff,
        DiscardReason::NetworkError,
        DiscardReason::SampleRate,
        DiscardReason::BeforeSend,
        DiscardReason::EventProcessor,
        DiscardReason::SendError,
        DiscardReason::InternalSdkError,
        DiscardReason::BufferOverflow,
        DiscardReason::Invalid,
    ];

    /// The name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            DiscardReason::QueueOverflow => "queue_overflow",
            DiscardReason::CacheOverflow => "cache_overflow",
            DiscardReason::RatelimitBackoff => "ratelimit_backoff",
            DiscardReason::NetworkError => "network_error",
            DiscardReason::SampleRate => "sample_rate",
            DiscardReason::BeforeSend => "before_send",
            DiscardReason::EventProcessor => "event_processor",
            DiscardReason::SendError => "send_error",
            DiscardReason::InternalSdkError => "internal_sdk_error",
            DiscardReason::BufferOverflow => "buffer_overflow",
            DiscardReason::Invalid => "invalid",
        }
    }

    /// The reason with wire name `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        DiscardReason::ALL.into_iter().find(|r| r.as_str() == name)
    }

    fn index(self) -> usize {
        DiscardReason::ALL
            .iter()
            .position(|r| *r == self)
            .unwrap_or(0)
    }
}

const CATEGORIES: usize = DataCategory::ALL.len();

/// Lock-free counters of dropped items, one per (reason, category); one per client.
///
/// ```
/// use sentry_sdk_transport::{ClientReports, DataCategory, DiscardReason};
/// let reports = ClientReports::new(true);
/// reports.record(DiscardReason::QueueOverflow, DataCategory::Error, 2);
/// let item = reports.take_item().unwrap();
/// assert_eq!(item.item_type(), "client_report");
/// assert!(reports.take_item().is_none());
/// ```
#[derive(Debug)]
pub struct ClientReports {
    enabled: bool,
    /// One counter per (reason, category), lock-free (see `tally`).
    counts: tally::Tally,
}

impl ClientReports {
    /// Counters for one client; with `enabled` false, nothing is recorded or sent.
    pub fn new(enabled: bool) -> Self {
        ClientReports {
            enabled,
            counts: tally::Tally::new(DiscardReason::ALL.len() * CATEGORIES),
        }
    }

    /// Counts `quantity` dropped items of `category` for `reason`.
    pub fn record(&self, reason: DiscardReason, category: DataCategory, quantity: u64) {
        if !self.enabled || quantity == 0 || category == DataCategory::Internal {
            return;
        }
        let slot = reason.index() * CATEGORIES + category_index(category);
        self.counts.record(slot, quantity);
    }

    /// Counts every item of a dropped envelope (client reports themselves are never counted).
    pub fn record_envelope(&self, reason: DiscardReason, envelope: &crate::Envelope) {
        for item in envelope.items() {
            self.record_item(reason, item);
        }
    }

    /// Counts one dropped item. A transaction also counts its spans (plus one for the root),
    /// a log or trace-metric container its approximate size as `log_byte` /
    /// `trace_metric_byte` (PROTOCOL.md §3).
    pub fn record_item(&self, reason: DiscardReason, item: &Item) {
        self.record(reason, item.category(), item.quantity());
        match item.category() {
            DataCategory::Transaction => {
                let spans = item
                    .payload_json()
                    .and_then(|p| p["spans"].as_array().map(Vec::len))
                    .unwrap_or(0);
                self.record(reason, DataCategory::Span, spans as u64 + 1);
            }
            DataCategory::LogItem | DataCategory::TraceMetric => {
                self.record_bytes(reason, item.category(), item.payload().len())
            }
            _ => {}
        }
    }

    /// Counts the approximate size of dropped logs as `log_byte` (PROTOCOL.md §3).
    pub fn record_log_bytes(&self, reason: DiscardReason, bytes: usize) {
        self.record(reason, DataCategory::LogByte, bytes as u64);
    }

    /// Counts the approximate size of dropped items of `category` in its byte category:
    /// `log_byte` for logs, `trace_metric_byte` for trace metrics; nothing for the others.
    pub fn record_bytes(&self, reason: DiscardReason, category: DataCategory, bytes: usize) {
        match category {
            DataCategory::LogItem => self.record_log_bytes(reason, bytes),
            DataCategory::TraceMetric => {
                self.record(reason, DataCategory::TraceMetricByte, bytes as u64)
            }
            _ => {}
        }
    }

    /// Counts one dropped queued item of `category` that was never built into an envelope; a
    /// log or trace metric also counts its estimated `size` in its byte category.
    pub fn record_unbuilt(&self, reason: DiscardReason, category: DataCategory, size: usize) {
        self.record(reason, category, 1);
        self.record_bytes(reason, category, size);
    }

    /// Puts the counts of a `client_report` item that could not be sent back into the counters.
    pub fn restore(&self, item: &Item) {
        let Some(payload) = item.payload_json() else {
            return;
        };
        let Some(entries) = payload["discarded_events"].as_array() else {
            return;
        };
        for entry in entries {
            let reason = entry["reason"].as_str().and_then(DiscardReason::from_name);
            let category = entry["category"].as_str().and_then(DataCategory::from_name);
            if let (Some(reason), Some(category), Some(n)) =
                (reason, category, entry["quantity"].as_u64())
            {
                self.record(reason, category, n);
            }
        }
    }

    /// Whether anything is waiting to be reported.
    pub fn has_pending(&self) -> bool {
        self.counts.is_dirty()
    }

    /// Drains the counters into `(reason, category, quantity)` triples.
    pub fn take(&self) -> Vec<(DiscardReason, DataCategory, u64)> {
        self.counts
            .drain()
            .into_iter()
            .map(|(slot, n)| {
                let reason = DiscardReason::ALL[slot / CATEGORIES];
                (reason, DataCategory::ALL[slot % CATEGORIES], n)
            })
            .collect()
    }

    /// Drains the counters into a `client_report` item, or `None` if nothing was dropped.
    pub fn take_item(&self) -> Option<Item> {
        let counts = self.take();
        if counts.is_empty() {
            return None;
        }
        let discarded: Vec<_> = counts
            .into_iter()
            .map(|(reason, category, quantity)| {
                json!({"reason": reason.as_str(), "category": category.as_str(), "quantity": quantity})
            })
            .collect();
        let payload = json!({
            "timestamp": crate::time::rfc3339(SystemTime::now()),
            "discarded_events": discarded,
        });
        Some(Item::new("client_report", payload.to_string().into_bytes()))
    }
}

fn category_index(category: DataCategory) -> usize {
    DataCategory::ALL
        .iter()
        .position(|c| *c == category)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregates_by_reason_and_category() {
        let r = ClientReports::new(true);
        r.record(DiscardReason::SampleRate, DataCategory::Error, 1);
        r.record(DiscardReason::SampleRate, DataCategory::Error, 2);
        r.record(DiscardReason::QueueOverflow, DataCategory::Transaction, 5);
        r.record(DiscardReason::QueueOverflow, DataCategory::Internal, 5);
        let mut got = r.take();
        got.sort_by_key(|(reason, _, _)| reason.as_str());
        assert_eq!(
            got,
            vec![
                (DiscardReason::QueueOverflow, DataCategory::Transaction, 5),
                (DiscardReason::SampleRate, DataCategory::Error, 3),
            ]
        );
        assert!(r.take().is_empty());
    }

    #[test]
    fn an_unbuilt_log_also_counts_its_bytes() {
        let r = ClientReports::new(true);
        r.record_unbuilt(DiscardReason::InternalSdkError, DataCategory::LogItem, 300);
        r.record_unbuilt(DiscardReason::InternalSdkError, DataCategory::Error, 300);
        let mut got = r.take();
        got.sort_by_key(|(_, c, _)| c.as_str());
        assert_eq!(
            got,
            vec![
                (DiscardReason::InternalSdkError, DataCategory::Error, 1),
                (DiscardReason::InternalSdkError, DataCategory::LogByte, 300),
                (DiscardReason::InternalSdkError, DataCategory::LogItem, 1),
            ]
        );
    }

    #[test]
    fn dropped_trace_metrics_also_count_their_bytes() {
        let r = ClientReports::new(true);
        r.record_unbuilt(DiscardReason::QueueOverflow, DataCategory::TraceMetric, 200);
        r.record_item(
            DiscardReason::RatelimitBackoff,
            &crate::trace_metric_envelope(&[b"{}".to_vec(), b"{}".to_vec()]).items()[0],
        );
        let mut got = r.take();
        got.sort_by_key(|(reason, c, _)| (reason.as_str(), c.as_str()));
        assert_eq!(
            got,
            vec![
                (DiscardReason::QueueOverflow, DataCategory::TraceMetric, 1),
                (
                    DiscardReason::QueueOverflow,
                    DataCategory::TraceMetricByte,
                    200
                ),
                (
                    DiscardReason::RatelimitBackoff,
                    DataCategory::TraceMetric,
                    2
                ),
                (
                    DiscardReason::RatelimitBackoff,
                    DataCategory::TraceMetricByte,
                    17
                ),
            ]
        );
    }

    #[test]
    fn restore_puts_counts_back() {
        let r = ClientReports::new(true);
        r.record(DiscardReason::QueueOverflow, DataCategory::Error, 3);
        let item = r.take_item().unwrap();
        assert!(r.take().is_empty());
        r.restore(&item);
        assert_eq!(
            r.take(),
            vec![(DiscardReason::QueueOverflow, DataCategory::Error, 3)]
        );
    }

    #[test]
    fn disabled_records_nothing() {
        let r = ClientReports::new(false);
        r.record(DiscardReason::SampleRate, DataCategory::Error, 1);
        assert!(r.take_item().is_none());
    }

    #[test]
    fn item_payload_shape() {
        let r = ClientReports::new(true);
        r.record(DiscardReason::BeforeSend, DataCategory::Error, 4);
        let item = r.take_item().unwrap();
        let v = item.payload_json().unwrap();
        assert_eq!(
            v["discarded_events"],
            json!([{"reason":"before_send","category":"error","quantity":4}])
        );
        assert!(v["timestamp"].as_str().unwrap().ends_with('Z'));
    }
}
