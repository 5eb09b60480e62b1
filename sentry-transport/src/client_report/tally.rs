//! The counters behind [`ClientReports`](super::ClientReports), alone so that a model checker
//! can run them: one counter per slot and a "something was recorded" flag that lets a drain
//! skip the scan. Recording and draining race freely (callers record on their threads, the
//! worker drains); every recorded count is drained exactly once. The `loom` model in this
//! module's tests checks that over every interleaving of two recorders and two drains.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// A counter: `std`'s `AtomicU64` in the SDK, `loom`'s in the model.
pub(super) trait Counter {
    fn new_zero() -> Self;
    fn add(&self, n: u64);
    fn take(&self) -> u64;
}

/// The "recorded since the last drain" flag.
pub(super) trait Flag {
    fn new_clear() -> Self;
    fn set(&self);
    /// Clears the flag; true if it was set.
    fn clear(&self) -> bool;
    fn is_set(&self) -> bool;
}

/// The flag is set with `Release` after the count is added and cleared with `Acquire` before
/// the counts are taken: a drain that clears a recorder's set then sees that recorder's count.
/// Set by a swap rather than a store: `loom` lets an RMW read a value older than a store that
/// happened before it (a false "lost count" in the model), and a swap costs a recorder
/// (a drop, already off the fast path) next to nothing more.
const SET: Ordering = Ordering::Release;
const CLEAR: Ordering = Ordering::Acquire;

/// Implements [`Counter`] and [`Flag`] for a pair of atomic types with one body: `std`'s here,
/// `loom`'s in the model, which so runs exactly the SDK's operations and orderings.
macro_rules! tally_atomics {
    ($u64:ty, $bool:ty) => {
        impl Counter for $u64 {
            fn new_zero() -> Self {
                <$u64>::new(0)
            }
            fn add(&self, n: u64) {
                self.fetch_add(n, Ordering::Relaxed);
            }
            fn take(&self) -> u64 {
                self.swap(0, Ordering::Relaxed)
            }
        }

        impl Flag for $bool {
            fn new_clear() -> Self {
                <$bool>::new(false)
            }
            fn set(&self) {
                self.swap(true, SET);
            }
            fn clear(&self) -> bool {
                self.swap(false, CLEAR)
            }
            fn is_set(&self) -> bool {
                self.load(Ordering::Relaxed)
            }
        }
    };
}

tally_atomics!(AtomicU64, AtomicBool);

/// `slots` counters and their flag.
#[derive(Debug)]
pub(super) struct Tally<C = AtomicU64, F = AtomicBool> {
    counts: Vec<C>,
    dirty: F,
}

impl<C: Counter, F: Flag> Tally<C, F> {
    pub(super) fn new(slots: usize) -> Self {
        Tally {
            counts: (0..slots).map(|_| C::new_zero()).collect(),
            dirty: F::new_clear(),
        }
    }

    /// Adds `n` to `slot`.
    pub(super) fn record(&self, slot: usize, n: u64) {
        self.counts[slot].add(n);
        self.dirty.set();
    }

    /// Whether anything may be waiting to be drained.
    pub(super) fn is_dirty(&self) -> bool {
        self.dirty.is_set()
    }

    /// Takes every non-zero count, as `(slot, n)`, in slot order.
    pub(super) fn drain(&self) -> Vec<(usize, u64)> {
        if !self.dirty.clear() {
            return Vec::new();
        }
        self.counts
            .iter()
            .enumerate()
            .filter_map(|(slot, c)| Some((slot, c.take())).filter(|(_, n)| *n > 0))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use loom::sync::atomic::{AtomicBool as LoomBool, AtomicU64 as LoomU64};
    use loom::sync::Arc;
    use loom::thread;

    tally_atomics!(LoomU64, LoomBool);

    /// Two threads record (one into two slots) while the worker drains twice; a last drain
    /// after they are done. Over every interleaving, what the drains took sums to exactly
    /// what was recorded, per slot: nothing lost, nothing counted twice.
    #[test]
    fn every_count_is_drained_exactly_once_in_every_interleaving() {
        loom::model(|| {
            let tally = Arc::new(Tally::<LoomU64, LoomBool>::new(2));
            let recorders: Vec<_> = [(0, 1), (1, 2)]
                .into_iter()
                .map(|(slot, n)| {
                    let tally = tally.clone();
                    thread::spawn(move || {
                        tally.record(slot, n);
                        if slot == 1 {
                            tally.record(0, 4);
                        }
                    })
                })
                .collect();
            let mut taken = [0u64; 2];
            for _ in 0..2 {
                for (slot, n) in tally.drain() {
                    taken[slot] += n;
                }
            }
            for r in recorders {
                r.join().unwrap();
            }
            for (slot, n) in tally.drain() {
                taken[slot] += n;
            }

            assert_eq!(taken, [5, 2]);
        });
    }

    #[test]
    fn the_std_tally_drains_what_was_recorded() {
        let tally = Tally::<AtomicU64, AtomicBool>::new(3);
        assert!(tally.drain().is_empty() && !tally.is_dirty());
        tally.record(2, 7);
        tally.record(0, 1);
        assert!(tally.is_dirty());
        assert_eq!(tally.drain(), vec![(0, 1), (2, 7)]);
        assert!(tally.drain().is_empty());
    }
}
