//! The error event written as JSON by hand: what the worker spends most of an event's CPU on.
//!
//! serde's derived `Serialize` runs every key and every timestamp through serde_json's
//! character-by-character escaper; an event with 100 breadcrumbs spends most of its
//! serialisation there. Here fixed keys and timestamps (ASCII digits and separators, nothing to
//! escape) are written as raw bytes, and only user strings are escaped, eight bytes at a time
//! where nothing needs escaping. Nested user data (`data`, contexts, `extra`, the user,
//! exceptions, threads) still goes through serde_json.
//!
//! The output is byte for byte what `serde_json::to_vec(&event)` writes (a unit test holds the
//! two together), so users who serialise an `Event` themselves see the same JSON.

use std::time::SystemTime;

use sentry_sdk_transport::time::{Rfc3339, Rfc3339Run};
use serde::Serialize;

use super::{Breadcrumb, Event, Level, Map};

/// Values written where the event has none (release, environment, ...), by reference.
#[derive(Debug, Default)]
pub(crate) struct Defaults<'a> {
    pub(crate) release: Option<&'a str>,
    pub(crate) environment: Option<&'a str>,
    pub(crate) dist: Option<&'a str>,
    pub(crate) server_name: Option<&'a str>,
    /// The `sdk` block, serialised.
    pub(crate) sdk_json: Option<&'a [u8]>,
    /// Contexts the event gets where it has none of that name, serialised, sorted by name.
    pub(crate) contexts: Vec<(&'a str, &'a [u8])>,
}

/// Writes `event` as JSON into `out`, with `breadcrumbs` (oldest first) in place of the event's
/// own list, and `defaults` where the event has none: the worker can pass the scopes'
/// breadcrumbs and the client's defaults by reference when nothing had to see them in the
/// event.
///
/// # Errors
/// Only what serde_json reports for the nested values (none for JSON values and the protocol
/// types; kept so that a future field that can fail does not go unnoticed).
pub(crate) fn write_event(
    out: &mut Vec<u8>,
    event: &Event,
    breadcrumbs: &[&Breadcrumb],
    defaults: &Defaults<'_>,
) -> serde_json::Result<()> {
    // Destructured in full so that a new field fails to compile until it is written here.
    let Event {
        event_id,
        timestamp,
        platform,
        level,
        logger,
        message,
        transaction,
        server_name,
        release,
        dist,
        environment,
        tags,
        extra,
        contexts,
        fingerprint,
        user,
        request,
        breadcrumbs: _,
        exception,
        threads,
        sdk,
        debug_meta,
    } = event;
    out.extend_from_slice(b"{\"event_id\":\"");
    let mut id = uuid::Uuid::encode_buffer();
    out.extend_from_slice(event_id.0.simple().encode_lower(&mut id).as_bytes());
    out.extend_from_slice(b"\",\"timestamp\":");
    write_timestamp(out, *timestamp);
    out.extend_from_slice(b",\"platform\":");
    write_str(out, platform);
    out.extend_from_slice(b",\"level\":");
    write_level(out, *level);
    if let Some(logger) = logger {
        out.extend_from_slice(b",\"logger\":");
        write_str(out, logger);
    }
    if let Some(message) = message {
        out.extend_from_slice(b",\"logentry\":{\"formatted\":");
        write_str(out, message);
        out.push(b'}');
    }
    for (key, value) in [
        (&b",\"transaction\":"[..], transaction.as_deref()),
        (
            b",\"server_name\":",
            server_name.as_deref().or(defaults.server_name),
        ),
        (b",\"release\":", release.as_deref().or(defaults.release)),
        (b",\"dist\":", dist.as_deref().or(defaults.dist)),
        (
            b",\"environment\":",
            environment.as_deref().or(defaults.environment),
        ),
    ] {
        if let Some(value) = value {
            out.extend_from_slice(key);
            write_str(out, value);
        }
    }
    if !tags.is_empty() {
        out.extend_from_slice(b",\"tags\":");
        write_string_map(out, tags);
    }
    write_field(out, b",\"extra\":", extra, !extra.is_empty())?;
    write_contexts(out, contexts, &defaults.contexts)?;
    if !fingerprint.is_empty() {
        out.extend_from_slice(b",\"fingerprint\":[");
        for (n, part) in fingerprint.iter().enumerate() {
            if n > 0 {
                out.push(b',');
            }
            write_str(out, part);
        }
        out.push(b']');
    }
    write_field(out, b",\"user\":", user, user.is_some())?;
    write_field(out, b",\"request\":", request, request.is_some())?;
    if !breadcrumbs.is_empty() {
        out.extend_from_slice(b",\"breadcrumbs\":{\"values\":[");
        let mut times = Rfc3339Run::default();
        for (n, crumb) in breadcrumbs.iter().enumerate() {
            if n > 0 {
                out.push(b',');
            }
            write_breadcrumb(out, crumb, &mut times)?;
        }
        out.extend_from_slice(b"]}");
    }
    if !exception.is_empty() {
        out.extend_from_slice(b",\"exception\":{\"values\":");
        serde_json::to_writer(&mut *out, exception)?;
        out.push(b'}');
    }
    if !threads.is_empty() {
        out.extend_from_slice(b",\"threads\":{\"values\":");
        serde_json::to_writer(&mut *out, threads)?;
        out.push(b'}');
    }
    match (sdk, defaults.sdk_json) {
        (None, Some(json)) => {
            out.extend_from_slice(b",\"sdk\":");
            out.extend_from_slice(json);
        }
        _ => write_field(out, b",\"sdk\":", sdk, sdk.is_some())?,
    }
    write_field(out, b",\"debug_meta\":", debug_meta, debug_meta.is_some())?;
    out.push(b'}');
    Ok(())
}

