//! One structured log item, on the worker: the default attributes, `before_send_log`, and its
//! JSON (batched into `log` envelopes by the transport).

use sentry_sdk_transport::{DataCategory, DiscardReason};
use serde_json::{json, Value};

use super::BuildContext;
use crate::protocol::{Log, LogAttribute, User};
use crate::sdk::{SDK_NAME, SDK_VERSION};

/// The serialised item of `log`, with the defaults and `user` (the scope's, taken by the
/// caller) added where the log has no attribute of that name; `None` when `before_send_log`
/// dropped it or it could not be serialised (counted either way).
pub(crate) fn log_item(ctx: &BuildContext, mut log: Log, user: Option<&User>) -> Option<Vec<u8>> {
    let settings = ctx.options().settings();
    let severity = [
        ("sentry.severity_number", json!(log.level.severity_number())),
        ("sentry.severity_text", json!(log.level.as_str())),
    ];
    let user_attributes = user.into_iter().flat_map(|u| {
        [
            ("user.id", &u.id),
            ("user.name", &u.username),
            ("user.email", &u.email),
        ]
        .into_iter()
        .filter_map(|(key, value)| Some((key, Value::String(value.clone()?))))
    });
    let fixed = ctx.log_defaults.iter().map(|(k, v)| (*k, v.clone()));
    for (key, value) in severity.into_iter().chain(user_attributes).chain(fixed) {
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

/// The default attributes that are the same for every log of a client, computed once:
/// environment, release, SDK, server address, and the OS name and version from the `os`
/// static context (given by the contexts integration; core cannot ask it directly).
pub(super) fn fixed_defaults(
    ctx_server_name: Option<&str>,
    options: &crate::ClientOptions,
    static_contexts: &[(String, Value, Vec<u8>)],
) -> Vec<(&'static str, Value)> {
    let settings = options.settings();
    let mut defaults: Vec<(&'static str, Value)> = vec![
        ("sentry.environment", json!(settings.environment)),
        ("sentry.sdk.name", json!(SDK_NAME)),
        ("sentry.sdk.version", json!(SDK_VERSION)),
    ];
    if let Some(release) = &settings.release {
        defaults.push(("sentry.release", json!(release)));
    }
    if let Some(server) = ctx_server_name {
        defaults.push(("server.address", json!(server)));
    }
    if let Some((_, os, _)) = static_contexts.iter().find(|(name, _, _)| name == "os") {
        for (key, field) in [("os.name", "name"), ("os.version", "version")] {
            if let Some(value) = os.get(field).and_then(Value::as_str) {
                defaults.push((key, json!(value)));
            }
        }
    }
    defaults
}
