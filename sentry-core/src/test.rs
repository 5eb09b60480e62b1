//! Helpers for your own tests: run code with a client that records what it would send.
//!
//! The client is bound on the calling thread only, so tests can run in parallel; events
//! captured on other threads go to whatever client those threads see.
//!
//! ```
//! use sentry_sdk_core::protocol::Level;
//! let events = sentry_sdk_core::test::with_captured_events(|| {
//!     sentry_sdk_core::set_tag("plan", "pro");
//!     sentry_sdk_core::capture_message("hello", Level::Warning);
//! });
//! assert_eq!(events.len(), 1);
//! assert_eq!(events[0]["logentry"]["formatted"], "hello");
//! assert_eq!(events[0]["tags"]["plan"], "pro");
//! ```

use std::sync::Arc;
use std::time::Duration;

use sentry_sdk_transport::sync::Mutex;
use sentry_sdk_transport::{Envelope, Outgoing, Transport};

use crate::protocol::Value;
use crate::{Client, ClientOptions};

/// A DSN that never resolves, for test clients.
pub const TEST_DSN: &str = "https://public@sentry.invalid/1";

/// A transport that builds every envelope at once, on the sending thread, and keeps it.
#[derive(Debug, Default)]
pub struct TestTransport {
    envelopes: Mutex<Vec<Envelope>>,
}

impl TestTransport {
    /// A new, empty transport.
    pub fn new() -> Arc<TestTransport> {
        Arc::new(TestTransport::default())
    }

    /// Takes the envelopes received so far.
    pub fn take(&self) -> Vec<Envelope> {
        std::mem::take(&mut *self.envelopes.lock())
    }
}

impl Transport for TestTransport {
    fn send(&self, outgoing: Outgoing) {
        // Built outside the lock: building runs `before_send`, which is user code.
        if let Some(envelope) = outgoing.into_envelope() {
            self.envelopes.lock().push(envelope);
        }
    }

    fn flush(&self, _timeout: Duration) -> bool {
        true
    }
}

/// Runs `f` with a test client made from `options` (its DSN and transport are replaced) bound
/// on this thread, in an isolation scope of its own, and returns the envelopes it would have
/// sent.
pub fn with_captured_envelopes_options(options: ClientOptions, f: impl FnOnce()) -> Vec<Envelope> {
    let transport = TestTransport::new();
    let for_factory = transport.clone();
    let options = options
        .dsn(TEST_DSN)
        .transport(move |_| for_factory.clone() as Arc<dyn Transport>);
    let client = match Client::new(options) {
        Ok(c) => Arc::new(c),
        Err(e) => {
            sentry_sdk_transport::debug::always_log(format_args!("test client not started: {e}"));
            return Vec::new();
        }
    };
    // A fresh, empty isolation scope too: what `f` sets stays out of other tests' events,
    // and what other code set on the process-wide scope stays out of these.
    crate::binding::with_thread_client(client, || {
        crate::scope::stack::with_isolation(crate::Scope::new().forked(), f)
    });
    transport.take()
}

/// Runs `f` with a default test client bound on this thread; returns the envelopes.
pub fn with_captured_envelopes(f: impl FnOnce()) -> Vec<Envelope> {
    with_captured_envelopes_options(ClientOptions::new(), f)
}

/// Runs `f` with a default test client bound on this thread; returns the JSON payloads of the
/// events it would have sent, exactly as they would go on the wire.
pub fn with_captured_events(f: impl FnOnce()) -> Vec<Value> {
    events_of(&with_captured_envelopes(f))
}

/// Like [`with_captured_events`] with your own options (`before_send`, `release`, ...).
pub fn with_captured_events_options(options: ClientOptions, f: impl FnOnce()) -> Vec<Value> {
    events_of(&with_captured_envelopes_options(options, f))
}

/// The `event` payloads in `envelopes`, parsed.
pub fn events_of(envelopes: &[Envelope]) -> Vec<Value> {
    envelopes
        .iter()
        .flat_map(|e| e.items())
        .filter(|i| i.item_type() == "event")
        .filter_map(|i| i.payload_json())
        .collect()
}
