//! The background thread: receives jobs, builds envelopes, POSTs them, records the outcome.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::SystemTime;

use tokio::sync::mpsc;

use super::options::HttpOptions;
use super::progress::Progress;
use crate::client_report::DiscardReason;
use crate::envelope::Envelope;
use crate::error::{Error, ErrorKind};
use crate::transport::Outgoing;

/// What callers put in the queue.
pub(super) enum Job {
    /// An envelope (or its builder) to send.
    Send(Outgoing),
    /// Send pending client reports now (queued by `flush`).
    FlushReports,
}

/// How one POST ended, from the SDK's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Delivered,
    /// 429: the server counted it already, so no client report.
    RateLimited,
    /// Any other error status: dropped, `send_error`.
    Rejected(u16),
    /// No answer (refused, reset, timeout, DNS): `network_error`.
    NetworkError,
}

pub(super) fn spawn(
    options: Arc<HttpOptions>,
    progress: Arc<Progress>,
    rx: mpsc::Receiver<Job>,
) -> Result<(), Error> {
    std::thread::Builder::new()
        .name("sentry-transport".into())
        .spawn(move || run(options, progress, rx))
        .map(|_| ())
        .map_err(|e| Error::with_source(ErrorKind::WorkerStart, e))
}

fn run(options: Arc<HttpOptions>, progress: Arc<Progress>, mut rx: mpsc::Receiver<Job>) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            crate::debug::always_log(format_args!("transport disabled: no runtime: {e}"));
            return drain_dropping(
                &options,
                &progress,
                &mut rx,
                DiscardReason::InternalSdkError,
            );
        }
    };
    let client = match reqwest::Client::builder()
        .connect_timeout(options.connect_timeout)
        .timeout(options.request_timeout)
        .user_agent(options.sdk_client.clone())
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            crate::debug::always_log(format_args!("transport disabled: no HTTP client: {e}"));
            return drain_dropping(
                &options,
                &progress,
                &mut rx,
                DiscardReason::InternalSdkError,
            );
        }
    };
    let url = options.dsn.envelope_url();
    let auth = options.dsn.auth_header(&options.sdk_client);

    runtime.block_on(async {
        while let Some(job) = rx.recv().await {
            match job {
                Job::FlushReports => {
                    if let Some(item) = options.client_reports.take_item() {
                        let mut envelope = Envelope::new();
                        envelope.add_item(item);
                        post(&client, &url, &auth, &options, envelope).await;
                    }
                }
                Job::Send(outgoing) => {
                    let size = outgoing.size_hint();
                    if progress.is_closing() {
                        options.client_reports.record(
                            DiscardReason::NetworkError,
                            outgoing.category(),
                            1,
                        );
                    } else if let Some(envelope) = build(&options, outgoing) {
                        post(&client, &url, &auth, &options, envelope).await;
                    }
                    progress.queued_bytes.fetch_sub(size, Ordering::Relaxed);
                }
            }
            progress.finish();
        }
    });
}

/// Builds a deferred envelope; a panic inside (user callbacks run here) drops it and is counted.
fn build(options: &HttpOptions, outgoing: Outgoing) -> Option<Envelope> {
    let category = outgoing.category();
    match std::panic::catch_unwind(AssertUnwindSafe(|| outgoing.into_envelope())) {
        Ok(envelope) => envelope.filter(|e| !e.is_empty()),
        Err(_) => {
            crate::sdk_debug!("building an envelope panicked; dropped");
            options
                .client_reports
                .record(DiscardReason::InternalSdkError, category, 1);
            None
        }
    }
}

async fn post(
    client: &reqwest::Client,
    url: &str,
    auth: &str,
    options: &HttpOptions,
    mut envelope: Envelope,
) {
    // Client reports ride along with whatever goes out next.
    if let Some(report) = options.client_reports.take_item() {
        envelope.add_item(report);
    }
    // `sent_at` is written at send time only, never into anything stored.
    envelope.set_header("sent_at", crate::time::rfc3339(SystemTime::now()));
    let body = envelope.to_bytes();
    let request = client
        .post(url)
        .header("X-Sentry-Auth", auth)
        .header("Content-Type", "application/x-sentry-envelope")
        .body(body);
    let outcome = match request.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            // Read the body so the connection can be reused.
            let _ = response.bytes().await;
            match status {
                200..=299 => Outcome::Delivered,
                429 => Outcome::RateLimited,
                other => Outcome::Rejected(other),
            }
        }
        Err(e) => {
            crate::sdk_debug!("sending failed: {e}");
            Outcome::NetworkError
        }
    };
    crate::sdk_debug!("envelope {:?}: {outcome:?}", envelope.event_id());
    let reports = &options.client_reports;
    match outcome {
        Outcome::Delivered | Outcome::RateLimited => {}
        Outcome::Rejected(413) => {
            crate::debug::always_log(format_args!(
                "envelope rejected as too large (HTTP 413); dropped"
            ));
            reports.record_envelope(DiscardReason::SendError, &envelope);
        }
        Outcome::Rejected(_) => reports.record_envelope(DiscardReason::SendError, &envelope),
        Outcome::NetworkError => reports.record_envelope(DiscardReason::NetworkError, &envelope),
    }
}

/// Without a runtime nothing can be sent: count and release every job so flushes return.
fn drain_dropping(
    options: &HttpOptions,
    progress: &Progress,
    rx: &mut mpsc::Receiver<Job>,
    reason: DiscardReason,
) {
    while let Some(job) = rx.blocking_recv() {
        if let Job::Send(outgoing) = job {
            progress
                .queued_bytes
                .fetch_sub(outgoing.size_hint(), Ordering::Relaxed);
            options
                .client_reports
                .record(reason, outgoing.category(), 1);
        }
        progress.finish();
    }
}
