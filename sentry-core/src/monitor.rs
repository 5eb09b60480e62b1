//! Cron monitors: report a scheduled job's runs to Sentry as check-ins (PROTOCOL.md §7).
//!
//! [`run`] (and [`run_async`] for a future) wraps one run of a job: it sends an `in_progress`
//! check-in when the job starts and an `ok` or `error` one with the same id and the measured
//! duration when it ends. What counts as failure is the job's [`MonitorOutcome`]: an `Err`, or
//! a panic (reported, then resumed). The [`MonitorConfig`], if given, goes on both check-ins,
//! so that Sentry creates or updates the monitor from whichever it sees.
//!
//! [`capture_check_in`] sends one check-in by hand. Check-ins are built and serialised on the
//! SDK's thread, pass `before_send_check_in` (not `before_send`), are never sampled, and count
//! against the `monitor` rate limit. With no client bound, every call here returns at once,
//! allocates nothing, and the wrappers just run the job.

use std::future::Future;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::task::Poll;
use std::time::Instant;

use sentry_sdk_transport::{DataCategory, Outgoing};

use crate::client::Client;
use crate::payload::check_in_envelope;
use crate::protocol::{CheckIn, CheckInId, CheckInStatus, MonitorConfig, TraceId};
use crate::{binding, callback, performance, scope};

/// Something that yields a check-in: a [`CheckIn`], or a closure that builds one only when a
/// client will send it.
pub trait IntoCheckIn {
    /// Builds the check-in.
    fn into_check_in(self) -> CheckIn;
}

impl IntoCheckIn for CheckIn {
    fn into_check_in(self) -> CheckIn {
        self
    }
}

impl<F: FnOnce() -> CheckIn> IntoCheckIn for F {
    fn into_check_in(self) -> CheckIn {
        self()
    }
}

/// Sends one cron check-in; returns its id (nil when nothing was sent: no client, a closed
/// one, or a call from inside an SDK callback).
///
/// Release, environment and trace are filled in where the check-in has none (see
/// [`CheckIn`]). Pass the returned id to the check-in that finishes the run.
///
/// ```
/// use sentry_sdk_core::protocol::{CheckIn, CheckInStatus};
///
/// let id = sentry_sdk_core::capture_check_in(|| CheckIn::new("import", CheckInStatus::InProgress));
/// // ... the job runs ...
/// sentry_sdk_core::capture_check_in(|| CheckIn::new("import", CheckInStatus::Ok).id(id));
/// assert!(id.is_nil()); // no client bound in this example
/// ```
#[inline]
pub fn capture_check_in(check_in: impl IntoCheckIn) -> CheckInId {
    if !binding::is_active() || callback::is_inside() {
        return CheckInId::NIL;
    }
    binding::with_current_client(|client| client.capture_check_in(check_in.into_check_in()))
        .unwrap_or(CheckInId::NIL)
}

impl Client {
    /// Sends `check_in` through this client (what [`capture_check_in`] does once it has found
    /// the client): the trace is read here, the rest is built on the SDK's thread.
    pub fn capture_check_in(self: &Arc<Self>, mut check_in: CheckIn) -> CheckInId {
        if self.is_closed() || callback::is_inside() {
            return CheckInId::NIL;
        }
        if check_in.trace_id.is_none() {
            check_in.trace_id = Some(current_trace_id());
        }
        let id = check_in.check_in_id;
        let size_hint =
            256 + check_in.monitor_slug.len() + check_in.monitor_config.as_ref().map_or(0, |_| 256);
        let context = self.build_context().clone();
        self.send(Outgoing::deferred(
            DataCategory::Monitor,
            size_hint,
            move || check_in_envelope(&context, check_in),
        ));
        id
    }
}

/// The trace a check-in sent now belongs to: the entered span's, else the isolation scope's
/// (a request's, or the process's), so that the job's errors and check-ins line up.
fn current_trace_id() -> TraceId {
    match performance::current_span().and_then(|s| s.ids()) {
        Some((trace_id, _)) => trace_id,
        None => scope::stack::isolation_trace_id().unwrap_or_else(TraceId::random),
    }
}

/// What a monitored job returns, telling a good run from a failed one.
///
/// `()` is always a good run and `Result` is one when `Ok`. For a job returning something
/// else, implement this for it, or return `Ok::<_, std::convert::Infallible>(value)`.
pub trait MonitorOutcome {
    /// Whether the run went well (`ok`) or failed (`error`).
    fn is_success(&self) -> bool;
}

impl MonitorOutcome for () {
    fn is_success(&self) -> bool {
        true
    }
}

impl<T, E> MonitorOutcome for Result<T, E> {
    fn is_success(&self) -> bool {
        self.is_ok()
    }
}

