//! `SentrySpanProcessor`: OpenTelemetry spans as Sentry transactions and spans.

use opentelemetry::trace::{Span as _, TraceContextExt};
use opentelemetry::Context;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span as SdkSpan, SpanData, SpanProcessor};
use sentry_sdk_core::performance::{self, start_transaction, Span, TransactionContext};
use sentry_sdk_core::propagation::PropagationContext;

use super::convert;
use super::propagator::Incoming;
use super::spans::{self, Tracked};

/// An OpenTelemetry [`SpanProcessor`] that sends the spans of an `SdkTracerProvider` to Sentry,
/// with OpenTelemetry's own trace and span ids:
///
/// - a span with no local parent starts a Sentry transaction (continuing the remote parent's
///   trace, and the DSC that [`SentryPropagator`](super::SentryPropagator) extracted with it);
///   Sentry's sampling (`traces_sample_rate`, `traces_sampler`) decides whether it is recorded;
/// - a span with a local parent is a child span of its parent's transaction (a span of a trace
///   Sentry sampled out is only marked as such, so that its requests carry the decision);
/// - when a span ends: its name (the transaction's name, a child's description), `op` (a
///   `sentry.op` attribute, else from its kind and attributes: `http.server`, `http.client`,
///   `db`, ...), status (`Status::Error` is `internal_error`, else `ok` or the HTTP status),
///   attributes as span data, and its start and end times. The transaction is sent when its
///   root span ends.
///
/// While an OpenTelemetry span is current in OpenTelemetry's [`Context`], errors and logs
/// captured on that thread carry its trace and span id, and `sentry-sdk`'s own spans and
/// outgoing-request headers start from it (a span entered with Sentry's own API wins).
///
/// The processor never blocks: it takes a lock only for one map operation. At most 16,384
/// spans are tracked at once; beyond that, the oldest are finished early.
///
/// Leave OpenTelemetry's sampler at its default (`ParentBased(AlwaysOn)`): spans it drops
/// never reach the processor, and Sentry samples the rest.
///
/// ```
/// use opentelemetry::trace::{Tracer, TracerProvider};
/// use opentelemetry_sdk::trace::SdkTracerProvider;
/// use sentry_sdk_integrations::opentelemetry::SentrySpanProcessor;
///
/// let provider = SdkTracerProvider::builder()
///     .with_span_processor(SentrySpanProcessor::new())
///     .build();
/// let tracer = provider.tracer("checkout");
/// tracer.in_span("GET /checkout", |_cx| {
///     tracer.in_span("load cart", |_cx| {});
/// });
/// ```
#[derive(Debug)]
pub struct SentrySpanProcessor {
    _private: (),
}

impl Default for SentrySpanProcessor {
    fn default() -> Self {
        SentrySpanProcessor::new()
    }
}

impl SentrySpanProcessor {
    /// A processor; register it with `SdkTracerProvider::builder().with_span_processor(..)`.
    /// The first one also makes OpenTelemetry's current span the current span for Sentry's
    /// captures (see [`performance::set_current_span_fallback`]).
    pub fn new() -> Self {
        performance::set_current_span_fallback(current_span);
        SentrySpanProcessor { _private: () }
    }
}

/// The recorded span OpenTelemetry's current context names on this thread.
fn current_span() -> Option<Span> {
    let id = Context::map_current(|cx| {
        if !cx.has_active_span() {
            return None;
        }
        let span = cx.span();
        let sc = span.span_context();
        sc.is_valid().then(|| convert::span_id(sc.span_id()))
    })?;
    spans::get(id).map(|tracked| tracked.span())
}

impl SpanProcessor for SentrySpanProcessor {
    fn on_start(&self, span: &mut SdkSpan, cx: &Context) {
        let (trace_id, span_id) = {
            let sc = span.span_context();
            (sc.trace_id(), convert::span_id(sc.span_id()))
        };
        let parent = cx
            .has_active_span()
            .then(|| cx.span().span_context().clone());
        match parent {
            Some(parent) if parent.is_valid() && !parent.is_remote() => {
                // A child: its name and attributes are read when it ends, not copied now.
                let tracked = match spans::get(convert::span_id(parent.span_id())) {
                    Some(Tracked::Unsampled) => Tracked::Unsampled,
                    Some(parent) => {
                        let child = parent.span().start_child_with_id("", "", span_id);
                        child.set_origin("auto.otel");
                        Tracked::Span(child)
                    }
                    None => return, // not ours (started before the processor, or evicted)
                };
                spans::insert(span_id, tracked);
            }
            remote => {
                if !performance::tracing_enabled() {
                    return; // no client, or tracing off: nothing to record or mark
                }
                let Some(data) = span.exported_data() else {
                    return;
                };
                let op = convert::op(&data.span_kind, &data.attributes);
                let context = TransactionContext::new(data.name.into_owned(), op)
                    .source(convert::source(&data.attributes))
                    .span_id(span_id)
                    .start_timestamp(data.start_time);
                let context = match remote.filter(|r| r.is_valid()) {
                    Some(remote) => context.continue_from(incoming(cx, &remote)),
                    None => context.trace_id(convert::trace_id(trace_id)),
                };
                let transaction = start_transaction(context);
                let tracked = match transaction.is_sampled() {
                    true => {
                        transaction.as_span().set_origin("auto.otel");
                        Tracked::Transaction(transaction)
                    }
                    false => Tracked::Unsampled,
                };
                spans::insert(span_id, tracked);
            }
        }
    }

    fn on_end(&self, data: SpanData) {
        let Some(tracked) = spans::remove(convert::span_id(data.span_context.span_id())) else {
            return;
        };
        if let Tracked::Unsampled = tracked {
            return;
        }
        let span = tracked.span();
        let op = convert::op(&data.span_kind, &data.attributes);
        let status = convert::status(&data.status, &data.attributes);
        match &tracked {
            Tracked::Transaction(t) => {
                t.set_name_and_source(data.name.into_owned(), convert::source(&data.attributes))
            }
            Tracked::Span(s) => s.set_description(data.name.into_owned()),
            Tracked::Unsampled => {}
        }
        span.set_op(op);
        span.set_status(status);
        for kv in &data.attributes {
            if kv.key.as_str() != "sentry.op" {
                span.set_data(kv.key.as_str(), convert::value(&kv.value));
            }
        }
        span.set_start_timestamp(data.start_time);
        span.finish_at(data.end_time);
    }

    fn force_flush(&self) -> OTelSdkResult {
        // Spans are handed to the Sentry client as they end; its own `flush` sends them.
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: std::time::Duration) -> OTelSdkResult {
        // The Sentry client belongs to `init`'s guard, not to the tracer provider.
        Ok(())
    }
}

/// The incoming trace a root span with a remote parent continues: the one
/// [`SentryPropagator`](super::SentryPropagator) extracted (with its DSC), else what the
/// parent's span context says (extracted by another propagator, W3C `traceparent`).
fn incoming(cx: &Context, remote: &opentelemetry::trace::SpanContext) -> PropagationContext {
    let trace_id = convert::trace_id(remote.trace_id());
    let parent = convert::span_id(remote.span_id());
    if let Some(Incoming(pc)) = cx.get::<Incoming>() {
        if pc.trace_id == trace_id && pc.parent_span_id == Some(parent) {
            return pc.clone();
        }
    }
    let mut pc = PropagationContext::new();
    pc.trace_id = trace_id;
    pc.parent_span_id = Some(parent);
    pc.sampled = Some(remote.is_sampled());
    pc
}
