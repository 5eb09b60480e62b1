//! The client: options plus transport, resolved at capture time.
//!
//! One client is bound process-wide by `init`; a thread may bind another for a while (test
//! helpers do). Lookups are a relaxed atomic load when nothing is bound, so every API call is a
//! few nanoseconds without a DSN.

use std::cell::RefCell;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use sentry_sdk_transport::{
    CacheOptions, ClientReports, DataCategory, DiscardReason, HttpOptions, HttpTransport, Outgoing,
    Transport,
};
use serde_json::json;

use crate::options::{ClientOptions, TransportContext};
use crate::pipeline::Capture;
use crate::protocol::{Event, EventId, Value};
use crate::scope;
use crate::stacktrace::{InAppRules, RawStack};
use crate::{callback, random, Error};

/// The SDK's name in `sdk.name`, `User-Agent` and `X-Sentry-Auth`.
pub const SDK_NAME: &str = "sentry.rust.sdk";
/// The SDK's version.
pub const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");

/// A started SDK: validated options and a running transport.
///
/// Made by `init` (or [`Client::new`] and [`Client::bind`] by hand); cheap to share as `Arc`.
pub struct Client {
    pub(crate) options: ClientOptions,
    pub(crate) transport: Arc<dyn Transport>,
    pub(crate) reports: Arc<ClientReports>,
    pub(crate) sdk_info: Value,
    pub(crate) in_app: InAppRules,
    pub(crate) server_name: Option<String>,
    /// The trace of logs and events captured outside any span (until propagation arrives).
    propagation_trace_id: crate::performance::TraceId,
    closed: AtomicBool,
}

impl Client {
    /// Validates `options` and starts the transport (the user's factory, or the HTTP transport).
    ///
    /// # Errors
    /// The first problem remembered by the options (a bad DSN, an out-of-range value), or
    /// [`Error::InvalidOption`] naming `dsn` when no DSN is set.
    pub fn new(options: ClientOptions) -> Result<Client, Error> {
        if let Some(problem) = options.problem() {
            return Err(problem.clone());
        }
        let Some(dsn) = options.get_dsn().cloned() else {
            return Err(Error::InvalidOption {
                name: "dsn",
                reason: "no DSN set (the SDK stays disabled)".into(),
            });
        };
        let reports = Arc::new(ClientReports::new(options.get_send_client_reports()));
        let sdk_client = format!("{SDK_NAME}/{SDK_VERSION}");
        let transport: Arc<dyn Transport> = match options.transport_factory() {
            Some(factory) => factory(&TransportContext {
                dsn,
                sdk_client,
                client_reports: reports.clone(),
            }),
            None => {
                let mut http = HttpOptions::new(dsn, sdk_client);
                http.client_reports = reports.clone();
                http.queue_capacity = options.get_transport_queue_size().max(1);
                let (http_proxy, https_proxy, roots, accept_invalid) = options.http_settings();
                http.http_proxy = http_proxy.map(str::to_owned);
                http.https_proxy = https_proxy.map(str::to_owned);
                http.root_certificates = roots.to_vec();
                http.accept_invalid_certs = accept_invalid;
                http.cache = options.get_cache_dir().map(|dir| {
                    let mut cache = CacheOptions::new(dir);
                    cache.max_items = options.get_cache_max_items();
                    cache
                });
                Arc::new(HttpTransport::new(http))
            }
        };
        let integrations: Vec<&str> = options
            .get_integrations()
            .iter()
            .map(|i| i.name())
            .collect();
        let sdk_info = json!({
            "name": SDK_NAME,
            "version": SDK_VERSION,
            "integrations": integrations,
            "packages": [{"name": "cargo:sentry-sdk", "version": SDK_VERSION}],
        });
        let in_app = InAppRules {
            include: options.get_in_app_include().to_vec(),
            exclude: options.get_in_app_exclude().to_vec(),
        };
        let server_name = options
            .get_server_name()
            .map(str::to_owned)
            .or_else(crate::hostname::hostname);
        Ok(Client {
            options,
            transport,
            reports,
            sdk_info,
            in_app,
            server_name,
            propagation_trace_id: crate::performance::TraceId::random(),
            closed: AtomicBool::new(false),
        })
    }

    /// The options the client runs with.
    pub fn options(&self) -> &ClientOptions {
        &self.options
    }

