//! Where the three scopes live, and the snapshot a capture takes of them.
//!
//! - **global**: one per process (`GLOBAL`), never forked; `configure_global_scope` writes it.
//! - **isolation**: per request, task or thread. A thread starts on the process-wide default
//!   isolation scope (`DEFAULT_ISOLATION`), so that `set_user` in `main` reaches events captured
//!   on worker threads; [`with_isolation_scope`](crate::with_isolation_scope) (and the future
//!   extension) fork it for one unit of work. Top-level `set_tag`, `set_user`, `add_breadcrumb`
//!   write here.
//! - **current**: per [`with_scope`](crate::with_scope) call, on one thread.
//!
//! No lock or `RefCell` borrow is held while user code runs: a closure gets a clone (O(1)), and
//! the result is swapped back afterwards.

use std::cell::RefCell;
use std::sync::Arc;

use once_cell::sync::Lazy;
use sentry_sdk_transport::sync::Mutex;

use super::Scope;
use crate::propagation::PropagationContext;
use crate::protocol::User;
use crate::session::RequestSession;

static GLOBAL: Lazy<Mutex<Scope>> = Lazy::new(Default::default);
/// The isolation scope of threads and tasks that did not fork one; it has a trace of its own
/// from the start, like every isolation scope.
static DEFAULT_ISOLATION: Lazy<Mutex<Scope>> = Lazy::new(|| Mutex::new(Scope::new().forked()));

#[derive(Default)]
struct ThreadScopes {
    /// This thread's forked isolation scope; `None` = the process default.
    isolation: Option<Scope>,
    /// The innermost `with_scope` scope; `None` outside of any.
    current: Option<Scope>,
    /// How many isolation scopes are nested here now (0: the process default): a
    /// transaction keeps the scope of the innermost one it ran in (`Span::remember_scope`).
    depth: u32,
}

thread_local! {
    static THREAD: RefCell<ThreadScopes> = RefCell::new(ThreadScopes::default());
}

/// The scopes in force at one capture: three `Arc` clones, merged later on the worker.
#[derive(Clone, Default, Debug)]
pub(crate) struct Snapshot {
    pub(crate) global: Scope,
    pub(crate) isolation: Scope,
    pub(crate) current: Option<Scope>,
}

/// Takes the O(1) snapshot of this thread's scopes.
pub(crate) fn snapshot() -> Snapshot {
    let global = GLOBAL.lock().clone();
    let (isolation, current) = THREAD
        .try_with(|t| {
            let t = t.try_borrow().ok()?;
            Some((t.isolation.clone(), t.current.clone()))
        })
        .ok()
        .flatten()
        .unwrap_or_default();
    let isolation = isolation.unwrap_or_else(|| DEFAULT_ISOLATION.lock().clone());
    Snapshot {
        global,
        isolation,
        current,
    }
}

/// How many isolation scopes are nested on this thread now (0: the process default).
pub(crate) fn isolation_depth() -> u32 {
    THREAD
        .try_with(|t| t.try_borrow().map_or(0, |t| t.depth))
        .unwrap_or(0)
}

/// The user a capture made now would carry (the first scope with one: current, isolation,
/// global), as an `Arc` clone; cheaper than a [`snapshot`] when only the user is needed.
pub(crate) fn user() -> Option<Arc<User>> {
    let (current, isolation) = THREAD
        .try_with(|t| {
            let t = t.try_borrow().ok()?;
            let current = t.current.as_ref().and_then(|s| s.data.user.clone());
            Some((current, t.isolation.as_ref().map(|s| s.data.user.clone())))
        })
        .ok()
        .flatten()
        .unwrap_or_default();
    if current.is_some() {
        return current;
    }
    // The locks are taken one after the other, never nested, like `snapshot` does.
    let isolation = isolation.unwrap_or_else(|| DEFAULT_ISOLATION.lock().data.user.clone());
    isolation.or_else(|| GLOBAL.lock().data.user.clone())
}

