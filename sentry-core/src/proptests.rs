//! Property tests ("fuzzing") of the core's parsers of outside input (the trace propagation
//! headers) and of the event serialiser.
//!
//! Why proptest and not cargo-fuzz: cargo-fuzz needs a nightly toolchain and CI here has only
//! stable; proptest runs on stable as plain `#[test]`s and shrinks a failure to a small input.
//! Case counts are kept to a few hundred per property so the set runs in seconds. Failures
//! found here are kept as plain unit tests next to the fix.

use proptest::prelude::*;
use serde_json::Value;

use crate::propagation::{baggage_value, sentry_baggage, SentryTrace, TraceParent};
use crate::protocol::json::{write_event, Defaults};
use crate::protocol::{Breadcrumb, Event, SpanId, TraceId};

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Header-shaped strings: hex runs, dashes and junk.
fn header_like() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,80}",
        "[0-9a-fA-F]{0,34}-[0-9a-fA-F]{0,18}(-[0-9a-z]{0,3}){0,2}",
        "[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}(-.{0,4})?",
    ]
}

/// Arbitrary strings including control characters, quotes, backslashes and non-ASCII.
fn tricky_string() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,24}",
        "[\\x00-\\x1f\"\\\\\u{7f}\u{80}-\u{10ffff}]{0,16}",
        proptest::collection::vec(any::<char>(), 0..24).prop_map(|c| c.into_iter().collect()),
    ]
}

