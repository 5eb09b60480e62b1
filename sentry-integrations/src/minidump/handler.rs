//! The one place with `unsafe`: `crash_handler::make_crash_event` is an `unsafe fn` (the
//! closure runs inside a signal handler, so the caller promises it is async-signal-safe), and
//! the crate offers no safe way to install a handler. Our closure only calls
//! `minidumper::Client::request_dump`, which the crate documents for use in that context: it
//! writes the crash context to an already connected socket and waits for the monitor's reply,
//! without allocating or taking locks.
#![allow(unsafe_code)]

use crash_handler::{CrashContext, CrashEventResult, CrashHandler};

/// Installs the crash handler that asks `client`'s monitor for a dump. The handler installed
/// before runs afterwards: we answer "not handled", so `crash-handler` chains to it (and
/// to the default action, which ends the process).
pub(super) fn attach(client: minidumper::Client) -> Result<CrashHandler, crash_handler::Error> {
    // SAFETY: the closure is async-signal-safe: it only calls `request_dump` on a connected
    // client (see the module docs); it allocates nothing and takes no lock.
    let event = unsafe {
        crash_handler::make_crash_event(move |context: &CrashContext| {
            let _ = client.request_dump(context);
            CrashEventResult::Handled(false)
        })
    };
    CrashHandler::attach(event)
}
