//! What the layer reads from a request: the trace headers, the transaction's name, and the
//! request as events show it, scrubbed (PROTOCOL.md §8.4).

use http::header::{HeaderName, HeaderValue};
use sentry_sdk_core::performance::{self, Transaction, TransactionSource};
use sentry_sdk_core::protocol::{Map, Request};
use sentry_sdk_core::FILTERED;

use super::route::{self, Route};

/// One request's data, taken when the service is called and applied on the first poll of its
/// response future, in the request's isolation scope.
pub(crate) struct RequestStart {
    sentry_trace: Option<HeaderValue>,
    baggage: Option<HeaderValue>,
    traceparent: Option<HeaderValue>,
    method: http::Method,
    /// Only the path is kept, for the name: the URL with host and query is in `request`.
    path: String,
    route: Option<Route>,
    /// What the request data is built from if an event needs it (on the SDK's thread): the
    /// URI and headers are cheap to clone, building and scrubbing them is not.
    uri: http::Uri,
    headers: http::HeaderMap,
    pii: bool,
}

impl RequestStart {
    pub(crate) fn new<B>(request: &http::Request<B>) -> RequestStart {
        let pii = sentry_sdk_core::current_client()
            .is_some_and(|c| c.options().settings().send_default_pii);
        let headers = request.headers();
        RequestStart {
            sentry_trace: headers.get("sentry-trace").cloned(),
            baggage: headers.get("baggage").cloned(),
            traceparent: headers.get("traceparent").cloned(),
            method: request.method().clone(),
            path: request.uri().path().to_owned(),
            route: route::of(request),
            uri: request.uri().clone(),
            headers: headers.clone(),
            pii,
        }
    }

    /// In the request's isolation scope: continues the caller's trace, records the request,
    /// and starts the transaction if the trace is sampled.
    pub(crate) fn begin(self) -> Option<Transaction> {
        let RequestStart {
            sentry_trace,
            baggage,
            traceparent,
            method,
            path,
            route,
            uri,
            headers,
            pii,
        } = self;
        sentry_sdk_core::performance::continue_trace(|name| {
            let value = match name {
                "sentry-trace" => &sentry_trace,
                "baggage" => &baggage,
                "traceparent" => &traceparent,
                _ => return None,
            };
            value.as_ref().and_then(|v| v.to_str().ok())
        });
        let for_events = method.clone();
        sentry_sdk_core::configure_scope(move |scope| {
            scope.set_request_with(move || describe(&for_events, &uri, &headers, pii))
        });

        // Decided before the name is built, so that an unsampled request allocates nothing
        // more; `None` means tracing is off, or a `traces_sampler` wants to see the name.
        let transaction = performance::start_transaction_named("http.server", || match &route {
            Some(route) => (
                format!("{method} {}", route.as_str()),
                TransactionSource::Route,
            ),
            None => (format!("{method} {path}"), TransactionSource::Url),
        });
        if !transaction.is_sampled() {
            return None;
        }
        let span = transaction.as_span();
        span.set_origin("auto.http.tower");
        span.set_data("http.request.method", method.as_str());
        Some(transaction)
    }
}

/// The request as events show it: method, URL (no query, no user info), query string and
/// scrubbed headers; cookies only with `pii`.
fn describe(
    method: &http::Method,
    uri: &http::Uri,
    request_headers: &http::HeaderMap,
    pii: bool,
) -> Request {
    let host = uri
        .authority()
        .map(|a| a.as_str())
        .or_else(|| request_headers.get(http::header::HOST)?.to_str().ok());
    let url = match host {
        Some(host) => {
            // Credentials in the URL's user info are never sent.
            let host = match host.rsplit_once('@') {
                Some((_, host)) => format!("{FILTERED}:{FILTERED}@{host}"),
                None => host.to_owned(),
            };
            format!(
                "{}://{host}{}",
                uri.scheme_str().unwrap_or("http"),
                uri.path()
            )
        }
        None => uri.path().to_owned(),
    };
    let mut headers = Map::new();
    let mut cookies = None;
    for name in request_headers.keys() {
        let joined = join(request_headers.get_all(name).iter());
        if name == http::header::COOKIE && pii {
            cookies = Some(scrub_cookies(&joined));
            continue;
        }
        let value = match is_sensitive(name) || (!pii && is_identifying(name)) {
            true => FILTERED.to_owned(),
            false => joined,
        };
        headers.insert(name.as_str().to_owned(), value);
    }
    Request {
        method: Some(method.as_str().to_owned()),
        url: Some(url),
        query_string: uri.query().map(str::to_owned),
        headers,
        cookies,
        ..Default::default()
    }
}

