//! Finished request sessions counted per minute (request mode), until they are sent as one
//! `sessions` item.
//!
//! Bounded: at most `MAX_BUCKETS` minutes are kept; a full store asks to be sent.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::SessionStatus;

/// Minutes kept at most before they must be sent (also the most one item holds: Relay takes
/// 100 aggregates per item).
pub(crate) const MAX_BUCKETS: usize = 100;

/// How many sessions that started in one minute ended each way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    pub(crate) exited: u64,
    pub(crate) errored: u64,
    pub(crate) crashed: u64,
    pub(crate) abnormal: u64,
}

/// The counts per minute (by the session's start, rounded down).
#[derive(Debug, Default)]
pub(crate) struct Aggregates {
    buckets: BTreeMap<u64, Counts>,
}

impl Aggregates {
    /// Counts one session that started at `started` and ended as `status`; true when the
    /// store is full and should be sent now.
    pub(crate) fn add(&mut self, started: SystemTime, status: SessionStatus) -> bool {
        let secs = started
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
            .as_secs();
        let counts = self.buckets.entry(secs - secs % 60).or_default();
        match status {
            SessionStatus::Crashed => counts.crashed += 1,
            SessionStatus::Errored => counts.errored += 1,
            SessionStatus::Abnormal => counts.abnormal += 1,
            SessionStatus::Ok | SessionStatus::Exited => counts.exited += 1,
        }
        self.buckets.len() >= MAX_BUCKETS
    }

    /// Empties the store: each minute's start and counts, oldest first.
    pub(crate) fn take(&mut self) -> Vec<(SystemTime, Counts)> {
        std::mem::take(&mut self.buckets)
            .into_iter()
            .map(|(minute, counts)| (UNIX_EPOCH + Duration::from_secs(minute), counts))
            .collect()
    }

    /// The sum over every minute (tests).
    #[cfg(test)]
    pub(crate) fn total(&self) -> Counts {
        self.buckets
            .values()
            .fold(Counts::default(), |a, c| Counts {
                exited: a.exited + c.exited,
                errored: a.errored + c.errored,
                crashed: a.crashed + c.crashed,
                abnormal: a.abnormal + c.abnormal,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucketed_by_the_minute_they_started() {
        let mut a = Aggregates::default();
        let t = UNIX_EPOCH + Duration::from_secs(1_800_000_000 + 59);
        a.add(t, SessionStatus::Exited);
        a.add(t - Duration::from_secs(10), SessionStatus::Errored);
        a.add(t + Duration::from_secs(1), SessionStatus::Crashed);
        let taken = a.take();
        assert_eq!(taken.len(), 2);
        assert_eq!(taken[0].1.exited + taken[0].1.errored, 2);
        assert_eq!(taken[1].1.crashed, 1);
        assert_eq!(
            taken[1].0.duration_since(UNIX_EPOCH).unwrap().as_secs() % 60,
            0
        );
        assert!(a.take().is_empty());
    }

    #[test]
    fn a_full_store_asks_to_be_sent() {
        let mut a = Aggregates::default();
        let mut full = false;
        for minute in 0..MAX_BUCKETS as u64 {
            full = a.add(
                UNIX_EPOCH + Duration::from_secs(1_800_000_000 + minute * 60),
                SessionStatus::Exited,
            );
        }
        assert!(full);
    }
}