/// The request session of this thread's forked isolation scope, if any.
pub(crate) fn request_session() -> Option<Arc<RequestSession>> {
    THREAD
        .try_with(|t| {
            let t = t.try_borrow().ok()?;
            t.isolation.as_ref()?.request_session().cloned()
        })
        .ok()
        .flatten()
}

/// Sets the request session of this thread's forked isolation scope; false when the thread
/// runs in the process-wide default one (which is no request's).
pub(crate) fn set_request_session(session: Arc<RequestSession>) -> bool {
    THREAD
        .try_with(|t| {
            let mut t = t.try_borrow_mut().ok()?;
            t.isolation.as_mut()?.set_request_session(Some(session));
            Some(())
        })
        .ok()
        .flatten()
        .is_some()
}

/// Changes the isolation scope in place. `f` must be SDK code (no user callbacks): it runs
/// while the scope is borrowed or locked.
pub(crate) fn with_isolation_mut(f: impl FnOnce(&mut Scope)) {
    let mut f = Some(f);
    let _ = THREAD.try_with(|t| {
        if let Ok(mut t) = t.try_borrow_mut() {
            if let Some(scope) = t.isolation.as_mut() {
                if let Some(f) = f.take() {
                    f(scope);
                }
            }
        }
    });
    if let Some(f) = f {
        f(&mut DEFAULT_ISOLATION.lock());
    }
}

/// Runs user code `f` on a clone of the scope that `configure_scope` targets (the current
/// scope inside `with_scope`, else the isolation scope), then stores the result.
pub(crate) fn configure<R>(f: impl FnOnce(&mut Scope) -> R) -> R {
    let current = THREAD
        .try_with(|t| t.try_borrow().ok().and_then(|t| t.current.clone()))
        .ok()
        .flatten();
    if let Some(mut scope) = current {
        let r = f(&mut scope);
        let _ = THREAD.try_with(|t| {
            if let Ok(mut t) = t.try_borrow_mut() {
                t.current = Some(scope);
            }
        });
        return r;
    }
    let base = isolation();
    let mut edited = base.clone();
    let r = f(&mut edited);
    store_isolation_edits(&base, edited);
    r
}

/// Runs user code `f` on a clone of the global scope, then stores it.
pub(crate) fn configure_global<R>(f: impl FnOnce(&mut Scope) -> R) -> R {
    let base = GLOBAL.lock().clone();
    let mut edited = base.clone();
    let r = f(&mut edited);
    // Other threads may have written the global scope while `f` ran: keep their changes.
    GLOBAL.lock().apply_edits(&base, edited);
    r
}

fn isolation() -> Scope {
    THREAD
        .try_with(|t| t.try_borrow().ok().and_then(|t| t.isolation.clone()))
        .ok()
        .flatten()
        .unwrap_or_else(|| DEFAULT_ISOLATION.lock().clone())
}

/// Stores a `configure_scope` edit of the isolation scope: this thread's own, or the process
/// default, where other threads' writes made meanwhile are kept.
fn store_isolation_edits(base: &Scope, edited: Scope) {
    let mut edited = Some(edited);
    let _ = THREAD.try_with(|t| {
        if let Ok(mut t) = t.try_borrow_mut() {
            if t.isolation.is_some() {
                t.isolation = edited.take();
            }
        }
    });
    if let Some(edited) = edited {
        DEFAULT_ISOLATION.lock().apply_edits(base, edited);
    }
}

/// Pushes `scope` as the current scope for the duration of `f` (user code), restoring the
/// previous one afterwards even if `f` panics.
pub(crate) fn with_current<R>(scope: Scope, f: impl FnOnce() -> R) -> R {
    let previous = swap_current(Some(scope));
    let _restore = Restore {
        current: Some(previous),
        isolation: None,
    };
    f()
}

