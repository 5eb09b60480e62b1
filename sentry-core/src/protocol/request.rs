use serde::Serialize;

use super::Map;

/// The HTTP request an event happened in (`request` in the event), as a web framework
/// integration records it. Integrations leave out cookies, the body and identifying headers
/// unless `send_default_pii` is on.
///
/// ```
/// use sentry_sdk_core::protocol::Request;
/// let request = Request {
///     method: Some("GET".into()),
///     url: Some("http://127.0.0.1:3000/orders/7".into()),
///     ..Default::default()
/// };
/// sentry_sdk_core::configure_scope(|scope| scope.set_request(Some(request)));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Request {
    /// The method (`GET`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// The URL without the query string.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The query string, without `?`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_string: Option<String>,
    /// Headers (scrubbed by the integration that recorded them).
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub headers: Map<String>,
    /// The `Cookie` header, only with `send_default_pii`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cookies: Option<String>,
    /// Server environment (`REMOTE_ADDR` with `send_default_pii`).
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub env: Map<String>,
    /// The body (JSON, form fields as an object, or text), if your code recorded it: the
    /// integrations never read bodies. Scrubbed like extra data, and left out when larger than
    /// `max_request_body_size`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<serde_json::Value>,
}
