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

impl SpanStatus {
    /// The status of a span for an HTTP response status code, as Sentry's other SDKs map it:
    /// below 400 `ok`, 4xx by code (`not_found`, `unauthenticated`, ...; otherwise
    /// `invalid_argument`), 5xx by code (`unavailable`, ...; otherwise `internal_error`),
    /// anything else `unknown`.
    ///
    /// ```
    /// use sentry_sdk_core::protocol::SpanStatus;
    /// assert_eq!(SpanStatus::from_http_status(200), SpanStatus::Ok);
    /// assert_eq!(SpanStatus::from_http_status(404), SpanStatus::NotFound);
    /// assert_eq!(SpanStatus::from_http_status(500), SpanStatus::InternalError);
    /// ```
    pub fn from_http_status(code: u16) -> SpanStatus {
        match code {
            100..=399 => SpanStatus::Ok,
            401 => SpanStatus::Unauthenticated,
            403 => SpanStatus::PermissionDenied,
            404 => SpanStatus::NotFound,
            409 => SpanStatus::AlreadyExists,
            413 => SpanStatus::FailedPrecondition,
            429 => SpanStatus::ResourceExhausted,
            // nginx's "client closed request".
            499 => SpanStatus::Cancelled,
            400..=499 => SpanStatus::InvalidArgument,
            501 => SpanStatus::Unimplemented,
            503 => SpanStatus::Unavailable,
            504 => SpanStatus::DeadlineExceeded,
            500..=599 => SpanStatus::InternalError,
            _ => SpanStatus::Unknown,
        }
    }
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
