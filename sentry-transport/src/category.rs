//! Data categories: what rate limits and client reports count items by.

use std::fmt;

/// A data category from Sentry's rate-limiting and client-report protocols.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum DataCategory {
    /// Events without a more specific category.
    Default,
    /// Error events.
    Error,
    /// Transactions.
    Transaction,
    /// Cron check-ins.
    Monitor,
    /// Spans.
    Span,
    /// Structured log items (count).
    LogItem,
    /// Structured log bytes.
    LogByte,
    /// Security reports.
    Security,
    /// Attachments (quantity in bytes).
    Attachment,
    /// Release-health sessions.
    Session,
    /// Profiles.
    Profile,
    /// Continuous-profiling chunks.
    ProfileChunk,
    /// Session replays.
    Replay,
    /// User feedback.
    Feedback,
    /// Trace metrics.
    TraceMetric,
    /// Trace metric bytes.
    TraceMetricByte,
    /// SDK-internal data such as client reports; never rate limited.
    Internal,
}

impl DataCategory {
    /// Every category, for iteration (rate-limit tables, counters).
    pub const ALL: [DataCategory; 17] = [
        DataCategory::Default,
        DataCategory::Error,
        DataCategory::Transaction,
        DataCategory::Monitor,
        DataCategory::Span,
        DataCategory::LogItem,
        DataCategory::LogByte,
        DataCategory::Security,
        DataCategory::Attachment,
        DataCategory::Session,
        DataCategory::Profile,
        DataCategory::ProfileChunk,
        DataCategory::Replay,
        DataCategory::Feedback,
        DataCategory::TraceMetric,
        DataCategory::TraceMetricByte,
        DataCategory::Internal,
    ];

    /// The name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            DataCategory::Default => "default",
            DataCategory::Error => "error",
            DataCategory::Transaction => "transaction",
            DataCategory::Monitor => "monitor",
            DataCategory::Span => "span",
            DataCategory::LogItem => "log_item",
            DataCategory::LogByte => "log_byte",
            DataCategory::Security => "security",
            DataCategory::Attachment => "attachment",
            DataCategory::Session => "session",
            DataCategory::Profile => "profile",
            DataCategory::ProfileChunk => "profile_chunk",
            DataCategory::Replay => "replay",
            DataCategory::Feedback => "feedback",
            DataCategory::TraceMetric => "trace_metric",
            DataCategory::TraceMetricByte => "trace_metric_byte",
            DataCategory::Internal => "internal",
        }
    }

    /// Parses a wire name; unknown names are `None` (and ignored by rate limiting).
    pub fn from_name(name: &str) -> Option<Self> {
        DataCategory::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// The category an envelope item of type `item_type` is counted in (PROTOCOL.md §1.4).
    ///
    /// ```
    /// use sentry_sdk_transport::DataCategory;
    /// assert_eq!(DataCategory::from_item_type("event"), DataCategory::Error);
    /// assert_eq!(DataCategory::from_item_type("client_report"), DataCategory::Internal);
    /// ```
    pub fn from_item_type(item_type: &str) -> Self {
        match item_type {
            "event" => DataCategory::Error,
            "transaction" => DataCategory::Transaction,
            "attachment" => DataCategory::Attachment,
            "session" | "sessions" => DataCategory::Session,
            "client_report" => DataCategory::Internal,
            "feedback" | "user_report" => DataCategory::Feedback,
            "check_in" => DataCategory::Monitor,
            "log" | "otel_log" => DataCategory::LogItem,
            "trace_metric" => DataCategory::TraceMetric,
            "span" => DataCategory::Span,
            "profile" => DataCategory::Profile,
            "profile_chunk" => DataCategory::ProfileChunk,
            "replay_event" | "replay_recording" => DataCategory::Replay,
            "security" => DataCategory::Security,
            _ => DataCategory::Default,
        }
    }
}

impl fmt::Display for DataCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for c in DataCategory::ALL {
            assert_eq!(DataCategory::from_name(c.as_str()), Some(c));
        }
        assert_eq!(DataCategory::from_name("metric_bucket"), None);
    }

    #[test]
    fn item_types_map_to_categories() {
        let cases = [
            ("event", DataCategory::Error),
            ("transaction", DataCategory::Transaction),
            ("attachment", DataCategory::Attachment),
            ("session", DataCategory::Session),
            ("sessions", DataCategory::Session),
            ("client_report", DataCategory::Internal),
            ("feedback", DataCategory::Feedback),
            ("check_in", DataCategory::Monitor),
            ("log", DataCategory::LogItem),
            ("trace_metric", DataCategory::TraceMetric),
            ("span", DataCategory::Span),
            ("profile_chunk", DataCategory::ProfileChunk),
            ("something_new", DataCategory::Default),
        ];
        for (ty, cat) in cases {
            assert_eq!(DataCategory::from_item_type(ty), cat, "{ty}");
        }
    }
}
