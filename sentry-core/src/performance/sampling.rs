//! Which trace a new transaction belongs to, and whether it is recorded (PROTOCOL.md §5).
//!
//! Precedence: a decision given when the transaction starts, then `traces_sampler`, then the
//! calling service's decision, then `traces_sample_rate`. A rate is compared with the trace's
//! `sample_rand` (received with the trace, or drawn when it starts here), so that every service
//! of one trace that uses the same rate decides the same way.

use std::sync::Arc;

use once_cell::sync::OnceCell;
use sentry_sdk_transport::{DataCategory, DiscardReason};

use crate::binding::current_client;
use crate::callback;
use crate::client::Client;
use crate::options::SamplingContext;
use crate::propagation::{Dsc, PropagationContext};
use crate::protocol::{Map, SpanId, TraceId, Value};
use crate::scope::stack;

/// Where a new root transaction's trace comes from.
#[derive(Debug, Clone)]
pub(crate) struct TraceOrigin {
    pub(crate) trace_id: TraceId,
    pub(crate) parent_span_id: Option<SpanId>,
    pub(crate) parent_sampled: Option<bool>,
    pub(crate) parent_sample_rate: Option<f64>,
    pub(crate) sample_rand: f64,
    /// Shared with the isolation scope's propagation context: one DSC per trace. `None` for
    /// a trace that starts here, until it is recorded or adopted (an unsampled span in the
    /// process-wide scope allocates nothing).
    pub(crate) dsc: Option<Arc<OnceCell<Dsc>>>,
    /// Whether it is the isolation scope's trace (continued from a caller).
    pub(crate) from_scope: bool,
}

/// The decision for a trace about to start, taken before anything is built for it (see
/// [`decide_new_trace`]); hand it to
/// [`TransactionContext::decided`](super::TransactionContext::decided).
#[derive(Debug, Clone)]
pub struct TraceDecision {
    pub(crate) sampled: bool,
    pub(crate) rate: f64,
    pub(crate) origin: TraceOrigin,
}

impl TraceDecision {
    /// Whether the transaction will be recorded.
    pub fn is_sampled(&self) -> bool {
        self.sampled
    }
}

/// Whether transactions can be recorded now: a client is bound with `traces_sample_rate` or
/// a `traces_sampler`.
pub fn tracing_enabled() -> bool {
    current_client().is_some_and(|c| tracing_on(&c))
}

pub(crate) fn tracing_on(client: &Client) -> bool {
    let s = client.options().settings();
    s.traces_sample_rate.is_some() || s.traces_sampler.is_some()
}

/// The trace of a new root transaction: `explicit` (a trace id and parent given in code), else
/// the isolation scope's when it was continued from a caller, else a new one.
pub(crate) fn origin(explicit: Option<(TraceId, Option<SpanId>)>) -> TraceOrigin {
    if let Some((trace_id, parent_span_id)) = explicit {
        return TraceOrigin {
            trace_id,
            parent_span_id,
            parent_sampled: None,
            parent_sample_rate: None,
            sample_rand: crate::random::next_f64(),
            dsc: None,
            from_scope: false,
        };
    }
    let pc = stack::propagation_context();
    if pc.parent_span_id.is_some() {
        return TraceOrigin {
            trace_id: pc.trace_id,
            parent_span_id: pc.parent_span_id,
            parent_sampled: pc.sampled,
            parent_sample_rate: pc.sample_rate,
            sample_rand: pc.sample_rand,
            dsc: Some(pc.dsc.clone()),
            from_scope: true,
        };
    }
    TraceOrigin {
        trace_id: TraceId::random(),
        parent_span_id: None,
        parent_sampled: None,
        parent_sample_rate: None,
        sample_rand: crate::random::next_f64(),
        dsc: None,
        from_scope: false,
    }
}

/// The trace of a new root transaction continuing `incoming` (given in code, not taken from
/// the scope): the caller's decision, rate, `sample_rand` and DSC.
pub(crate) fn origin_from(incoming: PropagationContext) -> TraceOrigin {
    TraceOrigin {
        trace_id: incoming.trace_id,
        parent_span_id: incoming.parent_span_id,
        parent_sampled: incoming.sampled,
        parent_sample_rate: incoming.sample_rate,
        sample_rand: incoming.sample_rand,
        dsc: Some(incoming.dsc),
        from_scope: false,
    }
}