/// One breadcrumb; `type` and `level` are left out at their defaults (`default`, `info`),
/// which Relay fills back in.
/// `times` formats the timestamps of a run of breadcrumbs, which mostly share their second.
pub(crate) fn write_breadcrumb(
    out: &mut Vec<u8>,
    crumb: &Breadcrumb,
    times: &mut Rfc3339Run,
) -> serde_json::Result<()> {
    let Breadcrumb {
        timestamp,
        ty,
        category,
        level,
        message,
        data,
    } = crumb;
    out.extend_from_slice(b"{\"timestamp\":\"");
    out.extend_from_slice(times.format(*timestamp));
    out.push(b'"');
    if !super::breadcrumb::is_default_type(ty) {
        out.extend_from_slice(b",\"type\":");
        write_str(out, ty);
    }
    if let Some(category) = category {
        out.extend_from_slice(b",\"category\":");
        write_str(out, category);
    }
    if !super::breadcrumb::is_default_level(level) {
        out.extend_from_slice(b",\"level\":");
        write_level(out, *level);
    }
    if let Some(message) = message {
        out.extend_from_slice(b",\"message\":");
        write_str(out, message);
    }
    write_field(out, b",\"data\":", data, !data.is_empty())?;
    out.push(b'}');
    Ok(())
}

/// `key` and `value` through serde_json, when `present`.
fn write_field<T: Serialize + ?Sized>(
    out: &mut Vec<u8>,
    key: &[u8],
    value: &T,
    present: bool,
) -> serde_json::Result<()> {
    if present {
        out.extend_from_slice(key);
        serde_json::to_writer(&mut *out, value)?;
    }
    Ok(())
}

/// The event's contexts with `more` (serialised, sorted by name) merged in where the event has
/// none of that name, in name order as serde_json writes a map.
fn write_contexts(
    out: &mut Vec<u8>,
    own: &Map<serde_json::Value>,
    more: &[(&str, &[u8])],
) -> serde_json::Result<()> {
    if more.is_empty() {
        return write_field(out, b",\"contexts\":", own, !own.is_empty());
    }
    out.extend_from_slice(b",\"contexts\":{");
    let mut own_iter = own.iter().peekable();
    let mut more_iter = more
        .iter()
        .filter(|(name, _)| !own.contains_key(*name))
        .peekable();
    let mut first = true;
    loop {
        let take_own = match (own_iter.peek(), more_iter.peek()) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some((a, _)), Some((b, _))) => a.as_str() < *b,
        };
        if !first {
            out.push(b',');
        }
        first = false;
        if take_own {
            if let Some((name, value)) = own_iter.next() {
                write_str(out, name);
                out.push(b':');
                serde_json::to_writer(&mut *out, value)?;
            }
        } else if let Some((name, json)) = more_iter.next() {
            write_str(out, name);
            out.push(b':');
            out.extend_from_slice(json);
        }
    }
    out.push(b'}');
    Ok(())
}

fn write_timestamp(out: &mut Vec<u8>, time: SystemTime) {
    // Digits, '-', ':', '.', 'T' and 'Z' only: nothing to escape.
    out.push(b'"');
    out.extend_from_slice(Rfc3339::new(time).as_bytes());
    out.push(b'"');
}

fn write_level(out: &mut Vec<u8>, level: Level) {
    out.push(b'"');
    out.extend_from_slice(level.as_str().as_bytes());
    out.push(b'"');
}

fn write_string_map(out: &mut Vec<u8>, map: &Map<String>) {
    out.push(b'{');
    for (n, (key, value)) in map.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        write_str(out, key);
        out.push(b':');
        write_str(out, value);
    }
    out.push(b'}');
}

