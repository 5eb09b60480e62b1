//! The OpenTelemetry spans this process is recording for Sentry: OpenTelemetry span id ->
//! our transaction or span, from `on_start` to `on_end`.
//!
//! # Invariants and costs
//! - Bounded: at most `SHARDS * PER_SHARD` (16,384) spans are open at once. A span that is
//!   never ended (leaked by the program) stays until its shard is full; then the oldest entry
//!   of that shard is evicted, which finishes it (our span's last handle is dropped) and sends
//!   its transaction if it was the root's last handle.
//! - Sharded by span id (random, so the shards fill evenly); a shard's lock is held only for
//!   one map operation, never across user code or I/O, and evicted spans are dropped after it
//!   is released (dropping one may queue a transaction).
//! - Process-wide, so that the current-span fallback (a plain `fn`) can read it; span ids are
//!   unique across tracer providers anyway.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use once_cell::sync::Lazy;
use sentry_sdk_core::__private::Mutex;
use sentry_sdk_core::performance::{Span, Transaction};
use sentry_sdk_core::protocol::SpanId;

const SHARDS: usize = 16;
const PER_SHARD: usize = 1024;

/// An OpenTelemetry span Sentry knows: the root of a local trace (a transaction), a child, or
/// a span of a trace Sentry's sampling left out (kept so that its children are left out too,
/// and its outgoing requests say so).
#[derive(Clone)]
pub(super) enum Tracked {
    Transaction(Transaction),
    Span(Span),
    Unsampled,
}

impl Tracked {
    /// Our span (a no-op one for an unsampled trace).
    pub(super) fn span(&self) -> Span {
        match self {
            Tracked::Transaction(t) => t.as_span(),
            Tracked::Span(s) => s.clone(),
            Tracked::Unsampled => Span::noop(),
        }
    }
}

struct Entry {
    tracked: Tracked,
    /// Insertion order within the shard: the smallest is evicted first.
    seq: u64,
}

#[derive(Default)]
struct Shard {
    map: HashMap<u64, Entry, BuildHasherDefault<IdHasher>>,
    next_seq: u64,
}

/// Span ids are random: their own bits are a good hash.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) | u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

static SPANS: Lazy<[Mutex<Shard>; SHARDS]> =
    Lazy::new(|| std::array::from_fn(|_| Mutex::new(Shard::default())));

fn shard(id: SpanId) -> &'static Mutex<Shard> {
    // The high bits pick the shard; the map hashes with all of them.
    &SPANS[(id.0 >> 60) as usize % SHARDS]
}

/// Records `tracked` as the span `id`, evicting the shard's oldest span if it is full.
pub(super) fn insert(id: SpanId, tracked: Tracked) {
    let evicted = {
        let mut shard = shard(id).lock();
        let evicted = if shard.map.len() >= PER_SHARD {
            let oldest = shard
                .map
                .iter()
                .min_by_key(|(_, e)| e.seq)
                .map(|(id, _)| *id);
            oldest.and_then(|oldest| shard.map.remove(&oldest))
        } else {
            None
        };
        let seq = shard.next_seq;
        shard.next_seq += 1;
        shard.map.insert(id.0, Entry { tracked, seq });
        evicted
    };
    // Outside the lock: dropping it may finish the span and queue its transaction.
    drop(evicted);
}

/// The span `id`, if it is being recorded.
pub(super) fn get(id: SpanId) -> Option<Tracked> {
    shard(id).lock().map.get(&id.0).map(|e| e.tracked.clone())
}

/// Takes the span `id` out (when OpenTelemetry ends it).
pub(super) fn remove(id: SpanId) -> Option<Tracked> {
    let removed = shard(id).lock().map.remove(&id.0);
    removed.map(|e| e.tracked)
}

/// How many spans are open (tests).
#[cfg(test)]
pub(super) fn open() -> usize {
    SPANS.iter().map(|s| s.lock().map.len()).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_shard_evicts_its_oldest_span() {
        // Ids that all fall in one shard (the high bits pick it).
        let base = 0xE000_0000_0000_0000u64;
        for n in 0..(PER_SHARD as u64 + 5) {
            insert(SpanId(base + n), Tracked::Span(Span::noop()));
        }
        assert!(get(SpanId(base)).is_none(), "the oldest went first");
        assert!(get(SpanId(base + 4)).is_none());
        assert!(get(SpanId(base + 5)).is_some());
        assert!(open() <= SHARDS * PER_SHARD);
        for n in 0..(PER_SHARD as u64 + 5) {
            remove(SpanId(base + n));
        }
    }
}
