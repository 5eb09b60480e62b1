//! Transports that discard what they are handed, ours and the official crate's: the benches
//! measure what the calling thread pays, not the network.

use std::time::Duration;

use criterion::black_box;
use sentry_sdk::transport::{Outgoing, Transport};

/// Ours: drops the outgoing work (a deferred build never runs).
pub struct Discard;

impl Transport for Discard {
    fn send(&self, outgoing: Outgoing) {
        drop(black_box(outgoing));
    }
    fn flush(&self, _: Duration) -> bool {
        true
    }
}

/// Ours, with the worker's part run too (a deferred build: symbolication, scope merge,
/// serialisation), then dropped.
#[allow(dead_code)] // not every bench that includes this module uses it
pub struct BuildAndDiscard;

impl Transport for BuildAndDiscard {
    fn send(&self, outgoing: Outgoing) {
        drop(black_box(outgoing.into_envelope()));
    }
    fn flush(&self, _: Duration) -> bool {
        true
    }
}

/// The official crate's: drops the envelope.
pub struct OfficialDiscard;

impl sentry::Transport for OfficialDiscard {
    fn send_envelope(&self, envelope: sentry::Envelope) {
        drop(black_box(envelope));
    }
}
