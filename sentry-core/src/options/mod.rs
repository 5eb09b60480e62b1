//! [`ClientOptions`]: the builder `init` takes, with the defaults Sentry's other SDKs use.
//!
//! # Layout
//! - this file: the builder and the setters of what goes into events;
//! - `settings`: [`Settings`], the values the setters leave, read by the client and
//!   integrations;
//! - `transport`: delivery settings and their setters (queue, cache, proxies, TLS, your own
//!   transport);
//! - `env`: environment variables and release detection;
//! - `integration`: the [`Integration`] trait.

mod env;
mod integration;
mod settings;
mod tracing;
mod transport;

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sentry_sdk_transport::Dsn;

pub use integration::Integration;
pub use settings::BeforeSendCheckIn;
pub use settings::{
    BeforeBreadcrumb, BeforeSend, BeforeSendFeedback, BeforeSendLog, BeforeSendMetric,
    BeforeSendTransaction, ErrorSampler, RequestBodySize, Settings, TracesSampler,
};
pub use tracing::SamplingContext;
pub use transport::{TransportContext, TransportFactory, TransportSettings};

use crate::protocol::{Breadcrumb, CheckIn, Event, Log, Metric};
use crate::Error;

/// `max_attachment_size` unless set: 20 MiB, as Sentry's Java, .NET, Cocoa and Dart SDKs.
pub(crate) const DEFAULT_MAX_ATTACHMENT_SIZE: usize = 20 * 1024 * 1024;

/// Options for [`init`](../sentry_sdk/fn.init.html): a builder whose setters are named like the
/// Python SDK's options. Read what they set through [`settings`](Self::settings).
///
/// Values left unset in code are filled from `SENTRY_DSN`, `SENTRY_RELEASE`,
/// `SENTRY_ENVIRONMENT` and `SENTRY_DEBUG` when the client starts. A bad value (an unparsable
/// DSN, a sample rate outside `0.0..=1.0`) is remembered and reported by `init`, which then runs
/// disabled; [`try_dsn`](Self::try_dsn) reports a bad DSN right away instead.
///
/// ```
/// use std::time::Duration;
/// let options = sentry_sdk_core::ClientOptions::new()
///     .dsn("https://public@127.0.0.1:9000/42")
///     .release("my-app@1.2.3")
///     .environment("staging")
///     .sample_rate(0.5)
///     .shutdown_timeout(Duration::from_secs(1));
/// assert_eq!(options.settings().environment, "staging");
/// assert!(options.problem().is_none());
/// ```
#[derive(Clone, Default)]
#[must_use]
pub struct ClientOptions {
    settings: Settings,
    set_in_code: SetInCode,
    problem: Option<Error>,
}

/// Which values code set, so that [`ClientOptions::apply_env`] leaves them alone (an empty
/// DSN set in code disables the SDK even with `SENTRY_DSN` set).
#[derive(Clone, Copy, Default)]
struct SetInCode {
    dsn: bool,
    environment: bool,
    debug: bool,
    spotlight: bool,
}

/// Spotlight's sidecar where `spotlight(true)` sends.
pub const SPOTLIGHT_URL: &str = "http://localhost:8969/stream";

/// What [`ClientOptions::spotlight`] takes: a `bool` (`true`: the sidecar's default URL) or a
/// URL (`&str` / `String`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spotlight {
    /// Off.
    Off,
    /// The sidecar's default URL, [`SPOTLIGHT_URL`].
    Default,
    /// The sidecar at this URL.
    Url(String),
}

impl From<bool> for Spotlight {
    fn from(on: bool) -> Self {
        match on {
            true => Spotlight::Default,
            false => Spotlight::Off,
        }
    }
}

impl From<&str> for Spotlight {
    fn from(url: &str) -> Self {
        Spotlight::Url(url.to_owned())
    }
}

impl From<String> for Spotlight {
    fn from(url: String) -> Self {
        Spotlight::Url(url)
    }
}

impl ClientOptions {
    /// Options with every default: no DSN (the SDK stays disabled unless `SENTRY_DSN` is set).
    pub fn new() -> Self {
        Self::default()
    }

    /// The values set so far (defaults where nothing was set).
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The first configuration problem found, if any; `init` reports it and runs disabled.
    pub fn problem(&self) -> Option<&Error> {
        self.problem.as_ref()
    }

    fn remember(&mut self, problem: Error) {
        // The first problem is the one reported; later ones are usually consequences.
        self.problem.get_or_insert(problem);
    }

