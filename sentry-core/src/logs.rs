//! Structured logs: Sentry's logs product (PROTOCOL.md §6).
//!
//! With `enable_logs(true)`, [`logger_info!`](crate::logger_info) and its siblings (and the
//! `log`/`tracing` integrations) send [`Log`]s. The caller formats the body and hands the log
//! over; the worker adds the default attributes, runs `before_send_log` and batches up to 100
//! logs per envelope (sent at 100, after 5 s, and at `flush`/`close`). With no client or logs
//! off, the macros format nothing.

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use sentry_sdk_transport::{DataCategory, DiscardReason, Outgoing};
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::json;

use crate::client::{self, Client, SDK_NAME, SDK_VERSION};
use crate::performance::{SpanId, TraceId};
use crate::protocol::{Map, Value};

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

    /// The lowest OpenTelemetry severity number of the level.
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
/// `i64::MAX` becomes a string, as the protocol asks.
#[derive(Debug, Clone, PartialEq)]
pub struct LogAttribute(pub Value);

impl LogAttribute {
    /// The `Display` text of `value`, as a string attribute.
    pub fn from_display(value: &dyn fmt::Display) -> Self {
        LogAttribute(Value::String(value.to_string()))
    }

    fn type_name(&self) -> &'static str {
        match &self.0 {
            Value::Bool(_) => "boolean",
            Value::Number(n) if n.is_i64() => "integer",
            Value::Number(_) => "double",
            _ => "string",
        }
    }
}

impl Serialize for LogAttribute {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(2))?;
        match &self.0 {
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
    f32 => |v| json!(f64::from(v)), f64 => |v| json!(v),
    String => Value::String,
    &str => |v| Value::String(v.to_owned()),
    &String => |v| Value::String(v.clone()),
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
        map.serialize_entry("level", self.level.as_str())?;
        map.serialize_entry("severity_number", &self.level.severity_number())?;
        map.serialize_entry("body", &self.body)?;
        map.serialize_entry("attributes", &self.attributes)?;
        map.end()
    }
}

/// Whether a log sent now would be kept: a client is bound with `enable_logs(true)`. The
/// macros check this before formatting anything.
#[inline]
pub fn logs_enabled() -> bool {
    client::maybe_bound()
        && !crate::callback::is_inside()
        && client::with_current(|c| c.options().get_enable_logs()) == Some(true)
}

/// Sends a structured log (if logs are enabled).
pub fn capture_log(log: Log) {
    client::with_current(|client| client.capture_log(log));
}

impl Client {
    /// Sends a structured log through this client if it has `enable_logs(true)` (what
    /// [`capture_log`] does once it has found the client).
    pub fn capture_log(self: &Arc<Self>, mut log: Log) {
        if crate::callback::is_inside() || !self.options.get_enable_logs() || self.is_closed() {
            return;
        }
        if log.trace_id.is_none() {
            match crate::performance::current_span().and_then(|s| s.ids()) {
                Some((trace, span)) => {
                    log.trace_id = Some(trace);
                    log.span_id = Some(span);
                }
                None => log.trace_id = Some(self.propagation_trace_id()),
            }
        }
        let size_hint = 256 + log.body.len() + log.attributes.len() * 48;
        let worker_client = self.clone();
        self.transport.send(Outgoing::log(size_hint, move || {
            worker_client.log_item(log)
        }));
    }

    /// The worker's part: default attributes, `before_send_log`, serialisation.
    fn log_item(&self, mut log: Log) -> Option<Vec<u8>> {
        let o = &self.options;
        let mut defaults: Vec<(&str, Value)> = vec![
            ("sentry.environment", json!(o.get_environment())),
            ("sentry.sdk.name", json!(SDK_NAME)),
            ("sentry.sdk.version", json!(SDK_VERSION)),
        ];
        if let Some(release) = o.get_release() {
            defaults.push(("sentry.release", json!(release)));
        }
        if let Some(server) = &self.server_name {
            defaults.push(("server.address", json!(server)));
        }
        for (key, value) in defaults {
            log.attributes
                .entry(key.to_owned())
                .or_insert(LogAttribute(value));
        }
        if let Some(hook) = o.before_send_log_fn() {
            let hook = hook.clone();
            match crate::callback::run("before_send_log", move || hook(log)).flatten() {
                Some(kept) => log = kept,
                None => {
                    self.reports
                        .record(DiscardReason::BeforeSend, DataCategory::LogItem, 1);
                    return None;
                }
            }
        }
        match serde_json::to_vec(&log) {
            Ok(bytes) => Some(bytes),
            Err(_) => {
                self.reports
                    .record(DiscardReason::InternalSdkError, DataCategory::LogItem, 1);
                None
            }
        }
    }
}

