//! Where every payload is serialised: error events, transactions, structured logs and cron
//! check-ins, built on the SDK's background thread from what the caller handed over.
//!
//! # Layout
//! - this file: [`BuildContext`], what building needs (options, client-report counters, the
//!   `sdk` block, in-app rules, server name), and the steps error events and transactions
//!   share (defaults, event processors, the envelope);
//! - `capture`: [`Capture`], what the caller hands over for an error event (kept small);
//! - `event`: the error-event pipeline, from a [`Capture`] to an envelope;
//! - `transaction`: the `transaction` item of a finished transaction;
//! - `log`: one structured log item (defaults, `before_send_log`);
//! - `metric`: one trace metric item (defaults, `before_send_metric`);
//! - `session`: release-health `session` updates and `sessions` aggregates;
//! - `check_in`: one cron check-in's envelope (defaults, `before_send_check_in`).
//! - `attachments`: `attachment` items, read and size-checked on the worker;
//! - `feedback`: the `feedback` item of a user feedback (`before_send_feedback`).
//!
//! Nothing here knows the client, the bound scopes or the transport: callers pass the context
//! and a scope snapshot, and queue what comes back.

mod attachments;
mod capture;
mod check_in;
mod event;
mod feedback;
mod log;
mod metric;
mod session;
mod transaction;

pub(crate) use attachments::dropped_unread as attachments_dropped_unread;
pub use capture::thread_number;
pub(crate) use capture::{Body, Capture, TraceInfo};
pub(crate) use check_in::check_in_envelope;
pub(crate) use event::event_envelope;
pub(crate) use feedback::feedback_envelope;
pub(crate) use log::log_item;
pub(crate) use metric::{metric_item, MetricRecord};
pub(crate) use session::{session_envelope, session_item};
pub(crate) use transaction::{transaction_envelope, FinishedTransaction, TraceDsc};

use std::sync::Arc;

use sentry_sdk_transport::{ClientReports, DataCategory, DiscardReason, Envelope, Item};
use serde_json::{json, Value};

use crate::callback;
use crate::limits::Limits;
use crate::options::ClientOptions;
use crate::propagation::{make_dsc, Dsc, PropagationContext};
use crate::protocol::{json, Event, EventId};
use crate::scrub::Scrubber;
use crate::sdk::{sdk_info, SDK_NAME, SDK_VERSION};
use crate::session::Sessions;
use crate::stacktrace::InAppRules;

/// What building a payload needs, fixed when the client starts and shared (as an `Arc`) by
/// every deferred build, so that a queued build holds neither the client nor its transport.
#[derive(Debug)]
pub(crate) struct BuildContext {
    options: ClientOptions,
    reports: Arc<ClientReports>,
    sdk_info: Value,
    /// `sdk_info` serialised, written into events that nothing else reads.
    sdk_info_json: Vec<u8>,
    in_app: InAppRules,
    server_name: Option<String>,
    /// The integrations' static contexts (the first integration to name one wins), by name,
    /// as values (put into events that user code sees) and serialised (written into the
    /// others).
    static_contexts: Vec<(String, Value, Vec<u8>)>,
    /// The default attributes every structured log and trace metric of this client gets (see
    /// `log`).
    log_defaults: Vec<(&'static str, Value)>,
    /// The client's release-health sessions.
    sessions: Arc<Sessions>,
    /// The denylist in force (default, PII unless `send_default_pii`, the user's keys).
    scrubber: Scrubber,
}

impl BuildContext {
    /// The context of a client running `options` and counting drops in `reports`.
    pub(crate) fn new(
        options: ClientOptions,
        reports: Arc<ClientReports>,
        sessions: Arc<Sessions>,
    ) -> Self {
        let settings = options.settings();
        let integrations: Vec<&str> = settings.integrations.iter().map(|i| i.name()).collect();
        let sdk_info = sdk_info(&integrations);
        let in_app = InAppRules {
            include: settings.in_app_include.clone(),
            exclude: settings.in_app_exclude.clone(),
        };
        let server_name = settings
            .server_name
            .as_deref()
            .map(str::to_owned)
            .or_else(crate::hostname::hostname);
        // Serialising a JSON value into a Vec cannot fail.
        let sdk_info_json = serde_json::to_vec(&sdk_info).unwrap_or_default();
        let static_contexts = static_contexts(&settings.integrations);
        let log_defaults = log::fixed_defaults(server_name.as_deref(), &options, &static_contexts);
        let scrubber = Scrubber::new(&settings.denylist, settings.send_default_pii);
        BuildContext {
            options,
            reports,
            sdk_info,
            sdk_info_json,
            in_app,
            server_name,
            static_contexts,
            log_defaults,
            sessions,
            scrubber,
        }
    }

