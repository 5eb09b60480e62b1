//! What the actix-web middleware costs one request, ours and the official crate's
//! (`sentry-actix`) side by side: an app with one route that answers at once, called through
//! actix-web's test service (no network) with the headers a browser sends.
//!
//! Instruction counts per request, one case per run: the whole process with
//! `ACTIX_BENCH_REQUESTS=1000` minus the same with `0`, divided by 1,000 (the requests run
//! inside actix's runtime, where no function is the loop alone for callgrind to toggle on):
//!
//! ```text
//! cargo bench --bench actix --features actix --no-run
//! ACTIX_BENCH_CASE=<plain|ours-unsampled|ours-sampled|official-unsampled|official-sampled> \
//!     ACTIX_BENCH_REQUESTS=1000 valgrind --tool=callgrind target/release/deps/actix-<hash>
//! ```
//!
//! A middleware's overhead is its count minus `plain`'s. Ours hands the finished transaction
//! to a transport that drops it (it is built on the SDK's thread, off the request's path); the
//! official crate builds its envelope on the calling thread before its transport drops it.

use std::sync::Arc;

use actix_web::dev::{Service, ServiceResponse};
use actix_web::{test, web, App, HttpResponse};

#[path = "support/discard.rs"]
mod discard;

const DSN: &str = "https://public@127.0.0.1:9/1";

/// The request of every iteration (a closure: its type is actix-http's, not re-exported).
fn request() -> test::TestRequest {
    test::TestRequest::get()
        .uri("/orders/7?expand=items")
        .insert_header(("host", "shop.example"))
        .insert_header((
            "user-agent",
            "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Firefox/128.0",
        ))
        .insert_header(("accept", "text/html,application/xhtml+xml"))
        .insert_header(("accept-language", "en-GB,en;q=0.5"))
        .insert_header(("accept-encoding", "gzip, deflate, br"))
        .insert_header(("cookie", "theme=dark; sessionid=abc"))
}

async fn order() -> HttpResponse {
    HttpResponse::Ok().finish()
}

/// `ACTIX_BENCH_REQUESTS` requests (default 1,000) through `app`.
async fn measured_region<S, R, B>(app: &S, make: impl Fn() -> R)
where
    S: Service<R, Response = ServiceResponse<B>, Error = actix_web::Error>,
{
    let n: usize = std::env::var("ACTIX_BENCH_REQUESTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1000);
    for _ in 0..n {
        let response = test::call_service(app, make()).await;
        std::hint::black_box(response.status());
    }
}

fn ours(rate: f32) {
    let options = sentry_sdk::ClientOptions::new()
        .dsn(DSN)
        .default_integrations(false)
        .traces_sample_rate(rate)
        .transport(|_| Arc::new(discard::Discard));
    Arc::new(sentry_sdk::Client::new(options).expect("bench client")).bind();
}

fn official(rate: f32) -> sentry::ClientInitGuard {
    let options = sentry::ClientOptions::new()
        .dsn(DSN)
        .transport(Arc::new(discard::OfficialDiscard))
        .traces_sample_rate(rate);
    sentry::init(options)
}

fn main() {
    let case = std::env::var("ACTIX_BENCH_CASE").unwrap_or_else(|_| "plain".to_owned());
    actix_web::rt::System::new().block_on(async move {
        let route = || web::resource("/orders/{id}").to(order);
        match case.as_str() {
            "plain" => {
                let app = test::init_service(App::new().service(route())).await;
                test::call_service(&app, request().to_request()).await;
                measured_region(&app, || request().to_request()).await;
            }
            "ours-unsampled" | "ours-sampled" => {
                ours(if case == "ours-sampled" { 1.0 } else { 0.0 });
                let app = test::init_service(
                    App::new()
                        .wrap(sentry_sdk::integrations::actix::Sentry::new())
                        .service(route()),
                )
                .await;
                test::call_service(&app, request().to_request()).await;
                measured_region(&app, || request().to_request()).await;
            }
            "official-unsampled" | "official-sampled" => {
                let _guard = official(if case == "official-sampled" { 1.0 } else { 0.0 });
                let middleware = sentry::integrations::actix::Sentry::builder()
                    .start_transaction(true)
                    .finish();
                let app = test::init_service(App::new().wrap(middleware).service(route())).await;
                test::call_service(&app, request().to_request()).await;
                measured_region(&app, || request().to_request()).await;
            }
            other => panic!("unknown ACTIX_BENCH_CASE {other}"),
        }
    });
}
