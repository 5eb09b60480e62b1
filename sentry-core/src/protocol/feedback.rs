//! [`Feedback`]: what a user said about a problem, sent with
//! [`capture_feedback`](crate::capture_feedback) as a `feedback` item (PROTOCOL.md §7).

use super::{Attachment, EventId};

/// The longest feedback message sent, in characters; longer ones are cut (Relay's limit).
pub const MAX_FEEDBACK_MESSAGE_CHARS: usize = 4096;

/// A user feedback: a message (required), optionally who sent it, where, and which event it
/// is about, and files to send with it. Sent by [`capture_feedback`](crate::capture_feedback).
///
/// ```
/// use sentry_sdk_core::protocol::{Attachment, Feedback};
/// let feedback = Feedback::new("The export button does nothing")
///     .with_name("Ada")
///     .with_email("ada@example.com")
///     .with_url("https://app.example.com/export")
///     .with_attachment(Attachment::from_bytes("notes.txt", b"clicked twice".to_vec()));
/// assert_eq!(feedback.message, "The export button does nothing");
/// assert_eq!(feedback.attachments.len(), 1);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Feedback {
    /// What the user said; at most [`MAX_FEEDBACK_MESSAGE_CHARS`] characters are sent.
    pub message: String,
    /// The user's name.
    pub name: Option<String>,
    /// Where to reach the user (`contact_email`).
    pub email: Option<String>,
    /// The page or screen the feedback is about.
    pub url: Option<String>,
    /// The event the feedback is about (e.g. the id `capture_exception` returned).
    pub associated_event_id: Option<EventId>,
    /// Files sent in the feedback's envelope (screenshots, logs). The scopes' attachments are
    /// not added to feedback.
    pub attachments: Vec<Attachment>,
}

impl Feedback {
    /// A feedback saying `message`.
    pub fn new(message: impl Into<String>) -> Self {
        Feedback {
            message: message.into(),
            ..Default::default()
        }
    }

    /// Sets the user's name.
    #[must_use]
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Sets the user's email.
    #[must_use]
    pub fn with_email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    /// Sets the URL the feedback is about.
    #[must_use]
    pub fn with_url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }

    /// Links the feedback to an event (a nil id is ignored).
    #[must_use]
    pub fn with_associated_event_id(mut self, id: EventId) -> Self {
        self.associated_event_id = Some(id).filter(|id| !id.is_nil());
        self
    }

    /// Adds a file to send with the feedback.
    #[must_use]
    pub fn with_attachment(mut self, attachment: Attachment) -> Self {
        self.attachments.push(attachment);
        self
    }

    /// What the queue's byte bound counts for it while it waits.
    pub(crate) fn queued_size(&self) -> usize {
        let text = |s: &Option<String>| s.as_ref().map_or(0, String::len);
        256 + self.message.len()
            + text(&self.name)
            + text(&self.email)
            + text(&self.url)
            + self
                .attachments
                .iter()
                .map(Attachment::queued_size)
                .sum::<usize>()
    }

    /// The message cut to [`MAX_FEEDBACK_MESSAGE_CHARS`] characters.
    pub(crate) fn trim_message(&mut self) {
        if let Some((at, _)) = self.message.char_indices().nth(MAX_FEEDBACK_MESSAGE_CHARS) {
            self.message.truncate(at);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_messages_are_cut_on_a_char_boundary() {
        let mut f = Feedback::new("é".repeat(MAX_FEEDBACK_MESSAGE_CHARS + 10));
        f.trim_message();
        assert_eq!(f.message.chars().count(), MAX_FEEDBACK_MESSAGE_CHARS);
        let mut short = Feedback::new("ok");
        short.trim_message();
        assert_eq!(short.message, "ok");
    }
}
