//! OpenTelemetry spans reach Sentry with OpenTelemetry's ids: nested spans (through the bare
//! `opentelemetry` API and through `tracing-opentelemetry`) arrive as one transaction with the
//! right parents; an incoming `sentry-trace` + `baggage` is continued through the propagator
//! with the caller's DSC; `inject` writes headers our own parser reads back; an error captured
//! inside an OpenTelemetry span carries its trace and span id.

use std::collections::HashMap;

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{SpanContext, Status, TraceContextExt, Tracer, TracerProvider as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::SdkTracerProvider;
use serde_json::Value;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;

use crate::support::*;
use sentry_sdk::integrations::opentelemetry::{SentryPropagator, SentrySpanProcessor};
use sentry_sdk::propagation::{sentry_baggage, SentryTrace};

const TRACE: &str = "771a43a4192642f0b136d5159a501700";
const PARENT: &str = "bb8f278130535c3c";

fn provider() -> SdkTracerProvider {
    SdkTracerProvider::builder()
        .with_span_processor(SentrySpanProcessor::new())
        .build()
}

/// Ends the tracer provider, then waits for what the SDK has queued and closes it. Errors are
/// symbolicated on the SDK's thread (the first one loads this binary's debug info): they are
/// waited for with the e2e deadline, not the 2 s shutdown timeout.
fn shut_down(provider: SdkTracerProvider, guard: sentry_sdk::ClientInitGuard) {
    drop(provider);
    assert!(sentry_sdk::flush(WAIT));
    drop(guard);
}

fn ids(sc: &SpanContext) -> (String, String) {
    (sc.trace_id().to_string(), sc.span_id().to_string())
}

fn current_ids() -> (String, String) {
    ids(Context::current().span().span_context())
}

/// The payloads of every item of type `ty` the receiver got.
fn items(receiver: &Receiver, ty: &str) -> Vec<Value> {
    receiver
        .requests()
        .iter()
        .flat_map(|r| r.envelope().items().to_vec())
        .filter(|i| i.item_type() == ty)
        .filter_map(|i| i.payload_json())
        .collect()
}

fn span_named<'a>(transaction: &'a Value, description: &str) -> &'a Value {
    transaction["spans"]
        .as_array()
        .expect("spans")
        .iter()
        .find(|s| s["description"] == description)
        .unwrap_or_else(|| panic!("no span {description} in {transaction}"))
}

#[test]
fn nested_opentelemetry_spans_arrive_as_one_transaction_with_their_ids() {
    let _serial = serial();
    let receiver = Receiver::start();
    let guard = sentry_sdk::init(options(&receiver).traces_sample_rate(1.0));
    let provider = provider();
    let tracer = provider.tracer("e2e");
    let (root, child, grandchild) = tracer.in_span("nightly import", |_| {
        let root = current_ids();
        let (child, grandchild) = tracer.in_span("read orders", |cx| {
            cx.span()
                .set_attribute(KeyValue::new("db.system.name", "postgresql"));
            cx.span().set_attribute(KeyValue::new("rows", 42_i64));
            cx.span().set_status(Status::error("timeout"));
            let child = current_ids();
            let grandchild = tracer.in_span("parse row", |_| current_ids());
            (child, grandchild)
        });
        (root, child, grandchild)
    });
    shut_down(provider, guard);

    let transactions = items(&receiver, "transaction");
    assert_eq!(transactions.len(), 1, "one transaction: {transactions:?}");
    let t = &transactions[0];
    assert_eq!(t["transaction"], "nightly import");
    let trace = &t["contexts"]["trace"];
    assert_eq!(trace["trace_id"], root.0);
    assert_eq!(trace["span_id"], root.1);
    assert!(trace.get("parent_span_id").is_none_or(Value::is_null));
    assert_eq!(trace["status"], "ok");
    assert_eq!(t["spans"].as_array().unwrap().len(), 2);

    let read = span_named(t, "read orders");
    assert_eq!(read["span_id"], child.1);
    assert_eq!(read["parent_span_id"], root.1);
    assert_eq!(read["trace_id"], root.0);
    assert_eq!(read["op"], "db");
    assert_eq!(read["status"], "internal_error");
    assert_eq!(read["data"]["rows"], 42);
    assert_eq!(child.0, root.0);

    let parse = span_named(t, "parse row");
    assert_eq!(parse["span_id"], grandchild.1);
    assert_eq!(parse["parent_span_id"], child.1);
    for span in [read, parse] {
        assert!(span["start_timestamp"].as_f64() <= span["timestamp"].as_f64());
    }
}

