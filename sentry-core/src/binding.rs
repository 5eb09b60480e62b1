//! Where the client in force is kept: one bound for the whole process (by `init`), and one a
//! thread may bind for a while (test helpers do). Lookups are a relaxed atomic load when
//! nothing is bound, so every API call is a few nanoseconds without a DSN; with a client bound,
//! each thread reads its own copy, so captures on many threads do not contend.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use crate::client::Client;
use crate::protocol::EventId;
use crate::scope;

impl Client {
    /// Makes this client the process-wide one (replacing any earlier one), and sets up its
    /// integrations. Returns the previous client.
    pub fn bind(self: &Arc<Self>) -> Option<Arc<Client>> {
        let options = self.options();
        sentry_sdk_transport::debug::set_enabled(options.settings().debug);
        scope::set_breadcrumb_limit(options.settings().max_breadcrumbs);
        for integration in &options.settings().integrations {
            integration.setup(options);
        }
        bind_global(Some(self.clone()))
    }
}

static GLOBAL: RwLock<Option<Arc<Client>>> = RwLock::new(None);
/// Whether `GLOBAL` holds a client. Relaxed: a capture racing with `init` may miss the client,
/// exactly as if it had happened a moment earlier.
static GLOBAL_BOUND: AtomicBool = AtomicBool::new(false);
/// How many threads have a client bound of their own; 0 skips the thread-local lookup.
static THREAD_BOUND: AtomicUsize = AtomicUsize::new(0);

/// Bumped (under `GLOBAL`'s write lock) whenever the process-wide client changes, so each
/// thread's copy knows when it is stale.
static GLOBAL_GENERATION: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static THREAD_CLIENT: RefCell<Option<Arc<Client>>> = const { RefCell::new(None) };
    /// This thread's copy of the process-wide client and the generation it was read at.
    /// Reading it takes no lock and, through [`with_current_client`], touches no reference count
    /// that other threads write: captures on many threads do not contend. A thread that
    /// never captures again keeps its stale copy until it next looks or exits. That holds
    /// memory only when the client was closed (as `init`'s guard and re-`init` do): a closed
    /// client's worker has ended. The SDK's own threads keep no copy.
    static GLOBAL_COPY: RefCell<(usize, Option<Arc<Client>>)> =
        const { RefCell::new((usize::MAX, None)) };
    static LAST_EVENT_ID: std::cell::Cell<EventId> = const { std::cell::Cell::new(EventId::NIL) };
}

fn bind_global(client: Option<Arc<Client>>) -> Option<Arc<Client>> {
    let bound = client.is_some();
    let mut guard = GLOBAL.write().unwrap_or_else(|p| p.into_inner());
    let old = std::mem::replace(&mut *guard, client);
    GLOBAL_GENERATION.fetch_add(1, Ordering::Relaxed);
    GLOBAL_BOUND.store(bound, Ordering::Relaxed);
    drop(guard);
    old
}

/// Unbinds the process-wide client and returns it.
pub fn unbind() -> Option<Arc<Client>> {
    bind_global(None)
}

/// The client in force on this thread: the thread's own, else the process-wide one.
#[inline]
pub fn current_client() -> Option<Arc<Client>> {
    thread_client().or_else(|| with_global(Arc::clone))
}

/// The client bound to this thread alone, if any (cloned: `f` in [`with_current_client`] may rebind
/// it).
#[inline]
fn thread_client() -> Option<Arc<Client>> {
    if THREAD_BOUND.load(Ordering::Relaxed) == 0 {
        return None;
    }
    THREAD_CLIENT
        .try_with(|c| c.try_borrow().ok().and_then(|c| c.clone()))
        .ok()
        .flatten()
}