/// The values of a repeated header, comma-separated as HTTP allows; bytes that are not UTF-8
/// are replaced.
fn join<'a>(values: impl Iterator<Item = &'a HeaderValue>) -> String {
    let mut joined = String::new();
    for value in values {
        if !joined.is_empty() {
            joined.push_str(", ");
        }
        joined.push_str(&String::from_utf8_lossy(value.as_bytes()));
    }
    joined
}

/// Always filtered (the shared list, `crate::http_request`).
fn is_sensitive(name: &HeaderName) -> bool {
    crate::http_request::is_secret(name.as_str())
}

/// Sent only with `send_default_pii`: the client's address and cookies.
fn is_identifying(name: &HeaderName) -> bool {
    name == http::header::COOKIE || crate::http_request::is_client_header(name.as_str())
}

/// `a=1; session_id=x` -> `a=1; session_id=[Filtered]`: cookies named like secrets are
/// filtered one by one, the rest kept.
fn scrub_cookies(header: &str) -> String {
    let mut out = Vec::new();
    for cookie in header.split(';').map(str::trim).filter(|c| !c.is_empty()) {
        let name = cookie.split_once('=').map_or(cookie, |(n, _)| n);
        if crate::http_request::is_secret(&name.to_ascii_lowercase()) {
            out.push(format!("{name}={FILTERED}"));
        } else {
            out.push(cookie.to_owned());
        }
    }
    out.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(pii: bool) -> Request {
        let request = http::Request::get("/orders/7?expand=items")
            .header("host", "shop.example:8080")
            .header("user-agent", "curl/8")
            .header("accept", "text/html")
            .header("accept", "application/json")
            .header("authorization", "Bearer abc")
            .header("x-api-key", "k")
            .header("x-csrf-token", "t")
            .header("cookie", "theme=dark; sessionid=s3cr3t")
            .header("x-forwarded-for", "203.0.113.9")
            .header("x-real-ip", "203.0.113.9")
            .body(())
            .unwrap();
        describe(request.method(), request.uri(), request.headers(), pii)
    }

    #[test]
    fn url_query_and_plain_headers_are_kept() {
        let r = request(false);
        assert_eq!(r.method.as_deref(), Some("GET"));
        assert_eq!(r.url.as_deref(), Some("http://shop.example:8080/orders/7"));
        assert_eq!(r.query_string.as_deref(), Some("expand=items"));
        assert_eq!(r.headers["user-agent"], "curl/8");
        assert_eq!(r.headers["accept"], "text/html, application/json");
    }

    #[test]
    fn secrets_are_filtered_with_or_without_pii() {
        for pii in [false, true] {
            let r = request(pii);
            for name in ["authorization", "x-api-key", "x-csrf-token"] {
                assert_eq!(r.headers[name], FILTERED, "{name} with pii={pii}");
            }
        }
    }

    #[test]
    fn identifying_headers_and_cookies_need_pii() {
        let r = request(false);
        assert_eq!(r.headers["cookie"], FILTERED);
        assert_eq!(r.headers["x-forwarded-for"], FILTERED);
        assert_eq!(r.headers["x-real-ip"], FILTERED);
        assert_eq!(r.cookies, None);

        let r = request(true);
        assert!(!r.headers.contains_key("cookie"));
        assert_eq!(r.headers["x-forwarded-for"], "203.0.113.9");
        assert_eq!(
            r.cookies.as_deref(),
            Some("theme=dark; sessionid=[Filtered]")
        );
    }

    #[test]
    fn sensitive_words_are_found_anywhere_in_a_name() {
        for name in [
            "authorization",
            "x-api-key",
            "my-session-id",
            "x-xsrf",
            "saml",
        ] {
            assert!(crate::http_request::is_secret(name), "{name}");
        }
        for name in [
            "accept",
            "user-agent",
            "keep-alive",
            "host",
            "x-request-id",
            "",
        ] {
            assert!(!crate::http_request::is_secret(name), "{name}");
        }
    }

    #[test]
    fn user_info_in_the_url_is_filtered() {
        let request = http::Request::get("http://ada:pw@shop.example/a?b=1")
            .body(())
            .unwrap();
        let r = describe(request.method(), request.uri(), request.headers(), true);
        assert_eq!(
            r.url.as_deref(),
            Some("http://[Filtered]:[Filtered]@shop.example/a")
        );
    }
}
