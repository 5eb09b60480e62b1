//! `init` and the guard that closes the client when the program ends.

use std::sync::Arc;
use std::time::Duration;

use sentry_sdk_core::{Client, ClientOptions};

/// Starts the SDK: reads the `SENTRY_*` environment variables for what `options` leave unset,
/// adds the default integrations, starts the background transport and binds the client for the
/// whole process (replacing a previous one).
///
/// Never panics. An invalid DSN or option is printed to stderr once and the SDK runs disabled;
/// with no DSN at all it is silently disabled.
///
/// ```
/// // `&str`, `String` and `(dsn, ClientOptions)` convert into options.
/// let guard = sentry_sdk::init(("", sentry_sdk::ClientOptions::new().release("app@1.0")));
/// assert!(!guard.is_enabled()); // an empty DSN disables the SDK
/// ```
pub fn init(options: impl Into<ClientOptions>) -> ClientInitGuard {
    let mut options = options.into().apply_env();
    sentry_sdk_transport::debug::set_enabled(options.settings().debug);
    if options.settings().default_integrations {
        options = with_default_integrations(options);
    }
    let problem_before = options.problem().cloned();
    match Client::new(options) {
        Ok(client) => {
            let client = Arc::new(client);
            let previous = client.bind();
            if let Some(previous) = previous {
                // Re-init: the old client finishes what it has (within its own shutdown
                // timeout) on a thread of its own, so `init` does not wait for it.
                let timeout = previous.options().settings().shutdown_timeout;
                let closer = std::thread::Builder::new()
                    .name("sentry-close".into())
                    .spawn(move || previous.close(timeout));
                if closer.is_err() {
                    sentry_sdk_transport::debug::debug_log(format_args!(
                        "could not start a thread to close the previous client"
                    ));
                }
            }
            let settings = client.options().settings();
            if settings.auto_session_tracking
                && settings.session_mode == sentry_sdk_core::SessionMode::Application
            {
                // One session for this run, ended at `close` (needs a release: without one
                // this does nothing).
                client.start_session();
            }
            ClientInitGuard {
                client: Some(client),
            }
        }
        Err(sentry_sdk_core::Error::NoDsn) => {
            sentry_sdk_transport::debug::debug_log(format_args!(
                "{}",
                sentry_sdk_core::Error::NoDsn
            ));
            ClientInitGuard { client: None }
        }
        Err(err) => {
            if problem_before.is_some() {
                sentry_sdk_transport::debug::always_log(format_args!("SDK disabled: {err}"));
            } else {
                sentry_sdk_transport::debug::debug_log(format_args!("SDK disabled: {err}"));
            }
            ClientInitGuard { client: None }
        }
    }
}

/// The panic hook (feature `panic`), the contexts and (with a `dedupe_window`) the dedupe
/// integration, unless already added.
fn with_default_integrations(mut options: ClientOptions) -> ClientOptions {
    let has = |options: &ClientOptions, name: &str| {
        options
            .settings()
            .integrations
            .iter()
            .any(|i| i.name() == name)
    };
    #[cfg(feature = "panic")]
    if !has(&options, "panic") {
        options = options.add_integration(sentry_sdk_integrations::PanicIntegration::new());
    }
    // Merging repeats is opt-in (`dedupe_window`); the default dedupe (one error value
    // reported twice) runs on the caller's thread and needs no event processor. First: a
    // dropped repeat is not given contexts first.
    if options.settings().dedupe_window.is_some() && !has(&options, "dedupe") {
        options = options.add_integration(sentry_sdk_integrations::DedupeIntegration::new());
    }
    if !has(&options, "minidump") {
        options = with_minidump(options);
    }
    if !has(&options, "contexts") {
        options = options.add_integration(sentry_sdk_integrations::ContextsIntegration::new());
    }
    options
}

/// The native crash handler (feature `minidump`).
#[cfg(feature = "minidump")]
fn with_minidump(options: ClientOptions) -> ClientOptions {
    options.add_integration(sentry_sdk_integrations::MinidumpIntegration::new())
}

#[cfg(not(feature = "minidump"))]
fn with_minidump(options: ClientOptions) -> ClientOptions {
    options
}

/// Returned by [`init`]; dropping it flushes and closes the client (waiting at most
/// `shutdown_timeout`). Keep it alive for as long as the program should report.
#[must_use = "dropping the guard closes the SDK at once"]
#[derive(Debug)]
pub struct ClientInitGuard {
    client: Option<Arc<Client>>,
}

impl ClientInitGuard {
    /// Whether `init` started a client (a valid DSN was given).
    pub fn is_enabled(&self) -> bool {
        self.client.is_some()
    }

    /// The client `init` started.
    pub fn client(&self) -> Option<&Arc<Client>> {
        self.client.as_ref()
    }

    /// Waits at most `timeout` until everything this guard's client has queued is sent (or
    /// given up); the client keeps working. `true` if it all went out in time (also when
    /// the SDK is disabled: nothing is pending).
    ///
    /// ```
    /// let guard = sentry_sdk::init(""); // disabled: no DSN
    /// assert!(guard.flush(std::time::Duration::from_secs(2)));
    /// ```
    pub fn flush(&self, timeout: Duration) -> bool {
        self.client
            .as_ref()
            .map_or(true, |client| client.flush(timeout))
    }

    /// Closes this guard's client now, waiting at most `timeout` for what it has queued,
    /// instead of `shutdown_timeout` when the guard is dropped; unbinds it unless a later
    /// `init` replaced it. Later captures are no-ops. `true` if everything was sent in time.
    ///
    /// ```
    /// let guard = sentry_sdk::init("");
    /// assert!(guard.close(std::time::Duration::from_secs(2)));
    /// ```
    pub fn close(mut self, timeout: Duration) -> bool {
        self.client
            .take()
            .map_or(true, |client| close(client, timeout))
    }
}

/// Unbinds `client` (unless a later `init` replaced it) and closes it within `timeout`.
fn close(client: Arc<Client>, timeout: Duration) -> bool {
    if sentry_sdk_core::current_client().is_some_and(|c| Arc::ptr_eq(&c, &client)) {
        sentry_sdk_core::unbind();
    }
    client.close(timeout)
}

impl Drop for ClientInitGuard {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            let timeout = client.options().settings().shutdown_timeout;
            close(client, timeout);
        }
    }
}
