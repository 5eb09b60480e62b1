//! The trace propagation headers (PROTOCOL.md §5): `sentry-trace`, W3C `traceparent` and
//! `baggage`, parsed leniently (a malformed header is ignored, never an error the program sees)
//! and written exactly.

use std::fmt;

use crate::protocol::{SpanId, TraceId};

/// `baggage` longer than this (W3C's limit) is not read past it, nor written beyond it.
pub const MAX_BAGGAGE_BYTES: usize = 8192;
/// At most this many `baggage` entries are read (W3C: 180 list members).
pub const MAX_BAGGAGE_ENTRIES: usize = 180;

/// A `sentry-trace` header: `<trace id>-<span id>[-<0|1>]`.
///
/// ```
/// use sentry_sdk_core::propagation::SentryTrace;
/// let h = SentryTrace::parse("771a43a4192642f0b136d5159a501700-bb8f278130535c3c-1").unwrap();
/// assert_eq!(h.sampled, Some(true));
/// assert_eq!(h.to_string(), "771a43a4192642f0b136d5159a501700-bb8f278130535c3c-1");
/// assert!(SentryTrace::parse("not-a-trace").is_none());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SentryTrace {
    /// The trace.
    pub trace_id: TraceId,
    /// The sender's span: the parent of what this process does for it.
    pub span_id: SpanId,
    /// The sender's sampling decision; `None`: deferred to us.
    pub sampled: Option<bool>,
}

impl SentryTrace {
    /// Parses a header value; `None` when it is not one (wrong lengths, not hex, all-zero ids).
    pub fn parse(value: &str) -> Option<SentryTrace> {
        let mut parts = value.trim().split('-');
        let trace_id = parse_trace_id(parts.next()?)?;
        let span_id = parse_span_id(parts.next()?)?;
        let sampled = match parts.next() {
            None => None,
            Some("1") => Some(true),
            Some("0") => Some(false),
            Some(_) => return None,
        };
        if parts.next().is_some() {
            return None;
        }
        Some(SentryTrace {
            trace_id,
            span_id,
            sampled,
        })
    }
}

impl fmt::Display for SentryTrace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.trace_id, self.span_id)?;
        match self.sampled {
            Some(true) => f.write_str("-1"),
            Some(false) => f.write_str("-0"),
            None => Ok(()),
        }
    }
}

/// A W3C `traceparent` header: `00-<trace id>-<parent id>-<flags>`.
///
/// ```
/// use sentry_sdk_core::propagation::TraceParent;
/// let h = TraceParent::parse("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01").unwrap();
/// assert!(h.sampled);
/// assert_eq!(h.to_string(), "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceParent {
    /// The trace.
    pub trace_id: TraceId,
    /// The caller's span.
    pub span_id: SpanId,
    /// The `sampled` flag.
    pub sampled: bool,
}

impl TraceParent {
    /// Parses a header value. Version `00` must be exactly four fields; a later version may
    /// add fields after the flags (read as version `00`); version `ff` is invalid.
    pub fn parse(value: &str) -> Option<TraceParent> {
        let value = value.trim();
        let mut parts = value.split('-');
        let version = parts.next()?;
        if version.len() != 2 || !is_lower_hex(version) || version == "ff" {
            return None;
        }
        let trace_id = parse_trace_id(parts.next()?)?;
        let span_id = parse_span_id(parts.next()?)?;
        let flags = parts.next()?;
        if flags.len() != 2 || !is_lower_hex(flags) {
            return None;
        }
        if version == "00" && parts.next().is_some() {
            return None;
        }
        let flags = u8::from_str_radix(flags, 16).ok()?;
        Some(TraceParent {
            trace_id,
            span_id,
            sampled: flags & 1 == 1,
        })
    }
}

impl fmt::Display for TraceParent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let flags = if self.sampled { "01" } else { "00" };
        write!(f, "00-{}-{}-{flags}", self.trace_id, self.span_id)
    }
}

