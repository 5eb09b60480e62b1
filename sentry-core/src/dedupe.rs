//! Default dedupe: one error *value* that reaches the SDK through two paths (a
//! `tracing::error!` with the error, then a `capture_exception` of it) is sent once. A new
//! occurrence of an equal error (a handler that fails the same way on every request, a panic in
//! a loop) is always sent: counting occurrences is what the server is for.
//!
//! Rust has no object identity to compare, as the Python SDK does; the nearest is a sighting:
//! - the address of the error value (a borrowed error, or the heap allocation behind a
//!   `Box<dyn Error>` / `anyhow::Error`, which stays put when the handle moves),
//! - a hash of its chain's messages, so that a new error built at a reused address
//!   (a loop's stack slot, a freed allocation) is told apart when it differs,
//! - the isolation scope it was reported in (its trace id): two requests or tasks handled one
//!   after the other on a thread never share a report, even when an error sits at a reused
//!   address with the same message;
//! - and the capture site (a hash of the caller's stack): the same value reported again from
//!   a site that already reported it is a new occurrence (a loop capturing at one site), while
//!   a site that has not reported it yet is a second path.
//!
//! An error of a zero-sized type has no address of its own (every value of it is at the same
//! one): it is never taken for a second report.
//!
//! The state is per thread and read on the caller's thread only: no lock, no allocation. Panics
//! never come through here. Merging repeats over time is the opt-in `dedupe_window`.

use std::cell::Cell;
use std::hash::{Hash, Hasher};

use crate::protocol::Exception;

/// How many distinct capture sites of one error value are remembered.
const SITES: usize = 4;

/// One error value as seen by a capture.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Sighting {
    address: usize,
    chain: u64,
    /// The isolation scope's trace id (0 if it has none).
    scope: u128,
}

impl Sighting {
    /// The sighting of `error`, whose chain was turned into `exceptions`, in the isolation
    /// scope in force; `None` for an error without an address of its own (zero-sized).
    pub(crate) fn new(
        error: &(dyn std::error::Error + 'static),
        exceptions: &[Exception],
    ) -> Option<Self> {
        if std::mem::size_of_val(error) == 0 {
            return None;
        }
        Some(Sighting {
            address: error as *const dyn std::error::Error as *const () as usize,
            chain: chain_hash(exceptions),
            scope: crate::scope::stack::isolation_trace_id().map_or(0, |t| t.0),
        })
    }

    /// Whether `exceptions` is the chain this sighting was taken of.
    pub(crate) fn is_of(&self, exceptions: &[Exception]) -> bool {
        self.chain == chain_hash(exceptions)
    }
}

/// The last error value captured on this thread and the sites that reported it.
#[derive(Clone, Copy)]
struct Last {
    sighting: Sighting,
    sites: [u64; SITES],
    len: usize,
}

thread_local! {
    static LAST: Cell<Option<Last>> = const { Cell::new(None) };
    /// A sighting taken by `event_from_error`, for the `capture_event_with_stack` that an
    /// integration calls with that event next on this thread.
    static PENDING: Cell<Option<Sighting>> = const { Cell::new(None) };
}

/// Whether `sighting`, captured at `site`, is a second report of the error value the previous
/// error capture on this thread reported (and so is dropped). Records it either way.
pub(crate) fn is_second_report(sighting: Sighting, site: u64) -> bool {
    LAST.with(|last| {
        let mut state = match last.get() {
            Some(state) if state.sighting == sighting => state,
            _ => {
                last.set(Some(Last {
                    sighting,
                    sites: [site, 0, 0, 0],
                    len: 1,
                }));
                return false;
            }
        };
        let known = &state.sites[..state.len];
        if known.contains(&site) {
            // Reported from this site before: the site ran again, a new occurrence.
            state.sites = [site, 0, 0, 0];
            state.len = 1;
            last.set(Some(state));
            return false;
        }
        if state.len < SITES {
            state.sites[state.len] = site;
            state.len += 1;
        } else {
            state.sites.rotate_left(1);
            state.sites[SITES - 1] = site;
        }
        last.set(Some(state));
        true
    })
}

/// Keeps `sighting` for the next [`take_pending`] on this thread.
pub(crate) fn set_pending(sighting: Sighting) {
    PENDING.with(|p| p.set(Some(sighting)));
}

/// The sighting left by `event_from_error` if it is of `exceptions`.
pub(crate) fn take_pending(exceptions: &[Exception]) -> Option<Sighting> {
    PENDING
        .with(Cell::take)
        .filter(|sighting| sighting.is_of(exceptions))
}

/// A hash of the capture site: the caller's stack.
pub(crate) fn site_of(ips: &[usize]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    ips.hash(&mut h);
    h.finish()
}

fn chain_hash(exceptions: &[Exception]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    // Messages only: the paths name a type differently (a static type name, or a guess
    // from `Debug` for a `dyn Error`).
    for e in exceptions {
        e.value.hash(&mut h);
    }
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sighting(address: usize, value: &str) -> Sighting {
        let exceptions = [Exception {
            ty: "E".into(),
            value: Some(value.into()),
            ..Default::default()
        }];
        Sighting {
            address,
            chain: chain_hash(&exceptions),
            scope: 1,
        }
    }

    #[test]
    fn a_second_path_is_dropped_a_second_occurrence_is_not() {
        let a = sighting(0x1000, "boom");
        assert!(!is_second_report(a, 1), "first report");
        assert!(
            is_second_report(a, 2),
            "same value, another site: a second path"
        );
        assert!(!is_second_report(a, 1), "site 1 again: the loop came round");
        assert!(is_second_report(a, 2));
        assert!(!is_second_report(a, 1));
        // Same address, other content: a new error in a reused slot.
        assert!(!is_second_report(sighting(0x1000, "other"), 2));
        // Same content, other address: another value.
        assert!(!is_second_report(sighting(0x2000, "other"), 3));
    }

    #[test]
    fn one_site_in_a_loop_reports_every_time() {
        let a = sighting(0x3000, "same");
        for _ in 0..10 {
            assert!(!is_second_report(a, 7));
        }
    }

    #[test]
    fn pending_sightings_match_their_own_chain_only() {
        let e = std::io::Error::other("x");
        let chain = [Exception {
            ty: "io::Error".into(),
            value: Some("x".into()),
            ..Default::default()
        }];
        set_pending(Sighting::new(&e, &chain).unwrap());
        assert!(take_pending(&[]).is_none(), "another chain");
        assert!(take_pending(&chain).is_none(), "taken once");
        set_pending(Sighting::new(&e, &chain).unwrap());
        assert!(take_pending(&chain).is_some());
    }

    #[test]
    fn zero_sized_errors_and_other_scopes_are_never_second_reports() {
        #[derive(Debug)]
        struct NotFound;
        impl std::fmt::Display for NotFound {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("not found")
            }
        }
        impl std::error::Error for NotFound {}
        assert!(Sighting::new(&NotFound, &[]).is_none(), "no identity");
        let a = sighting(0x4000, "same");
        let other_scope = Sighting { scope: 2, ..a };
        assert!(!is_second_report(a, 1));
        assert!(!is_second_report(other_scope, 2), "another request's scope");
    }
}
