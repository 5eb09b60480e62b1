use std::sync::Arc;

use serde::Serialize;
use serde_json::{Map, Value};

use super::Envelope;

impl Envelope {
    /// Serialises the envelope: header line, then for every item its header line, payload and a
    /// newline.
    ///
    /// An item keeps an explicit `length` header (kept in sync with the payload); an item read
    /// without one is written without one unless its payload contains a newline, which an
    /// implicit length cannot carry.
    pub fn to_bytes(&self) -> Vec<u8> {
        let size: usize = self.items.iter().map(|i| i.payload.len() + 64).sum();
        let raw: usize = self
            .raw_headers
            .iter()
            .map(|(k, j)| k.len() + j.len() + 4)
            .sum();
        let mut out = Vec::with_capacity(size + raw + 128);
        self.write_to(&mut out);
        out
    }

    /// Writes the envelope into `out` (see [`Envelope::to_bytes`]).
    pub fn write_to(&self, out: &mut Vec<u8>) {
        write_header_line(out, &self.headers, &self.raw_headers, None);
        for item in &self.items {
            // A scan of the few keys costs less than hashing "length".
            let needs_length =
                item.headers.keys().any(|k| k == "length") || item.payload.contains(&b'\n');
            write_header_line(
                out,
                &item.headers,
                &[],
                needs_length.then_some(item.payload.len()),
            );
            out.extend_from_slice(&item.payload);
            out.push(b'\n');
        }
    }
}

/// Writes `headers` as one JSON line, with `length` (when given) in place of a `length` header
/// or after the others, as inserting it into a copy would; written straight from the map
/// because copying it (strings and all) cost more than writing it.
fn write_header_line(
    out: &mut Vec<u8>,
    headers: &Map<String, Value>,
    raw: &[(&'static str, Arc<str>)],
    length: Option<usize>,
) {
    out.push(b'{');
    let mut wrote_length = false;
    for (n, (key, value)) in headers.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        write_json(out, key);
        out.push(b':');
        match length {
            Some(length) if key == "length" => {
                write_json(out, &length);
                wrote_length = true;
            }
            _ => write_json(out, value),
        }
    }
    for (n, (key, json)) in raw.iter().enumerate() {
        if n > 0 || !headers.is_empty() {
            out.push(b',');
        }
        write_json(out, key);
        out.push(b':');
        out.extend_from_slice(json.as_bytes());
    }
    if let (Some(length), false) = (length, wrote_length) {
        if !headers.is_empty() || !raw.is_empty() {
            out.push(b',');
        }
        out.extend_from_slice(b"\"length\":");
        write_json(out, &length);
    }
    out.extend_from_slice(b"}\n");
}

fn write_json<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    // Writing strings, numbers and JSON values into a Vec cannot fail: no I/O, and every map
    // key in a `Value` is a string.
    let _ = serde_json::to_writer(&mut *out, value);
}
