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
