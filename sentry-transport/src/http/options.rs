use std::sync::Arc;
use std::time::Duration;

use crate::client_report::ClientReports;
use crate::dsn::Dsn;

/// Settings of the [`HttpTransport`](super::HttpTransport).
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Where to send.
    pub dsn: Dsn,
    /// `name/version` of the SDK, for `X-Sentry-Auth` and `User-Agent`.
    pub sdk_client: String,
    /// Where drops are counted; shared with the client.
    pub client_reports: Arc<ClientReports>,
    /// Most envelopes queued at once. Default 10,000.
    pub queue_capacity: usize,
    /// Most (estimated) bytes queued at once. Default 32 MiB.
    pub queue_max_bytes: usize,
    /// TCP connect timeout. Default 5 s.
    pub connect_timeout: Duration,
    /// Whole-request timeout. Default 30 s.
    pub request_timeout: Duration,
}

impl HttpOptions {
    /// Defaults for `dsn`, with fresh client-report counters.
    pub fn new(dsn: Dsn, sdk_client: impl Into<String>) -> Self {
        HttpOptions {
            dsn,
            sdk_client: sdk_client.into(),
            client_reports: Arc::new(ClientReports::new(true)),
            queue_capacity: 10_000,
            queue_max_bytes: 32 * 1024 * 1024,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
        }
    }
}
