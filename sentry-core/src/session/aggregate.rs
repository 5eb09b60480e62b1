//! Finished request sessions counted per minute (request mode), until they are sent as
//! `sessions` items.
//!
//! Most requests end in the minute the last one ended in: [`CurrentMinute`] counts those with
//! one atomic add and no lock. A request of another minute takes the lock: an older one is
//! counted in [`Aggregates`] directly, a newer one moves the current minute's counts there and
//! makes its minute the current one. A request counted while the minute turns over may land
//! in the next minute's count: never lost, never counted twice.
//!
//! Bounded: at most `MAX_MINUTES` minutes are kept (the worker sends them every 60 s; with a
//! transport that never asks, later minutes are counted in the newest one kept).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::SessionStatus;

/// Minutes kept at most before they are sent.
const MAX_MINUTES: usize = 1440;
/// `CurrentMinute::minute` before the first request.
const NO_MINUTE: u64 = u64::MAX;

/// The minute (since the epoch) that `t` falls in.
pub(crate) fn minute_of(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs()
        / 60
}

/// How many sessions that started in one minute ended each way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    pub(crate) exited: u64,
    pub(crate) errored: u64,
    pub(crate) crashed: u64,
    pub(crate) abnormal: u64,
}

impl Counts {
    fn add(&mut self, other: Counts) {
        self.exited += other.exited;
        self.errored += other.errored;
        self.crashed += other.crashed;
        self.abnormal += other.abnormal;
    }

    fn is_empty(&self) -> bool {
        *self == Counts::default()
    }
}

/// The counts per minute, under the sessions' lock.
#[derive(Debug, Default)]
pub(crate) struct Aggregates {
    buckets: BTreeMap<u64, Counts>,
}

impl Aggregates {
    /// Adds `counts` to `minute`.
    pub(crate) fn add(&mut self, minute: u64, counts: Counts) {
        if counts.is_empty() {
            return;
        }
        let minute = match self.buckets.len() >= MAX_MINUTES && !self.buckets.contains_key(&minute)
        {
            // Full: counted in the newest minute kept rather than grown or lost.
            true => *self.buckets.keys().next_back().unwrap_or(&minute),
            false => minute,
        };
        self.buckets.entry(minute).or_default().add(counts);
    }

    /// Empties the store: each minute's start and counts, oldest first.
    pub(crate) fn take(&mut self) -> Vec<(SystemTime, Counts)> {
        std::mem::take(&mut self.buckets)
            .into_iter()
            .map(|(minute, counts)| (UNIX_EPOCH + Duration::from_secs(minute * 60), counts))
            .collect()
    }

    /// The sum over every minute (tests).
    #[cfg(test)]
    pub(crate) fn total(&self) -> Counts {
        let mut sum = Counts::default();
        self.buckets.values().for_each(|c| sum.add(*c));
        sum
    }
}

/// The counts of the current minute, updated without a lock.
#[derive(Debug)]
pub(crate) struct CurrentMinute {
    minute: AtomicU64,
    exited: AtomicU64,
    errored: AtomicU64,
    crashed: AtomicU64,
    abnormal: AtomicU64,
}

impl Default for CurrentMinute {
    fn default() -> Self {
        CurrentMinute {
            minute: AtomicU64::new(NO_MINUTE),
            exited: AtomicU64::new(0),
            errored: AtomicU64::new(0),
            crashed: AtomicU64::new(0),
            abnormal: AtomicU64::new(0),
        }
    }
}

impl CurrentMinute {
    fn counter(&self, status: SessionStatus) -> &AtomicU64 {
        match status {
            SessionStatus::Crashed => &self.crashed,
            SessionStatus::Errored => &self.errored,
            SessionStatus::Abnormal => &self.abnormal,
            SessionStatus::Ok | SessionStatus::Exited => &self.exited,
        }
    }

    /// Counts a session of `minute` if it is the current one (no lock); false otherwise.
    pub(crate) fn try_count(&self, minute: u64, status: SessionStatus) -> bool {
        if self.minute.load(Ordering::Acquire) != minute {
            return false;
        }
        self.counter(status).fetch_add(1, Ordering::Relaxed);
        true
    }

    /// Under the lock: counts a session of a minute that is not the current one. A newer
    /// minute becomes the current one (the old one's counts move to `store`); an older one is
    /// counted in `store`.
    pub(crate) fn count_other(&self, store: &mut Aggregates, minute: u64, status: SessionStatus) {
        let current = self.minute.load(Ordering::Acquire);
        if current != NO_MINUTE && minute < current {
            let mut one = Counts::default();
            match status {
                SessionStatus::Crashed => one.crashed = 1,
                SessionStatus::Errored => one.errored = 1,
                SessionStatus::Abnormal => one.abnormal = 1,
                SessionStatus::Ok | SessionStatus::Exited => one.exited = 1,
            }
            store.add(minute, one);
            return;
        }
        self.drain_into(store);
        self.minute.store(minute, Ordering::Release);
        self.counter(status).fetch_add(1, Ordering::Relaxed);
    }

    /// Under the lock: moves the current minute's counts into `store` (the minute stays).
    pub(crate) fn drain_into(&self, store: &mut Aggregates) {
        let minute = self.minute.load(Ordering::Acquire);
        if minute == NO_MINUTE {
            return;
        }
        let counts = Counts {
            exited: self.exited.swap(0, Ordering::Relaxed),
            errored: self.errored.swap(0, Ordering::Relaxed),
            crashed: self.crashed.swap(0, Ordering::Relaxed),
            abnormal: self.abnormal.swap(0, Ordering::Relaxed),
        };
        store.add(minute, counts);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: u64 = 30_000_000;

    fn count(current: &CurrentMinute, store: &mut Aggregates, minute: u64, status: SessionStatus) {
        if !current.try_count(minute, status) {
            current.count_other(store, minute, status);
        }
    }

    #[test]
    fn counted_by_the_minute_they_started() {
        let (current, mut store) = (CurrentMinute::default(), Aggregates::default());
        count(&current, &mut store, M, SessionStatus::Exited);
        count(&current, &mut store, M, SessionStatus::Errored);
        count(&current, &mut store, M + 1, SessionStatus::Crashed);
        // A late request of the earlier minute.
        count(&current, &mut store, M, SessionStatus::Exited);
        current.drain_into(&mut store);
        let taken = store.take();
        assert_eq!(taken.len(), 2);
        assert_eq!(
            taken[0].1,
            Counts {
                exited: 2,
                errored: 1,
                ..Default::default()
            }
        );
        assert_eq!(taken[1].1.crashed, 1);
        assert_eq!(minute_of(taken[1].0), M + 1);
        assert!(store.take().is_empty());
        // Drained: nothing is counted twice.
        current.drain_into(&mut store);
        assert!(store.take().is_empty());
    }

    #[test]
    fn the_store_is_bounded() {
        let mut store = Aggregates::default();
        let one = Counts {
            exited: 1,
            ..Default::default()
        };
        for minute in 0..(MAX_MINUTES as u64 + 10) {
            store.add(M + minute, one);
        }
        let taken = store.take();
        assert_eq!(taken.len(), MAX_MINUTES);
        assert_eq!(
            taken.iter().map(|(_, c)| c.exited).sum::<u64>(),
            MAX_MINUTES as u64 + 10
        );
    }
}
