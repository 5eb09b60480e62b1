//! The official Python SDK (the pin in `scripts/interop/python_peer.py`, 2.75.0) continues a
//! trace and hands it on: what our SDK must do the same way. Observed facts these tests pin:
//!
//! - Continuing (`continue_trace` with `sentry-trace` + `baggage`): the transaction takes the
//!   incoming trace id and the incoming span id as `parent_span_id`. The envelope header
//!   `trace` (the DSC) is the incoming `sentry-*` baggage entries exactly, decoded and as
//!   strings: the upstream's `public_key` (not the peer's DSN key, which only goes into
//!   `X-Sentry-Auth`), `sample_rand` "0.250000" as received, `sample_rate` "1.0",
//!   `sampled` "true"; nothing of its own is added (not even `transaction`).
//! - Downstream (stdlib `http.client` span): `sentry-trace: <trace>-<http.client span id>-1`,
//!   and a `baggage` of the same DSC entries in the same order, values percent-encoded
//!   (`sentry-release=e2e%401.0.0`). Foreign entries (`othervendor=x`) are dropped: not
//!   forwarded at all, neither as sentry nor as third-party entries. No `traceparent`.
//! - Heading a trace (no incoming headers): the DSC is `trace_id`, `sample_rand` (six
//!   decimals, `0.dddddd`), `environment`, `release`, `public_key` (the DSN key), `sample_rate`
//!   "1.0", `sampled` "true", in that order; no `transaction` (a `url`-sourced name is too
//!   low-quality) and no `org_id` (the DSN has none). The downstream `baggage` carries the same.
//! - A downstream whose host:port is the DSN's gets no headers at all (`is_sentry_url`): keep
//!   the receiver and the next service on different ports.

use serde_json::{json, Value};

use crate::python_peer::{baggage_entries, transaction, Downstream, PythonPeer};
use crate::receiver::Receiver;

const TRACE: &str = "771a43a4192642f0b136d5159a501700";
const SPAN: &str = "b0e6f15b45c36b12";
/// The upstream's DSN key: different from the receiver's ("public"), so the tests can tell
/// which one a DSC carries.
const UPSTREAM_KEY: &str = "5b0c7f1e9a3d4c2b8e6f0a1d2c3b4a59";

fn incoming_baggage() -> String {
    format!(
        "sentry-trace_id={TRACE},sentry-public_key={UPSTREAM_KEY},sentry-sample_rate=1.0,\
         sentry-sampled=true,sentry-sample_rand=0.250000,sentry-environment=test,\
         sentry-release=e2e@1.0.0,othervendor=x"
    )
}

fn incoming_dsc() -> Value {
    json!({
        "trace_id": TRACE,
        "public_key": UPSTREAM_KEY,
        "sample_rate": "1.0",
        "sampled": "true",
        "sample_rand": "0.250000",
        "environment": "test",
        "release": "e2e@1.0.0",
    })
}

fn continue_from_upstream(peer: &PythonPeer) -> Value {
    let sentry_trace = format!("{TRACE}-{SPAN}-1");
    let baggage = incoming_baggage();
    let (status, body) = peer.get(
        "/continue",
        &[("sentry-trace", &sentry_trace), ("baggage", &baggage)],
    );
    assert_eq!(status, 200, "{body}");
    body
}

/// The `http.client` span of `transaction`, checked to be a child of the transaction.
fn client_span(transaction: &Value) -> &Value {
    let spans = transaction["spans"].as_array().expect("spans");
    let clients: Vec<_> = spans.iter().filter(|s| s["op"] == "http.client").collect();
    assert_eq!(clients.len(), 1, "one http.client span: {spans:?}");
    assert_eq!(
        clients[0]["parent_span_id"], transaction["contexts"]["trace"]["span_id"],
        "the http.client span is a child of the transaction"
    );
    clients[0]
}

