//! Structured logs: Sentry's logs product (PROTOCOL.md §6).
//!
//! With `enable_logs(true)`, [`logger_info!`](crate::logger_info) and its siblings (and the
//! `log`/`tracing` integrations) send [`Log`]s. The caller formats the body and hands the log
//! over; the worker adds the default attributes, runs `before_send_log` and batches up to 100
//! logs per envelope (sent at 100, after 5 s, and at `flush`/`close`). With no client or logs
//! off, the macros format nothing.

use std::sync::Arc;

use sentry_sdk_transport::Outgoing;

pub use crate::protocol::{Log, LogAttribute, LogLevel};

use crate::client::Client;
use crate::payload::log_item;
use crate::{binding, callback, performance};

/// Whether a log sent now would be kept: a client is bound with `enable_logs(true)`. The
/// macros check this before formatting anything.
#[inline]
pub fn logs_enabled() -> bool {
    binding::is_active()
        && !callback::is_inside()
        && binding::with_current_client(|c| c.options().settings().enable_logs) == Some(true)
}

/// Sends a structured log (if logs are enabled).
pub fn capture_log(log: Log) {
    binding::with_current_client(|client| client.capture_log(log));
}

impl Client {
    /// Sends a structured log through this client if it has `enable_logs(true)` (what
    /// [`capture_log`] does once it has found the client).
    pub fn capture_log(self: &Arc<Self>, mut log: Log) {
        if callback::is_inside() || !self.options().settings().enable_logs || self.is_closed() {
            return;
        }
        if log.trace_id.is_none() {
            match performance::current_span().and_then(|s| s.ids()) {
                Some((trace, span)) => {
                    log.trace_id = Some(trace);
                    log.span_id = Some(span);
                }
                None => log.trace_id = Some(self.propagation_trace_id()),
            }
        }
        let size_hint = 256 + log.body.len() + log.attributes.len() * 48;
        let context = self.build_context().clone();
        self.send(Outgoing::log(size_hint, move || log_item(&context, log)));
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
    use std::fmt;

    use serde_json::json;

    use super::*;
    use crate::sdk::SDK_NAME;
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
