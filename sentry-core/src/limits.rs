//! Where events are trimmed to what the server accepts (PROTOCOL.md §1.6), on the SDK's
//! thread, after `before_send`: the SDK never earns a 413 (or a silent cut by Relay) for an
//! event it could have trimmed itself.
//!
//! # Limits
//! - the message and exception values: 8,192 characters (Relay's message limit);
//! - tag keys and values: 200 characters (Relay drops longer keys, cuts longer values; a cut
//!   key gets no `…` mark, a character Relay refuses in keys);
//! - breadcrumb messages: 8,192 characters; breadcrumb data, `extra`, `contexts`, frame
//!   `vars`, user data and the request body: databags of at most `MAX_DEPTH` levels,
//!   `MAX_BREADTH` entries per object or array, strings of at most `max_value_length`
//!   characters (default 8,192);
//! - frames: at most 250 per stack trace, keeping both ends (the 50 outermost, where the thread
//!   began, and the 200 innermost, where it failed);
//! - the request body: left out when its JSON is over `max_request_body_size`;
//! - the whole event: under 1 MiB serialised; over it, the event is written again with less
//!   (older breadcrumbs first, then frame variables and source lines, then smaller databags
//!   and fewer frames), and dropped (counted as `invalid`) only if even that is too large.
//!
//! Cut strings end in `…`, so a reader sees that they were cut.

use serde_json::Value;

use crate::protocol::{Breadcrumb, Event, Frame, Map};

/// Characters kept of a message or an exception value.
pub(crate) const MAX_MESSAGE_CHARS: usize = 8192;
/// Characters kept of a tag key or value.
pub(crate) const MAX_TAG_CHARS: usize = 200;
/// Levels of nested objects kept in a databag.
pub(crate) const MAX_DEPTH: usize = 7;
/// Entries kept per object or array in a databag.
pub(crate) const MAX_BREADTH: usize = 200;
/// Frames kept per stack trace: the outermost `KEEP_OUTER` and the innermost rest.
pub(crate) const MAX_FRAMES: usize = 250;
const KEEP_OUTER: usize = 50;
/// The largest serialised event (Relay's default event limit).
pub(crate) const MAX_EVENT_BYTES: usize = 1024 * 1024;

/// What a trim keeps.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) max_value_length: usize,
    pub(crate) max_depth: usize,
    pub(crate) max_breadth: usize,
    pub(crate) max_frames: usize,
}

impl Limits {
    pub(crate) fn new(max_value_length: usize) -> Limits {
        Limits {
            max_value_length,
            max_depth: MAX_DEPTH,
            max_breadth: MAX_BREADTH,
            max_frames: MAX_FRAMES,
        }
    }

    /// Much less: for an event that is still too large after the first trim.
    pub(crate) fn tight(self) -> Limits {
        Limits {
            max_value_length: self.max_value_length.min(512),
            max_depth: 3,
            max_breadth: 20,
            max_frames: 60,
        }
    }
}

/// `s` cut to `max` characters (with `…` at the end), if longer.
pub(crate) fn trim_string(s: &mut String, max: usize) {
    if max == 0 || s.len() <= max {
        return; // bytes ≥ chars: nothing to count
    }
    if let Some((at, _)) = s.char_indices().nth(max.saturating_sub(1)) {
        s.truncate(at);
        s.push('…');
    }
}

/// Trims one databag in place: depth, breadth, string lengths.
pub(crate) fn trim_value(value: &mut Value, limits: &Limits, depth: usize) {
    match value {
        Value::String(s) => trim_string(s, limits.max_value_length),
        Value::Array(items) => {
            if depth >= limits.max_depth {
                *value = Value::from("[…]");
                return;
            }
            items.truncate(limits.max_breadth);
            items
                .iter_mut()
                .for_each(|v| trim_value(v, limits, depth + 1));
        }
        Value::Object(map) => {
            if depth >= limits.max_depth {
                *value = Value::from("{…}");
                return;
            }
            if map.len() > limits.max_breadth {
                let keep: Vec<String> = map.keys().take(limits.max_breadth).cloned().collect();
                map.retain(|k, _| keep.contains(k));
            }
            map.values_mut()
                .for_each(|v| trim_value(v, limits, depth + 1));
        }
        _ => {}
    }
}

