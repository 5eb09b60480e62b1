//! Transactions and spans: recording while they run, and sending when the transaction finishes.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::SystemTime;

use once_cell::sync::OnceCell;
use sentry_sdk_transport::sync::Mutex;
use sentry_sdk_transport::{DataCategory, Outgoing};

use super::sampling::{self, TraceDecision};
use super::MAX_SPANS;
use crate::binding::current_client;
use crate::client::Client;
use crate::payload::{transaction_envelope, FinishedTransaction, TraceDsc, TraceInfo};
use crate::propagation::{make_dsc, Dsc, PropagationContext, SentryTrace};
use crate::protocol::{Map, SpanId, SpanRecord, SpanStatus, TraceId, Value};
use crate::scope::{self, Snapshot};

/// Where a transaction's name comes from (`transaction_info.source`): Sentry groups by
/// low-cardinality names (`route`, `view`, `component`, `task`, `custom`) and treats `url`
/// names (with ids in them) with care, leaving them out of the trace's DSC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TransactionSource {
    /// Set by the program (the default).
    #[default]
    Custom,
    /// The raw URL path.
    Url,
    /// A parametrised route (`/orders/{id}`).
    Route,
    /// A handler's name.
    View,
    /// A component's name.
    Component,
    /// A background task's name.
    Task,
}

impl TransactionSource {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            TransactionSource::Custom => "custom",
            TransactionSource::Url => "url",
            TransactionSource::Route => "route",
            TransactionSource::View => "view",
            TransactionSource::Component => "component",
            TransactionSource::Task => "task",
        }
    }
}

/// How to start a transaction: its name and operation, and optionally the trace it continues,
/// a sampling decision already taken, and data for a `traces_sampler`.
///
/// Without [`continue_trace`](Self::continue_trace), a transaction continues the trace its
/// isolation scope was given by [`continue_trace`](crate::performance::continue_trace) (an
/// incoming request's), or starts a new one.
#[derive(Debug, Clone)]
pub struct TransactionContext {
    name: String,
    op: String,
    trace_id: Option<TraceId>,
    parent_span_id: Option<SpanId>,
    sampled: Option<bool>,
    custom: Map<Value>,
    decision: Option<TraceDecision>,
    source: TransactionSource,
    span_id: Option<SpanId>,
    start: Option<SystemTime>,
    propagation: Option<PropagationContext>,
}

impl TransactionContext {
    /// A new transaction `name` doing `op` (`http.server`, `task`, ...).
    pub fn new(name: impl Into<String>, op: impl Into<String>) -> Self {
        TransactionContext {
            name: name.into(),
            op: op.into(),
            trace_id: None,
            parent_span_id: None,
            sampled: None,
            custom: Map::new(),
            decision: None,
            source: TransactionSource::Custom,
            span_id: None,
            start: None,
            propagation: None,
        }
    }

    /// Where the name comes from (default [`TransactionSource::Custom`]).
    #[must_use]
    pub fn source(mut self, source: TransactionSource) -> Self {
        self.source = source;
        self
    }

    /// Continues the trace `trace_id` under the remote span `parent_span_id`.
    #[must_use]
    pub fn continue_trace(mut self, trace_id: TraceId, parent_span_id: SpanId) -> Self {
        self.trace_id = Some(trace_id);
        self.parent_span_id = Some(parent_span_id);
        self
    }

    /// Starts a new trace with the id `trace_id` (chosen by a bridge's own tracer:
    /// OpenTelemetry) instead of a random one; the transaction has no parent.
    #[must_use]
    pub fn trace_id(mut self, trace_id: TraceId) -> Self {
        self.trace_id = Some(trace_id);
        self.parent_span_id = None;
        self
    }

    /// Continues the trace an incoming request described (see
    /// [`PropagationContext::from_headers`]): its trace id, the caller's span as parent, the
    /// caller's sampling decision and rate, its `sample_rand`, and its DSC, which this
    /// transaction's envelope and outgoing requests then carry as received. Wins over
    /// [`continue_trace`](Self::continue_trace).
    #[must_use]
    pub fn continue_from(mut self, incoming: PropagationContext) -> Self {
        self.propagation = Some(incoming);
        self
    }

