//! The `reqwest` integration (feature `reqwest`): a `reqwest-middleware` middleware that traces
//! outgoing requests.
//!
//! ```no_run
//! use sentry_sdk_integrations::reqwest::SentryTracing;
//! let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
//!     .with(SentryTracing::new())
//!     .build();
//! # drop(client);
//! ```
//! Each request gets an `http.client` child span of the span in force where it is sent (see
//! [`trace_request`]), with the response's status code,
//! and carries `sentry-trace` and `baggage` (its own `baggage` entries kept) when its URL
//! matches `trace_propagation_targets`. The middleware's `reqwest` is the one this workspace
//! uses (0.12).

use http::header::{HeaderName, HeaderValue};
use http::Extensions;
use reqwest_middleware::{Middleware, Next, Result};
use sentry_sdk_core::performance::SpanStatus;

use crate::http_client::trace_request;

/// A `reqwest_middleware::Middleware` that records each request as an `http.client` span and
/// adds the trace headers: see the [module docs](self). Cheap to clone: it holds nothing.
///
/// # Examples
/// ```
/// use sentry_sdk_integrations::reqwest::SentryTracing;
/// let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
///     .with(SentryTracing::new())
///     .build();
/// # drop(client);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct SentryTracing {
    _private: (),
}

impl SentryTracing {
    /// The middleware.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait::async_trait]
impl Middleware for SentryTracing {
    async fn handle(
        &self,
        mut req: reqwest::Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> Result<reqwest::Response> {
        let method = req.method().as_str().to_owned();
        let url = req.url().as_str().to_owned();
        let existing = req
            .headers()
            .get("baggage")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let headers = req.headers_mut();
        // Runs on the first poll, inside the caller's task: the span in force there is the
        // parent.
        let span = trace_request(&method, &url, existing.as_deref(), |name, value| {
            if let Ok(value) = HeaderValue::from_str(value) {
                // `name` is one of our lowercase constants, which `from_static` accepts.
                headers.insert(HeaderName::from_static(name), value);
            }
        });
        let response = next.run(req, extensions).await;
        match &response {
            Ok(r) => span.finish(r.status().as_u16()),
            Err(reqwest_middleware::Error::Reqwest(e)) if e.is_timeout() => {
                span.finish_failed(SpanStatus::DeadlineExceeded)
            }
            Err(reqwest_middleware::Error::Reqwest(e)) if e.is_connect() => {
                span.finish_failed(SpanStatus::Unavailable)
            }
            Err(_) => span.finish_failed(SpanStatus::InternalError),
        }
        response
    }
}
