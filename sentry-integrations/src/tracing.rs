//! The `tracing` integration (feature `tracing`): a `tracing_subscriber::Layer`.
//!
//! ```no_run
//! use tracing_subscriber::prelude::*;
//! tracing_subscriber::registry()
//!     .with(sentry_sdk_integrations::tracing::SentryLayer::new())
//!     .init();
//! ```
//! - **Events** map like `log` records (`error` -> event, `warn`/`info` -> breadcrumb, `info`
//!   and above -> structured log when logs are enabled). The `message` field is the message,
//!   other fields become breadcrumb `data`, event `extra` or log attributes (typed: `i64`,
//!   `u64`, `f64` and `bool` fields stay numbers and booleans); an `error` field
//!   recorded as a `dyn Error` becomes the event's exception chain.
//! - **Spans**, when tracing is on (`traces_sample_rate`): a span without a recording parent
//!   starts a transaction, one inside becomes a child span; fields become span data, and the
//!   `sentry.op` / `sentry.name` fields set the operation and name. Entering a span makes it
//!   the current one, so events inside carry its trace.
//!
//! Cost: with no client bound, tracing off, or an unsampled trace, creating, entering and
//! leaving a span allocate nothing and touch no scope. Events made on the SDK's own thread are
//! never captured.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use sentry_sdk_core::logs::LogLevel;
use sentry_sdk_core::performance::{
    current_span, decide_new_trace, pop_active, push_active, start_transaction, tracing_enabled,
    Span, SpanStatus, TransactionContext,
};
use sentry_sdk_core::protocol::{Event, Map, Value};
use tracing_core::field::{Field, Visit};
use tracing_core::span::{Attributes, Id, Record};
use tracing_core::{Level, Metadata, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

pub use crate::record::RecordMapping;
use crate::record::{self, Captured};

/// What a `tracing` event becomes, by its metadata: a shared closure, as
/// [`SentryLayer::event_filter`] stores it.
pub type EventFilter = Arc<dyn Fn(&Metadata<'_>) -> RecordMapping + Send + Sync>;

/// The default event mapping: `error` -> event, `warn`/`info` -> breadcrumb, `debug`/`trace`
/// -> nothing; `info` and above also -> structured log.
pub fn default_event_mapping(metadata: &Metadata<'_>) -> RecordMapping {
    let level = *metadata.level();
    RecordMapping {
        breadcrumb: level == Level::WARN || level == Level::INFO,
        event: level == Level::ERROR,
        log: level <= Level::INFO,
    }
}

/// The layer; see the module docs. Cloning it is cheap (the filter is shared).
#[derive(Clone)]
pub struct SentryLayer {
    event_filter: EventFilter,
}

impl SentryLayer {
    /// With the default event mapping ([`default_event_mapping`]).
    pub fn new() -> Self {
        SentryLayer {
            event_filter: Arc::new(default_event_mapping),
        }
    }

    /// With your own event mapping: a function or a closure (which may capture state), as
    /// the `log` integration's `SentryLogger::mapping` takes. Default:
    /// [`default_event_mapping`].
    ///
    /// ```
    /// use sentry_sdk_integrations::tracing::{default_event_mapping, RecordMapping, SentryLayer};
    ///
    /// let noisy = "hyper";
    /// let layer = SentryLayer::new().event_filter(move |metadata| {
    ///     if metadata.target().starts_with(noisy) {
    ///         RecordMapping::IGNORE
    ///     } else {
    ///         default_event_mapping(metadata)
    ///     }
    /// });
    /// # let _ = layer;
    /// ```
    #[must_use]
    pub fn event_filter(
        mut self,
        filter: impl Fn(&Metadata<'_>) -> RecordMapping + Send + Sync + 'static,
    ) -> Self {
        self.event_filter = Arc::new(filter);
        self
    }
}

impl fmt::Debug for SentryLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The filter is a closure: nothing to show.
        f.debug_struct("SentryLayer").finish_non_exhaustive()
    }
}

impl Default for SentryLayer {
    fn default() -> Self {
        SentryLayer::new()
    }
}

/// Marks a span of an unsampled trace, so that its children are not sampled anew.
struct NotSampled;

/// What the layer keeps in a recording span's extensions.
struct SentrySpan {
    span: Span,
}

impl<S> tracing_subscriber::Layer<S> for SentryLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_event(&self, event: &tracing_core::Event<'_>, _ctx: Context<'_, S>) {
        let metadata = event.metadata();
        record::capture(
            || (self.event_filter)(metadata),
            || {
                let mut fields = Fields::default();
                event.record(&mut fields);
                Captured {
                    level: log_level(*metadata.level()),
                    target: Cow::Borrowed(metadata.target()),
                    message: fields.message.unwrap_or_default(),
                    data: fields.data,
                    error: fields.error,
                    origin: "auto.log.tracing",
                }
            },
        );
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        // Spans that hyper, h2 or tokio open on the SDK's own thread are never traced.
        if !sentry_sdk_core::is_active() || sentry_sdk_core::__private::is_sdk_thread() {
            return;
        }
        if !tracing_enabled() {
            return; // tracing off: no span data at all
        }
        let Some(span_ref) = ctx.span(id) else { return };
        // The parent decides: a recording parent gets a child, an unsampled one marks this
        // span unsampled too (a zero-sized marker: no allocation), and a span with no parent
        // in this trace starts one after the sampling decision, taken before anything is
        // built for it.
        let parent: Option<Span> = match span_ref.parent() {
            Some(p) => {
                let extensions = p.extensions();
                if extensions.get::<NotSampled>().is_some() {
                    drop(extensions);
                    span_ref.extensions_mut().insert(NotSampled);
                    return;
                }
                extensions.get::<SentrySpan>().map(|s| s.span.clone())
            }
            // No parent in the registry: a contextual span continues the span entered by hand
            // on this thread (if any); an explicit root does not.
            None if attrs.is_contextual() => current_span(),
            None => None,
        };
        if parent.as_ref().is_some_and(|p| !p.is_sampled()) {
            span_ref.extensions_mut().insert(NotSampled);
            return;
        }
        // A new trace is decided before anything is built for it, unless a `traces_sampler`
        // needs the name (`None`: the transaction decides when it starts).
        let decision = match parent {
            None => match decide_new_trace() {
                Some(d) if !d.is_sampled() => {
                    span_ref.extensions_mut().insert(NotSampled);
                    return;
                }
                other => other,
            },
            Some(_) => None,
        };
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        let name = fields
            .sentry_name
            .take()
            .unwrap_or_else(|| attrs.metadata().name().to_owned());
        let op = fields
            .sentry_op
            .take()
            .unwrap_or_else(|| "function".to_owned());
        let span = match parent {
            Some(parent) => parent.start_child(&op, &name),
            None => {
                let context = TransactionContext::new(name, op);
                let context = match decision {
                    Some(decision) => context.decided(decision),
                    None => context,
                };
                start_transaction(context).as_span()
            }
        };
        if !span.is_sampled() {
            span_ref.extensions_mut().insert(NotSampled);
            return;
        }
        span.set_origin("auto.tracing");
        for (k, v) in fields.data {
            span.set_data(k, v);
        }
        span_ref.extensions_mut().insert(SentrySpan { span });
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span_ref) = ctx.span(id) else { return };
        let span = match span_ref.extensions().get::<SentrySpan>() {
            Some(sentry) => sentry.span.clone(),
            None => return,
        };
        // Recorded with no extensions borrow held: formatting the values is user code.
        let mut fields = Fields::default();
        values.record(&mut fields);
        for (k, v) in fields.data {
            span.set_data(k, v);
        }
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        let Some(span_ref) = ctx.span(id) else { return };
        let span = match span_ref.extensions().get::<SentrySpan>() {
            Some(sentry) => sentry.span.clone(),
            None => return,
        };
        push_active(&span);
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        let Some(span_ref) = ctx.span(id) else { return };
        let span = match span_ref.extensions().get::<SentrySpan>() {
            Some(sentry) => sentry.span.clone(),
            None => return,
        };
        pop_active(&span);
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span_ref) = ctx.span(&id) else {
            return;
        };
        let taken = span_ref.extensions_mut().remove::<SentrySpan>();
        if let Some(sentry) = taken {
            sentry.span.finish();
        }
    }
}