    /// Where to send events. An unparsable DSN is remembered and reported by `init` (which then
    /// runs disabled); an empty string explicitly disables the SDK, even if `SENTRY_DSN` is set.
    pub fn dsn(mut self, dsn: &str) -> Self {
        self.set_in_code.dsn = true;
        if dsn.trim().is_empty() {
            self.settings.dsn = None;
            return self;
        }
        match Dsn::from_str(dsn) {
            Ok(parsed) => self.settings.dsn = Some(parsed),
            Err(err) => {
                self.settings.dsn = None;
                self.remember(Error::InvalidDsn(Arc::new(err)));
            }
        }
        self
    }

    /// Like [`dsn`](Self::dsn), but returns the parse error (naming the bad part) right away.
    ///
    /// ```
    /// let err = sentry_sdk_core::ClientOptions::new().try_dsn("https://127.0.0.1/1").unwrap_err();
    /// assert!(err.to_string().contains("public key"), "{err}");
    /// ```
    pub fn try_dsn(mut self, dsn: &str) -> Result<Self, Error> {
        let parsed = Dsn::from_str(dsn).map_err(|e| Error::InvalidDsn(Arc::new(e)))?;
        self.settings.dsn = Some(parsed);
        self.set_in_code.dsn = true;
        Ok(self)
    }

    /// The release (`my-app@1.2.3`, see [`release_name!`](crate::release_name)); defaults to
    /// `SENTRY_RELEASE`, then a commit id from common CI variables (`GITHUB_SHA`,
    /// `CI_COMMIT_SHA`, `CIRCLE_SHA1`, `HEROKU_SLUG_COMMIT`, `SOURCE_VERSION`, ...).
    pub fn release(mut self, release: impl Into<Cow<'static, str>>) -> Self {
        self.settings.release = Some(release.into());
        self
    }

    /// The environment; defaults to `SENTRY_ENVIRONMENT`, then `production`.
    pub fn environment(mut self, environment: impl Into<Cow<'static, str>>) -> Self {
        self.settings.environment = environment.into();
        self.set_in_code.environment = true;
        self
    }

    /// The distribution of the release (a build number, say).
    pub fn dist(mut self, dist: impl Into<Cow<'static, str>>) -> Self {
        self.settings.dist = Some(dist.into());
        self
    }

    /// The host name sent with events.
    pub fn server_name(mut self, server_name: impl Into<Cow<'static, str>>) -> Self {
        self.settings.server_name = Some(server_name.into());
        self
    }

    /// The share of error events to send, from `0.0` to `1.0` (default). Events sampled out
    /// are counted in client reports as `sample_rate`. A value outside the range (or NaN) is
    /// remembered and reported by `init`, which then runs disabled.
    pub fn sample_rate(mut self, rate: f32) -> Self {
        if let Some(rate) = self.checked_rate("sample_rate", rate) {
            self.settings.sample_rate = rate;
        }
        self
    }

    /// `rate` if it is a share (0.0 to 1.0); otherwise remembered as an option error.
    fn checked_rate(&mut self, name: &'static str, rate: f32) -> Option<f32> {
        if (0.0..=1.0).contains(&rate) {
            return Some(rate);
        }
        self.remember(Error::InvalidOption {
            name,
            reason: format!("{rate} is not between 0.0 and 1.0"),
        });
        None
    }

    /// How many breadcrumbs an event carries at most (default 100); older ones are dropped.
    pub fn max_breadcrumbs(mut self, max: usize) -> Self {
        self.settings.max_breadcrumbs = max;
        self
    }

    /// Attach the capture site's stack trace to message events too (default `false`).
    pub fn attach_stacktrace(mut self, on: bool) -> Self {
        self.settings.attach_stacktrace = on;
        self
    }

    /// Allow integrations to send personal data such as IP addresses (default `false`).
    pub fn send_default_pii(mut self, on: bool) -> Self {
        self.settings.send_default_pii = on;
        self
    }

    /// Called with every event before it is sent; return `None` to drop it (counted as
    /// `before_send` in client reports).
    ///
    /// It runs on the SDK's background thread for ordinary captures and inline for panics. It
    /// may call back into the SDK: captures from inside it are ignored rather than recursing. A
    /// panic inside it drops the event and is reported on stderr; it never reaches your program.
    pub fn before_send(
        mut self,
        f: impl Fn(Event) -> Option<Event> + Send + Sync + 'static,
    ) -> Self {
        self.settings.before_send = Some(Arc::new(f));
        self
    }

