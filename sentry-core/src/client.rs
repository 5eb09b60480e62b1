//! [`Client`]: validated options plus a running transport. Where a client is kept for a
//! process or a thread is `binding`; the caller's side of a capture is `capture`.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use sentry_sdk_transport::{
    ClientReports, DataCategory, HttpTransport, Outgoing, Periodic, Transport,
};

use crate::options::{ClientOptions, TransportContext};
use crate::payload::{session_envelope, BuildContext};
use crate::protocol::Breadcrumb;
use crate::session::{SessionStatus, Sessions};
use crate::{callback, scope, sdk, Error};

/// A started SDK: validated options and a running transport.
///
/// Made by `init` (or [`Client::new`] and [`Client::bind`] by hand); cheap to share as `Arc`.
pub struct Client {
    /// What the worker needs to build payloads; shared with every queued build.
    context: Arc<BuildContext>,
    transport: Arc<dyn Transport>,
    /// The trace of logs and events captured outside any span (until propagation arrives).
    closed: AtomicBool,
}

impl Client {
    /// Validates `options` and starts the transport (the user's factory, or the HTTP transport).
    ///
    /// # Errors
    /// The first problem remembered by the options (a bad DSN, an out-of-range value), or
    /// [`Error::NoDsn`] when no DSN is set and Spotlight is off (the SDK is meant to be off).
    pub fn new(options: ClientOptions) -> Result<Client, Error> {
        if let Some(problem) = options.problem() {
            return Err(problem.clone());
        }
        // Spotlight alone (no DSN): everything goes to the sidecar, nothing sampled away.
        let spotlight_only =
            options.settings().dsn.is_none() && options.settings().spotlight.is_some();
        let mut options = options;
        if spotlight_only {
            options = options.sample_rate(1.0);
            let s = options.settings();
            if s.traces_sample_rate.is_none() && s.traces_sampler.is_none() {
                options = options.traces_sample_rate(1.0);
            }
        }
        let settings = options.settings();
        let dsn = match (&settings.dsn, spotlight_only) {
            (Some(dsn), _) => dsn.clone(),
            // A placeholder the transport never sends to (`send_to_dsn` is off).
            (None, true) => SPOTLIGHT_ONLY_DSN
                .parse()
                .map_err(|e| Error::InvalidDsn(Arc::new(e)))?,
            (None, false) => return Err(Error::NoDsn),
        };
        let delivery = &settings.transport;
        let reports = Arc::new(ClientReports::new(delivery.send_client_reports));
        let sessions = Arc::new(Sessions::new(
            settings.release.as_deref(),
            &settings.environment,
            settings.auto_session_tracking,
            settings.session_mode,
            delivery.cache_dir.as_deref(),
        ));
        let transport: Arc<dyn Transport> = match &delivery.factory {
            Some(factory) => factory(&TransportContext {
                dsn,
                sdk_client: sdk::sdk_client(),
                client_reports: reports.clone(),
            }),
            None => {
                let mut http = delivery.http_options(dsn, sdk::sdk_client(), reports.clone());
                // `debug` also lets the HTTP stack's own `tracing` output through.
                http.debug = settings.debug;
                http.spotlight = settings.spotlight.clone();
                if spotlight_only {
                    http.send_to_dsn = false;
                    http.cache = None;
                }
                if sessions.is_on() {
                    // Session updates and aggregates go out at least every minute.
                    let sessions = sessions.clone();
                    http.periodic = Some(Periodic {
                        every: SESSION_INTERVAL,
                        make: Arc::new(move || due_sessions(&sessions)),
                    });
                }
                Arc::new(HttpTransport::new(http))
            }
        };
        Ok(Client {
            context: Arc::new(BuildContext::new(options, reports, sessions)),
            transport,
            closed: AtomicBool::new(false),
        })
    }

    /// The options the client runs with.
    pub fn options(&self) -> &ClientOptions {
        self.context.options()
    }