#[test]
fn tracing_opentelemetry_spans_arrive_as_one_transaction_with_their_ids() {
    let _serial = serial();
    let receiver = Receiver::start();
    let guard = sentry_sdk::init(options(&receiver).traces_sample_rate(1.0));
    let provider = provider();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("e2e")));
    let (root, child, event_id) = tracing::subscriber::with_default(subscriber, || {
        let request = tracing::info_span!("GET /orders/{id}", otel.kind = "server");
        request.in_scope(|| {
            let root = ids(request.context().span().span_context());
            let query = tracing::info_span!("SELECT orders");
            let (child, event_id) = query.in_scope(|| {
                let err = std::io::Error::other("orders table is locked");
                (current_ids(), sentry_sdk::capture_exception(&err))
            });
            (root, child, event_id)
        })
    });
    shut_down(provider, guard);

    let transactions = items(&receiver, "transaction");
    assert_eq!(transactions.len(), 1, "one transaction: {transactions:?}");
    let t = &transactions[0];
    assert_eq!(t["transaction"], "GET /orders/{id}");
    assert_eq!(t["contexts"]["trace"]["trace_id"], root.0);
    assert_eq!(t["contexts"]["trace"]["span_id"], root.1);
    let query = span_named(t, "SELECT orders");
    assert_eq!(query["span_id"], child.1);
    assert_eq!(query["parent_span_id"], root.1);

    // The error captured inside the tracing span carries that span's OpenTelemetry ids.
    let events = items(&receiver, "event");
    let event = events
        .iter()
        .find(|e| e["event_id"] == event_id.to_string())
        .expect("the error event");
    assert_eq!(event["contexts"]["trace"]["trace_id"], root.0);
    assert_eq!(event["contexts"]["trace"]["span_id"], child.1);
    assert_eq!(event["contexts"]["trace"]["parent_span_id"], root.1);
    assert_eq!(event["transaction"], "GET /orders/{id}");
}

#[test]
fn an_incoming_sentry_trace_is_continued_through_the_propagator() {
    let _serial = serial();
    let receiver = Receiver::start();
    let guard = sentry_sdk::init(options(&receiver).traces_sample_rate(1.0));
    let provider = provider();
    let tracer = provider.tracer("e2e");
    let baggage = format!(
        "other-vendor=1,sentry-trace_id={TRACE},sentry-public_key=upstream,\
         sentry-release=upstream%401.0,sentry-environment=staging,sentry-sample_rate=0.5,\
         sentry-sample_rand=0.250000,sentry-sampled=true,sentry-transaction=checkout"
    );
    let carrier = HashMap::from([
        ("sentry-trace".to_owned(), format!("{TRACE}-{PARENT}-1")),
        ("baggage".to_owned(), baggage.clone()),
    ]);
    let propagator = SentryPropagator::new();
    let cx = propagator.extract(&carrier);
    let server = tracer.start_with_context("GET /orders", &cx);
    let cx = cx.with_span(server);
    // Outgoing headers from inside the continued span carry the caller's DSC.
    let mut outgoing = HashMap::new();
    propagator.inject_context(&cx, &mut outgoing);
    let server_span = ids(cx.span().span_context());
    cx.span().end();
    shut_down(provider, guard);

    let requests = receiver.requests();
    let envelope = requests
        .iter()
        .map(|r| r.envelope())
        .find(|e| e.items().iter().any(|i| i.item_type() == "transaction"))
        .expect("the transaction's envelope");
    let t = envelope.items()[0].payload_json().unwrap();
    assert_eq!(t["contexts"]["trace"]["trace_id"], TRACE);
    assert_eq!(t["contexts"]["trace"]["parent_span_id"], PARENT);
    assert_eq!(t["contexts"]["trace"]["span_id"], server_span.1);
    // The envelope's DSC is the caller's, as received.
    let expected: serde_json::Map<String, Value> = sentry_baggage(&baggage)
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    assert_eq!(envelope.header("trace"), Some(Value::Object(expected)));
    assert_eq!(
        outgoing["sentry-trace"],
        format!("{TRACE}-{}-1", server_span.1)
    );
    let sent: HashMap<_, _> = sentry_baggage(&outgoing["baggage"]).into_iter().collect();
    assert_eq!(sent["public_key"], "upstream");
    assert_eq!(sent["sample_rand"], "0.250000");
    assert_eq!(sent["transaction"], "checkout");
}

