//! The wire layer of `sentry-sdk`: DSNs, envelopes, data categories, client-report counters, the
//! [`Transport`] trait and the background [`HttpTransport`].
//!
//! This crate knows envelopes and categories, not events: the core hands it [`Outgoing`] work
//! (finished envelopes, or closures that build one on the worker thread).
//!
//! # Layout
//! - [`dsn`](Dsn): parsing and printing DSNs, the envelope URL and the auth header.
//! - `envelope`: [`Envelope`] and [`Item`], writer and parser.
//! - `category`: [`DataCategory`] and the item-type mapping.
//! - `client_report`: [`ClientReports`], lock-free drop counters.
//! - `transport`: the [`Transport`] trait and [`Outgoing`].
//! - `http`: [`HttpTransport`]: worker thread, private tokio runtime, reqwest; `worker` is the
//!   queue, the loop and bounded concurrency, `delivery` retries, `batch` log and metric batching,
//!   `cache_drain` sending the offline cache, `request` one POST (gzip, response matrix, at
//!   most 4 KiB of a body read), `health` whether the server is known to be unreachable.
//! - `rate_limit`: [`RateLimits`], where a 429 and `X-Sentry-Rate-Limits` are handled.
//! - `cache`: the offline cache ([`CacheOptions`]): envelopes kept on disk until delivered.
//! - [`debug`]: the SDK's own diagnostic output.
//! - [`time`]: RFC 3339 timestamps.
//! - [`sync`]: a mutex that ignores poisoning.

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![deny(missing_debug_implementations)]
#![warn(unreachable_pub)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod cache;
mod category;
mod client_report;
pub mod debug;
mod dsn;
mod envelope;
mod error;
mod http;
#[cfg(test)]
mod proptests;
mod rate_limit;
pub mod sync;
pub mod time;
mod transport;

pub use cache::CacheOptions;
pub use category::DataCategory;
pub use client_report::{ClientReports, DiscardReason};
pub use dsn::Dsn;
pub use envelope::{
    log_envelope, trace_metric_envelope, Envelope, Item, LOG_CONTENT_TYPE,
    TRACE_METRIC_CONTENT_TYPE,
};
pub use error::{Error, ErrorKind};
pub use http::{HttpOptions, HttpTransport, Periodic};
pub use rate_limit::{parse_rate_limits, parse_retry_after, RateLimits};
pub use transport::{BuildItem, Outgoing, Transport};

#[allow(dead_code)]
fn _assert_impls() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<HttpTransport>();
    send_sync::<Envelope>();
    send_sync::<Error>();
    send_sync::<ClientReports>();
    fn send<T: Send>() {}
    send::<Outgoing>();
}
