//! One trace metric item, on the worker: from what the caller recorded to the [`Metric`] with
//! the default attributes, `before_send_metric`, and its JSON (batched into `trace_metric`
//! envelopes by the transport).

use std::borrow::Cow;
use std::time::SystemTime;

use sentry_sdk_transport::{DataCategory, DiscardReason};
use serde::ser::{Serialize, SerializeMap, Serializer};

use super::BuildContext;
use crate::callback;
use crate::protocol::{
    AttributeRef, LogAttribute, Map, Metric, MetricRef, MetricType, SpanId, TraceId,
};

/// What the caller hands over for one trace metric: its own values as given (the attributes
/// in a plain list; the map, the defaults and `before_send_metric` are the worker's work).
#[derive(Debug)]
pub(crate) struct MetricRecord {
    pub(crate) metric_type: MetricType,
    pub(crate) name: Cow<'static, str>,
    pub(crate) value: f64,
    pub(crate) unit: Option<Cow<'static, str>>,
    pub(crate) attributes: Vec<(Cow<'static, str>, LogAttribute)>,
    pub(crate) timestamp: SystemTime,
    pub(crate) trace_id: TraceId,
    pub(crate) span_id: Option<SpanId>,
}

impl MetricRecord {
    /// An estimate of the serialised size, for the queue's byte bound and `trace_metric_byte`.
    pub(crate) fn size_hint(&self) -> usize {
        160 + self.name.len() + self.attributes.len() * 48
    }
}

/// The serialised item of `record`, with the defaults added where it has no attribute of
/// that name; `None` when `before_send_metric` dropped it, its value is not a finite number,
/// or it could not be serialised (counted in each case, with its bytes).
pub(crate) fn metric_item(ctx: &BuildContext, record: MetricRecord) -> Option<Vec<u8>> {
    let size = record.size_hint();
    if ctx.options().settings().before_send_metric.is_none() {
        // Nothing sees the metric: written straight from the record and the defaults, with
        // no attribute map built.
        if !record.value.is_finite() {
            return dropped(ctx, DiscardReason::Invalid, size, "a non-finite value");
        }
        let direct = MetricRef {
            metric_type: record.metric_type,
            name: &record.name,
            value: record.value,
            unit: record.unit.as_deref(),
            timestamp: record.timestamp,
            trace_id: record.trace_id,
            span_id: record.span_id,
            attributes: Attributes {
                own: &record.attributes,
                defaults: &ctx.log_defaults,
            },
        };
        return match serde_json::to_vec(&direct) {
            Ok(bytes) => Some(bytes),
            Err(_) => dropped(ctx, DiscardReason::InternalSdkError, size, "serialisation"),
        };
    }
    let mut attributes: Map<LogAttribute> = record
        .attributes
        .into_iter()
        .map(|(k, v)| (k.into_owned(), v))
        .collect();
    for (key, value) in &ctx.log_defaults {
        if !attributes.contains_key(*key) {
            attributes.insert((*key).to_owned(), LogAttribute(value.clone()));
        }
    }
    let mut metric = Metric {
        metric_type: record.metric_type,
        name: record.name,
        value: record.value,
        unit: record.unit,
        attributes,
        timestamp: record.timestamp,
        trace_id: record.trace_id,
        span_id: record.span_id,
    };
    if let Some(hook) = &ctx.options().settings().before_send_metric {
        let hook = hook.clone();
        match callback::run("before_send_metric", move || hook(metric)).flatten() {
            Some(kept) => metric = kept,
            None => return dropped(ctx, DiscardReason::BeforeSend, size, "before_send_metric"),
        }
    }
    if !metric.value.is_finite() {
        return dropped(ctx, DiscardReason::Invalid, size, "a non-finite value");
    }
    match serde_json::to_vec(&metric) {
        Ok(bytes) => Some(bytes),
        Err(_) => dropped(ctx, DiscardReason::InternalSdkError, size, "serialisation"),
    }
}

/// The caller's attributes (a later one of the same name wins) and the defaults the metric
/// has no attribute of that name for, written as one map.
struct Attributes<'a> {
    own: &'a [(Cow<'static, str>, LogAttribute)],
    defaults: &'a [(&'static str, serde_json::Value)],
}

impl Serialize for Attributes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        for (n, (key, value)) in self.own.iter().enumerate() {
            // Few attributes: a scan is cheaper than a set.
            if !self.own[n + 1..].iter().any(|(later, _)| later == key) {
                map.serialize_entry(key.as_ref(), value)?;
            }
        }
        for (key, value) in self.defaults {
            if !self.own.iter().any(|(own, _)| own == key) {
                map.serialize_entry(key, &AttributeRef(value))?;
            }
        }
        map.end()
    }
}

/// Counts one dropped metric and its approximate bytes.
fn dropped(ctx: &BuildContext, reason: DiscardReason, size: usize, by: &str) -> Option<Vec<u8>> {
    ctx.reports
        .record_unbuilt(reason, DataCategory::TraceMetric, size);
    sentry_sdk_transport::sdk_debug!("trace_metric dropped by {by}");
    None
}
