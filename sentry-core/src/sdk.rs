//! Who we are on the wire: the SDK's name and version, and the `sdk` block of every event.

use serde_json::{json, Value};

/// The SDK's name in `sdk.name`, `User-Agent` and `X-Sentry-Auth`.
pub const SDK_NAME: &str = "sentry.rust.sdk";
/// The SDK's version.
pub const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The `sdk` block of an event: name, version, the integrations in use and the package.
pub(crate) fn sdk_info(integrations: &[&str]) -> Value {
    json!({
        "name": SDK_NAME,
        "version": SDK_VERSION,
        "integrations": integrations,
        "packages": [{"name": "cargo:sentry-sdk", "version": SDK_VERSION}],
    })
}

/// The `User-Agent` / `sentry_client` value, `sentry.rust.sdk/<version>`.
pub(crate) fn sdk_client() -> String {
    format!("{SDK_NAME}/{SDK_VERSION}")
}
