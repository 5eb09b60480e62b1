//! The `log` integration (feature `log`): every `log` record can become a breadcrumb, an
//! event or a structured log, while the program's own logger still gets every record.
//!
//! ```no_run
//! // Wrap the logger you already use (env_logger, fern, simplelog, ...):
//! # struct MyLogger;
//! # impl log::Log for MyLogger {
//! #     fn enabled(&self, _: &log::Metadata) -> bool { true }
//! #     fn log(&self, _: &log::Record) {}
//! #     fn flush(&self) {}
//! # }
//! let logger = sentry_sdk_integrations::log::SentryLogger::with_dest(MyLogger);
//! log::set_boxed_logger(Box::new(logger)).unwrap();
//! log::set_max_level(log::LevelFilter::Info);
//! ```
//! When another framework owns `log::set_logger`, hand it records with
//! [`capture_record`] instead.
//!
//! Default mapping ([`default_mapping`]): `error` -> event, `warn`/`info` -> breadcrumb,
//! `debug`/`trace` -> nothing; every record at or above `info` also becomes a structured log
//! when the client has `enable_logs(true)`. Key-values go into breadcrumb `data`, event
//! `extra` and log attributes, keeping their type (booleans, integers, floats; a `u64` beyond
//! `i64::MAX` and a non-finite float become strings); the target is the breadcrumb category
//! and the event's logger. [`SentryLogger::mapping`] takes your own rule as a closure, as the
//! `tracing` layer's `event_filter` does.
//!
//! Cost: with no client bound, or for a record nothing keeps, nothing is formatted or
//! allocated. Records made on the SDK's own thread (reqwest, hyper, tokio while sending) are
//! never captured.

use std::borrow::Cow;
use std::sync::Arc;

use log::{Level, LevelFilter, Metadata, Record};
use sentry_sdk_core::logs::LogLevel;
use sentry_sdk_core::protocol::{Map, Value};

pub use crate::record::RecordMapping;
use crate::record::{self, Captured};

/// The default mapping: `error` -> event, `warn`/`info` -> breadcrumb, `debug`/`trace` ->
/// nothing; `info` and above also -> structured log.
pub fn default_mapping(metadata: &Metadata<'_>) -> RecordMapping {
    let level = metadata.level();
    RecordMapping {
        breadcrumb: matches!(level, Level::Warn | Level::Info),
        event: level == Level::Error,
        log: level <= Level::Info,
    }
}

type Mapper = Arc<dyn Fn(&Metadata<'_>) -> RecordMapping + Send + Sync>;

/// A `log::Log` that passes every record to `dest` and captures it for Sentry.
pub struct SentryLogger<L> {
    dest: L,
    mapping: Mapper,
    /// The most verbose level the mapping keeps, for `enabled`.
    max_level: LevelFilter,
}

/// A logger that discards everything: `SentryLogger::new()` wraps it.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoopLogger;

impl log::Log for NoopLogger {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        false
    }
    fn log(&self, _: &Record<'_>) {}
    fn flush(&self) {}
}

impl SentryLogger<NoopLogger> {
    /// A logger that only captures for Sentry.
    pub fn new() -> Self {
        SentryLogger::with_dest(NoopLogger)
    }
}

impl Default for SentryLogger<NoopLogger> {
    fn default() -> Self {
        SentryLogger::new()
    }
}

impl<L: log::Log> SentryLogger<L> {
    /// Wraps `dest`: it keeps receiving every record.
    pub fn with_dest(dest: L) -> Self {
        SentryLogger {
            dest,
            mapping: Arc::new(default_mapping),
            max_level: LevelFilter::Info,
        }
    }

    /// Replaces the mapping. `max_level` is the most verbose level it keeps anything for.
    #[must_use]
    pub fn mapping(
        mut self,
        max_level: LevelFilter,
        mapping: impl Fn(&Metadata<'_>) -> RecordMapping + Send + Sync + 'static,
    ) -> Self {
        self.mapping = Arc::new(mapping);
        self.max_level = max_level;
        self
    }
}

impl<L: log::Log> log::Log for SentryLogger<L> {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= self.max_level || self.dest.enabled(metadata)
    }

    fn log(&self, record: &Record<'_>) {
        // The SDK's own threads (reqwest's `log` records among them) are the SDK's noise:
        // your logger sees them only with `debug(true)`. (`tracing` subscribers are kept
        // quiet on those threads by the transport itself.)
        let own_noise = sentry_sdk_core::__private::is_sdk_thread()
            && !sentry_sdk_core::__private::debug_enabled();
        if !own_noise && self.dest.enabled(record.metadata()) {
            self.dest.log(record);
        }
        if record.level() <= self.max_level {
            capture_with(record, &*self.mapping);
        }
    }

    fn flush(&self) {
        self.dest.flush();
    }
}

impl<L: std::fmt::Debug> std::fmt::Debug for SentryLogger<L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SentryLogger")
            .field("dest", &self.dest)
            .field("max_level", &self.max_level)
            .finish()
    }
}

/// Captures one record with the default mapping: for programs whose logger is owned by
/// another framework (call it from that framework's hook).
pub fn capture_record(record: &Record<'_>) {
    capture_with(record, &default_mapping);
}

fn capture_with(record: &Record<'_>, mapping: &dyn Fn(&Metadata<'_>) -> RecordMapping) {
    record::capture(
        || mapping(record.metadata()),
        || Captured {
            level: log_level(record.level()),
            target: static_target(record),
            message: record.args().to_string(),
            data: key_values(record),
            error: None,
            origin: "auto.log.log",
        },
    );
}

/// The record's target without a copy when it is the `'static` module path (what the `log`
/// macros set unless `target:` is given); otherwise an owned copy.
fn static_target(record: &Record<'_>) -> Cow<'static, str> {
    let target = record.target();
    match record.module_path_static() {
        // The macros pass the same literal twice: usually the very same pointer.
        Some(module) if std::ptr::eq(module, target) || module == target => Cow::Borrowed(module),
        _ => Cow::Owned(target.to_owned()),
    }
}

fn key_values(record: &Record<'_>) -> Map<Value> {
    struct Collect(Map<Value>);
    impl<'kvs> log::kv::VisitSource<'kvs> for Collect {
        fn visit_pair(
            &mut self,
            key: log::kv::Key<'kvs>,
            value: log::kv::Value<'kvs>,
        ) -> Result<(), log::kv::Error> {
            let v = if let Some(b) = value.to_bool() {
                Value::Bool(b)
            } else if let Some(i) = value.to_i64() {
                Value::from(i)
            } else if let Some(u) = value.to_u64() {
                Value::from(u) // beyond i64: sent as a string attribute, never as a double
            } else if let Some(f) = value.to_f64() {
                record::double(f)
            } else {
                Value::String(value.to_string())
            };
            self.0.insert(key.as_str().to_owned(), v);
            Ok(())
        }
    }
    let source = record.key_values();
    if source.count() == 0 {
        return Map::new(); // the usual record: no visitor, nothing moved
    }
    let mut c = Collect(Map::new());
    let _ = source.visit(&mut c);
    c.0
}

fn log_level(level: Level) -> LogLevel {
    match level {
        Level::Error => LogLevel::Error,
        Level::Warn => LogLevel::Warn,
        Level::Info => LogLevel::Info,
        Level::Debug => LogLevel::Debug,
        Level::Trace => LogLevel::Trace,
    }
}
