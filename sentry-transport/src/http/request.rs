//! One POST of one envelope: gzip, headers, and what the response means.
//!
//! Only the status and headers matter. Of the body at most [`MAX_BODY_READ`] bytes are read,
//! for at most [`BODY_READ_TIME`], for the debug output; then the response is dropped, which
//! closes the connection if the body went on (hyper never drains it). A server or proxy that
//! answers with a huge or endless body therefore costs neither memory nor time.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use flate2::write::GzEncoder;
use flate2::Compression;

use super::health::Health;
use super::options::HttpOptions;
use crate::envelope::Envelope;
use crate::rate_limit::RateLimits;
use crate::sync::Mutex;

/// Most bytes of a response body ever read. Enough for any error message worth printing, and
/// for the short bodies real servers send (`{"id":"…"}`) to be read to their end, which keeps
/// the connection reusable; anything longer is cut off with its connection.
const MAX_BODY_READ: usize = 4 * 1024;
/// Longest wait for the body once the status is in (and never past the request timeout). The
/// outcome is known already: a body that trickles or never comes must not hold a request slot,
/// or a crash handler waiting for this delivery, for the rest of the request timeout.
const BODY_READ_TIME: Duration = Duration::from_secs(1);
/// How much of a body the debug output shows.
const BODY_SHOWN_CHARS: usize = 200;

/// How one POST ended, from the SDK's point of view (PROTOCOL.md §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Outcome {
    Delivered,
    /// 429: the server counted it already, so no client report and no retry.
    RateLimited,
    /// Any other error status: dropped, `send_error`, never retried.
    Rejected(u16),
    /// No answer (refused, reset, timeout, DNS): retried, then cached or `network_error`.
    NetworkError,
}

/// The HTTP side of the worker: client, URL and auth header, built once.
#[derive(Debug)]
pub(super) struct Poster {
    client: reqwest::Client,
    /// Parsed once: parsing per request showed up in profiles.
    url: reqwest::Url,
    auth: String,
    gzip_threshold: usize,
    request_timeout: Duration,
    /// Told how every POST ended, for `send_crash`.
    health: Arc<Health>,
}

impl Poster {
    pub(super) fn new(options: &HttpOptions, health: Arc<Health>) -> Result<Poster, String> {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(options.connect_timeout)
            .timeout(options.request_timeout)
            .user_agent(options.sdk_client.clone())
            .pool_max_idle_per_host(options.max_in_flight.max(1))
            // Never follow a redirect: reqwest would repeat a 307/308 POST, envelope and
            // `X-Sentry-Auth` (which it does not count as sensitive) included, to wherever the
            // `Location` points. A 3xx is an error status like any other (dropped, `send_error`).
            .redirect(reqwest::redirect::Policy::none())
            .danger_accept_invalid_certs(options.accept_invalid_certs);
        if let Some(proxy) = &options.http_proxy {
            builder =
                builder.proxy(reqwest::Proxy::http(proxy).map_err(|e| format!("http_proxy: {e}"))?);
        }
        if let Some(proxy) = &options.https_proxy {
            builder = builder
                .proxy(reqwest::Proxy::https(proxy).map_err(|e| format!("https_proxy: {e}"))?);
        }
        for pem in &options.root_certificates {
            let certificates =
                reqwest::Certificate::from_pem_bundle(pem).map_err(|e| e.to_string())?;
            if certificates.is_empty() {
                return Err("a root certificate holds no PEM certificate".to_owned());
            }
            for certificate in certificates {
                builder = builder.add_root_certificate(certificate);
            }
        }
        Ok(Poster {
            client: builder.build().map_err(|e| e.to_string())?,
            url: reqwest::Url::parse(&options.dsn.envelope_url())
                .map_err(|e| format!("envelope URL: {e}"))?,
            auth: options.dsn.auth_header(&options.sdk_client),
            gzip_threshold: options.gzip_threshold,
            request_timeout: options.request_timeout,
            health,
        })
    }

