//! OpenTelemetry: a program instrumented with the `opentelemetry` API (directly, or through
//! `tracing-opentelemetry`) sends its spans to Sentry, with OpenTelemetry's trace and span ids.
//!
//! - [`SentrySpanProcessor`]: register it on an `opentelemetry_sdk` `SdkTracerProvider`. Root
//!   spans become transactions, their descendants child spans; errors captured while a span is
//!   current in OpenTelemetry's `Context` link to it.
//! - [`SentryPropagator`]: `sentry-trace` and `baggage` for OpenTelemetry's propagation API
//!   (incoming traces are continued with their DSC; outgoing requests carry the span's).
//!
//! Built against `opentelemetry` / `opentelemetry_sdk` 0.33 (and `tracing-opentelemetry`
//! 0.34, which is built on them).
//!
//! ```
//! use opentelemetry::trace::{Tracer, TracerProvider};
//! use opentelemetry_sdk::trace::SdkTracerProvider;
//! use sentry_sdk_integrations::opentelemetry::{SentryPropagator, SentrySpanProcessor};
//!
//! opentelemetry::global::set_text_map_propagator(SentryPropagator::new());
//! let provider = SdkTracerProvider::builder()
//!     .with_span_processor(SentrySpanProcessor::new())
//!     .build();
//! let tracer = provider.tracer("worker");
//! tracer.in_span("nightly import", |_cx| {
//!     // Errors captured here carry the span's trace.
//! });
//! ```
//!
//! # Layout
//! - `processor`: the span processor (start and end of each span);
//! - `spans`: the bounded map of open spans, OpenTelemetry span id to ours;
//! - `propagator`: the text map propagator;
//! - `convert`: ids, attributes, kinds and statuses in Sentry's terms.

mod convert;
mod processor;
mod propagator;
mod spans;

pub use processor::SentrySpanProcessor;
pub use propagator::SentryPropagator;
