//! Spans as they go on the wire: [`SpanStatus`] and the record of one span (PROTOCOL.md §5).

use std::time::SystemTime;

use serde::Serialize;

use super::{Map, SpanId, TraceId, Value};

/// The status of a span or transaction (Sentry's list, as in OpenTelemetry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
#[allow(missing_docs)]
pub enum SpanStatus {
    Ok,
    Cancelled,
    Unknown,
    InvalidArgument,
    DeadlineExceeded,
    NotFound,
    AlreadyExists,
    PermissionDenied,
    ResourceExhausted,
    FailedPrecondition,
    Aborted,
    OutOfRange,
    Unimplemented,
    InternalError,
    Unavailable,
    DataLoss,
    Unauthenticated,
}

/// One finished span, as recorded in its transaction.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct SpanRecord {
    pub(crate) span_id: SpanId,
    pub(crate) parent_span_id: Option<SpanId>,
    pub(crate) trace_id: TraceId,
    pub(crate) op: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) status: Option<SpanStatus>,
    #[serde(serialize_with = "seconds")]
    pub(crate) start_timestamp: SystemTime,
    #[serde(serialize_with = "seconds")]
    pub(crate) timestamp: SystemTime,
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub(crate) data: Map<Value>,
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub(crate) tags: Map<String>,
    pub(crate) origin: &'static str,
}

impl SpanRecord {
    /// A span starting now, with a new id.
    pub(crate) fn starting(
        trace_id: TraceId,
        parent_span_id: Option<SpanId>,
        op: String,
        description: Option<String>,
    ) -> Self {
        let now = SystemTime::now();
        SpanRecord {
            span_id: SpanId::random(),
            parent_span_id,
            trace_id,
            op,
            description,
            status: None,
            start_timestamp: now,
            timestamp: now,
            data: Map::new(),
            tags: Map::new(),
            origin: "manual",
        }
    }
}

impl SpanRecord {
    /// Moves the record's text and maps out, leaving its ids and times (all a finished span
    /// is still asked for).
    pub(crate) fn take(&mut self) -> SpanRecord {
        SpanRecord {
            op: std::mem::take(&mut self.op),
            description: self.description.take(),
            data: std::mem::take(&mut self.data),
            tags: std::mem::take(&mut self.tags),
            ..*self
        }
    }
}

fn seconds<S: serde::Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(sentry_sdk_transport::time::unix_seconds(*t))
}
