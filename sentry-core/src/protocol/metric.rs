//! Trace metrics as they go on the wire: [`Metric`] and its [`MetricType`] (PROTOCOL.md §6).
//!
//! One metric is `{timestamp, trace_id, span_id?, name, value, unit?, type, attributes}`;
//! the attributes are the same typed values structured logs carry ([`LogAttribute`]).

use std::borrow::Cow;
use std::time::SystemTime;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::{LogAttribute, Map, SpanId, TraceId};

/// What a trace metric measures, and how Sentry aggregates it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetricType {
    /// A count of occurrences; the values are summed.
    Counter,
    /// A value at a point in time (the last, minimum, maximum... are kept).
    Gauge,
    /// A sample of a distribution (percentiles are computed).
    Distribution,
}

impl MetricType {
    /// The name on the wire (`counter`, `gauge`, `distribution`).
    pub fn as_str(self) -> &'static str {
        match self {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Distribution => "distribution",
        }
    }
}

/// One trace metric, as `before_send_metric` sees it (built on the SDK's background thread).
#[derive(Debug, Clone)]
pub struct Metric {
    /// Counter, gauge or distribution.
    pub metric_type: MetricType,
    /// The metric's name (dots separate its parts: `checkout.latency`).
    pub name: Cow<'static, str>,
    /// The value. A non-finite value is sent as `0` (JSON has no number for it).
    pub value: f64,
    /// The unit (`millisecond`, `byte`, ...), if any.
    pub unit: Option<Cow<'static, str>>,
    /// Attributes: the caller's, plus the SDK's defaults (environment, release, SDK, server).
    pub attributes: Map<LogAttribute>,
    /// When it was recorded.
    pub timestamp: SystemTime,
    /// The trace it belongs to (the active span's, else the isolation scope's).
    pub trace_id: TraceId,
    /// The span active when it was recorded.
    pub span_id: Option<SpanId>,
}

impl Metric {
    /// A metric of `metric_type` named `name` with `value`, now, in a new trace, with no
    /// unit and no attributes.
    pub fn new(metric_type: MetricType, name: impl Into<Cow<'static, str>>, value: f64) -> Self {
        Metric {
            metric_type,
            name: name.into(),
            value,
            unit: None,
            attributes: Map::new(),
            timestamp: SystemTime::now(),
            trace_id: TraceId::random(),
            span_id: None,
        }
    }
}

impl Serialize for Metric {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        MetricRef {
            metric_type: self.metric_type,
            name: &self.name,
            value: self.value,
            unit: self.unit.as_deref(),
            timestamp: self.timestamp,
            trace_id: self.trace_id,
            span_id: self.span_id,
            attributes: &self.attributes,
        }
        .serialize(s)
    }
}

/// A metric's fields, borrowed, with its attributes as anything that serialises as a map of
/// typed attributes: how [`Metric`] is written, and how the worker writes one without
/// building a [`Metric`] first.
pub(crate) struct MetricRef<'a, A> {
    pub(crate) metric_type: MetricType,
    pub(crate) name: &'a str,
    pub(crate) value: f64,
    pub(crate) unit: Option<&'a str>,
    pub(crate) timestamp: SystemTime,
    pub(crate) trace_id: TraceId,
    pub(crate) span_id: Option<SpanId>,
    pub(crate) attributes: A,
}

impl<A: Serialize> Serialize for MetricRef<'_, A> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry(
            "timestamp",
            &sentry_sdk_transport::time::unix_seconds(self.timestamp),
        )?;
        map.serialize_entry("trace_id", &self.trace_id)?;
        if let Some(span_id) = &self.span_id {
            map.serialize_entry("span_id", span_id)?;
        }
        map.serialize_entry("name", self.name)?;
        let value = if self.value.is_finite() {
            self.value
        } else {
            0.0
        };
        map.serialize_entry("value", &value)?;
        if let Some(unit) = self.unit {
            map.serialize_entry("unit", unit)?;
        }
        map.serialize_entry("type", self.metric_type.as_str())?;
        map.serialize_entry("attributes", &self.attributes)?;
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn serialises_the_wire_fields() {
        let mut metric = Metric::new(MetricType::Distribution, "checkout.latency", 12.5);
        metric.unit = Some("millisecond".into());
        metric
            .attributes
            .insert("region".into(), LogAttribute::from("eu"));
        metric.span_id = Some(SpanId::random());
        let v = serde_json::to_value(&metric).unwrap();
        assert_eq!(v["name"], "checkout.latency");
        assert_eq!(v["value"], 12.5);
        assert_eq!(v["unit"], "millisecond");
        assert_eq!(v["type"], "distribution");
        assert_eq!(v["trace_id"].as_str().unwrap().len(), 32);
        assert_eq!(v["span_id"].as_str().unwrap().len(), 16);
        assert!(v["timestamp"].as_f64().unwrap() > 1.6e9);
        assert_eq!(
            v["attributes"]["region"],
            json!({"value": "eu", "type": "string"})
        );
        let nan = Metric::new(MetricType::Gauge, "g", f64::NAN);
        let v = serde_json::to_value(&nan).unwrap();
        assert_eq!(v["value"], 0.0);
        assert!(v.get("unit").is_none() && v.get("span_id").is_none());
    }
}