/// The `sentry-` entries of a `baggage` header (keys without the prefix, values decoded), in
/// the order received. Other vendors' entries are not kept: they are never forwarded as ours.
///
/// ```
/// use sentry_sdk_core::propagation::sentry_baggage;
/// let entries = sentry_baggage("other=1,sentry-trace_id=abc,sentry-release=app%401.0");
/// assert_eq!(entries, [("trace_id".to_owned(), "abc".to_owned()), ("release".to_owned(), "app@1.0".to_owned())]);
/// ```
pub fn sentry_baggage(value: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let value = truncate(value, MAX_BAGGAGE_BYTES);
    for member in value.split(',').take(MAX_BAGGAGE_ENTRIES) {
        // Properties after `;` belong to the entry; Sentry sets none and reads none.
        let member = member.split(';').next().unwrap_or("");
        let Some((key, raw)) = member.split_once('=') else {
            continue;
        };
        let Some(key) = key.trim().strip_prefix("sentry-") else {
            continue;
        };
        if key.is_empty() || out.iter().any(|(k, _)| k == key) {
            continue; // the first of a repeated key wins
        }
        if let Some(decoded) = percent_decode(raw.trim()) {
            out.push((key.to_owned(), decoded));
        }
    }
    out
}

/// The `baggage` value to send: `existing` (a header the request already has) without its
/// `sentry-` entries, then `ours` as `sentry-` entries; entries that would take it past
/// [`MAX_BAGGAGE_BYTES`] are left out.
///
/// ```
/// use sentry_sdk_core::propagation::baggage_value;
/// let ours = [("trace_id".to_owned(), "abc".to_owned()), ("release".to_owned(), "app 1".to_owned())];
/// assert_eq!(
///     baggage_value(Some("vendor=x, sentry-trace_id=old"), &ours),
///     "vendor=x,sentry-trace_id=abc,sentry-release=app%201"
/// );
/// ```
pub fn baggage_value(existing: Option<&str>, ours: &[(String, String)]) -> String {
    let mut out = String::new();
    let mut push = |entry: &str| {
        let extra = entry.len() + usize::from(!out.is_empty());
        if out.len() + extra <= MAX_BAGGAGE_BYTES {
            if !out.is_empty() {
                out.push(',');
            }
            out.push_str(entry);
        }
    };
    for member in existing.unwrap_or("").split(',') {
        let member = member.trim();
        if member.is_empty() || member.starts_with("sentry-") {
            continue;
        }
        push(member);
    }
    for (key, value) in ours {
        push(&format!("sentry-{key}={}", percent_encode(value)));
    }
    out
}

fn truncate(value: &str, max: usize) -> &str {
    if value.len() <= max {
        return value;
    }
    // Up to the last entry that fits whole (a comma is one byte: never inside a character,
    // so the cut is on a character boundary even when byte `max` is not).
    let cut = value.as_bytes()[..max]
        .iter()
        .rposition(|b| *b == b',')
        .unwrap_or(0);
    &value[..cut]
}

