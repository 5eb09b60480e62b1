//! What a web framework integration records about the request it serves (`request` on events),
//! with the scrubbing of PROTOCOL.md §8.4 done in one place for every framework (actix-web
//! here, tower/axum alike), and the HTTP status to span status mapping of every HTTP span.
//!
//! Scrubbing, whatever `send_default_pii` says: a header whose name contains `auth`, `token`,
//! `secret`, `password`, `passwd`, `key`, `jwt`, `bearer`, `session`, `csrf`, `xsrf`,
//! `credentials` or `cookie` keeps its name with the value `"[Filtered]"`, and user info in
//! the URL becomes `[Filtered]:[Filtered]`. Without `send_default_pii` the headers that name
//! the client (`X-Forwarded-For`, `X-Real-Ip`, `Forwarded` and the like) are filtered too, and
//! neither the cookies nor the client address are recorded; with it, the `Cookie` header goes
//! to `cookies` and the address to `env.REMOTE_ADDR`. Bodies are never read.

use sentry_sdk_core::current_client;
use sentry_sdk_core::performance::SpanStatus;
use sentry_sdk_core::protocol::Request;
use sentry_sdk_core::FILTERED;

/// Header name fragments (lowercase) whose values are secrets: always filtered (PROTOCOL.md
/// §8.4). Shared with the tower layer.
pub(crate) const SECRET_NAMES: &[&str] = &[
    "auth",
    "token",
    "secret",
    "password",
    "passwd",
    "pwd",
    "key",
    "jwt",
    "bearer",
    "session",
    "csrf",
    "xsrf",
    "credentials",
    "sso",
    "saml",
    "cookie",
];

/// Headers (lowercase) that identify the client: filtered unless `send_default_pii`.
pub(crate) const CLIENT_HEADERS: &[&str] = &[
    "x-forwarded-for",
    "x-real-ip",
    "forwarded",
    "x-client-ip",
    "true-client-ip",
    "cf-connecting-ip",
    "x-cluster-client-ip",
];

/// The request data of an incoming request, scrubbed (see the module docs) according to the
/// bound client's `send_default_pii` (off when no client is bound).
///
/// `url` is the full URL; its query string goes to `query_string`. `headers` are `(name,
/// value)` pairs in any case; a repeated header keeps its values joined by `", "`.
/// `remote_addr` is the client's address, recorded only with `send_default_pii`.
///
/// # Examples
/// ```
/// use sentry_sdk_integrations::http_request::request_from_parts;
/// let headers = [("Accept", "text/html"), ("Authorization", "Bearer abc")];
/// let request = request_from_parts("GET", "http://127.0.0.1/orders?page=2", headers, None);
/// assert_eq!(request.url.as_deref(), Some("http://127.0.0.1/orders"));
/// assert_eq!(request.query_string.as_deref(), Some("page=2"));
/// assert_eq!(request.headers["Authorization"], "[Filtered]");
/// assert_eq!(request.headers["Accept"], "text/html");
/// ```
pub fn request_from_parts<'a>(
    method: &str,
    url: &str,
    headers: impl IntoIterator<Item = (&'a str, &'a str)>,
    remote_addr: Option<&str>,
) -> Request {
    let send_default_pii =
        current_client().is_some_and(|c| c.options().settings().send_default_pii);
    scrubbed_request(method, url, headers, remote_addr, send_default_pii)
}

/// [`request_from_parts`] with the PII choice given (what the unit tests check).
fn scrubbed_request<'a>(
    method: &str,
    url: &str,
    headers: impl IntoIterator<Item = (&'a str, &'a str)>,
    remote_addr: Option<&str>,
    send_default_pii: bool,
) -> Request {
    let mut request = Request {
        method: Some(method.to_owned()),
        ..Default::default()
    };
    let url = without_fragment(url);
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    request.url = Some(without_userinfo(base));
    request.query_string = query.filter(|q| !q.is_empty()).map(str::to_owned);
    for (name, value) in headers {
        let lower = name.to_ascii_lowercase();
        if send_default_pii && lower == "cookie" {
            append(&mut request.cookies, value, "; ");
        }
        let value = if is_secret(&lower) || (!send_default_pii && is_client_header(&lower)) {
            FILTERED
        } else {
            value
        };
        match request.headers.get_mut(name) {
            // Repeated values of a filtered header stay one `[Filtered]`.
            Some(seen) if seen != FILTERED => {
                seen.push_str(", ");
                seen.push_str(value);
            }
            Some(_) => {}
            None => {
                request.headers.insert(name.to_owned(), value.to_owned());
            }
        }
    }
    if send_default_pii {
        if let Some(addr) = remote_addr {
            request.env.insert("REMOTE_ADDR".into(), addr.to_owned());
        }
    }
    request
}

fn append(to: &mut Option<String>, value: &str, separator: &str) {
    match to {
        Some(s) => {
            s.push_str(separator);
            s.push_str(value);
        }
        None => *to = Some(value.to_owned()),
    }
}

