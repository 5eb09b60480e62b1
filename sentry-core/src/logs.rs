//! Structured logs: Sentry's logs product (PROTOCOL.md §6).
//!
//! With `enable_logs(true)`, [`logger_info!`](crate::logger_info) and its siblings (and the
//! `log`/`tracing` integrations) send [`Log`]s. The caller formats the body and hands the log
//! over with the scope's user; the worker adds the default attributes, runs `before_send_log`
//! and batches up to 100 logs per envelope (sent at 100, after 5 s, and at `flush`/`close`).
//! With no client or logs off, the macros format nothing.
//!
//! Default attributes (an attribute the log already has is kept): `sentry.environment`,
//! `sentry.release`, `sentry.sdk.name`, `sentry.sdk.version`, `sentry.severity_number`,
//! `sentry.severity_text`, `server.address`, `os.name` / `os.version` (from the `os` static
//! context, so only with the contexts integration), and `user.id` / `user.name` /
//! `user.email` from the scope's user. That user was set explicitly by the program, so it is
//! sent whatever `send_default_pii` says.
//!
//! Format arguments of the primitive types (integers, floats, `bool`) become typed
//! `sentry.message.parameter.N` attributes (`integer`, `double`, `boolean`); a `u64` beyond
//! `i64::MAX` and a non-finite float become strings; anything else is its `Display` text.

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
                // Outside any span: the isolation scope's trace (a request's, or the
                // process's), so that its logs and errors line up in one trace.
                // (Its id only: the whole propagation context is not copied per log.)
                None => {
                    log.trace_id = Some(
                        crate::scope::stack::isolation_trace_id()
                            .unwrap_or_else(crate::protocol::TraceId::random),
                    )
                }
            }
        }
        // The caller only takes the scope's user (an `Arc` clone); turning it into attributes
        // is left to the worker with the other defaults.
        let user = crate::scope::stack::user();
        let size_hint = 256 + log.body.len() + log.attributes.len() * 48;
        let context = self.build_context().clone();
        self.send(Outgoing::log(size_hint, move || {
            log_item(&context, log, user.as_deref())
        }));
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
            ::std::vec![$($crate::__logger_param!($bound)),*],
            ::std::vec![$($attrs)*],
        )
    };
}

/// One format argument as a `sentry.message.parameter.N` attribute: typed (integer, double,
/// boolean) for the primitive types, else its `Display` text.
///
/// Autoref specialisation: [`__TypedParam`] is implemented for `__Param<i64>` and friends and
/// is found first, at the receiver's own type; [`__DisplayParam`] is implemented for
/// `&__Param<T>` and is found only one auto-reference later, for every other `T: Display`.
#[doc(hidden)]
#[macro_export]
macro_rules! __logger_param {
    ($bound:ident) => {{
        #[allow(unused_imports)]
        use $crate::logs::{__DisplayParam as _, __TypedParam as _};
        (&$crate::logs::__Param($bound)).__log_attribute()
    }};
}

/// A format argument of a `logger_*!` call, borrowed; see `__logger_param!`.
#[doc(hidden)]
#[derive(Debug)]
pub struct __Param<'a, T>(pub &'a T);

/// The typed conversion of a primitive format argument; see `__logger_param!`.
#[doc(hidden)]
pub trait __TypedParam {
    /// The argument as a typed attribute.
    fn __log_attribute(&self) -> LogAttribute;
}

/// The `Display` conversion of any other format argument; see `__logger_param!`.
#[doc(hidden)]
pub trait __DisplayParam {
    /// The argument's `Display` text as a string attribute.
    fn __log_attribute(&self) -> LogAttribute;
}

impl<T: std::fmt::Display> __DisplayParam for &__Param<'_, T> {
    fn __log_attribute(&self) -> LogAttribute {
        LogAttribute::from_display(self.0)
    }
}

macro_rules! typed_params {
    ($($t:ty),* $(,)?) => {
        $(
            impl __TypedParam for __Param<'_, $t> {
                fn __log_attribute(&self) -> LogAttribute {
                    LogAttribute::from(*self.0)
                }
            }
            // An argument passed by reference (`logger_info!("{}", &n)`).
            impl __TypedParam for __Param<'_, &$t> {
                fn __log_attribute(&self) -> LogAttribute {
                    LogAttribute::from(**self.0)
                }
            }
        )*
    };
}