/// JSON values nested up to `depth`, with floats of every kind (NaN and infinities included).
fn json_value(depth: u32) -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        // `Value::from(f64)` is `Null` for NaN and the infinities: serde_json's own answer.
        prop_oneof![
            any::<f64>(),
            Just(f64::NAN),
            Just(f64::INFINITY),
            Just(f64::NEG_INFINITY)
        ]
        .prop_map(Value::from),
        tricky_string().prop_map(Value::from),
    ];
    leaf.prop_recursive(depth, 64, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(tricky_string(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Nests `value` `depth` times in arrays and objects alternately.
fn nest(mut value: Value, depth: usize) -> Value {
    for n in 0..depth {
        value = if n % 2 == 0 {
            Value::Array(vec![value])
        } else {
            serde_json::json!({ "k": value })
        };
    }
    value
}

/// Equal, floats within a rounding error: serde_json's default float parser is not exact (it
/// can be a unit in the last place off; its `float_roundtrip` feature would fix that), which
/// is the reader's business, not the writer's.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
            let (x, y) = (
                x.as_f64().unwrap_or(f64::NAN),
                y.as_f64().unwrap_or(f64::NAN),
            );
            // Subnormals (below f64::MIN_POSITIVE) carry fewer significant bits, so their
            // round trip is compared in absolute terms.
            x == y
                || (x - y).abs() <= f64::EPSILON * 4.0 * x.abs().max(y.abs())
                || (x.abs().max(y.abs()) < f64::MIN_POSITIVE && (x - y).abs() <= 1e-320)
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

fn write(event: &Event) -> Vec<u8> {
    let refs: Vec<&Breadcrumb> = event.breadcrumbs.iter().collect();
    let mut out = Vec::new();
    write_event(&mut out, event, &refs, &Defaults::default()).expect("JSON values always write");
    out
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn trace_headers_never_panic_and_print_what_they_read(s in header_like()) {
        if let Some(h) = SentryTrace::parse(&s) {
            prop_assert_eq!(SentryTrace::parse(&h.to_string()), Some(h));
        }
        if let Some(h) = TraceParent::parse(&s) {
            prop_assert_eq!(TraceParent::parse(&h.to_string()), Some(h));
        }
        let _ = sentry_baggage(&s);
    }

    #[test]
    fn written_trace_headers_parse_back(
        trace in 1u128..,
        span in 1u64..,
        sampled in proptest::option::of(any::<bool>()),
    ) {
        let h = SentryTrace { trace_id: TraceId(trace), span_id: SpanId(span), sampled };
        prop_assert_eq!(SentryTrace::parse(&h.to_string()), Some(h));
        let p = TraceParent { trace_id: TraceId(trace), span_id: SpanId(span), sampled: sampled.unwrap_or(false) };
        prop_assert_eq!(TraceParent::parse(&p.to_string()), Some(p));
    }

    #[test]
    fn written_baggage_parses_back(
        entries in proptest::collection::btree_map("[a-z_]{1,12}", tricky_string(), 0..8),
        existing in proptest::option::of(".{0,40}"),
    ) {
        let ours: Vec<(String, String)> = entries.into_iter().collect();
        let value = baggage_value(existing.as_deref(), &ours);
        prop_assert!(value.len() <= crate::propagation::MAX_BAGGAGE_BYTES);
        // Other vendors' entries are kept as they came, ours come back exactly (keys and
        // values encoded and decoded).
        prop_assert_eq!(sentry_baggage(&value), ours);
    }

    #[test]
    fn baggage_never_panics_on_arbitrary_or_huge_input(
        s in prop_oneof![
            ".{0,200}",
            "(sentry-[a-z]{0,4}=[%0-9a-fA-F+ ]{0,6}[,;]?){0,30}",
            (".{0,4}", 8000usize..9000).prop_map(|(s, n)| s.repeat(n / s.len().max(1))),
        ]
    ) {
        let entries = sentry_baggage(&s);
        prop_assert!(entries.len() <= crate::propagation::MAX_BAGGAGE_ENTRIES);
        let _ = baggage_value(Some(&s), &entries);
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn events_serialise_to_json_that_parses_back(
        message in proptest::option::of(tricky_string()),
        tags in proptest::collection::btree_map(tricky_string(), tricky_string(), 0..6),
        extra in proptest::collection::btree_map(tricky_string(), json_value(6), 0..6),
        fingerprint in proptest::collection::vec(tricky_string(), 0..4),
        crumbs in proptest::collection::vec((tricky_string(), json_value(3)), 0..4),
    ) {
        let mut event = Event {
            message: message.clone(),
            tags: tags.clone(),
            extra: extra.clone(),
            fingerprint: fingerprint.clone(),
            ..Event::default()
        };
        for (text, data) in &crumbs {
            let mut crumb = Breadcrumb { message: Some(text.clone()), ..Breadcrumb::default() };
            crumb.data.insert(text.clone(), data.clone());
            event.breadcrumbs.push(crumb);
        }
        let out = write(&event);
        // Byte for byte what serde_json writes, and valid JSON that reads back the same.
        prop_assert_eq!(&out, &serde_json::to_vec(&event).expect("serde_json writes it"));
        let back: Value = serde_json::from_slice(&out).expect("valid JSON");
        prop_assert_eq!(back.get("logentry").map(|l| &l["formatted"]).and_then(Value::as_str), message.as_deref());
        for (k, v) in &tags {
            prop_assert_eq!(back["tags"][k].as_str(), Some(v.as_str()));
        }
        for (k, v) in &extra {
            prop_assert!(same(&back["extra"][k], v), "{:?} != {:?}", back["extra"][k], v);
        }
    }
}

proptest! {
    // Each case writes up to a MiB: fewer of them.
    #![proptest_config(config(32))]

    #[test]
    fn huge_strings_and_deep_values_serialise(
        len in 0usize..(1 << 20),
        c in any::<char>(),
        depth in 0usize..100,
    ) {
        let mut event = Event {
            message: Some(c.to_string().repeat(len / c.len_utf8())),
            ..Event::default()
        };
        event.extra.insert("deep".to_owned(), nest(Value::from(f64::NAN), depth));
        let out = write(&event);
        let back: Value = serde_json::from_slice(&out).expect("valid JSON");
        prop_assert_eq!(back["logentry"]["formatted"].as_str().map(str::len), Some(len / c.len_utf8() * c.len_utf8()));
        // NaN has no JSON form: it is written as null.
        prop_assert_eq!(&back["extra"]["deep"], &nest(Value::Null, depth));
    }
}

#[test]
fn non_finite_floats_in_extra_are_written_as_null() {
    let mut event = Event::default();
    for (k, f) in [
        ("nan", f64::NAN),
        ("inf", f64::INFINITY),
        ("ninf", f64::NEG_INFINITY),
    ] {
        event.extra.insert(k.to_owned(), Value::from(f));
        event
            .extra
            .insert(format!("{k}_in_array"), serde_json::json!([f, 1.5]));
    }
    let back: Value = serde_json::from_slice(&write(&event)).unwrap();
    for k in ["nan", "inf", "ninf"] {
        assert_eq!(back["extra"][k], Value::Null, "{k}");
        assert_eq!(
            back["extra"][format!("{k}_in_array")],
            serde_json::json!([null, 1.5])
        );
    }
}
