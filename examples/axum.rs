//! An axum server reporting to Sentry through the tower layer: one isolation scope, continued
//! trace and `http.server` transaction per request.
//!
//! ```text
//! cargo run --example axum --all-features                 # no account needed
//! SENTRY_DSN=https://key@host/1 PORT=8080 cargo run --example axum --all-features
//! curl 127.0.0.1:3000/hello; curl 127.0.0.1:3000/error; curl 127.0.0.1:3000/panic
//! ```
//! Environment (a contract that outside tools drive):
//! - `PORT` (default 3000): served on `127.0.0.1:$PORT`; `listening on http://127.0.0.1:<port>`
//!   is printed once bound.
//! - `SENTRY_DSN`: where events go; without it a local receiver on 127.0.0.1 takes them and
//!   what arrived is printed on exit.
//! - `SENTRY_TRACES_SAMPLE_RATE` (default 1.0), `SENTRY_DEBUG`.
//! - `DOWNSTREAM_URL`: `GET /hello` calls it inside an `http.client` span, carrying the trace.
//!
//! Routes: `GET /hello` (200), `GET /error` (captures an error, 500), `GET /panic` (panics in
//! the handler; answered 500). Ctrl-C or SIGTERM: stops serving, closes the SDK (waiting at
//! most 2 s for delivery) and exits 0.

#[path = "../tests/support/receiver.rs"]
mod receiver;

use std::io::Write;
use std::time::Duration;

use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use sentry_sdk::integrations::tower::SentryLayer;
use sentry_sdk::performance::{current_span, SpanStatus};
use sentry_sdk::protocol::Breadcrumb;
use sentry_sdk::{ClientOptions, IsolationExt};
use tower_http::catch_panic::CatchPanicLayer;

/// The downstream service `/hello` calls, if any.
#[derive(Clone)]
struct Downstream {
    url: Option<String>,
    http: reqwest::Client,
}

async fn hello(axum::extract::State(downstream): axum::extract::State<Downstream>) -> StatusCode {
    sentry_sdk::add_breadcrumb(Breadcrumb {
        category: Some("app".into()),
        message: Some("saying hello".into()),
        ..Default::default()
    });
    if let Some(url) = &downstream.url {
        if let Err(err) = call(&downstream.http, url).await {
            sentry_sdk::capture_exception(&err);
            return StatusCode::BAD_GATEWAY;
        }
    }
    StatusCode::OK
}

/// `GET url` in an `http.client` span, with the trace headers, so that the downstream
/// service continues this request's trace.
async fn call(http: &reqwest::Client, url: &str) -> Result<(), reqwest::Error> {
    let span =
        current_span().map(|parent| parent.start_child("http.client", &format!("GET {url}")));
    let request = async {
        let mut request = http.get(url);
        // Inside the span: the downstream's parent is the `http.client` span.
        if let Some(headers) = sentry_sdk::outgoing_headers(url, None) {
            for (name, value) in headers.iter() {
                request = request.header(name, value);
            }
        }
        let response = request.send().await;
        if let Some(span) = current_span() {
            match &response {
                Ok(r) => {
                    let code = r.status().as_u16();
                    span.set_data("http.response.status_code", code);
                    span.set_status(SpanStatus::from_http_status(code));
                }
                Err(_) => span.set_status(SpanStatus::InternalError),
            }
        }
        response.map(drop)
    };
    match span {
        // Finished when the request is done.
        Some(span) => request.in_span(span).await,
        None => request.await,
    }
}

/// An application error with a cause, as most programs have.
#[derive(Debug)]
struct CheckoutError(std::num::ParseIntError);

impl std::fmt::Display for CheckoutError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("checkout failed: bad quantity")
    }
}

impl std::error::Error for CheckoutError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

async fn error() -> StatusCode {
    sentry_sdk::set_tag("route", "error");
    if let Err(err) = "many".parse::<u32>().map_err(CheckoutError) {
        sentry_sdk::capture_exception(&err);
    }
    StatusCode::INTERNAL_SERVER_ERROR
}