/// Writes `s` as a JSON string, escaped exactly as serde_json escapes it: `"`, `\\` and the
/// control characters below U+0020 (`\b \t \n \f \r` by name, the rest as `\u00xx`); nothing
/// else, so non-ASCII text goes out as its UTF-8 bytes.
pub(crate) fn write_str(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    // Most strings (messages, categories, tag values) need no escaping at all: one check per
    // eight bytes, then one copy.
    if needs_escape(bytes) {
        write_escaped(out, bytes);
    } else {
        out.extend_from_slice(bytes);
    }
    out.push(b'"');
}

fn needs_escape(bytes: &[u8]) -> bool {
    let mut words = bytes.chunks_exact(8);
    for chunk in &mut words {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        if word_needs_escape(u64::from_le_bytes(word)) {
            return true;
        }
    }
    // The tail padded with spaces, which need no escaping.
    let rest = words.remainder();
    let mut word = [b' '; 8];
    word[..rest.len()].copy_from_slice(rest);
    word_needs_escape(u64::from_le_bytes(word))
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Whether any byte of `word` is below 0x20, a `"` or a `\\` (the classic "has a byte less
/// than n" bit trick, exact as a yes/no answer).
#[inline]
fn word_needs_escape(word: u64) -> bool {
    let below = |x: u64, n: u64| x.wrapping_sub(ONES * n) & !x & HIGHS != 0;
    below(word, 0x20)
        || below(word ^ (ONES * u64::from(b'"')), 1)
        || below(word ^ (ONES * u64::from(b'\\')), 1)
}

/// serde_json's escape table: 0 for bytes written as they are, else the letter after the
/// backslash (`u` for `\u00xx`).
static ESCAPE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = b'u';
        b += 1;
    }
    table[0x08] = b'b';
    table[0x09] = b't';
    table[0x0a] = b'n';
    table[0x0c] = b'f';
    table[0x0d] = b'r';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

fn write_escaped(out: &mut Vec<u8>, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut start = 0; // bytes before `start` are written
    for (i, &b) in bytes.iter().enumerate() {
        let letter = ESCAPE[usize::from(b)];
        if letter == 0 {
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        start = i + 1;
        if letter == b'u' {
            out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 0xf)],
            ]);
        } else {
            out.extend_from_slice(&[b'\\', letter]);
        }
    }
    out.extend_from_slice(&bytes[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{Exception, Thread, User, Value};
    use std::borrow::Cow;
    use std::time::Duration;

    const TRICKY: &[&str] = &[
        "",
        "plain",
        "exactly8",
        "quote \" and backslash \\ at odd places\"\\",
        "\"\"\"\"\"\"\"\"\"",
        "controls \u{0}\u{1}\u{7}\u{8}\t\n\u{b}\u{c}\r\u{e}\u{1b}\u{1f} end",
        "\n",
        "DEL \u{7f} is not escaped",
        "unicode: héllo wörld ✓ 日本語 🦀 \u{2028}\u{2029} \u{80}\u{ff}",
        "slash / stays",
        "long clean string with no escapes at all, spanning many words 0123456789",
        "🦀🦀🦀🦀\"🦀🦀\\🦀🦀\n",
        "\u{fffd}\u{10ffff}\u{e9}\"",
    ];

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        for s in TRICKY {
            let mut ours = Vec::new();
            write_str(&mut ours, s);
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                serde_json::to_string(s).unwrap(),
                "{s:?}"
            );
        }
        // Every byte value a str can hold at every position in a word.
        for c in (0u32..0x100).filter_map(char::from_u32) {
            for pad in 0..9 {
                let s = format!("{}{c}{}", "a".repeat(pad), "b".repeat(9 - pad));
                let mut ours = Vec::new();
                write_str(&mut ours, &s);
                assert_eq!(ours, serde_json::to_vec(&s).unwrap(), "{s:?}");
            }
        }
    }

    fn crumb(s: &str, n: u64) -> Breadcrumb {
        let mut data = Map::new();
        data.insert(s.to_owned(), Value::from(s));
        Breadcrumb {
            timestamp: SystemTime::UNIX_EPOCH + Duration::from_micros(1_700_000_000_123_456 + n),
            ty: if n % 2 == 0 {
                Cow::Borrowed("default")
            } else {
                Cow::Owned(s.to_owned())
            },
            category: (n % 3 != 0).then(|| Cow::Owned(s.to_owned())),
            level: if n % 2 == 0 {
                Level::Info
            } else {
                Level::Warning
            },
            message: (n % 4 != 1).then(|| s.to_owned()),
            data: if n % 2 == 0 { Map::new() } else { data },
        }
    }

    fn full_event() -> Event {
        let mut event = Event::default();
        for (n, s) in TRICKY.iter().enumerate() {
            event.tags.insert(format!("k{s}"), s.to_string());
            event.extra.insert(s.to_string(), Value::from(n));
            event
                .contexts
                .insert(s.to_string(), serde_json::json!({"v": s}));
            event.fingerprint.push(s.to_string());
            event.breadcrumbs.push(crumb(s, n as u64));
        }
        event.logger = Some("log\"ger".into());
        event.message = Some("mess\nage".into());
        event.transaction = Some("/tx\\".into());
        event.server_name = Some("host".into());
        event.release = Some("app@1.0".into());
        event.dist = Some("d".into());
        event.environment = Some("prod\u{1}".into());
        event.user = Some(User {
            id: Some("42\"".into()),
            ..Default::default()
        });
        event.exception.push(Exception {
            ty: "Err\"or".into(),
            value: Some("bad\n".into()),
            ..Default::default()
        });
        event.threads.push(Thread {
            id: Some(1),
            name: Some("main".into()),
            ..Default::default()
        });
        event.sdk = Some(serde_json::json!({"name": "sentry.rust.sdk"}));
        event.debug_meta = Some(serde_json::json!({"images": []}));
        event
    }

    fn written(event: &Event) -> String {
        let refs: Vec<&Breadcrumb> = event.breadcrumbs.iter().collect();
        let mut out = Vec::new();
        write_event(&mut out, event, &refs, &Defaults::default()).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn events_are_written_as_serde_json_writes_them() {
        let full = full_event();
        assert_eq!(written(&full), serde_json::to_string(&full).unwrap());
        let mut empty = Event::default();
        assert_eq!(written(&empty), serde_json::to_string(&empty).unwrap());
        empty.level = Level::Fatal;
        assert_eq!(written(&empty), serde_json::to_string(&empty).unwrap());
    }

    #[test]
    fn defaults_stand_in_for_missing_values_only() {
        let sdk = serde_json::json!({"name": "sentry.rust.sdk", "integrations": ["a"]});
        let sdk_json = serde_json::to_vec(&sdk).unwrap();
        let defaults = Defaults {
            release: Some("app@1"),
            environment: Some("prod\""),
            dist: None,
            server_name: Some("host"),
            sdk_json: Some(&sdk_json),
            contexts: Vec::new(),
        };
        let write = |event: &Event| {
            let mut out = Vec::new();
            write_event(&mut out, event, &[], &defaults).unwrap();
            String::from_utf8(out).unwrap()
        };
        let mut event = Event::default();
        let written = write(&event);
        event.release = Some("app@1".into());
        event.environment = Some("prod\"".into());
        event.server_name = Some("host".into());
        event.sdk = Some(sdk);
        assert_eq!(written, serde_json::to_string(&event).unwrap());
        // The event's own values win.
        event.release = Some("own".into());
        event.sdk = Some(serde_json::json!({"name": "custom"}));
        assert_eq!(write(&event), serde_json::to_string(&event).unwrap());
    }

    #[test]
    fn static_contexts_merge_in_name_order_and_the_events_own_win() {
        let os = serde_json::json!({"name": "Linux", "note": "q\"uote"});
        let app = serde_json::json!({"app_name": "x"});
        let (os_json, app_json) = (
            serde_json::to_vec(&os).unwrap(),
            serde_json::to_vec(&app).unwrap(),
        );
        let defaults = Defaults {
            contexts: vec![("app", &app_json[..]), ("os", &os_json[..])],
            ..Default::default()
        };
        let write = |event: &Event| {
            let mut out = Vec::new();
            write_event(&mut out, event, &[], &defaults).unwrap();
            String::from_utf8(out).unwrap()
        };
        let mut event = Event::default();
        event
            .contexts
            .insert("trace".into(), serde_json::json!({"trace_id": "t"}));
        event
            .contexts
            .insert("browser".into(), serde_json::json!({"name": "b"}));
        event
            .contexts
            .insert("os".into(), serde_json::json!({"name": "own"}));
        let written = write(&event);
        let mut expected = event.clone();
        expected.contexts.insert("app".into(), app);
        assert_eq!(written, serde_json::to_string(&expected).unwrap());
        // With no contexts of its own, only the static ones.
        let bare = Event::default();
        let mut expected = bare.clone();
        expected
            .contexts
            .insert("app".into(), serde_json::json!({"app_name": "x"}));
        expected.contexts.insert("os".into(), os);
        assert_eq!(write(&bare), serde_json::to_string(&expected).unwrap());
    }

    #[test]
    fn default_type_and_level_are_left_out() {
        let mut out = Vec::new();
        let crumb = Breadcrumb {
            timestamp: SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
            message: Some("m".into()),
            ..Default::default()
        };
        write_breadcrumb(&mut out, &crumb, &mut Rfc3339Run::default()).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"timestamp":"2023-11-14T22:13:20.000000Z","message":"m"}"#
        );
    }
}
