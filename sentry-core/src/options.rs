//! `ClientOptions`: the builder `init` takes, with the defaults Sentry's other SDKs use.

use std::borrow::Cow;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sentry_sdk_transport::{ClientReports, Dsn, Transport};

use crate::integration::Integration;
use crate::logs::Log;
use crate::protocol::{Breadcrumb, Event};
use crate::Error;

/// A callback that may change or drop an event before it is sent.
pub type BeforeSend = Arc<dyn Fn(Event) -> Option<Event> + Send + Sync>;
/// A callback that may change or drop a breadcrumb before it is stored.
pub type BeforeBreadcrumb = Arc<dyn Fn(Breadcrumb) -> Option<Breadcrumb> + Send + Sync>;
/// Where `apply_env` looks for a release name, in order.
const RELEASE_VARIABLES: &[&str] = &[
    "SENTRY_RELEASE",
    "HEROKU_SLUG_COMMIT",
    "HEROKU_BUILD_COMMIT",
    "SOURCE_VERSION",
    "CODEBUILD_RESOLVED_SOURCE_VERSION",
    "CIRCLE_SHA1",
    "GAE_DEPLOYMENT_ID",
    "K_REVISION",
    "GITHUB_SHA",
    "CI_COMMIT_SHA",
    "BITBUCKET_COMMIT",
    "VERCEL_GIT_COMMIT_SHA",
];

/// A callback that may change or drop a structured log before it is sent.
pub type BeforeSendLog = Arc<dyn Fn(Log) -> Option<Log> + Send + Sync>;
/// Decides the sample rate of one error event; see [`ClientOptions::error_sampler`].
pub type ErrorSampler = Arc<dyn Fn(&Event) -> f32 + Send + Sync>;
/// Builds the transport for a client; see [`ClientOptions::transport`].
pub type TransportFactory = Arc<dyn Fn(&TransportContext) -> Arc<dyn Transport> + Send + Sync>;

/// What a [`TransportFactory`] gets to build a transport with.
#[derive(Debug)]
pub struct TransportContext {
    /// The parsed DSN.
    pub dsn: Dsn,
    /// The `User-Agent` / `sentry_client` value, `sentry.rust.sdk/<version>`.
    pub sdk_client: String,
    /// Discard counters shared with the client, to be sent as client reports.
    pub client_reports: Arc<ClientReports>,
}

/// Options for [`init`](../sentry_sdk/fn.init.html): a builder whose setters are named like the
/// Python SDK's options.
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
/// assert_eq!(options.get_environment(), "staging");
/// assert!(options.problem().is_none());
/// ```
#[derive(Clone)]
pub struct ClientOptions {
    dsn: Option<Dsn>,
    dsn_set: bool,
    release: Option<Cow<'static, str>>,
    environment: Option<Cow<'static, str>>,
    dist: Option<Cow<'static, str>>,
    server_name: Option<Cow<'static, str>>,
    sample_rate: f32,
    max_breadcrumbs: usize,
    attach_stacktrace: bool,
    send_default_pii: bool,
    before_send: Option<BeforeSend>,
    before_breadcrumb: Option<BeforeBreadcrumb>,
    shutdown_timeout: Duration,
    debug: Option<bool>,
    in_app_include: Vec<Cow<'static, str>>,
    in_app_exclude: Vec<Cow<'static, str>>,
    default_integrations: bool,
    integrations: Vec<Arc<dyn Integration>>,
    transport: Option<TransportFactory>,
    send_client_reports: bool,
    cache_dir: Option<PathBuf>,
    cache_max_items: usize,
    http_proxy: Option<String>,
    https_proxy: Option<String>,
    root_certificates: Vec<Vec<u8>>,
    accept_invalid_certs: bool,
    transport_queue_size: usize,
    ignore_errors: Vec<Cow<'static, str>>,
    error_sampler: Option<ErrorSampler>,
    include_source_context: bool,
    dedupe_window: Option<Duration>,
    traces_sample_rate: Option<f32>,
    enable_logs: bool,
    before_send_log: Option<BeforeSendLog>,
    problem: Option<Error>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            dsn: None,
            dsn_set: false,
            release: None,
            environment: None,
            dist: None,
            server_name: None,
            sample_rate: 1.0,
            max_breadcrumbs: 100,
            attach_stacktrace: false,
            send_default_pii: false,
            before_send: None,
            before_breadcrumb: None,
            shutdown_timeout: Duration::from_secs(2),
            debug: None,
            in_app_include: Vec::new(),
            in_app_exclude: Vec::new(),
            default_integrations: true,
            integrations: Vec::new(),
            transport: None,
            send_client_reports: true,
            cache_dir: None,
            cache_max_items: 30,
            http_proxy: None,
            https_proxy: None,
            root_certificates: Vec::new(),
            accept_invalid_certs: false,
            transport_queue_size: 30_000,
            ignore_errors: Vec::new(),
            error_sampler: None,
            include_source_context: true,
            dedupe_window: None,
            traces_sample_rate: None,
            enable_logs: false,
            before_send_log: None,
            problem: None,
        }
    }
}

