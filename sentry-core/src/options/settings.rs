//! [`Settings`]: what a client runs with, as the [`ClientOptions`](super::ClientOptions)
//! setters left it. Read-only from the outside: only the setters change it.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use sentry_sdk_transport::Dsn;

use super::integration::Integration;
use super::transport::TransportSettings;
use crate::protocol::{Breadcrumb, CheckIn, Event, Log, Metric};

/// A callback that may change or drop an event before it is sent.
pub type BeforeSend = Arc<dyn Fn(Event) -> Option<Event> + Send + Sync>;
/// A callback that may change or drop a breadcrumb before it is stored.
pub type BeforeBreadcrumb = Arc<dyn Fn(Breadcrumb) -> Option<Breadcrumb> + Send + Sync>;
/// A callback that may change or drop a structured log before it is sent.
pub type BeforeSendLog = Arc<dyn Fn(Log) -> Option<Log> + Send + Sync>;
/// A callback that may change or drop a trace metric before it is sent.
pub type BeforeSendMetric = Arc<dyn Fn(Metric) -> Option<Metric> + Send + Sync>;
/// A callback that may change or drop a cron check-in before it is sent.
pub type BeforeSendCheckIn = Arc<dyn Fn(CheckIn) -> Option<CheckIn> + Send + Sync>;
/// A callback that may change or drop a user feedback (its event) before it is sent.
pub type BeforeSendFeedback = Arc<dyn Fn(Event) -> Option<Event> + Send + Sync>;
/// Decides the sample rate of a new transaction; see
/// [`ClientOptions::traces_sampler`](super::ClientOptions::traces_sampler).
pub type TracesSampler = Arc<dyn Fn(&super::tracing::SamplingContext<'_>) -> f32 + Send + Sync>;
/// A callback that may change or drop a finished transaction before it is sent.
pub type BeforeSendTransaction = Arc<dyn Fn(Event) -> Option<Event> + Send + Sync>;
/// Decides the sample rate of one error event; see
/// [`ClientOptions::error_sampler`](super::ClientOptions::error_sampler).
pub type ErrorSampler = Arc<dyn Fn(&Event) -> f32 + Send + Sync>;

/// How large a request body may be to be sent with an event (`max_request_body_size`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RequestBodySize {
    /// Never send request bodies.
    Never,
    /// Up to 1,000 bytes (of JSON).
    Small,
    /// Up to 10,000 bytes (the default, as Sentry's other SDKs).
    #[default]
    Medium,
    /// Any size (the event as a whole stays under 1 MiB).
    Always,
}

impl RequestBodySize {
    /// The largest body sent, in bytes; `None` for no limit.
    pub fn max_bytes(self) -> Option<usize> {
        match self {
            RequestBodySize::Never => Some(0),
            RequestBodySize::Small => Some(1_000),
            RequestBodySize::Medium => Some(10_000),
            RequestBodySize::Always => None,
        }
    }
}

