//! Distributed tracing at the edges of the process: continuing the trace of an incoming
//! request, and the headers an outgoing request carries (PROTOCOL.md §5).

use crate::binding::current_client;
use crate::client::Client;
use crate::propagation::{
    baggage_value, make_dsc, Dsc, PropagationContext, SentryTrace, TraceParent,
};
use crate::scope::stack;

use super::active::current_span;
use super::span::Span;

/// Continues the trace of an incoming request in the current isolation scope (fork one per
/// request first: [`with_isolation_scope`](crate::with_isolation_scope) or
/// [`IsolationExt::isolated`](crate::IsolationExt::isolated)). `header` looks a request header
/// up by its lowercase name (`sentry-trace`, `baggage`, and `traceparent` when
/// `propagate_traceparent` is on).
///
/// Events, logs and transactions of the scope then belong to the caller's trace, and its
/// `sentry-` baggage is propagated as received. Returns `false` when there is no valid trace
/// header, or when the caller's `org_id` differs from this one's (or, with
/// `strict_trace_continuation`, one side has none): the scope then gets a new trace.
///
/// ```
/// use sentry_sdk_core::performance::continue_trace;
/// let headers = [("sentry-trace", "771a43a4192642f0b136d5159a501700-bb8f278130535c3c-1")];
/// sentry_sdk_core::with_isolation_scope(|| {
///     let find = |name: &str| headers.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
///     continue_trace(find); // `false` here: no client is bound
/// });
/// ```
pub fn continue_trace<'a>(header: impl Fn(&str) -> Option<&'a str>) -> bool {
    if current_client().is_none() {
        return false;
    }
    let continued = incoming_trace(header);
    let is_continued = continued.is_some();
    stack::set_propagation_context(continued.unwrap_or_default());
    is_continued
}

/// The trace incoming headers describe, if this process may continue it: what
/// [`continue_trace`] puts in the isolation scope, for an integration that keeps it elsewhere
/// (OpenTelemetry's `Context`, through
/// [`TransactionContext::continue_from`](super::TransactionContext::continue_from)). `header`
/// looks a header up by its lowercase name. `None` when there is no valid trace header, or
/// the caller's org may not be continued (see [`continue_trace`]); with no client bound, the
/// headers are read without the org check and `traceparent` is ignored.
///
/// ```
/// let headers = [("sentry-trace", "771a43a4192642f0b136d5159a501700-bb8f278130535c3c-1")];
/// let find = |name: &str| headers.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
/// let incoming = sentry_sdk_core::performance::incoming_trace(find).unwrap();
/// assert_eq!(incoming.trace_id.to_string(), "771a43a4192642f0b136d5159a501700");
/// ```
pub fn incoming_trace<'a>(header: impl Fn(&str) -> Option<&'a str>) -> Option<PropagationContext> {
    let client = current_client();
    let traceparent = match &client {
        Some(c) if c.options().settings().propagate_traceparent => header("traceparent"),
        _ => None,
    };
    let incoming =
        PropagationContext::from_headers(header("sentry-trace"), traceparent, header("baggage"))?;
    match &client {
        Some(client) if !same_org(client, &incoming) => None,
        _ => Some(incoming),
    }
}

/// Whether a caller's trace may be continued here: differing org ids never; with
/// `strict_trace_continuation`, a missing one on either side neither.
fn same_org(client: &Client, incoming: &PropagationContext) -> bool {
    let s = client.options().settings();
    let ours = s.org_id.or_else(|| s.dsn.as_ref().and_then(|d| d.org_id()));
    let theirs = incoming
        .incoming_org_id()
        .and_then(|o| o.parse::<u64>().ok());
    match (ours, theirs) {
        (Some(a), Some(b)) => a == b,
        (None, None) => true,
        _ => !s.strict_trace_continuation,
    }
}

/// The trace headers of an outgoing request: see [`outgoing_headers`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingHeaders {
    /// `sentry-trace`.
    pub sentry_trace: String,
    /// `baggage`: the request's own entries (other vendors') kept, then the trace's DSC.
    pub baggage: String,
    /// `traceparent`, when `propagate_traceparent` is on.
    pub traceparent: Option<String>,
}

impl OutgoingHeaders {
    /// The headers as `(name, value)` pairs, to add to a request.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [
            Some(("sentry-trace", self.sentry_trace.as_str())),
            Some(("baggage", self.baggage.as_str())),
            self.traceparent.as_deref().map(|t| ("traceparent", t)),
        ]
        .into_iter()
        .flatten()
    }
}

/// The headers a request to `url` should carry to continue this trace downstream: from the
/// span in force on this thread (a recorded one is the parent of what the callee does), else
/// from the isolation scope's trace. `existing_baggage` is the request's own `baggage`, whose
/// non-Sentry entries are kept. `None` with no client bound, or when `url` matches none of
/// `trace_propagation_targets`.
///
/// The trace's dynamic sampling context is frozen the first time it leaves the process.
///
/// ```
/// // With no client bound there is nothing to propagate.
/// assert!(sentry_sdk_core::performance::outgoing_headers("http://127.0.0.1/api", None).is_none());
/// ```
pub fn outgoing_headers(url: &str, existing_baggage: Option<&str>) -> Option<OutgoingHeaders> {
    let client = current_client()?;
    let s = client.options().settings();
    if let Some(targets) = &s.trace_propagation_targets {
        if !targets.iter().any(|t| url.contains(t.as_ref())) {
            return None;
        }
    }
    let (header, dsc) = match current_span().filter(Span::is_sampled) {
        Some(span) => span.outgoing()?,
        None => {
            let pc = stack::propagation_context();
            let dsc = scope_dsc(&client, &pc).clone();
            let header = SentryTrace {
                trace_id: pc.trace_id,
                span_id: pc.span_id,
                sampled: pc.sampled,
            };
            (header, dsc)
        }
    };
    let traceparent = s.propagate_traceparent.then(|| {
        TraceParent {
            trace_id: header.trace_id,
            span_id: header.span_id,
            sampled: header.sampled == Some(true),
        }
        .to_string()
    });
    Some(OutgoingHeaders {
        sentry_trace: header.to_string(),
        baggage: baggage_value(existing_baggage, &dsc.entries),
        traceparent,
    })
}

/// The headers a request made inside `span` should carry (`sentry-trace` naming the span, and
/// its trace's DSC, frozen now), for an integration that knows the span but not the request's
/// URL (OpenTelemetry's propagator): `trace_propagation_targets` is not consulted.
/// `existing_baggage` is kept as in [`outgoing_headers`]. `None` for a span that does not
/// record, or with no client bound.
pub fn span_headers(span: &Span, existing_baggage: Option<&str>) -> Option<OutgoingHeaders> {
    let client = current_client()?;
    let (header, dsc) = span.outgoing()?;
    let traceparent = client.options().settings().propagate_traceparent.then(|| {
        TraceParent {
            trace_id: header.trace_id,
            span_id: header.span_id,
            sampled: true,
        }
        .to_string()
    });
    Some(OutgoingHeaders {
        sentry_trace: header.to_string(),
        baggage: baggage_value(existing_baggage, &dsc.entries),
        traceparent,
    })
}

/// The DSC of a trace known only to a propagation context (no transaction), frozen now.
pub(crate) fn scope_dsc<'a>(client: &Client, pc: &'a PropagationContext) -> &'a Dsc {
    pc.frozen_dsc(|pc| {
        let decision = pc.sampled.zip(pc.sample_rate);
        make_dsc(
            client.options(),
            pc.trace_id,
            pc.sample_rand,
            decision,
            None,
        )
    })
}
