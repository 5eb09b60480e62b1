//! Protocol types: the event payload and what goes in it (PROTOCOL.md §1.5), trace and span
//! ids, span records, structured logs, trace metrics and cron check-ins.
//!
//! Types serialise to exactly what Relay accepts; empty collections and unset options are
//! omitted.

mod attachment;
mod breadcrumb;
mod check_in;
mod event;
mod exception;
mod feedback;
mod ids;
pub(crate) mod json;
mod level;
mod log;
mod metric;
mod request;
mod span;
mod user;

pub use attachment::{Attachment, AttachmentType};
pub use breadcrumb::Breadcrumb;
pub use check_in::{
    CheckIn, CheckInId, CheckInStatus, MonitorConfig, MonitorIntervalUnit, MonitorSchedule,
};
pub use event::{Event, EventId, Thread};
pub use exception::{Exception, Frame, Mechanism, Stacktrace};
pub use feedback::{Feedback, MAX_FEEDBACK_MESSAGE_CHARS};
pub use ids::{SpanId, TraceId};
pub use level::Level;
pub(crate) use log::AttributeRef;
pub use log::{Log, LogAttribute, LogLevel};
pub(crate) use metric::MetricRef;
pub use metric::{Metric, MetricType};
pub use request::Request;
pub(crate) use span::SpanRecord;
pub use span::SpanStatus;
pub use user::User;

/// A JSON value, as used for extra data, contexts and breadcrumb data.
pub use serde_json::Value;

/// A string-keyed map in key order, as used for tags, extra data and contexts.
pub type Map<V> = std::collections::BTreeMap<String, V>;

pub(crate) mod ser {
    //! serde helpers shared by the protocol types.
    use serde::ser::{SerializeMap, Serializer};
    use std::time::SystemTime;

    /// Writes a list as Sentry's `{"values": [...]}` wrapper.
    pub(crate) fn values<S: Serializer, T: serde::Serialize>(
        v: &[T],
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(1))?;
        map.serialize_entry("values", v)?;
        map.end()
    }

    pub(crate) fn timestamp<S: Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(sentry_sdk_transport::time::Rfc3339::new(*t).as_str())
    }
}
