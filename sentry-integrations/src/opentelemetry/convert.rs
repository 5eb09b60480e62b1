//! OpenTelemetry's ids, attributes, kinds and statuses in Sentry's terms.

use opentelemetry::trace::{SpanKind, Status};
use opentelemetry::{Array, KeyValue, Value};
use sentry_sdk_core::performance::TransactionSource;
use sentry_sdk_core::protocol::{SpanId, SpanStatus, TraceId, Value as Json};

pub(super) fn trace_id(id: opentelemetry::trace::TraceId) -> TraceId {
    TraceId(u128::from_be_bytes(id.to_bytes()))
}

pub(super) fn span_id(id: opentelemetry::trace::SpanId) -> SpanId {
    SpanId(u64::from_be_bytes(id.to_bytes()))
}

pub(super) fn otel_trace_id(id: TraceId) -> opentelemetry::trace::TraceId {
    opentelemetry::trace::TraceId::from_bytes(id.0.to_be_bytes())
}

pub(super) fn otel_span_id(id: SpanId) -> opentelemetry::trace::SpanId {
    opentelemetry::trace::SpanId::from_bytes(id.0.to_be_bytes())
}

fn attribute<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a Value> {
    attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}

fn has(attributes: &[KeyValue], keys: &[&str]) -> bool {
    attributes.iter().any(|kv| keys.contains(&kv.key.as_str()))
}

/// The Sentry `op` of a span: a `sentry.op` attribute, else what its kind and semantic
/// convention attributes say (`http.server`, `http.client`, `db`, `queue.publish`,
/// `queue.process`, `rpc`), else `default`.
pub(super) fn op(kind: &SpanKind, attributes: &[KeyValue]) -> String {
    if let Some(op) = attribute(attributes, "sentry.op") {
        return op.as_str().into_owned();
    }
    let http = has(attributes, &["http.request.method", "http.method"]);
    let op = match kind {
        SpanKind::Server if http => "http.server",
        SpanKind::Client if http => "http.client",
        _ if has(attributes, &["db.system", "db.system.name"]) => "db",
        SpanKind::Producer if has(attributes, &["messaging.system"]) => "queue.publish",
        SpanKind::Consumer if has(attributes, &["messaging.system"]) => "queue.process",
        _ if has(attributes, &["rpc.service", "rpc.system"]) => "rpc",
        _ => "default",
    };
    op.to_owned()
}

/// Where a transaction's name comes from: a server span with an `http.route` is named by its
/// route; any other name was chosen in code.
pub(super) fn source(attributes: &[KeyValue]) -> TransactionSource {
    match attribute(attributes, "http.route") {
        Some(_) => TransactionSource::Route,
        None => TransactionSource::Custom,
    }
}

/// `Status::Error` is `internal_error`; otherwise the HTTP response status, if any, decides;
/// else `ok`.
pub(super) fn status(status: &Status, attributes: &[KeyValue]) -> SpanStatus {
    match status {
        Status::Error { .. } => SpanStatus::InternalError,
        Status::Ok => SpanStatus::Ok,
        Status::Unset => {
            let code = attribute(attributes, "http.response.status_code")
                .or_else(|| attribute(attributes, "http.status_code"));
            match code {
                Some(Value::I64(code)) => u16::try_from(*code)
                    .map(SpanStatus::from_http_status)
                    .unwrap_or(SpanStatus::Ok),
                _ => SpanStatus::Ok,
            }
        }
    }
}

/// An attribute value as span data.
pub(super) fn value(value: &Value) -> Json {
    match value {
        Value::Bool(b) => Json::Bool(*b),
        Value::I64(n) => Json::from(*n),
        Value::F64(f) => float(*f),
        Value::String(s) => Json::String(s.as_str().to_owned()),
        Value::Array(Array::Bool(v)) => v.iter().map(|b| Json::Bool(*b)).collect(),
        Value::Array(Array::I64(v)) => v.iter().map(|n| Json::from(*n)).collect(),
        Value::Array(Array::F64(v)) => v.iter().map(|f| float(*f)).collect(),
        Value::Array(Array::String(v)) => v
            .iter()
            .map(|s| Json::String(s.as_str().to_owned()))
            .collect(),
        // `Value` and `Array` are non-exhaustive: a later kind is shown as text.
        #[allow(unreachable_patterns)]
        other => Json::String(other.to_string()),
    }
}

/// JSON has no NaN or infinity: those are sent as text.
fn float(f: f64) -> Json {
    serde_json::Number::from_f64(f).map_or_else(|| Json::String(f.to_string()), Json::Number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_read_back_the_same() {
        let t =
            opentelemetry::trace::TraceId::from_hex("771a43a4192642f0b136d5159a501700").unwrap();
        let s = opentelemetry::trace::SpanId::from_hex("bb8f278130535c3c").unwrap();
        assert_eq!(trace_id(t).to_string(), "771a43a4192642f0b136d5159a501700");
        assert_eq!(span_id(s).to_string(), "bb8f278130535c3c");
        assert_eq!(otel_trace_id(trace_id(t)), t);
        assert_eq!(otel_span_id(span_id(s)), s);
    }

    #[test]
    fn ops_follow_kind_and_attributes() {
        let get = [KeyValue::new("http.request.method", "GET")];
        assert_eq!(op(&SpanKind::Server, &get), "http.server");
        assert_eq!(op(&SpanKind::Client, &get), "http.client");
        assert_eq!(
            op(
                &SpanKind::Client,
                &[KeyValue::new("db.system.name", "postgresql")]
            ),
            "db"
        );
        assert_eq!(op(&SpanKind::Internal, &[]), "default");
        assert_eq!(
            op(&SpanKind::Internal, &[KeyValue::new("sentry.op", "task")]),
            "task"
        );
    }

    #[test]
    fn statuses_map_to_sentrys() {
        let error = Status::error("boom");
        assert_eq!(status(&error, &[]), SpanStatus::InternalError);
        assert_eq!(status(&Status::Unset, &[]), SpanStatus::Ok);
        let not_found = [KeyValue::new("http.response.status_code", 404_i64)];
        assert_eq!(status(&Status::Unset, &not_found), SpanStatus::NotFound);
    }

    #[test]
    fn values_become_json() {
        assert_eq!(value(&Value::from(3_i64)), serde_json::json!(3));
        assert_eq!(value(&Value::from(f64::NAN)), serde_json::json!("NaN"));
        let strings = Value::Array(Array::String(vec!["a".into(), "b".into()]));
        assert_eq!(value(&strings), serde_json::json!(["a", "b"]));
    }
}
