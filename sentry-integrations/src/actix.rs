//! The actix-web integration (feature `actix`): a middleware that gives every request its own
//! isolation scope, trace and `http.server` transaction.
//!
//! ```no_run
//! use actix_web::{web, App, HttpServer};
//! use sentry_sdk_integrations::actix::Sentry;
//! # async fn run() -> std::io::Result<()> {
//! HttpServer::new(|| {
//!     App::new()
//!         .wrap(Sentry::new())
//!         .route("/orders/{id}", web::get().to(|| async { "ok" }))
//! })
//! .bind(("127.0.0.1", 8080))?
//! .run()
//! .await
//! # }
//! ```
//! For each request the middleware
//! 1. forks the isolation scope ([`IsolationExt::isolated`]): tags, user and breadcrumbs set
//!    by the handler stay with its request;
//! 2. continues the caller's trace from `sentry-trace` / `baggage` (and `traceparent` when
//!    `propagate_traceparent` is on);
//! 3. records the request (method, URL, query string, scrubbed headers: see
//!    [`request_from_parts`]) on that scope, so events captured while handling it carry it;
//! 4. runs the handler inside an `http.server` transaction, named `"{METHOD} {pattern}"`
//!    after the matched route (`GET /orders/{id}`, source `route`), or after the path (source
//!    `url`) when no route matched, with the response's status code and span status;
//! 5. captures an error returned by the handler whose response is a 5xx (unless
//!    [`capture_server_errors(false)`](Sentry::capture_server_errors)), in that request's
//!    scope and trace.
//!
//! Panics: actix-web does not catch a handler's panic; it unwinds out of the worker's poll of
//! the request, inside the request's scope, so the panic integration's event carries the
//! request's data and tags, and the transaction is sent with status `internal_error`. A
//! request dropped unanswered (the client went away) is sent as `cancelled`.
//!
//! The transaction is named from the path when it starts and renamed after routing, so an
//! outgoing request made by the handler propagates no transaction name (a path may hold ids).

use std::future::{ready, Future, Ready};
use std::pin::Pin;
use std::rc::Rc;

use actix_web::dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::Error;
use sentry_sdk_core::performance::{
    continue_trace, start_transaction_named, SpanStatus, Transaction, TransactionSource,
};
use sentry_sdk_core::{capture_exception, configure_scope, IsolationExt};

use crate::http_request::{request_from_parts, span_status};

/// The actix-web middleware: see the [module docs](self). Add it with `App::wrap` (outermost,
/// so that it sees every request and the final response).
///
/// # Examples
/// ```
/// use sentry_sdk_integrations::actix::Sentry;
/// let app = actix_web::App::new().wrap(Sentry::new().capture_server_errors(true));
/// # drop(app);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Sentry {
    capture_server_errors: bool,
}

impl Default for Sentry {
    fn default() -> Self {
        Self::new()
    }
}

impl Sentry {
    /// The middleware, capturing 5xx errors.
    pub fn new() -> Self {
        Self {
            capture_server_errors: true,
        }
    }

    /// Whether an error returned by a handler whose response is a 5xx is captured as an event.
    /// Default is `true`.
    #[must_use]
    pub fn capture_server_errors(mut self, on: bool) -> Self {
        self.capture_server_errors = on;
        self
    }
}

impl<S, B> Transform<S, ServiceRequest> for Sentry
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    S::Future: 'static,
    B: 'static,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Transform = SentryMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(SentryMiddleware {
            service: Rc::new(service),
            options: *self,
        }))
    }
}

/// The service [`Sentry`] wraps around the application; made by actix-web, not by you.
#[derive(Debug)]
pub struct SentryMiddleware<S> {
    // `Rc`: the request's future outlives `call`'s borrow of `self` and calls the service.
    service: Rc<S>,
    options: Sentry,
}

impl<S, B> Service<ServiceRequest> for SentryMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    S::Future: 'static,
    B: 'static,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<ServiceResponse<B>, Error>>>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let service = self.service.clone();
        let options = self.options;
        // `isolated` forks here, when the request arrives; everything below runs in the fork.
        Box::pin(handle(service, options, req).isolated())
    }
}

