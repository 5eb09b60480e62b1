//! Where breadcrumbs are stored: two persistent (shared-tail) segments, newest first.
//!
//! Forking a scope or taking a snapshot clones two `Arc`s; adding a breadcrumb to a fork
//! allocates one node and never copies the others. New breadcrumbs go into the `recent`
//! segment; when it holds `max`, it becomes the `previous` segment and a new one starts, and
//! the segment before that is freed, a node per push. The newest `max` are always
//! in the two segments, memory stays within `2 * max + 1` nodes, and a push is O(1) with no
//! walk and no copy, whether or not a snapshot shares the list.

use std::sync::Arc;

use crate::protocol::Breadcrumb;

struct Node {
    crumb: Breadcrumb,
    older: Option<Arc<Node>>,
}

/// One chain of nodes, newest first.
#[derive(Clone, Default)]
struct Segment {
    newest: Option<Arc<Node>>,
    len: usize,
}

impl Segment {
    fn same_as(&self, other: &Segment) -> bool {
        self.len == other.len
            && match (&self.newest, &other.newest) {
                (None, None) => true,
                (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                _ => false,
            }
    }

    fn iter(&self) -> impl Iterator<Item = &Breadcrumb> {
        let mut cursor = self.newest.as_deref();
        std::iter::from_fn(move || {
            let node = cursor?;
            cursor = node.older.as_deref();
            Some(&node.crumb)
        })
    }
}

/// A bounded trail of breadcrumbs that clones in O(1).
#[derive(Default)]
pub(crate) struct Breadcrumbs {
    recent: Segment,
    previous: Segment,
    /// The segment before `previous`, freed one node per push. Freeing all of it at once
    /// would overflow the allocator's per-thread cache, so that every later allocation took
    /// its slow path, and would hold a lock (the default isolation scope's) for that long.
    evicted: Option<Arc<Node>>,
}

/// A breadcrumb already in its list node, not yet linked into a list. Building the node
/// where the breadcrumb is made means the ~130-byte breadcrumb is copied once, into the heap;
/// what travels through the scope lookup is a pointer.
pub(crate) struct UnlinkedCrumb(Arc<Node>);

impl UnlinkedCrumb {
    #[inline]
    pub(crate) fn new(crumb: Breadcrumb) -> Self {
        UnlinkedCrumb(Arc::new(Node { crumb, older: None }))
    }
}

impl Breadcrumbs {
    /// Adds one, keeping the newest `max` visible and at most `2 * max + 1` nodes alive.
    pub(crate) fn push(&mut self, crumb: Breadcrumb, max: usize) {
        self.push_unlinked(UnlinkedCrumb::new(crumb), max);
    }

    /// [`Breadcrumbs::push`] for a breadcrumb already in its node.
    pub(crate) fn push_unlinked(&mut self, crumb: UnlinkedCrumb, max: usize) {
        if max == 0 {
            return;
        }
        if self.recent.len >= max {
            // What is left of the last eviction (only when `max` shrank) goes now.
            drop_chain(self.evicted.take());
            let full = std::mem::take(&mut self.recent);
            self.evicted = std::mem::replace(&mut self.previous, full).newest;
        }
        let mut node = crumb.0;
        match Arc::get_mut(&mut node) {
            Some(n) => n.older = self.recent.newest.take(),
            // Never shared before it is linked; were it, link a copy rather than lose it.
            None => {
                node = Arc::new(Node {
                    crumb: node.crumb.clone(),
                    older: self.recent.newest.take(),
                })
            }
        }
        self.recent.newest = Some(node);
        self.recent.len += 1;
        self.free_some_evicted();
    }

    /// Frees one evicted node: a segment of `max` is gone just as the next one is evicted,
    /// `max` pushes later. One per push keeps frees and allocations in step, which is what
    /// the allocator's per-thread cache serves fastest (two per push measured slower).
    fn free_some_evicted(&mut self) {
        let Some(node) = self.evicted.take() else {
            return;
        };
        // Shared with a snapshot: the snapshot frees the rest when it goes. `into_inner` (not
        // `try_unwrap`) so that exactly one of two racing owners gets the node and walks on;
        // the other's drop never frees the chain behind it recursively.
        if let Some(mut owned) = Arc::into_inner(node) {
            self.evicted = owned.older.take();
        }
    }

