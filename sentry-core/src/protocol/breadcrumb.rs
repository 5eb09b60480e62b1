use std::borrow::Cow;
use std::time::SystemTime;

use serde::Serialize;

use super::{Level, Map, Value};

/// A trail entry recorded before an event: what the program did leading up to it.
///
/// ```
/// use sentry_sdk_core::protocol::{Breadcrumb, Level};
/// let crumb = Breadcrumb { category: Some("db".into()), message: Some("SELECT 1".into()), level: Level::Info, ..Default::default() };
/// sentry_sdk_core::add_breadcrumb(crumb);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Breadcrumb {
    /// When it happened; defaults to now.
    #[serde(serialize_with = "super::ser::timestamp")]
    pub timestamp: SystemTime,
    /// `default`, `http`, `navigation`, `query`, ...
    /// Left out when `default`, which Relay fills back in.
    #[serde(rename = "type", skip_serializing_if = "is_default_type")]
    pub ty: Cow<'static, str>,
    /// A dotted category such as `db.query`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<Cow<'static, str>>,
    /// Severity; left out when `info`, which Relay fills back in.
    #[serde(skip_serializing_if = "is_default_level")]
    pub level: Level,
    /// Human-readable text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Structured data.
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub data: Map<Value>,
}

impl Default for Breadcrumb {
    fn default() -> Self {
        Breadcrumb {
            timestamp: SystemTime::now(),
            ty: Cow::Borrowed("default"),
            category: None,
            level: Level::Info,
            message: None,
            data: Map::new(),
        }
    }
}

/// Breadcrumbs are the bulk of an event: values that Relay's normaliser sets anyway when they
/// are missing (`type: default`, `level: info`) are not sent.
pub(crate) fn is_default_type(ty: &str) -> bool {
    ty == "default"
}

pub(crate) fn is_default_level(level: &Level) -> bool {
    *level == Level::Info
}
