//! What a `log` record or a `tracing` event becomes, shared by both integrations: the mapping
//! type, the cheap "is anyone listening" check, and the dispatch into breadcrumb, event and
//! structured log (each built once, moving rather than copying what the last one needs).

use std::borrow::Cow;
use std::sync::Arc;
use std::time::SystemTime;

use sentry_sdk_core::logs::{Log, LogAttribute, LogLevel};
use sentry_sdk_core::protocol::{Breadcrumb, Event, Level, Map, Value};
use sentry_sdk_core::Client;

/// What a `log` record or a `tracing` event becomes; more than one may be set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecordMapping {
    /// A breadcrumb in the isolation scope.
    pub breadcrumb: bool,
    /// An event (with the capture site's stack).
    pub event: bool,
    /// A structured log (when logs are enabled).
    pub log: bool,
}

impl RecordMapping {
    /// Nothing.
    pub const IGNORE: RecordMapping = RecordMapping {
        breadcrumb: false,
        event: false,
        log: false,
    };

    fn is_nothing(self) -> bool {
        !(self.breadcrumb || self.event || self.log)
    }
}

/// Captures one record: `mapping` says what it becomes, `build` formats it. Neither runs
/// when no client is bound, on the SDK's own thread, or inside an SDK callback, and `build`
/// does not run when nothing is wanted. The client is borrowed, not cloned, for the record.
#[inline]
pub(crate) fn capture(mapping: impl FnOnce() -> RecordMapping, build: impl FnOnce() -> Captured) {
    if !sentry_sdk_core::is_active() || sentry_sdk_core::__private::is_sdk_thread() {
        return;
    }
    let mut mapping = mapping();
    if mapping.is_nothing() {
        return;
    }
    sentry_sdk_core::with_current_client(|client| {
        mapping.log &= client.options().settings().enable_logs;
        if !mapping.is_nothing() {
            dispatch(client, mapping, build());
        }
    });
}

/// A field or key-value of type `f64` as a JSON value: a number when finite, else its text
/// (`NaN`, `inf`, `-inf`), which JSON cannot carry as a number (`Value::from` would make it
/// `null`). The log attribute is then of type `string`.
pub(crate) fn double(v: f64) -> Value {
    serde_json::Number::from_f64(v).map_or_else(|| Value::String(v.to_string()), Value::Number)
}

/// One record, formatted.
pub(crate) struct Captured {
    pub(crate) level: LogLevel,
    /// The log target / tracing target: breadcrumb category, event logger, `logger.name`.
    /// Borrowed for the `'static` targets `tracing` and the `log` macros give, so the
    /// breadcrumb does not copy it.
    pub(crate) target: Cow<'static, str>,
    pub(crate) message: String,
    pub(crate) data: Map<Value>,
    /// An event already holding an exception chain (a `tracing` `error` field); boxed so
    /// that a record without one is small to move.
    pub(crate) error: Option<Box<Event>>,
    /// `sentry.origin` of the structured log (`auto.log.log`, `auto.log.tracing`).
    pub(crate) origin: &'static str,
}

fn dispatch(client: &Arc<Client>, wanted: RecordMapping, c: Captured) {
    let Captured {
        level,
        target,
        mut message,
        mut data,
        error,
        origin,
    } = c;
    if wanted.breadcrumb && !wanted.event && !wanted.log {
        // The usual `info`/`warn` record: the breadcrumb takes everything, nothing is left
        // to drop.
        if let Some(unused) = error {
            drop(unused);
        }
        client.add_breadcrumb_with(move || breadcrumb(level, target, message, data));
        return;
    }
    // The last consumer takes the values; earlier ones copy only what a later one needs.
    if wanted.breadcrumb {
        let later = wanted.event || wanted.log;
        let (m, d) = if later {
            (message.clone(), data.clone())
        } else {
            (std::mem::take(&mut message), std::mem::take(&mut data))
        };
        client.add_breadcrumb_with(|| breadcrumb(level, target.clone(), m, d));
    }
    if wanted.event {
        let (m, d) = if wanted.log {
            (message.clone(), data.clone())
        } else {
            (std::mem::take(&mut message), std::mem::take(&mut data))
        };
        let mut event = error.map(|e| *e).unwrap_or_default();
        event.level = sentry_level(level);
        event.logger = Some(target.clone().into_owned());
        if !m.is_empty() {
            event.message = Some(m);
        }
        event.extra = d;
        sentry_sdk_core::capture_event_with_stack(event);
    }
    if wanted.log {
        let mut log = Log::new(level, message);
        for (k, v) in data {
            log.attributes.insert(k, LogAttribute(v));
        }
        log.attributes
            .insert("sentry.origin".into(), LogAttribute::from(origin));
        log.attributes
            .insert("logger.name".into(), LogAttribute::from(&*target));
        client.capture_log(log);
    }
}

/// The breadcrumb of a record. Every field spelled out: `..Default::default()` would build
/// (and drop) a default.
#[inline]
fn breadcrumb(
    level: LogLevel,
    target: Cow<'static, str>,
    message: String,
    data: Map<Value>,
) -> Breadcrumb {
    Breadcrumb {
        timestamp: SystemTime::now(),
        ty: Cow::Borrowed("log"),
        category: Some(target),
        level: sentry_level(level),
        message: Some(message),
        data,
    }
}

fn sentry_level(level: LogLevel) -> Level {
    match level {
        LogLevel::Fatal => Level::Fatal,
        LogLevel::Error => Level::Error,
        LogLevel::Warn => Level::Warning,
        LogLevel::Info => Level::Info,
        LogLevel::Debug | LogLevel::Trace => Level::Debug,
    }
}
