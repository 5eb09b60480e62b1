//! Envelopes: Sentry's container format (PROTOCOL.md §1.3).
//!
//! An envelope is one JSON header line followed by items, each a JSON header line and a payload.
//! [`Envelope::to_bytes`] writes one, [`Envelope::parse`] reads one; both keep unknown header keys
//! and unknown item types.

mod item;
mod parse;
mod write;

pub use item::Item;
use std::sync::Arc;

/// The content type of a structured-log container item.
pub const LOG_CONTENT_TYPE: &str = "application/vnd.sentry.items.log+json";

/// The content type of a trace-metric container item (as the official Rust SDK writes it).
pub const TRACE_METRIC_CONTENT_TYPE: &str = "application/vnd.sentry.items.trace-metric+json";

/// An envelope with one `log` container item holding `items` (each a JSON object), as
/// PROTOCOL.md §6 shows: `{"type":"log","item_count":N,"content_type":...}` and
/// `{"items":[...]}`.
pub fn log_envelope(items: &[Vec<u8>]) -> Envelope {
    container_envelope("log", LOG_CONTENT_TYPE, items)
}

/// An envelope with one `trace_metric` container item holding `items` (each a JSON object):
/// `{"type":"trace_metric","item_count":N,"content_type":...}` and `{"items":[...]}`.
pub fn trace_metric_envelope(items: &[Vec<u8>]) -> Envelope {
    container_envelope("trace_metric", TRACE_METRIC_CONTENT_TYPE, items)
}

/// An envelope with one container item of `item_type` holding `items`.
fn container_envelope(item_type: &str, content_type: &str, items: &[Vec<u8>]) -> Envelope {
    let mut payload = Vec::with_capacity(items.iter().map(|i| i.len() + 1).sum::<usize>() + 12);
    payload.extend_from_slice(b"{\"items\":[");
    for (n, item) in items.iter().enumerate() {
        if n > 0 {
            payload.push(b',');
        }
        payload.extend_from_slice(item);
    }
    payload.extend_from_slice(b"]}");
    let mut envelope = Envelope::new();
    envelope.add_item(
        Item::new(item_type, payload)
            .with_header("item_count", items.len())
            .with_header("content_type", content_type),
    );
    envelope
}

use serde_json::{Map, Value};

/// A Sentry envelope: headers plus items.
///
/// ```
/// use sentry_sdk_transport::{Envelope, Item};
/// let mut envelope = Envelope::new();
/// envelope.set_header("event_id", "9ec79c33ec9942ab8353589fcb2e04dc");
/// envelope.add_item(Item::new("attachment", Vec::new()).with_header("filename", "a.txt"));
/// let bytes = envelope.to_bytes();
/// assert_eq!(Envelope::parse(&bytes).unwrap(), envelope);
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Envelope {
    headers: Map<String, Value>,
    /// Headers whose values are serialised JSON already (written as they are, after
    /// `headers`): a value shared by many envelopes, such as a trace's sampling context, is
    /// then neither copied nor serialised again for each.
    raw_headers: Vec<(&'static str, Arc<str>)>,
    items: Vec<Item>,
}

impl Envelope {
    /// An envelope with empty headers (`{}`) and no items.
    pub fn new() -> Self {
        Envelope::default()
    }

    /// The envelope headers.
    pub fn headers(&self) -> &Map<String, Value> {
        &self.headers
    }

    /// Sets an envelope header, replacing any earlier value.
    pub fn set_header(&mut self, key: &str, value: impl Into<Value>) {
        self.headers.insert(key.to_owned(), value.into());
    }

    /// Sets an envelope header to `json`, a serialised JSON value (written as it is; the
    /// caller vouches that it is valid JSON), replacing any earlier value.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use sentry_sdk_transport::Envelope;
    /// let mut envelope = Envelope::new();
    /// envelope.set_header_json("trace", Arc::from(r#"{"trace_id":"abc"}"#));
    /// assert_eq!(envelope.header("trace").unwrap()["trace_id"], "abc");
    /// assert!(envelope.to_bytes().starts_with(br#"{"trace":{"trace_id":"abc"}}"#));
    /// ```
    pub fn set_header_json(&mut self, key: &'static str, json: Arc<str>) {
        self.headers.shift_remove(key);
        self.raw_headers.retain(|(k, _)| *k != key);
        self.raw_headers.push((key, json));
    }

    /// The value of header `key`, whether it was set as a value or as JSON.
    pub fn header(&self, key: &str) -> Option<Value> {
        if let Some(value) = self.headers.get(key) {
            return Some(value.clone());
        }
        let (_, json) = self.raw_headers.iter().find(|(k, _)| *k == key)?;
        serde_json::from_str(json).ok()
    }

    /// Removes an envelope header.
    pub fn remove_header(&mut self, key: &str) -> Option<Value> {
        let raw = self.header(key).filter(|_| !self.headers.contains_key(key));
        self.raw_headers.retain(|(k, _)| *k != key);
        self.headers.shift_remove(key).or(raw)
    }

    /// The `event_id` header, if any.
    pub fn event_id(&self) -> Option<&str> {
        self.headers.get("event_id").and_then(Value::as_str)
    }

    /// Appends an item.
    pub fn add_item(&mut self, item: Item) {
        self.items.push(item);
    }

    /// The items, in order.
    pub fn items(&self) -> &[Item] {
        &self.items
    }

    /// Keeps only the items for which `keep` returns true, handing each removed item to `removed`.
    pub fn retain_items(
        &mut self,
        mut keep: impl FnMut(&Item) -> bool,
        mut removed: impl FnMut(Item),
    ) {
        let items = std::mem::take(&mut self.items);
        for item in items {
            if keep(&item) {
                self.items.push(item);
            } else {
                removed(item);
            }
        }
    }

    /// Whether the envelope has no items (such an envelope is not worth sending).
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}
