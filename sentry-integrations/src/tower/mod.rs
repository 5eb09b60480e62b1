//! The `tower` integration (feature `tower`; feature `axum` adds route names): a
//! [`SentryLayer`] for HTTP servers built on `tower` services (axum, hyper with
//! `hyper-util`'s tower adapter, tonic).
//!
//! For each request, the layer's [`SentryService`]:
//! 1. runs the response future in its own isolation scope (see
//!    [`IsolationExt::isolated`](sentry_sdk_core::IsolationExt::isolated)): tags, breadcrumbs
//!    and the user that the handler sets stay with this request, whatever thread polls it;
//! 2. continues the caller's trace from `sentry-trace` and `baggage` (and `traceparent` when
//!    `propagate_traceparent` is on);
//! 3. records the request on that scope: method, URL, query string and headers, scrubbed
//!    (below), never the body;
//! 4. when the trace is sampled, starts an `http.server` transaction named
//!    `"{METHOD} {path}"` (source `url`) or, with the `axum` feature, `"{METHOD} {route}"`
//!    from axum's `MatchedPath` (source `route`, e.g. `GET /orders/{id}`). It is the current
//!    span while the handler runs and is finished with the response: status from the HTTP
//!    code ([`SpanStatus::from_http_status`]: 404 `not_found`, 5xx `internal_error`, ...), the
//!    code in its data as `http.response.status_code`; `internal_error` when the handler
//!    panics, `cancelled` when the request is dropped before it is answered.
//!
//! Scrubbing: headers whose name contains `auth`, `token`, `secret`, `password`, `passwd`,
//! `pwd`, `key`, `jwt`, `bearer`, `session`, `csrf`, `xsrf`, `credentials`, `sso` or `saml`
//! are always sent as `[Filtered]`. Unless `send_default_pii` is on, so are the headers that
//! identify the user or the client's address (`Cookie`, `Set-Cookie`, `X-Forwarded-For`,
//! `X-Real-Ip`, `Forwarded`, ...), and the event has no cookies. With `send_default_pii`,
//! cookies go into `request.cookies`, each sensitive one as `name=[Filtered]`.
//!
//! Panics in a handler are reported by the panic hook with the request's scope, as they
//! happen while the request's future is polled. To keep answering the client (a 500 instead
//! of a closed connection), put `tower-http`'s `CatchPanicLayer` outside this layer.
//!
//! Cost: with no client bound, one isolation-scope fork and two small allocations per
//! request; with tracing off or an unsampled trace, also the request data and the trace
//! headers, and no transaction. In `benches/tower.rs` (a request with six headers, on a
//! busy two-core machine) the layer added under 0.5 µs with no client, about 2.5 µs with
//! tracing off or an unsampled trace, and 5 µs with a sampled transaction.
//!
//! [`SpanStatus::from_http_status`]: sentry_sdk_core::protocol::SpanStatus::from_http_status

use std::fmt;
use std::task::{Context, Poll};

use tower_layer::Layer;
use tower_service::Service;

mod future;
mod request;
mod route;

pub use future::ResponseFuture;

use request::RequestStart;

/// A `tower::Layer` that gives every HTTP request its own isolation scope, continues the
/// caller's trace, records the request and (when sampled) an `http.server` transaction; see
/// the [module docs](self).
///
/// With axum, add it with `Router::layer` after the routes, so that it runs after routing and
/// sees the matched route:
/// ```
/// # #[cfg(feature = "axum")] {
/// use sentry_sdk_integrations::tower::SentryLayer;
/// async fn order() -> &'static str { "an order" }
/// let app: axum::Router = axum::Router::new()
///     .route("/orders/{id}", axum::routing::get(order))
///     .layer(SentryLayer::new());
/// # }
/// ```
/// Any `tower` service from `http::Request` to `http::Response` works:
/// ```
/// use std::convert::Infallible;
/// use std::future::{ready, Ready};
/// use std::task::{Context, Poll};
/// use sentry_sdk_integrations::tower::SentryLayer;
/// use tower_layer::Layer;
/// use tower_service::Service;
///
/// /// Answers every request with 204.
/// #[derive(Clone)]
/// struct NoContent;
///
/// impl Service<http::Request<String>> for NoContent {
///     type Response = http::Response<String>;
///     type Error = Infallible;
///     type Future = Ready<Result<Self::Response, Infallible>>;
///     fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
///         Poll::Ready(Ok(()))
///     }
///     fn call(&mut self, _: http::Request<String>) -> Self::Future {
///         let mut response = http::Response::new(String::new());
///         *response.status_mut() = http::StatusCode::NO_CONTENT;
///         ready(Ok(response))
///     }
/// }
///
/// let mut service = SentryLayer::new().layer(NoContent);
/// let answer = service.call(http::Request::new(String::new()));
/// # let _ = answer;
/// ```
#[derive(Clone, Default)]
pub struct SentryLayer {
    // Room for settings (a name for the transaction op, say) without breaking `new()`.
    _private: (),
}

impl SentryLayer {
    /// The layer; it has no settings: what it records follows the client's options
    /// (`traces_sample_rate`, `send_default_pii`, `propagate_traceparent`).
    pub fn new() -> SentryLayer {
        SentryLayer { _private: () }
    }
}

impl fmt::Debug for SentryLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SentryLayer")
    }
}

impl<S> Layer<S> for SentryLayer {
    type Service = SentryService<S>;

    fn layer(&self, inner: S) -> SentryService<S> {
        SentryService { inner }
    }
}

/// The service that [`SentryLayer`] wraps around yours.
#[derive(Clone)]
pub struct SentryService<S> {
    inner: S,
}

impl<S> SentryService<S> {
    /// Wraps `inner` (the same as `SentryLayer::new().layer(inner)`).
    pub fn new(inner: S) -> SentryService<S> {
        SentryService { inner }
    }
}

impl<S> fmt::Debug for SentryService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SentryService").finish_non_exhaustive()
    }
}

// === impl Service ===

impl<S, ReqBody, ResBody> Service<http::Request<ReqBody>> for SentryService<S>
where
    S: Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<ReqBody>) -> Self::Future {
        // What the request's scope and transaction need is read now, while we have the
        // request; it is applied on the first poll, inside the request's own scope.
        let start = sentry_sdk_core::is_active().then(|| Box::new(RequestStart::new(&request)));
        ResponseFuture::new(self.inner.call(request), start)
    }
}
