//! Distributed tracing across services (PROTOCOL.md §5): the headers, the propagation context
//! each isolation scope carries, and the dynamic sampling context (DSC).
//!
//! - Incoming: a request integration calls [`continue_trace`](crate::performance::continue_trace) with the request's headers in
//!   the request's own isolation scope: events, logs and transactions there belong to the
//!   caller's trace.
//! - Outgoing: [`outgoing_headers`](crate::performance::outgoing_headers) gives the headers to add to a request (from the span in
//!   force, else the isolation scope's trace), when its URL matches
//!   `trace_propagation_targets`.

mod context;
mod headers;

pub(crate) use context::make_dsc;
pub use context::{format_sample_rand, Dsc, PropagationContext};
pub use headers::{
    baggage_value, sentry_baggage, SentryTrace, TraceParent, MAX_BAGGAGE_BYTES, MAX_BAGGAGE_ENTRIES,
};
