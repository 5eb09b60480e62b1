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
#[derive(Clone, Default)]
pub(crate) struct Breadcrumbs {
    newest: Option<Arc<Node>>,
    len: usize,
}

impl Breadcrumbs {
    /// Adds one, keeping at most `2 * max` nodes reachable (`max` visible).
    pub(crate) fn push(&mut self, crumb: Breadcrumb, max: usize) {
        if max == 0 {
            return;
        }
        let node = Node {
            crumb,
            older: self.newest.take(),
        };
        self.newest = Some(Arc::new(node));
        self.len += 1;
        if self.len >= max.saturating_mul(2) {
            self.compact(max);
        }
    }

    /// Keeps the newest `max` entries so older nodes can be freed. When no snapshot shares the
    /// list (the usual case) the list is cut after its `max`-th node in place: no breadcrumb
    /// is copied. A shared list is rebuilt from copies instead, leaving the snapshot intact.
    fn compact(&mut self, max: usize) {
        if let Some(tail) = self.cut_in_place(max) {
            drop_chain(Some(tail));
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

impl Drop for Breadcrumbs {
    fn drop(&mut self) {
        drop_chain(self.newest.take());
    }
}

/// Frees a chain without recursing once per node (a long chain would overflow the stack).
fn drop_chain(mut next: Option<Arc<Node>>) {
    while let Some(node) = next {
        match Arc::try_unwrap(node) {
            Ok(mut owned) => next = owned.older.take(),
            // Someone else still shares the rest of the chain; they will free it.
            Err(_) => break,
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
