//! The "full scope" both SDKs get in the side-by-side benches: 100 breadcrumbs, 10 tags, a
//! user and 3 contexts, set through each SDK's public API.

/// Ours, in the isolation scope in force.
pub fn fill_ours() {
    use sentry_sdk::protocol::{Breadcrumb, User};
    for i in 0..100 {
        sentry_sdk::add_breadcrumb(Breadcrumb {
            message: Some(format!("breadcrumb {i}")),
            category: Some("bench".into()),
            ..Default::default()
        });
    }
    for i in 0..10 {
        sentry_sdk::set_tag(&format!("tag{i}"), i);
    }
    sentry_sdk::set_user(Some(User {
        id: Some("42".into()),
        email: Some("a@example.invalid".into()),
        ..Default::default()
    }));
    for name in ["order", "cart", "feature"] {
        sentry_sdk::set_context(name, serde_json::json!({"id": 1, "name": name}));
    }
}

/// The official crate's, in the current hub's scope.
pub fn fill_official() {
    use sentry::protocol::{Breadcrumb, Map, User};
    for i in 0..100 {
        sentry::add_breadcrumb(Breadcrumb {
            message: Some(format!("breadcrumb {i}")),
            category: Some("bench".into()),
            ..Default::default()
        });
    }
    sentry::configure_scope(|scope| {
        for i in 0..10 {
            scope.set_tag(&format!("tag{i}"), i);
        }
        scope.set_user(Some(User {
            id: Some("42".into()),
            email: Some("a@example.invalid".into()),
            ..Default::default()
        }));
        for name in ["order", "cart", "feature"] {
            let mut map = Map::new();
            map.insert("id".into(), 1.into());
            map.insert("name".into(), name.into());
            scope.set_context(name, sentry::protocol::Context::Other(map));
        }
    });
}