    /// Sends `envelope` with a fresh `sent_at`, updating `limits` from the response headers
    /// and the server's health from the outcome.
    pub(super) async fn post(
        &self,
        envelope: &mut Envelope,
        limits: &Mutex<RateLimits>,
    ) -> Outcome {
        let outcome = self.exchange(envelope, limits).await;
        self.health.note(outcome);
        outcome
    }

    async fn exchange(&self, envelope: &mut Envelope, limits: &Mutex<RateLimits>) -> Outcome {
        let started = Instant::now();
        // `sent_at` is written at send time only, never into anything stored.
        envelope.set_header("sent_at", crate::time::rfc3339(SystemTime::now()));
        let body = envelope.to_bytes();
        let mut request = self
            .client
            .post(self.url.clone())
            .header("X-Sentry-Auth", &self.auth)
            .header("Content-Type", "application/x-sentry-envelope");
        request = match gzip(&body, self.gzip_threshold) {
            Some(compressed) => request.header("Content-Encoding", "gzip").body(compressed),
            None => request.body(body),
        };
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) => {
                crate::sdk_debug!("sending failed: {e}");
                return Outcome::NetworkError;
            }
        };
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let (rate_limits, retry_after) = (header("x-sentry-rate-limits"), header("retry-after"));
        limits.lock().update(
            Instant::now(),
            status,
            rate_limits.as_deref(),
            retry_after.as_deref(),
        );
        // `checked_add`: a huge request timeout (`Duration::MAX` for "none") must not panic here.
        let body_deadline = Instant::now() + BODY_READ_TIME;
        let deadline = started
            .checked_add(self.request_timeout)
            .map_or(body_deadline, |d| d.min(body_deadline));
        let body = read_capped(response, deadline).await;
        let shown = || {
            String::from_utf8_lossy(&body)
                .chars()
                .take(BODY_SHOWN_CHARS)
                .collect::<String>()
        };
        match status {
            200..=299 => Outcome::Delivered,
            429 => Outcome::RateLimited,
            413 => {
                crate::debug::always_log(format_args!(
                    "envelope {} rejected as too large (HTTP 413) and dropped: {}",
                    envelope.event_id().unwrap_or("-"),
                    shown()
                ));
                Outcome::Rejected(413)
            }
            other => {
                crate::sdk_debug!("the server answered HTTP {other}: {}", shown());
                Outcome::Rejected(other)
            }
        }
    }
}

/// The first `MAX_BODY_READ` bytes of the body, or what came before `deadline`. Each chunk is
/// dropped as soon as its bytes are copied, and the response with it when this returns.
async fn read_capped(mut response: reqwest::Response, deadline: Instant) -> Vec<u8> {
    let mut body = Vec::new();
    let read = async {
        while body.len() < MAX_BODY_READ {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    let take = chunk.len().min(MAX_BODY_READ - body.len());
                    body.extend_from_slice(&chunk[..take]);
                }
                // The end, or a body cut short: what came is all there is to show.
                Ok(None) | Err(_) => break,
            }
        }
    };
    // Timing out is not an error: the status decided the outcome already.
    let _ = tokio::time::timeout_at(deadline.into(), read).await;
    body
}

/// Gzip at the fast level when the body is worth it.
fn gzip(body: &[u8], threshold: usize) -> Option<Vec<u8>> {
    if body.len() <= threshold {
        return None;
    }
    let mut encoder = GzEncoder::new(Vec::with_capacity(body.len() / 3), Compression::fast());
    encoder.write_all(body).ok()?;
    encoder.finish().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn gzip_only_above_threshold_and_round_trips() {
        assert!(gzip(b"small", 1024).is_none());
        let body = vec![b'a'; 5000];
        let packed = gzip(&body, 1024).unwrap();
        assert!(packed.len() < 200);
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&packed[..])
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, body);
    }
}
