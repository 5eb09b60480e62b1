use serde::Serialize;

use super::{Map, Value};

/// The user an event happened to.
///
/// ```
/// let user = sentry_sdk_core::protocol::User { id: Some("42".into()), ..Default::default() };
/// assert_eq!(user.id.as_deref(), Some("42"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct User {
    /// A unique id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Email address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// IP address; `{{auto}}` asks the server to use the connection's address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<String>,
    /// User name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Any other data.
    #[serde(skip_serializing_if = "Map::is_empty", rename = "data")]
    pub other: Map<Value>,
}
