//! The `transaction` event of a finished transaction, built on the worker thread.
//!
//! It goes through the same scopes, defaults and event processors as an error event (tags,
//! user, contexts, release, environment, sdk), without breadcrumbs, and carries the trace
//! context, `start_timestamp`, `timestamp` and the finished spans (PROTOCOL.md §5).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use sentry_transport::{DataCategory, DiscardReason, Envelope, Item, Outgoing};
use serde_json::{json, Value};

use super::span::TransactionShared;
use crate::client::{Client, SDK_NAME, SDK_VERSION};
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
        let event = match self.process_event(event) {
            Ok(kept) => kept,
            Err(_) => {
                let reports = &self.reports;
                reports.record(DiscardReason::EventProcessor, DataCategory::Transaction, 1);
                reports.record(
                    DiscardReason::EventProcessor,
                    DataCategory::Span,
                    spans.len() as u64 + 1,
                );
                return None;
            }
        };
        let event_id = event.event_id;
        let mut payload = serde_json::to_value(&event).ok()?;
        let Value::Object(map) = &mut payload else {
            return None;
        };
        map.remove("level");
        map.remove("logentry");
        let start = sentry_transport::time::unix_seconds(root.start_timestamp);
        let end = sentry_transport::time::unix_seconds(root.timestamp);
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
        if let Some(parent) = t.parent_span_id {
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
        map.insert("spans".into(), serde_json::to_value(&spans).ok()?);
        let bytes = serde_json::to_vec(&payload).ok()?;
        let mut envelope = Envelope::new();
        envelope.set_header("event_id", event_id.to_string());
        envelope.set_header("sdk", json!({"name": SDK_NAME, "version": SDK_VERSION}));
        envelope.add_item(Item::new("transaction", bytes));
        Some(envelope)
    }
}
