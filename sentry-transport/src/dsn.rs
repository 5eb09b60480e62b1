//! Parsing and printing DSNs (`scheme://public_key[:secret]@host[:port][/path]/project_id`).

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, ErrorKind};

/// A parsed Sentry DSN: where to send envelopes and how to authenticate.
///
/// `Debug` and `Display` never print the secret key; `Display` prints the public key because the
/// DSN is meant to be shared with clients.
///
/// ```
/// use sentry_sdk_transport::Dsn;
/// let dsn: Dsn = "https://key@o1.ingest.sentry.io/42".parse().unwrap();
/// assert_eq!(dsn.project_id(), "42");
/// assert_eq!(dsn.envelope_url(), "https://o1.ingest.sentry.io/api/42/envelope/");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Dsn {
    https: bool,
    public_key: String,
    secret_key: Option<String>,
    host: String,
    port: u16,
    path: String,
    project_id: String,
}

impl Dsn {
    /// Whether the scheme is `https`.
    pub fn is_https(&self) -> bool {
        self.https
    }
    /// `http` or `https`.
    pub fn scheme(&self) -> &'static str {
        if self.https {
            "https"
        } else {
            "http"
        }
    }
    /// The public key (`sentry_key`).
    pub fn public_key(&self) -> &str {
        &self.public_key
    }
    /// The deprecated secret key, if the DSN has a non-empty one.
    pub fn secret_key(&self) -> Option<&str> {
        self.secret_key.as_deref()
    }
    /// The host name or address.
    pub fn host(&self) -> &str {
        &self.host
    }
    /// The port, with the scheme's default filled in.
    pub fn port(&self) -> u16 {
        self.port
    }
    /// The path prefix before the project id: `/` or `/a/b/`.
    pub fn path(&self) -> &str {
        &self.path
    }
    /// The project id, kept as written (not URL-decoded).
    pub fn project_id(&self) -> &str {
        &self.project_id
    }
    /// The organisation id from a SaaS ingest host (`o123.ingest[.region].sentry.io`).
    pub fn org_id(&self) -> Option<u64> {
        let mut labels = self.host.split('.');
        let first = labels.next()?;
        let rest: Vec<&str> = labels.collect();
        let saas = matches!(
            rest.as_slice(),
            ["ingest", "sentry", "io"] | ["ingest", _, "sentry", "io"]
        );
        if !saas {
            return None;
        }
        let digits = first.strip_prefix('o')?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok()
    }

    fn default_port(&self) -> u16 {
        if self.https {
            443
        } else {
            80
        }
    }

    fn host_port(&self) -> String {
        if self.port == self.default_port() {
            self.host.clone()
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// The envelope endpoint: `{scheme}://{host}[:{port}]{path}api/{project_id}/envelope/`.
    pub fn envelope_url(&self) -> String {
        format!(
            "{}://{}{}api/{}/envelope/",
            self.scheme(),
            self.host_port(),
            self.path,
            self.project_id
        )
    }

    /// The `X-Sentry-Auth` header value for a client named `client` (`name/version`).
    pub fn auth_header(&self, client: &str) -> String {
        let mut header = format!(
            "Sentry sentry_key={}, sentry_version=7, sentry_client={client}",
            self.public_key
        );
        if let Some(secret) = &self.secret_key {
            header.push_str(", sentry_secret=");
            header.push_str(secret);
        }
        header
    }
}

impl FromStr for Dsn {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (scheme, rest) = s
            .split_once("://")
            .ok_or_else(|| Error::new(ErrorKind::DsnSyntax))?;
        let https = match scheme.to_ascii_lowercase().as_str() {
            "https" => true,
            "http" => false,
            other => return Err(Error::new(ErrorKind::DsnScheme(other.to_owned()))),
        };
        // Authority runs to the first '/', '?' or '#'; the query and fragment are ignored.
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        let path_end = tail.find(['?', '#']).unwrap_or(tail.len());
        let full_path = &tail[..path_end];

        let (userinfo, hostport) = authority
            .rsplit_once('@')
            .ok_or_else(|| Error::new(ErrorKind::DsnMissingPublicKey))?;
        let (public_key, secret_key) = match userinfo.split_once(':') {
            Some((public, secret)) => (public, (!secret.is_empty()).then(|| secret.to_owned())),
            None => (userinfo, None),
        };
        if public_key.is_empty() {
            return Err(Error::new(ErrorKind::DsnMissingPublicKey));
        }

        let (host, port_text) = split_host_port(hostport);
        if host.is_empty() {
            return Err(Error::new(ErrorKind::DsnMissingHost));
        }
        let port = match port_text {
            None => {
                if https {
                    443
                } else {
                    80
                }
            }
            Some(p) => match p.parse::<u16>() {
                Ok(n) if n > 0 => n,
                _ => return Err(Error::new(ErrorKind::DsnPort(p.to_owned()))),
            },
        };

        // A trailing slash after the project id is tolerated, as sentry-native and sentry-rust do.
        let trimmed = full_path.trim_end_matches('/');
        let (prefix, project_id) = trimmed.rsplit_once('/').unwrap_or(("", ""));
        if project_id.is_empty() {
            return Err(Error::new(ErrorKind::DsnMissingProjectId));
        }
        let path = if prefix.is_empty() {
            "/".to_owned()
        } else {
            format!("{prefix}/")
        };

        Ok(Dsn {
            https,
            public_key: public_key.to_owned(),
            secret_key,
            host: host.to_owned(),
            port,
            path,
            project_id: project_id.to_owned(),
        })
    }
}

