//! [`Attachment`]: a file sent with an event (or a user feedback) as an `attachment` envelope
//! item (PROTOCOL.md §1.4).
//!
//! Costs: an attachment is a few pointers. Its bytes are shared (`Arc<[u8]>`), so that adding
//! one to a scope, forking the scope and snapshotting it for a capture never copies them; a
//! file attachment holds only its path and is read on the SDK's thread when the envelope is
//! built, never on the caller's.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The content type an attachment gets unless told otherwise.
const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";

/// What kind of file an attachment is, which tells the server how to process it (the item's
/// `attachment_type` header). Most attachments are plain [`AttachmentType::Attachment`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum AttachmentType {
    /// A plain file shown with the event (`event.attachment`). The default.
    #[default]
    Attachment,
    /// A minidump of a native crash (`event.minidump`), processed by the server.
    Minidump,
    /// An Apple crash report (`event.applecrashreport`).
    AppleCrashReport,
    /// An Unreal Engine context file (`unreal.context`).
    UnrealContext,
    /// An Unreal Engine log file (`unreal.logs`).
    UnrealLogs,
    /// A JSON view hierarchy of a UI (`event.view_hierarchy`).
    ViewHierarchy,
}

impl AttachmentType {
    /// The name on the wire (the `attachment_type` item header).
    ///
    /// ```
    /// use sentry_sdk_core::protocol::AttachmentType;
    /// assert_eq!(AttachmentType::default().as_str(), "event.attachment");
    /// assert_eq!(AttachmentType::Minidump.as_str(), "event.minidump");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            AttachmentType::Attachment => "event.attachment",
            AttachmentType::Minidump => "event.minidump",
            AttachmentType::AppleCrashReport => "event.applecrashreport",
            AttachmentType::UnrealContext => "unreal.context",
            AttachmentType::UnrealLogs => "unreal.logs",
            AttachmentType::ViewHierarchy => "event.view_hierarchy",
        }
    }
}

/// Where an attachment's bytes are.
#[derive(Clone)]
enum Data {
    Bytes(Arc<[u8]>),
    /// Read on the SDK's thread when the envelope is built.
    Path(Arc<Path>),
}

/// A file sent with an event: bytes you have, or a file read when the event is sent.
///
/// Add one to a scope ([`add_attachment`](crate::add_attachment),
/// [`Scope::add_attachment`](crate::Scope::add_attachment)) to send it with every error event
/// captured there (a panic's included), or to one capture
/// ([`capture_exception_with_attachments`](crate::capture_exception_with_attachments)).
/// Transactions never carry attachments. An attachment larger than
/// [`ClientOptions::max_attachment_size`](crate::ClientOptions::max_attachment_size) is left
/// out (the event is still sent) and counted as dropped.
///
/// Cloning is cheap: the bytes are shared, not copied.
///
/// ```
/// use sentry_sdk_core::protocol::{Attachment, AttachmentType};
/// let config = Attachment::from_bytes("config.toml", b"threads = 4\n".to_vec())
///     .with_content_type("application/toml");
/// assert_eq!(config.filename(), "config.toml");
/// assert_eq!(config.bytes(), Some(&b"threads = 4\n"[..]));
///
/// let log = Attachment::from_path("/var/log/app/current.log");
/// assert_eq!(log.filename(), "current.log");
/// assert_eq!(log.content_type(), "application/octet-stream");
/// assert_eq!(log.attachment_type(), AttachmentType::Attachment);
/// ```
#[derive(Clone)]
pub struct Attachment {
    data: Data,
    filename: Arc<str>,
    content_type: Option<Arc<str>>,
    ty: AttachmentType,
}

impl Attachment {
    /// An attachment of `bytes`, named `filename` (what Sentry shows and offers to download).
    /// Pass an `Arc<[u8]>` to share bytes you keep; a `Vec<u8>` is moved in (one copy).
    pub fn from_bytes(filename: impl Into<String>, bytes: impl Into<Arc<[u8]>>) -> Self {
        Attachment {
            data: Data::Bytes(bytes.into()),
            filename: Arc::from(filename.into()),
            content_type: None,
            ty: AttachmentType::default(),
        }
    }

    /// An attachment of the file at `path`, named after its last component. The file is read
    /// when the event is sent, on the SDK's thread: what it holds then is sent (a panic's
    /// event is built in the panic hook, so a panic reads it there). A file that cannot be
    /// read then is left out (the event is still sent; said with `debug(true)`).
    pub fn from_path(path: impl Into<PathBuf>) -> Self {
        let path: PathBuf = path.into();
        let filename = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "attachment".to_owned());
        Attachment {
            data: Data::Path(Arc::from(path)),
            filename: Arc::from(filename),
            content_type: None,
            ty: AttachmentType::default(),
        }
    }

    /// Sets the name Sentry shows.
    #[must_use]
    pub fn with_filename(mut self, filename: impl Into<String>) -> Self {
        self.filename = Arc::from(filename.into());
        self
    }

    /// Sets the MIME type (`text/plain`, `application/json`, ...). Default is
    /// `application/octet-stream`.
    #[must_use]
    pub fn with_content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = Some(Arc::from(content_type.into()));
        self
    }

    /// Sets what kind of file it is. Default is [`AttachmentType::Attachment`].
    #[must_use]
    pub fn with_attachment_type(mut self, ty: AttachmentType) -> Self {
        self.ty = ty;
        self
    }

    /// The name Sentry shows.
    pub fn filename(&self) -> &str {
        &self.filename
    }

    /// The MIME type.
    pub fn content_type(&self) -> &str {
        self.content_type.as_deref().unwrap_or(DEFAULT_CONTENT_TYPE)
    }

    /// What kind of file it is.
    pub fn attachment_type(&self) -> AttachmentType {
        self.ty
    }

    /// The bytes, for an attachment made from bytes.
    pub fn bytes(&self) -> Option<&[u8]> {
        match &self.data {
            Data::Bytes(bytes) => Some(bytes),
            Data::Path(_) => None,
        }
    }

    /// The file, for an attachment read from a file.
    pub fn path(&self) -> Option<&Path> {
        match &self.data {
            Data::Bytes(_) => None,
            Data::Path(path) => Some(path),
        }
    }

    /// What the queue's byte bound counts for it while it waits: its bytes, or a path.
    pub(crate) fn queued_size(&self) -> usize {
        64 + self.filename.len()
            + match &self.data {
                Data::Bytes(bytes) => bytes.len(),
                Data::Path(path) => path.as_os_str().len(),
            }
    }
}

impl fmt::Debug for Attachment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Attachment");
        d.field("filename", &self.filename);
        match &self.data {
            Data::Bytes(bytes) => d.field("bytes", &bytes.len()),
            Data::Path(path) => d.field("path", path),
        };
        d.field("content_type", &self.content_type())
            .field("attachment_type", &self.ty)
            .finish()
    }
}
