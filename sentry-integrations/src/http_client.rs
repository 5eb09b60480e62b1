//! Outgoing HTTP requests with any client: an `http.client` span around the request and the
//! trace headers it carries (PROTOCOL.md §5). The `reqwest` middleware is built on this; use
//! [`trace_request`] directly for hyper, ureq or your own client.

use sentry_sdk_core::performance::{current_span, outgoing_headers, Span, SpanStatus};

use crate::http_request::{span_status, without_userinfo};

/// The `http.client` span of one outgoing request, from [`trace_request`]. Finish it with the
/// response's status code ([`finish`](Self::finish)) or as failed
/// ([`finish_failed`](Self::finish_failed)); dropped unfinished, the span finishes without a
/// status.
#[derive(Debug)]
#[must_use = "the span ends when this is dropped: keep it until the response arrives"]
pub struct ClientSpan {
    span: Span,
}

impl ClientSpan {
    /// The span (a no-op one when there was no recorded span to attach to), to enter while
    /// the request runs or to add data to.
    pub fn span(&self) -> &Span {
        &self.span
    }

    /// Records the response's status code (`http.response.status_code`, and the span status
    /// it maps to) and finishes the span.
    pub fn finish(self, status_code: u16) {
        self.span
            .set_data("http.response.status_code", u64::from(status_code));
        self.span.set_status(span_status(status_code));
        self.span.finish();
    }

    /// Finishes the span with `status`, for a request that got no response (`deadline_exceeded`
    /// for a timeout, `unavailable` when the server could not be reached, `internal_error`
    /// otherwise).
    pub fn finish_failed(self, status: SpanStatus) {
        self.span.set_status(status);
        self.span.finish();
    }
}

/// Starts an `http.client` span for a request (`method` to `url`) as a child of the span in
/// force on this thread, and calls `add_header(name, value)` for each trace header the request
/// should carry (`sentry-trace`, `baggage`, and `traceparent` when `propagate_traceparent` is
/// on): nothing when no client is bound or `url` matches none of `trace_propagation_targets`.
///
/// `existing_baggage` is the request's own `baggage` header: its entries come first in the
/// `baggage` value given to `add_header`, which should *replace* the header. The span's
/// description is `"{method} {url}"` without the query string or fragment (and with user
/// info filtered); `http.request.method`, `url` and `http.query` go in its data. With no
/// recorded span in force the span is a no-op, and the headers continue the isolation scope's
/// trace.
///
/// # Examples
/// ```
/// use sentry_sdk_integrations::http_client::trace_request;
/// let mut headers = Vec::new();
/// let span = trace_request("GET", "http://127.0.0.1:8080/orders", None, |name, value| {
///     headers.push((name, value.to_owned()));
/// });
/// // ... send the request with `headers` ...
/// span.finish(200);
/// ```
pub fn trace_request(
    method: &str,
    url: &str,
    existing_baggage: Option<&str>,
    mut add_header: impl FnMut(&'static str, &str),
) -> ClientSpan {
    let without_query = url.split(['?', '#']).next().unwrap_or(url);
    let shown_url = without_userinfo(without_query);
    let span = current_span()
        .filter(Span::is_sampled)
        .map(|parent| parent.start_child("http.client", &format!("{method} {shown_url}")))
        .unwrap_or_else(Span::noop);
    if span.is_sampled() {
        span.set_origin("auto.http");
        span.set_data("http.request.method", method.to_owned());
        span.set_data("url", shown_url);
        if let Some((_, query)) = url.split('#').next().unwrap_or(url).split_once('?') {
            span.set_data("http.query", query.to_owned());
        }
    }
    // The callee's parent is this request's span, so it is current while the headers are
    // made; a no-op span is not entered, leaving the parent (or the scope's trace) in force.
    let headers = {
        let _entered = span.is_sampled().then(|| span.enter());
        outgoing_headers(url, existing_baggage)
    };
    if let Some(headers) = headers {
        for (name, value) in headers.iter() {
            add_header(name, value);
        }
    }
    ClientSpan { span }
}
