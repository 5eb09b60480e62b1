//! `eyre::Report` (feature `eyre`): its chain as exception values, with the capture site's
//! stack. (eyre's handlers keep their backtraces private, so the report's own is not used.)

use sentry_core::protocol::EventId;

/// Captures an `eyre::Report` with its chain; returns the event id.
///
/// ```
/// let report = eyre::eyre!("disk full").wrap_err("saving the report");
/// sentry_integrations::eyre::capture_eyre(&report);
/// ```
pub fn capture_eyre(report: &eyre::Report) -> EventId {
    let inner: &(dyn std::error::Error + Send + Sync + 'static) = report.as_ref();
    sentry_core::capture_exception(inner)
}