fn is_lower_hex(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn is_hex(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn parse_trace_id(s: &str) -> Option<TraceId> {
    if s.len() != 32 || !is_hex(s) {
        return None;
    }
    u128::from_str_radix(s, 16)
        .ok()
        .filter(|v| *v != 0)
        .map(TraceId)
}

fn parse_span_id(s: &str) -> Option<SpanId> {
    if s.len() != 16 || !is_hex(s) {
        return None;
    }
    u64::from_str_radix(s, 16)
        .ok()
        .filter(|v| *v != 0)
        .map(SpanId)
}

/// Percent-decodes a baggage value; `None` for a malformed escape or invalid UTF-8.
fn percent_decode(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = raw.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Percent-encodes what a baggage value may not hold as is (W3C: no controls, whitespace,
/// `"`, `,`, `;`, `\`, `%`, and nothing beyond ASCII).
fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        let plain = b.is_ascii_graphic() && !matches!(b, b'"' | b',' | b';' | b'\\' | b'%');
        if plain {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRACE: &str = "771a43a4192642f0b136d5159a501700";
    const SPAN: &str = "bb8f278130535c3c";

    #[test]
    fn sentry_trace_vectors() {
        let ok = |v: &str| SentryTrace::parse(v).map(|h| h.sampled);
        assert_eq!(ok(&format!("{TRACE}-{SPAN}")), Some(None));
        assert_eq!(ok(&format!("{TRACE}-{SPAN}-1")), Some(Some(true)));
        assert_eq!(ok(&format!("{TRACE}-{SPAN}-0")), Some(Some(false)));
        assert_eq!(ok(&format!("  {TRACE}-{SPAN}-1 ")), Some(Some(true)));
        assert_eq!(ok(&format!("{}-{SPAN}", TRACE.to_uppercase())), Some(None));
        for bad in [
            String::new(),
            "-".into(),
            format!("{TRACE}-{SPAN}-2"),
            format!("{TRACE}-{SPAN}-1-1"),
            format!("{TRACE}x-{SPAN}"),
            format!("{}-{SPAN}", &TRACE[1..]),
            format!("{TRACE}-{}", &SPAN[1..]),
            format!("{}-{SPAN}", "0".repeat(32)),
            format!("{TRACE}-{}", "0".repeat(16)),
            format!("{}-{SPAN}", "g".repeat(32)),
            "x".repeat(10_000),
        ] {
            assert!(SentryTrace::parse(&bad).is_none(), "{bad:?}");
        }
        let h = SentryTrace::parse(&format!("{TRACE}-{SPAN}-0")).unwrap();
        assert_eq!(h.to_string(), format!("{TRACE}-{SPAN}-0"));
    }

    #[test]
    fn traceparent_vectors() {
        let p = |v: &str| TraceParent::parse(v);
        assert!(!p(&format!("00-{TRACE}-{SPAN}-00")).unwrap().sampled);
        assert!(p(&format!("00-{TRACE}-{SPAN}-03")).unwrap().sampled);
        assert!(
            p(&format!("01-{TRACE}-{SPAN}-01-extra")).is_some(),
            "a later version"
        );
        for bad in [
            format!("ff-{TRACE}-{SPAN}-01"),
            format!("00-{TRACE}-{SPAN}-01-extra"),
            format!("00-{TRACE}-{SPAN}-1"),
            format!("00-{TRACE}-{SPAN}"),
            format!("0-{TRACE}-{SPAN}-01"),
            format!("00-{}-{SPAN}-01", "0".repeat(32)),
        ] {
            assert!(p(&bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn baggage_keeps_sentry_entries_only_and_bounds_what_it_reads() {
        let entries = sentry_baggage(
            " sentry-trace_id = abc ;prop=1, vendor=x,sentry-sample_rate=0.5,sentry-=x,\
             sentry-bad=%zz,sentry-trace_id=second,sentry-user_segment=a%2Cb,noequals",
        );
        assert_eq!(
            entries,
            [
                ("trace_id".to_owned(), "abc".to_owned()),
                ("sample_rate".to_owned(), "0.5".to_owned()),
                ("user_segment".to_owned(), "a,b".to_owned()),
            ]
        );
        let huge = format!("sentry-a=1,{}", "v=x,".repeat(5000));
        assert_eq!(sentry_baggage(&huge).len(), 1);
        let late = format!("{},sentry-late=1", "v=xxxxxxxxxx".repeat(900));
        assert!(sentry_baggage(&late).is_empty(), "past 8192 bytes");
        // Byte 8192 inside a multi-byte character: cut at an entry, no panic.
        let wide = format!("sentry-a=1,v={}", "é".repeat(5000));
        assert_eq!(sentry_baggage(&wide).len(), 1);
    }

    #[test]
    fn baggage_written_keeps_other_vendors_and_stays_bounded() {
        let ours = vec![("release".to_owned(), "a,b;c d%é".to_owned())];
        let v = baggage_value(Some("a=1, sentry-old=2 ,b=2"), &ours);
        assert_eq!(v, "a=1,b=2,sentry-release=a%2Cb%3Bc%20d%25%C3%A9");
        assert_eq!(
            sentry_baggage(&v),
            [("release".to_owned(), "a,b;c d%é".to_owned())]
        );
        let long = vec![("x".to_owned(), "y".repeat(10_000))];
        assert_eq!(baggage_value(Some("a=1"), &long), "a=1");
    }
}
