//! Isolation for async tasks: a future that keeps its own isolation scope across polls.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::performance;
use crate::scope::{stack, Scope};

/// Gives a future its own isolation scope: tags, user and breadcrumbs set while it runs stay
/// with it (one request, one job), whatever thread polls it.
///
/// ```
/// use sentry_sdk_core::IsolationExt;
/// async fn handle() { sentry_sdk_core::set_tag("route", "/checkout"); }
/// let task = handle().isolated(); // spawn it on your runtime
/// # drop(task);
/// ```
pub trait IsolationExt: Future + Sized {
    /// Runs the future in a fork of the isolation scope in force now.
    fn isolated(self) -> Isolated<Self> {
        Isolated {
            scope: stack::forked_isolation(),
            inner: Box::pin(self),
        }
    }
}

impl<F: Future> IsolationExt for F {}

/// A future with its own isolation scope; see [`IsolationExt`].
pub struct Isolated<F> {
    scope: Scope,
    // Boxed so that `Isolated` is `Unpin` without unsafe pin projection.
    inner: Pin<Box<F>>,
}

impl<F: Future> Future for Isolated<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        let inner = &mut this.inner;
        stack::poll_in_isolation(&mut this.scope, || {
            let polled = inner.as_mut().poll(cx);
            // A transaction this task runs inside (`.isolated().instrument(span)`) is
            // finished after the poll has left this scope: it keeps the scope from here.
            if let Some(span) = performance::current_span() {
                span.remember_scope();
            }
            polled
        })
    }
}

impl<F> fmt::Debug for Isolated<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Isolated")
            .field("scope", &self.scope)
            .finish()
    }
}