/// The values of a [`ClientOptions`](super::ClientOptions), each documented on the setter of
/// the same name (which also gives its default).
///
/// You read them through [`ClientOptions::settings`](super::ClientOptions::settings) (for
/// example in an [`Integration`]'s `setup`); only the setters write them, so a value here has
/// passed their checks.
///
/// ```
/// let options = sentry_sdk_core::ClientOptions::new().max_breadcrumbs(20);
/// assert_eq!(options.settings().max_breadcrumbs, 20);
/// assert_eq!(options.settings().environment, "production");
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct Settings {
    /// Where events go; `None` leaves the SDK disabled.
    pub dsn: Option<Dsn>,
    /// The release, if known.
    pub release: Option<Cow<'static, str>>,
    /// The environment (`production` unless set).
    pub environment: Cow<'static, str>,
    /// The distribution of the release.
    pub dist: Option<Cow<'static, str>>,
    /// The host name sent with events (the machine's when `None`).
    pub server_name: Option<Cow<'static, str>>,
    /// The share of error events sent.
    pub sample_rate: f32,
    /// Decides the sample rate per error event, instead of `sample_rate`.
    pub error_sampler: Option<ErrorSampler>,
    /// The share of transactions recorded; `None` (and no `traces_sampler`) turns tracing off.
    pub traces_sample_rate: Option<f32>,
    /// Decides the sample rate per transaction, before `traces_sample_rate`.
    pub traces_sampler: Option<TracesSampler>,
    /// Runs on every finished transaction before it is sent.
    pub before_send_transaction: Option<BeforeSendTransaction>,
    /// Transactions dropped by a substring of their name.
    pub ignore_transactions: Vec<Cow<'static, str>>,
    /// URLs (substrings) that outgoing requests carry trace headers to; `None`: all.
    pub trace_propagation_targets: Option<Vec<Cow<'static, str>>>,
    /// Whether outgoing requests also carry a W3C `traceparent` (and incoming ones are read).
    pub propagate_traceparent: bool,
    /// Whether an incoming trace is continued only when both sides name the same org.
    pub strict_trace_continuation: bool,
    /// This organisation's id (else the one in the DSN's host, `o123.ingest...`).
    pub org_id: Option<u64>,
    /// How many breadcrumbs an event carries at most.
    pub max_breadcrumbs: usize,
    /// Whether message events carry the capture site's stack trace.
    pub attach_stacktrace: bool,
    /// Whether integrations may send personal data.
    pub send_default_pii: bool,
    /// Runs on every event before it is sent.
    pub before_send: Option<BeforeSend>,
    /// Runs on every breadcrumb before it is stored.
    pub before_breadcrumb: Option<BeforeBreadcrumb>,
    /// Whether structured logs are sent.
    pub enable_logs: bool,
    /// Runs on every structured log before it is batched.
    pub before_send_log: Option<BeforeSendLog>,
    /// Whether trace metrics are sent.
    pub enable_metrics: bool,
    /// Runs on every trace metric before it is batched.
    pub before_send_metric: Option<BeforeSendMetric>,
    /// Runs on every cron check-in before it is sent.
    pub before_send_check_in: Option<BeforeSendCheckIn>,
    /// How long closing (and a panic) waits for pending events.
    pub shutdown_timeout: Duration,
    /// Whether release-health sessions are tracked (needs a release).
    pub auto_session_tracking: bool,
    /// One session per run, or one per request.
    pub session_mode: crate::session::SessionMode,
    /// Spotlight's sidecar URL, if every envelope is also copied there.
    pub spotlight: Option<String>,
    /// Keys scrubbed besides the default denylist.
    pub denylist: Vec<Cow<'static, str>>,
    /// Characters kept of a string in a databag.
    pub max_value_length: usize,
    /// Request bodies sent up to this size.
    pub max_request_body_size: RequestBodySize,
    /// Whether the SDK prints what it does to stderr.
    pub debug: bool,
    /// Function-path prefixes always treated as the program's own code.
    pub in_app_include: Vec<Cow<'static, str>>,
    /// Function-path prefixes never treated as the program's own code.
    pub in_app_exclude: Vec<Cow<'static, str>>,
    /// Whether `init` adds the default integrations.
    pub default_integrations: bool,
    /// The integrations added so far.
    pub integrations: Vec<Arc<dyn Integration>>,
    /// The largest attachment sent, in bytes; larger ones are dropped.
    pub max_attachment_size: usize,
    /// Runs on every user feedback before it is sent.
    pub before_send_feedback: Option<BeforeSendFeedback>,
    /// Error events dropped by exception type, value or message.
    pub ignore_errors: Vec<Cow<'static, str>>,
    /// Whether in-app frames carry the source lines around them.
    pub include_source_context: bool,
    /// Whether one error value reported twice (through two paths) is sent once.
    pub dedupe: bool,
    /// The window in which repeats of one error are merged, if any.
    pub dedupe_window: Option<Duration>,
    /// Delivery: the transport, its queue, the offline cache, proxies and TLS.
    pub transport: TransportSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            dsn: None,
            release: None,
            environment: Cow::Borrowed("production"),
            dist: None,
            server_name: None,
            sample_rate: 1.0,
            error_sampler: None,
            traces_sample_rate: None,
            traces_sampler: None,
            before_send_transaction: None,
            ignore_transactions: Vec::new(),
            trace_propagation_targets: None,
            propagate_traceparent: false,
            strict_trace_continuation: false,
            org_id: None,
            max_breadcrumbs: 100,
            attach_stacktrace: false,
            send_default_pii: false,
            before_send: None,
            before_breadcrumb: None,
            enable_logs: false,
            before_send_log: None,
            enable_metrics: true,
            before_send_metric: None,
            before_send_check_in: None,
            shutdown_timeout: Duration::from_secs(2),
            auto_session_tracking: true,
            session_mode: crate::session::SessionMode::Application,
            spotlight: None,
            denylist: Vec::new(),
            max_value_length: 8192,
            max_request_body_size: RequestBodySize::Medium,
            debug: false,
            in_app_include: Vec::new(),
            in_app_exclude: Vec::new(),
            default_integrations: true,
            integrations: Vec::new(),
            max_attachment_size: super::DEFAULT_MAX_ATTACHMENT_SIZE,
            before_send_feedback: None,
            ignore_errors: Vec::new(),
            include_source_context: true,
            dedupe: true,
            dedupe_window: None,
            transport: TransportSettings::default(),
        }
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `Dsn`'s Debug leaves out the keys; callbacks print as present/absent only. Keep in
        // step with the fields above.
        let names: Vec<&str> = self.integrations.iter().map(|i| i.name()).collect();
        f.debug_struct("Settings")
            .field("dsn", &self.dsn)
            .field("release", &self.release)
            .field("environment", &self.environment)
            .field("dist", &self.dist)
            .field("server_name", &self.server_name)
            .field("sample_rate", &self.sample_rate)
            .field("error_sampler", &self.error_sampler.is_some())
            .field("traces_sample_rate", &self.traces_sample_rate)
            .field("traces_sampler", &self.traces_sampler.is_some())
            .field(
                "before_send_transaction",
                &self.before_send_transaction.is_some(),
            )
            .field("ignore_transactions", &self.ignore_transactions)
            .field("trace_propagation_targets", &self.trace_propagation_targets)
            .field("propagate_traceparent", &self.propagate_traceparent)
            .field("strict_trace_continuation", &self.strict_trace_continuation)
            .field("org_id", &self.org_id)
            .field("max_breadcrumbs", &self.max_breadcrumbs)
            .field("attach_stacktrace", &self.attach_stacktrace)
            .field("send_default_pii", &self.send_default_pii)
            .field("before_send", &self.before_send.is_some())
            .field("before_breadcrumb", &self.before_breadcrumb.is_some())
            .field("enable_logs", &self.enable_logs)
            .field("before_send_log", &self.before_send_log.is_some())
            .field("enable_metrics", &self.enable_metrics)
            .field("before_send_metric", &self.before_send_metric.is_some())
            .field("before_send_check_in", &self.before_send_check_in.is_some())
            .field("shutdown_timeout", &self.shutdown_timeout)
            .field("auto_session_tracking", &self.auto_session_tracking)
            .field("session_mode", &self.session_mode)
            .field("spotlight", &self.spotlight)
            .field("denylist", &self.denylist)
            .field("max_value_length", &self.max_value_length)
            .field("max_request_body_size", &self.max_request_body_size)
            .field("debug", &self.debug)
            .field("in_app_include", &self.in_app_include)
            .field("in_app_exclude", &self.in_app_exclude)
            .field("default_integrations", &self.default_integrations)
            .field("integrations", &names)
            .field("max_attachment_size", &self.max_attachment_size)
            .field("before_send_feedback", &self.before_send_feedback.is_some())
            .field("ignore_errors", &self.ignore_errors)
            .field("include_source_context", &self.include_source_context)
            .field("dedupe", &self.dedupe)
            .field("dedupe_window", &self.dedupe_window)
            .field("transport", &self.transport)
            .finish()
    }
}
