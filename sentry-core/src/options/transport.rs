//! Delivery options: the transport (the HTTP one or the user's), its queue, the offline cache,
//! proxies and TLS; and how the HTTP transport's options are made from them.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use sentry_sdk_transport::{CacheOptions, ClientReports, Dsn, HttpOptions, Transport};

use super::ClientOptions;

/// Builds the transport for a client; see [`ClientOptions::transport`].
pub type TransportFactory = Arc<dyn Fn(&TransportContext) -> Arc<dyn Transport> + Send + Sync>;

/// What a [`TransportFactory`] gets to build a transport with.
#[derive(Debug)]
pub struct TransportContext {
    /// The parsed DSN.
    pub dsn: Dsn,
    /// The `User-Agent` / `sentry_client` value, `sentry.rust.sdk/<version>`.
    pub sdk_client: String,
    /// Discard counters shared with the client, to be sent as client reports.
    pub client_reports: Arc<ClientReports>,
}

/// The delivery part of [`Settings`](super::Settings), each value documented on the
/// [`ClientOptions`] setter of the same name.
#[derive(Clone)]
#[non_exhaustive]
pub struct TransportSettings {
    /// The user's transport, replacing the HTTP one.
    pub factory: Option<TransportFactory>,
    /// Whether client reports (what was dropped, and why) are sent.
    pub send_client_reports: bool,
    /// Most envelopes waiting to be sent.
    pub queue_size: usize,
    /// The offline cache's directory, if on.
    pub cache_dir: Option<PathBuf>,
    /// Most envelopes the offline cache keeps.
    pub cache_max_items: usize,
    /// Proxy for `http://` DSNs (else `HTTP_PROXY`).
    pub http_proxy: Option<String>,
    /// Proxy for `https://` DSNs (else `HTTPS_PROXY`).
    pub https_proxy: Option<String>,
    /// Extra trusted root certificates (PEM).
    pub root_certificates: Vec<Vec<u8>>,
    /// Whether any TLS certificate is accepted.
    pub accept_invalid_certs: bool,
    /// Longest time one request to the server may take, connection included.
    pub request_timeout: Duration,
}

impl Default for TransportSettings {
    fn default() -> Self {
        TransportSettings {
            factory: None,
            send_client_reports: true,
            queue_size: 30_000,
            cache_dir: None,
            cache_max_items: 30,
            http_proxy: None,
            https_proxy: None,
            root_certificates: Vec::new(),
            accept_invalid_certs: false,
            request_timeout: Duration::from_secs(30),
        }
    }
}

impl TransportSettings {
    /// The HTTP transport's options for `dsn`, counting drops in `reports`.
    pub(crate) fn http_options(
        &self,
        dsn: Dsn,
        sdk_client: String,
        reports: Arc<ClientReports>,
    ) -> HttpOptions {
        let mut http = HttpOptions::new(dsn, sdk_client);
        http.client_reports = reports;
        http.queue_capacity = self.queue_size.max(1);
        http.http_proxy = self.http_proxy.clone();
        http.https_proxy = self.https_proxy.clone();
        http.root_certificates = self.root_certificates.clone();
        http.accept_invalid_certs = self.accept_invalid_certs;
        http.request_timeout = self.request_timeout;
        http.connect_timeout = http.connect_timeout.min(self.request_timeout);
        http.cache = self.cache_dir.as_ref().map(|dir| {
            let mut cache = CacheOptions::new(dir);
            cache.max_items = self.cache_max_items;
            cache
        });
        http
    }
}

impl fmt::Debug for TransportSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Proxies may carry credentials: shown as set/unset only.
        f.debug_struct("TransportSettings")
            .field("factory", &self.factory.is_some())
            .field("send_client_reports", &self.send_client_reports)
            .field("queue_size", &self.queue_size)
            .field("cache_dir", &self.cache_dir)
            .field("cache_max_items", &self.cache_max_items)
            .field("http_proxy", &self.http_proxy.is_some())
            .field("https_proxy", &self.https_proxy.is_some())
            .field("root_certificates", &self.root_certificates.len())
            .field("accept_invalid_certs", &self.accept_invalid_certs)
            .field("request_timeout", &self.request_timeout)
            .finish()
    }
}

