//! Every structured log carries its severity as `sentry.severity_number` /
//! `sentry.severity_text` attributes (no top-level `severity_number`; `level` stays), the
//! scope's user as `user.id` / `user.name` / `user.email`, and the OS from the contexts
//! integration as `os.name` / `os.version`.

use serde_json::json;

use crate::support::*;
use sentry_sdk::integrations::ContextsIntegration;
use sentry_sdk::User;

#[test]
fn logs_carry_severity_the_scope_user_and_the_os() {
    let _serial = serial();
    let receiver = Receiver::start();
    let guard = sentry_sdk::init(
        options(&receiver)
            .enable_logs(true)
            .add_integration(ContextsIntegration::new()),
    );
    sentry_sdk::with_isolation_scope(|| {
        sentry_sdk::set_user(Some(User {
            id: Some("42".into()),
            username: Some("ada".into()),
            email: Some("ada@example.com".into()),
            ..Default::default()
        }));
        sentry_sdk::logger_error!("card declined");
    });
    sentry_sdk::logger_trace!("no user here");
    assert!(sentry_sdk::flush(WAIT));
    drop(guard);

    let logs: Vec<serde_json::Value> = receiver
        .requests()
        .iter()
        .flat_map(|r| r.envelope().items().to_vec())
        .filter(|i| i.item_type() == "log")
        .filter_map(|i| i.payload_json())
        .flat_map(|c| c["items"].as_array().cloned().unwrap_or_default())
        .collect();
    assert_eq!(logs.len(), 2, "{logs:#?}");
    let (declined, anonymous) = (&logs[0], &logs[1]);
    assert_eq!(declined["level"], "error");
    assert!(declined.get("severity_number").is_none(), "{declined}");
    let a = &declined["attributes"];
    assert_eq!(
        a["sentry.severity_number"],
        json!({"value": 17, "type": "integer"})
    );
    assert_eq!(
        a["sentry.severity_text"],
        json!({"value": "error", "type": "string"})
    );
    assert_eq!(a["user.id"], json!({"value": "42", "type": "string"}));
    assert_eq!(a["user.name"]["value"], "ada");
    assert_eq!(a["user.email"]["value"], "ada@example.com");
    let os = if cfg!(target_os = "linux") {
        "Linux"
    } else {
        a["os.name"]["value"].as_str().unwrap_or("missing")
    };
    assert_eq!(a["os.name"], json!({"value": os, "type": "string"}));
    if cfg!(target_os = "linux") {
        assert_eq!(a["os.version"]["type"], "string");
    }

    assert_eq!(anonymous["level"], "trace");
    let b = &anonymous["attributes"];
    assert_eq!(b["sentry.severity_number"]["value"], 1);
    assert_eq!(b["sentry.severity_text"]["value"], "trace");
    assert!(
        b.get("user.id").is_none(),
        "the user was set in another scope"
    );
    assert_eq!(b["os.name"], a["os.name"]);
}
