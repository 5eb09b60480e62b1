//! The core of `sentry-sdk`: protocol types, options, the client, the three scopes, the
//! capture API and stack traces.
//!
//! Most programs use the `sentry-sdk` facade, which re-exports everything here and adds
//! `init` and the default integrations.
//!
//! # Layout
//! Modules import in one direction, from the bottom of this list to the top:
//! - `api`: the top-level functions (`capture_*`, `set_*`, `with_scope`, `flush`);
//! - [`logs`]: structured logs and the `logger_*!` macros;
//! - [`metrics`]: trace metrics (`count`, `gauge`, `distribution`);
//! - [`monitor`]: cron check-ins: `capture_check_in`, and `run`/`run_async` that report a job;
//! - `capture`: the caller's side of an error capture (sampling, trace, snapshot, enqueue);
//! - `feedback`: the caller's side of a user feedback (snapshot, enqueue);
//! - [`performance`]: transactions and spans, and the span entered on each thread;
//! - `binding`: where the client in force is kept (process-wide and per thread);
//! - `client`: [`Client`]: validated options plus a running transport;
//! - `payload`: where every payload is serialised (error events, transactions, logs,
//!   metrics), on the SDK's thread;
//! - `scope`: [`Scope`] data, where the global/isolation/current scopes live (and where a
//!   breadcrumb is stored: `scope/breadcrumbs.rs`), merging them into an event;
//! - `options`: [`ClientOptions`], its [`Settings`], environment variables, [`Integration`];
//! - `stacktrace`: [`RawStack`] capture on the caller, symbolication on the worker;
//! - `dedupe`: the default dedupe (one error value reported twice), on the caller's thread;
//! - `error_chain`: `std::error::Error` chains to exception values;
//! - [`session`]: release health (the application session, request sessions, aggregates);
//! - [`propagation`]: trace headers, the propagation context of isolation scopes, the DSC;
//! - [`protocol`]: the payload types (events, ids, spans, logs, metrics, attachments, feedback);
//! - `callback`, `random`, `sdk`, `hostname`, `error`: small leaves.
//! - `test` (feature `test`): capture events in your own tests.
//!
//! Rate limits, retries and the offline cache live in `sentry-sdk-transport`.

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![deny(missing_debug_implementations)]
#![warn(unreachable_pub)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod api;
mod binding;
mod callback;
mod capture;
mod client;
mod dedupe;
mod error;
mod error_chain;
mod feedback;
mod future;
mod hostname;
mod limits;
mod local_values;
pub mod logs;
pub mod metrics;
pub mod monitor;
mod options;
mod payload;
pub mod performance;
pub mod propagation;
#[cfg(test)]
mod proptests;
pub mod protocol;
mod random;
mod scope;
mod scrub;
mod sdk;
pub mod session;
mod stacktrace;
#[cfg(feature = "test")]
#[cfg_attr(docsrs, doc(cfg(feature = "test")))]
pub mod test;

pub use api::{
    add_attachment, add_breadcrumb, capture_event, capture_event_with_stack, capture_exception,
    capture_exception_with_attachments, capture_exception_with_stacktrace,
    capture_exception_with_values, capture_feedback, capture_message,
    capture_message_with_attachments, clear_attachments, close, configure_global_scope,
    configure_scope, event_from_error, flush, last_event_id, remove_tag, set_context, set_extra,
    set_fingerprint, set_level, set_tag, set_user, with_isolation_scope, with_scope, AsError,
    IntoBreadcrumb,
};
pub use api::{end_session, start_request_session, start_session};
pub use binding::{current_client, is_active, unbind, with_current_client, with_thread_client};
pub use client::Client;
pub use error::Error;
pub use future::{InSpan, Isolated, IsolationExt};
pub use local_values::{__local_value, debug_bounded, MAX_VALUE_CHARS};
pub use monitor::{capture_check_in, IntoCheckIn, MonitorOutcome};
pub use options::{
    BeforeBreadcrumb, BeforeSend, BeforeSendFeedback, BeforeSendLog, BeforeSendMetric,
    BeforeSendTransaction, ClientOptions, ErrorSampler, Integration, SamplingContext, Settings,
    TracesSampler, TransportContext, TransportFactory, TransportSettings,
};
pub use options::{BeforeSendCheckIn, RequestBodySize, Spotlight, SPOTLIGHT_URL};
pub use scope::Scope;
pub use scrub::{DEFAULT_DENYLIST, FILTERED, PII_DENYLIST};
pub use sdk::{SDK_NAME, SDK_VERSION};
pub use session::{SessionMode, SessionStatus};
pub use stacktrace::RawStack;

/// What a custom transport needs: the [`Transport`](transport::Transport) trait, what it is
/// handed ([`Outgoing`](transport::Outgoing), [`Envelope`](transport::Envelope),
/// [`Item`](transport::Item), [`Dsn`](transport::Dsn)), the counters it reports drops to,
/// and the HTTP transport with its options, to wrap or configure.
pub mod transport {
    pub use sentry_sdk_transport::{
        BuildItem, CacheOptions, ClientReports, DataCategory, DiscardReason, Dsn, Envelope,
        HttpOptions, HttpTransport, Item, Outgoing, Periodic, Transport,
    };
}

/// Not public API: what this workspace's other crates (`sentry-sdk`, `sentry-sdk-integrations`)
/// share with this one. No semver guarantee; do not use.
#[doc(hidden)]
pub mod __private {
    pub use crate::callback::{in_panic_hook, CALLBACK_THREAD};
    pub use crate::payload::thread_number;
    pub use crate::stacktrace::__clear_symbol_cache;
    pub use sentry_sdk_transport::debug::{
        always_log, debug_log, is_enabled as debug_enabled, is_sdk_thread, set_enabled,
    };
    pub use sentry_sdk_transport::sync::Mutex;
    pub use sentry_sdk_transport::time::{rfc3339, unix_millis};
}

#[allow(dead_code)]
fn _assert_impls() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Client>();
    send_sync::<ClientOptions>();
    send_sync::<Settings>();
    send_sync::<Scope>();
    send_sync::<Error>();
}
