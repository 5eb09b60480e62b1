//! The transport crate's error type.

use std::fmt;

/// What went wrong in the transport layer: parsing a DSN or an envelope, or starting the worker.
///
/// Messages name the bad part of the input but never a DSN's keys.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

/// The kind of an [`Error`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The DSN's scheme is not `http` or `https`; holds the scheme found.
    DsnScheme(String),
    /// The DSN has no `public_key@` part.
    DsnMissingPublicKey,
    /// The DSN has no host.
    DsnMissingHost,
    /// The DSN's port is not a number from 1 to 65535; holds the text found.
    DsnPort(String),
    /// The DSN has no project id as its last path segment.
    DsnMissingProjectId,
    /// The text is not shaped like a DSN at all (`scheme://key@host/project`).
    DsnSyntax,
    /// An envelope could not be parsed; holds the byte offset and what was wrong there.
    MalformedEnvelope {
        /// Byte offset into the envelope.
        offset: usize,
        /// What the parser expected.
        reason: &'static str,
    },
    /// The background worker thread or its runtime could not be started.
    WorkerStart,
    /// An option value is out of range; holds the option's name.
    InvalidOption(&'static str),
}

impl Error {
    pub(crate) fn new(kind: ErrorKind) -> Self {
        Error { kind, source: None }
    }

    pub(crate) fn with_source(
        kind: ErrorKind,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Error {
            kind,
            source: Some(Box::new(source)),
        }
    }

    /// The kind of error.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// Whether this is a DSN parse error.
    pub fn is_dsn(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::DsnScheme(_)
                | ErrorKind::DsnMissingPublicKey
                | ErrorKind::DsnMissingHost
                | ErrorKind::DsnPort(_)
                | ErrorKind::DsnMissingProjectId
                | ErrorKind::DsnSyntax
        )
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ErrorKind::DsnScheme(s) => write!(f, "invalid DSN: scheme {s:?} is not http or https"),
            ErrorKind::DsnMissingPublicKey => write!(f, "invalid DSN: missing public key"),
            ErrorKind::DsnMissingHost => write!(f, "invalid DSN: missing host"),
            ErrorKind::DsnPort(p) => write!(f, "invalid DSN: port {p:?} is not a valid port"),
            ErrorKind::DsnMissingProjectId => write!(f, "invalid DSN: missing project id"),
            ErrorKind::DsnSyntax => {
                write!(
                    f,
                    "invalid DSN: expected scheme://public_key@host/project_id"
                )
            }
            ErrorKind::MalformedEnvelope { offset, reason } => {
                write!(f, "malformed envelope at byte {offset}: {reason}")
            }
            ErrorKind::WorkerStart => write!(f, "could not start the transport worker"),
            ErrorKind::InvalidOption(name) => write!(f, "invalid value for option {name}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}
