//! The `transaction` event of a finished transaction, built on the worker thread.
//!
//! It goes through the same scopes, defaults and event processors as an error event (tags,
//! user, contexts, release, environment, sdk), without breadcrumbs, and carries the trace
//! context, `start_timestamp`, `timestamp` and the finished spans (PROTOCOL.md §5).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use sentry_sdk_transport::{DataCategory, DiscardReason, Envelope, Outgoing};
use serde_json::{json, Value};

use super::span::{SpanRecord, TransactionShared};
use super::SpanId;
use crate::client::Client;
use crate::pipeline::one_item_envelope;
use crate::protocol::{Event, Level};
use crate::scope::{self, Snapshot};

/// Queues a finished transaction; its payload is built on the worker.
pub(super) fn send(transaction: Arc<TransactionShared>) {
    let client = transaction.client.clone();
    if client.is_closed() {
        return;
    }
    let snapshot = scope::stack::snapshot();
    let size_hint = 1024 + transaction.spans.lock().len() * 256;
    let for_build = client.clone();
    client.transport.send(Outgoing::deferred(
        DataCategory::Transaction,
        size_hint,
        move || for_build.transaction_envelope(&transaction, &snapshot),
    ));
}

impl Client {
    fn transaction_envelope(&self, t: &TransactionShared, snapshot: &Snapshot) -> Option<Envelope> {
        let root = t.root.lock().clone();
        let spans = std::mem::take(&mut *t.spans.lock());
        let dropped = t.dropped_spans.load(Ordering::Relaxed) as u64;
        if dropped > 0 {
            // Spans beyond MAX_SPANS never made it into the payload.
            self.reports
                .record(DiscardReason::BufferOverflow, DataCategory::Span, dropped);
        }
        let mut event = Event {
            level: Level::Info,
            transaction: Some(t.name.lock().clone()),
            timestamp: root.timestamp,
            ..Default::default()
        };
        scope::apply_scopes(&mut event, snapshot, 0);
        event.breadcrumbs.clear();
        self.fill_defaults(&mut event);
        let drop_all = |reason: DiscardReason| {
            self.reports.record(reason, DataCategory::Transaction, 1);
            self.reports
                .record(reason, DataCategory::Span, spans.len() as u64 + 1);
        };
        let event = match self.process_event(event) {
            Ok(kept) => kept,
            Err(_) => {
                drop_all(DiscardReason::EventProcessor);
                return None;
            }
        };
        let event_id = event.event_id;
        match transaction_payload(event, &root, t.parent_span_id, &spans) {
            Ok(payload) => Some(one_item_envelope(event_id, "transaction", payload)),
            Err(e) => {
                sentry_sdk_transport::sdk_debug!("could not serialise transaction: {e}");
                drop_all(DiscardReason::InternalSdkError);
                None
            }
        }
    }
}

/// The `transaction` item: the event's fields (merged scopes, defaults) without those a
/// transaction does not have, plus its timing, trace context and spans.
fn transaction_payload(
    event: Event,
    root: &SpanRecord,
    parent_span_id: Option<SpanId>,
    spans: &[SpanRecord],
) -> Result<Vec<u8>, serde_json::Error> {
    let mut payload = serde_json::to_value(&event)?;
    let Value::Object(map) = &mut payload else {
        return Err(serde::ser::Error::custom(
            "an event serialises to an object",
        ));
    };
    map.remove("level");
    map.remove("logentry");
    let start = sentry_sdk_transport::time::unix_seconds(root.start_timestamp);
    let end = sentry_sdk_transport::time::unix_seconds(root.timestamp);
    map.insert("type".into(), json!("transaction"));
    map.insert("start_timestamp".into(), json!(start));
    map.insert("timestamp".into(), json!(end.max(start)));
    map.insert("transaction_info".into(), json!({ "source": "custom" }));
    let mut trace = json!({
        "type": "trace",
        "trace_id": root.trace_id,
        "span_id": root.span_id,
        "op": root.op,
        "status": root.status.map_or(json!("ok"), |s| json!(s)),
        "origin": root.origin,
    });
    if let Some(parent) = parent_span_id {
        trace["parent_span_id"] = json!(parent);
    }
    if !root.data.is_empty() {
        trace["data"] = json!(root.data);
    }
    let contexts = map.entry("contexts").or_insert_with(|| json!({}));
    contexts["trace"] = trace;
    if !root.tags.is_empty() {
        let tags = map.entry("tags").or_insert_with(|| json!({}));
        for (k, v) in &root.tags {
            tags[k] = json!(v);
        }
    }
    map.insert("spans".into(), serde_json::to_value(spans)?);
    serde_json::to_vec(&payload)
}
