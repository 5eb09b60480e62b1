//! The core of `sentry-sdk`: protocol types, options, the client, the three scopes, the
//! capture API and stack traces.
//!
//! Most programs use the `sentry-sdk` facade, which re-exports everything here and adds
//! `init` and the default integrations.
//!
//! # Layout
//! - `api`: the top-level functions (`capture_*`, `set_*`, `with_scope`, `flush`).
//! - `client`: [`Client`]: options plus transport; where the bound client is kept.
//! - `scope`: [`Scope`] data, where the global/isolation/current scopes live, merging.
//! - `stacktrace`: [`RawStack`] capture on the caller, symbolication on the worker.
//! - `error_chain`: `std::error::Error` chains to exception values.
//! - `callback`: running user callbacks with re-entry disabled and panics caught.
//! - [`performance`]: transactions and spans.
//! - [`logs`]: structured logs and the `logger_*!` macros.
//! - [`protocol`]: the event payload types.
//! - `options`: [`ClientOptions`].
//! - `test` (feature `test`): capture events in your own tests.

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![deny(missing_debug_implementations)]
#![warn(unreachable_pub)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod api;
mod callback;
mod client;
mod error;
mod error_chain;
mod future;
mod hostname;
mod integration;
mod local_values;
pub mod logs;
mod options;
pub mod performance;
mod pipeline;
pub mod protocol;
mod random;
mod scope;
mod stacktrace;
#[cfg(feature = "test")]
#[cfg_attr(docsrs, doc(cfg(feature = "test")))]
pub mod test;

pub use api::{
    add_breadcrumb, capture_event, capture_event_with_stack, capture_exception,
    capture_exception_with_stacktrace, capture_exception_with_values, capture_message, close,
    configure_global_scope, configure_scope, event_from_error, flush, last_event_id, remove_tag,
    set_context, set_extra, set_fingerprint, set_level, set_tag, set_user, with_isolation_scope,
    with_scope, AsError, IntoBreadcrumb,
};
pub use client::{
    current as current_client, maybe_bound as is_active, unbind,
    with_current as with_current_client, with_thread_client, Client, SDK_NAME, SDK_VERSION,
};
pub use error::Error;
pub use future::{Isolated, IsolationExt};
pub use integration::Integration;
pub use local_values::{__local_value, debug_bounded, MAX_VALUE_CHARS};
pub use options::{
    BeforeBreadcrumb, BeforeSend, BeforeSendLog, ClientOptions, ErrorSampler, TransportContext,
    TransportFactory,
};
pub use scope::Scope;
#[doc(hidden)]
pub use stacktrace::__clear_symbol_cache;
pub use stacktrace::RawStack;

/// The transport layer, re-exported for custom transports.
pub mod transport {
    pub use sentry_sdk_transport::debug::is_sdk_thread;
    pub use sentry_sdk_transport::sync::Mutex;
    pub use sentry_sdk_transport::time::rfc3339;
    pub use sentry_sdk_transport::{
        parse_rate_limits, parse_retry_after, CacheOptions, ClientReports, DataCategory,
        DiscardReason, Dsn, Envelope, HttpOptions, HttpTransport, Item, Outgoing, RateLimits,
        Transport,
    };
}

#[allow(dead_code)]
fn _assert_impls() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Client>();
    send_sync::<ClientOptions>();
    send_sync::<Scope>();
    send_sync::<Error>();
}
