//! Queue accounting of attachments, and which payloads carry them, seen from a transport.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use sentry_sdk_core::performance::{start_transaction, TransactionContext};
use sentry_sdk_core::protocol::{Attachment, Level};
use sentry_sdk_core::transport::{Outgoing, Transport};
use sentry_sdk_core::{Client, ClientOptions};

/// Keeps each outgoing's size hint and item types (built on the calling thread).
#[derive(Default)]
struct Sizes(Mutex<Vec<(usize, Vec<String>)>>);

impl Transport for Sizes {
    fn send(&self, outgoing: Outgoing) {
        let hint = outgoing.size_hint();
        let types = outgoing.into_envelope().map_or_else(Vec::new, |e| {
            e.items().iter().map(|i| i.item_type().to_owned()).collect()
        });
        self.0.lock().unwrap().push((hint, types));
    }
    fn flush(&self, _: Duration) -> bool {
        true
    }
}

fn run(f: impl FnOnce()) -> Vec<(usize, Vec<String>)> {
    let sizes = Arc::new(Sizes::default());
    let for_factory = sizes.clone();
    let options = ClientOptions::new()
        .dsn("https://public@sentry.invalid/1")
        .default_integrations(false)
        .traces_sample_rate(1.0)
        .transport(move |_| for_factory.clone() as Arc<dyn Transport>);
    let client = Arc::new(Client::new(options).unwrap());
    sentry_sdk_core::with_thread_client(client, || sentry_sdk_core::with_isolation_scope(f));
    let out = std::mem::take(&mut *sizes.0.lock().unwrap());
    out
}

/// The queue's byte bound sees an event's attachments while it waits; transactions never
/// carry the scope's attachments.
#[test]
fn queued_events_count_their_attachments_and_transactions_carry_none() {
    let sent = run(|| {
        sentry_sdk_core::capture_message("plain", Level::Error);
        sentry_sdk_core::add_attachment(Attachment::from_bytes("big.bin", vec![0u8; 300_000]));
        sentry_sdk_core::capture_message("with", Level::Error);
        let tx = start_transaction(TransactionContext::new("job", "task"));
        tx.finish();
    });
    let events: Vec<_> = sent.iter().filter(|(_, t)| t[0] == "event").collect();
    assert_eq!(events.len(), 2);
    assert!(events[0].0 < 10_000, "{}", events[0].0);
    assert!(events[1].0 >= 300_000 + events[0].0, "{}", events[1].0);
    assert_eq!(events[1].1, ["event", "attachment"]);
    let transactions: Vec<_> = sent.iter().filter(|(_, t)| t[0] == "transaction").collect();
    assert_eq!(transactions.len(), 1);
    assert!(transactions[0].1.iter().all(|t| t != "attachment"));
}