/// Splits `host[:port]`, keeping IPv6 literals (`[::1]:9000`) whole.
fn split_host_port(hostport: &str) -> (&str, Option<&str>) {
    if hostport.starts_with('[') {
        if let Some(close) = hostport.find(']') {
            let host = &hostport[..=close];
            let after = &hostport[close + 1..];
            return (host, after.strip_prefix(':'));
        }
        return (hostport, None);
    }
    match hostport.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (hostport, None),
    }
}

impl fmt::Display for Dsn {
    /// Prints the DSN without its secret key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}://{}@{}{}{}",
            self.scheme(),
            self.public_key,
            self.host_port(),
            self.path,
            self.project_id
        )
    }
}

impl fmt::Debug for Dsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dsn")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("path", &self.path)
            .field("project_id", &self.project_id)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Dsn {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn kind(s: &str) -> ErrorKind {
        s.parse::<Dsn>().unwrap_err().kind().clone()
    }

    #[test]
    fn full_dsn_with_secret_and_encoded_project() {
        let dsn = parse("https://username:password@domain:8888/23%21");
        assert!(dsn.is_https());
        assert_eq!(dsn.public_key(), "username");
        assert_eq!(dsn.secret_key(), Some("password"));
        assert_eq!(dsn.host(), "domain");
        assert_eq!(dsn.port(), 8888);
        assert_eq!(dsn.path(), "/");
        assert_eq!(dsn.project_id(), "23%21");
        assert_eq!(
            dsn.envelope_url(),
            "https://domain:8888/api/23%21/envelope/"
        );
    }

    #[test]
    fn empty_secret_is_no_secret_and_default_port() {
        let dsn = parse("https://username:@domain/42");
        assert_eq!(dsn.secret_key(), None);
        assert_eq!(dsn.port(), 443);
        assert_eq!(dsn.envelope_url(), "https://domain/api/42/envelope/");
        assert_eq!(parse("https://username@domain/42"), dsn);
    }

    #[test]
    fn path_prefix_is_kept() {
        let dsn = parse("http://username:@domain:8888/pathone/pathtwo/pid");
        assert_eq!(dsn.path(), "/pathone/pathtwo/");
        assert_eq!(dsn.project_id(), "pid");
        assert_eq!(
            dsn.envelope_url(),
            "http://domain:8888/pathone/pathtwo/api/pid/envelope/"
        );
    }

    #[test]
    fn org_id_only_from_saas_ingest_hosts() {
        assert_eq!(
            parse("https://u@o123.ingest.de.sentry.io/42").org_id(),
            Some(123)
        );
        assert_eq!(
            parse("https://u@o123.ingest.sentry.io/42").org_id(),
            Some(123)
        );
        for host in [
            "o123.sentry.io",
            "blah.ingest.sentry.io",
            "oabc.ingest.sentry.io",
            "localhost",
        ] {
            assert_eq!(
                parse(&format!("https://u@{host}/42")).org_id(),
                None,
                "{host}"
            );
        }
    }

    #[test]
    fn trailing_slash_after_project_is_accepted() {
        let dsn = parse("https://k@h/42/");
        assert_eq!(dsn.project_id(), "42");
        assert_eq!(dsn.path(), "/");
    }

    #[test]
    fn default_port_is_omitted_and_explicit_default_port_normalised() {
        assert_eq!(
            parse("http://k@h:80/1").envelope_url(),
            "http://h/api/1/envelope/"
        );
        assert_eq!(
            parse("http://k@127.0.0.1:9000/1").envelope_url(),
            "http://127.0.0.1:9000/api/1/envelope/"
        );
        assert_eq!(parse("http://k@[::1]:9000/1").host(), "[::1]");
    }

    #[test]
    fn errors_name_the_bad_part() {
        assert_eq!(kind("ftp://k@h/1"), ErrorKind::DsnScheme("ftp".into()));
        assert_eq!(kind("https://h/1"), ErrorKind::DsnMissingPublicKey);
        assert_eq!(kind("https://:secret@h/1"), ErrorKind::DsnMissingPublicKey);
        assert_eq!(kind("https://k@/1"), ErrorKind::DsnMissingHost);
        assert_eq!(
            kind("https://k@h:99999/1"),
            ErrorKind::DsnPort("99999".into())
        );
        assert_eq!(kind("https://k@h:abc/1"), ErrorKind::DsnPort("abc".into()));
        assert_eq!(kind("https://k@h"), ErrorKind::DsnMissingProjectId);
        assert_eq!(kind("https://k@h/"), ErrorKind::DsnMissingProjectId);
        assert_eq!(kind("not a dsn"), ErrorKind::DsnSyntax);
        assert!("".parse::<Dsn>().unwrap_err().is_dsn());
    }

    #[test]
    fn secrets_never_printed() {
        let dsn = parse("https://public:topsecret@h/1");
        assert!(!format!("{dsn}").contains("topsecret"));
        assert!(!format!("{dsn:?}").contains("topsecret"));
        assert!(!format!("{dsn:?}").contains("public"));
        let err = "https://public:topsecret@h:bad/1"
            .parse::<Dsn>()
            .unwrap_err();
        assert!(!err.to_string().contains("topsecret"));
    }

    #[test]
    fn auth_header_shape() {
        let dsn = parse("https://pub:sec@h/1");
        assert_eq!(
            dsn.auth_header("sentry.rust.sdk/0.1.0"),
            "Sentry sentry_key=pub, sentry_version=7, sentry_client=sentry.rust.sdk/0.1.0, sentry_secret=sec"
        );
    }
}