/// Fields of an event or span, split into the parts Sentry wants.
#[derive(Default)]
struct Fields {
    message: Option<String>,
    error: Option<Box<Event>>,
    sentry_op: Option<String>,
    sentry_name: Option<String>,
    data: Map<Value>,
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            // The message arrives as `fmt::Arguments`: format it once, straight into place.
            let mut message = String::new();
            let _ = fmt::write(&mut message, format_args!("{value:?}"));
            self.message = Some(message);
            return;
        }
        self.put(field, Value::String(format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Value::String(value.to_owned()));
    }
    // Typed fields stay typed: log attributes `integer`, `double`, `boolean`.
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        // Beyond i64::MAX the log attribute becomes a string (never a lossy double).
        self.put(field, Value::from(value));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, record::double(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::Bool(value));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        if self.error.is_none() {
            self.error = Some(Box::new(sentry_sdk_core::event_from_error(value)));
        }
        self.put(field, Value::String(value.to_string()));
    }
}

impl Fields {
    fn put(&mut self, field: &Field, value: Value) {
        match field.name() {
            "message" => {
                self.message = Some(
                    value
                        .as_str()
                        .map_or_else(|| value.to_string(), str::to_owned),
                )
            }
            "sentry.op" => self.sentry_op = value.as_str().map(str::to_owned),
            "sentry.name" => self.sentry_name = value.as_str().map(str::to_owned),
            name => {
                self.data.insert(name.to_owned(), value);
            }
        }
    }
}

fn log_level(level: Level) -> LogLevel {
    match level {
        Level::ERROR => LogLevel::Error,
        Level::WARN => LogLevel::Warn,
        Level::INFO => LogLevel::Info,
        Level::DEBUG => LogLevel::Debug,
        _ => LogLevel::Trace,
    }
}

/// Marks a span's status from the outcome of the work it measured (for `#[instrument(err)]`
/// style code that wants it on the span too).
pub fn set_current_span_status(status: SpanStatus) {
    if let Some(span) = current_span() {
        span.set_status(status);
    }
}
