//! Trace metrics through the real HTTP transport: counters, gauges and distributions with
//! typed attributes, their trace (and span), the default attributes, `before_send_metric`,
//! batches of at most 100 per `trace_metric` envelope, a `trace_metric` rate limit and queue
//! overflow (both counted), and `enable_metrics(false)`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{json, Value};

use crate::support::*;
use sentry_sdk::metrics;
use sentry_sdk::performance::{start_transaction, TransactionContext};

/// Every `trace_metric` container item received: (item headers, payload).
fn containers(receiver: &Receiver) -> Vec<(Value, Value)> {
    receiver
        .requests()
        .iter()
        .flat_map(|r| r.envelope().items().to_vec())
        .filter(|i| i.item_type() == "trace_metric")
        .map(|i| {
            (
                Value::Object(i.headers().clone()),
                i.payload_json().expect("a JSON payload"),
            )
        })
        .collect()
}

/// Every metric received, in order.
fn metrics_of(receiver: &Receiver) -> Vec<Value> {
    containers(receiver)
        .into_iter()
        .flat_map(|(_, p)| p["items"].as_array().cloned().unwrap_or_default())
        .collect()
}

fn reported(receiver: &Receiver, reason: &str, category: &str) -> u64 {
    receiver
        .client_reports()
        .iter()
        .filter(|(r, c, _)| r == reason && c == category)
        .map(|(_, _, n)| n)
        .sum()
}

#[test]
fn counters_gauges_and_distributions_arrive_with_typed_attributes_and_their_trace() {
    let _serial = serial();
    let receiver = Receiver::start();
    let guard = sentry_sdk::init(
        options(&receiver)
            .server_name("metrics-host")
            .traces_sample_rate(1.0),
    );
    metrics::count("orders.placed", 1)
        .attribute("region", "eu")
        .attribute("express", true);
    let (trace, span) = {
        let transaction = start_transaction(TransactionContext::new("checkout", "task"));
        let _entered = transaction.enter();
        metrics::gauge("queue.depth", 42_u64).unit("item");
        metrics::distribution("checkout.latency", 12.5)
            .unit("millisecond")
            .attribute("attempt", 2)
            .attribute("ratio", 0.25)
            .send();
        let ids = transaction.as_span().ids().expect("a sampled transaction");
        transaction.finish();
        ids
    };
    assert!(guard.flush(WAIT));
    let got = containers(&receiver);
    assert_eq!(got.len(), 1, "one batch: {got:?}");
    let (headers, payload) = &got[0];
    assert_eq!(headers["item_count"], 3);
    assert_eq!(
        headers["content_type"],
        "application/vnd.sentry.items.trace-metric+json"
    );
    let m = payload["items"].as_array().unwrap();
    assert_eq!(m[0]["type"], "counter");
    assert_eq!(m[0]["name"], "orders.placed");
    assert_eq!(m[0]["value"], 1.0);
    assert_eq!(
        m[0]["attributes"]["region"],
        json!({"value": "eu", "type": "string"})
    );
    assert_eq!(
        m[0]["attributes"]["express"],
        json!({"value": true, "type": "boolean"})
    );
    assert_eq!(m[0]["trace_id"].as_str().unwrap().len(), 32);
    assert!(m[0].get("span_id").is_none(), "outside any span");

    assert_eq!(m[1]["type"], "gauge");
    assert_eq!(m[1]["value"], 42.0);
    assert_eq!(m[1]["unit"], "item");
    assert_eq!(m[2]["type"], "distribution");
    assert_eq!(m[2]["unit"], "millisecond");
    assert_eq!(
        m[2]["attributes"]["attempt"],
        json!({"value": 2, "type": "integer"})
    );
    assert_eq!(
        m[2]["attributes"]["ratio"],
        json!({"value": 0.25, "type": "double"})
    );
    for inside in &m[1..] {
        assert_eq!(inside["trace_id"], trace.to_string());
        assert_eq!(inside["span_id"], span.to_string());
    }
    for metric in m {
        let a = &metric["attributes"];
        assert_eq!(a["sentry.environment"]["value"], "test");
        assert_eq!(a["sentry.release"]["value"], "e2e@1.0.0");
        assert_eq!(a["sentry.sdk.name"]["value"], sentry_sdk::SDK_NAME);
        assert_eq!(a["sentry.sdk.version"]["value"], sentry_sdk::SDK_VERSION);
        assert_eq!(a["server.address"]["value"], "metrics-host");
        assert!(metric["timestamp"].as_f64().unwrap() > 1.6e9);
    }
    drop(guard);
}