/// Decides for a transaction `name` doing `op` in `origin`'s trace; a negative decision is
/// counted as `sample_rate`. `explicit` is a decision given in code.
pub(crate) fn decide(
    client: &Client,
    origin: TraceOrigin,
    name: &str,
    op: &str,
    custom: &Map<Value>,
    explicit: Option<bool>,
) -> TraceDecision {
    let s = client.options().settings();
    let (sampled, rate) = if let Some(sampled) = explicit {
        (sampled, if sampled { 1.0 } else { 0.0 })
    } else if let Some(sampler) = &s.traces_sampler {
        let ctx = SamplingContext {
            name,
            op,
            parent_sampled: origin.parent_sampled,
            parent_sample_rate: origin.parent_sample_rate,
            custom,
        };
        let rate = callback::run("traces_sampler", || f64::from(sampler(&ctx)))
            .filter(|r| r.is_finite())
            .unwrap_or(0.0)
            .clamp(0.0, 1.0);
        (origin.sample_rand < rate, rate)
    } else if let Some(parent) = origin.parent_sampled {
        let rate = origin
            .parent_sample_rate
            .unwrap_or(if parent { 1.0 } else { 0.0 });
        (parent, rate)
    } else {
        let rate = f64::from(s.traces_sample_rate.unwrap_or(0.0));
        (origin.sample_rand < rate, rate)
    };
    if !sampled {
        let reports = client.client_reports();
        reports.record(DiscardReason::SampleRate, DataCategory::Transaction, 1);
        reports.record(DiscardReason::SampleRate, DataCategory::Span, 1);
    }
    let mut decision = TraceDecision {
        sampled,
        rate,
        origin,
    };
    if stack::isolation_depth() > 0 {
        adopt(&mut decision);
    }
    decision
}

/// In a forked isolation scope (a request's, a task's), the scope takes the decision as its
/// trace's: requests made there outside any recorded span (an unsampled request's handler)
/// carry this trace and this decision, so that the services it calls do not decide again
/// (and record half a trace). Not in the process-wide scope, which would keep a finished
/// transaction's trace and decision for whatever runs after it.
fn adopt(decision: &mut TraceDecision) {
    let (sampled, rate) = (decision.sampled, decision.rate);
    let o = &mut decision.origin;
    if o.from_scope {
        let mut pc = stack::propagation_context();
        if pc.sampled.is_none() {
            pc.sampled = Some(sampled);
            pc.sample_rate = Some(rate);
            stack::set_propagation_context(pc);
        }
        return;
    }
    let dsc = o.dsc.get_or_insert_with(Arc::default).clone();
    stack::set_propagation_context(PropagationContext {
        trace_id: o.trace_id,
        span_id: SpanId::random(),
        parent_span_id: None,
        sampled: Some(sampled),
        sample_rate: Some(rate),
        sample_rand: o.sample_rand,
        dsc,
        context_json: Arc::default(),
    });
}

/// Takes the sampling decision for a trace about to start here, before anything is built for
/// it: integrations call this first so that an unsampled trace costs no allocation. It sees
/// no name, so with a `traces_sampler` set it is `None` (start the transaction and let the
/// sampler decide); `None` also with no client or tracing off.
pub fn decide_new_trace() -> Option<TraceDecision> {
    let client = current_client()?;
    if !tracing_on(&client) || client.options().settings().traces_sampler.is_some() {
        return None;
    }
    Some(decide(&client, origin(None), "", "", &Map::new(), None))
}

/// The DSC cell of a recorded transaction's trace: the isolation scope's when the trace was
/// continued or adopted there (one DSC per trace, whoever freezes it first), else a new one.
pub(crate) fn dsc_cell(decision: &mut TraceDecision) -> Arc<OnceCell<Dsc>> {
    decision.origin.dsc.get_or_insert_with(Arc::default).clone()
}