/// The current scope (or, outside `with_scope`, a fork of nothing: an empty scope) for
/// `with_scope` to fork.
pub(crate) fn current_or_empty() -> Scope {
    THREAD
        .try_with(|t| t.try_borrow().ok().and_then(|t| t.current.clone()))
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// Forks the isolation scope (with a trace of its own) for the duration of `f`.
pub(crate) fn with_forked_isolation<R>(f: impl FnOnce() -> R) -> R {
    with_isolation(isolation().forked(), f)
}

/// A fork of the isolation scope in force (with a trace of its own), for a future.
pub(crate) fn forked_isolation() -> Scope {
    isolation().forked()
}

/// The trace of the isolation scope in force (a copy: a few words and one `Arc`).
pub(crate) fn propagation_context() -> PropagationContext {
    let own = THREAD
        .try_with(|t| {
            let t = t.try_borrow().ok()?;
            t.isolation.as_ref().map(|s| s.propagation().cloned())
        })
        .ok()
        .flatten();
    match own {
        Some(pc) => pc.unwrap_or_default(),
        None => DEFAULT_ISOLATION
            .lock()
            .propagation()
            .cloned()
            .unwrap_or_default(),
    }
}

/// The trace id of the isolation scope in force: what tells one request's (or task's) scope
/// from another's, without copying its propagation context.
pub(crate) fn isolation_trace_id() -> Option<crate::protocol::TraceId> {
    let own = THREAD
        .try_with(|t| {
            let t = t.try_borrow().ok()?;
            t.isolation
                .as_ref()
                .map(|s| s.propagation().map(|pc| pc.trace_id))
        })
        .ok()
        .flatten();
    match own {
        Some(id) => id,
        None => DEFAULT_ISOLATION.lock().propagation().map(|pc| pc.trace_id),
    }
}

/// Gives the isolation scope in force the trace `pc` (a continued or newly started trace).
pub(crate) fn set_propagation_context(pc: PropagationContext) {
    with_isolation_mut(move |scope| scope.set_propagation(pc));
}

/// Makes `scope` this thread's isolation scope for the duration of `f` (how the future
/// extension carries a task's scope from poll to poll).
pub(crate) fn with_isolation<R>(scope: Scope, f: impl FnOnce() -> R) -> R {
    let previous = THREAD
        .try_with(|t| {
            t.try_borrow_mut().ok().map(|mut t| {
                t.depth += 1;
                t.isolation.replace(scope)
            })
        })
        .ok()
        .flatten();
    let _restore = Restore {
        current: None,
        isolation: previous,
    };
    f()
}

/// Runs `f` with `scope` as this thread's isolation scope and returns the scope as `f` left
/// it: how a future carries its isolation scope from one poll to the next.
pub(crate) fn poll_in_isolation<R>(scope: &mut Scope, f: impl FnOnce() -> R) -> R {
    let taken = std::mem::take(scope);
    with_isolation(taken, || {
        let r = f();
        if let Some(after) = THREAD
            .try_with(|t| t.try_borrow().ok().and_then(|t| t.isolation.clone()))
            .ok()
            .flatten()
        {
            *scope = after;
        }
        r
    })
}

fn swap_current(scope: Option<Scope>) -> Option<Scope> {
    THREAD
        .try_with(|t| {
            t.try_borrow_mut()
                .ok()
                .map(|mut t| std::mem::replace(&mut t.current, scope))
        })
        .ok()
        .flatten()
        .flatten()
}

/// Puts the previous scopes back when dropped, so a panic inside `f` does not leak a scope.
struct Restore {
    current: Option<Option<Scope>>,
    isolation: Option<Option<Scope>>,
}

impl Drop for Restore {
    fn drop(&mut self) {
        if let Some(previous) = self.current.take() {
            let old = swap_current(previous);
            drop(old);
        }
        if let Some(previous) = self.isolation.take() {
            let old = THREAD
                .try_with(|t| {
                    t.try_borrow_mut().ok().map(|mut t| {
                        t.depth = t.depth.saturating_sub(1);
                        std::mem::replace(&mut t.isolation, previous)
                    })
                })
                .ok()
                .flatten();
            drop(old);
        }
    }
}
