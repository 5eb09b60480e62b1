//! Which deliveries are still running: a flush waits for those started before its marker
//! (their drops are decided until they end) without holding up the worker's loop, which goes
//! on taking and sending what is queued meanwhile.

use std::collections::BTreeSet;

use tokio::sync::Notify;

use crate::sync::Mutex;

#[derive(Default)]
pub(super) struct InFlight {
    state: Mutex<State>,
    ended: Notify,
}

#[derive(Default)]
struct State {
    next: u64,
    running: BTreeSet<u64>,
}

impl InFlight {
    /// A delivery starts: its number, for [`InFlight::end`].
    pub(super) fn start(&self) -> u64 {
        let mut state = self.state.lock();
        let n = state.next;
        state.next += 1;
        state.running.insert(n);
        n
    }

    /// Delivery `n` ended (delivered, given up, or dropped).
    pub(super) fn end(&self, n: u64) {
        self.state.lock().running.remove(&n);
        self.ended.notify_waiters();
    }

    /// A marker: the deliveries started so far are the ones before it.
    pub(super) fn mark(&self) -> u64 {
        self.state.lock().next
    }

    /// Waits until every delivery started before `mark` has ended.
    pub(super) async fn wait_before(&self, mark: u64) {
        loop {
            let ended = self.ended.notified();
            tokio::pin!(ended);
            // Registered before the check: an `end` in between is not missed.
            ended.as_mut().enable();
            let oldest = self.state.lock().running.first().copied();
            if oldest.map_or(true, |n| n >= mark) {
                return;
            }
            ended.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mark_waits_for_the_earlier_deliveries_only() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let f = std::sync::Arc::new(InFlight::default());
            let first = f.start();
            let mark = f.mark();
            let later = f.start();
            let waiter = {
                let f = f.clone();
                tokio::spawn(async move { f.wait_before(mark).await })
            };
            tokio::task::yield_now().await;
            assert!(!waiter.is_finished(), "the first delivery still runs");
            f.end(first);
            tokio::time::timeout(std::time::Duration::from_secs(5), waiter)
                .await
                .expect("done once the earlier one ended, the later one still running")
                .unwrap();
            f.end(later);
        });
    }
}
