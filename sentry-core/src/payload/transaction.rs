//! The `transaction` item of a finished transaction, built on the worker thread.
//!
//! It goes through the same scopes, defaults and event processors as an error event (tags,
//! user, contexts, release, environment, sdk), without breadcrumbs, and carries the trace
//! context, `start_timestamp`, `timestamp` and the finished spans (PROTOCOL.md §5).

use sentry_sdk_transport::{DataCategory, DiscardReason, Envelope};
use serde_json::{json, Value};

use super::{one_item_envelope, BuildContext};
use std::sync::Arc;

use once_cell::sync::OnceCell;

use crate::propagation::{make_dsc, Dsc};
use crate::protocol::{Event, Level, SpanId, SpanRecord, TraceId};
use crate::scope::{self, Snapshot};

/// What a finished transaction hands to the worker: its name, root span, finished spans and
/// how many spans it could not keep.
#[derive(Debug)]
pub(crate) struct FinishedTransaction {
    pub(crate) name: String,
    /// `transaction_info.source`.
    pub(crate) source: &'static str,
    pub(crate) root: SpanRecord,
    pub(crate) parent_span_id: Option<SpanId>,
    pub(crate) spans: Vec<SpanRecord>,
    /// Spans beyond `MAX_SPANS`, dropped while the transaction ran.
    pub(crate) dropped_spans: u64,
    /// The trace's DSC: the envelope's `trace` header (frozen here if nothing froze it yet).
    pub(crate) dsc: TraceDsc,
}

/// A transaction's DSC cell and what makes the DSC if it is still empty.
#[derive(Debug)]
pub(crate) struct TraceDsc {
    pub(crate) cell: Arc<OnceCell<Dsc>>,
    pub(crate) trace_id: TraceId,
    pub(crate) sample_rand: f64,
    pub(crate) sample_rate: f64,
}

/// The envelope of `t` over `snapshot`; `None` when it was dropped (and counted, with its
/// spans).
pub(crate) fn transaction_envelope(
    ctx: &BuildContext,
    t: FinishedTransaction,
    snapshot: &Snapshot,
) -> Option<Envelope> {
    let reports = ctx.reports();
    if t.dropped_spans > 0 {
        reports.record(
            DiscardReason::BufferOverflow,
            DataCategory::Span,
            t.dropped_spans,
        );
    }
    let mut event = Event {
        level: Level::Info,
        transaction: Some(t.name.clone()),
        timestamp: t.root.timestamp,
        ..Default::default()
    };
    scope::apply_scopes(&mut event, snapshot, 0);
    event.breadcrumbs.clear();
    ctx.fill_defaults(&mut event);
    ctx.fill_static_contexts(&mut event);
    let drop_all = |reason: DiscardReason| {
        reports.record(reason, DataCategory::Transaction, 1);
        reports.record(reason, DataCategory::Span, t.spans.len() as u64 + 1);
    };
    let settings = ctx.options().settings();
    let name = event.transaction.as_deref().unwrap_or("");
    if settings
        .ignore_transactions
        .iter()
        .any(|p| name.contains(p.as_ref()))
    {
        drop_all(DiscardReason::EventProcessor);
        return None;
    }
    let event = match ctx.process_event(event) {
        Ok(kept) => kept,
        Err(_) => {
            drop_all(DiscardReason::EventProcessor);
            return None;
        }
    };
    // Transactions skip `before_send`; they have a hook of their own.
    let event = match &settings.before_send_transaction {
        Some(hook) => {
            let hook = hook.clone();
            match crate::callback::run("before_send_transaction", move || hook(event)).flatten() {
                Some(kept) => kept,
                None => {
                    drop_all(DiscardReason::BeforeSend);
                    return None;
                }
            }
        }
        None => event,
    };
    let event_id = event.event_id;
    match transaction_payload(ctx, event, &t, t.source) {
        Ok(payload) => Some(one_item_envelope(
            event_id,
            "transaction",
            payload,
            Some(frozen_dsc(ctx, &t).header_json()),
        )),
        Err(e) => {
            sentry_sdk_transport::sdk_debug!("could not serialise transaction: {e}");
            drop_all(DiscardReason::InternalSdkError);
            None
        }
    }
}

/// The transaction's DSC, frozen now if nothing (an outgoing request, an error in one of its
/// spans) froze it before.
fn frozen_dsc<'a>(ctx: &BuildContext, t: &'a FinishedTransaction) -> &'a Dsc {
    let d = &t.dsc;
    d.cell.get_or_init(|| {
        // A URL name may hold ids and personal data: not propagated.
        let name = (t.source != "url").then_some(t.name.as_str());
        make_dsc(
            ctx.options(),
            d.trace_id,
            d.sample_rand,
            Some((true, d.sample_rate)),
            name,
        )
    })
}

/// The `transaction` item: the event's fields (merged scopes, defaults) without those a
/// transaction does not have, plus its timing, trace context and spans.
fn transaction_payload(
    ctx: &BuildContext,
    mut event: Event,
    t: &FinishedTransaction,
    source: &str,
) -> Result<Vec<u8>, serde_json::Error> {
    let (root, parent_span_id, spans) = (&t.root, t.parent_span_id, &t.spans[..]);
    // After `before_send_transaction`: what it set is scrubbed too.
    ctx.scrubber().scrub_event(&mut event);
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
    map.insert("transaction_info".into(), json!({ "source": source }));
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
        let mut data = json!(root.data);
        ctx.scrubber().scrub_value(&mut data, 0);
        trace["data"] = data;
    }
    let contexts = map.entry("contexts").or_insert_with(|| json!({}));
    contexts["trace"] = trace;
    if !root.tags.is_empty() {
        let tags = map.entry("tags").or_insert_with(|| json!({}));
        for (k, v) in &root.tags {
            tags[k] = json!(v);
        }
    }
    let mut spans = serde_json::to_value(spans)?;
    // Span data, where integrations put URLs and queries.
    if let Value::Array(spans) = &mut spans {
        for span in spans {
            if let Some(data) = span.get_mut("data") {
                ctx.scrubber().scrub_value(data, 0);
            }
        }
    }
    map.insert("spans".into(), spans);
    serde_json::to_vec(&payload)
}
