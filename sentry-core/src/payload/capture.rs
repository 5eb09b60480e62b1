//! What the calling thread hands to the worker for one error event: kept small, because every
//! queued capture holds one (128 bytes, where a whole `Event` is 656 before it holds
//! anything), and building the `Event` is the worker's job.

use std::sync::Arc;
use std::time::SystemTime;

use serde_json::json;

use once_cell::sync::OnceCell;

use crate::propagation::Dsc;
use crate::protocol::{Event, EventId, Exception, Level, SpanId, Thread, TraceId};
use crate::session::EventKind;
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

/// The span an event was captured in: its ids, what it is (`op`, `description`) and the name
/// of its transaction, read on the caller's thread (the span may be finished, and its record
/// moved into the transaction, by the time the event is built). Boxed in the seed: one word
/// for the events captured outside any span.
#[derive(Debug, Clone)]
pub(crate) struct TraceInfo {
    pub(crate) trace_id: TraceId,
    pub(crate) span_id: SpanId,
    pub(crate) parent_span_id: Option<SpanId>,
    pub(crate) op: String,
    pub(crate) description: Option<String>,
    pub(crate) transaction: String,
    /// The trace's DSC, frozen when the event was captured (shared, not copied).
    pub(crate) dsc: Arc<OnceCell<Dsc>>,
}

impl TraceInfo {
    /// The event's `contexts.trace`.
    fn context(&self) -> serde_json::Value {
        let mut trace = json!({
            "type": "trace",
            "trace_id": self.trace_id,
            "span_id": self.span_id,
        });
        if let Some(parent) = self.parent_span_id {
            trace["parent_span_id"] = json!(parent);
        }
        if !self.op.is_empty() {
            trace["op"] = json!(self.op);
        }
        if let Some(description) = &self.description {
            trace["description"] = json!(description);
        }
        trace
    }
}

/// A thread's id and name, looked up once per thread and shared by its captures.
#[derive(Debug)]
pub(crate) struct ThreadInfo {
    pub(crate) id: u64,
    pub(crate) name: Option<String>,
}

thread_local! {
    static THIS_THREAD: Arc<ThreadInfo> = {
        let thread = std::thread::current();
        Arc::new(ThreadInfo {
            id: thread_number(thread.id()),
            name: thread.name().map(str::to_owned),
        })
    };
}

impl ThreadInfo {
    /// This thread's (`None` during the thread's teardown).
    pub(crate) fn current() -> Option<Arc<ThreadInfo>> {
        THIS_THREAD.try_with(Arc::clone).ok()
    }
}

/// The number in `ThreadId(N)`: stable `ThreadId` has no accessor yet. What the panic hook and
/// every capture send as the thread's id.
pub fn thread_number(id: std::thread::ThreadId) -> u64 {
    let text = format!("{id:?}");
    text.trim_start_matches("ThreadId(")
        .trim_end_matches(')')
        .parse()
        .unwrap_or(0)
}

/// The event as the caller knows it.
#[derive(Debug)]
pub(crate) struct Seed {
    pub(crate) event_id: EventId,
    pub(crate) timestamp: SystemTime,
    /// The span entered where it was captured, if any.
    pub(crate) trace: Option<Box<TraceInfo>>,
    /// The thread that captured it (`threads`: id and name, as a panic has).
    pub(crate) thread: Option<Arc<ThreadInfo>>,
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
                thread: ThreadInfo::current(),
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
        Seed {
            body,
            trace: self.trace.clone(),
            thread: self.thread.clone(),
            ..*self
        }
        .into_event()
    }

    /// What the event would mean for its session (read without building it: for an event
    /// dropped by sampling, which still counts).
    pub(crate) fn session_kind(&self) -> Option<EventKind> {
        match &self.body {
            Body::Message { .. } => None,
            Body::Exceptions(_) => Some(EventKind::Error),
            Body::Event(event) => EventKind::of(event),
        }
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
        if let Some(thread) = self.thread {
            attach_thread(&mut event, &thread);
        }
        if let Some(info) = self.trace {
            event
                .contexts
                .entry("trace".into())
                .or_insert_with(|| info.context());
            if event.transaction.is_none() && !info.transaction.is_empty() {
                event.transaction = Some(info.transaction);
            }
        }
        event
    }
}

/// Names the capturing thread in `threads` (its entry marked `current`, added if missing) and
/// links the outermost exception to it. An event that already says which thread it is about
/// keeps that.
fn attach_thread(event: &mut Event, thread: &ThreadInfo) {
    let entry = match event.threads.iter_mut().find(|t| t.current == Some(true)) {
        Some(entry) => entry,
        None => {
            event.threads.push(Thread {
                current: Some(true),
                ..Default::default()
            });
            event.threads.last_mut().expect("just pushed")
        }
    };
    if entry.id.is_none() {
        entry.id = Some(thread.id);
        entry.name = entry.name.take().or_else(|| thread.name.clone());
    }
    let id = entry.id;
    if let Some(outermost) = event.exception.last_mut() {
        if outermost.thread_id.is_none() {
            outermost.thread_id = id;
        }
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
        assert!(size <= 128, "Capture is {size} bytes");
    }
}