/// Trims a map of databags (`extra`, `contexts`, breadcrumb data, frame vars).
pub(crate) fn trim_map(map: &mut Map<Value>, limits: &Limits) {
    if map.len() > limits.max_breadth {
        let keep: Vec<String> = map.keys().take(limits.max_breadth).cloned().collect();
        map.retain(|k, _| keep.contains(k));
    }
    map.values_mut().for_each(|v| trim_value(v, limits, 1));
}

/// Whether a databag map needs [`trim_map`] (so that maps written by reference are copied
/// only when they must be).
pub(crate) fn map_needs_trim(map: &Map<Value>, limits: &Limits) -> bool {
    fn needs(value: &Value, limits: &Limits, depth: usize) -> bool {
        match value {
            // Bytes first: a string no longer in bytes is no longer in characters.
            Value::String(s) => {
                s.len() > limits.max_value_length && s.chars().count() > limits.max_value_length
            }
            Value::Array(items) => {
                depth >= limits.max_depth
                    || items.len() > limits.max_breadth
                    || items.iter().any(|v| needs(v, limits, depth + 1))
            }
            Value::Object(map) => {
                depth >= limits.max_depth
                    || map.len() > limits.max_breadth
                    || map.values().any(|v| needs(v, limits, depth + 1))
            }
            _ => false,
        }
    }
    map.len() > limits.max_breadth || map.values().any(|v| needs(v, limits, 1))
}

/// Trims one breadcrumb.
pub(crate) fn trim_breadcrumb(crumb: &mut Breadcrumb, limits: &Limits) {
    if let Some(message) = &mut crumb.message {
        trim_string(message, MAX_MESSAGE_CHARS);
    }
    trim_map(&mut crumb.data, limits);
}

/// Whether a breadcrumb needs [`trim_breadcrumb`].
pub(crate) fn breadcrumb_needs_trim(crumb: &Breadcrumb, limits: &Limits) -> bool {
    crumb
        .message
        .as_ref()
        .is_some_and(|m| m.len() > MAX_MESSAGE_CHARS)
        || map_needs_trim(&crumb.data, limits)
}

/// At most `max` frames, keeping both ends.
fn trim_frames(frames: &mut Vec<Frame>, max: usize) {
    if frames.len() <= max {
        return;
    }
    // Frames are oldest first: keep the outermost few and the innermost rest.
    let outer = KEEP_OUTER.min(max / 5);
    let inner = max - outer;
    let cut_from = outer;
    let cut_to = frames.len() - inner;
    frames.drain(cut_from..cut_to);
}

/// Trims the event's own fields (the breadcrumbs written by reference are trimmed apart).
pub(crate) fn trim_event(event: &mut Event, limits: &Limits, max_request_body: Option<usize>) {
    if let Some(message) = &mut event.message {
        trim_string(message, MAX_MESSAGE_CHARS);
    }
    let long_keys: Vec<String> = event
        .tags
        .keys()
        .filter(|k| k.chars().count() > MAX_TAG_CHARS)
        .cloned()
        .collect();
    for key in long_keys {
        if let Some(value) = event.tags.remove(&key) {
            // Cut without the `…` mark: Relay allows only a few characters in tag keys.
            let key: String = key.chars().take(MAX_TAG_CHARS).collect();
            event.tags.insert(key, value);
        }
    }
    for value in event.tags.values_mut() {
        trim_string(value, MAX_TAG_CHARS);
    }
    trim_map(&mut event.extra, limits);
    trim_map(&mut event.contexts, limits);
    for crumb in &mut event.breadcrumbs {
        trim_breadcrumb(crumb, limits);
    }
    if let Some(user) = &mut event.user {
        trim_map(&mut user.other, limits);
    }
    if let Some(request) = &mut event.request {
        let too_big = match (&request.data, max_request_body) {
            (Some(data), Some(max)) => serde_json::to_vec(data).map_or(true, |b| b.len() > max),
            (Some(_), None) => false,
            (None, _) => false,
        };
        if too_big {
            request.data = None;
        } else if let Some(data) = &mut request.data {
            trim_value(data, limits, 1);
        }
    }
    for exception in &mut event.exception {
        if let Some(value) = &mut exception.value {
            trim_string(value, MAX_MESSAGE_CHARS);
        }
    }
    let stacks = event.stacktraces_mut();
    for stack in stacks {
        trim_frames(&mut stack.frames, limits.max_frames);
        for frame in &mut stack.frames {
            trim_map(&mut frame.vars, limits);
        }
    }
}

