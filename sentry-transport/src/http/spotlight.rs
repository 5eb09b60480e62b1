//! Spotlight (Sentry for local development): a copy of every envelope the worker sends, POSTed
//! to Spotlight's sidecar, which shows it in its UI.
//!
//! The copy leaves before the real delivery and apart from it: it is taken before rate limits
//! filter anything, it runs in a task of its own on the worker's runtime, and whatever the
//! sidecar does (not running, slow, an error) the real delivery neither waits nor fails. At most
//! `MAX_IN_FLIGHT` copies are on their way at once; more are skipped (said with `debug`), so a
//! sidecar that hangs holds a bounded amount of memory. A `flush` waits for copies on their way
//! (each at most `TIMEOUT`), so a short program's last events reach the sidecar.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use super::progress::Progress;
use crate::envelope::Envelope;

/// Copies on their way to the sidecar at once, at most.
const MAX_IN_FLIGHT: usize = 16;
/// A copy's whole request, at most (the sidecar runs on this machine).
const TIMEOUT: Duration = Duration::from_secs(2);

/// The way to the sidecar.
#[derive(Debug)]
pub(super) struct Spotlight {
    client: reqwest::Client,
    url: reqwest::Url,
    permits: Arc<Semaphore>,
}

impl Spotlight {
    /// The sidecar at `url` (an `http` or `https` URL, usually `http://localhost:8969/stream`).
    pub(super) fn new(url: &str) -> Result<Spotlight, String> {
        let url = reqwest::Url::parse(url).map_err(|e| format!("spotlight URL {url:?}: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("spotlight URL {url}: not http(s)"));
        }
        let client = reqwest::Client::builder()
            // A local sidecar: never through the program's proxy.
            .no_proxy()
            .connect_timeout(TIMEOUT)
            .timeout(TIMEOUT)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Spotlight {
            client,
            url,
            permits: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
        })
    }

    /// Sends a copy of `envelope` in a task of its own (must run on the worker's runtime);
    /// never waits.
    pub(super) fn send(&self, envelope: &Envelope, progress: &Arc<Progress>) {
        let Ok(permit) = self.permits.clone().try_acquire_owned() else {
            crate::sdk_debug!("spotlight: {MAX_IN_FLIGHT} copies on their way; this one skipped");
            return;
        };
        let request = self
            .client
            .post(self.url.clone())
            .header("Content-Type", "application/x-sentry-envelope")
            .body(envelope.to_bytes());
        let progress = progress.clone();
        progress.begin();
        tokio::spawn(async move {
            match request.send().await {
                Ok(response) if response.status().is_success() => {}
                Ok(response) => {
                    crate::sdk_debug!("spotlight answered HTTP {}", response.status().as_u16())
                }
                Err(e) => crate::sdk_debug!("spotlight: {e}"),
            }
            drop(permit);
            progress.finish();
        });
    }
}
