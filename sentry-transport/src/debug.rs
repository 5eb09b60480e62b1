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
/// sentry_transport::sdk_debug!("queue is {}% full", 42);
/// ```
#[macro_export]
macro_rules! sdk_debug {
    ($($arg:tt)*) => {
        if $crate::debug::is_enabled() {
            $crate::debug::debug_log(format_args!($($arg)*));
        }
    };
}
