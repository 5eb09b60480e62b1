//! Transactions and spans: what a finished transaction sends, what an unsampled one does not,
//! and the entered-span stack under guards dropped out of order.

use sentry_sdk_core::performance::{
    current_span, pop_active, start_transaction, TransactionContext,
};
use sentry_sdk_core::protocol::Level;
use sentry_sdk_core::test::{events_of, with_captured_envelopes_options};
use sentry_sdk_core::ClientOptions;

#[test]
fn a_finished_transaction_is_sent_with_its_spans_and_events_carry_its_trace() {
    let envelopes =
        with_captured_envelopes_options(ClientOptions::new().traces_sample_rate(1.0), || {
            let transaction = start_transaction(TransactionContext::new("import", "task"));
            let _in_tx = transaction.as_span().enter();
            let span = transaction.start_child("db.query", "SELECT 1");
            span.set_data("rows", 3);
            {
                let _in_span = span.enter();
                sentry_sdk_core::capture_message("inside", Level::Info);
            }
            span.finish();
            // Dropped without `finish` (an early return): finished when its last handle goes.
            transaction.start_child("dropped", "").set_tag("x", 1);
            transaction.finish();
            transaction.finish(); // twice: sent once
        });
    assert_eq!(envelopes.len(), 2);
    let event = envelopes[0].items()[0].payload_json().unwrap();
    let tx_item = &envelopes[1].items()[0];
    assert_eq!(tx_item.item_type(), "transaction");
    let tx = tx_item.payload_json().unwrap();
    assert_eq!(tx["type"], "transaction");
    assert_eq!(tx["transaction"], "import");
    assert_eq!(tx["contexts"]["trace"]["op"], "task");
    let mut spans = tx["spans"].as_array().unwrap().clone();
    spans.sort_by_key(|s| s["op"].as_str().unwrap_or("").to_owned());
    assert_eq!(spans.len(), 2, "the finished span and the dropped one");
    assert_eq!(spans[1]["op"], "dropped");
    assert_eq!(spans[1]["tags"]["x"], "1");
    spans.remove(1);
    assert_eq!(spans[0]["op"], "db.query");
    assert_eq!(spans[0]["data"]["rows"], 3);
    assert_eq!(
        spans[0]["parent_span_id"],
        tx["contexts"]["trace"]["span_id"]
    );
    assert!(tx["start_timestamp"].as_f64().unwrap() <= tx["timestamp"].as_f64().unwrap());
    assert_eq!(
        event["contexts"]["trace"]["trace_id"],
        tx["contexts"]["trace"]["trace_id"]
    );
    assert_eq!(event["contexts"]["trace"]["span_id"], spans[0]["span_id"]);
}

#[test]
fn tracing_off_or_unsampled_records_nothing() {
    let off = with_captured_envelopes_options(ClientOptions::new(), || {
        let t = start_transaction(TransactionContext::new("x", "task"));
        assert!(!t.is_sampled());
        let _g = t.as_span().enter();
        let current = current_span().expect("entered as an unsampled marker");
        assert!(!current.is_sampled());
        sentry_sdk_core::capture_message("no trace", Level::Info);
        t.finish();
    });
    assert!(off.iter().all(|e| e.items()[0].item_type() == "event"));
    // Tracing off still links the event to its scope's trace (tracing without performance),
    // but to no span of a transaction.
    let trace = &events_of(&off)[0]["contexts"]["trace"];
    assert_eq!(trace["trace_id"].as_str().unwrap().len(), 32);
    assert!(trace.get("op").is_none(), "{trace}");
    let unsampled =
        with_captured_envelopes_options(ClientOptions::new().traces_sample_rate(0.0), || {
            start_transaction(TransactionContext::new("x", "task")).finish();
            start_transaction(TransactionContext::new("y", "task").sampled(true)).finish();
        });
    assert_eq!(
        unsampled.len(),
        1,
        "an explicit decision wins over the rate"
    );
}

#[test]
fn guards_dropped_out_of_order_leave_a_clean_stack() {
    with_captured_envelopes_options(ClientOptions::new().traces_sample_rate(1.0), || {
        let t = start_transaction(TransactionContext::new("x", "task"));
        let a = t.as_span().enter();
        let child = t.start_child("inner", "");
        let b = child.enter();
        drop(a); // the outer guard first: both are left
        assert!(current_span().is_none());
        drop(b);
        assert!(current_span().is_none());
        let leaked = t.as_span().enter();
        std::mem::forget(leaked);
        let c = child.enter();
        drop(c);
        assert!(
            current_span().unwrap().same_as(&t.as_span()),
            "only c's entry left"
        );
        pop_active(&t.as_span());
        assert!(current_span().is_none());
    });
}
