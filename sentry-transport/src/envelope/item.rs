use serde_json::{Map, Value};

use crate::category::DataCategory;

/// One envelope item: a header object (with at least `type`) and a payload of raw bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub(super) headers: Map<String, Value>,
    pub(super) payload: Vec<u8>,
}

impl Item {
    /// An item of type `item_type`. Its `length` header is written from the payload.
    pub fn new(item_type: &str, payload: Vec<u8>) -> Self {
        // Sized for the usual headers (type, length, and one or two more) at once.
        let mut headers = Map::with_capacity(4);
        headers.insert("type".to_owned(), Value::from(item_type));
        headers.insert("length".to_owned(), Value::from(payload.len()));
        Item { headers, payload }
    }

    /// Adds or replaces an item header (`filename`, `content_type`, `item_count`, ...).
    #[must_use]
    pub fn with_header(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.headers.insert(key.to_owned(), value.into());
        self
    }

    /// The item type (`event`, `attachment`, ...); empty if the header lacks it.
    pub fn item_type(&self) -> &str {
        self.headers
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    /// The data category this item counts in.
    pub fn category(&self) -> DataCategory {
        DataCategory::from_item_type(self.item_type())
    }

    /// The item headers as read or set.
    pub fn headers(&self) -> &Map<String, Value> {
        &self.headers
    }

    /// The payload bytes.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// The payload parsed as JSON, if it is JSON.
    pub fn payload_json(&self) -> Option<Value> {
        serde_json::from_slice(&self.payload).ok()
    }

    /// How many units of its category this item counts as in client reports: the container's
    /// `item_count` for log/metric/span containers, the byte size for attachments, else 1.
    pub fn quantity(&self) -> u64 {
        match self.category() {
            DataCategory::Attachment => self.payload.len() as u64,
            _ => self
                .headers
                .get("item_count")
                .and_then(Value::as_u64)
                .unwrap_or(1),
        }
    }
}
