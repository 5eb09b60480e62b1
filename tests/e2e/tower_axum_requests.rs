//! The tower layer under a real axum server on 127.0.0.1: every request has its own scope
//! (tags, breadcrumbs, request data), a transaction named by its matched route with the
//! response's status, the caller's trace continued, and a panic reported with its request.

use std::future::Future;
use std::net::SocketAddr;

use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use serde_json::Value;
use tower_http::catch_panic::CatchPanicLayer;

use crate::support::*;
use sentry_sdk::integrations::tower::SentryLayer;
use sentry_sdk::protocol::Breadcrumb;

/// A multi-threaded runtime serving `app` on 127.0.0.1 (port 0), with panics in handlers
/// answered with 500 (outside the Sentry layer, as users would put it).
fn serve(app: Router) -> (tokio::runtime::Runtime, SocketAddr) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let app = app.layer(SentryLayer::new()).layer(CatchPanicLayer::new());
    runtime.spawn(async move { axum::serve(listener, app).await });
    (runtime, addr)
}

/// Runs `f` on the runtime with a plain HTTP client.
fn client<T>(runtime: &tokio::runtime::Runtime, f: impl FnOnce(reqwest::Client) -> T) -> T::Output
where
    T: Future,
{
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    runtime.block_on(f(http))
}

/// The transactions received, each with its envelope's headers.
fn transactions(receiver: &Receiver) -> Vec<(Value, Value)> {
    let mut out = Vec::new();
    for request in receiver.requests() {
        let envelope = request.envelope();
        for item in envelope.items() {
            if item.item_type() == "transaction" {
                let headers = Value::Object(envelope.headers().clone().into_iter().collect());
                out.push((headers, item.payload_json().unwrap()));
            }
        }
    }
    out
}

async fn fail(Path(n): Path<u32>) -> StatusCode {
    sentry_sdk::set_tag("request", n);
    sentry_sdk::add_breadcrumb(Breadcrumb {
        message: Some(format!("step 1 of {n}")),
        ..Default::default()
    });
    // Let other requests run on this worker between the two steps.
    tokio::task::yield_now().await;
    sentry_sdk::add_breadcrumb(Breadcrumb {
        message: Some(format!("step 2 of {n}")),
        ..Default::default()
    });
    sentry_sdk::capture_exception(&std::io::Error::other(format!("request {n} failed")));
    StatusCode::INTERNAL_SERVER_ERROR
}

