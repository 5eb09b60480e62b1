//! Running user callbacks (`before_send`, `before_breadcrumb`, event processors) safely.
//!
//! While a callback runs on a thread, SDK entry points on that thread are no-ops: a capture
//! or breadcrumb from inside `before_send` is ignored instead of recursing or deadlocking. A
//! panic inside a callback is caught (where the panic strategy allows) and treated as "drop";
//! the first panic of each callback is logged, later ones are not (a `before_send` that panics
//! on every event would otherwise write a line per event).
//!
//! Inside a panic hook no panic can be caught: std aborts the process at a panic raised while
//! a hook runs on that thread. The panic integration marks its hook ([`in_panic_hook`]), and
//! callbacks called from there run on a short-lived thread of their own, whose panic is caught
//! like any other.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};

use sentry_sdk_transport::sync::Mutex;

/// The callbacks whose panic was logged already (a handful of names: a linear scan).
static LOGGED_PANICS: Mutex<Vec<String>> = Mutex::new(Vec::new());

thread_local! {
    static IN_CALLBACK: Cell<bool> = const { Cell::new(false) };
    static IN_PANIC_HOOK: Cell<bool> = const { Cell::new(false) };
}

/// The name of the thread a callback runs on while a panic hook waits for it. A panic there is
/// caught and logged once by the SDK; the panic integration's hook skips it (printing it
/// would take the stderr lock, which the panicking thread may hold while it waits).
pub const CALLBACK_THREAD: &str = "sentry-callback";

/// Runs `f` marked as being inside a panic hook on this thread (see the module docs).
pub fn in_panic_hook<R>(f: impl FnOnce() -> R) -> R {
    let was = IN_PANIC_HOOK.try_with(|c| c.replace(true)).unwrap_or(true);
    let r = f();
    let _ = IN_PANIC_HOOK.try_with(|c| c.set(was));
    r
}

/// Whether this thread is inside a user callback (or thread-local storage is gone).
#[inline]
pub(crate) fn is_inside() -> bool {
    IN_CALLBACK.try_with(Cell::get).unwrap_or(true)
}

/// Runs `f` with SDK entry points disabled on this thread; `None` if it panicked. Inside a
/// panic hook, `f` runs on a thread of its own (and `None` if that thread cannot start).
pub(crate) fn run<R: Send>(name: &str, f: impl FnOnce() -> R + Send) -> Option<R> {
    let result = if IN_PANIC_HOOK.try_with(Cell::get).unwrap_or(false) {
        let spawned = std::thread::scope(|s| {
            std::thread::Builder::new()
                .name(CALLBACK_THREAD.into())
                .spawn_scoped(s, || guarded(f))
                .map(|t| t.join())
        });
        match spawned {
            Ok(Ok(result)) => result,
            // Not started (or unwound past the catch, which cannot happen): dropped.
            _ => Err(Box::new("the callback's thread did not start") as _),
        }
    } else {
        guarded(f)
    };
    match result {
        Ok(r) => Some(r),
        Err(_) => {
            if first_panic_of(name) {
                sentry_sdk_transport::debug::always_log(format_args!(
                    "{name} panicked; the item it was given is dropped (later panics of \
                     {name} drop their items without this line)"
                ));
            }
            None
        }
    }
}

/// `f` with SDK entry points disabled on this thread, its panic caught.
fn guarded<R>(f: impl FnOnce() -> R) -> std::thread::Result<R> {
    let was = IN_CALLBACK.try_with(|c| c.replace(true)).unwrap_or(true);
    let result = catch_unwind(AssertUnwindSafe(f));
    let _ = IN_CALLBACK.try_with(|c| c.set(was));
    result
}

/// Whether this is the first panic of the callback `name` (then remembered).
fn first_panic_of(name: &str) -> bool {
    let mut logged = LOGGED_PANICS.lock();
    if logged.iter().any(|n| n == name) {
        return false;
    }
    logged.push(name.to_owned());
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_is_caught_and_logged_once_per_callback() {
        let name = "callback_test_hook";
        for _ in 0..3 {
            assert_eq!(run(name, || -> u8 { panic!("boom") }), None);
        }
        assert_eq!(run(name, || 7), Some(7));
        let logged = LOGGED_PANICS.lock();
        assert_eq!(logged.iter().filter(|n| *n == name).count(), 1);
        drop(logged);
        assert!(!first_panic_of(name), "remembered");
        assert!(!is_inside(), "the flag is restored after a panic");
    }
}