    /// The denylist in force.
    pub(crate) fn scrubber(&self) -> &Scrubber {
        &self.scrubber
    }

    /// What events are trimmed to.
    pub(crate) fn limits(&self) -> Limits {
        Limits::new(self.options.settings().max_value_length)
    }

    /// The largest request body sent, in bytes of JSON (`None`: no limit).
    pub(crate) fn max_request_body(&self) -> Option<usize> {
        self.options.settings().max_request_body_size.max_bytes()
    }

    /// A context with no sessions (unit tests).
    #[cfg(test)]
    pub(crate) fn for_test(options: ClientOptions, reports: Arc<ClientReports>) -> Self {
        let sessions = Sessions::new(None, "test", false, Default::default(), None);
        BuildContext::new(options, reports, Arc::new(sessions))
    }

    /// The client's release-health sessions.
    pub(crate) fn sessions(&self) -> &Arc<Sessions> {
        &self.sessions
    }

    /// The options the client runs with.
    pub(crate) fn options(&self) -> &ClientOptions {
        &self.options
    }

    /// The drop counters sent as client reports.
    pub(crate) fn reports(&self) -> &Arc<ClientReports> {
        &self.reports
    }

    /// What [`BuildContext::fill_defaults`] would put into an event, by reference, for the
    /// writer to use where the event has none (an event nothing else reads is not filled).
    fn defaults(&self) -> json::Defaults<'_> {
        let s = self.options.settings();
        json::Defaults {
            release: s.release.as_deref(),
            environment: Some(&s.environment),
            dist: s.dist.as_deref(),
            server_name: self.server_name.as_deref(),
            sdk_json: Some(&self.sdk_info_json[..]).filter(|json| !json.is_empty()),
            contexts: Vec::new(),
        }
    }

    /// Puts the integrations' static contexts into `event` where it has none of that name
    /// (for events that user code or an event processor sees whole).
    fn fill_static_contexts(&self, event: &mut Event) {
        for (name, value, _) in &self.static_contexts {
            if !event.contexts.contains_key(name) {
                event.contexts.insert(name.clone(), value.clone());
            }
        }
    }

    /// The serialised static contexts, sorted by name, for the writer.
    fn static_contexts_json(&self) -> Vec<(&str, &[u8])> {
        self.static_contexts
            .iter()
            .map(|(name, _, json)| (name.as_str(), &json[..]))
            .collect()
    }

    /// Release, environment, dist, server name and SDK, where the event has none.
    fn fill_defaults(&self, event: &mut Event) {
        let s = self.options.settings();
        if event.release.is_none() {
            event.release = s.release.as_deref().map(str::to_owned);
        }
        if event.environment.is_none() {
            event.environment = Some(s.environment.to_string());
        }
        if event.dist.is_none() {
            event.dist = s.dist.as_deref().map(str::to_owned);
        }
        if event.server_name.is_none() {
            event.server_name = self.server_name.clone();
        }
        if event.sdk.is_none() {
            event.sdk = Some(self.sdk_info.clone());
        }
    }