impl ClientOptions {
    /// Options with every default: no DSN (the SDK stays disabled unless `SENTRY_DSN` is set).
    pub fn new() -> Self {
        Self::default()
    }

    fn remember(&mut self, problem: Error) {
        // The first problem is the one reported; later ones are usually consequences.
        self.problem.get_or_insert(problem);
    }

    /// Where to send events. An unparsable DSN is remembered and reported by `init` (which then
    /// runs disabled); an empty string explicitly disables the SDK, even if `SENTRY_DSN` is set.
    pub fn dsn(mut self, dsn: &str) -> Self {
        self.dsn_set = true;
        if dsn.trim().is_empty() {
            self.dsn = None;
            return self;
        }
        match Dsn::from_str(dsn) {
            Ok(parsed) => self.dsn = Some(parsed),
            Err(err) => {
                self.dsn = None;
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
        self.dsn = Some(parsed);
        self.dsn_set = true;
        Ok(self)
    }

    /// The release (`my-app@1.2.3`, see [`release_name!`](crate::release_name)); defaults to
    /// `SENTRY_RELEASE`, then a commit id from common CI variables (`GITHUB_SHA`,
    /// `CI_COMMIT_SHA`, `CIRCLE_SHA1`, `HEROKU_SLUG_COMMIT`, `SOURCE_VERSION`, ...).
    pub fn release(mut self, release: impl Into<Cow<'static, str>>) -> Self {
        self.release = Some(release.into());
        self
    }

    /// The environment; defaults to `SENTRY_ENVIRONMENT`, then `production`.
    pub fn environment(mut self, environment: impl Into<Cow<'static, str>>) -> Self {
        self.environment = Some(environment.into());
        self
    }

    /// The distribution of the release (a build number, say).
    pub fn dist(mut self, dist: impl Into<Cow<'static, str>>) -> Self {
        self.dist = Some(dist.into());
        self
    }

    /// The host name sent with events.
    pub fn server_name(mut self, server_name: impl Into<Cow<'static, str>>) -> Self {
        self.server_name = Some(server_name.into());
        self
    }

    /// The share of error events to send, from `0.0` to `1.0` (default). Events sampled out
    /// are counted in client reports as `sample_rate`. A value outside the range (or NaN) is
    /// remembered and reported by `init`, which then runs disabled.
    pub fn sample_rate(mut self, rate: f32) -> Self {
        if let Some(rate) = self.checked_rate("sample_rate", rate) {
            self.sample_rate = rate;
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
        self.max_breadcrumbs = max;
        self
    }

    /// Attach the capture site's stack trace to message events too (default `false`).
    pub fn attach_stacktrace(mut self, on: bool) -> Self {
        self.attach_stacktrace = on;
        self
    }

    /// Allow integrations to send personal data such as IP addresses (default `false`).
    pub fn send_default_pii(mut self, on: bool) -> Self {
        self.send_default_pii = on;
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
        self.before_send = Some(Arc::new(f));
        self
    }

    /// Called with every breadcrumb, on the thread that adds it, before it is stored; return
    /// `None` to drop it. Captures from inside it are ignored.
    pub fn before_breadcrumb(
        mut self,
        f: impl Fn(Breadcrumb) -> Option<Breadcrumb> + Send + Sync + 'static,
    ) -> Self {
        self.before_breadcrumb = Some(Arc::new(f));
        self
    }

    /// How long dropping the init guard (and a panic) waits for pending events (default 2 s).
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Print what the SDK does to stderr (default: `SENTRY_DEBUG`, else off).
    pub fn debug(mut self, on: bool) -> Self {
        self.debug = Some(on);
        self
    }

    /// Function-path prefixes always treated as your own code (wins over every other rule).
    pub fn in_app_include(mut self, prefix: impl Into<Cow<'static, str>>) -> Self {
        self.in_app_include.push(prefix.into());
        self
    }

    /// Function-path prefixes never treated as your own code.
    pub fn in_app_exclude(mut self, prefix: impl Into<Cow<'static, str>>) -> Self {
        self.in_app_exclude.push(prefix.into());
        self
    }

    /// Whether `init` adds the default integrations (the panic hook); default `true`.
    pub fn default_integrations(mut self, on: bool) -> Self {
        self.default_integrations = on;
        self
    }

    /// Adds an integration; it is set up when the client starts.
    pub fn integrations(mut self, integration: impl Integration) -> Self {
        self.integrations.push(Arc::new(integration));
        self
    }

    /// Adds an integration that is already shared.
    pub fn add_integration(mut self, integration: Arc<dyn Integration>) -> Self {
        self.integrations.push(integration);
        self
    }

    /// Replaces the HTTP transport with your own, built once per client.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use sentry_sdk_core::transport::{Outgoing, Transport};
    ///
    /// struct Discard;
    /// impl Transport for Discard {
    ///     fn send(&self, _outgoing: Outgoing) {}
    ///     fn flush(&self, _timeout: Duration) -> bool { true }
    /// }
    /// let options = sentry_sdk_core::ClientOptions::new().transport(|_ctx| Arc::new(Discard));
    /// # let _ = options;
    /// ```
    pub fn transport(
        mut self,
        factory: impl Fn(&TransportContext) -> Arc<dyn Transport> + Send + Sync + 'static,
    ) -> Self {
        self.transport = Some(Arc::new(factory));
        self
    }

    /// Send client reports: counts of what the SDK dropped and why (default `true`).
    pub fn send_client_reports(mut self, on: bool) -> Self {
        self.send_client_reports = on;
        self
    }

    /// Turns on the offline cache in `dir` (default off): envelopes that could not be
    /// delivered (server down, network gone, process ending) are kept there and sent on the
    /// next start or when the server is back. Crash reports are written there before the
    /// panic hook waits, so they survive `panic = "abort"`.
    ///
    /// ```
    /// let options = sentry_sdk_core::ClientOptions::new().cache_dir(std::env::temp_dir().join("my-app-sentry"));
    /// # let _ = options;
    /// ```
    pub fn cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache_dir = Some(dir.into());
        self
    }

    /// Most envelopes the offline cache keeps; the oldest are dropped first (counted as
    /// `cache_overflow`). Default 30, as sentry-native.
    pub fn cache_max_items(mut self, max: usize) -> Self {
        self.cache_max_items = max;
        self
    }

    /// Proxy for `http://` DSNs (default: the `HTTP_PROXY` environment variable).
    pub fn http_proxy(mut self, url: impl Into<String>) -> Self {
        self.http_proxy = Some(url.into());
        self
    }

    /// Proxy for `https://` DSNs (default: the `HTTPS_PROXY` environment variable).
    pub fn https_proxy(mut self, url: impl Into<String>) -> Self {
        self.https_proxy = Some(url.into());
        self
    }

    /// Trusts an extra root certificate (PEM) besides the webpki roots, e.g. for a
    /// self-hosted server with a private CA.
    pub fn add_root_certificate(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.root_certificates.push(pem.into());
        self
    }

    /// Accepts any TLS certificate (default `false`). Only for testing.
    pub fn accept_invalid_certs(mut self, on: bool) -> Self {
        self.accept_invalid_certs = on;
        self
    }

    /// Most envelopes waiting to be sent (default 30,000; the queue is also bounded to 32 MiB).
    /// Beyond it events are dropped and counted as `queue_overflow`, never waited for.
    pub fn transport_queue_size(mut self, size: usize) -> Self {
        self.transport_queue_size = size;
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
        self.ignore_errors.push(pattern.into());
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
        self.error_sampler = Some(Arc::new(sampler));
        self
    }

    /// Add the source lines around each in-app frame (5 before, 5 after) when the source file
    /// is readable where the program runs (default `true`). Read on the background thread,
    /// cached, at most 1 MiB per file.
    pub fn include_source_context(mut self, on: bool) -> Self {
        self.include_source_context = on;
        self
    }

    /// Turns tracing on: the share of transactions to record and send, from `0.0` to `1.0`.
    /// Unset (default), transactions are no-ops. Out of range is a configuration error.
    pub fn traces_sample_rate(mut self, rate: f32) -> Self {
        if let Some(rate) = self.checked_rate("traces_sample_rate", rate) {
            self.traces_sample_rate = Some(rate);
        }
        self
    }

    /// Send structured logs (`logger_info!` and friends, and the `log`/`tracing`
    /// integrations' logs). Default `false`, as Sentry's docs say.
    pub fn enable_logs(mut self, on: bool) -> Self {
        self.enable_logs = on;
        self
    }

    /// Called with every structured log on the SDK's background thread before it is batched;
    /// return `None` to drop it (counted as `before_send`, category `log_item`).
    pub fn before_send_log(
        mut self,
        f: impl Fn(Log) -> Option<Log> + Send + Sync + 'static,
    ) -> Self {
        self.before_send_log = Some(Arc::new(f));
        self
    }

    /// Merge repeats of the same error (same exception chain and stack): the first in each
    /// `window` is sent, the others are counted and the next one sent after the window carries
    /// the count in `contexts.repeats`. Without a window (default) only an event identical to
    /// the one just before it is dropped. Needs the default `dedupe` integration.
    pub fn dedupe_window(mut self, window: impl Into<Option<Duration>>) -> Self {
        self.dedupe_window = window.into();
        self
    }

    /// Fills what code left unset from `SENTRY_DSN`, `SENTRY_RELEASE`, `SENTRY_ENVIRONMENT` and
    /// `SENTRY_DEBUG`. `init` calls this; call it yourself only when building a client by hand.
    pub fn apply_env(mut self) -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        if !self.dsn_set {
            if let Some(dsn) = var("SENTRY_DSN") {
                self = self.dsn(&dsn);
            }
        }
        if self.release.is_none() {
            // As sentry-python does: SENTRY_RELEASE, then the commit that CI systems and
            // platforms export.
            self.release = RELEASE_VARIABLES
                .iter()
                .find_map(|name| var(name))
                .map(Cow::Owned);
        }
        if self.environment.is_none() {
            self.environment = var("SENTRY_ENVIRONMENT").map(Cow::Owned);
        }
        if self.debug.is_none() {
            self.debug = var("SENTRY_DEBUG")
                .map(|v| matches!(v.trim(), "1" | "true" | "TRUE" | "True" | "yes"));
        }
        self
    }

    /// The first configuration problem found, if any; `init` reports it and runs disabled.
    pub fn problem(&self) -> Option<&Error> {
        self.problem.as_ref()
    }

    /// The DSN, if one is set and valid.
    pub fn get_dsn(&self) -> Option<&Dsn> {
        self.dsn.as_ref()
    }
    /// The release, if set.
    pub fn get_release(&self) -> Option<&str> {
        self.release.as_deref()
    }
    /// The environment (`production` unless set).
    pub fn get_environment(&self) -> &str {
        self.environment.as_deref().unwrap_or("production")
    }
    /// The distribution, if set.
    pub fn get_dist(&self) -> Option<&str> {
        self.dist.as_deref()
    }
    /// The server name, if set.
    pub fn get_server_name(&self) -> Option<&str> {
        self.server_name.as_deref()
    }
    /// The error sample rate.
    pub fn get_sample_rate(&self) -> f32 {
        self.sample_rate
    }
    /// The breadcrumb limit.
    pub fn get_max_breadcrumbs(&self) -> usize {
        self.max_breadcrumbs
    }
    /// Whether message events carry a stack trace.
    pub fn get_attach_stacktrace(&self) -> bool {
        self.attach_stacktrace
    }
    /// Whether personal data may be sent.
    pub fn get_send_default_pii(&self) -> bool {
        self.send_default_pii
    }
    /// The shutdown timeout.
    pub fn get_shutdown_timeout(&self) -> Duration {
        self.shutdown_timeout
    }
    /// Whether debug output is on.
    pub fn get_debug(&self) -> bool {
        self.debug.unwrap_or(false)
    }
    /// Whether `init` adds the default integrations.
    pub fn get_default_integrations(&self) -> bool {
        self.default_integrations
    }
    /// The in-app include prefixes.
    pub fn get_in_app_include(&self) -> &[Cow<'static, str>] {
        &self.in_app_include
    }
    /// The in-app exclude prefixes.
    pub fn get_in_app_exclude(&self) -> &[Cow<'static, str>] {
        &self.in_app_exclude
    }
    /// The integrations added so far.
    pub fn get_integrations(&self) -> &[Arc<dyn Integration>] {
        &self.integrations
    }
    /// Whether client reports are sent.
    pub fn get_send_client_reports(&self) -> bool {
        self.send_client_reports
    }
    /// The offline cache directory, if on.
    pub fn get_cache_dir(&self) -> Option<&std::path::Path> {
        self.cache_dir.as_deref()
    }
    /// The offline cache's item bound.
    pub fn get_cache_max_items(&self) -> usize {
        self.cache_max_items
    }
    /// The transport queue's bound.
    pub fn get_transport_queue_size(&self) -> usize {
        self.transport_queue_size
    }
    /// The `ignore_errors` patterns.
    pub fn get_ignore_errors(&self) -> &[Cow<'static, str>] {
        &self.ignore_errors
    }
    /// Whether source context is added.
    pub fn get_include_source_context(&self) -> bool {
        self.include_source_context
    }
    /// The traces sample rate; `None` when tracing is off.
    pub fn get_traces_sample_rate(&self) -> Option<f32> {
        self.traces_sample_rate
    }
    /// Whether structured logs are sent.
    pub fn get_enable_logs(&self) -> bool {
        self.enable_logs
    }
    pub(crate) fn before_send_log_fn(&self) -> Option<&BeforeSendLog> {
        self.before_send_log.as_ref()
    }
    /// The dedupe window, if any.
    pub fn get_dedupe_window(&self) -> Option<Duration> {
        self.dedupe_window
    }
    pub(crate) fn error_sampler_fn(&self) -> Option<&ErrorSampler> {
        self.error_sampler.as_ref()
    }
    pub(crate) fn http_settings(&self) -> (Option<&str>, Option<&str>, &[Vec<u8>], bool) {
        (
            self.http_proxy.as_deref(),
            self.https_proxy.as_deref(),
            &self.root_certificates,
            self.accept_invalid_certs,
        )
    }
    pub(crate) fn before_send_fn(&self) -> Option<&BeforeSend> {
        self.before_send.as_ref()
    }
    pub(crate) fn before_breadcrumb_fn(&self) -> Option<&BeforeBreadcrumb> {
        self.before_breadcrumb.as_ref()
    }
    pub(crate) fn transport_factory(&self) -> Option<&TransportFactory> {
        self.transport.as_ref()
    }
}

impl fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `Dsn`'s Display leaves out the keys; callbacks print as present/absent only.
        f.debug_struct("ClientOptions")
            .field("dsn", &self.dsn)
            .field("release", &self.release)
            .field("environment", &self.get_environment())
            .field("dist", &self.dist)
            .field("server_name", &self.server_name)
            .field("sample_rate", &self.sample_rate)
            .field("max_breadcrumbs", &self.max_breadcrumbs)
            .field("attach_stacktrace", &self.attach_stacktrace)
            .field("send_default_pii", &self.send_default_pii)
            .field("before_send", &self.before_send.is_some())
            .field("before_breadcrumb", &self.before_breadcrumb.is_some())
            .field("shutdown_timeout", &self.shutdown_timeout)
            .field("debug", &self.get_debug())
            .field("in_app_include", &self.in_app_include)
            .field("in_app_exclude", &self.in_app_exclude)
            .field("default_integrations", &self.default_integrations)
            .field(
                "integrations",
                &self
                    .integrations
                    .iter()
                    .map(|i| i.name())
                    .collect::<Vec<_>>(),
            )
            .field("transport", &self.transport.is_some())
            .field("send_client_reports", &self.send_client_reports)
            .field("cache_dir", &self.cache_dir)
            .field("cache_max_items", &self.cache_max_items)
            .field("http_proxy", &self.http_proxy.is_some())
            .field("https_proxy", &self.https_proxy.is_some())
            .field("root_certificates", &self.root_certificates.len())
            .field("accept_invalid_certs", &self.accept_invalid_certs)
            .field("transport_queue_size", &self.transport_queue_size)
            .field("ignore_errors", &self.ignore_errors)
            .field("error_sampler", &self.error_sampler.is_some())
            .field("include_source_context", &self.include_source_context)
            .field("dedupe_window", &self.dedupe_window)
            .field("traces_sample_rate", &self.traces_sample_rate)
            .field("enable_logs", &self.enable_logs)
            .field("before_send_log", &self.before_send_log.is_some())
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
        options.dsn = Some(dsn);
        options.dsn_set = true;
        options
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_other_sdks() {
        let o = ClientOptions::new();
        assert_eq!(o.get_max_breadcrumbs(), 100);
        assert_eq!(o.get_shutdown_timeout(), Duration::from_secs(2));
        assert!(!o.get_send_default_pii());
        assert_eq!(o.get_sample_rate(), 1.0);
        assert_eq!(o.get_environment(), "production");
        assert!(o.get_default_integrations());
        assert!(o.problem().is_none());
    }

    #[test]
    fn bad_dsn_is_remembered_not_panicked() {
        let o = ClientOptions::from("not a dsn");
        assert!(o.get_dsn().is_none());
        assert!(matches!(o.problem(), Some(Error::InvalidDsn(_))));
        let o = ClientOptions::from(("https://k@127.0.0.1/7", ClientOptions::new().release("r")));
        assert_eq!(o.get_dsn().unwrap().project_id(), "7");
        assert_eq!(o.get_release(), Some("r"));
    }

    #[test]
    fn sample_rate_out_of_range_is_a_problem() {
        for bad in [-0.1, 1.5, f32::NAN] {
            let o = ClientOptions::new().sample_rate(bad);
            let msg = o.problem().expect("problem").to_string();
            assert!(msg.contains("sample_rate"), "{msg}");
            assert_eq!(o.get_sample_rate(), 1.0);
        }
    }

    #[test]
    fn debug_output_hides_the_key() {
        let o = ClientOptions::from("https://secretkey@127.0.0.1/7");
        let shown = format!("{o:?}");
        assert!(!shown.contains("secretkey"), "{shown}");
    }
}
