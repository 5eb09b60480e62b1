//! Client-report counts a closed transport could not send, handed to the next one.
//!
//! A transport counts what `close` drops (its queue when the wait runs out, deliveries given
//! up), but once closed it sends nothing more: those counts would be lost. When its worker
//! ends it therefore leaves them here (or, with the offline cache on, writes them to the cache
//! as a `client_report` envelope, which outlives the process); the next transport started for
//! the same DSN (a re-`init`) takes them and sends them with its own.
//!
//! Bounded: one entry per DSN, at most [`MAX_DSNS`] of them (the oldest goes), each at most
//! one count per reason and category.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::client_report::{ClientReports, DiscardReason};
use crate::dsn::Dsn;
use crate::sync::Mutex;
use crate::DataCategory;

/// How many DSNs' counts are kept at most.
const MAX_DSNS: usize = 8;

type Counts = Vec<(DiscardReason, DataCategory, u64)>;

static LEFT_BEHIND: Mutex<Vec<(String, Counts)>> = Mutex::new(Vec::new());
/// Whether `LEFT_BEHIND` may hold anything: lets `take_into`, called before every delivery,
/// skip the lock. Relaxed: counts left a moment ago are picked up by the next delivery.
static ANY: AtomicBool = AtomicBool::new(false);

/// Leaves what `reports` still counts for the next transport of `dsn`.
pub(super) fn leave(dsn: &Dsn, reports: &ClientReports) {
    let counts = reports.take();
    if counts.is_empty() {
        return;
    }
    add(&mut LEFT_BEHIND.lock(), &dsn.to_string(), counts);
    ANY.store(true, Ordering::Relaxed);
}

/// Adds `counts` to `dsn`'s entry in `all`, making room if needed.
fn add(all: &mut Vec<(String, Counts)>, dsn: &str, counts: Counts) {
    match all.iter_mut().find(|(key, _)| key == dsn) {
        Some((_, kept)) => {
            for (reason, category, n) in counts {
                match kept
                    .iter_mut()
                    .find(|(r, c, _)| *r == reason && *c == category)
                {
                    Some((_, _, m)) => *m = m.saturating_add(n),
                    None => kept.push((reason, category, n)),
                }
            }
        }
        None => {
            if all.len() == MAX_DSNS {
                all.remove(0);
            }
            all.push((dsn.to_owned(), counts));
        }
    }
}

/// Adds the counts left for `dsn`, if any, to `reports` (and forgets them). Called when a
/// transport starts and before each of its deliveries: the closed transport's worker may end
/// after the next one has started.
pub(super) fn take_into(dsn: &Dsn, reports: &ClientReports) {
    if !ANY.load(Ordering::Relaxed) {
        return;
    }
    let dsn = dsn.to_string();
    let counts = {
        let mut all = LEFT_BEHIND.lock();
        if all.is_empty() {
            ANY.store(false, Ordering::Relaxed);
        }
        match all.iter().position(|(key, _)| *key == dsn) {
            Some(i) => all.remove(i).1,
            None => return,
        }
    };
    for (reason, category, n) in counts {
        reports.record(reason, category, n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_go_to_the_next_transport_of_the_same_dsn_once() {
        let dsn: Dsn = "http://k@left-behind.test/1".parse().unwrap();
        let dsn = &dsn;
        let closed = ClientReports::new(true);
        closed.record(DiscardReason::QueueOverflow, DataCategory::Error, 3);
        leave(dsn, &closed);
        closed.record(DiscardReason::QueueOverflow, DataCategory::Error, 2);
        leave(dsn, &closed);
        assert!(closed.take().is_empty(), "taken from the closed one");

        let other = ClientReports::new(true);
        take_into(&"http://k@another.test/1".parse().unwrap(), &other);
        assert!(other.take().is_empty(), "not another DSN's");

        let next = ClientReports::new(true);
        take_into(dsn, &next);
        assert_eq!(
            next.take(),
            vec![(DiscardReason::QueueOverflow, DataCategory::Error, 5)]
        );
        take_into(dsn, &next);
        assert!(next.take().is_empty(), "only once");
    }

    #[test]
    fn bounded_by_dsn_keeping_the_newest() {
        // On a list of its own: the process-wide one is shared with the other tests.
        let mut all = Vec::new();
        for i in 0..MAX_DSNS + 3 {
            let counts = vec![(DiscardReason::SendError, DataCategory::Error, 1)];
            add(&mut all, &format!("http://k@bound-{i}.test/1"), counts);
        }
        assert_eq!(all.len(), MAX_DSNS);
        assert_eq!(
            all[MAX_DSNS - 1].0,
            format!("http://k@bound-{}.test/1", MAX_DSNS + 2)
        );
    }
}
