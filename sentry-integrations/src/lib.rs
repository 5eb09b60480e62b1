//! Integrations of `sentry-sdk`: the panic hook (log, tracing and more follow).
//!
//! # Feature flags
//! - `panic` (default): [`PanicIntegration`].

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![deny(missing_debug_implementations)]
#![warn(unreachable_pub)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "panic")]
#[cfg_attr(docsrs, doc(cfg(feature = "panic")))]
pub mod panic;

#[cfg(feature = "panic")]
pub use panic::PanicIntegration;