typed_params!(bool, i8, i16, i32, i64, isize, u8, u16, u32, u64, usize, f32, f64);

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
        // Severity as attributes (Relay's schema, the Python SDK); no top-level number.
        assert!(log.get("severity_number").is_none(), "{log}");
        assert_eq!(
            log["attributes"]["sentry.severity_number"],
            json!({"value": 13, "type": "integer"})
        );
        assert_eq!(
            log["attributes"]["sentry.severity_text"],
            json!({"value": "warn", "type": "string"})
        );
        assert_eq!(log["body"], "upload of a.png took 1200 ms");
        assert_eq!(log["trace_id"].as_str().unwrap().len(), 32);
        let a = &log["attributes"];
        assert_eq!(
            a["sentry.message.template"]["value"],
            "upload of {} took {} ms"
        );
        assert_eq!(
            a["sentry.message.parameter.0"],
            json!({"value": "a.png", "type": "string"})
        );
        assert_eq!(
            a["sentry.message.parameter.1"],
            json!({"value": 1200, "type": "integer"})
        );
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
    fn format_arguments_keep_their_type() {
        let options = ClientOptions::new().enable_logs(true);
        let (n, big, ratio, ok, name) = (-7_i64, u64::MAX, 0.25_f32, true, String::from("x"));
        let envelopes = with_captured_envelopes_options(options, || {
            crate::logger_info!(
                "{} {} {} {} {} {} {} {} {}",
                n,
                42_u64,
                big,
                ratio,
                ok,
                name,
                &n,
                f64::NAN,
                f64::NEG_INFINITY
            );
        });
        let log = &envelopes[0].items()[0].payload_json().unwrap()["items"][0];
        let p = |i: usize| log["attributes"][format!("sentry.message.parameter.{i}")].clone();
        assert_eq!(p(0), json!({"value": -7, "type": "integer"}));
        assert_eq!(p(1), json!({"value": 42, "type": "integer"}));
        assert_eq!(
            p(2),
            json!({"value": u64::MAX.to_string(), "type": "string"}),
            "beyond i64: a string, never a lossy double"
        );
        assert_eq!(p(3), json!({"value": 0.25, "type": "double"}));
        assert_eq!(p(4), json!({"value": true, "type": "boolean"}));
        assert_eq!(p(5), json!({"value": "x", "type": "string"}));
        assert_eq!(
            p(6),
            json!({"value": -7, "type": "integer"}),
            "by reference"
        );
        // Non-finite doubles: their text, as strings (JSON has no number for them).
        assert_eq!(p(7), json!({"value": "NaN", "type": "string"}));
        assert_eq!(p(8), json!({"value": "-inf", "type": "string"}));
        assert_eq!(
            log["body"],
            "-7 42 18446744073709551615 0.25 true x -7 NaN -inf"
        );
    }

    #[test]
    fn logs_carry_the_scope_user_and_the_os_context() {
        struct Os(crate::protocol::Map<crate::protocol::Value>);
        impl crate::Integration for Os {
            fn name(&self) -> &'static str {
                "os-test"
            }
            fn static_contexts(&self) -> Option<&crate::protocol::Map<crate::protocol::Value>> {
                Some(&self.0)
            }
        }
        let mut contexts = crate::protocol::Map::new();
        contexts.insert(
            "os".into(),
            json!({"type": "os", "name": "Linux", "version": "6.1.0"}),
        );
        let options = ClientOptions::new()
            .enable_logs(true)
            .add_integration(Os(contexts));
        let envelopes = with_captured_envelopes_options(options, || {
            crate::set_user(Some(crate::protocol::User {
                id: Some("u-1".into()),
                email: Some("a@example.com".into()),
                username: Some("ada".into()),
                ..Default::default()
            }));
            crate::logger_info!("signed in");
            crate::logger_info!(user.id = "mine"; "own attribute wins");
        });
        let attrs = |n: usize| {
            envelopes[n].items()[0].payload_json().unwrap()["items"][0]["attributes"].clone()
        };
        let a = attrs(0);
        assert_eq!(a["user.id"], json!({"value": "u-1", "type": "string"}));
        assert_eq!(a["user.name"]["value"], "ada");
        assert_eq!(a["user.email"]["value"], "a@example.com");
        assert_eq!(a["os.name"], json!({"value": "Linux", "type": "string"}));
        assert_eq!(a["os.version"]["value"], "6.1.0");
        assert_eq!(attrs(1)["user.id"]["value"], "mine");

        // No user set, no contexts integration: none of these attributes.
        let bare = with_captured_envelopes_options(ClientOptions::new().enable_logs(true), || {
            crate::logger_info!("anonymous");
        });
        let a = &bare[0].items()[0].payload_json().unwrap()["items"][0]["attributes"];
        for key in [
            "user.id",
            "user.name",
            "user.email",
            "os.name",
            "os.version",
        ] {
            assert!(a.get(key).is_none(), "{key} in {a}");
        }
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
            log["attributes"]["sentry.message.parameter.0"],
            json!({"value": 1, "type": "integer"})
        );
        assert_eq!(log["attributes"]["batch"]["value"], 7);
    }
}
