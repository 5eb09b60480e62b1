//! Performance monitoring: transactions and spans (PROTOCOL.md §5), re-exported by the
//! facade as `sentry_sdk::performance`.
//!
//! ```
//! use sentry_sdk_core::performance::{start_transaction, TransactionContext};
//! let transaction = start_transaction(TransactionContext::new("nightly import", "task"));
//! {
//!     // `enter` returns a `SpanGuard`: the span is current on this thread until it drops.
//!     let _entered = transaction.enter();
//!     let read = transaction.start_child("file.read", "orders.csv");
//!     read.finish();
//! }
//! transaction.finish();
//! ```
//!
//! # Layout
//! - `span`: [`Transaction`] and [`Span`], their recording, finishing and queueing;
//! - `active`: the span in force on a thread (what events and child spans attach to);
//! - `sampling`: which trace a new transaction belongs to and whether it is recorded;
//! - `propagate`: continuing an incoming trace, and the headers of outgoing requests.
//!
//! The ids and the span record are protocol types (`protocol::{TraceId, SpanId}`); the
//! `transaction` payload is built in `payload::transaction`.
//!
//! Tracing is off unless `traces_sample_rate` or a `traces_sampler` is set. The sampling
//! decision is taken once, at the root (`sampling`): an explicit decision wins, then the
//! sampler, then the calling service's decision, then `traces_sample_rate`, each compared with
//! the trace's `sample_rand`. Unsampled transactions record nothing and cost a handful of
//! atomic operations; their spans are no-ops. Distributed tracing (incoming and outgoing
//! headers) is `propagate`.

mod active;
mod propagate;
mod sampling;
mod span;

pub use crate::protocol::{SpanId, SpanStatus, TraceId};
pub use active::{current_span, pop_active, push_active, set_current_span_fallback, SpanGuard};
pub use propagate::{
    continue_trace, incoming_trace, outgoing_headers, span_headers, OutgoingHeaders,
};
pub use sampling::{decide_new_trace, tracing_enabled, TraceDecision};
pub use span::{
    start_transaction, start_transaction_named, with_child_span, Span, Transaction,
    TransactionContext, TransactionSource,
};

/// The most spans one transaction records; later ones are dropped (and counted).
pub const MAX_SPANS: usize = 1000;
