//! The span in force on a thread: a small thread-local stack that `Span::enter` pushes and its
//! guard pops. Events and logs captured while a sampled span is entered carry its trace; a span
//! of an unsampled trace is pushed too (as a marker that costs no allocation once the stack has
//! room), so that spans started inside it stay unsampled instead of starting a trace of their
//! own.
//!
//! The guard is `!Send`: it must be dropped on the thread that entered, and dropping it cuts
//! the stack back to where it was, even if inner guards were leaked or dropped out of order.
//! Integrations that enter and leave by hand (the `tracing` layer) use [`push_active`] and
//! [`pop_active`].
//!
//! A tracing bridge whose own context says which span is current (OpenTelemetry's `Context`)
//! registers a fallback with [`set_current_span_fallback`]: [`current_span`] asks it when no
//! span was entered here, so that errors, logs and outgoing requests inside such a span belong
//! to it. A span entered here wins over the fallback's.

use std::cell::RefCell;
use std::marker::PhantomData;

use once_cell::sync::OnceCell;

use super::span::Span;

thread_local! {
    static ACTIVE: RefCell<Vec<Span>> = const { RefCell::new(Vec::new()) };
}

/// Where [`current_span`] looks when no span was entered on this thread; set once.
static FALLBACK: OnceCell<fn() -> Option<Span>> = OnceCell::new();

/// Registers `find`, asked by [`current_span`] for the current span when none was entered on
/// this thread: a tracing bridge whose own context says which span is current (the
/// OpenTelemetry integration's). It runs on every capture outside an entered span, so it must
/// be cheap and must not itself ask for the current span. Process-wide and set once: returns
/// `false` (and changes nothing) if one was already registered.
pub fn set_current_span_fallback(find: fn() -> Option<Span>) -> bool {
    FALLBACK.set(find).is_ok()
}

/// Leaves the span when dropped (restoring the one entered before it). Not `Send`.
#[must_use = "the span is left when the guard is dropped"]
#[derive(Debug)]
pub struct SpanGuard {
    /// The stack's depth before the span was pushed; `None` if nothing was pushed.
    depth: Option<usize>,
    _not_send: PhantomData<*const ()>,
}

pub(super) fn enter(span: &Span) -> SpanGuard {
    let depth = ACTIVE
        .try_with(|a| {
            a.try_borrow_mut().ok().map(|mut a| {
                a.push(span.clone());
                a.len() - 1
            })
        })
        .ok()
        .flatten();
    SpanGuard {
        depth,
        _not_send: PhantomData,
    }
}

impl Drop for SpanGuard {
    fn drop(&mut self) {
        if let Some(depth) = self.depth {
            // Dropped outside the borrow: the usual exit, innermost first, pops one span
            // without allocating; an exit out of order cuts everything entered after this guard.
            let removed: (Option<Span>, Vec<Span>) = ACTIVE
                .try_with(|a| {
                    a.try_borrow_mut().ok().map(|mut a| {
                        if a.len() == depth + 1 {
                            (a.pop(), Vec::new())
                        } else if a.len() > depth {
                            (None, a.split_off(depth))
                        } else {
                            (None, Vec::new())
                        }
                    })
                })
                .ok()
                .flatten()
                .unwrap_or_default();
            // Outside the borrow: it takes a snapshot of the scopes.
            let (popped, cut) = &removed;
            for span in popped.iter().chain(cut) {
                span.remember_scope();
            }
            drop(removed);
        }
    }
}

/// Pushes `span` as this thread's current span, for integrations that enter by hand; pair it
/// with [`pop_active`] on the same thread.
pub fn push_active(span: &Span) {
    let _ = ACTIVE.try_with(|a| {
        if let Ok(mut a) = a.try_borrow_mut() {
            a.push(span.clone());
        }
    });
}

/// Removes the innermost entry for `span` from this thread's stack (what [`push_active`]
/// pushed).
pub fn pop_active(span: &Span) {
    let removed = ACTIVE
        .try_with(|a| {
            let mut a = a.try_borrow_mut().ok()?;
            let at = a.iter().rposition(|s| s.same_as(span))?;
            Some(a.remove(at))
        })
        .ok()
        .flatten();
    // Outside the borrow.
    if let Some(span) = &removed {
        span.remember_scope();
    }
    drop(removed);
}

/// The innermost span entered on this thread, if any (possibly a span that does not record:
/// see [`Span::is_sampled`]); else the one a registered fallback (OpenTelemetry's current
/// span) names.
pub fn current_span() -> Option<Span> {
    match ACTIVE.try_with(|a| a.try_borrow().ok().and_then(|a| a.last().cloned())) {
        Ok(Some(span)) => Some(span),
        Ok(None) => FALLBACK.get().and_then(|find| find()),
        // This thread's locals are being torn down: another crate's (the fallback's) may be
        // gone already, and reading one then panics.
        Err(_) => None,
    }
}

/// The innermost span entered on this thread, without asking the fallback: for the SDK's own
/// bookkeeping, which may run while a bridge's context is being changed or torn down (an
/// OpenTelemetry span ending as its context is dropped).
pub(super) fn entered_span() -> Option<Span> {
    ACTIVE
        .try_with(|a| a.try_borrow().ok().and_then(|a| a.last().cloned()))
        .ok()
        .flatten()
}