#[test]
fn the_transaction_continues_the_trace_and_keeps_the_incoming_dsc() {
    let receiver = Receiver::start();
    let peer = PythonPeer::start(&receiver.dsn(), None);
    let body = continue_from_upstream(&peer);

    let (headers, transaction) = transaction(&receiver);
    let trace = &transaction["contexts"]["trace"];
    assert_eq!(trace["trace_id"], TRACE);
    assert_eq!(trace["parent_span_id"], SPAN);
    assert_eq!(trace["op"], "http.server");
    assert_eq!(
        trace["span_id"], body["span_id"],
        "the peer's answer names its span"
    );
    assert_eq!(body["trace_id"], TRACE);
    // The whole DSC as received: upstream key, sample_rand unchanged, no foreign entry.
    assert_eq!(headers["trace"], incoming_dsc());
    // ...while the peer authenticates with its own key.
    let auth = receiver.requests()[0]
        .header("x-sentry-auth")
        .map(str::to_owned);
    assert!(
        auth.as_deref()
            .is_some_and(|a| a.contains("sentry_key=public,")),
        "{auth:?}"
    );
}

#[test]
fn the_outgoing_request_carries_the_trace_and_drops_foreign_baggage() {
    let receiver = Receiver::start();
    let downstream = Downstream::start();
    let peer = PythonPeer::start(&receiver.dsn(), Some(&downstream.url()));
    let body = continue_from_upstream(&peer);
    assert_eq!(body["downstream_status"], 200, "{body}");

    let sent = downstream.request();
    let (headers, transaction) = transaction(&receiver);
    let span = client_span(&transaction);
    assert_eq!(
        sent.get("sentry-trace").map(String::as_str),
        Some(format!("{TRACE}-{}-1", span["span_id"].as_str().expect("span_id")).as_str()),
    );
    // Exactly the incoming sentry entries, in their order, `@` percent-encoded, and
    // `othervendor=x` gone.
    assert_eq!(
        sent.get("baggage").map(String::as_str),
        Some(
            format!(
                "sentry-trace_id={TRACE},sentry-public_key={UPSTREAM_KEY},\
                 sentry-sample_rate=1.0,sentry-sampled=true,sentry-sample_rand=0.250000,\
                 sentry-environment=test,sentry-release=e2e%401.0.0"
            )
            .as_str()
        ),
    );
    assert_eq!(headers["trace"], incoming_dsc());
    assert_eq!(sent.get("traceparent"), None, "{sent:?}");
}

#[test]
fn without_incoming_headers_the_peer_heads_a_new_trace() {
    let receiver = Receiver::start();
    let downstream = Downstream::start();
    let peer = PythonPeer::start(&receiver.dsn(), Some(&downstream.url()));
    let (status, body) = peer.get("/fresh", &[]);
    assert_eq!(status, 200, "{body}");

    let sent = downstream.request();
    let (headers, transaction) = transaction(&receiver);
    let trace = &transaction["contexts"]["trace"];
    let trace_id = trace["trace_id"].as_str().expect("trace_id");
    assert_eq!(trace_id.len(), 32, "{trace_id}");
    assert_ne!(trace_id, TRACE);
    assert_eq!(body["trace_id"], trace_id);
    assert_eq!(
        trace["parent_span_id"],
        Value::Null,
        "a head transaction has no parent"
    );
    let span = client_span(&transaction);
    assert_eq!(
        sent.get("sentry-trace").map(String::as_str),
        Some(
            format!(
                "{trace_id}-{}-1",
                span["span_id"].as_str().expect("span_id")
            )
            .as_str()
        ),
    );

    let baggage = baggage_entries(sent.get("baggage").expect("a baggage header"));
    let dsc = headers["trace"]
        .as_object()
        .expect("a DSC in the envelope header");
    let sample_rand = dsc["sample_rand"].as_str().expect("sample_rand");
    assert!(
        sample_rand.len() == 8
            && sample_rand.starts_with("0.")
            && sample_rand[2..].bytes().all(|b| b.is_ascii_digit()),
        "six decimals: {sample_rand}"
    );
    assert_eq!(
        Value::Object(dsc.clone()),
        json!({
            "trace_id": trace_id,
            "sample_rand": sample_rand,
            "environment": "peer",
            "release": "python-peer@1.0.0",
            "public_key": "public", // the peer's DSN key
            "sample_rate": "1.0",
            "sampled": "true",
        })
    );
    // The downstream gets that same DSC, entry for entry.
    let expected: std::collections::BTreeMap<String, String> = dsc
        .iter()
        .map(|(k, v)| (format!("sentry-{k}"), v.as_str().unwrap_or("?").to_owned()))
        .collect();
    assert_eq!(baggage, expected);
}