    /// The drop counters sent as client reports.
    pub fn client_reports(&self) -> &Arc<ClientReports> {
        &self.reports
    }

    /// The trace id used for data captured outside any span.
    pub fn propagation_trace_id(&self) -> crate::performance::TraceId {
        self.propagation_trace_id
    }

    /// Whether `close` was called.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Relaxed)
    }

    /// Makes this client the process-wide one (replacing any earlier one), and sets up its
    /// integrations. Returns the previous client.
    pub fn bind(self: &Arc<Self>) -> Option<Arc<Client>> {
        sentry_sdk_transport::debug::set_enabled(self.options.get_debug());
        for integration in self.options.get_integrations() {
            integration.setup(&self.options);
        }
        bind_global(Some(self.clone()))
    }

    /// Captures `event` on the caller's thread: samples, snapshots the scopes and hands a
    /// deferred build to the transport. `stack`, if any, is resolved on the worker.
    pub(crate) fn capture(self: &Arc<Self>, mut capture: Capture) -> EventId {
        if self.is_closed() {
            return EventId::NIL;
        }
        let event = &capture.event;
        let rate = match self.options.error_sampler_fn() {
            // User code on the caller's thread; no SDK lock is held here.
            Some(sampler) => {
                let sampler = sampler.clone();
                callback::run("error_sampler", || sampler(event)).unwrap_or(0.0)
            }
            None => self.options.get_sample_rate(),
        };
        if !random::keep(rate) {
            self.reports
                .record(DiscardReason::SampleRate, DataCategory::Error, 1);
            sentry_sdk_transport::sdk_debug!("event {} sampled out", event.event_id);
            return EventId::NIL;
        }
        let id = event.event_id;
        // After sampling: a sampled-out event does not pay for it.
        attach_trace(&mut capture.event);
        let snapshot = scope::stack::snapshot();
        let size_hint = queued_size(&capture);
        let client = self.clone();
        self.transport.send(Outgoing::deferred(
            DataCategory::Error,
            size_hint,
            move || client.build_envelope(capture, &snapshot),
        ));
        set_last_event_id(id);
        id
    }

    /// Captures `event` right now on this thread (symbolication, `before_send` and
    /// serialisation included) and waits up to `shutdown_timeout` for delivery: for crash
    /// handlers, after which the process may end at once.
    pub fn capture_and_wait(self: &Arc<Self>, event: Event, stack: Option<RawStack>) -> EventId {
        let mut capture = Capture::new(event, stack);
        attach_trace(&mut capture.event);
        // Inside a user callback (a panic in `before_send`, say) capturing would re-enter it.
        if self.is_closed() || callback::is_inside() {
            return EventId::NIL;
        }
        let id = capture.event.event_id;
        let snapshot = scope::stack::snapshot();
        if let Some(envelope) = self.build_envelope(capture, &snapshot) {
            set_last_event_id(id);
            self.transport
                .send_crash(envelope, self.options.get_shutdown_timeout());
            id
        } else {
            EventId::NIL
        }
    }

    /// Records a breadcrumb in the isolation scope through this client's `before_breadcrumb`
    /// and `max_breadcrumbs` (what [`add_breadcrumb`](crate::add_breadcrumb) does once it has
    /// found the client; integrations that already hold it call this directly).
    pub fn add_breadcrumb(&self, crumb: crate::protocol::Breadcrumb) {
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
    pub fn add_breadcrumb_with(&self, make: impl FnOnce() -> crate::protocol::Breadcrumb) {
        if callback::is_inside() {
            return;
        }
        let max = self.options.get_max_breadcrumbs();
        if max == 0 {
            return;
        }
        let crumb = match self.options.before_breadcrumb_fn() {
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

    /// Waits at most `timeout` for everything queued to be sent; true if it was.
    pub fn flush(&self, timeout: Duration) -> bool {
        self.transport.flush(timeout)
    }

    /// Flushes for at most `timeout`, then stops: later captures through this client are
    /// dropped. Prints one line to stderr when envelopes are pending.
    pub fn close(&self, timeout: Duration) -> bool {
        if self.closed.swap(true, Ordering::Relaxed) {
            return true;
        }
        let pending = self.transport.pending();
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

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("options", &self.options)
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// What a queued capture holds in memory, for the queue's byte bound: measured at ~1.1 KiB
/// for a message event with its scope snapshot, plus what the event itself carries (a rough
/// per-entry estimate; the scopes are shared, not copied, and not counted again).
fn queued_size(capture: &Capture) -> usize {
    let e = &capture.event;
    let text = |s: &Option<String>| s.as_ref().map_or(0, String::len);
    let frames: usize = e
        .exception
        .iter()
        .filter_map(|x| x.stacktrace.as_ref())
        .chain(e.threads.iter().filter_map(|t| t.stacktrace.as_ref()))
        .map(|s| s.frames.len() * 200)
        .sum();
    1024 + text(&e.message)
        + e.exception
            .iter()
            .map(|x| 256 + text(&x.value))
            .sum::<usize>()
        + (e.extra.len() + e.tags.len()) * 64
        + e.contexts.len() * 256
        + e.breadcrumbs.len() * 200
        + frames
        + capture.stack.as_ref().map_or(0, |s| s.len() * 8)
        + capture
            .local_values
            .iter()
            .map(|(k, v)| k.len() + v.len())
            .sum::<usize>()
}

/// Links an event to the span entered on this thread, if any (read here, on the caller's
/// thread, because that is where the span is entered).
fn attach_trace(event: &mut Event) {
    if !event.contexts.contains_key("trace") {
        if let Some(trace) = crate::performance::trace_context() {
            event.contexts.insert("trace".into(), trace);
        }
    }
}

// === binding ===

static GLOBAL: RwLock<Option<Arc<Client>>> = RwLock::new(None);
/// Whether `GLOBAL` holds a client. Relaxed: a capture racing with `init` may miss the client,
/// exactly as if it had happened a moment earlier.
static GLOBAL_BOUND: AtomicBool = AtomicBool::new(false);
/// How many threads have a client bound of their own; 0 skips the thread-local lookup.
static THREAD_BOUND: AtomicUsize = AtomicUsize::new(0);

/// Bumped (under `GLOBAL`'s write lock) whenever the process-wide client changes, so each
/// thread's copy knows when it is stale.
static GLOBAL_GENERATION: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static THREAD_CLIENT: RefCell<Option<Arc<Client>>> = const { RefCell::new(None) };
    /// This thread's copy of the process-wide client and the generation it was read at.
    /// Reading it takes no lock and, through [`with_current`], touches no reference count
    /// that other threads write: captures on many threads do not contend. A thread that
    /// never captures again keeps its stale copy until it next looks or exits. That holds
    /// memory only when the client was closed (as `init`'s guard and re-`init` do): a closed
    /// client's worker has ended. The SDK's own threads keep no copy.
    static GLOBAL_COPY: RefCell<(usize, Option<Arc<Client>>)> =
        const { RefCell::new((usize::MAX, None)) };
    static LAST_EVENT_ID: std::cell::Cell<EventId> = const { std::cell::Cell::new(EventId::NIL) };
}

fn bind_global(client: Option<Arc<Client>>) -> Option<Arc<Client>> {
    let bound = client.is_some();
    let mut guard = GLOBAL.write().unwrap_or_else(|p| p.into_inner());
    let old = std::mem::replace(&mut *guard, client);
    GLOBAL_GENERATION.fetch_add(1, Ordering::Relaxed);
    GLOBAL_BOUND.store(bound, Ordering::Relaxed);
    drop(guard);
    old
}

/// Unbinds the process-wide client and returns it.
pub fn unbind() -> Option<Arc<Client>> {
    bind_global(None)
}

/// The client in force on this thread: the thread's own, else the process-wide one.
#[inline]
pub fn current() -> Option<Arc<Client>> {
    thread_client().or_else(|| with_global(Arc::clone))
}

/// The client bound to this thread alone, if any (cloned: `f` in [`with_current`] may rebind
/// it).
#[inline]
fn thread_client() -> Option<Arc<Client>> {
    if THREAD_BOUND.load(Ordering::Relaxed) == 0 {
        return None;
    }
    THREAD_CLIENT
        .try_with(|c| c.try_borrow().ok().and_then(|c| c.clone()))
        .ok()
        .flatten()
}

/// Runs `f` with the client in force on this thread (see [`current`]) borrowed rather than
/// cloned; `None` when there is none. The cheapest way to reach the client on a hot path.
///
/// ```
/// // With no client bound, `f` does not run.
/// let logs_on = sentry_sdk_core::with_current_client(|c| c.options().get_enable_logs());
/// assert_eq!(logs_on, None);
/// ```
#[inline]
pub fn with_current<R>(f: impl FnOnce(&Arc<Client>) -> R) -> Option<R> {
    match thread_client() {
        Some(client) => Some(f(&client)),
        None => with_global(f),
    }
}

/// `f` on the process-wide client, read through this thread's copy.
#[inline]
fn with_global<R>(f: impl FnOnce(&Arc<Client>) -> R) -> Option<R> {
    if !GLOBAL_BOUND.load(Ordering::Relaxed) {
        return None;
    }
    let generation = GLOBAL_GENERATION.load(Ordering::Relaxed);
    let mut f = Some(f);
    let from_copy = GLOBAL_COPY
        .try_with(|copy| {
            let stale = copy.try_borrow().map_or(true, |c| c.0 != generation);
            if stale {
                refresh_global_copy(copy);
            }
            let copy = copy.try_borrow().ok()?;
            if copy.0 != generation {
                return None; // could not refresh it (re-entered from inside `f`)
            }
            match &copy.1 {
                Some(client) => f.take().map(|f| f(client)),
                None => None,
            }
        })
        .ok()
        .flatten();
    match f {
        // Ran on the copy.
        None => from_copy,
        // No usable copy (stale and re-entered, unbound meanwhile, or thread teardown):
        // read the shared one.
        Some(f) => {
            let client = GLOBAL.read().unwrap_or_else(|p| p.into_inner()).clone()?;
            Some(f(&client))
        }
    }
}

#[cold]
fn refresh_global_copy(copy: &RefCell<(usize, Option<Arc<Client>>)>) {
    if sentry_sdk_transport::debug::is_sdk_thread() {
        // No copy on the SDK's own threads (their reads stay stale and fall back to the shared
        // client): a worker holding its client would keep that client's transport, and so
        // the worker itself, alive after the client is dropped.
        return;
    }
    let fresh = {
        let guard = GLOBAL.read().unwrap_or_else(|p| p.into_inner());
        (GLOBAL_GENERATION.load(Ordering::Relaxed), guard.clone())
    };
    if let Ok(mut copy) = copy.try_borrow_mut() {
        let stale = std::mem::replace(&mut *copy, fresh);
        drop(copy);
        drop(stale); // outside the borrow: whatever dropping a client does, nothing is held
    }
}

/// Whether any client could be in force (a relaxed load: the no-DSN fast path).
#[inline]
pub fn maybe_bound() -> bool {
    GLOBAL_BOUND.load(Ordering::Relaxed) || THREAD_BOUND.load(Ordering::Relaxed) > 0
}

/// Runs `f` with `client` bound on this thread only (other threads keep theirs).
pub fn with_thread_client<R>(client: Arc<Client>, f: impl FnOnce() -> R) -> R {
    let previous = THREAD_CLIENT
        .try_with(|c| c.try_borrow_mut().ok().map(|mut c| c.replace(client)))
        .ok()
        .flatten()
        .flatten();
    THREAD_BOUND.fetch_add(1, Ordering::Relaxed);
    struct Restore(Option<Arc<Client>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            let old = THREAD_CLIENT
                .try_with(|c| {
                    c.try_borrow_mut()
                        .ok()
                        .map(|mut c| std::mem::replace(&mut *c, previous))
                })
                .ok()
                .flatten();
            THREAD_BOUND.fetch_sub(1, Ordering::Relaxed);
            drop(old);
        }
    }
    let _restore = Restore(previous);
    f()
}

pub(crate) fn current_max_breadcrumbs() -> usize {
    current().map_or(scope::DEFAULT_MAX_BREADCRUMBS, |c| {
        c.options.get_max_breadcrumbs()
    })
}

fn set_last_event_id(id: EventId) {
    let _ = LAST_EVENT_ID.try_with(|c| c.set(id));
}

/// The id of the last event captured on this thread (nil if none).
pub(crate) fn last_event_id() -> EventId {
    LAST_EVENT_ID
        .try_with(std::cell::Cell::get)
        .unwrap_or(EventId::NIL)
}
