use serde_json::{Map, Value};

use super::{Envelope, Item};
use crate::error::{Error, ErrorKind};

impl Envelope {
    /// Parses an envelope (PROTOCOL.md §1.3): explicit and implicit item lengths, optional
    /// trailing newline, unknown headers and item types kept.
    ///
    /// # Errors
    /// [`ErrorKind::MalformedEnvelope`] with the byte offset of the first problem.
    pub fn parse(bytes: &[u8]) -> Result<Envelope, Error> {
        let (header_line, mut pos) = next_line(bytes, 0);
        let headers = parse_header(header_line, 0, "envelope header is not a JSON object")?;
        let mut items = Vec::new();
        while pos < bytes.len() {
            let (line, after) = next_line(bytes, pos);
            if line.is_empty() && after >= bytes.len() {
                break; // a trailing newline after the last item
            }
            let item_headers = parse_header(line, pos, "item header is not a JSON object")?;
            if !item_headers.get("type").is_some_and(Value::is_string) {
                return Err(malformed(pos, "item header has no type"));
            }
            let (payload, next) = match item_headers.get("length") {
                Some(len) => {
                    let len = len.as_u64().ok_or_else(|| {
                        malformed(pos, "item length is not a non-negative integer")
                    })? as usize;
                    let end = after
                        .checked_add(len)
                        .filter(|&end| end <= bytes.len())
                        .ok_or_else(|| malformed(after, "payload shorter than its length"))?;
                    let next = match bytes.get(end) {
                        None => end,
                        Some(b'\n') => end + 1,
                        Some(_) => return Err(malformed(end, "payload not followed by a newline")),
                    };
                    (&bytes[after..end], next)
                }
                None => next_line(bytes, after),
            };
            items.push(Item {
                headers: item_headers,
                payload: payload.to_vec(),
            });
            pos = next;
        }
        Ok(Envelope {
            headers,
            raw_headers: Vec::new(),
            items,
        })
    }
}

/// The line starting at `pos` (without its `\n`) and the offset after the newline.
fn next_line(bytes: &[u8], pos: usize) -> (&[u8], usize) {
    match bytes[pos..].iter().position(|&b| b == b'\n') {
        Some(n) => (&bytes[pos..pos + n], pos + n + 1),
        None => (&bytes[pos..], bytes.len()),
    }
}

fn parse_header(
    line: &[u8],
    offset: usize,
    reason: &'static str,
) -> Result<Map<String, Value>, Error> {
    match serde_json::from_slice::<Value>(line) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(malformed(offset, reason)),
    }
}

fn malformed(offset: usize, reason: &'static str) -> Error {
    Error::new(ErrorKind::MalformedEnvelope { offset, reason })
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY_ATTACHMENTS: &[u8] = b"{\"event_id\":\"9ec79c33ec9942ab8353589fcb2e04dc\"}\n{\"type\":\"attachment\",\"length\":0}\n\n{\"type\":\"attachment\",\"length\":0}\n\n";
    const IMPLICIT: &[u8] = b"{}\n{\"type\":\"session\"}\n{\"started\":\"2020-02-07T14:16:00Z\",\"attrs\":{\"release\":\"sentry-test@1.0.0\"}}";

    #[test]
    fn empty_attachments_vector_round_trips_byte_for_byte() {
        let env = Envelope::parse(EMPTY_ATTACHMENTS).unwrap();
        assert_eq!(env.event_id(), Some("9ec79c33ec9942ab8353589fcb2e04dc"));
        assert_eq!(env.items().len(), 2);
        assert!(env
            .items()
            .iter()
            .all(|i| i.payload().is_empty() && i.item_type() == "attachment"));
        assert_eq!(env.to_bytes(), EMPTY_ATTACHMENTS);

        let mut built = Envelope::new();
        built.set_header("event_id", "9ec79c33ec9942ab8353589fcb2e04dc");
        built.add_item(Item::new("attachment", vec![]));
        built.add_item(Item::new("attachment", vec![]));
        assert_eq!(built.to_bytes(), EMPTY_ATTACHMENTS);
    }

    #[test]
    fn implicit_length_vector() {
        let env = Envelope::parse(IMPLICIT).unwrap();
        assert!(env.headers().is_empty());
        assert_eq!(env.items().len(), 1);
        assert_eq!(env.items()[0].item_type(), "session");
        assert_eq!(
            env.items()[0].payload(),
            b"{\"started\":\"2020-02-07T14:16:00Z\",\"attrs\":{\"release\":\"sentry-test@1.0.0\"}}"
        );
        // Written back with the optional trailing newline, and still no length header.
        let mut expected = IMPLICIT.to_vec();
        expected.push(b'\n');
        assert_eq!(env.to_bytes(), expected);
    }

    #[test]
    fn bom_and_crlf_counted_in_length() {
        let bytes = b"{\"event_id\":\"9ec79c33ec9942ab8353589fcb2e04dc\"}\n{\"type\":\"attachment\",\"length\":10,\"content_type\":\"text/plain\",\"filename\":\"hello.txt\"}\n\xef\xbb\xbfHello\r\n\n";
        let env = Envelope::parse(bytes).unwrap();
        assert_eq!(env.items()[0].payload(), b"\xef\xbb\xbfHello\r\n");
        assert_eq!(env.items()[0].headers()["filename"], "hello.txt");
        assert_eq!(env.to_bytes(), bytes);
    }

    #[test]
    fn implicit_length_keeps_carriage_return() {
        let env = Envelope::parse(b"{}\n{\"type\":\"x\"}\nabc\r\n").unwrap();
        assert_eq!(env.items()[0].payload(), b"abc\r");
    }

    #[test]
    fn header_only_envelope_and_missing_final_newline() {
        let env = Envelope::parse(b"{\"dsn\":\"x\"}").unwrap();
        assert!(env.is_empty());
        let env = Envelope::parse(b"{}\n{\"type\":\"event\",\"length\":2}\n{}").unwrap();
        assert_eq!(env.items()[0].payload(), b"{}");
    }

    #[test]
    fn unknown_types_and_headers_are_kept() {
        let bytes = b"{\"custom\":1}\n{\"type\":\"brand_new\",\"length\":3,\"zz\":true}\nabc\n";
        let env = Envelope::parse(bytes).unwrap();
        assert_eq!(env.items()[0].item_type(), "brand_new");
        assert_eq!(env.to_bytes(), bytes);
    }

    #[test]
    fn writer_adds_length_when_payload_has_newlines() {
        let mut env = Envelope::parse(b"{}\n{\"type\":\"x\"}\nab").unwrap();
        env.items[0].payload = b"a\nb".to_vec();
        assert_eq!(env.to_bytes(), b"{}\n{\"type\":\"x\",\"length\":3}\na\nb\n");
    }

    #[test]
    fn malformed_inputs_are_errors_with_offsets() {
        let cases: &[(&[u8], usize)] = &[
            (b"not json\n", 0),
            (b"{}\n{\"type\":\"event\",\"length\":10}\nshort", 32),
            (b"{}\n{\"type\":\"event\",\"length\":2}\nabc", 33),
            (b"{}\n{\"length\":0}\n\n", 3),
            (b"{}\n[1]\n", 3),
            (b"{}\n{\"type\":\"a\",\"length\":-1}\n", 3),
        ];
        for (bytes, offset) in cases {
            let err = Envelope::parse(bytes).unwrap_err();
            match err.kind() {
                ErrorKind::MalformedEnvelope { offset: got, .. } => {
                    assert_eq!(got, offset, "{}", String::from_utf8_lossy(bytes))
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }
}
