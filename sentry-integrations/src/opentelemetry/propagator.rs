//! `SentryPropagator`: `sentry-trace` and `baggage` through OpenTelemetry's propagation API.

use once_cell::sync::Lazy;
use opentelemetry::propagation::text_map_propagator::FieldIter;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{SpanContext, TraceContextExt, TraceFlags, TraceState};
use opentelemetry::Context;
use sentry_sdk_core::performance;
use sentry_sdk_core::propagation::{baggage_value, PropagationContext, SentryTrace};

use super::convert;
use super::spans::{self, Tracked};

/// The headers it reads and writes.
static FIELDS: Lazy<[String; 2]> = Lazy::new(|| ["sentry-trace".to_owned(), "baggage".to_owned()]);

/// An OpenTelemetry [`TextMapPropagator`] for Sentry's `sentry-trace` and `baggage` headers.
///
/// - `extract` reads `sentry-trace` (and `baggage`'s `sentry-` entries) into a remote parent
///   span context, and keeps the caller's trace with it in the [`Context`]: a root span started
///   from that context becomes a transaction that continues the trace with the caller's
///   sampling decision, `sample_rand` and DSC (sent as received, as Sentry requires). A
///   deferred decision (no sampled flag) is marked sampled for OpenTelemetry, so that Sentry's
///   sampling decides; a caller that sampled out is not recorded. Headers of a caller from
///   another Sentry organisation are not continued (see
///   [`continue_trace`](sentry_sdk_core::performance::continue_trace)).
/// - `inject` writes the headers of the context's span: for a span Sentry records,
///   `sentry-trace` naming it and the trace's DSC as `baggage`; for a span of a trace Sentry
///   sampled out, `sentry-trace` with its ids and `-0`; for another valid span, its ids with
///   OpenTelemetry's sampling flag (no flag, a deferred decision, when Sentry's tracing is
///   off); in those two cases, with the caller's baggage if the trace was continued. `baggage` is set, not appended to: compose it after
///   OpenTelemetry's `BaggagePropagator`, or not with it.
///
/// ```
/// use opentelemetry::propagation::TextMapPropagator;
/// use std::collections::HashMap;
/// use sentry_sdk_integrations::opentelemetry::SentryPropagator;
///
/// let mut headers = HashMap::new();
/// headers.insert(
///     "sentry-trace".to_owned(),
///     "771a43a4192642f0b136d5159a501700-bb8f278130535c3c-1".to_owned(),
/// );
/// let cx = SentryPropagator::new().extract(&headers);
/// # use opentelemetry::trace::TraceContextExt;
/// assert!(cx.span().span_context().is_remote());
/// ```
#[derive(Debug, Default, Clone)]
pub struct SentryPropagator {
    _private: (),
}

impl SentryPropagator {
    /// A propagator; install it with `opentelemetry::global::set_text_map_propagator`, or
    /// use it directly.
    pub fn new() -> Self {
        SentryPropagator { _private: () }
    }
}

/// The caller's trace as `extract` read it, kept in the `Context` beside the remote span
/// context, for the processor to continue.
#[derive(Debug, Clone)]
pub(super) struct Incoming(pub(super) PropagationContext);

impl TextMapPropagator for SentryPropagator {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        if !cx.has_active_span() {
            return;
        }
        let span = cx.span();
        let sc = span.span_context();
        if !sc.is_valid() {
            return;
        }
        let tracked = spans::get(convert::span_id(sc.span_id()));
        let sampled = match &tracked {
            Some(Tracked::Unsampled) => Some(false),
            Some(recorded) => {
                if let Some(headers) = performance::span_headers(&recorded.span(), None) {
                    injector.set("sentry-trace", headers.sentry_trace);
                    injector.set("baggage", headers.baggage);
                    return;
                }
                Some(sc.is_sampled())
            }
            // Tracing off: the decision is left to the callee.
            None if !performance::tracing_enabled() => None,
            None => Some(sc.is_sampled()),
        };
        let header = SentryTrace {
            trace_id: convert::trace_id(sc.trace_id()),
            span_id: convert::span_id(sc.span_id()),
            sampled,
        };
        injector.set("sentry-trace", header.to_string());
        let incoming = cx
            .get::<Incoming>()
            .filter(|i| i.0.trace_id == header.trace_id);
        let dsc = incoming.and_then(|i| i.0.dsc());
        if let Some(dsc) = dsc {
            injector.set("baggage", baggage_value(None, &dsc.entries));
        }
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        let Some(incoming) = performance::incoming_trace(|name| extractor.get(name)) else {
            return cx.clone();
        };
        let Some(parent) = incoming.parent_span_id else {
            return cx.clone();
        };
        let flags = match incoming.sampled {
            Some(false) => TraceFlags::default(),
            _ => TraceFlags::SAMPLED,
        };
        let remote = SpanContext::new(
            convert::otel_trace_id(incoming.trace_id),
            convert::otel_span_id(parent),
            flags,
            true,
            TraceState::default(),
        );
        cx.with_remote_span_context(remote)
            .with_value(Incoming(incoming))
    }

    fn fields(&self) -> FieldIter<'_> {
        FieldIter::new(&*FIELDS)
    }
}
