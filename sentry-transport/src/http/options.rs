use std::sync::Arc;
use std::time::Duration;

use crate::cache::CacheOptions;
use crate::client_report::ClientReports;
use crate::dsn::Dsn;

/// Settings of the [`HttpTransport`](super::HttpTransport). Every field has a documented
/// default; build with [`HttpOptions::new`] and change what you need.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Where to send.
    pub dsn: Dsn,
    /// `name/version` of the SDK, for `X-Sentry-Auth` and `User-Agent`.
    pub sdk_client: String,
    /// Where drops are counted; shared with the client.
    pub client_reports: Arc<ClientReports>,
    /// Most envelopes queued at once. Default 30,000: a burst of 20,000 small events fits.
    pub queue_capacity: usize,
    /// Most (estimated) bytes queued at once. Default 32 MiB.
    pub queue_max_bytes: usize,
    /// Most requests in flight at once, on kept-alive connections. Default 8.
    pub max_in_flight: usize,
    /// TCP connect timeout. Default 5 s.
    pub connect_timeout: Duration,
    /// Whole-request timeout. Default 30 s.
    pub request_timeout: Duration,
    /// How often a network error is retried (with backoff) before the envelope is cached, if
    /// the offline cache is on, or dropped as `network_error`. Default 3. `close` interrupts
    /// the retries and caches at once.
    pub max_retries: u32,
    /// The first retry's delay; each next one doubles, with ±25 % jitter. Default 500 ms.
    pub retry_base_delay: Duration,
    /// Bodies larger than this are sent gzip-compressed. Default 8 KiB: an event with a stack
    /// trace (10-40 KiB) shrinks several times, while for a small message event or log batch
    /// compressing (and the server's inflating) costs more CPU than the bytes it saves; at
    /// 1 KiB every message event was compressed and a burst of them drained at a third of the
    /// speed.
    pub gzip_threshold: usize,
    /// Pending client reports are sent on their own at least this often. Default 60 s.
    pub client_report_interval: Duration,
    /// The offline cache; `None` (default) keeps nothing on disk.
    pub cache: Option<CacheOptions>,
    /// Proxy for `http://` DSNs. Default: `HTTP_PROXY` from the environment.
    pub http_proxy: Option<String>,
    /// Proxy for `https://` DSNs. Default: `HTTPS_PROXY` from the environment.
    pub https_proxy: Option<String>,
    /// Extra PEM root certificates trusted besides the webpki roots.
    pub root_certificates: Vec<Vec<u8>>,
    /// Accept any TLS certificate. Default `false`; only for testing.
    pub accept_invalid_certs: bool,
    /// Let the `tracing` events (and bridged `log` records) that reqwest, hyper and rustls
    /// emit on the SDK's own threads reach the program's subscriber. Default `false`: those
    /// threads run with a no-op dispatcher, so a subscriber at `TRACE` does not fill up with
    /// the SDK's connection chatter. The client sets it from its `debug` option.
    pub debug: bool,
    /// Envelopes the worker asks for at a fixed interval, such as release-health session
    /// aggregates (the client sets it). Default `None`.
    pub periodic: Option<Periodic>,
    /// Spotlight's sidecar (`http://localhost:8969/stream`, say): every envelope sent is also
    /// copied there, apart from the real delivery. Default `None`.
    pub spotlight: Option<String>,
    /// Whether envelopes go to the DSN's server. Default `true`; `false` for a client that
    /// only feeds Spotlight (no DSN: the DSN here is then a placeholder nothing is sent to).
    pub send_to_dsn: bool,
}

/// Envelopes made at a fixed interval on the worker (see [`HttpOptions::periodic`]).
#[derive(Clone)]
pub struct Periodic {
    /// How often `make` is called.
    pub every: Duration,
    /// Makes what is due (`None`: nothing); runs on the worker thread, so it must not block.
    pub make: Arc<dyn Fn() -> Option<crate::envelope::Envelope> + Send + Sync>,
}

impl std::fmt::Debug for Periodic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Periodic")
            .field("every", &self.every)
            .finish()
    }
}

impl HttpOptions {
    /// Defaults for `dsn`, with fresh client-report counters.
    pub fn new(dsn: Dsn, sdk_client: impl Into<String>) -> Self {
        HttpOptions {
            dsn,
            sdk_client: sdk_client.into(),
            client_reports: Arc::new(ClientReports::new(true)),
            queue_capacity: 30_000,
            queue_max_bytes: 32 * 1024 * 1024,
            max_in_flight: 8,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            max_retries: 3,
            retry_base_delay: Duration::from_millis(500),
            gzip_threshold: 8 * 1024,
            client_report_interval: Duration::from_secs(60),
            cache: None,
            http_proxy: None,
            https_proxy: None,
            root_certificates: Vec::new(),
            accept_invalid_certs: false,
            debug: false,
            periodic: None,
            spotlight: None,
            send_to_dsn: true,
        }
    }
}