/// Runs `f` with the client in force on this thread (see [`current_client`]) borrowed rather than
/// cloned; `None` when there is none. The cheapest way to reach the client on a hot path.
///
/// ```
/// // With no client bound, `f` does not run.
/// let logs_on = sentry_sdk_core::with_current_client(|c| c.options().settings().enable_logs);
/// assert_eq!(logs_on, None);
/// ```
#[inline]
pub fn with_current_client<R>(f: impl FnOnce(&Arc<Client>) -> R) -> Option<R> {
    match thread_client() {
        Some(client) => Some(f(&client)),
        None => with_global(f),
    }
}

/// `f` on the process-wide client, read through this thread's copy.
#[inline]
fn with_global<R>(f: impl FnOnce(&Arc<Client>) -> R) -> Option<R> {
    if !GLOBAL_BOUND.load(Ordering::Relaxed) {
        return None;
    }
    let generation = GLOBAL_GENERATION.load(Ordering::Relaxed);
    let mut f = Some(f);
    let from_copy = GLOBAL_COPY
        .try_with(|copy| {
            let stale = copy.try_borrow().map_or(true, |c| c.0 != generation);
            if stale {
                refresh_global_copy(copy);
            }
            let copy = copy.try_borrow().ok()?;
            if copy.0 != generation {
                return None; // could not refresh it (re-entered from inside `f`)
            }
            match &copy.1 {
                Some(client) => f.take().map(|f| f(client)),
                None => None,
            }
        })
        .ok()
        .flatten();
    match f {
        // Ran on the copy.
        None => from_copy,
        // No usable copy (stale and re-entered, unbound meanwhile, or thread teardown):
        // read the shared one.
        Some(f) => {
            let client = GLOBAL.read().unwrap_or_else(|p| p.into_inner()).clone()?;
            Some(f(&client))
        }
    }
}

#[cold]
fn refresh_global_copy(copy: &RefCell<(usize, Option<Arc<Client>>)>) {
    if sentry_sdk_transport::debug::is_sdk_thread() {
        // No copy on the SDK's own threads (their reads stay stale and fall back to the shared
        // client): a worker holding its client would keep that client's transport, and so
        // the worker itself, alive after the client is dropped.
        return;
    }
    let fresh = {
        let guard = GLOBAL.read().unwrap_or_else(|p| p.into_inner());
        (GLOBAL_GENERATION.load(Ordering::Relaxed), guard.clone())
    };
    if let Ok(mut copy) = copy.try_borrow_mut() {
        let stale = std::mem::replace(&mut *copy, fresh);
        drop(copy);
        drop(stale); // outside the borrow: whatever dropping a client does, nothing is held
    }
}

/// Whether any client could be in force (a relaxed load: the no-DSN fast path).
#[inline]
pub fn is_active() -> bool {
    GLOBAL_BOUND.load(Ordering::Relaxed) || THREAD_BOUND.load(Ordering::Relaxed) > 0
}

/// Runs `f` with `client` bound on this thread only (other threads keep theirs).
pub fn with_thread_client<R>(client: Arc<Client>, f: impl FnOnce() -> R) -> R {
    let previous = THREAD_CLIENT
        .try_with(|c| c.try_borrow_mut().ok().map(|mut c| c.replace(client)))
        .ok()
        .flatten()
        .flatten();
    THREAD_BOUND.fetch_add(1, Ordering::Relaxed);
    struct Restore(Option<Arc<Client>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            let old = THREAD_CLIENT
                .try_with(|c| {
                    c.try_borrow_mut()
                        .ok()
                        .map(|mut c| std::mem::replace(&mut *c, previous))
                })
                .ok()
                .flatten();
            THREAD_BOUND.fetch_sub(1, Ordering::Relaxed);
            drop(old);
        }
    }
    let _restore = Restore(previous);
    f()
}

pub(crate) fn set_last_event_id(id: EventId) {
    let _ = LAST_EVENT_ID.try_with(|c| c.set(id));
}

/// The id of the last event captured on this thread (nil if none).
pub(crate) fn last_event_id() -> EventId {
    LAST_EVENT_ID
        .try_with(std::cell::Cell::get)
        .unwrap_or(EventId::NIL)
}
