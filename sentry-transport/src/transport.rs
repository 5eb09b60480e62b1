//! The [`Transport`] trait and [`Outgoing`], the unit of work handed to a transport.

use std::fmt;
use std::time::Duration;

use crate::category::DataCategory;
use crate::envelope::Envelope;

type Builder = Box<dyn FnOnce() -> Option<Envelope> + Send>;

/// Builds one item of a batched container (a structured log's or a trace metric's JSON object)
/// on the transport's worker; `None` when it was dropped (counted by the builder).
///
/// Every `FnOnce() -> Option<Vec<u8>> + Send` closure is one. Implementing it on a type of
/// your own lets a value that is already boxed be queued as it is, without boxing it again
/// (as the SDK's trace metrics do: their builder's one allocation is what is queued).
pub trait BuildItem: Send {
    /// Builds the item's JSON.
    fn build(self: Box<Self>) -> Option<Vec<u8>>;
}

impl<F: FnOnce() -> Option<Vec<u8>> + Send> BuildItem for F {
    fn build(self: Box<Self>) -> Option<Vec<u8>> {
        (*self)()
    }
}

/// Something to send: a finished envelope, or a closure that builds one on the transport's
/// background thread.
///
/// Deferring the build is how the SDK keeps symbolication, scope merging, `before_send` and
/// serialisation off the caller's thread: the core hands over a closure, the worker runs it.
pub struct Outgoing {
    kind: Kind,
    category: DataCategory,
    size_hint: usize,
}

/// Every variant is one pointer (plus the vtable), so that a queued `Outgoing` is small:
/// the queue holds up to 30,000 of them.
enum Kind {
    Ready(Box<Envelope>),
    Deferred(Builder),
    /// One item of a batched container (a structured log or a trace metric: `category` says
    /// which), built on the worker into its JSON object.
    Batched(Box<dyn BuildItem>),
}

impl Outgoing {
    /// A finished envelope.
    pub fn ready(envelope: Envelope) -> Self {
        let category = envelope
            .items()
            .first()
            .map(|i| i.category())
            .unwrap_or(DataCategory::Default);
        let size_hint = envelope
            .items()
            .iter()
            .map(|i| i.payload().len() + 64)
            .sum();
        Outgoing {
            kind: Kind::Ready(Box::new(envelope)),
            category,
            size_hint,
        }
    }

    /// An envelope built later by `build` (which may decide to send nothing). `category` and
    /// `size_hint` are what queue accounting and overflow reports use until it is built.
    pub fn deferred(
        category: DataCategory,
        size_hint: usize,
        build: impl FnOnce() -> Option<Envelope> + Send + 'static,
    ) -> Self {
        Outgoing {
            kind: Kind::Deferred(Box::new(build)),
            category,
            size_hint,
        }
    }

    /// One structured log (its JSON object), built by `build` on the worker and batched there
    /// with others into `log` envelopes: at most 100 per envelope, sent at 100, after 5 s,
    /// and at `flush`/`close`.
    pub fn log(size_hint: usize, build: impl FnOnce() -> Option<Vec<u8>> + Send + 'static) -> Self {
        Outgoing {
            kind: Kind::Batched(Box::new(build)),
            category: DataCategory::LogItem,
            size_hint,
        }
    }

    /// One trace metric (its JSON object), built by `build` on the worker and batched there
    /// with others into `trace_metric` envelopes, as logs are: at most 100 per envelope, sent
    /// at 100, after 5 s, and at `flush`/`close`. Takes the builder boxed already (a closure
    /// boxes as `Box::new(|| ...)`), so that it is queued without another allocation.
    pub fn trace_metric(size_hint: usize, build: Box<dyn BuildItem>) -> Self {
        Outgoing {
            kind: Kind::Batched(build),
            category: DataCategory::TraceMetric,
            size_hint,
        }
    }

    /// Whether this is one structured log to batch.
    pub fn is_log(&self) -> bool {
        self.is_batched() && self.category == DataCategory::LogItem
    }

