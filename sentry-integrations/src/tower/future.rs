//! The response future: the request's isolation scope around the handler, and its
//! transaction current on every poll and finished with the response.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use sentry_sdk_core::performance::{SpanStatus, Transaction};
use sentry_sdk_core::session::RequestSessionGuard;
use sentry_sdk_core::{Isolated, IsolationExt};

use super::request::RequestStart;

/// The future of a [`SentryService`](super::SentryService) call: your service's future,
/// run in the request's own isolation scope (and inside its transaction when sampled).
/// `Send` when your future is.
pub struct ResponseFuture<F> {
    inner: Isolated<Handling<F>>,
}

impl<F, B, E> ResponseFuture<F>
where
    F: Future<Output = Result<http::Response<B>, E>>,
{
    pub(crate) fn new(inner: F, start: Option<Box<RequestStart>>) -> ResponseFuture<F> {
        let handling = Handling {
            // Boxed so that `Handling` is `Unpin`, without unsafe pin projection.
            inner: Box::pin(inner),
            start,
            transaction: None,
            session: None,
            panicked: false,
        };
        // Forked now, on the caller's thread: the fork is of the scope the server runs in.
        ResponseFuture {
            inner: handling.isolated(),
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<http::Response<B>, E>>,
{
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        Pin::new(&mut self.inner).poll(cx)
    }
}

impl<F> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("inner", &self.inner)
            .finish()
    }
}

/// Runs inside the request's isolation scope (polled by `Isolated`).
struct Handling<F> {
    inner: Pin<Box<F>>,
    /// Taken on the first poll.
    start: Option<Box<RequestStart>>,
    /// `Some` while a sampled transaction is open.
    transaction: Option<Transaction>,
    /// The request's release-health session (request mode), ended with the response or
    /// when the request is dropped.
    session: Option<RequestSessionGuard>,
    /// Set when the handler panicked during a poll (the panic may be caught further out).
    panicked: bool,
}

impl<F, B, E> Future for Handling<F>
where
    F: Future<Output = Result<http::Response<B>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        if let Some(start) = this.start.take() {
            this.session = sentry_sdk_core::start_request_session();
            this.transaction = start.begin();
        }
        let Some(transaction) = &this.transaction else {
            let polled = this.inner.as_mut().poll(cx);
            if polled.is_ready() {
                this.session = None;
            }
            return polled;
        };
        let polled = {
            let _entered = transaction.enter();
            let _watch = PanicWatch {
                panicked: &mut this.panicked,
            };
            this.inner.as_mut().poll(cx)
        };
        if let Poll::Ready(result) = &polled {
            match result {
                Ok(response) => {
                    let code = response.status().as_u16();
                    transaction.set_data("http.response.status_code", code);
                    transaction.set_status(SpanStatus::from_http_status(code));
                }
                // The service failed to make a response at all.
                Err(_) => transaction.set_status(SpanStatus::InternalError),
            }
            // Finished here, in the request's scope, rather than on drop.
            transaction.finish();
            this.transaction = None;
            this.session = None;
        }
        polled
    }
}

impl<F> Drop for Handling<F> {
    fn drop(&mut self) {
        // Not answered: the handler panicked, or the server dropped the request (the client
        // went away, a timeout).
        if let Some(transaction) = self.transaction.take() {
            let status = match self.panicked || std::thread::panicking() {
                true => SpanStatus::InternalError,
                false => SpanStatus::Cancelled,
            };
            transaction.set_status(status);
            transaction.finish();
        }
    }
}

/// Notes a panic that unwinds out of the handler's poll.
struct PanicWatch<'a> {
    panicked: &'a mut bool,
}

impl Drop for PanicWatch<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            *self.panicked = true;
        }
    }
}