/// For an event still too large: no frame variables or source lines.
pub(crate) fn strip_frame_extras(event: &mut Event) {
    let stacks = event.stacktraces_mut();
    for frame in stacks.flat_map(|s| s.frames.iter_mut()) {
        frame.vars.clear();
        frame.pre_context.clear();
        frame.post_context.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_are_cut_on_a_character_boundary_with_a_mark() {
        let mut s = "é".repeat(10);
        trim_string(&mut s, 4);
        assert_eq!(s, "ééé…");
        let mut short = "abc".to_owned();
        trim_string(&mut short, 3);
        assert_eq!(short, "abc");
    }

    #[test]
    fn databags_are_bounded_in_depth_breadth_and_length() {
        let limits = Limits::new(10);
        let mut deep = json!("x");
        for _ in 0..10 {
            deep = json!({ "d": deep });
        }
        let mut map: Map<Value> = Map::new();
        map.insert("deep".into(), deep);
        map.insert("long".into(), json!("0123456789abcdef"));
        map.insert("wide".into(), json!((0..500).collect::<Vec<_>>()));
        assert!(map_needs_trim(&map, &limits));
        trim_map(&mut map, &limits);
        assert!(!map_needs_trim(&map, &limits));
        assert_eq!(map["long"], "012345678…");
        assert_eq!(map["wide"].as_array().unwrap().len(), MAX_BREADTH);
        let text = serde_json::to_string(&map["deep"]).unwrap();
        assert_eq!(text.matches("\"d\"").count(), MAX_DEPTH - 1, "{text}");
    }

    #[test]
    fn frames_keep_both_ends() {
        let mut frames: Vec<Frame> = (0..1000)
            .map(|n| Frame {
                function: Some(format!("f{n}")),
                ..Default::default()
            })
            .collect();
        trim_frames(&mut frames, MAX_FRAMES);
        assert_eq!(frames.len(), MAX_FRAMES);
        assert_eq!(frames[0].function.as_deref(), Some("f0"));
        assert_eq!(frames[49].function.as_deref(), Some("f49"));
        assert_eq!(frames[50].function.as_deref(), Some("f800"));
        assert_eq!(frames[249].function.as_deref(), Some("f999"));
    }

    #[test]
    fn tags_messages_and_bodies() {
        let mut event = Event {
            message: Some("m".repeat(10_000)),
            request: Some(crate::protocol::Request {
                data: Some(json!({"blob": "b".repeat(20_000)})),
                ..Default::default()
            }),
            ..Default::default()
        };
        event.tags.insert("k".repeat(300), "v".repeat(300));
        trim_event(&mut event, &Limits::new(8192), Some(10_000));
        assert_eq!(
            event.message.as_ref().unwrap().chars().count(),
            MAX_MESSAGE_CHARS
        );
        let (k, v) = event.tags.iter().next().unwrap();
        assert_eq!(
            (k.chars().count(), v.chars().count()),
            (MAX_TAG_CHARS, MAX_TAG_CHARS)
        );
        assert!(
            event.request.unwrap().data.is_none(),
            "a body over the limit is left out"
        );
    }
}