    pub(crate) fn clear(&mut self) {
        drop_chain(std::mem::take(&mut self.recent).newest);
        drop_chain(std::mem::take(&mut self.previous).newest);
        drop_chain(self.evicted.take());
    }

    /// Whether both are the very same list (no push or clear on either since one was cloned).
    pub(crate) fn same_as(&self, other: &Breadcrumbs) -> bool {
        self.recent.same_as(&other.recent) && self.previous.same_as(&other.previous)
    }

    /// What was pushed onto this list since it was cloned from `base`, oldest first; `None`
    /// if it was cleared or its segments moved on since (then the list is not `base` plus
    /// additions any more).
    pub(crate) fn pushed_since(&self, base: &Breadcrumbs) -> Option<Vec<Breadcrumb>> {
        if !self.previous.same_as(&base.previous) || self.recent.len < base.recent.len {
            return None;
        }
        let added = self.recent.len - base.recent.len;
        let mut cursor = self.recent.newest.as_ref();
        let mut out = Vec::with_capacity(added);
        for _ in 0..added {
            let node = cursor?;
            out.push(node.crumb.clone());
            cursor = node.older.as_ref();
        }
        let reaches_base = match (cursor, &base.recent.newest) {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        };
        if !reaches_base {
            return None;
        }
        out.reverse();
        Some(out)
    }