/// One request, inside its own isolation scope.
async fn handle<S, B>(
    service: Rc<S>,
    options: Sentry,
    req: ServiceRequest,
) -> Result<ServiceResponse<B>, Error>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
{
    // The request's release-health session (request mode): ended when this future is done
    // or dropped.
    let _session = sentry_sdk_core::start_request_session();
    continue_trace(|name| req.headers().get(name).and_then(|v| v.to_str().ok()));
    // The request's data is built only if an event needs it, on the SDK's thread: here only
    // the parts are kept (the header map and strings are cheap to clone; building and
    // scrubbing them is not).
    {
        let uri = req.uri().clone();
        let headers = req.headers().clone();
        let method = req.method().clone();
        let peer = req.peer_addr();
        configure_scope(move |scope| {
            scope.set_request_with(move || {
                // What actix's `connection_info` would say, from the kept headers: the
                // scheme a proxy forwarded, else the URI's, else `http`; the `Host` header.
                let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
                let scheme = header("x-forwarded-proto")
                    .or(uri.scheme_str())
                    .unwrap_or("http");
                let host = header("x-forwarded-host")
                    .or(header("host"))
                    .or(uri.authority().map(|a| a.as_str()))
                    .unwrap_or("localhost");
                // The origin-form target only: an absolute-form one would repeat the host.
                let target = uri.path_and_query().map_or("/", |pq| pq.as_str());
                let url = format!("{scheme}://{host}{target}");
                let pairs = headers
                    .iter()
                    .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)));
                let peer = peer.map(|a| a.ip().to_string());
                request_from_parts(method.as_str(), &url, pairs, peer.as_deref())
            })
        });
    }

    let method = req.method().clone();
    // Decided before the name is built: an unsampled request builds no transaction at all.
    let transaction = start_transaction_named("http.server", || {
        (format!("{method} {}", req.path()), TransactionSource::Url)
    });
    if transaction.is_sampled() {
        transaction.as_span().set_origin("auto.http.actix");
        transaction.set_data("http.request.method", method.as_str());
    }

    let span = transaction.as_span();
    // The handler runs with the transaction current (its events, spans and outgoing requests
    // belong to it); the status is set inside, before `in_span` finishes the transaction.
    async move {
        let mut unfinished = Unfinished {
            transaction: &transaction,
            responded: false,
        };
        let result = service.call(req).await;
        unfinished.responded = true;
        let (status, error) = match &result {
            Ok(res) => {
                name_after_route(&transaction, method.as_str(), res);
                (res.status(), res.response().error())
            }
            Err(e) => (e.as_response_error().status_code(), Some(e)),
        };
        transaction.set_data("http.response.status_code", u64::from(status.as_u16()));
        transaction.set_status(span_status(status.as_u16()));
        if let Some(error) = error.filter(|_| status.is_server_error()) {
            if options.capture_server_errors {
                capture_exception(error);
            }
        }
        result
    }
    .in_span(span)
    .await
}

/// Marks the transaction of a request whose future is dropped before the handler returned: by
/// a panic unwinding through it (`internal_error`), or by actix-web when the client went away
/// (`cancelled`). The transaction is then sent when its last handle drops.
struct Unfinished<'a> {
    transaction: &'a Transaction,
    responded: bool,
}

impl Drop for Unfinished<'_> {
    fn drop(&mut self) {
        if !self.responded {
            self.transaction.set_status(if std::thread::panicking() {
                SpanStatus::InternalError
            } else {
                SpanStatus::Cancelled
            });
        }
    }
}

/// Renames the transaction after the route that matched, once routing is done.
fn name_after_route<B>(transaction: &Transaction, method: &str, res: &ServiceResponse<B>) {
    if !transaction.is_sampled() {
        return; // nothing to name: no string built
    }
    if let Some(pattern) = res.request().match_pattern() {
        transaction.set_name_and_source(format!("{method} {pattern}"), TransactionSource::Route);
    }
}