#[test]
fn before_send_metric_changes_metrics_and_its_drops_are_counted() {
    let _serial = serial();
    let receiver = Receiver::start();
    let guard = sentry_sdk::init(options(&receiver).before_send_metric(|mut m| {
        if m.name.starts_with("internal.") {
            return None;
        }
        m.attributes.insert(
            "team".into(),
            sentry_sdk::metrics::LogAttribute::from("payments"),
        );
        Some(m)
    }));
    metrics::count("internal.heartbeat", 1);
    metrics::count("payments.captured", 3);
    metrics::count("internal.heartbeat", 1);
    assert!(guard.flush(WAIT));
    let got = metrics_of(&receiver);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["name"], "payments.captured");
    assert_eq!(got[0]["attributes"]["team"]["value"], "payments");
    assert_eq!(reported(&receiver, "before_send", "trace_metric"), 2);
    assert!(reported(&receiver, "before_send", "trace_metric_byte") > 0);
    drop(guard);
}

#[test]
fn a_burst_of_ten_thousand_is_sent_in_envelopes_of_at_most_one_hundred() {
    let _serial = serial();
    let receiver = Receiver::start();
    let guard = sentry_sdk::init(options(&receiver));
    for n in 0..10_000_u32 {
        metrics::distribution("burst.value", n).attribute("n", n);
    }
    assert!(guard.flush(Duration::from_secs(20)));
    let got = containers(&receiver);
    let mut total = 0;
    for (headers, payload) in &got {
        let n = payload["items"].as_array().unwrap().len();
        assert!(n <= 100, "{n} metrics in one envelope");
        assert_eq!(headers["item_count"], n as u64);
        total += n;
    }
    assert_eq!(total, 10_000, "none lost ({} envelopes)", got.len());
    assert!(got.len() >= 100);
    let mut values: Vec<u64> = got
        .iter()
        .flat_map(|(_, p)| p["items"].as_array().unwrap().clone())
        .map(|m| m["value"].as_f64().unwrap() as u64)
        .collect();
    values.sort_unstable();
    values.dedup();
    assert_eq!(values.len(), 10_000, "each metric once");
    drop(guard);
}

#[test]
fn a_trace_metric_rate_limit_drops_metrics_and_counts_them() {
    let _serial = serial();
    let answered = AtomicUsize::new(0);
    // The reply is chosen before the body is read: the first request is the first metric's.
    let receiver = Receiver::start_with(move |_| {
        if answered.fetch_add(1, Ordering::SeqCst) == 0 {
            Reply::Status(
                429,
                vec![("X-Sentry-Rate-Limits".into(), "60:trace_metric:org".into())],
            )
        } else {
            Reply::Status(200, vec![])
        }
    });
    let guard = sentry_sdk::init(options(&receiver));
    metrics::count("first", 1);
    assert!(guard.flush(WAIT));
    for _ in 0..150 {
        metrics::count("limited", 1);
    }
    sentry_sdk::capture_message("errors still go", sentry_sdk::Level::Error);
    assert!(guard.flush(WAIT));
    let sent = containers(&receiver);
    assert_eq!(sent.len(), 1, "only the first, answered with the 429");
    assert_eq!(
        receiver.events().len(),
        1,
        "other categories are not limited"
    );
    assert_eq!(
        reported(&receiver, "ratelimit_backoff", "trace_metric"),
        150
    );
    assert!(reported(&receiver, "ratelimit_backoff", "trace_metric_byte") > 0);
    drop(guard);
}

#[test]
fn metrics_beyond_the_queue_are_dropped_and_counted() {
    let _serial = serial();
    // The first requests are slow, so that the worker's request slots (8) fill with batches
    // and the small queue behind them overflows.
    let seen = AtomicUsize::new(0);
    let receiver = Receiver::start_with(move |_| {
        if seen.fetch_add(1, Ordering::SeqCst) < 8 {
            Reply::Slow(Duration::from_millis(1500), 200)
        } else {
            Reply::Status(200, vec![])
        }
    });
    let guard = sentry_sdk::init(options(&receiver).transport_queue_size(10));
    for _ in 0..3_000 {
        metrics::count("overflowing", 1).attribute("k", "v");
    }
    assert!(guard.flush(Duration::from_secs(10)));
    let delivered = metrics_of(&receiver).len() as u64;
    let overflow = reported(&receiver, "queue_overflow", "trace_metric");
    assert_eq!(
        delivered + overflow,
        3_000,
        "each one delivered or counted: {:?}",
        receiver.client_reports()
    );
    assert!(overflow >= 1_000, "{overflow} dropped");
    assert!(reported(&receiver, "queue_overflow", "trace_metric_byte") >= overflow * 100);
    drop(guard);
}

#[test]
fn with_metrics_off_nothing_is_sent() {
    let _serial = serial();
    let receiver = Receiver::start();
    let guard = sentry_sdk::init(options(&receiver).enable_metrics(false));
    assert!(!metrics::metrics_enabled());
    metrics::count("orders.placed", 1).attribute("region", "eu");
    metrics::gauge("queue.depth", 1.5);
    assert!(guard.flush(WAIT));
    assert!(containers(&receiver).is_empty());
    assert!(receiver.client_reports().is_empty(), "nothing was dropped");
    drop(guard);
}
