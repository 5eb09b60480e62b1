//! `anyhow::Error` (feature `anyhow`): its chain as exception values and, when anyhow captured
//! one (`RUST_BACKTRACE=1` or `RUST_LIB_BACKTRACE=1`), its own backtrace (where the error was
//! made) instead of the capture site's.
//!
//! `std::backtrace::Backtrace` exposes only text on stable Rust, so those frames carry
//! function, file, line and column but no instruction addresses; without a captured backtrace
//! the capture site's stack (with addresses) is used.

use sentry_sdk_core::protocol::EventId;

use crate::std_backtrace::capture_with_trace;

/// Captures an `anyhow::Error` with its chain; returns the event id.
///
/// ```
/// let err = anyhow::anyhow!("disk full").context("saving the report");
/// sentry_sdk_integrations::anyhow::capture_anyhow(&err);
/// ```
pub fn capture_anyhow(error: &anyhow::Error) -> EventId {
    capture_with_trace(error.as_ref(), || {
        let backtrace = error.backtrace();
        (backtrace.status() == std::backtrace::BacktraceStatus::Captured)
            .then(|| backtrace.to_string())
    })
}
