//! The core crate's error type: what `init` and the fallible option setters report.

use std::fmt;
use std::sync::Arc;

/// A configuration problem found while building [`ClientOptions`](crate::ClientOptions).
///
/// `init` never panics on one of these: it prints the message once to stderr and runs disabled.
/// The message names the bad part of the input but never a DSN's keys.
///
/// ```
/// let err = sentry_sdk_core::ClientOptions::new().try_dsn("ftp://key@host/1").unwrap_err();
/// assert!(err.to_string().contains("scheme"));
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Error {
    /// The DSN could not be parsed; the source says which part is wrong.
    InvalidDsn(Arc<sentry_sdk_transport::Error>),
    /// An option's value is out of range.
    InvalidOption {
        /// The option's name, as its setter is named.
        name: &'static str,
        /// What is wrong with the value.
        reason: String,
    },
    /// No DSN was given, in code or in `SENTRY_DSN`: the documented way to run with the SDK
    /// off, not a mistake.
    NoDsn,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidDsn(err) => write!(f, "{err}"),
            Error::InvalidOption { name, reason } => write!(f, "invalid option `{name}`: {reason}"),
            Error::NoDsn => f.write_str(
                "no DSN set (in code or in SENTRY_DSN), so the SDK is off and every call is a no-op",
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::InvalidDsn(err) => Some(&**err),
            Error::InvalidOption { .. } | Error::NoDsn => None,
        }
    }
}