// === delivery setters of ClientOptions ===

impl ClientOptions {
    /// Replaces the HTTP transport with your own, built once per client.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use sentry_sdk_core::transport::{Outgoing, Transport};
    ///
    /// struct Discard;
    /// impl Transport for Discard {
    ///     fn send(&self, _outgoing: Outgoing) {}
    ///     fn flush(&self, _timeout: Duration) -> bool { true }
    /// }
    /// let options = sentry_sdk_core::ClientOptions::new().transport(|_ctx| Arc::new(Discard));
    /// # let _ = options;
    /// ```
    pub fn transport(
        mut self,
        factory: impl Fn(&TransportContext) -> Arc<dyn Transport> + Send + Sync + 'static,
    ) -> Self {
        self.settings.transport.factory = Some(Arc::new(factory));
        self
    }

    /// Send client reports: counts of what the SDK dropped and why (default `true`).
    pub fn send_client_reports(mut self, on: bool) -> Self {
        self.settings.transport.send_client_reports = on;
        self
    }

    /// Turns on the offline cache in `dir` (default off): envelopes that could not be
    /// delivered (server down, network gone, process ending) are kept there and sent on the
    /// next start or when the server is back. Crash reports are written there before the
    /// panic hook waits, so they survive `panic = "abort"`.
    ///
    /// ```
    /// let options = sentry_sdk_core::ClientOptions::new().cache_dir(std::env::temp_dir().join("my-app-sentry"));
    /// # let _ = options;
    /// ```
    pub fn cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.settings.transport.cache_dir = Some(dir.into());
        self
    }

    /// Most envelopes the offline cache keeps; the oldest are dropped first (counted as
    /// `cache_overflow`). Default 30, as sentry-native.
    pub fn cache_max_items(mut self, max: usize) -> Self {
        self.settings.transport.cache_max_items = max;
        self
    }

    /// Proxy for `http://` DSNs (default: the `HTTP_PROXY` environment variable).
    pub fn http_proxy(mut self, url: impl Into<String>) -> Self {
        self.settings.transport.http_proxy = Some(url.into());
        self
    }

    /// Proxy for `https://` DSNs (default: the `HTTPS_PROXY` environment variable).
    pub fn https_proxy(mut self, url: impl Into<String>) -> Self {
        self.settings.transport.https_proxy = Some(url.into());
        self
    }

    /// Trusts an extra root certificate (PEM) besides the webpki roots, e.g. for a
    /// self-hosted server with a private CA. Default: none.
    pub fn add_root_certificate(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.settings.transport.root_certificates.push(pem.into());
        self
    }

    /// Accepts any TLS certificate (default `false`). Only for testing.
    pub fn accept_invalid_certs(mut self, on: bool) -> Self {
        self.settings.transport.accept_invalid_certs = on;
        self
    }

    /// Longest time one request to the server may take, connecting included (default 30 s).
    /// A request that runs out is a network error: retried with backoff, then cached (with
    /// the offline cache on) or counted as `network_error`. A zero timeout is an invalid
    /// option: the SDK stays disabled.
    ///
    /// ```
    /// use std::time::Duration;
    /// let options = sentry_sdk_core::ClientOptions::new().request_timeout(Duration::from_secs(5));
    /// assert_eq!(options.settings().transport.request_timeout, Duration::from_secs(5));
    /// ```
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        if timeout.is_zero() {
            self.remember(crate::Error::InvalidOption {
                name: "request_timeout",
                reason: "must be more than zero".into(),
            });
            return self;
        }
        self.settings.transport.request_timeout = timeout;
        self
    }

    /// Most envelopes waiting to be sent (default 30,000; the queue is also bounded to 32 MiB).
    /// Beyond it events are dropped and counted as `queue_overflow`, never waited for.
    pub fn transport_queue_size(mut self, size: usize) -> Self {
        self.settings.transport.queue_size = size;
        self
    }
}
