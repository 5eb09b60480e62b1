//! A Sentry client for Rust that never blocks, never crashes the host program and loses nothing
//! it could keep.
//!
//! # Quick start
//! ```no_run
//! use sentry_sdk::protocol::Level;
//!
//! fn main() {
//!     // Keep the guard alive for the whole program: dropping it flushes (at most 2 s).
//!     let _guard = sentry_sdk::init("https://public@o1.ingest.sentry.io/42");
//!
//!     sentry_sdk::set_tag("plan", "pro");
//!     sentry_sdk::capture_message("started", Level::Info);
//!     if let Err(err) = "x".parse::<u32>() {
//!         sentry_sdk::capture_exception(&err);
//!     }
//!     // Panics are reported too (unless `default_integrations(false)`).
//! }
//! ```
//! With no DSN (neither in code nor in `SENTRY_DSN`) the SDK is disabled and every call costs
//! a few nanoseconds. An invalid DSN or option never panics: `init` prints the problem to
//! stderr once and runs disabled.
//!
//! # Concepts
//! - **Client**: options plus a transport; `init` binds one for the whole process. It is
//!   looked up at capture time, so threads started before `init` report too.
//! - **Scopes**: data merged into events. The *global* scope applies everywhere; the
//!   *isolation* scope (what [`set_tag`], [`set_user`], [`add_breadcrumb`] write) is shared by
//!   the process until forked with [`with_isolation_scope`] or
//!   [`IsolationExt::isolated`] for one request or task; [`with_scope`] makes a short-lived
//!   *current* scope.
//! - **Cost**: the calling thread only snapshots the scopes (O(1)), walks the stack when one is
//!   needed (no symbolication) and enqueues without blocking. Symbolication, scope merging,
//!   `before_send`, serialisation and HTTP happen on one background thread.
//!   `before_send` therefore runs on that thread for ordinary captures, and inline for panics.
//! - **Logs and traces**: with `enable_logs(true)`, [`logger_info!`] and its siblings send
//!   structured logs (batched on the background thread); with `traces_sample_rate` set,
//!   [`performance::start_transaction`] (or the `tracing` layer) records transactions and
//!   spans, and events captured inside a span carry its trace.
//! - **Metrics**: [`metrics::count`], [`metrics::gauge`] and [`metrics::distribution`] send
//!   trace metrics (on by default), tied to the active trace and batched like logs.
//! - **Cron monitors**: [`monitor::run`] (and [`monitor::run_async`]) report one run of a
//!   scheduled job as `in_progress`, then `ok` or `error` check-ins; [`capture_check_in`]
//!   sends one by hand.
//! - **Shutdown**: dropping the [`ClientInitGuard`] (or [`close`]) waits at most
//!   `shutdown_timeout` for pending events, and says on stderr how many it waits for.
//!
//! # Testing your code
//! With the `test` feature, `sentry_sdk::test::with_captured_events` runs a closure with a
//! client bound on the current thread and returns the events it would have sent.
//!
//! # Feature flags
//! - `panic` (default): report panics through a chained panic hook.
//! - `test`: helpers for your own tests.
//! - `anyhow`: `capture_anyhow` for `anyhow::Error` (chain and backtrace).
//! - `eyre`: `capture_eyre` for `eyre::Report` (chain and backtrace).
//! - `log`: `integrations::log::SentryLogger`, wrapping your `log` logger.
//! - `tracing`: `integrations::tracing::SentryLayer`, a `tracing_subscriber` layer.
//! - `actix`: `integrations::actix::Sentry`, an actix-web 4 middleware: one isolation scope,
//!   continued trace and `http.server` transaction per request.
//! - `reqwest`: `integrations::reqwest::SentryTracing`, a `reqwest-middleware` middleware:
//!   `http.client` spans and trace headers (`integrations::http_client` for other clients).
//! - `tower`: `integrations::tower::SentryLayer`, a `tower` layer for HTTP servers (per-request
//!   isolation, continued traces, `http.server` transactions).
//! - `axum`: `tower`, with transactions named by axum's matched route.
//! - `http2`: HTTP/2 to the server, negotiated over TLS (HTTP/1.1 otherwise).
//!
//! # MSRV
//! Rust 1.81.

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![deny(missing_debug_implementations)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod init;

pub use init::{init, ClientInitGuard};
#[doc(hidden)]
pub use sentry_sdk_core::__local_value;
#[doc(hidden)]
pub use sentry_sdk_core::__private::__clear_symbol_cache;
pub use sentry_sdk_core::protocol::{Attachment, AttachmentType, Feedback};
pub use sentry_sdk_core::protocol::{Breadcrumb, Event, EventId, Level, User};
pub use sentry_sdk_core::{
    add_attachment, capture_exception_with_attachments, capture_feedback,
    capture_message_with_attachments, clear_attachments, BeforeSendFeedback,
};
pub use sentry_sdk_core::{
    capture_exception_with_stacktrace, capture_exception_with_values, debug_bounded, release_name,
    MAX_VALUE_CHARS,
};

pub use sentry_sdk_core::performance::{continue_trace, outgoing_headers, OutgoingHeaders};
pub use sentry_sdk_core::propagation;
pub use sentry_sdk_core::{
    add_breadcrumb, capture_event, capture_exception, capture_message, close,
    configure_global_scope, configure_scope, current_client, flush, is_active, last_event_id,
    protocol, remove_tag, set_context, set_extra, set_fingerprint, set_level, set_tag, set_user,
    transport, unbind, with_current_client, with_isolation_scope, with_scope, with_thread_client,
    AsError, BeforeBreadcrumb, BeforeSend, BeforeSendLog, BeforeSendTransaction, Client,
    ClientOptions, Error, ErrorSampler, InSpan, Integration, IntoBreadcrumb, Isolated,
    IsolationExt, RawStack, SamplingContext, Scope, Settings, TracesSampler, TransportContext,
    TransportFactory, TransportSettings, SDK_NAME, SDK_VERSION,
};
#[cfg(feature = "anyhow")]
#[cfg_attr(docsrs, doc(cfg(feature = "anyhow")))]
pub use sentry_sdk_integrations::anyhow::capture_anyhow;
#[cfg(feature = "eyre")]
#[cfg_attr(docsrs, doc(cfg(feature = "eyre")))]
pub use sentry_sdk_integrations::eyre::capture_eyre;

/// Native crashes reported with a minidump (feature `minidump`): call
/// [`minidump::run_monitor_if_requested`] first in `main`.
#[cfg(feature = "minidump")]
#[cfg_attr(docsrs, doc(cfg(feature = "minidump")))]
pub mod minidump {
    pub use sentry_sdk_integrations::minidump::{
        run_monitor_if_requested, MinidumpIntegration, SNAPSHOT_INTERVAL,
    };
}

/// Integrations that `init` can add.
pub mod integrations {
    #[cfg(feature = "actix")]
    #[cfg_attr(docsrs, doc(cfg(feature = "actix")))]
    pub use sentry_sdk_integrations::actix;
    #[cfg(feature = "log")]
    #[cfg_attr(docsrs, doc(cfg(feature = "log")))]
    pub use sentry_sdk_integrations::log;
    #[cfg(feature = "minidump")]
    #[cfg_attr(docsrs, doc(cfg(feature = "minidump")))]
    pub use sentry_sdk_integrations::minidump;
    #[cfg(feature = "opentelemetry")]
    #[cfg_attr(docsrs, doc(cfg(feature = "opentelemetry")))]
    pub use sentry_sdk_integrations::opentelemetry;
    #[cfg(feature = "panic")]
    #[cfg_attr(docsrs, doc(cfg(feature = "panic")))]
    pub use sentry_sdk_integrations::panic;
    #[cfg(feature = "reqwest")]
    #[cfg_attr(docsrs, doc(cfg(feature = "reqwest")))]
    pub use sentry_sdk_integrations::reqwest;
    #[cfg(feature = "tower")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
    pub use sentry_sdk_integrations::tower;
    #[cfg(feature = "tracing")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tracing")))]
    pub use sentry_sdk_integrations::tracing;
    #[cfg(feature = "panic")]
    pub use sentry_sdk_integrations::PanicIntegration;
    pub use sentry_sdk_integrations::{http_client, http_request};
    pub use sentry_sdk_integrations::{ContextsIntegration, DedupeIntegration};
}

#[cfg(feature = "test")]
#[cfg_attr(docsrs, doc(cfg(feature = "test")))]
pub use sentry_sdk_core::test;

pub use sentry_sdk_core::{
    end_session, start_request_session, start_session, SessionMode, SessionStatus,
};
pub use sentry_sdk_core::{
    logger_debug, logger_error, logger_fatal, logger_info, logger_log, logger_trace, logger_warn,
};
pub use sentry_sdk_core::{logs, performance, session};
pub use sentry_sdk_core::{metrics, BeforeSendMetric};

pub use sentry_sdk_core::monitor;
pub use sentry_sdk_core::protocol::{
    CheckIn, CheckInId, CheckInStatus, MonitorConfig, MonitorIntervalUnit, MonitorSchedule,
};
pub use sentry_sdk_core::{capture_check_in, BeforeSendCheckIn, IntoCheckIn, MonitorOutcome};

/// The README's Rust snippets, compiled and run as doctests so that none goes stale.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