/// Whether a lowercase name contains one of [`SECRET_NAMES`]. Runs for every header of every
/// request: `str::contains` per word (a substring searcher set up for each) took over a third
/// of the tower layer's time in `benches/tower.rs`; a first-byte check before each comparison
/// makes it a few percent.
pub(crate) fn is_secret(lower_name: &str) -> bool {
    let name = lower_name.as_bytes();
    (0..name.len()).any(|at| {
        let rest = &name[at..];
        SECRET_NAMES
            .iter()
            .any(|word| word.as_bytes()[0] == rest[0] && rest.starts_with(word.as_bytes()))
    })
}

pub(crate) fn is_client_header(lower_name: &str) -> bool {
    CLIENT_HEADERS.contains(&lower_name)
}

fn without_fragment(url: &str) -> &str {
    url.split_once('#').map_or(url, |(u, _)| u)
}

/// `url` with `user:password@` replaced by `[Filtered]:[Filtered]@` (PROTOCOL.md §8.4): a
/// URL is recorded on events and spans, its credentials never.
pub(crate) fn without_userinfo(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://{FILTERED}:{FILTERED}@{}", &rest[at + 1..]),
        None => url.to_owned(),
    }
}

/// The span status for an HTTP status code ([`SpanStatus::from_http_status`]): below 400 `ok`,
/// the 4xx and 5xx codes with a meaning of their own to theirs, other 4xx `invalid_argument`,
/// other 5xx `internal_error`.
///
/// # Examples
/// ```
/// use sentry_sdk_core::performance::SpanStatus;
/// use sentry_sdk_integrations::http_request::span_status;
/// assert_eq!(span_status(200), SpanStatus::Ok);
/// assert_eq!(span_status(404), SpanStatus::NotFound);
/// assert_eq!(span_status(500), SpanStatus::InternalError);
/// ```
pub fn span_status(code: u16) -> SpanStatus {
    SpanStatus::from_http_status(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADERS: &[(&str, &str)] = &[
        ("Host", "127.0.0.1:8080"),
        ("Authorization", "Basic dXNlcjpwYXNz"),
        ("Proxy-Authorization", "Basic eDp5"),
        ("X-Api-Key", "k-123"),
        ("X-CSRF-Token", "c-1"),
        ("Cookie", "sid=s3cret"),
        ("Set-Cookie", "sid=s3cret"),
        ("X-Forwarded-For", "203.0.113.7"),
        ("X-Real-Ip", "203.0.113.7"),
        ("Accept", "text/html"),
        ("Accept", "application/json"),
    ];

    fn headers() -> impl Iterator<Item = (&'static str, &'static str)> {
        HEADERS.iter().copied()
    }

    #[test]
    fn secrets_and_client_identity_are_filtered_without_pii() {
        let r = scrubbed_request(
            "POST",
            "http://u:p@127.0.0.1:8080/a?b=1#top",
            headers(),
            Some("203.0.113.7:5000"),
            false,
        );
        assert_eq!(r.method.as_deref(), Some("POST"));
        assert_eq!(
            r.url.as_deref(),
            Some("http://[Filtered]:[Filtered]@127.0.0.1:8080/a")
        );
        assert_eq!(r.query_string.as_deref(), Some("b=1"));
        for name in [
            "Authorization",
            "Proxy-Authorization",
            "X-Api-Key",
            "X-CSRF-Token",
            "Cookie",
            "Set-Cookie",
            "X-Forwarded-For",
            "X-Real-Ip",
        ] {
            assert_eq!(r.headers[name], FILTERED, "{name}");
        }
        assert_eq!(r.headers["Host"], "127.0.0.1:8080");
        assert_eq!(r.headers["Accept"], "text/html, application/json");
        assert_eq!(r.cookies, None);
        assert!(r.env.is_empty());
    }

    #[test]
    fn pii_adds_cookies_address_and_client_headers_but_never_secrets() {
        let r = scrubbed_request(
            "GET",
            "http://127.0.0.1/",
            headers(),
            Some("203.0.113.7:5000"),
            true,
        );
        assert_eq!(r.cookies.as_deref(), Some("sid=s3cret"));
        assert_eq!(r.env["REMOTE_ADDR"], "203.0.113.7:5000");
        assert_eq!(r.headers["X-Forwarded-For"], "203.0.113.7");
        assert_eq!(r.headers["Authorization"], FILTERED);
        assert_eq!(r.headers["Cookie"], FILTERED);
        assert_eq!(r.query_string, None);
    }

    #[test]
    fn userinfo_is_only_looked_for_in_the_authority() {
        assert_eq!(
            without_userinfo("http://127.0.0.1/a@b"),
            "http://127.0.0.1/a@b"
        );
        assert_eq!(without_userinfo("/relative"), "/relative");
    }

    #[test]
    fn statuses_map_like_the_other_sdks() {
        assert_eq!(span_status(204), SpanStatus::Ok);
        assert_eq!(span_status(302), SpanStatus::Ok);
        assert_eq!(span_status(400), SpanStatus::InvalidArgument);
        assert_eq!(span_status(401), SpanStatus::Unauthenticated);
        assert_eq!(span_status(429), SpanStatus::ResourceExhausted);
        assert_eq!(span_status(503), SpanStatus::Unavailable);
        assert_eq!(span_status(599), SpanStatus::InternalError);
        assert_eq!(span_status(600), SpanStatus::Unknown);
    }
}