#[test]
fn concurrent_requests_each_report_only_their_own_scope() {
    let _serial = serial();
    let receiver = Receiver::start();
    let guard = sentry_sdk::init(options(&receiver)); // tracing off
    let (runtime, addr) = serve(Router::new().route("/fail/{n}", get(fail)));

    let statuses = client(&runtime, |http| async move {
        let requests = (0..100u32).map(|n| {
            let http = http.clone();
            tokio::spawn(async move {
                let response = http
                    .get(format!("http://{addr}/fail/{n}?attempt=1"))
                    .header("authorization", "Bearer secret-token")
                    .header("cookie", "sessionid=abc")
                    .header("x-request-id", n.to_string())
                    .send()
                    .await
                    .unwrap();
                response.status().as_u16()
            })
        });
        let mut statuses = Vec::new();
        for request in requests.collect::<Vec<_>>() {
            statuses.push(request.await.unwrap());
        }
        statuses
    });
    assert_eq!(statuses, vec![500; 100]);
    drop(guard);
    drop(runtime);

    let events = receiver.events();
    assert_eq!(events.len(), 100);
    let mut seen = Vec::new();
    for event in &events {
        let n: u32 = event["tags"]["request"].as_str().unwrap().parse().unwrap();
        seen.push(n);
        let value = event["exception"]["values"][0]["value"].as_str().unwrap();
        assert_eq!(value, format!("request {n} failed"));
        let crumbs: Vec<&str> = event["breadcrumbs"]["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["message"].as_str().unwrap())
            .collect();
        assert_eq!(crumbs, [format!("step 1 of {n}"), format!("step 2 of {n}")]);
        let request = &event["request"];
        assert_eq!(request["method"], "GET");
        assert_eq!(request["url"], format!("http://{addr}/fail/{n}"));
        assert_eq!(request["query_string"], "attempt=1");
        assert_eq!(request["headers"]["x-request-id"], n.to_string());
        // Scrubbed: no secrets, and without send_default_pii no cookies.
        assert_eq!(request["headers"]["authorization"], "[Filtered]");
        assert_eq!(request["headers"]["cookie"], "[Filtered]");
        assert!(request.get("cookies").is_none(), "{request}");
    }
    seen.sort_unstable();
    assert_eq!(seen, (0..100).collect::<Vec<_>>());
    // Tracing is off: no transaction at all.
    assert!(transactions(&receiver).is_empty());
}

async fn order(Path(id): Path<String>) -> (StatusCode, &'static str) {
    match id.as_str() {
        "missing" => (StatusCode::NOT_FOUND, "no such order"),
        "broken" => (StatusCode::INTERNAL_SERVER_ERROR, "database down"),
        "locked" => (StatusCode::SERVICE_UNAVAILABLE, "try later"),
        _ => (StatusCode::OK, "an order"),
    }
}

#[test]
fn transactions_are_named_by_route_and_carry_the_response_status() {
    let _serial = serial();
    let receiver = Receiver::start();
    let guard = sentry_sdk::init(options(&receiver).traces_sample_rate(1.0));
    let (runtime, addr) = serve(Router::new().route("/orders/{id}", get(order)));

    let paths = ["7", "missing", "broken", "locked"];
    let statuses = client(&runtime, |http| async move {
        let mut statuses = Vec::new();
        for id in paths {
            let url = format!("http://{addr}/orders/{id}");
            statuses.push(http.get(url).send().await.unwrap().status().as_u16());
        }
        statuses
    });
    assert_eq!(statuses, [200, 404, 500, 503]);
    drop(guard);
    drop(runtime);

    let transactions = transactions(&receiver);
    assert_eq!(transactions.len(), 4);
    let mut found: Vec<(String, u64)> = Vec::new();
    for (headers, tx) in &transactions {
        assert_eq!(tx["transaction"], "GET /orders/{id}");
        assert_eq!(tx["transaction_info"]["source"], "route");
        let trace = &tx["contexts"]["trace"];
        assert_eq!(trace["op"], "http.server");
        assert_eq!(trace["origin"], "auto.http.tower");
        assert_eq!(trace["data"]["http.request.method"], "GET");
        let code = trace["data"]["http.response.status_code"].as_u64().unwrap();
        found.push((trace["status"].as_str().unwrap().to_owned(), code));
        // Each request is a trace of its own, head-sampled here.
        assert_eq!(headers["trace"]["trace_id"], trace["trace_id"]);
        assert_eq!(headers["trace"]["transaction"], "GET /orders/{id}");
        assert!(trace.get("parent_span_id").is_none(), "{trace}");
        // The URL is in the request data, not in the name.
        let url = tx["request"]["url"].as_str().unwrap();
        assert!(url.starts_with(&format!("http://{addr}/orders/")), "{url}");
        assert!(tx["start_timestamp"].as_f64().unwrap() <= tx["timestamp"].as_f64().unwrap());
    }
    found.sort();
    let expected = [
        ("internal_error", 500),
        ("not_found", 404),
        ("ok", 200),
        ("unavailable", 503),
    ];
    let expected: Vec<(String, u64)> = expected.iter().map(|(s, c)| (s.to_string(), *c)).collect();
    assert_eq!(found, expected);
    let traces: std::collections::HashSet<&Value> = transactions
        .iter()
        .map(|(_, tx)| &tx["contexts"]["trace"]["trace_id"])
        .collect();
    assert_eq!(traces.len(), 4);
}

/// Answers with the trace headers a request made from here would carry.
async fn downstream() -> String {
    let headers = sentry_sdk::outgoing_headers("http://127.0.0.1/next", None).unwrap();
    sentry_sdk::capture_message("handled", sentry_sdk::Level::Info);
    headers.sentry_trace
}

#[test]
fn an_incoming_trace_is_continued_by_the_request_transaction() {
    let _serial = serial();
    let receiver = Receiver::start();
    // Rate 0: the caller's positive decision is what samples this transaction.
    let guard = sentry_sdk::init(options(&receiver).traces_sample_rate(0.0));
    let (runtime, addr) = serve(Router::new().route("/checkout", get(downstream)));

    let trace_id = "771a43a4192642f0b136d5159a501700";
    let parent = "bb8f278130535c3c";
    let baggage = format!(
        "other-vendor=1,sentry-trace_id={trace_id},sentry-public_key=upstream,\
         sentry-sample_rate=0.25,sentry-sample_rand=0.125,sentry-sampled=true,\
         sentry-release=caller%401.0,sentry-environment=upstream,sentry-transaction=POST%20%2Fcart"
    );
    let body = client(&runtime, |http| async move {
        http.get(format!("http://{addr}/checkout"))
            .header("sentry-trace", format!("{trace_id}-{parent}-1"))
            .header("baggage", baggage)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    });
    drop(guard);
    drop(runtime);

    let transactions = transactions(&receiver);
    assert_eq!(transactions.len(), 1);
    let (headers, tx) = &transactions[0];
    let trace = &tx["contexts"]["trace"];
    assert_eq!(trace["trace_id"], trace_id);
    assert_eq!(trace["parent_span_id"], parent);
    assert_eq!(tx["transaction"], "GET /checkout");
    // The caller's DSC, as received (other vendors' entries are not Sentry's).
    let expected = serde_json::json!({
        "trace_id": trace_id,
        "public_key": "upstream",
        "sample_rate": "0.25",
        "sample_rand": "0.125",
        "sampled": "true",
        "release": "caller@1.0",
        "environment": "upstream",
        "transaction": "POST /cart",
    });
    assert_eq!(headers["trace"], expected);
    // The transaction was current in the handler: a request made there is its child.
    let span_id = trace["span_id"].as_str().unwrap();
    assert_eq!(body, format!("{trace_id}-{span_id}-1"));
    // So does an event captured there.
    let events = receiver.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["contexts"]["trace"]["trace_id"], trace_id);
    assert_eq!(events[0]["contexts"]["trace"]["span_id"], span_id);
}

