//! `eyre::Report` (feature `eyre`): its chain as exception values and, when eyre's default
//! handler captured one (`RUST_BACKTRACE=1` or `RUST_LIB_BACKTRACE=1`), its own backtrace
//! instead of the capture site's (read from the report's `Debug` text, the only way eyre
//! exposes it; those frames carry no instruction addresses).

use sentry_sdk_core::protocol::EventId;

use crate::std_backtrace::capture_with_trace;

/// Captures an `eyre::Report` with its chain; returns the event id.
///
/// ```
/// let report = eyre::eyre!("disk full").wrap_err("saving the report");
/// sentry_sdk_integrations::eyre::capture_eyre(&report);
/// ```
pub fn capture_eyre(report: &eyre::Report) -> EventId {
    capture_with_trace(report.as_ref(), || {
        let debug = format!("{report:?}");
        let (_, trace) = debug.split_once("\n\nStack backtrace:\n")?;
        Some(trace.to_owned())
    })
}
