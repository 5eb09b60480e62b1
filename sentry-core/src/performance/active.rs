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

use std::cell::RefCell;
use std::marker::PhantomData;

use super::span::Span;

thread_local! {
    static ACTIVE: RefCell<Vec<Span>> = const { RefCell::new(Vec::new()) };
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
/// see [`Span::is_sampled`]).
pub fn current_span() -> Option<Span> {
    ACTIVE
        .try_with(|a| a.try_borrow().ok().and_then(|a| a.last().cloned()))
        .ok()
        .flatten()
}