    /// Breadcrumbs alive in the list (the newest `max` of them are visible).
    pub(crate) fn len(&self) -> usize {
        self.recent.len + self.previous.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Newest first.
    pub(crate) fn iter_newest_first(&self) -> impl Iterator<Item = &Breadcrumb> {
        self.recent.iter().chain(self.previous.iter())
    }

    /// The newest `max`, oldest first.
    pub(crate) fn newest(&self, max: usize) -> Vec<Breadcrumb> {
        let mut out: Vec<Breadcrumb> = self.iter_newest_first().take(max).cloned().collect();
        out.reverse();
        out
    }
}

impl Clone for Breadcrumbs {
    /// Shares the list; what waits to be freed stays with the original.
    fn clone(&self) -> Self {
        Breadcrumbs {
            recent: self.recent.clone(),
            previous: self.previous.clone(),
            evicted: None,
        }
    }
}

impl Drop for Breadcrumbs {
    #[inline]
    fn drop(&mut self) {
        // Snapshots of empty scopes are dropped all the time: only call out for a chain.
        for chain in [
            self.recent.newest.take(),
            self.previous.newest.take(),
            self.evicted.take(),
        ] {
            if chain.is_some() {
                drop_chain(chain);
            }
        }
    }
}

/// Frees a chain without recursing once per node (a long chain would overflow the stack).
fn drop_chain(mut next: Option<Arc<Node>>) {
    while let Some(node) = next {
        match Arc::into_inner(node) {
            Some(mut owned) => next = owned.older.take(),
            // Someone else still shares the rest of the chain; they will free it.
            None => break,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crumb(i: usize) -> Breadcrumb {
        Breadcrumb {
            message: Some(i.to_string()),
            ..Default::default()
        }
    }

    fn messages(b: &Breadcrumbs, max: usize) -> Vec<String> {
        b.newest(max)
            .into_iter()
            .map(|c| c.message.unwrap())
            .collect()
    }

    fn chain_len(mut node: Option<&Arc<Node>>) -> usize {
        let mut n = 0;
        while let Some(next) = node {
            n += 1;
            node = next.older.as_ref();
        }
        n
    }

    fn alive(b: &Breadcrumbs) -> usize {
        chain_len(b.recent.newest.as_ref())
            + chain_len(b.previous.newest.as_ref())
            + chain_len(b.evicted.as_ref())
    }

    #[test]
    fn the_newest_max_are_visible_and_at_most_twice_max_plus_one_alive() {
        for max in [1, 2, 3, 10, 100] {
            let mut b = Breadcrumbs::default();
            for i in 0..2000 {
                b.push(crumb(i), max);
                assert!(
                    alive(&b) <= 2 * max + 1,
                    "max {max}, push {i}: {}",
                    alive(&b)
                );
                assert_eq!(
                    b.len(),
                    chain_len(b.recent.newest.as_ref()) + chain_len(b.previous.newest.as_ref())
                );
                let visible = messages(&b, max);
                assert_eq!(visible.len(), max.min(i + 1));
                let want: Vec<String> =
                    (i + 1 - visible.len()..=i).map(|n| n.to_string()).collect();
                assert_eq!(visible, want, "max {max}, push {i}");
            }
        }
    }

    #[test]
    fn an_evicted_segment_is_freed_one_node_per_push() {
        let mut b = Breadcrumbs::default();
        for i in 0..21 {
            b.push(crumb(i), 10);
        }
        // The 21st push started a third segment: the first (10 nodes) was evicted, 1 freed.
        assert_eq!(chain_len(b.evicted.as_ref()), 9);
        b.push(crumb(21), 10);
        assert_eq!(chain_len(b.evicted.as_ref()), 8);
        // It is gone by the time the next segment is evicted.
        for i in 22..30 {
            b.push(crumb(i), 10);
        }
        assert_eq!(chain_len(b.evicted.as_ref()), 0);
        // A clone shares the visible list but not what waits to be freed.
        assert!(b.clone().evicted.is_none());
    }

    #[test]
    fn evicted_nodes_shared_with_a_snapshot_stay_readable_there() {
        let mut b = Breadcrumbs::default();
        for i in 0..5 {
            b.push(crumb(i), 3);
        }
        let snapshot = b.clone(); // holds 4,3,2,1,0
        for i in 5..20 {
            b.push(crumb(i), 3);
        }
        assert_eq!(messages(&snapshot, 3), ["2", "3", "4"]);
        assert_eq!(messages(&b, 3), ["17", "18", "19"]);
    }

    #[test]
    fn pushed_since_lists_what_a_clone_added() {
        let empty = Breadcrumbs::default();
        let mut a = empty.clone();
        a.push(crumb(1), 10);
        a.push(crumb(2), 10);
        let messages = |v: Vec<Breadcrumb>| -> Vec<String> {
            v.into_iter().map(|c| c.message.unwrap()).collect()
        };
        assert_eq!(messages(a.pushed_since(&empty).unwrap()), ["1", "2"]);
        let base = a.clone();
        assert_eq!(a.pushed_since(&base).unwrap().len(), 0);
        a.push(crumb(3), 10);
        assert_eq!(messages(a.pushed_since(&base).unwrap()), ["3"]);
        a.clear();
        a.push(crumb(4), 10);
        assert!(a.pushed_since(&base).is_none(), "cleared since");
        // Segments moved on: not base plus additions any more.
        let base = a.clone();
        for i in 0..10 {
            a.push(crumb(i), 3);
        }
        assert!(a.pushed_since(&base).is_none());
    }

    #[test]
    fn fork_shares_and_diverges() {
        let mut a = Breadcrumbs::default();
        a.push(crumb(1), 10);
        let mut b = a.clone();
        b.push(crumb(2), 10);
        a.push(crumb(3), 10);
        assert_eq!(messages(&a, 10), ["1", "3"]);
        assert_eq!(messages(&b, 10), ["1", "2"]);
        assert!(!a.same_as(&b));
        let c = a.clone();
        assert!(a.same_as(&c));
    }

    #[test]
    fn pushing_while_a_snapshot_is_alive_copies_nothing_and_leaves_it_intact() {
        let mut b = Breadcrumbs::default();
        for i in 0..5 {
            b.push(crumb(i), 3);
        }
        let snapshot = b.clone();
        let held = snapshot.recent.newest.clone().unwrap();
        for i in 5..7 {
            b.push(crumb(i), 3);
        }
        assert_eq!(messages(&b, 3), ["4", "5", "6"]);
        assert_eq!(messages(&snapshot, 3), ["2", "3", "4"]);
        // The node the snapshot holds is still the one in the list, not a copy.
        let mut cursor = b.previous.newest.as_ref();
        let mut shared = false;
        while let Some(node) = cursor {
            shared |= Arc::ptr_eq(node, &held);
            cursor = node.older.as_ref();
        }
        assert!(shared);
    }

    #[test]
    fn zero_max_stores_nothing() {
        let mut b = Breadcrumbs::default();
        b.push(crumb(1), 0);
        assert!(b.is_empty());
    }

    #[test]
    fn long_chain_drops_without_overflow() {
        let mut b = Breadcrumbs::default();
        for i in 0..200_000 {
            b.push(crumb(i), 1_000_000);
        }
        drop(b);
    }
}
