//! Property tests ("fuzzing") of everything in this crate that reads outside input: the DSN,
//! envelopes, the rate-limit headers and the offline cache's files.
//!
//! Why proptest and not cargo-fuzz: cargo-fuzz needs a nightly toolchain (sanitizer flags) and
//! CI here has only stable; proptest runs on stable as plain `#[test]`s, shrinks a failure to a
//! small input, and keeps the case count (and so the run time) under our control. Each property
//! runs a few hundred cases so the whole set stays well under a minute. Failures found here are
//! kept as plain unit tests next to the fix.

use std::fs;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use proptest::prelude::*;

use crate::cache::{Cache, CacheOptions};
use crate::client_report::{ClientReports, DiscardReason};
use crate::{parse_rate_limits, parse_retry_after, DataCategory, Dsn, Envelope, Item, RateLimits};

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        // Failures are kept as unit tests; no files written next to the sources.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// DSN-shaped strings: mostly well-formed parts, sometimes junk.
fn dsn_like() -> impl Strategy<Value = String> {
    (
        prop_oneof!["https", "http", "HTTPS", "ftp", ""],
        "[a-zA-Z0-9:@%]{0,12}",
        prop_oneof!["[a-z0-9.-]{0,12}", "\\[[0-9a-f:]{0,10}\\]?"],
        prop_oneof![Just(String::new()), ":[0-9]{0,7}", ":[^/]{0,4}"],
        "(/[a-z0-9%]{0,5}){0,3}/?[0-9a-z]{0,5}/?",
        prop_oneof![Just(String::new()), "[?#][ -~]{0,6}"],
    )
        .prop_map(|(scheme, user, host, port, path, tail)| {
            format!("{scheme}://{user}@{host}{port}{path}{tail}")
        })
}