#[test]
fn inject_writes_headers_our_parser_reads_back() {
    let _serial = serial();
    let receiver = Receiver::start();
    let guard = sentry_sdk::init(options(&receiver).traces_sample_rate(1.0));
    let provider = provider();
    let tracer = provider.tracer("e2e");
    let (span, headers) = tracer.in_span("send invoice", |cx| {
        let mut headers = HashMap::new();
        SentryPropagator::new().inject_context(&cx, &mut headers);
        (ids(cx.span().span_context()), headers)
    });
    shut_down(provider, guard);

    let header = SentryTrace::parse(&headers["sentry-trace"]).expect("a valid sentry-trace");
    assert_eq!(header.trace_id.to_string(), span.0);
    assert_eq!(header.span_id.to_string(), span.1);
    assert_eq!(header.sampled, Some(true));
    let baggage: HashMap<_, _> = sentry_baggage(&headers["baggage"]).into_iter().collect();
    assert_eq!(baggage["trace_id"], span.0);
    assert_eq!(baggage["sampled"], "true");
    assert_eq!(baggage["transaction"], "send invoice");

    // And a propagator reads them back into the same trace.
    let cx = SentryPropagator::new().extract(&headers);
    assert_eq!(ids(cx.span().span_context()), span);
    assert!(cx.span().span_context().is_remote());
}

#[test]
fn an_error_inside_an_opentelemetry_span_carries_its_trace() {
    let _serial = serial();
    let receiver = Receiver::start();
    let guard = sentry_sdk::init(options(&receiver).traces_sample_rate(1.0));
    let provider = provider();
    let tracer = provider.tracer("e2e");
    let (span, event_id) = tracer.in_span("charge card", |_| {
        tracer.in_span("call bank", |_| {
            let err = std::io::Error::other("bank unreachable");
            (current_ids(), sentry_sdk::capture_exception(&err))
        })
    });
    // Outside any span, a capture names no OpenTelemetry span.
    let outside = sentry_sdk::capture_message("after", sentry_sdk::Level::Info);
    shut_down(provider, guard);

    let events = items(&receiver, "event");
    let find = |id: sentry_sdk::protocol::EventId| {
        events
            .iter()
            .find(|e| e["event_id"] == id.to_string())
            .expect("the event")
    };
    let event = find(event_id);
    assert_eq!(event["contexts"]["trace"]["trace_id"], span.0);
    assert_eq!(event["contexts"]["trace"]["span_id"], span.1);
    assert_eq!(event["transaction"], "charge card");
    let after = find(outside);
    assert_ne!(after["contexts"]["trace"]["trace_id"], span.0);
}

#[test]
fn unsampled_opentelemetry_traces_send_nothing() {
    let _serial = serial();
    let receiver = Receiver::start();
    let guard = sentry_sdk::init(options(&receiver).traces_sample_rate(0.0));
    let provider = provider();
    let tracer = provider.tracer("e2e");
    for _ in 0..3 {
        tracer.in_span("unsampled", |_| tracer.in_span("child", |_| {}));
    }
    // Requests made inside a trace Sentry sampled out tell the callee so.
    let (span, headers) = tracer.in_span("unsampled", |_| {
        tracer.in_span("child", |cx| {
            let mut headers = HashMap::new();
            SentryPropagator::new().inject_context(&cx, &mut headers);
            (ids(cx.span().span_context()), headers)
        })
    });
    assert_eq!(headers["sentry-trace"], format!("{}-{}-0", span.0, span.1));
    // A caller that sampled out: OpenTelemetry does not record the span either.
    let carrier = HashMap::from([("sentry-trace".to_owned(), format!("{TRACE}-{PARENT}-0"))]);
    let cx = SentryPropagator::new().extract(&carrier);
    assert!(!cx.span().span_context().is_sampled());
    let span = tracer.start_with_context("GET /sampled-out", &cx);
    assert!(!opentelemetry::trace::Span::is_recording(&span));
    drop(span);
    shut_down(provider, guard);
    assert!(items(&receiver, "transaction").is_empty());
}

#[test]
fn a_span_ended_by_its_threads_teardown_is_still_sent() {
    let _serial = serial();
    let receiver = Receiver::start();
    let guard = sentry_sdk::init(options(&receiver).traces_sample_rate(1.0));
    let provider = provider();
    let tracer = provider.tracer("e2e");
    let worker = std::thread::spawn(move || {
        let cx = Context::current_with_span(tracer.start("left attached"));
        // The guard is never dropped: the span ends when the thread's context is torn down.
        std::mem::forget(cx.attach());
    });
    assert!(worker.join().is_ok(), "no panic in the thread's teardown");
    shut_down(provider, guard);
    let transactions = items(&receiver, "transaction");
    assert_eq!(transactions.len(), 1);
    assert_eq!(transactions[0]["transaction"], "left attached");
}
