//! Running user callbacks (`before_send`, `before_breadcrumb`, event processors) safely.
//!
//! While a callback runs on a thread, SDK entry points on that thread are no-ops: a capture
//! or breadcrumb from inside `before_send` is ignored instead of recursing or deadlocking. A
//! panic inside a callback is caught (where the panic strategy allows) and treated as "drop".

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};

thread_local! {
    static IN_CALLBACK: Cell<bool> = const { Cell::new(false) };
}

/// Whether this thread is inside a user callback (or thread-local storage is gone).
#[inline]
pub(crate) fn is_inside() -> bool {
    IN_CALLBACK.try_with(Cell::get).unwrap_or(true)
}

/// Runs `f` with SDK entry points disabled on this thread; `None` if it panicked.
pub(crate) fn run<R>(name: &str, f: impl FnOnce() -> R) -> Option<R> {
    let was = IN_CALLBACK.try_with(|c| c.replace(true)).unwrap_or(true);
    let result = catch_unwind(AssertUnwindSafe(f));
    let _ = IN_CALLBACK.try_with(|c| c.set(was));
    match result {
        Ok(r) => Some(r),
        Err(_) => {
            sentry_sdk_transport::debug::always_log(format_args!(
                "{name} panicked; the item it was given is dropped"
            ));
            None
        }
    }
}