/// Header values the server might send: known category names, numbers of every size and sign,
/// and the separators of the grammar.
fn rate_limit_header() -> impl Strategy<Value = String> {
    let secs = prop_oneof![
        "[0-9]{1,25}",
        "-[0-9]{1,5}",
        Just("NaN".to_owned()),
        Just("inf".to_owned()),
        Just("1e308".to_owned()),
        "[0-9]{1,3}\\.[0-9]{1,3}",
        "[ -~]{0,5}",
    ];
    let cat = prop_oneof![
        proptest::sample::select(DataCategory::ALL.map(DataCategory::as_str).to_vec())
            .prop_map(str::to_owned),
        "[a-z_]{0,8}",
    ];
    let limit = (secs, proptest::collection::vec(cat, 0..6), "[a-z:;]{0,12}")
        .prop_map(|(s, cats, rest)| format!("{s}:{}:{rest}", cats.join(";")));
    prop_oneof![
        proptest::collection::vec(limit, 0..8).prop_map(|l| l.join(",")),
        ".{0,64}",
    ]
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn dsn_parse_never_panics_and_display_round_trips(s in prop_oneof![dsn_like(), ".{0,40}"]) {
        if let Ok(dsn) = s.parse::<Dsn>() {
            // Printing never panics, and what is printed parses back to the same DSN (minus
            // the secret, which is never printed).
            let _ = (format!("{dsn:?}"), dsn.envelope_url(), dsn.auth_header("x/1"));
            let again: Dsn = dsn.to_string().parse().expect("a printed DSN parses");
            prop_assert_eq!(again.to_string(), dsn.to_string());
            prop_assert_eq!(again.host(), dsn.host());
            prop_assert_eq!(again.port(), dsn.port());
            prop_assert_eq!(again.project_id(), dsn.project_id());
            prop_assert_eq!(again.path(), dsn.path());
        }
    }

    #[test]
    fn envelope_parse_never_panics_on_arbitrary_bytes(
        bytes in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..256),
            // Near-misses: a valid header followed by mangled items.
            (proptest::collection::vec(any::<u8>(), 0..64), 0u64..100).prop_map(|(tail, len)| {
                let mut b = format!("{{}}\n{{\"type\":\"event\",\"length\":{len}}}\n").into_bytes();
                b.extend(tail);
                b
            }),
        ]
    ) {
        let _ = Envelope::parse(&bytes);
    }

    #[test]
    fn written_envelopes_parse_back_equal(
        headers in proptest::collection::btree_map("[a-z_]{1,8}", ".{0,12}", 0..4),
        items in proptest::collection::vec(
            (
                "[a-z_]{1,10}",
                proptest::collection::btree_map("[a-z_]{1,8}", ".{0,12}", 0..3),
                proptest::collection::vec(any::<u8>(), 0..64),
                any::<bool>(),
            ),
            0..5,
        )
    ) {
        let mut envelope = Envelope::new();
        for (k, v) in &headers {
            envelope.set_header(k, v.as_str());
        }
        for (ty, item_headers, payload, explicit_length) in items {
            let mut item = Item::new(&ty, payload.clone());
            for (k, v) in item_headers.iter().filter(|(k, _)| !matches!(k.as_str(), "type" | "length")) {
                item = item.with_header(k, v.as_str());
            }
            // An implicit length only carries a payload without newlines.
            if explicit_length || payload.contains(&b'\n') {
                item = item.with_header("length", payload.len());
            }
            envelope.add_item(item);
        }
        let bytes = envelope.to_bytes();
        let parsed = Envelope::parse(&bytes).expect("what we write parses");
        prop_assert_eq!(&parsed, &envelope);
        prop_assert_eq!(parsed.to_bytes(), bytes);
    }

    #[test]
    fn rate_limit_headers_never_panic_or_overflow(header in rate_limit_header(), status in 100u16..600) {
        for (secs, categories) in parse_rate_limits(&header) {
            prop_assert!(secs <= Duration::from_secs(24 * 3600), "capped at a day: {secs:?}");
            prop_assert!(categories.map_or(true, |c| !c.is_empty()));
        }
        let now = Instant::now();
        let mut limits = RateLimits::new();
        limits.update(now, status, Some(&header), Some(&header));
        limits.update(now, 429, None, Some(&header));
        for category in DataCategory::ALL {
            if let Some(until) = limits.limited_until(category, now) {
                prop_assert!(until <= now + Duration::from_secs(24 * 3600));
            }
        }
    }

    #[test]
    fn retry_after_never_panics_on_absurd_values(
        value in prop_oneof![
            ".{0,40}",
            "[0-9]{1,30}(\\.[0-9]{0,5})?",
            // HTTP dates with absurd fields.
            ("[A-Za-z]{3}", "[0-9]{1,3}", "[A-Z][a-z]{2}", "-?[0-9]{1,20}", "[0-9]{1,3}:[0-9]{1,3}:[0-9]{1,3}")
                .prop_map(|(d, day, m, y, t)| format!("{d}, {day} {m} {y} {t} GMT")),
        ],
        now_secs in 0u64..(1 << 40),
    ) {
        let now = UNIX_EPOCH + Duration::from_secs(now_secs);
        let _ = parse_retry_after(&value, now);
        let mut limits = RateLimits::new();
        let at = Instant::now();
        limits.update(at, 429, None, Some(&value));
        let until = limits.limited_until(DataCategory::Error, at).expect("a 429 limits");
        prop_assert!(until <= at + Duration::from_secs(24 * 3600));
        prop_assert!(until >= at + Duration::from_secs(1), "a 429 limits for at least 1 s");
    }
}

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn arbitrary_cache_files_never_panic_and_are_removed_or_delivered(
        files in proptest::collection::vec(
            (
                prop_oneof![
                    // Names the cache would pick up (its own pattern) and names it would not.
                    "[0-9a-f]{32}".prop_map(|id| format!("{:016}-{id}.envelope", now_millis())),
                    // No dots: a young `.tmp` or a live claim is kept on purpose.
                    "[0-9]{0,16}-?[a-z0-9]{0,12}",
                ],
                prop_oneof![
                    proptest::collection::vec(any::<u8>(), 0..128),
                    Just(b"{}\n{\"type\":\"event\"}\n{}".to_vec()),
                ],
            ),
            1..6,
        ),
    ) {
        let dir = std::env::temp_dir().join(format!(
            "sentry-cache-prop-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        let cache = Cache::open(CacheOptions::new(&dir)).expect("cache dir");
        let sub = dir.join(crate::cache::SUBDIR);
        for (name, bytes) in &files {
            if !name.is_empty() && name != "." && name != ".." {
                let _ = fs::write(sub.join(name), bytes);
            }
        }
        let reports = ClientReports::new(true);
        cache.sweep(&reports);
        let mut delivered = 0;
        let mut pending = cache.pending();
        let before = pending.len();
        for path in pending.drain(..) {
            if let Some(claimed) = cache.claim(&path) {
                if let Some((_, claimed)) = cache.read(claimed, &reports) {
                    delivered += 1;
                    claimed.remove();
                }
            }
        }
        // Every file the cache picked up was either read or removed and counted; nothing is
        // left behind for the next start to trip over.
        prop_assert!(cache.pending().is_empty());
        let unreadable: u64 = reports
            .take()
            .into_iter()
            .filter(|(r, _, _)| *r == DiscardReason::InternalSdkError)
            .map(|(_, _, n)| n)
            .sum();
        prop_assert_eq!(delivered as u64 + unreadable, before as u64);
        let left: Vec<_> = fs::read_dir(&sub).map(|d| d.flatten().map(|e| e.file_name()).collect()).unwrap_or_default();
        prop_assert!(left.is_empty(), "left in the cache dir: {left:?}");
        let _ = fs::remove_dir_all(&dir);
    }
}

fn now_millis() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis()
}
