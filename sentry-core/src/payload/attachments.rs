//! `attachment` items: an event's (or a feedback's) attachments made into envelope items on
//! the worker, and the attachments of a dropped event counted in client reports (by bytes,
//! category `attachment`).
//!
//! File attachments are read here, on the SDK's thread. One over `max_attachment_size`, or a
//! file that cannot be read, is left out and counted; the event still goes.

use std::borrow::Cow;

use sentry_sdk_transport::{DataCategory, DiscardReason, Envelope, Item};

use super::BuildContext;
use crate::protocol::Attachment;

/// Adds `attachments` to `envelope` as `attachment` items, in order.
pub(crate) fn add_items<'a>(
    ctx: &BuildContext,
    envelope: &mut Envelope,
    attachments: impl Iterator<Item = &'a Attachment>,
) {
    let max = ctx.options.settings().max_attachment_size;
    for attachment in attachments {
        let Some(bytes) = load(ctx, attachment, max) else {
            continue;
        };
        let item = Item::new("attachment", bytes.into_owned())
            .with_header("filename", attachment.filename())
            .with_header("attachment_type", attachment.attachment_type().as_str())
            .with_header("content_type", attachment.content_type());
        envelope.add_item(item);
    }
}

/// The attachment's bytes, if it is within `max` and readable; else counted and `None`.
fn load<'a>(ctx: &BuildContext, attachment: &'a Attachment, max: usize) -> Option<Cow<'a, [u8]>> {
    let name = attachment.filename();
    let too_large = |size: usize| {
        ctx.reports.record(
            DiscardReason::Invalid,
            DataCategory::Attachment,
            size as u64,
        );
        sentry_sdk_transport::sdk_debug!(
            "attachment {name:?} dropped: {size} bytes is over max_attachment_size ({max})"
        );
        None
    };
    if let Some(bytes) = attachment.bytes() {
        return match bytes.len() > max {
            true => too_large(bytes.len()),
            false => Some(Cow::Borrowed(bytes)),
        };
    }
    let path = attachment.path()?;
    // Checked before reading, so that a huge file is never read whole.
    let size = match std::fs::metadata(path) {
        Ok(meta) => meta.len() as usize,
        Err(e) => return unreadable(ctx, name, path, &e, 0),
    };
    if size > max {
        return too_large(size);
    }
    match std::fs::read(path) {
        // The file may have grown since.
        Ok(bytes) if bytes.len() > max => too_large(bytes.len()),
        Ok(bytes) => Some(Cow::Owned(bytes)),
        Err(e) => unreadable(ctx, name, path, &e, size),
    }
}

/// A file attachment that could not be read: counted by its size if known
/// (`internal_sdk_error`), and said with `debug(true)`.
fn unreadable<T>(
    ctx: &BuildContext,
    name: &str,
    path: &std::path::Path,
    e: &std::io::Error,
    size: usize,
) -> Option<T> {
    ctx.reports.record(
        DiscardReason::InternalSdkError,
        DataCategory::Attachment,
        size as u64,
    );
    sentry_sdk_transport::sdk_debug!(
        "attachment {name:?} dropped: could not read {}: {e}",
        path.display()
    );
    None
}

/// Counts the attachments of an event dropped for `reason` (by bytes; a file by its current
/// size, if it can be read). On the worker.
pub(crate) fn dropped<'a>(
    ctx: &BuildContext,
    reason: DiscardReason,
    attachments: impl Iterator<Item = &'a Attachment>,
) {
    let bytes: u64 = attachments
        .map(|a| match (a.bytes(), a.path()) {
            (Some(bytes), _) => bytes.len() as u64,
            (None, Some(path)) => std::fs::metadata(path).map_or(0, |m| m.len()),
            (None, None) => 0,
        })
        .sum();
    ctx.reports.record(reason, DataCategory::Attachment, bytes);
}

/// Counts the in-memory attachments of an event dropped on the caller's thread (sampled out):
/// files are not looked at there (no I/O on the caller's thread), so they are not counted.
pub(crate) fn dropped_unread<'a>(
    reports: &sentry_sdk_transport::ClientReports,
    reason: DiscardReason,
    attachments: impl Iterator<Item = &'a Attachment>,
) {
    let bytes: usize = attachments.filter_map(|a| a.bytes()).map(<[u8]>::len).sum();
    reports.record(reason, DataCategory::Attachment, bytes as u64);
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use sentry_sdk_transport::sync::Mutex;
    use sentry_sdk_transport::{Outgoing, Transport};

    use crate::protocol::{Attachment, Level};
    use crate::{Client, ClientOptions, Scope};

    /// Keeps each outgoing's size hint and builds it (on the calling thread).
    #[derive(Default)]
    struct Sizes(Mutex<Vec<(usize, Vec<String>)>>);

    impl Transport for Sizes {
        fn send(&self, outgoing: Outgoing) {
            let hint = outgoing.size_hint();
            let types = outgoing.into_envelope().map_or_else(Vec::new, |e| {
                e.items().iter().map(|i| i.item_type().to_owned()).collect()
            });
            self.0.lock().push((hint, types));
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
        crate::binding::with_thread_client(client, || {
            crate::scope::stack::with_isolation(Scope::new().forked(), f)
        });
        let out = std::mem::take(&mut *sizes.0.lock());
        out
    }

    /// The queue's byte bound sees an event's attachments while it waits; transactions never
    /// carry the scope's attachments.
    #[test]
    fn queued_events_count_their_attachments_and_transactions_carry_none() {
        let sent = run(|| {
            crate::capture_message("plain", Level::Error);
            crate::add_attachment(Attachment::from_bytes("big.bin", vec![0u8; 300_000]));
            crate::capture_message("with", Level::Error);
            let tx = crate::performance::start_transaction(
                crate::performance::TransactionContext::new("job", "task"),
            );
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
}
