//! Structured-log attributes keep the type of what was logged (`integer`, `double`,
//! `boolean`, `string`) on the wire, from the `logger_*!` macros' format arguments, `log`
//! key-values and `tracing` fields alike; a `u64` beyond `i64::MAX` and a non-finite double
//! go as strings.

use serde_json::{json, Value};
use tracing_subscriber::prelude::*;

use crate::log_and_tracing_reach_sentry::install_logger;
use crate::support::*;
use sentry_sdk::integrations::tracing::SentryLayer;

/// Every log that reached `receiver`, by body.
fn logs_by_body(receiver: &Receiver) -> std::collections::HashMap<String, Value> {
    receiver
        .requests()
        .iter()
        .flat_map(|r| r.envelope().items().to_vec())
        .filter(|i| i.item_type() == "log")
        .filter_map(|i| i.payload_json())
        .flat_map(|c| c["items"].as_array().cloned().unwrap_or_default())
        .map(|l| (l["body"].as_str().unwrap_or_default().to_owned(), l))
        .collect()
}

#[test]
fn log_attributes_from_macros_log_and_tracing_keep_their_types() {
    install_logger();
    let _serial = serial();
    let receiver = Receiver::start();
    let guard = sentry_sdk::init(options(&receiver).enable_logs(true));
    sentry_sdk::logger_info!(
        "macro {} {} {} {} {}",
        42,
        u64::MAX,
        0.5,
        false,
        f64::INFINITY
    );
    log::info!(
        target: "e2e::types",
        count = 42, big = u64::MAX, ratio = 0.5, ok = true, nan = f64::NAN, name = "ada";
        "log kv"
    );
    let subscriber = tracing_subscriber::registry().with(SentryLayer::new());
    tracing::subscriber::with_default(subscriber, || {
        tracing::info!(
            count = 42_i64,
            unsigned = 7_u64,
            big = u64::MAX,
            ratio = 0.5,
            ok = true,
            nan = f64::NAN,
            name = "ada",
            "tracing fields"
        );
    });
    assert!(sentry_sdk::flush(WAIT));
    drop(guard);

    let logs = logs_by_body(&receiver);
    let integer = |v: i64| json!({"value": v, "type": "integer"});
    let string = |v: &str| json!({"value": v, "type": "string"});
    let double = json!({"value": 0.5, "type": "double"});
    let max = string(&u64::MAX.to_string());

    let m = &logs["macro 42 18446744073709551615 0.5 false inf"]["attributes"];
    let p = |i: usize| m[format!("sentry.message.parameter.{i}")].clone();
    assert_eq!(p(0), integer(42));
    assert_eq!(p(1), max);
    assert_eq!(p(2), double);
    assert_eq!(p(3), json!({"value": false, "type": "boolean"}));
    assert_eq!(p(4), string("inf"));

    for (body, a) in [
        ("log kv", &logs["log kv"]["attributes"]),
        ("tracing fields", &logs["tracing fields"]["attributes"]),
    ] {
        assert_eq!(a["count"], integer(42), "{body}: {a}");
        assert_eq!(a["big"], max, "{body}");
        assert_eq!(a["ratio"], double, "{body}");
        assert_eq!(a["ok"], json!({"value": true, "type": "boolean"}), "{body}");
        assert_eq!(a["nan"], string("NaN"), "{body}");
        assert_eq!(a["name"], string("ada"), "{body}");
    }
    assert_eq!(logs["tracing fields"]["attributes"]["unsigned"], integer(7));
}
