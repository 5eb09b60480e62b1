//! The tracing setters of [`ClientOptions`]: sampling, filtering transactions, and which
//! requests carry trace headers (PROTOCOL.md §5).

use std::borrow::Cow;
use std::sync::Arc;

use crate::protocol::{Event, Map, Value};

use super::ClientOptions;

/// What a [`traces_sampler`](ClientOptions::traces_sampler) sees of a transaction about to
/// start.
#[derive(Debug, Clone, Copy)]
pub struct SamplingContext<'a> {
    /// The transaction's name.
    pub name: &'a str,
    /// Its operation (`http.server`, `task`, ...).
    pub op: &'a str,
    /// The decision of the service that called this one, if it took one.
    pub parent_sampled: Option<bool>,
    /// That service's sample rate, if it said.
    pub parent_sample_rate: Option<f64>,
    /// What the code that starts the transaction added
    /// ([`TransactionContext::custom_sampling_context`](crate::performance::TransactionContext::custom_sampling_context)).
    pub custom: &'a Map<Value>,
}

impl ClientOptions {
    /// Decides the sample rate (`0.0` to `1.0`) of each new transaction, instead of
    /// `traces_sample_rate`. Precedence: a decision given when the transaction starts, then
    /// this sampler, then the calling service's decision, then `traces_sample_rate`. The rate is
    /// compared with the trace's `sample_rand`, so every service of a trace that uses the same
    /// rate decides the same way. It runs on the thread that starts the transaction; a panic
    /// in it counts as `0.0`. Setting it turns tracing on.
    ///
    /// ```
    /// let options = sentry_sdk_core::ClientOptions::new().traces_sampler(|ctx| {
    ///     match ctx.name {
    ///         "GET /health" => 0.0,
    ///         _ => ctx.parent_sampled.map_or(0.2, |p| if p { 1.0 } else { 0.0 }),
    ///     }
    /// });
    /// ```
    pub fn traces_sampler(
        mut self,
        sampler: impl Fn(&SamplingContext<'_>) -> f32 + Send + Sync + 'static,
    ) -> Self {
        self.settings.traces_sampler = Some(Arc::new(sampler));
        self
    }

    /// Edits or drops each finished transaction before it is sent (transactions do not go
    /// through `before_send`). It sees the transaction as an [`Event`] (name, tags, user,
    /// contexts with `trace`); spans are not in it. Dropping one counts it, and its spans, as
    /// `before_send`.
    pub fn before_send_transaction(
        mut self,
        f: impl Fn(Event) -> Option<Event> + Send + Sync + 'static,
    ) -> Self {
        self.settings.before_send_transaction = Some(Arc::new(f));
        self
    }

    /// Drops transactions whose name contains `pattern` (counted as `event_processor`). May
    /// be called several times.
    pub fn ignore_transactions(mut self, pattern: impl Into<Cow<'static, str>>) -> Self {
        self.settings.ignore_transactions.push(pattern.into());
        self
    }

    /// The URLs (substrings of them) whose outgoing requests carry `sentry-trace` and
    /// `baggage`. Default: every URL; an empty list: none.
    ///
    /// ```
    /// let options = sentry_sdk_core::ClientOptions::new()
    ///     .trace_propagation_targets(["api.internal", "127.0.0.1"]);
    /// ```
    pub fn trace_propagation_targets<S: Into<Cow<'static, str>>>(
        mut self,
        targets: impl IntoIterator<Item = S>,
    ) -> Self {
        self.settings.trace_propagation_targets =
            Some(targets.into_iter().map(Into::into).collect());
        self
    }

    /// Also send (and read) the W3C `traceparent` header (default `false`).
    pub fn propagate_traceparent(mut self, on: bool) -> Self {
        self.settings.propagate_traceparent = on;
        self
    }

    /// Continue an incoming trace only when its `org_id` is this one's (default `false`: only
    /// two different org ids start a new trace; with it, one missing does too).
    pub fn strict_trace_continuation(mut self, on: bool) -> Self {
        self.settings.strict_trace_continuation = on;
        self
    }

    /// This organisation's id, compared with incoming traces' (default: the one in the DSN's
    /// host, `o123.ingest.sentry.io`).
    pub fn org_id(mut self, id: u64) -> Self {
        self.settings.org_id = Some(id);
        self
    }
}