    /// Called with every breadcrumb, on the thread that adds it, before it is stored; return
    /// `None` to drop it. Captures from inside it are ignored.
    pub fn before_breadcrumb(
        mut self,
        f: impl Fn(Breadcrumb) -> Option<Breadcrumb> + Send + Sync + 'static,
    ) -> Self {
        self.settings.before_breadcrumb = Some(Arc::new(f));
        self
    }

    /// How long dropping the init guard (and a panic) waits for pending events (default 2 s).
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.settings.shutdown_timeout = timeout;
        self
    }

    /// Print what the SDK does to stderr (default: `SENTRY_DEBUG`, else off). When on, the
    /// `tracing` events that reqwest, hyper and rustls emit on the SDK's own threads also
    /// reach your subscriber; when off, those threads run with a no-op dispatcher.
    pub fn debug(mut self, on: bool) -> Self {
        self.settings.debug = on;
        self.set_in_code.debug = true;
        self
    }

    /// Function-path prefixes always treated as your own code (wins over every other rule).
    pub fn in_app_include(mut self, prefix: impl Into<Cow<'static, str>>) -> Self {
        self.settings.in_app_include.push(prefix.into());
        self
    }

    /// Function-path prefixes never treated as your own code.
    pub fn in_app_exclude(mut self, prefix: impl Into<Cow<'static, str>>) -> Self {
        self.settings.in_app_exclude.push(prefix.into());
        self
    }

    /// Whether `init` adds the default integrations (the panic hook); default `true`.
    pub fn default_integrations(mut self, on: bool) -> Self {
        self.settings.default_integrations = on;
        self
    }

    /// Adds an integration; it is set up when the client starts. An integration already
    /// shared as `Arc<dyn Integration>` (or `Arc<T>`) can be added too. Default: none besides
    /// those `init` adds (see [`default_integrations`](Self::default_integrations)).
    ///
    /// ```
    /// struct Marker;
    /// impl sentry_sdk_core::Integration for Marker {
    ///     fn name(&self) -> &'static str { "marker" }
    /// }
    /// let options = sentry_sdk_core::ClientOptions::new().add_integration(Marker);
    /// assert_eq!(options.settings().integrations[0].name(), "marker");
    /// ```
    pub fn add_integration(mut self, integration: impl Integration) -> Self {
        self.settings.integrations.push(Arc::new(integration));
        self
    }

    /// Drops error events whose exception type (short or full path, e.g. `ParseIntError` or
    /// `core::num::error::ParseIntError`) equals `pattern`, or whose exception value or
    /// message contains it. Counted as `event_processor`. Default: nothing ignored.
    ///
    /// ```
    /// let options = sentry_sdk_core::ClientOptions::new()
    ///     .ignore_errors("BrokenPipe")
    ///     .ignore_errors("connection reset by peer");
    /// # let _ = options;
    /// ```
    pub fn ignore_errors(mut self, pattern: impl Into<Cow<'static, str>>) -> Self {
        self.settings.ignore_errors.push(pattern.into());
        self
    }

    /// Decides per event which share of events like it to send (`0.0..=1.0`), instead of
    /// `sample_rate`. Runs on the capturing thread with the event's message and exceptions
    /// (scopes not yet applied); a value out of range counts as 0. Dropped events are counted
    /// as `sample_rate`.
    ///
    /// ```
    /// let options = sentry_sdk_core::ClientOptions::new().error_sampler(|event| {
    ///     let timeout = event.exception.iter().any(|e| e.ty == "Elapsed");
    ///     if timeout { 0.1 } else { 1.0 }
    /// });
    /// # let _ = options;
    /// ```
    pub fn error_sampler(
        mut self,
        sampler: impl Fn(&Event) -> f32 + Send + Sync + 'static,
    ) -> Self {
        self.settings.error_sampler = Some(Arc::new(sampler));
        self
    }

    /// Add the source lines around each in-app frame (5 before, 5 after) when the source file
    /// is readable where the program runs (default `true`). Read on the background thread,
    /// cached, at most 1 MiB per file.
    pub fn include_source_context(mut self, on: bool) -> Self {
        self.settings.include_source_context = on;
        self
    }

    /// Turns tracing on: the share of transactions to record and send, from `0.0` to `1.0`.
    /// Unset (default), transactions are no-ops. Out of range is a configuration error.
    pub fn traces_sample_rate(mut self, rate: f32) -> Self {
        if let Some(rate) = self.checked_rate("traces_sample_rate", rate) {
            self.settings.traces_sample_rate = Some(rate);
        }
        self
    }

    /// Send structured logs (`logger_info!` and friends, and the `log`/`tracing`
    /// integrations' logs). Default `false`, as Sentry's docs say.
    pub fn enable_logs(mut self, on: bool) -> Self {
        self.settings.enable_logs = on;
        self
    }

    /// Called with every structured log on the SDK's background thread before it is batched;
    /// return `None` to drop it (counted as `before_send`, category `log_item`).
    pub fn before_send_log(
        mut self,
        f: impl Fn(Log) -> Option<Log> + Send + Sync + 'static,
    ) -> Self {
        self.settings.before_send_log = Some(Arc::new(f));
        self
    }

    /// Also send every envelope to [Spotlight](https://spotlightjs.com)'s sidecar, for local
    /// development: `true` for its default URL (`http://localhost:8969/stream`), or a URL.
    /// Works with or without a DSN: without one, only Spotlight gets anything, and nothing is
    /// sampled away (`sample_rate` is 1, and tracing is on at 1 unless you set it). The copies
    /// leave from the SDK's thread beside the real delivery, which never waits for them or
    /// fails with them. `SENTRY_SPOTLIGHT` (`1`/`true`, or a URL) fills it when code did not.
    /// Default: off. Needs the HTTP transport (a custom transport gets no copies).
    ///
    /// ```
    /// let options = sentry_sdk_core::ClientOptions::new().spotlight(true);
    /// assert_eq!(options.settings().spotlight.as_deref(), Some("http://localhost:8969/stream"));
    /// let options = sentry_sdk_core::ClientOptions::new().spotlight("http://127.0.0.1:9000/stream");
    /// assert!(options.settings().spotlight.is_some());
    /// ```
    pub fn spotlight(mut self, spotlight: impl Into<Spotlight>) -> Self {
        self.set_in_code.spotlight = true;
        self.settings.spotlight = match spotlight.into() {
            Spotlight::Off => None,
            Spotlight::Default => Some(SPOTLIGHT_URL.to_owned()),
            Spotlight::Url(url) => {
                let scheme_ok = url.starts_with("http://") || url.starts_with("https://");
                if !scheme_ok {
                    self.remember(Error::InvalidOption {
                        name: "spotlight",
                        reason: format!("{url:?} is not an http(s) URL"),
                    });
                    None
                } else {
                    Some(url)
                }
            }
        };
        self
    }

    /// Adds a key whose values are scrubbed (replaced with `"[Filtered]"`) wherever events,
    /// transactions and breadcrumbs carry them, besides the default denylist
    /// ([`DEFAULT_DENYLIST`](crate::DEFAULT_DENYLIST), and [`PII_DENYLIST`](crate::PII_DENYLIST)
    /// unless `send_default_pii`). Compared without case, with `-` and `_` alike. See the
    /// README's "Privacy" section for where scrubbing applies.
    ///
    /// ```
    /// let options = sentry_sdk_core::ClientOptions::new()
    ///     .add_denylist_key("card_number")
    ///     .add_denylist_key("iban");
    /// assert_eq!(options.settings().denylist.len(), 2);
    /// ```
    pub fn add_denylist_key(mut self, key: impl Into<Cow<'static, str>>) -> Self {
        self.settings.denylist.push(key.into());
        self
    }

    /// Characters kept of each string in extra data, contexts, breadcrumb data, frame
    /// variables and request bodies (default 8,192); longer ones are cut and end in `…`.
    /// Messages and exception values keep up to 8,192 whatever this says (the server's limit).
    ///
    /// ```
    /// let options = sentry_sdk_core::ClientOptions::new().max_value_length(1024);
    /// assert_eq!(options.settings().max_value_length, 1024);
    /// ```
    pub fn max_value_length(mut self, chars: usize) -> Self {
        self.settings.max_value_length = chars.max(1);
        self
    }

    /// How large a request body (`Request::data`) may be to be sent (default
    /// [`RequestBodySize::Medium`], 10,000 bytes of JSON); a larger one is left out.
    ///
    /// ```
    /// use sentry_sdk_core::RequestBodySize;
    /// let options = sentry_sdk_core::ClientOptions::new().max_request_body_size(RequestBodySize::Never);
    /// assert_eq!(options.settings().max_request_body_size.max_bytes(), Some(0));
    /// ```
    pub fn max_request_body_size(mut self, size: RequestBodySize) -> Self {
        self.settings.max_request_body_size = size;
        self
    }

    /// Send trace metrics ([`metrics::count`](crate::metrics::count) and its siblings).
    /// Default `true`, as Sentry's docs say.
    pub fn enable_metrics(mut self, on: bool) -> Self {
        self.settings.enable_metrics = on;
        self
    }

    /// Called with every trace metric on the SDK's background thread before it is batched;
    /// return `None` to drop it (counted as `before_send`, categories `trace_metric` and
    /// `trace_metric_byte`). Default: none.
    pub fn before_send_metric(
        mut self,
        f: impl Fn(Metric) -> Option<Metric> + Send + Sync + 'static,
    ) -> Self {
        self.settings.before_send_metric = Some(Arc::new(f));
        self
    }

    /// Track release-health sessions (default `true`; they need a
    /// [`release`](Self::release), and are off without one). In
    /// [`SessionMode::Application`](crate::session::SessionMode::Application) `init` starts
    /// one session that ends at `close`; in
    /// [`SessionMode::Request`](crate::session::SessionMode::Request) the server
    /// integrations open one per request.
    pub fn auto_session_tracking(mut self, on: bool) -> Self {
        self.settings.auto_session_tracking = on;
        self
    }

    /// How sessions are tracked: one per process run (`Application`, the default: CLIs,
    /// workers, desktop programs) or one per request (`Request`: servers, with the tower/axum
    /// or actix integration), counted per minute and sent as aggregates.
    ///
    /// ```
    /// use sentry_sdk_core::session::SessionMode;
    /// let options = sentry_sdk_core::ClientOptions::new()
    ///     .release("api@1.4.0")
    ///     .session_mode(SessionMode::Request);
    /// assert_eq!(options.settings().session_mode, SessionMode::Request);
    /// ```
    pub fn session_mode(mut self, mode: crate::session::SessionMode) -> Self {
        self.settings.session_mode = mode;
        self
    }

    /// Called with every cron check-in on the SDK's background thread before it is sent;
    /// return `None` to drop it (counted as `before_send`, category `monitor`). Check-ins go
    /// through neither `before_send` nor `sample_rate`. Default: none.
    ///
    /// ```
    /// let options = sentry_sdk_core::ClientOptions::new()
    ///     .before_send_check_in(|check_in| (check_in.monitor_slug != "noisy").then_some(check_in));
    /// assert!(options.settings().before_send_check_in.is_some());
    /// ```
    pub fn before_send_check_in(
        mut self,
        f: impl Fn(CheckIn) -> Option<CheckIn> + Send + Sync + 'static,
    ) -> Self {
        self.settings.before_send_check_in = Some(Arc::new(f));
        self
    }

    /// The largest attachment sent, in bytes; a larger one is left out of its envelope (the
    /// event still goes) and counted as dropped (reason `invalid`, category `attachment`, by
    /// its size). Default is 20 MiB, as the Java, .NET, Cocoa and Dart SDKs' `maxAttachmentSize`
    /// (the Python SDK has no such option); Relay itself accepts attachments of up to 100 MiB
    /// each (PROTOCOL.md §1.6; SaaS may differ).
    ///
    /// ```
    /// let options = sentry_sdk_core::ClientOptions::new().max_attachment_size(1 << 20);
    /// assert_eq!(options.settings().max_attachment_size, 1 << 20);
    /// ```
    pub fn max_attachment_size(mut self, bytes: usize) -> Self {
        self.settings.max_attachment_size = bytes;
        self
    }

    /// Called with every user feedback ([`capture_feedback`](crate::capture_feedback)) on the
    /// SDK's background thread before it is sent: the feedback's event, with the message,
    /// name, email, url and associated event id under `contexts.feedback`. Return `None` to
    /// drop it (counted as `before_send`, category `feedback`). Feedback does not go through
    /// `before_send` or `sample_rate`. Default is none.
    pub fn before_send_feedback(
        mut self,
        f: impl Fn(Event) -> Option<Event> + Send + Sync + 'static,
    ) -> Self {
        self.settings.before_send_feedback = Some(Arc::new(f));
        self
    }

    /// Whether one error *value* that reaches the SDK through two paths (a `tracing::error!`
    /// with the error and a `capture_exception` of it, on one thread) is sent once; the second
    /// report is dropped and counted as `event_processor`. Default `true`. A new occurrence of
    /// an equal error (the same failure on every request, a panic in a loop) is always sent;
    /// to merge those, see [`dedupe_window`](Self::dedupe_window).
    ///
    /// ```
    /// // Every report sent, even the same error value captured twice.
    /// let options = sentry_sdk_core::ClientOptions::new().dedupe(false);
    /// assert!(!options.settings().dedupe);
    /// ```
    pub fn dedupe(mut self, on: bool) -> Self {
        self.settings.dedupe = on;
        self
    }

    /// Merge repeats of the same error (same exception chain and stack), opt-in: the first in
    /// each `window` is sent, the others are counted (`event_processor`) and the next one sent
    /// after the window carries the count in `contexts.repeats`. Panics are merged too. `init`
    /// adds the `dedupe` integration that does it when a window is set.
    pub fn dedupe_window(mut self, window: impl Into<Option<Duration>>) -> Self {
        self.settings.dedupe_window = window.into();
        self
    }
}