async fn explode(Path(n): Path<u32>) -> &'static str {
    sentry_sdk::set_tag("request", n);
    tokio::task::yield_now().await;
    if n == 42 {
        panic!("request {n} exploded");
    }
    "survived"
}

#[test]
fn a_panic_in_a_handler_is_reported_with_its_request() {
    let _serial = serial();
    let receiver = Receiver::start();
    let guard = sentry_sdk::init(
        options(&receiver)
            .default_integrations(true)
            .traces_sample_rate(1.0),
    );
    let (runtime, addr) = serve(Router::new().route("/explode/{n}", get(explode)));

    let status = client(&runtime, |http| async move {
        let response = http
            .get(format!("http://{addr}/explode/42"))
            .header("user-agent", "e2e")
            .send()
            .await
            .unwrap();
        response.status().as_u16()
    });
    assert_eq!(status, 500);
    // The server is still up after the panic.
    let status = client(&runtime, |http| async move {
        let url = format!("http://{addr}/nowhere");
        http.get(url).send().await.unwrap().status().as_u16()
    });
    assert_eq!(status, 404);
    drop(guard);
    drop(runtime);

    let events = receiver.events();
    assert_eq!(events.len(), 1, "{events:#?}");
    let event = &events[0];
    assert_eq!(event["level"], "fatal");
    let ex = &event["exception"]["values"][0];
    assert_eq!(ex["type"], "panic");
    assert_eq!(ex["value"], "request 42 exploded");
    assert_eq!(event["tags"]["request"], "42");
    assert_eq!(event["request"]["url"], format!("http://{addr}/explode/42"));
    assert_eq!(event["request"]["headers"]["user-agent"], "e2e");

    let transactions = transactions(&receiver);
    let panicked: Vec<&Value> = transactions
        .iter()
        .map(|(_, tx)| tx)
        .filter(|tx| tx["transaction"] == "GET /explode/{n}")
        .collect();
    assert_eq!(panicked.len(), 1, "{transactions:#?}");
    let trace = &panicked[0]["contexts"]["trace"];
    assert_eq!(trace["status"], "internal_error");
    assert_eq!(event["contexts"]["trace"]["trace_id"], trace["trace_id"]);
    assert_eq!(panicked[0]["tags"]["request"], "42");
}
