//! Where breadcrumbs are stored: a persistent (shared-tail) list, newest first.
//!
//! Forking a scope or taking a snapshot clones one `Arc`; adding a breadcrumb to a fork allocates
//! one node and never copies the others. The list is compacted to the newest `max` entries
//! whenever it reaches twice `max`, so memory stays bounded and the cost per push is amortised
//! O(1).

use std::sync::Arc;

use crate::protocol::Breadcrumb;

struct Node {
    crumb: Breadcrumb,
    older: Option<Arc<Node>>,
}

/// A bounded trail of breadcrumbs that clones in O(1).
#[derive(Default)]
pub(crate) struct Breadcrumbs {
    newest: Option<Arc<Node>>,
    len: usize,
    /// Nodes cut off by the last compaction, freed one per push. Freeing them all at once
    /// would overflow the allocator's per-thread cache, so every later allocation would take
    /// its slow path; one at a time, the next push reuses what the last one freed.
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
    /// Adds one, keeping at most `2 * max` nodes reachable (`max` visible).
    pub(crate) fn push(&mut self, crumb: Breadcrumb, max: usize) {
        self.push_unlinked(UnlinkedCrumb::new(crumb), max);
    }

    /// [`Breadcrumbs::push`] for a breadcrumb already in its node.
    pub(crate) fn push_unlinked(&mut self, crumb: UnlinkedCrumb, max: usize) {
        if max == 0 {
            return;
        }
        let mut node = crumb.0;
        match Arc::get_mut(&mut node) {
            Some(n) => n.older = self.newest.take(),
            // Never shared before it is linked; were it, link a copy rather than lose it.
            None => {
                node = Arc::new(Node {
                    crumb: node.crumb.clone(),
                    older: self.newest.take(),
                })
            }
        }
        self.newest = Some(node);
        self.len += 1;
        self.free_one_evicted();
        if self.len >= max.saturating_mul(2) {
            self.compact(max);
        }
    }

    fn free_one_evicted(&mut self) {
        if let Some(node) = self.evicted.take() {
            // Shared with a snapshot: the snapshot frees the rest when it goes. `into_inner`
            // (not `try_unwrap`) so that exactly one of two racing owners gets the node and
            // walks on; the other's drop never frees the chain behind it recursively.
            if let Some(mut owned) = Arc::into_inner(node) {
                self.evicted = owned.older.take();
            }
        }
    }

    /// Keeps the newest `max` entries so older nodes can be freed. When no snapshot shares the
    /// list (the usual case) the list is cut after its `max`-th node in place: no breadcrumb
    /// is copied. A shared list is rebuilt from copies instead, leaving the snapshot intact.
    fn compact(&mut self, max: usize) {
        if let Some(tail) = self.cut_in_place(max) {
            // What is left of the previous eviction (only when `max` shrank) goes now.
            drop_chain(self.evicted.replace(tail));
            self.len = max;
            return;
        }
        let keep: Vec<Breadcrumb> = self.iter_newest_first().take(max).cloned().collect();
        self.clear();
        for crumb in keep.into_iter().rev() {
            let older = self.newest.take();
            self.newest = Some(Arc::new(Node { crumb, older }));
            self.len += 1;
        }
    }

    /// Detaches and returns what follows the `max`-th node, if every node up to it is owned
    /// by this list alone.
    fn cut_in_place(&mut self, max: usize) -> Option<Arc<Node>> {
        let mut cursor = Arc::get_mut(self.newest.as_mut()?)?;
        for _ in 1..max {
            cursor = Arc::get_mut(cursor.older.as_mut()?)?;
        }
        cursor.older.take()
    }

    pub(crate) fn clear(&mut self) {
        drop_chain(self.newest.take());
        drop_chain(self.evicted.take());
        self.len = 0;
    }

    /// Whether both are the very same list (no push or clear on either since one was cloned).
    pub(crate) fn same_as(&self, other: &Breadcrumbs) -> bool {
        match (&self.newest, &other.newest) {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }

    /// What was pushed onto this list since it was cloned from `base`, oldest first; `None`
    /// if it was cleared or rebuilt since (its chain no longer leads to `base`'s newest node).
    pub(crate) fn pushed_since(&self, base: &Breadcrumbs) -> Option<Vec<Breadcrumb>> {
        let mut added = Vec::new();
        let mut cursor = self.newest.as_ref();
        loop {
            match (cursor, &base.newest) {
                (Some(node), Some(stop)) if Arc::ptr_eq(node, stop) => break,
                (None, None) => break,
                (None, Some(_)) => return None,
                (Some(node), _) => {
                    if added.len() >= self.len {
                        return None;
                    }
                    added.push(node.crumb.clone());
                    cursor = node.older.as_ref();
                }
            }
        }
        added.reverse();
        Some(added)
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.newest.is_none()
    }

    /// Newest first.
    pub(crate) fn iter_newest_first(&self) -> impl Iterator<Item = &Breadcrumb> {
        let mut cursor = self.newest.as_deref();
        std::iter::from_fn(move || {
            let node = cursor?;
            cursor = node.older.as_deref();
            Some(&node.crumb)
        })
    }

    /// The newest `max`, oldest first.
    pub(crate) fn newest(&self, max: usize) -> Vec<Breadcrumb> {
        let mut out: Vec<Breadcrumb> = self.iter_newest_first().take(max).cloned().collect();
        out.reverse();
        out
    }
}

impl Clone for Breadcrumbs {
    /// Shares the visible list; what is waiting to be freed stays with the original.
    fn clone(&self) -> Self {
        Breadcrumbs {
            newest: self.newest.clone(),
            len: self.len,
            evicted: None,
        }
    }
}

impl Drop for Breadcrumbs {
    fn drop(&mut self) {
        drop_chain(self.newest.take());
        drop_chain(self.evicted.take());
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

    #[test]
    fn evicted_nodes_are_freed_one_per_push_and_memory_stays_within_twice_max() {
        let mut b = Breadcrumbs::default();
        let max = 10;
        for i in 0..1000 {
            b.push(crumb(i), max);
            let live = chain_len(b.newest.as_ref()) + chain_len(b.evicted.as_ref());
            assert!(live <= 2 * max, "push {i}: {live} nodes reachable");
        }
        // Right after a compaction the cut-off nodes wait, then go one per push.
        let waiting = chain_len(b.evicted.as_ref());
        b.push(crumb(1000), max);
        assert_eq!(chain_len(b.evicted.as_ref()), waiting.saturating_sub(1));
        assert_eq!(messages(&b, max).last().unwrap(), "1000");
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
    fn ring_keeps_newest_max_in_order() {
        let mut b = Breadcrumbs::default();
        for i in 0..1000 {
            b.push(crumb(i), 3);
            assert!(b.len < 6, "bounded: {}", b.len);
        }
        assert_eq!(messages(&b, 3), ["997", "998", "999"]);
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
    }

    #[test]
    fn compaction_with_a_snapshot_alive_leaves_the_snapshot_intact() {
        let mut b = Breadcrumbs::default();
        for i in 0..5 {
            b.push(crumb(i), 3);
        }
        let snapshot = b.clone();
        for i in 5..7 {
            b.push(crumb(i), 3);
        }
        assert_eq!(messages(&b, 3), ["4", "5", "6"]);
        assert_eq!(messages(&snapshot, 3), ["2", "3", "4"]);
        assert!(b.len < 6);
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
