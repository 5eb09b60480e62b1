//! What the calling thread hands to the worker for one error event: kept small, because every
//! queued capture holds one (136 bytes, where a whole `Event` is 656 before it holds
//! anything), and building the `Event` is the worker's job.

use std::time::SystemTime;

use serde_json::json;

use crate::protocol::{Event, EventId, Exception, Level, SpanId, TraceId};
use crate::stacktrace::RawStack;

/// One capture: the event's seed, its raw stack and the local values captured with it
/// (`capture_exception!`).
#[derive(Debug)]
pub(crate) struct Capture {
    pub(crate) seed: Seed,
    pub(crate) stack: Option<RawStack>,
    /// Boxed: empty (no allocation) but for `capture_exception!`, and two words, not three.
    pub(crate) local_values: Box<[(String, String)]>,
}

/// The trace and span an event was captured in, stored as three words: `(TraceId, SpanId)`
/// takes four plus a tag, because a `u128` is aligned to 16 bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TraceLink {
    trace: [u64; 2],
    span: SpanId,
}

impl TraceLink {
    pub(crate) fn new(trace_id: TraceId, span_id: SpanId) -> Self {
        let t = trace_id.0;
        TraceLink {
            trace: [(t >> 64) as u64, t as u64],
            span: span_id,
        }
    }

    pub(crate) fn ids(self) -> (TraceId, SpanId) {
        let [hi, lo] = self.trace;
        (TraceId(u128::from(hi) << 64 | u128::from(lo)), self.span)
    }
}

/// The event as the caller knows it.
#[derive(Debug)]
pub(crate) struct Seed {
    pub(crate) event_id: EventId,
    pub(crate) timestamp: SystemTime,
    /// The span entered where it was captured, if any.
    pub(crate) trace: Option<TraceLink>,
    pub(crate) body: Body,
}

/// What the event is about: the two common captures in their own small form, or a whole
/// event made by the user or an integration.
#[derive(Debug)]
pub(crate) enum Body {
    /// `capture_message`.
    Message { message: String, level: Level },
    /// An error and its `source()` chain, innermost first.
    Exceptions(Vec<Exception>),
    /// `capture_event` and integrations: used as given.
    Event(Box<Event>),
}

impl Capture {
    /// A capture of `body`, stamped now with a new id.
    pub(crate) fn new(body: Body, stack: Option<RawStack>) -> Self {
        let (event_id, timestamp) = match &body {
            Body::Event(event) => (event.event_id, event.timestamp),
            _ => (EventId::random(), SystemTime::now()),
        };
        Capture {
            seed: Seed {
                event_id,
                timestamp,
                trace: None,
                body,
            },
            stack,
            local_values: Box::default(),
        }
    }

    /// A capture of a whole event.
    pub(crate) fn event(event: Event, stack: Option<RawStack>) -> Self {
        Capture::new(Body::Event(Box::new(event)), stack)
    }

    /// What the queue's byte bound counts for it: the struct and what it points to, roughly
    /// (the scope snapshot beside it is shared, not copied, and counted once per capture).
    pub(crate) fn queued_size(&self) -> usize {
        let text = |s: &Option<String>| s.as_ref().map_or(0, String::len);
        let body = match &self.seed.body {
            Body::Message { message, .. } => message.len(),
            Body::Exceptions(exceptions) => exceptions
                .iter()
                .map(|x| 128 + x.ty.len() + text(&x.value))
                .sum(),
            Body::Event(e) => {
                let frames: usize = e.stacktraces().map(|s| s.frames.len() * 200).sum();
                640 + text(&e.message)
                    + e.exception
                        .iter()
                        .map(|x| 256 + text(&x.value))
                        .sum::<usize>()
                    + (e.extra.len() + e.tags.len()) * 64
                    + e.contexts.len() * 256
                    + e.breadcrumbs.len() * 200
                    + frames
            }
        };
        // The queued closure (capture, snapshot, context) and the queue's slot.
        320 + body
            + self.stack.as_ref().map_or(0, |s| s.len() * 8)
            + self
                .local_values
                .iter()
                .map(|(k, v)| 48 + k.len() + v.len())
                .sum::<usize>()
    }
}

impl Seed {
    /// The event, for a sampler on the caller's thread (only built when one is set).
    pub(crate) fn preview(&self) -> Event {
        let body = match &self.body {
            Body::Message { message, level } => Body::Message {
                message: message.clone(),
                level: *level,
            },
            Body::Exceptions(exceptions) => Body::Exceptions(exceptions.clone()),
            Body::Event(event) => Body::Event(event.clone()),
        };
        Seed { body, ..*self }.into_event()
    }

    /// The event, on the worker: the body with its id, time and trace.
    pub(crate) fn into_event(self) -> Event {
        let mut event = match self.body {
            Body::Event(event) => *event,
            Body::Message { message, level } => Event {
                message: Some(message),
                level,
                ..Event::new(self.event_id, self.timestamp)
            },
            Body::Exceptions(exceptions) => Event {
                exception: exceptions,
                level: Level::Error,
                ..Event::new(self.event_id, self.timestamp)
            },
        };
        if let Some(link) = self.trace {
            let (trace_id, span_id) = link.ids();
            event.contexts.entry("trace".into()).or_insert_with(
                || json!({ "type": "trace", "trace_id": trace_id, "span_id": span_id }),
            );
        }
        event
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_queued_capture_stays_small() {
        // Every queued error event holds one (with a scope snapshot beside it): 10,000 events
        // against an unreachable server are 10,000 of these.
        let size = std::mem::size_of::<Capture>();
        assert!(size <= 136, "Capture is {size} bytes");
    }

    #[test]
    fn a_trace_link_gives_back_its_ids() {
        let (trace, span) = (
            TraceId(0x0123_4567_89ab_cdef_fedc_ba98_7654_3210),
            SpanId(42),
        );
        let (t, s) = TraceLink::new(trace, span).ids();
        assert_eq!((t.0, s.0), (trace.0, span.0));
    }
}