    /// Whether this is one item to batch into a container: a structured log or a trace
    /// metric ([`category`](Self::category) says which).
    pub fn is_batched(&self) -> bool {
        matches!(self.kind, Kind::Batched(_))
    }

    /// Builds a structured log's JSON; `None` for other kinds or when the builder dropped it.
    pub fn into_log_item(self) -> Option<Vec<u8>> {
        if self.category != DataCategory::LogItem {
            return None;
        }
        self.into_batched_item()
    }

    /// Builds a batched item's JSON (a log's or a trace metric's); `None` for other kinds or
    /// when the builder dropped it.
    pub fn into_batched_item(self) -> Option<Vec<u8>> {
        match self.kind {
            Kind::Batched(build) => build.build(),
            _ => None,
        }
    }

    /// The data category of the main item.
    pub fn category(&self) -> DataCategory {
        self.category
    }

    /// Estimated size in bytes, for the queue's byte bound.
    pub fn size_hint(&self) -> usize {
        self.size_hint
    }

    /// Builds (if deferred) and returns the envelope; `None` if the builder dropped it.
    pub fn into_envelope(self) -> Option<Envelope> {
        match self.kind {
            Kind::Ready(envelope) => Some(*envelope),
            Kind::Deferred(build) => build(),
            // A lone log or metric still makes a valid envelope (a container of one).
            Kind::Batched(build) => {
                let item = build.build()?;
                Some(match self.category {
                    DataCategory::TraceMetric => crate::envelope::trace_metric_envelope(&[item]),
                    _ => crate::envelope::log_envelope(&[item]),
                })
            }
        }
    }
}

impl fmt::Debug for Outgoing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Outgoing")
            .field("deferred", &!matches!(self.kind, Kind::Ready(_)))
            .field("category", &self.category)
            .field("size_hint", &self.size_hint)
            .finish()
    }
}

/// Delivers envelopes. Implementations must never block the caller of [`Transport::send`].
///
/// The SDK's own [`HttpTransport`](crate::HttpTransport) sends over HTTP from a background
/// thread; tests and users may provide their own (see `ClientOptions::transport`).
pub trait Transport: Send + Sync + 'static {
    /// Queues `outgoing` for delivery without blocking; a full queue drops it (and counts it).
    fn send(&self, outgoing: Outgoing);

    /// Queues an envelope the process may not outlive (a crash report) and waits at most
    /// `timeout` for its delivery; true if it was delivered (or finally given up on) in time.
    /// Transports with an offline cache write it to disk first, so that it is sent on the next
    /// start if the process ends before delivery. A transport may return false at once, without
    /// waiting, when delivery within `timeout` is not to be expected: the
    /// [`HttpTransport`](crate::HttpTransport) does so while the server is known to be
    /// unreachable (the last request to end got no HTTP answer: refused, reset or timed out),
    /// so that repeated caught panics do not each hold their thread for `timeout`; the
    /// envelope is still queued (and cached first). Defaults to [`send`](Transport::send) then
    /// [`flush`](Transport::flush).
    fn send_crash(&self, envelope: Envelope, timeout: Duration) -> bool {
        self.send(Outgoing::ready(envelope));
        self.flush(timeout)
    }

    /// Waits at most `timeout` until everything queued so far is delivered (or given up on).
    /// Returns true if everything was.
    fn flush(&self, timeout: Duration) -> bool;

    /// Flushes for at most `timeout`, then stops accepting envelopes.
    fn close(&self, timeout: Duration) -> bool {
        self.flush(timeout)
    }

    /// How many envelopes are queued or in flight (used for the shutdown message).
    fn pending(&self) -> usize {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_queued_outgoing_is_small() {
        // The queue holds up to 30,000: an inline envelope made every slot 112 bytes.
        assert!(
            std::mem::size_of::<Outgoing>() <= 40,
            "{}",
            std::mem::size_of::<Outgoing>()
        );
    }
}