/// What the `logger_*!` macros call: the body formatted, the template and its parameters.
#[doc(hidden)]
pub fn __capture_formatted(
    level: LogLevel,
    body: String,
    template: &'static str,
    parameters: Vec<LogAttribute>,
    attributes: Vec<(&'static str, LogAttribute)>,
) {
    let mut log = Log::new(level, body);
    if !parameters.is_empty() {
        log.attributes.insert(
            "sentry.message.template".into(),
            LogAttribute::from(template),
        );
        for (n, p) in parameters.into_iter().enumerate() {
            log.attributes
                .insert(format!("sentry.message.parameter.{n}"), p);
        }
    }
    for (key, value) in attributes {
        log.attributes.insert(key.to_owned(), value);
    }
    capture_log(log);
}

/// Sends a structured log at `level` (a [`LogLevel`]). Prefer `logger_info!` and friends.
///
/// Attributes go before the message, separated by `;`; the format arguments are recorded as
/// `sentry.message.parameter.N` with the template in `sentry.message.template`:
///
/// ```
/// sentry_sdk_core::logger_info!("user {} signed in", 42);
/// sentry_sdk_core::logger_warn!(region = "eu", retries = 3; "upload of {} slow", "a.png");
/// ```
#[macro_export]
macro_rules! logger_log {
    ($level:expr, $($key:ident).+ = $value:expr $(, $($key2:ident).+ = $value2:expr)* ; $fmt:literal $(, $arg:expr)* $(,)?) => {
        if $crate::logs::logs_enabled() {
            $crate::__logger_bind!(
                @bind $level, $fmt,
                [
                    (::std::stringify!($($key).+), $crate::logs::LogAttribute::from($value))
                    $(, (::std::stringify!($($key2).+), $crate::logs::LogAttribute::from($value2)))*
                ],
                []
                $(, $arg)*
            );
        }
    };
    ($level:expr, $fmt:literal $(, $arg:expr)* $(,)?) => {
        if $crate::logs::logs_enabled() {
            $crate::__logger_bind!(@bind $level, $fmt, [], [] $(, $arg)*);
        }
    };
}

/// Evaluates each format argument of a `logger_*!` call exactly once (binding it to a fresh,
/// hygienic name), then formats the body and records the parameters from those bindings.
#[doc(hidden)]
#[macro_export]
macro_rules! __logger_bind {
    (@bind $level:expr, $fmt:literal, [$($attrs:tt)*], [$($bound:ident)*], $arg:expr $(, $rest:expr)*) => {
        match &$arg {
            arg => $crate::__logger_bind!(@bind $level, $fmt, [$($attrs)*], [$($bound)* arg] $(, $rest)*),
        }
    };
    (@bind $level:expr, $fmt:literal, [$($attrs:tt)*], [$($bound:ident)*]) => {
        $crate::logs::__capture_formatted(
            $level,
            ::std::format!($fmt $(, $bound)*),
            $fmt,
            ::std::vec![$($crate::logs::LogAttribute::from_display($bound)),*],
            ::std::vec![$($attrs)*],
        )
    };
}

/// A structured log at level `trace`; see [`logger_log!`](crate::logger_log).
#[macro_export]
macro_rules! logger_trace { ($($t:tt)+) => { $crate::logger_log!($crate::logs::LogLevel::Trace, $($t)+) }; }
/// A structured log at level `debug`; see [`logger_log!`](crate::logger_log).
#[macro_export]
macro_rules! logger_debug { ($($t:tt)+) => { $crate::logger_log!($crate::logs::LogLevel::Debug, $($t)+) }; }
/// A structured log at level `info`; see [`logger_log!`](crate::logger_log).
#[macro_export]
macro_rules! logger_info { ($($t:tt)+) => { $crate::logger_log!($crate::logs::LogLevel::Info, $($t)+) }; }
/// A structured log at level `warn`; see [`logger_log!`](crate::logger_log).
#[macro_export]
macro_rules! logger_warn { ($($t:tt)+) => { $crate::logger_log!($crate::logs::LogLevel::Warn, $($t)+) }; }
/// A structured log at level `error`; see [`logger_log!`](crate::logger_log).
#[macro_export]
macro_rules! logger_error { ($($t:tt)+) => { $crate::logger_log!($crate::logs::LogLevel::Error, $($t)+) }; }
/// A structured log at level `fatal`; see [`logger_log!`](crate::logger_log).
#[macro_export]
macro_rules! logger_fatal { ($($t:tt)+) => { $crate::logger_log!($crate::logs::LogLevel::Fatal, $($t)+) }; }

#[cfg(all(test, feature = "test"))]
mod tests {
    use super::*;
    use crate::test::with_captured_envelopes_options;
    use crate::ClientOptions;

    #[test]
    fn logs_carry_template_parameters_attributes_and_defaults() {
        let options = ClientOptions::new().enable_logs(true).release("r@1");
        let envelopes = with_captured_envelopes_options(options, || {
            crate::logger_warn!(region = "eu", retries = 3, ok = true, ratio = 0.5; "upload of {} took {} ms", "a.png", 1200);
            crate::logger_info!("plain");
        });
        // The test transport builds at once: one envelope per log.
        assert_eq!(envelopes.len(), 2);
        let item = &envelopes[0].items()[0];
        assert_eq!(item.item_type(), "log");
        assert_eq!(item.headers()["item_count"], 1);
        assert_eq!(
            item.headers()["content_type"],
            "application/vnd.sentry.items.log+json"
        );
        let log = &item.payload_json().unwrap()["items"][0];
        assert_eq!(log["level"], "warn");
        assert_eq!(log["severity_number"], 13);
        assert_eq!(log["body"], "upload of a.png took 1200 ms");
        assert_eq!(log["trace_id"].as_str().unwrap().len(), 32);
        let a = &log["attributes"];
        assert_eq!(
            a["sentry.message.template"]["value"],
            "upload of {} took {} ms"
        );
        assert_eq!(a["sentry.message.parameter.0"]["value"], "a.png");
        assert_eq!(a["sentry.message.parameter.1"]["value"], "1200");
        assert_eq!(a["region"], json!({"value": "eu", "type": "string"}));
        assert_eq!(a["retries"], json!({"value": 3, "type": "integer"}));
        assert_eq!(a["ok"], json!({"value": true, "type": "boolean"}));
        assert_eq!(a["ratio"], json!({"value": 0.5, "type": "double"}));
        assert_eq!(a["sentry.release"]["value"], "r@1");
        assert_eq!(a["sentry.sdk.name"]["value"], SDK_NAME);
        assert!(a.get("sentry.environment").is_some());
        let plain = &envelopes[1].items()[0].payload_json().unwrap()["items"][0];
        assert!(plain["attributes"].get("sentry.message.template").is_none());
    }

    #[test]
    fn logs_off_formats_nothing_and_before_send_log_can_drop() {
        struct Panics;
        impl fmt::Display for Panics {
            fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
                panic!("formatted although logs are off")
            }
        }
        let off = with_captured_envelopes_options(ClientOptions::new(), || {
            crate::logger_info!("{}", Panics);
        });
        assert!(off.is_empty());
        let options = ClientOptions::new()
            .enable_logs(true)
            .before_send_log(|log| (log.body != "secret").then_some(log));
        let kept = with_captured_envelopes_options(options, || {
            crate::logger_info!("secret");
            crate::logger_info!("public");
        });
        assert_eq!(kept.len(), 1);
        assert!(u64::MAX > i64::MAX as u64 && LogAttribute::from(u64::MAX).0.is_string());
        let big = serde_json::to_value(LogAttribute(json!(u64::MAX))).unwrap();
        assert_eq!(
            big,
            json!({"value": u64::MAX.to_string(), "type": "string"})
        );
    }

    #[test]
    fn macro_arguments_are_evaluated_once() {
        let options = ClientOptions::new().enable_logs(true);
        let mut calls = 0;
        let mut next = || {
            calls += 1;
            calls
        };
        let envelopes = with_captured_envelopes_options(options, || {
            crate::logger_info!(batch = 7; "got {} and {:?}", next(), "x");
        });
        assert_eq!(calls, 1, "each argument is evaluated once");
        let log = &envelopes[0].items()[0].payload_json().unwrap()["items"][0];
        assert_eq!(log["body"], "got 1 and \"x\"");
        assert_eq!(
            log["attributes"]["sentry.message.parameter.0"]["value"],
            "1"
        );
        assert_eq!(log["attributes"]["batch"]["value"], 7);
    }
}
