//! What a `log` record or a `tracing` event becomes, shared by both integrations: the mapping
//! type, the cheap "is anyone listening" check, and the dispatch into breadcrumb, event and
//! structured log (each built once, moving rather than copying what the last one needs).

use std::sync::Arc;

use sentry_core::logs::{Log, LogAttribute, LogLevel};
use sentry_core::protocol::{Breadcrumb, Event, Level, Map, Value};
use sentry_core::Client;

/// What a record becomes; more than one may be set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventMapping {
    /// A breadcrumb in the isolation scope.
    pub breadcrumb: bool,
    /// An event (with the capture site's stack).
    pub event: bool,
    /// A structured log (when logs are enabled).
    pub log: bool,
}

impl EventMapping {
    /// Nothing.
    pub const IGNORE: EventMapping = EventMapping {
        breadcrumb: false,
        event: false,
        log: false,
    };

    fn is_nothing(self) -> bool {
        !(self.breadcrumb || self.event || self.log)
    }
}

/// `mapping` narrowed to what can be kept now, with the client that keeps it; `None` (before
/// anything is formatted) when no client is bound, on the SDK's own thread, inside an SDK
/// callback, or when nothing is wanted. The client is looked up once per record.
#[inline]
pub(crate) fn wanted(
    mapping: impl FnOnce() -> EventMapping,
) -> Option<(EventMapping, Arc<Client>)> {
    if !sentry_core::is_active() || sentry_core::transport::is_sdk_thread() {
        return None;
    }
    let mut wanted = mapping();
    if wanted.is_nothing() {
        return None;
    }
    let client = sentry_core::current_client()?;
    wanted.log &= client.options().get_enable_logs();
    (!wanted.is_nothing()).then_some((wanted, client))
}

/// One record, formatted.
pub(crate) struct Captured<'a> {
    pub(crate) level: LogLevel,
    pub(crate) target: &'a str,
    pub(crate) message: String,
    pub(crate) data: Map<Value>,
    /// An event already holding an exception chain (a `tracing` `error` field).
    pub(crate) error: Option<Event>,
    /// `sentry.origin` of the structured log (`auto.log.log`, `auto.log.tracing`).
    pub(crate) origin: &'static str,
}

pub(crate) fn dispatch((wanted, client): (EventMapping, Arc<Client>), c: Captured<'_>) {
    let Captured {
        level,
        target,
        mut message,
        mut data,
        error,
        origin,
    } = c;
    // The last consumer takes the values; earlier ones copy only what a later one needs.
    if wanted.breadcrumb {
        let later = wanted.event || wanted.log;
        let (m, d) = if later {
            (message.clone(), data.clone())
        } else {
            (std::mem::take(&mut message), std::mem::take(&mut data))
        };
        client.add_breadcrumb(Breadcrumb {
            ty: "log".into(),
            category: Some(target.to_owned()),
            level: sentry_level(level),
            message: Some(m),
            data: d,
            ..Default::default()
        });
    }
    if wanted.event {
        let (m, d) = if wanted.log {
            (message.clone(), data.clone())
        } else {
            (std::mem::take(&mut message), std::mem::take(&mut data))
        };
        let mut event = error.unwrap_or_default();
        event.level = sentry_level(level);
        event.logger = Some(target.to_owned());
        if !m.is_empty() {
            event.message = Some(m);
        }
        event.extra = d;
        sentry_core::capture_event_with_stack(event);
    }
    if wanted.log {
        let mut log = Log::new(level, message);
        for (k, v) in data {
            log.attributes.insert(k, LogAttribute(v));
        }
        log.attributes
            .insert("sentry.origin".into(), LogAttribute::from(origin));
        log.attributes
            .insert("logger.name".into(), LogAttribute::from(target));
        client.capture_log(log);
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
