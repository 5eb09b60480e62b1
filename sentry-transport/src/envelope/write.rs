use std::io::Write;

use serde_json::Value;

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
        let mut out = Vec::with_capacity(size + 128);
        self.write_to(&mut out);
        out
    }

    /// Writes the envelope into `out` (see [`Envelope::to_bytes`]).
    pub fn write_to(&self, out: &mut Vec<u8>) {
        write_json_line(out, &Value::Object(self.headers.clone()));
        for item in &self.items {
            let mut headers = item.headers.clone();
            let needs_length = headers.contains_key("length") || item.payload.contains(&b'\n');
            if needs_length {
                headers.insert("length".to_owned(), Value::from(item.payload.len()));
            }
            write_json_line(out, &Value::Object(headers));
            out.extend_from_slice(&item.payload);
            out.push(b'\n');
        }
    }
}

fn write_json_line(out: &mut Vec<u8>, value: &Value) {
    // Serialising a `Value` to a Vec cannot fail: no I/O and every key is a string.
    let _ = serde_json::to_writer(&mut *out, value);
    let _ = out.write_all(b"\n");
}
