//! Integrations of `sentry-sdk`: the panic hook, the `os`/`runtime`/`device`/`app` contexts,
//! dedupe, and error types from `anyhow` and `eyre` (log and tracing follow).
//!
//! # Feature flags
//! - `panic` (default): [`PanicIntegration`].
//! - `anyhow`: `anyhow::capture_anyhow`.
//! - `eyre`: `eyre::capture_eyre`.
//! - `log`: `log::SentryLogger`, a `log::Log` that wraps yours.
//! - `tracing`: `tracing::SentryLayer`, a `tracing_subscriber::Layer`.
//! - `actix`: `actix::Sentry`, an actix-web middleware (per-request scope, trace, transaction).
//! - `reqwest`: `reqwest::SentryTracing`, a `reqwest-middleware` middleware (`http.client`
//!   spans, trace headers).
//! - `opentelemetry`: `opentelemetry::SentrySpanProcessor` (OpenTelemetry spans as Sentry
//!   transactions) and `opentelemetry::SentryPropagator` (`sentry-trace` / `baggage`).
//!
//! Always built: [`http_request`] (request data for web frameworks, scrubbed) and
//! [`http_client`] (spans and trace headers for any HTTP client).
//! - `tower`: `tower::SentryLayer`, a `tower` layer for HTTP servers (needs `tower-layer`,
//!   `tower-service` and `http`).
//! - `axum`: `tower`, naming transactions by axum's matched route (needs `axum`).
//!
//! [`ContextsIntegration`] and [`DedupeIntegration`] are always built; `init` adds the first, and
//! the second when `dedupe_window` is set, unless `default_integrations(false)`.

// `minidump` needs one `unsafe` call (installing a signal handler), allowed in its `handler`
// module only; every other build forbids `unsafe` outright.
#![cfg_attr(not(feature = "minidump"), forbid(unsafe_code))]
#![cfg_attr(feature = "minidump", deny(unsafe_code))]
#![deny(missing_docs)]
#![deny(missing_debug_implementations)]
#![warn(unreachable_pub)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod contexts;
mod dedupe;
#[cfg(any(feature = "log", feature = "tracing"))]
mod record;
#[cfg(any(feature = "anyhow", feature = "eyre"))]
mod std_backtrace;

#[cfg(feature = "anyhow")]
#[cfg_attr(docsrs, doc(cfg(feature = "anyhow")))]
pub mod anyhow;
#[cfg(feature = "eyre")]
#[cfg_attr(docsrs, doc(cfg(feature = "eyre")))]
pub mod eyre;
#[cfg(feature = "log")]
#[cfg_attr(docsrs, doc(cfg(feature = "log")))]
pub mod log;
#[cfg(feature = "panic")]
#[cfg_attr(docsrs, doc(cfg(feature = "panic")))]
pub mod panic;
#[cfg(feature = "tower")]
#[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
pub mod tower;
#[cfg(feature = "tracing")]
#[cfg_attr(docsrs, doc(cfg(feature = "tracing")))]
pub mod tracing;

#[cfg(feature = "actix")]
#[cfg_attr(docsrs, doc(cfg(feature = "actix")))]
pub mod actix;
pub mod http_client;
pub mod http_request;
#[cfg(feature = "minidump")]
#[cfg_attr(docsrs, doc(cfg(feature = "minidump")))]
pub mod minidump;
#[cfg(feature = "opentelemetry")]
#[cfg_attr(docsrs, doc(cfg(feature = "opentelemetry")))]
pub mod opentelemetry;
#[cfg(feature = "reqwest")]
#[cfg_attr(docsrs, doc(cfg(feature = "reqwest")))]
pub mod reqwest;

pub use contexts::ContextsIntegration;
pub use dedupe::DedupeIntegration;
#[cfg(feature = "minidump")]
pub use minidump::MinidumpIntegration;
#[cfg(feature = "panic")]
pub use panic::PanicIntegration;
