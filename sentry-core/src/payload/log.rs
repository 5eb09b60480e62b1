//! One structured log item, on the worker: the default attributes, `before_send_log`, and its
//! JSON (batched into `log` envelopes by the transport).

use sentry_sdk_transport::{DataCategory, DiscardReason};
use serde_json::{json, Value};

use super::BuildContext;
use crate::protocol::{Log, LogAttribute};
use crate::sdk::{SDK_NAME, SDK_VERSION};

/// The serialised item of `log`; `None` when `before_send_log` dropped it or it could not be
/// serialised (counted either way).
pub(crate) fn log_item(ctx: &BuildContext, mut log: Log) -> Option<Vec<u8>> {
    let settings = ctx.options().settings();
    let mut defaults: Vec<(&str, Value)> = vec![
        ("sentry.environment", json!(settings.environment)),
        ("sentry.sdk.name", json!(SDK_NAME)),
        ("sentry.sdk.version", json!(SDK_VERSION)),
    ];
    if let Some(release) = &settings.release {
        defaults.push(("sentry.release", json!(release)));
    }
    if let Some(server) = &ctx.server_name {
        defaults.push(("server.address", json!(server)));
    }
    for (key, value) in defaults {
        log.attributes
            .entry(key.to_owned())
            .or_insert(LogAttribute(value));
    }
    if let Some(hook) = &settings.before_send_log {
        log = ctx.before_send("before_send_log", hook, log, DataCategory::LogItem)?;
    }
    match serde_json::to_vec(&log) {
        Ok(bytes) => Some(bytes),
        Err(_) => ctx.dropped(
            DiscardReason::InternalSdkError,
            DataCategory::LogItem,
            "serialisation",
        ),
    }
}
