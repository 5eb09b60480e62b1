//! The scope as the program last sent it to the monitor: user, tags, contexts, extra and
//! breadcrumbs, as JSON, written by the program and applied to the monitor's scope.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};

use sentry_sdk_core::protocol::{Breadcrumb, Level, User};
use sentry_sdk_core::Scope;

/// The snapshot of the program's scopes: the global one, then the one `set_tag` and friends
/// write on this thread (the process-wide default isolation scope), with at most
/// `max_breadcrumbs` breadcrumbs each. Reading through `configure_*` edits nothing, so it
/// never overwrites what other threads write meanwhile.
pub(super) fn take(max_breadcrumbs: usize) -> Vec<u8> {
    let global = sentry_sdk_core::configure_global_scope(|scope| layer(scope, max_breadcrumbs));
    let isolation = sentry_sdk_core::configure_scope(|scope| layer(scope, max_breadcrumbs));
    json!({ "layers": [global, isolation] })
        .to_string()
        .into_bytes()
}

/// `scope` alone as a snapshot (tests).
#[cfg(test)]
fn encode(scope: &Scope, max_breadcrumbs: usize) -> Vec<u8> {
    json!({ "layers": [layer(scope, max_breadcrumbs)] })
        .to_string()
        .into_bytes()
}

/// One scope as JSON.
fn layer(scope: &Scope, max_breadcrumbs: usize) -> Value {
    let crumbs: Vec<Value> = scope
        .breadcrumbs(max_breadcrumbs)
        .iter()
        .map(|b| {
            let ms = sentry_sdk_core::__private::unix_millis(b.timestamp);
            json!({
                "ms": ms,
                "type": b.ty,
                "category": b.category,
                "level": b.level.as_str(),
                "message": b.message,
                "data": b.data,
            })
        })
        .collect();
    json!({
        "user": scope.user(),
        "tags": scope.tags(),
        "contexts": scope.contexts(),
        "extra": scope.extra(),
        "breadcrumbs": crumbs,
    })
}

/// The program's open application session (`SESSION_KIND` message), `null` when none.
pub(super) fn session() -> Vec<u8> {
    let session = sentry_sdk_core::current_client().and_then(|c| c.session_state());
    serde_json::to_vec(&session).unwrap_or_default()
}

/// The session a `SESSION_KIND` message carries, if one was open.
pub(super) fn session_from(bytes: &[u8]) -> Option<Value> {
    serde_json::from_slice::<Value>(bytes)
        .ok()
        .filter(Value::is_object)
}

/// Applies a snapshot to `scope` (the monitor's); what does not parse is left out.
pub(super) fn apply(bytes: &[u8], scope: &mut Scope) {
    let Ok(body) = serde_json::from_slice::<Value>(bytes) else {
        return;
    };
    scope.clear();
    let Some(Value::Array(layers)) = body.get("layers") else {
        return;
    };
    for layer in layers.iter().filter_map(Value::as_object) {
        apply_layer(layer, scope);
    }
}

/// One scope's values onto `scope`; later layers win.
fn apply_layer(body: &Map<String, Value>, scope: &mut Scope) {
    if let Some(Value::Object(user)) = body.get("user") {
        scope.set_user(Some(user_from(user)));
    }
    if let Some(Value::Object(tags)) = body.get("tags") {
        for (k, v) in tags {
            if let Some(v) = v.as_str() {
                scope.set_tag(k.clone(), v);
            }
        }
    }
    if let Some(Value::Object(contexts)) = body.get("contexts") {
        for (k, v) in contexts {
            scope.set_context(k.clone(), v);
        }
    }
    if let Some(Value::Object(extra)) = body.get("extra") {
        for (k, v) in extra {
            scope.set_extra(k.clone(), v);
        }
    }
    if let Some(Value::Array(crumbs)) = body.get("breadcrumbs") {
        for crumb in crumbs.iter().filter_map(Value::as_object) {
            scope.add_breadcrumb(breadcrumb_from(crumb));
        }
    }
}

fn text(map: &Map<String, Value>, key: &str) -> Option<String> {
    map.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn user_from(map: &Map<String, Value>) -> User {
    let mut user = User {
        id: text(map, "id"),
        email: text(map, "email"),
        ip_address: text(map, "ip_address"),
        username: text(map, "username"),
        ..Default::default()
    };
    if let Some(Value::Object(data)) = map.get("data") {
        for (k, v) in data {
            user.other.insert(k.clone(), v.clone());
        }
    }
    user
}

fn breadcrumb_from(map: &Map<String, Value>) -> Breadcrumb {
    let mut crumb = Breadcrumb::default();
    if let Some(ms) = map.get("ms").and_then(Value::as_u64) {
        crumb.timestamp = UNIX_EPOCH + Duration::from_millis(ms);
    } else {
        crumb.timestamp = SystemTime::now();
    }
    if let Some(ty) = text(map, "type") {
        crumb.ty = ty.into();
    }
    crumb.category = text(map, "category").map(Into::into);
    crumb.message = text(map, "message");
    crumb.level = match map.get("level").and_then(Value::as_str) {
        Some("debug") => Level::Debug,
        Some("warning") => Level::Warning,
        Some("error") => Level::Error,
        Some("fatal") => Level::Fatal,
        _ => Level::Info,
    };
    if let Some(Value::Object(data)) = map.get("data") {
        for (k, v) in data {
            crumb.data.insert(k.clone(), v.clone());
        }
    }
    crumb
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_round_trips() {
        let mut scope = Scope::new();
        scope.set_tag("shard", "7");
        scope.set_user(Some(User {
            id: Some("42".into()),
            ..Default::default()
        }));
        scope.set_context("gpu", json!({"name": "x"}));
        scope.add_breadcrumb(Breadcrumb {
            message: Some("loaded".into()),
            level: Level::Warning,
            ..Default::default()
        });
        let bytes = encode(&scope, 100);
        let mut other = Scope::new();
        apply(&bytes, &mut other);
        assert_eq!(other.tags().get("shard").map(String::as_str), Some("7"));
        assert_eq!(other.user().and_then(|u| u.id.as_deref()), Some("42"));
        assert!(other.contexts().contains_key("gpu"));
        let crumbs = other.breadcrumbs(10);
        assert_eq!(crumbs.len(), 1);
        assert_eq!(crumbs[0].message.as_deref(), Some("loaded"));
        assert_eq!(crumbs[0].level, Level::Warning);
    }
}