    /// Runs the integrations' event processors (user code, isolated); `Err` names the one that
    /// dropped the event. Shared by error events and transactions.
    fn process_event(&self, mut event: Event) -> Result<Event, &'static str> {
        let processors = self.options.settings().integrations.iter();
        for integration in processors.filter(|i| i.processes_events()) {
            let options = &self.options;
            let name = integration.name();
            match callback::run(name, || integration.process_event(event, options)).flatten() {
                Some(kept) => event = kept,
                None => return Err(name),
            }
        }
        Ok(event)
    }

    /// Runs a user's `before_send`-like `hook` (named `name`) on `item`, isolated; `None`, when
    /// it dropped the item or panicked, is counted as `before_send`.
    fn before_send<T: Send + 'static>(
        &self,
        name: &'static str,
        hook: &Arc<dyn Fn(T) -> Option<T> + Send + Sync>,
        item: T,
        category: DataCategory,
    ) -> Option<T> {
        let hook = hook.clone();
        match callback::run(name, move || hook(item)).flatten() {
            Some(kept) => Some(kept),
            None => self.dropped(DiscardReason::BeforeSend, category, name),
        }
    }

    /// Counts one item of `category` dropped for `reason` (by `by`, in debug output).
    fn dropped<T>(&self, reason: DiscardReason, category: DataCategory, by: &str) -> Option<T> {
        self.reports.record(reason, category, 1);
        sentry_sdk_transport::sdk_debug!("{} dropped by {by}", category.as_str());
        None
    }
}

/// The envelope header's `sdk`, built once.
fn envelope_sdk() -> &'static Value {
    static SDK: once_cell::sync::Lazy<Value> =
        once_cell::sync::Lazy::new(|| json!({"name": SDK_NAME, "version": SDK_VERSION}));
    &SDK
}

/// The static contexts of `integrations` (see `Integration::static_contexts`), sorted by name;
/// a context that cannot be serialised is left out.
fn static_contexts(
    integrations: &[Arc<dyn crate::options::Integration>],
) -> Vec<(String, Value, Vec<u8>)> {
    let mut all: Vec<(String, Value, Vec<u8>)> = Vec::new();
    for map in integrations.iter().filter_map(|i| i.static_contexts()) {
        for (name, value) in map {
            if all.iter().any(|(known, _, _)| known == name) {
                continue;
            }
            if let Ok(json) = serde_json::to_vec(value) {
                all.push((name.clone(), value.clone(), json));
            }
        }
    }
    all.sort_by(|a, b| a.0.cmp(&b.0));
    all
}

/// The envelope of one event-like item (`event`, `transaction`): its id, the SDK and the
/// trace's dynamic sampling context (`trace`) in the headers.
fn one_item_envelope(
    event_id: EventId,
    item_type: &'static str,
    payload: Vec<u8>,
    dsc: Option<Arc<str>>,
) -> Envelope {
    let mut envelope = Envelope::new();
    // The id through uuid's encoder, not `Display` and the formatting machinery.
    let mut id = uuid::Uuid::encode_buffer();
    envelope.set_header("event_id", &*event_id.0.simple().encode_lower(&mut id));
    envelope.set_header("sdk", envelope_sdk().clone());
    if let Some(dsc) = dsc {
        // Serialised once per trace, shared by its envelopes.
        envelope.set_header_json("trace", dsc);
    }
    envelope.add_item(Item::new(item_type, payload));
    envelope
}

impl BuildContext {
    /// The DSC of a trace known only to a scope's propagation context (an event outside any
    /// span), frozen now if it was not yet.
    fn scope_dsc<'a>(&self, pc: &'a PropagationContext) -> &'a Dsc {
        pc.frozen_dsc(|pc| {
            let decision = pc.sampled.zip(pc.sample_rate);
            make_dsc(&self.options, pc.trace_id, pc.sample_rand, decision, None)
        })
    }
}