/// One run in progress: what its final check-in repeats.
struct Run {
    id: CheckInId,
    slug: String,
    config: Option<MonitorConfig>,
    trace_id: TraceId,
    started: Instant,
}

impl Run {
    /// Sends the `in_progress` check-in of a new run of `slug`; `None` (nothing sent, nothing
    /// allocated) when no client would send it.
    fn begin(slug: &str, config: Option<MonitorConfig>) -> Option<Run> {
        if !binding::is_active() || callback::is_inside() {
            return None;
        }
        let started = Instant::now();
        let trace_id = current_trace_id();
        let mut check_in = CheckIn::new(slug, CheckInStatus::InProgress);
        check_in.monitor_config = config.clone();
        check_in.trace_id = Some(trace_id);
        let id = capture_check_in(check_in);
        (!id.is_nil()).then(|| Run {
            id,
            slug: slug.to_owned(),
            config,
            trace_id,
            started,
        })
    }

    /// Sends the run's final check-in: `ok` or `error`, with its duration.
    fn finish(self, success: bool) {
        let status = match success {
            true => CheckInStatus::Ok,
            false => CheckInStatus::Error,
        };
        let mut check_in = CheckIn::new(self.slug, status)
            .id(self.id)
            .duration(self.started.elapsed());
        check_in.monitor_config = self.config;
        check_in.trace_id = Some(self.trace_id);
        capture_check_in(check_in);
    }
}

/// Runs `job` as one run of the monitor `slug` and reports it: `in_progress` first, then `ok`
/// or `error` (an `Err`, or a panic, which is resumed after the report) with the measured
/// duration and the same check-in id. `config`, if given, goes on both check-ins. Returns
/// what `job` returned.
///
/// ```
/// use sentry_sdk_core::{monitor, protocol::MonitorConfig};
///
/// let copied = monitor::run("nightly-backup", MonitorConfig::crontab("0 3 * * *"), || {
///     // ... the job ...
///     Ok::<u32, std::io::Error>(42)
/// });
/// assert_eq!(copied.unwrap(), 42);
/// ```
pub fn run<T: MonitorOutcome>(
    slug: &str,
    config: impl Into<Option<MonitorConfig>>,
    job: impl FnOnce() -> T,
) -> T {
    let Some(run) = Run::begin(slug, config.into()) else {
        return job();
    };
    let outcome = catch_unwind(AssertUnwindSafe(job));
    run.finish(matches!(&outcome, Ok(value) if value.is_success()));
    match outcome {
        Ok(value) => value,
        Err(panic) => resume_unwind(panic),
    }
}

/// [`run`] for a future: the run starts when the future is first polled and ends when it
/// completes (`ok` or `error` by its output) or panics (reported, then resumed). A future
/// dropped before it completes sends no final check-in; Sentry marks that run failed once
/// the config's `max_runtime` has passed.
///
/// ```
/// use sentry_sdk_core::{monitor, protocol::{MonitorConfig, MonitorIntervalUnit}};
///
/// async fn sync_users() -> Result<(), std::io::Error> {
///     Ok(())
/// }
///
/// # fn spawn<F: std::future::Future + Send + 'static>(_: F) {}
/// spawn(monitor::run_async(
///     "sync-users",
///     MonitorConfig::interval(10, MonitorIntervalUnit::Minute),
///     sync_users(),
/// ));
/// ```
pub async fn run_async<F>(
    slug: &str,
    config: impl Into<Option<MonitorConfig>>,
    future: F,
) -> F::Output
where
    F: Future,
    F::Output: MonitorOutcome,
{
    let Some(run) = Run::begin(slug, config.into()) else {
        return future.await;
    };
    let mut future = std::pin::pin!(future);
    let outcome = std::future::poll_fn(|cx| {
        match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(value)) => Poll::Ready(Ok(value)),
            Err(panic) => Poll::Ready(Err(panic)),
        }
    })
    .await;
    run.finish(matches!(&outcome, Ok(value) if value.is_success()));
    match outcome {
        Ok(value) => value,
        Err(panic) => resume_unwind(panic),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_client_the_job_just_runs_and_nothing_is_sent() {
        assert_eq!(run("job", None, || Ok::<_, ()>(7)), Ok(7));
        let id = capture_check_in(|| -> CheckIn { unreachable!("not built without a client") });
        assert!(id.is_nil());
        fn explode() {
            panic!("boom");
        }
        let panicked = catch_unwind(|| run("job", None, explode));
        assert!(panicked.is_err());
    }

    #[test]
    fn outcomes_tell_good_runs_from_failed_ones() {
        assert!(().is_success());
        assert!(Ok::<(), ()>(()).is_success());
        assert!(!Err::<(), ()>(()).is_success());
    }
}