    /// The drop counters sent as client reports.
    pub fn client_reports(&self) -> &Arc<ClientReports> {
        self.context.reports()
    }

    /// Whether `close` was called.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Relaxed)
    }

    /// What payload builds on the worker need (shared, so a queued build holds no client).
    pub(crate) fn build_context(&self) -> &Arc<BuildContext> {
        &self.context
    }

    /// Hands `outgoing` to the transport (never blocks).
    pub(crate) fn send(&self, outgoing: Outgoing) {
        self.transport.send(outgoing);
    }

    /// Sends a crash report's envelope and waits at most `timeout` for its delivery.
    pub(crate) fn send_crash(&self, envelope: sentry_sdk_transport::Envelope, timeout: Duration) {
        self.transport.send_crash(envelope, timeout);
    }

    /// Records a breadcrumb in the isolation scope through this client's `before_breadcrumb`
    /// and `max_breadcrumbs` (what [`add_breadcrumb`](crate::add_breadcrumb) does once it has
    /// found the client; integrations that already hold it call this directly).
    pub fn add_breadcrumb(&self, crumb: Breadcrumb) {
        self.add_breadcrumb_with(|| crumb);
    }

    /// [`Client::add_breadcrumb`] with the breadcrumb built by `make`, only when it is kept,
    /// and (with no `before_breadcrumb`) built straight into the heap node that stores it
    /// rather than copied there: the cheapest way to record one on a hot path.
    ///
    /// ```
    /// # let options = sentry_sdk_core::ClientOptions::new().dsn("https://key@127.0.0.1:9/1");
    /// # let client = sentry_sdk_core::Client::new(options).unwrap();
    /// use sentry_sdk_core::protocol::Breadcrumb;
    /// client.add_breadcrumb_with(|| Breadcrumb {
    ///     category: Some("cache".into()),
    ///     message: Some(format!("miss for {}", 42)),
    ///     ..Default::default()
    /// });
    /// ```
    #[inline]
    pub fn add_breadcrumb_with(&self, make: impl FnOnce() -> Breadcrumb) {
        if callback::is_inside() {
            return;
        }
        let settings = self.options().settings();
        let max = settings.max_breadcrumbs;
        if max == 0 {
            return;
        }
        let crumb = match &settings.before_breadcrumb {
            Some(hook) => {
                // User code: no scope lock or borrow is held here.
                let hook = hook.clone();
                let crumb = make();
                match callback::run("before_breadcrumb", move || hook(crumb)).flatten() {
                    Some(kept) => scope::UnlinkedCrumb::new(kept),
                    None => return,
                }
            }
            // Built in its node here, before the scope lookup: building it inside the
            // thread-local access measured slower.
            None => scope::UnlinkedCrumb::new(make()),
        };
        scope::stack::with_isolation_mut(|scope| scope.push_unlinked_breadcrumb(crumb, max));
    }

    /// Waits at most `timeout` for everything queued to be sent (session aggregates and a
    /// changed session included); true if it was.
    pub fn flush(&self, timeout: Duration) -> bool {
        if self.context.sessions().is_on() && !self.is_closed() {
            let sessions = self.context.sessions().clone();
            self.send(Outgoing::deferred(DataCategory::Session, 0, move || {
                due_sessions(&sessions)
            }));
        }
        self.transport.flush(timeout)
    }

    /// Starts a release-health session for this client's application (what `init` does in
    /// [`SessionMode::Application`](crate::session::SessionMode::Application)), ending the
    /// one open. Needs a release; the session's user is the scope's, now.
    pub fn start_session(&self) {
        let sessions = self.context.sessions();
        if !sessions.is_on() || self.is_closed() {
            return;
        }
        let did = scope::stack::user().and_then(|u| {
            u.id.clone()
                .or_else(|| u.email.clone())
                .or_else(|| u.username.clone())
        });
        let (now, at) = (SystemTime::now(), Instant::now());
        let Some((ended, sid)) = sessions.begin(did, now, at) else {
            return;
        };
        let sessions = sessions.clone();
        // The marker file and the updates on the SDK's thread, in order with the events.
        self.send(Outgoing::deferred(DataCategory::Session, 0, move || {
            let pending = sessions.after_start(ended, sid, now);
            session_envelope(pending, sessions.release(), &sessions.environment)
        }));
    }

    /// Ends the application session with `status` (`None`: `exited`, or `errored` if
    /// errors were counted); `close` does it too.
    pub fn end_session(&self, status: Option<SessionStatus>) {
        let sessions = self.context.sessions();
        if !sessions.is_on() || self.is_closed() {
            return;
        }
        self.send(end_sessions(sessions.clone(), status));
    }

    /// The open application session, as JSON, for a crash reporter in another process to
    /// end it `crashed` with [`Client::resume_session`] (what the `minidump` integration's
    /// monitor does). `None` when no session is open (no release, or it ended).
    ///
    /// # Examples
    /// ```
    /// let client = sentry_sdk_core::Client::new(
    ///     sentry_sdk_core::ClientOptions::new().release("app@1").dsn("https://k@127.0.0.1:9/1"),
    /// )
    /// .unwrap();
    /// assert!(client.session_state().is_none());
    /// client.start_session();
    /// assert!(client.session_state().is_some());
    /// ```
    pub fn session_state(&self) -> Option<serde_json::Value> {
        self.context.sessions().state()
    }

    /// Makes the session `state` describes ([`Client::session_state`] in another process,
    /// of this client's release) this client's application session: the next unhandled
    /// event ends it `crashed`, its update riding in that event's envelope. False (nothing
    /// changed) if `state` is unreadable, ended or of another release, or if this client has
    /// a session of its own open.
    pub fn resume_session(&self, state: &serde_json::Value) -> bool {
        !self.is_closed() && self.context.sessions().resume(state)
    }

    /// Flushes for at most `timeout`, then stops: later captures through this client are
    /// dropped. Prints one line to stderr when envelopes are pending.
    pub fn close(&self, timeout: Duration) -> bool {
        if self.closed.swap(true, Ordering::Relaxed) {
            return true;
        }
        // Counted before the session's final update is queued: that one is not worth a line.
        let pending = self.transport.pending();
        if self.context.sessions().is_on() {
            self.send(end_sessions(self.context.sessions().clone(), None));
        }
        if pending > 0 {
            sentry_sdk_transport::debug::always_log(format_args!(
                "{pending} envelope{} pending; waiting up to {:.1} s to send",
                if pending == 1 { "" } else { "s" },
                timeout.as_secs_f64()
            ));
        }
        self.transport.close(timeout)
    }
}

/// The DSN a Spotlight-only client's transport is built with; nothing is ever sent to it.
const SPOTLIGHT_ONLY_DSN: &str = "http://spotlight@127.0.0.1:9/0";

/// How often session updates and aggregates are sent at least (Sentry's SDKs: 60 s).
const SESSION_INTERVAL: Duration = Duration::from_secs(60);

/// What the sessions have due now, as an envelope.
fn due_sessions(sessions: &Sessions) -> Option<sentry_sdk_transport::Envelope> {
    let pending = sessions.take_due(SystemTime::now(), Instant::now());
    session_envelope(pending, sessions.release(), &sessions.environment)
}

/// The job that ends the application session (with `status`) and sends the aggregates.
fn end_sessions(sessions: Arc<Sessions>, status: Option<SessionStatus>) -> Outgoing {
    let (now, at) = (SystemTime::now(), Instant::now());
    Outgoing::deferred(DataCategory::Session, 0, move || {
        let pending = sessions.end(status, now, at);
        session_envelope(pending, sessions.release(), &sessions.environment)
    })
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("options", self.options())
            .field("closed", &self.is_closed())
            .finish()
    }
}
