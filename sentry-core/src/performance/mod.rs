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
//! - `active`: the span in force on a thread (what events and child spans attach to).
//!
//! The ids and the span record are protocol types (`protocol::{TraceId, SpanId}`); the
//! `transaction` payload is built in `payload::transaction`.
//!
//! Tracing is off unless `traces_sample_rate` is set. The sampling decision is taken once, at
//! the root: an explicit decision wins, then the parent's, then `traces_sample_rate`
//! (the place a `traces_sampler` will go). Unsampled transactions record nothing and cost a
//! handful of atomic operations; their spans are no-ops.

mod active;
mod span;

pub use crate::protocol::{SpanId, SpanStatus, TraceId};
pub use active::{current_span, pop_active, push_active, SpanGuard};
pub use span::{sample_new_trace, start_transaction, Span, Transaction, TransactionContext};

/// The most spans one transaction records; later ones are dropped (and counted).
pub const MAX_SPANS: usize = 1000;
