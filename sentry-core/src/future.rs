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
    /// Runs the future in a fork of the isolation scope in force now (with a trace of its
    /// own), with the span in force now as its current span on every poll: both survive
    /// `tokio::spawn` and moves between threads.
    fn isolated(self) -> Isolated<Self> {
        Isolated {
            scope: stack::forked_isolation(),
            span: performance::current_span(),
            inner: Box::pin(self),
        }
    }

    /// Runs the future with `span` as its current span on every poll (events, logs, child
    /// spans and outgoing requests inside it belong to the span), and finishes the span when
    /// the future completes (or is dropped unfinished).
    ///
    /// ```
    /// use sentry_sdk_core::IsolationExt;
    /// use sentry_sdk_core::performance::{start_transaction, TransactionContext};
    /// async fn load() {}
    /// let transaction = start_transaction(TransactionContext::new("import", "task"));
    /// let work = load().in_span(transaction.start_child("db.query", "SELECT 1"));
    /// # drop(work);
    /// ```
    fn in_span(self, span: performance::Span) -> InSpan<Self> {
        InSpan {
            span,
            inner: Box::pin(self),
        }
    }
}

impl<F: Future> IsolationExt for F {}

/// A future with its own isolation scope; see [`IsolationExt`].
pub struct Isolated<F> {
    scope: Scope,
    /// The span in force where the future was made, current again on every poll.
    span: Option<performance::Span>,
    // Boxed so that `Isolated` is `Unpin` without unsafe pin projection.
    inner: Pin<Box<F>>,
}

impl<F: Future> Future for Isolated<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        let inner = &mut this.inner;
        let span = &this.span;
        stack::poll_in_isolation(&mut this.scope, || {
            let _entered = span.as_ref().map(performance::Span::enter);
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

/// A future that runs inside a span; see [`IsolationExt::in_span`].
pub struct InSpan<F> {
    span: performance::Span,
    inner: Pin<Box<F>>,
}

impl<F: Future> Future for InSpan<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        let polled = {
            let _entered = this.span.enter();
            this.inner.as_mut().poll(cx)
        };
        if polled.is_ready() {
            this.span.finish();
        }
        polled
    }
}

impl<F> fmt::Debug for InSpan<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InSpan").field("span", &self.span).finish()
    }
}
