//! Structured logs as they go on the wire: [`Log`], its [`LogLevel`] and typed
//! [`LogAttribute`]s (PROTOCOL.md §6).

use std::fmt;
use std::time::SystemTime;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::json;

use super::{Map, SpanId, TraceId, Value};

/// The severity of a structured log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    /// Very detailed.
    Trace,
    /// Debugging.
    Debug,
    /// Informational.
    Info,
    /// A warning.
    Warn,
    /// An error.
    Error,
    /// A crash.
    Fatal,
}

impl LogLevel {
    /// The name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Trace => "trace",
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
            LogLevel::Fatal => "fatal",
        }
    }

    /// The lowest OpenTelemetry severity number of the level (sent as the
    /// `sentry.severity_number` attribute).
    pub fn severity_number(self) -> u8 {
        match self {
            LogLevel::Trace => 1,
            LogLevel::Debug => 5,
            LogLevel::Info => 9,
            LogLevel::Warn => 13,
            LogLevel::Error => 17,
            LogLevel::Fatal => 21,
        }
    }
}

/// A typed attribute value: string, boolean, integer (i64) or double. A `u64` above
/// `i64::MAX` becomes a string, as the protocol asks, and so does a non-finite double (`NaN`,
/// `inf`, `-inf`: JSON has no number for them, and dropping the attribute would hide that the
/// value was odd).
#[derive(Debug, Clone, PartialEq)]
pub struct LogAttribute(pub Value);

impl LogAttribute {
    /// The `Display` text of `value`, as a string attribute.
    pub fn from_display(value: &dyn fmt::Display) -> Self {
        LogAttribute(Value::String(value.to_string()))
    }
}

/// A JSON value serialised as a typed attribute (`{"value": ..., "type": ...}`), borrowed:
/// what [`LogAttribute`] writes, for values that are not wrapped in one.
pub(crate) struct AttributeRef<'a>(pub(crate) &'a Value);

impl AttributeRef<'_> {
    fn type_name(&self) -> &'static str {
        match self.0 {
            Value::Bool(_) => "boolean",
            Value::Number(n) if n.is_i64() => "integer",
            Value::Number(_) => "double",
            _ => "string",
        }
    }
}

impl Serialize for LogAttribute {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        AttributeRef(&self.0).serialize(s)
    }
}

impl Serialize for AttributeRef<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(2))?;
        match self.0 {
            // A number that is neither an i64 nor an f64 (a u64 above i64::MAX) goes as text.
            Value::Number(n) if !n.is_i64() && !n.is_f64() => {
                map.serialize_entry("value", &n.to_string())?;
                map.serialize_entry("type", "string")?;
                return map.end();
            }
            v @ (Value::Bool(_) | Value::Number(_) | Value::String(_)) => {
                map.serialize_entry("value", v)?
            }
            other => map.serialize_entry("value", &other.to_string())?,
        }
        map.serialize_entry("type", self.type_name())?;
        map.end()
    }
}

macro_rules! attribute_from {
    ($($t:ty => $conv:expr),* $(,)?) => {
        $(impl From<$t> for LogAttribute {
            fn from(v: $t) -> Self {
                let conv: fn($t) -> Value = $conv;
                LogAttribute(conv(v))
            }
        })*
    };
}

attribute_from! {
    bool => Value::Bool,
    i8 => |v| json!(v), i16 => |v| json!(v), i32 => |v| json!(v), i64 => |v| json!(v),
    u8 => |v| json!(v), u16 => |v| json!(v), u32 => |v| json!(v),
    u64 => |v| i64::try_from(v).map_or_else(|_| Value::String(v.to_string()), |i| json!(i)),
    usize => |v| i64::try_from(v).map_or_else(|_| Value::String(v.to_string()), |i| json!(i)),
    isize => |v| i64::try_from(v).map_or_else(|_| Value::String(v.to_string()), |i| json!(i)),
    f32 => |v| double(f64::from(v)), f64 => double,
    String => Value::String,
    &str => |v| Value::String(v.to_owned()),
    &String => |v| Value::String(v.clone()),
}

/// A double as a JSON value: a number when finite, else its text (`NaN`, `inf`, `-inf`), which
/// JSON cannot carry as a number (`serde_json` would turn it into `null`).
pub(crate) fn double(v: f64) -> Value {
    serde_json::Number::from_f64(v).map_or_else(|| Value::String(v.to_string()), Value::Number)
}

/// One structured log.
#[derive(Debug, Clone)]
pub struct Log {
    /// Severity.
    pub level: LogLevel,
    /// The formatted message.
    pub body: String,
    /// Attributes; the SDK adds its defaults on the worker.
    pub attributes: Map<LogAttribute>,
    /// When it happened.
    pub timestamp: SystemTime,
    /// The trace it belongs to (the entered span's, else the client's propagation trace).
    pub trace_id: Option<TraceId>,
    /// The span entered when it was logged.
    pub span_id: Option<SpanId>,
}

impl Log {
    /// A log at `level` with `body`, now, with no attributes.
    pub fn new(level: LogLevel, body: impl Into<String>) -> Self {
        Log {
            level,
            body: body.into(),
            attributes: Map::new(),
            timestamp: SystemTime::now(),
            trace_id: None,
            span_id: None,
        }
    }
}

impl Serialize for Log {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry(
            "timestamp",
            &sentry_sdk_transport::time::unix_seconds(self.timestamp),
        )?;
        if let Some(trace_id) = &self.trace_id {
            map.serialize_entry("trace_id", trace_id)?;
        }
        if let Some(span_id) = &self.span_id {
            map.serialize_entry("span_id", span_id)?;
        }
        // The severity number goes in the `sentry.severity_number` attribute (added on the
        // worker), as Relay's log schema and the Python SDK have it; a top-level field is not
        // part of Relay's schema.
        map.serialize_entry("level", self.level.as_str())?;
        map.serialize_entry("body", &self.body)?;
        map.serialize_entry("attributes", &self.attributes)?;
        map.end()
    }
}
