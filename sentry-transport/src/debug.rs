//! The SDK's own diagnostic output (`debug = true`).
//!
//! Everything the SDK wants to tell a developer goes through [`debug_log`] (or the
//! [`sdk_debug!`](crate::sdk_debug) macro) to stderr. It never goes through `log` or `tracing`,
//! so the SDK's own log integration can never see, and loop on, what the SDK says about itself.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

/// Relaxed is enough: the flag only gates output, and a late-seen change prints one line more or
/// less.
static ENABLED: AtomicBool = AtomicBool::new(false);

thread_local! {
    static SDK_THREAD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Marks the calling thread as one of the SDK's own (the transport worker): whatever is logged
/// on it (by reqwest, hyper, tokio or the SDK) must never be captured, or sending would feed
/// itself.
pub fn mark_sdk_thread() {
    let _ = SDK_THREAD.try_with(|c| c.set(true));
}

/// Whether the calling thread is one of the SDK's own; the log and tracing integrations
/// ignore records made on it.
#[inline]
pub fn is_sdk_thread() -> bool {
    SDK_THREAD.try_with(std::cell::Cell::get).unwrap_or(true)
}

/// Turns debug output on or off (set by `init` from the `debug` option).
pub fn set_enabled(on: bool) {
    ENABLED.store(on, Ordering::Relaxed);
}

/// Whether debug output is on.
#[inline]
pub fn is_enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// Writes one `[sentry] ...` line to stderr if debug output is on.
pub fn debug_log(args: std::fmt::Arguments<'_>) {
    if is_enabled() {
        write_line(args);
    }
}

/// Writes one `[sentry] ...` line to stderr whatever the debug setting: for the few things a user
/// must always hear about (an invalid DSN, envelopes still pending at shutdown).
pub fn always_log(args: std::fmt::Arguments<'_>) {
    write_line(args);
}

fn write_line(args: std::fmt::Arguments<'_>) {
    // A closed stderr is not worth a panic: ignore write errors.
    let stderr = std::io::stderr();
    let mut out = stderr.lock();
    let _ = writeln!(out, "[sentry] {args}");
}

/// Prints a debug line when `debug` is on; formats nothing otherwise.
///
/// ```
/// sentry_sdk_transport::sdk_debug!("queue is {}% full", 42);
/// ```
#[macro_export]
macro_rules! sdk_debug {
    ($($arg:tt)*) => {
        if $crate::debug::is_enabled() {
            $crate::debug::debug_log(format_args!($($arg)*));
        }
    };
}
