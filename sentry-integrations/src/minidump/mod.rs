//! Native crashes (feature `minidump`): segfaults, bus errors, illegal instructions, arithmetic
//! faults and aborts (`std::process::abort`), reported as fatal events with a minidump.
//!
//! # How it works
//! A crashed process cannot be trusted to do anything but the least, so the work is split:
//! - **At `init`** ([`MinidumpIntegration`]'s setup), the program starts a *monitor*: itself,
//!   run again from [`std::env::current_exe`] with an environment variable naming a socket.
//!   The program connects to the monitor and installs a crash handler (`crash-handler`) that
//!   chains to the handler installed before it.
//! - **At a crash**, the handler only asks the monitor (through `minidumper`) to write a
//!   minidump of the crashed process, from outside it, and waits for the answer.
//! - **The monitor** then builds the event (level `fatal`, mechanism `minidump`, unhandled)
//!   with the dump as an `event.minidump` attachment and the scope the program last sent it,
//!   and sends it through a client of its own (same DSN, release, environment and offline
//!   cache: with the cache on, the envelope is stored first and a later start sends it if the
//!   monitor could not).
//!
//! The program must call [`run_monitor_if_requested`] first in `main`: in the monitor it runs
//! the monitor and exits; anywhere else it returns at once. A program that never calls it gets
//! no monitor and no crash handler (a debug message says why).
//!
//! # The scope at the crash
//! Serialising the scope inside a signal handler is not safe (it allocates and takes locks),
//! and sending it on every `set_tag` costs every caller. The program sends a snapshot (user,
//! tags, contexts, extra, breadcrumbs) at init and then from a background thread
//! (`sentry-minidump`) each [`SNAPSHOT_INTERVAL`] when it changed: a crash reports the scope as
//! it was at most that long before.
//!
//! # The session
//! The monitor's client takes over the program's open release-health session, so the crash
//! event ends it `crashed`: from the run marker with the offline cache on (a missing marker
//! means the session had ended), else from the session state the program sends like the
//! scope (and at once after a panic ended it, so that a `panic = "abort"` crash does not end it
//! twice).
//!
//! # Not covered
//! Panics stay with the panic hook (under `panic = "abort"` the abort that follows is reported
//! too, as a native crash).

mod app;
mod handler;
mod monitor;
mod snapshot;

pub use app::MinidumpIntegration;
pub use monitor::run_monitor_if_requested;

/// How often the program sends the scope to the monitor when it changed.
pub const SNAPSHOT_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

/// The environment variable that makes a process the monitor: the socket's path.
const SOCKET_VAR: &str = "SENTRY_SDK_MINIDUMP_SOCKET";
/// The client's settings handed to the monitor (JSON).
const CONFIG_VAR: &str = "SENTRY_SDK_MINIDUMP_CONFIG";
/// Set by [`run_monitor_if_requested`] in the program: only then is it safe to run it again
/// as the monitor.
static MONITOR_READY: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
/// The user message kind carrying a scope snapshot.
const SNAPSHOT_KIND: u32 = 1;
/// The user message kind carrying the program's open session (JSON, `null` once it ended).
const SESSION_KIND: u32 = 2;

pub(crate) use app::send_session_now;