impl fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientOptions")
            .field("settings", &self.settings)
            .field("problem", &self.problem)
            .finish()
    }
}

impl From<&str> for ClientOptions {
    fn from(dsn: &str) -> Self {
        ClientOptions::new().dsn(dsn)
    }
}

impl From<String> for ClientOptions {
    fn from(dsn: String) -> Self {
        ClientOptions::new().dsn(&dsn)
    }
}

impl From<&String> for ClientOptions {
    fn from(dsn: &String) -> Self {
        ClientOptions::new().dsn(dsn)
    }
}

impl<D: AsRef<str>> From<(D, ClientOptions)> for ClientOptions {
    fn from((dsn, options): (D, ClientOptions)) -> Self {
        options.dsn(dsn.as_ref())
    }
}

impl From<Dsn> for ClientOptions {
    fn from(dsn: Dsn) -> Self {
        let mut options = ClientOptions::new();
        options.settings.dsn = Some(dsn);
        options.set_in_code.dsn = true;
        options
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_other_sdks() {
        let o = ClientOptions::new();
        assert_eq!(o.settings().max_breadcrumbs, 100);
        assert_eq!(o.settings().shutdown_timeout, Duration::from_secs(2));
        assert!(!o.settings().send_default_pii);
        assert_eq!(o.settings().sample_rate, 1.0);
        assert_eq!(o.settings().environment, "production");
        assert!(o.settings().default_integrations);
        assert!(o.problem().is_none());
    }

    #[test]
    fn bad_dsn_is_remembered_not_panicked() {
        let o = ClientOptions::from("not a dsn");
        assert!(o.settings().dsn.is_none());
        assert!(matches!(o.problem(), Some(Error::InvalidDsn(_))));
        let o = ClientOptions::from(("https://k@127.0.0.1/7", ClientOptions::new().release("r")));
        assert_eq!(o.settings().dsn.as_ref().unwrap().project_id(), "7");
        assert_eq!(o.settings().release.as_deref(), Some("r"));
    }

    #[test]
    fn request_timeout_reaches_the_http_transport_and_zero_is_a_problem() {
        let o =
            ClientOptions::from("https://k@127.0.0.1/7").request_timeout(Duration::from_secs(4));
        let settings = o.settings();
        let dsn = settings.dsn.clone().unwrap();
        let reports = std::sync::Arc::new(sentry_sdk_transport::ClientReports::new(true));
        let http = settings.transport.http_options(dsn, "t".into(), reports);
        assert_eq!(http.request_timeout, Duration::from_secs(4));
        assert!(http.connect_timeout <= Duration::from_secs(4));
        let zero = ClientOptions::new().request_timeout(Duration::ZERO);
        assert!(
            matches!(zero.problem(), Some(Error::InvalidOption { name, .. }) if *name == "request_timeout")
        );
    }

    #[test]
    fn sample_rate_out_of_range_is_a_problem() {
        for bad in [-0.1, 1.5, f32::NAN] {
            let o = ClientOptions::new().sample_rate(bad);
            let msg = o.problem().expect("problem").to_string();
            assert!(msg.contains("sample_rate"), "{msg}");
            assert_eq!(o.settings().sample_rate, 1.0);
        }
    }

    #[test]
    fn debug_output_hides_the_key() {
        let o = ClientOptions::from("https://secretkey@127.0.0.1/7");
        let shown = format!("{o:?}");
        assert!(!shown.contains("secretkey"), "{shown}");
    }
}