    /// The root span's id, for a bridge whose own tracer chose it (OpenTelemetry); random by
    /// default.
    #[must_use]
    pub fn span_id(mut self, span_id: SpanId) -> Self {
        self.span_id = Some(span_id);
        self
    }

    /// When the transaction started, for one started before it was handed to Sentry; now
    /// by default.
    #[must_use]
    pub fn start_timestamp(mut self, start: SystemTime) -> Self {
        self.start = Some(start);
        self
    }

    /// A sampling decision taken in code; wins over `traces_sampler`, the caller's decision
    /// and `traces_sample_rate`.
    #[must_use]
    pub fn sampled(mut self, sampled: bool) -> Self {
        self.sampled = Some(sampled);
        self
    }

    /// Data a `traces_sampler` sees as [`SamplingContext::custom`](crate::SamplingContext).
    #[must_use]
    pub fn custom_sampling_context(mut self, custom: Map<Value>) -> Self {
        self.custom = custom;
        self
    }

    /// The decision [`decide_new_trace`](super::decide_new_trace) took for this trace.
    #[must_use]
    pub fn decided(mut self, decision: TraceDecision) -> Self {
        self.decision = Some(decision);
        self
    }

    /// The transaction's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// What a sampled transaction shares with its spans.
pub(crate) struct TransactionShared {
    pub(crate) client: Arc<Client>,
    pub(crate) name: Mutex<String>,
    pub(crate) trace_id: TraceId,
    pub(crate) parent_span_id: Option<SpanId>,
    pub(crate) finished: AtomicBool,
    /// The root span's own data (op, status, data, tags, start).
    pub(crate) root: Mutex<SpanRecord>,
    pub(crate) spans: Mutex<Vec<SpanRecord>>,
    pub(crate) dropped_spans: std::sync::atomic::AtomicUsize,
    /// The scopes the transaction last ran in, with their isolation depth (see
    /// `Span::remember_scope`), for a transaction finished outside them.
    pub(crate) scope: Mutex<Option<(u32, Snapshot)>>,
    /// The rate the decision used and the trace's `sample_rand`, for the DSC.
    pub(crate) sample_rate: f64,
    pub(crate) sample_rand: f64,
    /// The trace's DSC, shared with the propagation context of the scope it started in.
    pub(crate) dsc: Arc<OnceCell<Dsc>>,
    /// Where the name comes from.
    pub(crate) source: Mutex<TransactionSource>,
}

/// A span of a sampled transaction (the root span is the transaction itself).
pub(crate) struct SpanInner {
    pub(crate) transaction: Arc<TransactionShared>,
    pub(crate) record: Mutex<SpanRecord>,
    pub(crate) finished: AtomicBool,
}

impl SpanInner {
    /// Records the span in its transaction (the first `MAX_SPANS` of them), ended at `end`
    /// (now if `None`); once.
    fn finish(&self, end: Option<SystemTime>) {
        if self.finished.swap(true, Ordering::AcqRel) {
            return;
        }
        // Moved out, not copied: a finished span is only asked for its ids later.
        let record = {
            let mut record = self.record.lock();
            record.timestamp = end_at(end, record.start_timestamp);
            record.take()
        };
        let mut spans = self.transaction.spans.lock();
        if spans.len() < MAX_SPANS {
            spans.push(record);
        } else {
            self.transaction
                .dropped_spans
                .fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// A span whose last handle goes away unfinished (an early return, a `?`) is finished then,
/// with the status it was given.
impl Drop for SpanInner {
    fn drop(&mut self) {
        self.finish(None);
    }
}

/// The end of a span: `end`, else now; never before its start (Relay drops such spans).
fn end_at(end: Option<SystemTime>, start: SystemTime) -> SystemTime {
    end.unwrap_or_else(SystemTime::now).max(start)
}

/// A transaction whose last handle goes away unfinished is finished and sent then.
impl Drop for TransactionShared {
    fn drop(&mut self) {
        if self.finished.swap(true, Ordering::AcqRel) || self.client.is_closed() {
            return;
        }
        self.root.lock().timestamp = SystemTime::now();
        let finished = self.take_finished();
        let snapshot = self
            .scope
            .lock()
            .take()
            .map_or_else(scope::stack::snapshot, |(_, snapshot)| snapshot);
        queue(&self.client, finished, snapshot);
    }
}

/// A transaction: the root of a trace's spans in this service, sent to Sentry when finished.
///
/// Cloning gives another handle to the same transaction. An unsampled transaction (or one
/// started with tracing off or no client) is a no-op: it records and sends nothing.
///
/// ```
/// use sentry_sdk_core::performance::{start_transaction, TransactionContext};
/// let transaction = start_transaction(TransactionContext::new("nightly-import", "task"));
/// let span = transaction.start_child("db.query", "SELECT * FROM orders");
/// span.set_data("rows", 42);
/// span.finish();
/// transaction.finish();
/// ```
#[derive(Clone)]
pub struct Transaction {
    pub(crate) shared: Option<Arc<TransactionShared>>,
}

/// A span inside a transaction. A span of an unsampled transaction is a no-op.
#[derive(Clone)]
pub struct Span {
    pub(crate) inner: SpanKind,
}

#[derive(Clone)]
pub(crate) enum SpanKind {
    Noop,
    Root(Arc<TransactionShared>),
    Child(Arc<SpanInner>),
}

/// Starts a transaction. With no client bound, tracing off (neither `traces_sample_rate` nor
/// `traces_sampler`) or a negative sampling decision, the transaction is a no-op; an
/// unsampled one is counted as `sample_rate` in client reports.
pub fn start_transaction(context: TransactionContext) -> Transaction {
    let Some(client) = current_client() else {
        return Transaction { shared: None };
    };
    if !sampling::tracing_on(&client) {
        return Transaction { shared: None };
    }
    let TransactionContext {
        name,
        op,
        trace_id,
        parent_span_id,
        sampled,
        custom,
        decision,
        source,
        span_id,
        start,
        propagation,
    } = context;
    let decision = decision.unwrap_or_else(|| {
        let origin = match propagation {
            Some(incoming) => sampling::origin_from(incoming),
            None => sampling::origin(trace_id.map(|t| (t, parent_span_id))),
        };
        sampling::decide(&client, origin, &name, &op, &custom, sampled)
    });
    if !decision.sampled {
        return Transaction { shared: None };
    }
    let mut decision = decision;
    let dsc = sampling::dsc_cell(&mut decision);
    let origin = decision.origin;
    let mut root = SpanRecord::starting(origin.trace_id, origin.parent_span_id, op, None);
    if let Some(span_id) = span_id {
        root.span_id = span_id;
    }
    if let Some(start) = start {
        root.start_timestamp = start;
    }
    Transaction {
        shared: Some(Arc::new(TransactionShared {
            client,
            name: Mutex::new(name),
            trace_id: origin.trace_id,
            parent_span_id: origin.parent_span_id,
            finished: AtomicBool::new(false),
            root: Mutex::new(root),
            spans: Mutex::new(Vec::new()),
            dropped_spans: Default::default(),
            scope: Mutex::new(None),
            sample_rate: decision.rate,
            sample_rand: origin.sample_rand,
            dsc,
            source: Mutex::new(source),
        })),
    }
}

/// Starts a transaction doing `op` whose name (and its source) `name` builds only if the
/// transaction will be recorded: the trace is decided first, so an unsampled request or task
/// builds no name string and no transaction. What web framework integrations call per request.
/// With a `traces_sampler`, which must see the name, the name is always built.
///
/// ```
/// use sentry_sdk_core::performance::{start_transaction_named, TransactionSource};
/// let path = "/orders/7";
/// let t = start_transaction_named("http.server", || (format!("GET {path}"), TransactionSource::Url));
/// assert!(!t.is_sampled()); // no client bound here
/// ```
pub fn start_transaction_named(
    op: &str,
    name: impl FnOnce() -> (String, TransactionSource),
) -> Transaction {
    let decision = match sampling::decide_new_trace() {
        Some(decision) if !decision.sampled => return Transaction { shared: None },
        Some(decision) => Some(decision),
        None if !sampling::tracing_enabled() => return Transaction { shared: None },
        None => None,
    };
    let (name, source) = name();
    let context = TransactionContext::new(name, op).source(source);
    start_transaction(match decision {
        Some(decision) => context.decided(decision),
        None => context,
    })
}

fn child_of(
    transaction: &Arc<TransactionShared>,
    parent: SpanId,
    op: &str,
    description: &str,
    span_id: Option<SpanId>,
) -> Span {
    let description = (!description.is_empty()).then(|| description.to_owned());
    let mut record = SpanRecord::starting(
        transaction.trace_id,
        Some(parent),
        op.to_owned(),
        description,
    );
    if let Some(span_id) = span_id {
        record.span_id = span_id;
    }
    Span {
        inner: SpanKind::Child(Arc::new(SpanInner {
            transaction: transaction.clone(),
            record: Mutex::new(record),
            finished: AtomicBool::new(false),
        })),
    }
}

impl Transaction {
    /// Whether this transaction records and will be sent.
    pub fn is_sampled(&self) -> bool {
        self.shared.is_some()
    }

    /// The transaction as a span (to enter it, or to start children from).
    pub fn as_span(&self) -> Span {
        Span {
            inner: match &self.shared {
                Some(shared) => SpanKind::Root(shared.clone()),
                None => SpanKind::Noop,
            },
        }
    }

    /// Starts a child span: `op` says what kind of work it is (`db.query`, `http.client`,
    /// `cache.get`), `description` which one (the query, the URL; `""` for none).
    pub fn start_child(&self, op: &str, description: &str) -> Span {
        self.as_span().start_child(op, description)
    }

    /// Makes the transaction the current span on this thread until the returned guard is
    /// dropped (see [`Span::enter`]).
    pub fn enter(&self) -> super::SpanGuard {
        super::active::enter(&self.as_span())
    }

    /// Renames the transaction, saying where the new name comes from (a web framework
    /// integration names it by the matched route once routing is done).
    pub fn set_name_and_source(&self, name: impl Into<String>, source: TransactionSource) {
        if let Some(shared) = &self.shared {
            *shared.name.lock() = name.into();
            *shared.source.lock() = source;
        }
    }

    /// Renames the transaction.
    pub fn set_name(&self, name: impl Into<String>) {
        if let Some(shared) = &self.shared {
            *shared.name.lock() = name.into();
        }
    }

    /// Sets a data entry on the transaction's root span.
    pub fn set_data(&self, key: impl Into<String>, value: impl Into<Value>) {
        self.as_span().set_data(key, value);
    }

    /// Sets the status.
    pub fn set_status(&self, status: SpanStatus) {
        self.as_span().set_status(status);
    }

    /// Finishes the transaction and sends it (with every finished span) from the SDK's
    /// background thread. Spans finished later are not sent. Calling it twice does nothing.
    pub fn finish(&self) {
        self.finish_with(None);
    }

    /// Finishes the transaction as [`finish`](Self::finish) does, ended at `end` (for one
    /// whose end was measured elsewhere: OpenTelemetry's).
    pub fn finish_at(&self, end: SystemTime) {
        self.finish_with(Some(end));
    }

    fn finish_with(&self, end: Option<SystemTime>) {
        if let Some(shared) = &self.shared {
            if !shared.finished.swap(true, Ordering::AcqRel) {
                {
                    let mut root = shared.root.lock();
                    root.timestamp = end_at(end, root.start_timestamp);
                }
                send(shared.clone());
            }
        }
    }
}

/// Queues a finished transaction: the scopes are snapshot here, on the thread that finished
/// it; its spans are taken and its payload built on the worker.
fn send(transaction: Arc<TransactionShared>) {
    let client = transaction.client.clone();
    if client.is_closed() {
        return;
    }
    // The scopes of where the transaction ran: this thread's if it is still inside it, else
    // those it last ran in (a request's span finished after its isolated future returned
    // carries that request's user and tags, not whatever scope is current now).
    // Only spans entered here: a fallback (OpenTelemetry's context) must not be read from
    // where a bridge finishes a transaction, which may be inside that context's teardown.
    let inside = super::active::entered_span().is_some_and(|span| span.belongs_to(&transaction));
    let remembered = match inside {
        true => None,
        false => transaction
            .scope
            .lock()
            .take()
            .map(|(_, snapshot)| snapshot),
    };
    let snapshot = remembered.unwrap_or_else(scope::stack::snapshot);
    queue(&client, transaction.take_finished(), snapshot);
}

/// Hands a finished transaction to the worker, which builds its payload.
fn queue(client: &Arc<Client>, finished: FinishedTransaction, snapshot: Snapshot) {
    let size_hint = 1024 + finished.spans.len() * 256;
    let context = client.build_context().clone();
    client.send(Outgoing::deferred(
        DataCategory::Transaction,
        size_hint,
        move || transaction_envelope(&context, finished, &snapshot),
    ));
}

impl TransactionShared {
    /// The trace's DSC, frozen now if it was not yet (it names this transaction).
    pub(crate) fn frozen_dsc(&self) -> &Dsc {
        self.dsc.get_or_init(|| {
            // A URL name may hold ids and personal data: not propagated.
            let name = match *self.source.lock() {
                TransactionSource::Url => None,
                _ => Some(self.name.lock().clone()),
            };
            make_dsc(
                self.client.options(),
                self.trace_id,
                self.sample_rand,
                Some((true, self.sample_rate)),
                name.as_deref(),
            )
        })
    }

    /// What the worker builds the payload from: the spans are moved out, the rest copied.
    fn take_finished(&self) -> FinishedTransaction {
        // The DSC is not frozen here: if nothing left yet, the envelope built on the worker is
        // the first to leave, and it freezes the DSC there, off the caller's path.
        let dsc = TraceDsc {
            cell: self.dsc.clone(),
            trace_id: self.trace_id,
            sample_rand: self.sample_rand,
            sample_rate: self.sample_rate,
        };
        let name = self.name.lock().clone();
        let source = self.source.lock().as_str();
        let root = self.root.lock().clone();
        let spans = std::mem::take(&mut *self.spans.lock());
        FinishedTransaction {
            name,
            source,
            root,
            parent_span_id: self.parent_span_id,
            spans,
            dropped_spans: self.dropped_spans.load(Ordering::Relaxed) as u64,
            dsc,
        }
    }
}

impl Span {
    /// A span that records nothing.
    pub fn noop() -> Span {
        Span {
            inner: SpanKind::Noop,
        }
    }

    /// Whether this span records (its transaction is sampled).
    pub fn is_sampled(&self) -> bool {
        !matches!(self.inner, SpanKind::Noop)
    }

    /// Whether both handles are the same span (or both no-ops).
    pub fn same_as(&self, other: &Span) -> bool {
        match (&self.inner, &other.inner) {
            (SpanKind::Noop, SpanKind::Noop) => true,
            (SpanKind::Root(a), SpanKind::Root(b)) => Arc::ptr_eq(a, b),
            (SpanKind::Child(a), SpanKind::Child(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }

    /// The trace id and span id, if sampled.
    pub fn ids(&self) -> Option<(TraceId, SpanId)> {
        match &self.inner {
            SpanKind::Noop => None,
            SpanKind::Root(t) => Some((t.trace_id, t.root.lock().span_id)),
            SpanKind::Child(s) => Some((s.transaction.trace_id, s.record.lock().span_id)),
        }
    }

    /// The transaction this span is part of (`None` for a no-op span).
    fn transaction(&self) -> Option<&Arc<TransactionShared>> {
        match &self.inner {
            SpanKind::Noop => None,
            SpanKind::Root(t) => Some(t),
            SpanKind::Child(s) => Some(&s.transaction),
        }
    }

    /// Whether this span is `transaction` or one of its children.
    fn belongs_to(&self, transaction: &Arc<TransactionShared>) -> bool {
        self.transaction()
            .is_some_and(|t| Arc::ptr_eq(t, transaction))
    }

    /// Remembers this thread's scopes as those the span's transaction runs in, so that a
    /// transaction finished elsewhere (after its future returned, from a `tracing` span's
    /// close) is built with them. Called when the span is left, and at the end of each poll
    /// of an isolated future running inside it. Scopes of a less nested isolation do not
    /// replace those of a more nested one: `tracing` enters a span once more to drop the future
    /// it instruments, outside the request's isolation scope, and a `.isolated()` future inside
    /// a span is left by its poll before the span is.
    pub(crate) fn remember_scope(&self) {
        let Some(t) = self.transaction() else {
            return;
        };
        if t.finished.load(Ordering::Acquire) {
            return;
        }
        let depth = scope::stack::isolation_depth();
        if t.scope
            .lock()
            .as_ref()
            .is_some_and(|(kept, _)| *kept > depth)
        {
            return;
        }
        let snapshot = scope::stack::snapshot();
        *t.scope.lock() = Some((depth, snapshot));
    }

    /// The `sentry-trace` header and DSC a request made inside this (recorded) span carries.
    pub(crate) fn outgoing(&self) -> Option<(SentryTrace, Dsc)> {
        let transaction = self.transaction()?;
        let (trace_id, span_id) = self.ids()?;
        let header = SentryTrace {
            trace_id,
            span_id,
            sampled: Some(true),
        };
        Some((header, transaction.frozen_dsc().clone()))
    }

    /// What an event captured inside this span says of it (`contexts.trace`, `transaction`).
    pub(crate) fn trace_info(&self) -> Option<Box<TraceInfo>> {
        let (transaction, record) = match &self.inner {
            SpanKind::Noop => return None,
            SpanKind::Root(t) => (t, t.root.lock()),
            SpanKind::Child(s) => (&s.transaction, s.record.lock()),
        };
        let info = TraceInfo {
            trace_id: transaction.trace_id,
            span_id: record.span_id,
            parent_span_id: record.parent_span_id,
            op: record.op.clone(),
            description: record.description.clone(),
            transaction: String::new(),
            dsc: Arc::default(),
        };
        drop(record);
        // Not under the span's lock: the root span's and the name's locks are never held
        // together anywhere else either.
        // Frozen now (the event is the trace's first to leave, perhaps), handed over as the
        // shared cell: no copy of its entries on the caller's thread.
        transaction.frozen_dsc();
        let dsc = transaction.dsc.clone();
        let transaction = transaction.name.lock().clone();
        Some(Box::new(TraceInfo {
            transaction,
            dsc,
            ..info
        }))
    }

    /// Starts a child span of this one: `op` is the kind of work (`db.query`), `description`
    /// the instance (the query; `""` for none). Finish it with [`Span::finish`].
    pub fn start_child(&self, op: &str, description: &str) -> Span {
        match &self.inner {
            SpanKind::Noop => Span::noop(),
            SpanKind::Root(t) => {
                let id = t.root.lock().span_id;
                child_of(t, id, op, description, None)
            }
            SpanKind::Child(s) => {
                let id = s.record.lock().span_id;
                child_of(&s.transaction, id, op, description, None)
            }
        }
    }

    /// Starts a child span as [`start_child`](Self::start_child) does, with the id `span_id`
    /// (for a bridge whose own tracer chose it: OpenTelemetry).
    pub fn start_child_with_id(&self, op: &str, description: &str, span_id: SpanId) -> Span {
        match &self.inner {
            SpanKind::Noop => Span::noop(),
            SpanKind::Root(t) => {
                let id = t.root.lock().span_id;
                child_of(t, id, op, description, Some(span_id))
            }
            SpanKind::Child(s) => {
                let id = s.record.lock().span_id;
                child_of(&s.transaction, id, op, description, Some(span_id))
            }
        }
    }

    /// Sets when the span started (now when it was started, by default).
    pub fn set_start_timestamp(&self, start: SystemTime) {
        self.with_record(|r| r.start_timestamp = start);
    }

    fn with_record(&self, f: impl FnOnce(&mut SpanRecord)) {
        match &self.inner {
            SpanKind::Noop => {}
            SpanKind::Root(t) => f(&mut t.root.lock()),
            SpanKind::Child(s) => f(&mut s.record.lock()),
        }
    }

    /// Sets a data entry (shown with the span).
    pub fn set_data(&self, key: impl Into<String>, value: impl Into<Value>) {
        if self.is_sampled() {
            // Converted before the span's lock is taken: conversions are user code.
            let (key, value) = (key.into(), value.into());
            self.with_record(|r| {
                r.data.insert(key, value);
            });
        }
    }

    /// Sets a tag.
    pub fn set_tag(&self, key: impl Into<String>, value: impl ToString) {
        if self.is_sampled() {
            let (key, value) = (key.into(), value.to_string());
            self.with_record(|r| {
                r.tags.insert(key, value);
            });
        }
    }

    /// Sets the status.
    pub fn set_status(&self, status: SpanStatus) {
        self.with_record(|r| r.status = Some(status));
    }

    /// Sets the operation (`db.query`, `http.client`, ...).
    pub fn set_op(&self, op: impl Into<String>) {
        if self.is_sampled() {
            let op = op.into();
            self.with_record(|r| r.op = op);
        }
    }

    /// Sets the description.
    pub fn set_description(&self, description: impl Into<String>) {
        if self.is_sampled() {
            let description = description.into();
            self.with_record(|r| r.description = Some(description));
        }
    }

    /// Sets the origin (`manual` by default; integrations use `auto.<integration>`).
    pub fn set_origin(&self, origin: &'static str) {
        self.with_record(|r| r.origin = origin);
    }

    /// Finishes the span: it is recorded in its transaction (the first `MAX_SPANS` of them).
    /// Finishing the root span finishes the transaction.
    pub fn finish(&self) {
        self.finish_with(None);
    }

    /// Finishes the span as [`finish`](Self::finish) does, ended at `end` (never before its
    /// start).
    pub fn finish_at(&self, end: SystemTime) {
        self.finish_with(Some(end));
    }

    fn finish_with(&self, end: Option<SystemTime>) {
        match &self.inner {
            SpanKind::Noop => {}
            SpanKind::Root(t) => Transaction {
                shared: Some(t.clone()),
            }
            .finish_with(end),
            SpanKind::Child(s) => s.finish(end),
        }
    }

    /// Makes this span the current one on this thread until the guard is dropped: events
    /// captured meanwhile carry its trace, and new spans can start from it. The guard must be
    /// dropped on this thread (it is not `Send`).
    pub fn enter(&self) -> super::SpanGuard {
        super::active::enter(self)
    }
}

impl fmt::Debug for Transaction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.shared {
            None => f.write_str("Transaction(unsampled)"),
            Some(t) => f
                .debug_struct("Transaction")
                .field("name", &*t.name.lock())
                .field("trace_id", &t.trace_id)
                .field("spans", &t.spans.lock().len())
                .finish(),
        }
    }
}

impl fmt::Debug for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.ids() {
            None => f.write_str("Span(noop)"),
            Some((trace, span)) => write!(f, "Span({trace}, {span})"),
        }
    }
}

/// Runs `f` inside a new child span (`op`, `description`) of the span in force on this thread,
/// current while `f` runs and finished when it returns (or unwinds). With no span in force, or
/// an unsampled one, the span is a no-op and `f` just runs.
///
/// ```
/// use sentry_sdk_core::performance::with_child_span;
/// let rows = with_child_span("db.query", "SELECT count(*) FROM orders", |span| {
///     span.set_data("rows", 12);
///     12
/// });
/// assert_eq!(rows, 12);
/// ```
pub fn with_child_span<R>(op: &str, description: &str, f: impl FnOnce(&Span) -> R) -> R {
    let span = super::current_span()
        .map(|parent| parent.start_child(op, description))
        .unwrap_or_else(Span::noop);
    let out = {
        let _entered = span.enter();
        f(&span)
    };
    span.finish();
    out
}
