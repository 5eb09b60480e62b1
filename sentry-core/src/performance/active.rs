//! The span in force on a thread: a small thread-local stack that `Span::enter` pushes and the
//! guard pops. Events captured while a sampled span is entered carry its trace context.
//!
//! Entering a span that does not record pushes nothing and allocates nothing.

use std::cell::RefCell;

use serde_json::{json, Value};

use super::span::{Span, SpanKind};

thread_local! {
    static ACTIVE: RefCell<Vec<Span>> = const { RefCell::new(Vec::new()) };
}

/// Leaves the span when dropped (restoring the one entered before it).
#[must_use = "the span is left when the guard is dropped"]
#[derive(Debug)]
pub struct SpanGuard {
    pushed: bool,
}

pub(super) fn enter(span: &Span) -> SpanGuard {
    if matches!(span.inner, SpanKind::Noop) {
        return SpanGuard { pushed: false };
    }
    let pushed = ACTIVE
        .try_with(|a| a.try_borrow_mut().map(|mut a| a.push(span.clone())).is_ok())
        .unwrap_or(false);
    SpanGuard { pushed }
}

impl Drop for SpanGuard {
    fn drop(&mut self) {
        if self.pushed {
            let popped = ACTIVE
                .try_with(|a| a.try_borrow_mut().ok().and_then(|mut a| a.pop()))
                .ok()
                .flatten();
            drop(popped); // outside the borrow
        }
    }
}

/// The innermost span entered on this thread, if any.
pub fn current_span() -> Option<Span> {
    ACTIVE
        .try_with(|a| a.try_borrow().ok().and_then(|a| a.last().cloned()))
        .ok()
        .flatten()
}

/// The `trace` context for an event captured now, if a sampled span is entered.
pub(crate) fn trace_context() -> Option<Value> {
    let (trace_id, span_id) = current_span()?.ids()?;
    Some(json!({ "type": "trace", "trace_id": trace_id, "span_id": span_id }))
}
