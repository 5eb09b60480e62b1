//! What the tower layer costs one request, on top of the service it wraps: the request is
//! made once per iteration with the headers a browser sends, the inner service answers at
//! once, and the client's transport discards what it is handed.
//!
//! - the inner service alone (the baseline);
//! - with our layer: no client bound, tracing off, an unsampled trace, a sampled trace (the
//!   finished transaction is handed to the transport, which builds it on its own thread);
//! - with the official crate's layers (`NewSentryLayer` for a hub per request, then
//!   `SentryHttpLayer` with transactions): unsampled and sampled (it builds the transaction
//!   on the calling thread and hands the envelope over).
//!
//! The overhead of a layer is its time minus the inner service's.
//!
//! For instruction counts, `TOWER_BENCH_CASE=<inner|ours-unsampled|ours-sampled|ours-off|
//! ours-off-sessions|ours-unsampled-sessions|official-unsampled|official-sampled>` runs 1,000
//! requests of one case in `measured_region` (`-sessions`: release-health request mode, a
//! session per request):
//!
//! ```text
//! TOWER_BENCH_CASE=ours-sampled valgrind --tool=callgrind --collect-atstart=no \
//!     '--toggle-collect=*measured_region*' target/release/deps/tower-<hash> --bench
//! ```
//!
//! ```text
//! cargo bench --bench tower --features axum
//! ```

use std::convert::Infallible;
use std::future::{ready, Future, Ready};
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

#[path = "support/discard.rs"]
mod discard;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use sentry_sdk::integrations::tower::SentryLayer;
use tower_layer::Layer;
use tower_service::Service;

const DSN: &str = "https://public@127.0.0.1:9/1";

/// Answers 200 at once.
#[derive(Clone)]
struct Ok200;

impl Service<http::Request<()>> for Ok200 {
    type Response = http::Response<()>;
    type Error = Infallible;
    type Future = Ready<Result<http::Response<()>, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: http::Request<()>) -> Self::Future {
        ready(Ok(http::Response::new(())))
    }
}

fn request() -> http::Request<()> {
    http::Request::get("/orders/7?expand=items")
        .header("host", "shop.example")
        .header(
            "user-agent",
            "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Firefox/128.0",
        )
        .header("accept", "text/html,application/xhtml+xml")
        .header("accept-language", "en-GB,en;q=0.5")
        .header("accept-encoding", "gzip, deflate, br")
        .header("cookie", "theme=dark; sessionid=abc")
        .body(())
        .unwrap()
}

/// Polls a future that is ready at once.
fn now<F: Future>(future: F) -> F::Output {
    struct Noop;
    impl Wake for Noop {
        fn wake(self: Arc<Self>) {}
    }
    let waker = Waker::from(Arc::new(Noop));
    let mut cx = Context::from_waker(&waker);
    match pin!(future).poll(&mut cx) {
        Poll::Ready(out) => out,
        Poll::Pending => unreachable!("the bench services answer at once"),
    }
}

fn client(rate: Option<f32>) -> Arc<sentry_sdk::Client> {
    client_with(rate, false)
}

/// A client with tracing at `rate`; with `sessions`, a release and one session per request.
fn client_with(rate: Option<f32>, sessions: bool) -> Arc<sentry_sdk::Client> {
    let mut options = sentry_sdk::ClientOptions::new()
        .dsn(DSN)
        .default_integrations(false)
        .transport(|_| Arc::new(discard::Discard));
    if let Some(rate) = rate {
        options = options.traces_sample_rate(rate);
    }
    if sessions {
        options = options
            .release("bench@1.0.0")
            .session_mode(sentry_sdk::SessionMode::Request);
    }
    Arc::new(sentry_sdk::Client::new(options).expect("bench client"))
}

fn bench_service<S>(c: &mut Criterion, name: &str, mut service: S)
where
    S: Service<http::Request<()>, Response = http::Response<()>, Error = Infallible>,
{
    c.bench_function(name, |b| {
        b.iter(|| {
            let response = now(service.call(black_box(request()))).unwrap();
            black_box(response)
        })
    });
}

/// 1,000 requests through `service` (callgrind counts what runs inside).
#[inline(never)]
fn measured_region<S>(mut service: S)
where
    S: Service<http::Request<()>, Response = http::Response<()>, Error = Infallible>,
{
    for _ in 0..1000 {
        black_box(now(service.call(black_box(request()))).unwrap());
    }
}

/// The `TOWER_BENCH_CASE` run, if one is asked for (then the process ends).
fn one_case() {
    use sentry::integrations::tower::{NewSentryLayer, SentryHttpLayer};
    let Ok(case) = std::env::var("TOWER_BENCH_CASE") else {
        return;
    };
    // A warm-up request outside the region, then the measured ones.
    let official = |rate: f32| {
        let guard = official_client(rate);
        let mut service = NewSentryLayer::<http::Request<()>>::new_from_top()
            .layer(SentryHttpLayer::new().enable_transaction().layer(Ok200));
        let _ = now(service.call(request()));
        measured_region(service);
        drop(guard);
    };
    let ours = |rate: Option<f32>, sessions: bool| {
        client_with(rate, sessions).bind();
        let mut service = SentryLayer::new().layer(Ok200);
        let _ = now(service.call(request()));
        measured_region(service);
    };
    match case.as_str() {
        "inner" => measured_region(Ok200),
        "ours-unsampled" => ours(Some(0.0), false),
        "ours-sampled" => ours(Some(1.0), false),
        "ours-off" => ours(None, false),
        "ours-off-sessions" => ours(None, true),
        "ours-unsampled-sessions" => ours(Some(0.0), true),
        "official-unsampled" => official(0.0),
        "official-sampled" => official(1.0),
        other => panic!("unknown TOWER_BENCH_CASE {other}"),
    }
    std::process::exit(0);
}

fn layer(c: &mut Criterion) {
    one_case();
    bench_service(c, "tower/inner service alone", Ok200);
    bench_service(c, "tower/layer, no client", SentryLayer::new().layer(Ok200));
    for (name, rate) in [
        ("tower/layer, tracing off", None),
        ("tower/layer, unsampled", Some(0.0)),
        ("tower/layer, sampled", Some(1.0)),
    ] {
        client(rate).bind();
        bench_service(c, name, SentryLayer::new().layer(Ok200));
        sentry_sdk::unbind();
    }
    // Request mode: one release-health session per request on top of the layer.
    client_with(None, true).bind();
    let name = "tower/layer, tracing off, a session per request";
    bench_service(c, name, SentryLayer::new().layer(Ok200));
    sentry_sdk::unbind();
}

/// Binds an official client (its transport discards envelopes) with `rate`, for the official
/// layers.
fn official_client(rate: f32) -> sentry::ClientInitGuard {
    let options = sentry::ClientOptions::new()
        .dsn(DSN)
        .transport(Arc::new(discard::OfficialDiscard))
        .traces_sample_rate(rate);
    sentry::init(options)
}

fn official_layers(c: &mut Criterion) {
    use sentry::integrations::tower::{NewSentryLayer, SentryHttpLayer};
    for (name, rate) in [
        ("tower/official layers, unsampled", 0.0),
        ("tower/official layers, sampled", 1.0),
    ] {
        let guard = official_client(rate);
        let service = NewSentryLayer::<http::Request<()>>::new_from_top()
            .layer(SentryHttpLayer::new().enable_transaction().layer(Ok200));
        bench_service(c, name, service);
        drop(guard);
    }
}

criterion_group!(benches, layer, official_layers);
criterion_main!(benches);
