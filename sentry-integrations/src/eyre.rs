//! `eyre::Report` (feature `eyre`): its chain as exception values and, when eyre's default
//! handler captured one (`RUST_BACKTRACE=1` or `RUST_LIB_BACKTRACE=1`), its own backtrace
//! instead of the capture site's (read from the report's `Debug` text, the only way eyre
//! exposes it; those frames carry no instruction addresses).

use sentry_core::protocol::EventId;

use crate::std_backtrace::parse_std_backtrace;

/// Captures an `eyre::Report` with its chain; returns the event id.
///
/// ```
/// let report = eyre::eyre!("disk full").wrap_err("saving the report");
/// sentry_integrations::eyre::capture_eyre(&report);
/// ```
pub fn capture_eyre(report: &eyre::Report) -> EventId {
    let inner: &(dyn std::error::Error + Send + Sync + 'static) = report.as_ref();
    if sentry_core::is_active() {
        let debug = format!("{report:?}");
        if let Some((_, trace)) = debug.split_once("\n\nStack backtrace:\n") {
            if let Some(stacktrace) = parse_std_backtrace(trace) {
                return sentry_core::capture_exception_with_stacktrace(inner, stacktrace);
            }
        }
    }
    sentry_core::capture_exception(inner)
}
