use std::fmt;
use std::time::SystemTime;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::{Breadcrumb, Exception, Level, Map, Stacktrace, User, Value};

/// An event id: a UUID v4, written as 32 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct EventId(pub uuid::Uuid);

impl EventId {
    /// The nil id, returned when nothing was captured.
    pub const NIL: EventId = EventId(uuid::Uuid::nil());

    /// Whether this is the nil id (nothing was captured).
    pub fn is_nil(&self) -> bool {
        self.0.is_nil()
    }

    /// A new random (version 4) id, from this thread's fast generator (no syscall).
    pub(crate) fn random() -> Self {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&crate::random::next_u64().to_le_bytes());
        bytes[8..].copy_from_slice(&crate::random::next_u64().to_le_bytes());
        EventId(uuid::Builder::from_random_bytes(bytes).into_uuid())
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.simple())
    }
}

impl fmt::Debug for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EventId({})", self.0.simple())
    }
}

impl Serialize for EventId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0.simple())
    }
}

/// A thread, in the event's `threads` interface.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Thread {
    /// An id (unique within the event).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    /// The thread's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Whether this thread crashed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crashed: Option<bool>,
    /// Whether this thread was running the capture.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<bool>,
    /// Its stack, if captured (and not already on an exception).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stacktrace: Option<Stacktrace>,
}

/// An error or message event.
///
/// Fields left empty are filled from the scopes and options when the event is processed; values
/// set here win over the scopes'.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    /// The id; generated at capture.
    pub event_id: EventId,
    /// When it happened.
    #[serde(serialize_with = "super::ser::timestamp")]
    pub timestamp: SystemTime,
    /// Always `native`, so the server can symbolicate `instruction_addr` frames.
    pub platform: &'static str,
    /// Severity.
    pub level: Level,
    /// The logger or module that produced it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logger: Option<String>,
    /// A plain message (sent as `logentry`).
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "logentry",
        rename = "logentry"
    )]
    pub message: Option<String>,
    /// The culprit / transaction name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transaction: Option<String>,
    /// Host name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_name: Option<String>,
    /// Release.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    /// Distribution of the release.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dist: Option<String>,
    /// Environment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// Tags.
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub tags: Map<String>,
    /// Arbitrary extra data.
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub extra: Map<Value>,
    /// Contexts (`os`, `device`, custom ones).
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub contexts: Map<Value>,
    /// Grouping fingerprint.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fingerprint: Vec<String>,
    /// The user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    /// The HTTP request it happened in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<super::Request>,
    /// Breadcrumbs, oldest first.
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        serialize_with = "super::ser::values"
    )]
    pub breadcrumbs: Vec<Breadcrumb>,
    /// Exception chain, innermost cause first, outermost last.
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        serialize_with = "super::ser::values"
    )]
    pub exception: Vec<Exception>,
    /// Threads.
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        serialize_with = "super::ser::values"
    )]
    pub threads: Vec<Thread>,
    /// The SDK that sent it; filled in by the client.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sdk: Option<Value>,
    /// Loaded images (`{"images": [...]}`) so that the server can symbolicate
    /// `instruction_addr` frames of stripped builds; filled in by the client.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub debug_meta: Option<Value>,
}

fn logentry<S: Serializer>(message: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    let mut map = s.serialize_map(Some(1))?;
    map.serialize_entry("formatted", message)?;
    map.end()
}

impl Default for Event {
    /// An empty event with a new id, timestamped now.
    fn default() -> Self {
        Event::new(EventId::random(), SystemTime::now())
    }
}

impl Event {
    /// Every stack trace of the event: the exceptions' (innermost first), then the threads'.
    pub(crate) fn stacktraces(&self) -> impl Iterator<Item = &Stacktrace> {
        let exceptions = self.exception.iter().filter_map(|e| e.stacktrace.as_ref());
        let threads = self.threads.iter().filter_map(|t| t.stacktrace.as_ref());
        exceptions.chain(threads)
    }

    /// [`Event::stacktraces`], mutable.
    pub(crate) fn stacktraces_mut(&mut self) -> impl Iterator<Item = &mut Stacktrace> {
        let exceptions = self
            .exception
            .iter_mut()
            .filter_map(|e| e.stacktrace.as_mut());
        let threads = self
            .threads
            .iter_mut()
            .filter_map(|t| t.stacktrace.as_mut());
        exceptions.chain(threads)
    }

    /// An empty error-level event with this id and time.
    pub(crate) fn new(event_id: EventId, timestamp: SystemTime) -> Self {
        Event {
            event_id,
            timestamp,
            platform: "native",
            level: Level::Error,
            logger: None,
            message: None,
            transaction: None,
            server_name: None,
            release: None,
            dist: None,
            environment: None,
            tags: Map::new(),
            extra: Map::new(),
            contexts: Map::new(),
            fingerprint: Vec::new(),
            user: None,
            request: None,
            breadcrumbs: Vec::new(),
            exception: Vec::new(),
            threads: Vec::new(),
            sdk: None,
            debug_meta: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_ids_are_v4_and_distinct() {
        let a = EventId::random();
        let b = EventId::random();
        assert_ne!(a, b);
        assert_eq!(a.0.get_version_num(), 4);
        assert_eq!(a.to_string().len(), 32);
    }
}
