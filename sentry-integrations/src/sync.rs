//! The poison-ignoring mutex shared by the SDK's crates.
pub(crate) use sentry_core::transport::Mutex;