async fn panic() -> &'static str {
    sentry_sdk::set_tag("route", "panic");
    let orders: Vec<u32> = Vec::new();
    // The panic hook reports this with the request's scope; CatchPanicLayer answers 500.
    if orders.is_empty() {
        panic!("no orders to ship");
    }
    "shipped"
}

/// Ctrl-C, or SIGTERM on Unix.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate() => {}
    }
}

#[cfg(unix)]
async fn terminate() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            term.recv().await;
        }
        Err(_) => std::future::pending().await,
    }
}

#[cfg(not(unix))]
async fn terminate() {
    std::future::pending().await
}

fn main() {
    let local = receiver::Receiver::unless_dsn_set();
    let rate = std::env::var("SENTRY_TRACES_SAMPLE_RATE")
        .ok()
        .and_then(|r| r.trim().parse::<f32>().ok())
        .unwrap_or(1.0);
    let options = ClientOptions::new()
        .release(concat!("axum-example@", env!("CARGO_PKG_VERSION")))
        .environment("axum-example")
        .traces_sample_rate(rate);
    let guard = sentry_sdk::init(receiver::Receiver::point(&local, options));
    if !guard.is_enabled() {
        eprintln!("the SDK is disabled: check SENTRY_DSN");
        std::process::exit(1);
    }

    let port: u16 = match std::env::var("PORT") {
        Ok(p) => p.trim().parse().unwrap_or_else(|_| {
            eprintln!("PORT must be a port number, not {p:?}");
            std::process::exit(2);
        }),
        Err(_) => 3000,
    };
    let downstream = Downstream {
        url: std::env::var("DOWNSTREAM_URL")
            .ok()
            .filter(|u| !u.is_empty()),
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("an HTTP client"),
    };
    let app = Router::new()
        .route("/hello", get(hello))
        .route("/error", get(error))
        .route("/panic", get(panic))
        .with_state(downstream)
        // After the routes, so that transactions are named by route; CatchPanicLayer outside
        // it keeps the server answering when a handler panics.
        .layer(SentryLayer::new())
        .layer(CatchPanicLayer::new());

    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let served = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        println!("listening on http://{addr}");
        std::io::stdout().flush()?;
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown_signal())
            .await
    });
    drop(runtime);
    if let Err(err) = served {
        eprintln!("could not serve on 127.0.0.1:{port}: {err}");
        std::process::exit(1);
    }

    println!("shutting down");
    // Waits (at most 2 s) until everything is delivered.
    drop(guard);

    if let Some(receiver) = local {
        let requests = receiver.wait_for(1, Duration::from_millis(200));
        println!(
            "\nThe local receiver on 127.0.0.1:{} got {} envelope(s):",
            receiver.port(),
            requests.len()
        );
        for request in &requests {
            for item in request.envelope().items() {
                if let Some(payload) = item.payload_json() {
                    summarize(item.item_type(), &payload);
                }
            }
        }
    }
}

/// One line per item: what it is, its name or message, and its request.
fn summarize(kind: &str, item: &serde_json::Value) {
    let what = match kind {
        "transaction" => format!(
            "{} [{}] {} span(s)",
            item["transaction"].as_str().unwrap_or("?"),
            item["contexts"]["trace"]["status"].as_str().unwrap_or("?"),
            item["spans"].as_array().map_or(0, Vec::len),
        ),
        "event" => {
            let ex = &item["exception"]["values"];
            let last = ex.as_array().and_then(|v| v.last());
            format!(
                "[{}] {}: {}",
                item["level"].as_str().unwrap_or("?"),
                last.and_then(|e| e["type"].as_str()).unwrap_or("message"),
                last.and_then(|e| e["value"].as_str())
                    .or_else(|| item["logentry"]["formatted"].as_str())
                    .unwrap_or(""),
            )
        }
        _ => return,
    };
    let trace = item["contexts"]["trace"]["trace_id"]
        .as_str()
        .unwrap_or("-");
    println!(
        "- {kind} {what}\n    {} {} trace {trace} tags {}",
        item["request"]["method"].as_str().unwrap_or("-"),
        item["request"]["url"].as_str().unwrap_or("-"),
        item["tags"],
    );
}
