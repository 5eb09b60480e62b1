//! Integrations of `sentry-sdk`: the panic hook, the `os`/`runtime`/`device`/`app` contexts,
//! dedupe, and error types from `anyhow` and `eyre` (log and tracing follow).
//!
//! # Feature flags
//! - `panic` (default): [`PanicIntegration`].
//! - `anyhow`: `anyhow::capture_anyhow`.
//! - `eyre`: `eyre::capture_eyre`.
//!
//! [`ContextsIntegration`] and [`DedupeIntegration`] are always built; `init` adds them unless
//! `default_integrations(false)`.

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![deny(missing_debug_implementations)]
#![warn(unreachable_pub)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod contexts;
mod dedupe;
mod sync;

#[cfg(feature = "anyhow")]
#[cfg_attr(docsrs, doc(cfg(feature = "anyhow")))]
pub mod anyhow;
#[cfg(feature = "eyre")]
#[cfg_attr(docsrs, doc(cfg(feature = "eyre")))]
pub mod eyre;
#[cfg(feature = "panic")]
#[cfg_attr(docsrs, doc(cfg(feature = "panic")))]
pub mod panic;

pub use contexts::ContextsIntegration;
pub use dedupe::DedupeIntegration;
#[cfg(feature = "panic")]
pub use panic::PanicIntegration;
