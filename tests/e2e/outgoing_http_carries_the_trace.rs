//! Outgoing requests through the `reqwest-middleware` middleware carry the trace to the callee
//! (`sentry-trace` naming their `http.client` span, `baggage` with the trace's DSC) when their
//! URL is a propagation target, keep other vendors' baggage, and are recorded as spans.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::mpsc;

use serde_json::Value;

use crate::support::*;
use sentry_sdk::integrations::http_client::trace_request;
use sentry_sdk::integrations::reqwest::SentryTracing;
use sentry_sdk::performance::{start_transaction, TransactionContext};
use sentry_sdk::IsolationExt;

/// A std HTTP/1.1 server on 127.0.0.1 that answers each request with the status named by its
/// path (`/404` -> 404, anything else 200) and sends the request's headers (lowercase names)
/// down the channel.
fn header_recorder() -> (String, mpsc::Receiver<Vec<(String, String)>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!(
        "http://127.0.0.1:{}",
        listener.local_addr().expect("addr").port()
    );
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let status = if line.contains(" /404") { 404 } else { 200 };
            let mut headers = Vec::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                    break;
                }
                if let Some((name, value)) = line.trim_end().split_once(':') {
                    headers.push((name.to_ascii_lowercase(), value.trim().to_owned()));
                }
            }
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"
            );
            if tx.send(headers).is_err() {
                return;
            }
        }
    });
    (base, rx)
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// Sends `request` (a GET of `url` with the given extra headers) with the middleware, inside
/// a sampled transaction, and returns the transaction payload and what the server received.
fn send_in_transaction(
    receiver: &Receiver,
    url: &str,
    extra: &[(&str, &str)],
    server: &mpsc::Receiver<Vec<(String, String)>>,
) -> (Value, Vec<(String, String)>) {
    let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(SentryTracing::new())
        .build();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let transaction = start_transaction(TransactionContext::new("checkout", "task"));
    let mut request = client.get(url);
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    let status = runtime
        .block_on(
            async { request.send().await.map(|r| r.status().as_u16()) }
                .in_span(transaction.as_span()),
        )
        .expect("the local server answers");
    let received = server
        .recv_timeout(WAIT)
        .expect("the server got the request");
    assert!(sentry_sdk::flush(WAIT));
    let transactions: Vec<Value> = receiver
        .requests()
        .iter()
        .flat_map(|r| r.envelope().items().to_vec())
        .filter(|i| i.item_type() == "transaction")
        .filter_map(|i| i.payload_json())
        .collect();
    assert_eq!(transactions.len(), 1, "status {status}");
    (transactions[0].clone(), received)
}

#[test]
fn a_request_carries_its_http_client_span_and_the_trace() {
    let _serial = serial();
    let receiver = Receiver::start();
    let guard = sentry_sdk::init(
        options(&receiver)
            .traces_sample_rate(1.0)
            .trace_propagation_targets(["127.0.0.1"]),
    );
    let (base, server) = header_recorder();
    let url = format!("{base}/404?q=1");
    let (transaction, received) = send_in_transaction(&receiver, &url, &[], &server);
    drop(guard);

    let trace_id = transaction["contexts"]["trace"]["trace_id"]
        .as_str()
        .expect("a trace id");
    let spans = transaction["spans"].as_array().expect("spans");
    assert_eq!(spans.len(), 1, "{spans:?}");
    let span = &spans[0];
    assert_eq!(span["op"], "http.client");
    assert_eq!(span["description"], format!("GET {base}/404").as_str());
    assert_eq!(span["status"], "not_found");
    assert_eq!(span["data"]["http.request.method"], "GET");
    assert_eq!(span["data"]["url"], format!("{base}/404").as_str());
    assert_eq!(span["data"]["http.query"], "q=1");
    assert_eq!(span["data"]["http.response.status_code"], 404);
    assert_eq!(
        span["parent_span_id"],
        transaction["contexts"]["trace"]["span_id"]
    );

    let span_id = span["span_id"].as_str().expect("a span id");
    assert_eq!(
        header(&received, "sentry-trace"),
        Some(format!("{trace_id}-{span_id}-1").as_str())
    );
    let baggage = header(&received, "baggage").expect("baggage");
    assert!(
        baggage
            .split(',')
            .any(|e| e == format!("sentry-trace_id={trace_id}")),
        "{baggage}"
    );
    assert!(baggage.contains("sentry-sampled=true"), "{baggage}");
}

#[test]
fn a_url_outside_the_propagation_targets_gets_no_trace_headers() {
    let _serial = serial();
    let receiver = Receiver::start();
    let guard = sentry_sdk::init(
        options(&receiver)
            .traces_sample_rate(1.0)
            .trace_propagation_targets(["api.example.invalid"]),
    );
    let (base, server) = header_recorder();
    let (transaction, received) =
        send_in_transaction(&receiver, &format!("{base}/ok"), &[], &server);
    drop(guard);

    assert_eq!(header(&received, "sentry-trace"), None);
    assert_eq!(header(&received, "baggage"), None);
    // The request is still recorded.
    assert_eq!(transaction["spans"][0]["op"], "http.client");
    assert_eq!(transaction["spans"][0]["status"], "ok");
}

#[test]
fn an_existing_baggage_keeps_the_other_vendors_entries() {
    let _serial = serial();
    let receiver = Receiver::start();
    let guard = sentry_sdk::init(options(&receiver).traces_sample_rate(1.0));
    let (base, server) = header_recorder();
    let (transaction, received) = send_in_transaction(
        &receiver,
        &format!("{base}/ok"),
        &[(
            "baggage",
            "othervendor=abc,sentry-trace_id=00000000000000000000000000000001",
        )],
        &server,
    );
    drop(guard);

    let trace_id = transaction["contexts"]["trace"]["trace_id"]
        .as_str()
        .expect("a trace id");
    let baggage = header(&received, "baggage").expect("baggage");
    let entries: Vec<&str> = baggage.split(',').collect();
    assert_eq!(entries[0], "othervendor=abc", "{baggage}");
    // The request's stale Sentry entry is replaced by this trace's.
    assert_eq!(
        entries
            .iter()
            .filter(|e| e.starts_with("sentry-trace_id="))
            .count(),
        1,
        "{baggage}"
    );
    assert!(entries.contains(&format!("sentry-trace_id={trace_id}").as_str()));
}

#[test]
fn the_plain_helper_continues_the_scopes_trace_without_a_span() {
    let _serial = serial();
    let receiver = Receiver::start();
    let guard = sentry_sdk::init(options(&receiver));
    let mut headers = Vec::new();
    // A fresh isolation scope, as a request or task has: a trace of its own.
    sentry_sdk::with_isolation_scope(|| {
        let span = trace_request("POST", "http://127.0.0.1:9/x", None, |name, value| {
            headers.push((name, value.to_owned()));
        });
        assert!(!span.span().is_sampled());
        span.finish(200);
    });
    drop(guard);

    // Tracing is off: the headers continue the scope's trace with a deferred decision.
    let names: Vec<&str> = headers.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, ["sentry-trace", "baggage"]);
    let sentry_trace = &headers[0].1;
    assert_eq!(sentry_trace.len(), 32 + 1 + 16, "{sentry_trace}");
    let trace_id = &sentry_trace[..32];
    assert!(headers[1]
        .1
        .contains(&format!("sentry-trace_id={trace_id}")));
}
