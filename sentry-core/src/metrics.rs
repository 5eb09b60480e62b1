//! Trace metrics: counters, gauges and distributions tied to the active trace and span
//! (PROTOCOL.md §6).
//!
//! [`count`], [`gauge`] and [`distribution`] each return a [`MetricBuilder`] that sends the
//! metric **when it is dropped** (at the end of the statement, for a plain call) or when
//! [`send`](MetricBuilder::send) is called; between the two, [`unit`](MetricBuilder::unit)
//! and [`attribute`](MetricBuilder::attribute) add to it:
//!
//! ```
//! use sentry_sdk_core::metrics;
//!
//! metrics::count("orders.placed", 1);
//! metrics::gauge("queue.depth", 42).attribute("queue", "emails");
//! metrics::distribution("checkout.latency", 12.5)
//!     .unit("millisecond")
//!     .attribute("region", "eu")
//!     .attribute("retried", false)
//!     .send();
//! ```
//!
//! Metrics are on by default ([`enable_metrics`](crate::ClientOptions::enable_metrics)).
//! The caller's thread records the name, value, unit, attributes, time and the trace and span
//! ids, and queues them; the worker adds the default attributes (`sentry.environment`,
//! `sentry.release`, `sentry.sdk.name`, `sentry.sdk.version`, `server.address`, and the OS
//! name and version with the contexts integration; an attribute the metric already has is
//! kept), runs [`before_send_metric`](crate::ClientOptions::before_send_metric) and batches up
//! to 100 metrics per `trace_metric` envelope (sent at 100, after 5 s, and at `flush`/`close`).
//! A metric that finds the queue full is dropped and counted (`queue_overflow`, categories
//! `trace_metric` and `trace_metric_byte`), and so is one a `trace_metric` rate limit stops.
//!
//! With no client bound, with metrics off, or from inside an SDK callback, the builder is
//! inert: no attribute value is converted, nothing is allocated, nothing is sent.
//!
//! The metric's trace is the active span's (with its span id), else the isolation scope's
//! (a request's, or the process's), so that metrics line up with the errors and logs of the
//! same trace.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use sentry_sdk_transport::{BuildItem, Outgoing};

pub use crate::protocol::{LogAttribute, Metric, MetricType};

use crate::client::Client;
use crate::payload::{metric_item, BuildContext, MetricRecord};
use crate::protocol::TraceId;
use crate::{binding, callback, performance};

/// Whether a metric recorded now would be kept: a client is bound with `enable_metrics(true)`
/// (the default), and this is not an SDK callback.
#[inline]
pub fn metrics_enabled() -> bool {
    binding::is_active()
        && !callback::is_inside()
        && binding::with_current_client(|c| c.options().settings().enable_metrics) == Some(true)
}

/// A counter: `value` occurrences of `name` (summed by Sentry).
///
/// Sent when the returned builder is dropped; see the [module docs](self).
///
/// ```
/// sentry_sdk_core::metrics::count("orders.placed", 1);
/// ```
#[inline]
pub fn count(name: impl Into<Cow<'static, str>>, value: impl MetricValue) -> MetricBuilder {
    MetricBuilder::new(MetricType::Counter, name, value)
}

/// A gauge: the value of `name` now.
///
/// Sent when the returned builder is dropped; see the [module docs](self).
///
/// ```
/// sentry_sdk_core::metrics::gauge("pool.connections", 8).unit("connection");
/// ```
#[inline]
pub fn gauge(name: impl Into<Cow<'static, str>>, value: impl MetricValue) -> MetricBuilder {
    MetricBuilder::new(MetricType::Gauge, name, value)
}

/// A distribution: one sample of `name` (Sentry computes percentiles).
///
/// Sent when the returned builder is dropped; see the [module docs](self).
///
/// ```
/// sentry_sdk_core::metrics::distribution("upload.size", 2048).unit("byte");
/// ```
#[inline]
pub fn distribution(name: impl Into<Cow<'static, str>>, value: impl MetricValue) -> MetricBuilder {
    MetricBuilder::new(MetricType::Distribution, name, value)
}

/// A number a metric can carry: every integer and float type. Integers beyond 2^53 lose
/// precision (the wire value is a double).
pub trait MetricValue: sealed::Sealed {
    /// The value as the double that goes on the wire.
    fn into_f64(self) -> f64;
}

mod sealed {
    pub trait Sealed {}
}

macro_rules! metric_value {
    ($($t:ty),*) => {
        $(
            impl sealed::Sealed for $t {}
            impl MetricValue for $t {
                #[inline]
                fn into_f64(self) -> f64 {
                    self as f64
                }
            }
        )*
    };
}

metric_value!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize, f32, f64);

/// One metric being recorded; it is sent when dropped, or by [`send`](Self::send). (So it is
/// not `#[must_use]`: `metrics::count("x", 1);` is a complete call. A builder kept in a
/// variable is sent at the end of its scope.)
///
/// Inert (holds nothing, converts nothing) when no client with metrics on is bound. Otherwise
/// it holds one allocation, the record and the build context together, which is queued as it
/// is.
pub struct MetricBuilder {
    job: Option<Box<MetricJob>>,
}

/// What is queued for one metric: built into its JSON on the worker.
struct MetricJob {
    context: Arc<BuildContext>,
    record: MetricRecord,
}

impl BuildItem for MetricJob {
    fn build(self: Box<Self>) -> Option<Vec<u8>> {
        let MetricJob { context, record } = *self;
        metric_item(&context, record)
    }
}

impl MetricBuilder {
    #[inline]
    fn new(
        metric_type: MetricType,
        name: impl Into<Cow<'static, str>>,
        value: impl MetricValue,
    ) -> Self {
        if !binding::is_active() {
            return MetricBuilder { job: None };
        }
        Self::active(metric_type, name.into(), value.into_f64())
    }

    #[inline(never)]
    fn active(metric_type: MetricType, name: Cow<'static, str>, value: f64) -> Self {
        if callback::is_inside() {
            return MetricBuilder { job: None };
        }
        let context = binding::with_current_client(|c| {
            (c.options().settings().enable_metrics && !c.is_closed())
                .then(|| c.build_context().clone())
        });
        let Some(context) = context.flatten() else {
            return MetricBuilder { job: None };
        };
        let (trace_id, span_id) = match performance::current_span().and_then(|s| s.ids()) {
            Some((trace, span)) => (trace, Some(span)),
            // Outside any span: the isolation scope's trace (its id only).
            None => (
                crate::scope::stack::isolation_trace_id().unwrap_or_else(TraceId::random),
                None,
            ),
        };
        MetricBuilder {
            job: Some(Box::new(MetricJob {
                context,
                record: MetricRecord {
                    metric_type,
                    name,
                    value,
                    unit: None,
                    attributes: Vec::new(),
                    timestamp: SystemTime::now(),
                    trace_id,
                    span_id,
                },
            })),
        }
    }

    /// The unit of the value (`millisecond`, `byte`, `percent`...). Default: none.
    #[inline]
    pub fn unit(mut self, unit: impl Into<Cow<'static, str>>) -> Self {
        if let Some(job) = &mut self.job {
            job.record.unit = Some(unit.into());
        }
        self
    }

    /// Adds a typed attribute (string, boolean, integer or double; see [`LogAttribute`]); a
    /// later attribute of the same name wins. The value is converted only if the metric will
    /// be sent.
    #[inline]
    pub fn attribute(
        mut self,
        key: impl Into<Cow<'static, str>>,
        value: impl Into<LogAttribute>,
    ) -> Self {
        if let Some(job) = &mut self.job {
            job.record.attributes.push((key.into(), value.into()));
        }
        self
    }

    /// Sends the metric now (dropping the builder does the same).
    #[inline]
    pub fn send(self) {}

    /// Whether this metric will be sent (a client with metrics on was bound when it began).
    pub fn is_enabled(&self) -> bool {
        self.job.is_some()
    }
}

impl Drop for MetricBuilder {
    #[inline]
    fn drop(&mut self) {
        if let Some(job) = self.job.take() {
            send(job);
        }
    }
}

impl fmt::Debug for MetricBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("MetricBuilder");
        if let Some(job) = &self.job {
            let r = &job.record;
            d.field("type", &r.metric_type)
                .field("name", &r.name)
                .field("value", &r.value)
                .field("unit", &r.unit)
                .field("attributes", &r.attributes.len());
        }
        d.finish()
    }
}

#[inline(never)]
fn send(job: Box<MetricJob>) {
    binding::with_current_client(|client| client.send_metric(job));
}

impl Client {
    /// Queues one recorded metric if this client has metrics on and is open.
    fn send_metric(self: &Arc<Self>, mut job: Box<MetricJob>) {
        if callback::is_inside() || !self.options().settings().enable_metrics || self.is_closed() {
            return;
        }
        // Bound again since the metric began (a re-`init`): this client's context.
        if !Arc::ptr_eq(&job.context, self.build_context()) {
            job.context = self.build_context().clone();
        }
        self.send(Outgoing::trace_metric(job.record.size_hint(), job));
    }
}

#[cfg(all(test, feature = "test"))]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::sdk::SDK_NAME;
    use crate::test::with_captured_envelopes_options;
    use crate::ClientOptions;

    #[test]
    fn metrics_carry_type_unit_attributes_and_defaults() {
        let options = ClientOptions::new().release("r@1");
        let envelopes = with_captured_envelopes_options(options, || {
            count("orders.placed", 2_u64).attribute("region", "eu");
            gauge("queue.depth", 7).unit("item");
            distribution("checkout.latency", 12.5)
                .unit("millisecond")
                .attribute("retries", 3)
                .attribute("ok", true)
                .attribute("ratio", 0.5)
                .attribute("region", "us")
                .attribute("region", "eu")
                .send();
        });
        // The test transport builds at once: one envelope per metric.
        assert_eq!(envelopes.len(), 3);
        let item = &envelopes[0].items()[0];
        assert_eq!(item.item_type(), "trace_metric");
        assert_eq!(item.headers()["item_count"], 1);
        assert_eq!(
            item.headers()["content_type"],
            "application/vnd.sentry.items.trace-metric+json"
        );
        let m = |n: usize| envelopes[n].items()[0].payload_json().unwrap()["items"][0].clone();
        let c = m(0);
        assert_eq!(c["type"], "counter");
        assert_eq!(c["name"], "orders.placed");
        assert_eq!(c["value"], 2.0);
        assert!(c.get("unit").is_none());
        assert_eq!(c["trace_id"].as_str().unwrap().len(), 32);
        assert_eq!(
            c["attributes"]["region"],
            json!({"value": "eu", "type": "string"})
        );
        assert_eq!(c["attributes"]["sentry.release"]["value"], "r@1");
        assert_eq!(c["attributes"]["sentry.sdk.name"]["value"], SDK_NAME);
        assert!(c["attributes"].get("sentry.environment").is_some());
        assert_eq!(m(1)["type"], "gauge");
        assert_eq!(m(1)["unit"], "item");
        let d = m(2);
        assert_eq!(d["type"], "distribution");
        assert_eq!(d["unit"], "millisecond");
        let a = &d["attributes"];
        assert_eq!(a["retries"], json!({"value": 3, "type": "integer"}));
        assert_eq!(a["ok"], json!({"value": true, "type": "boolean"}));
        assert_eq!(a["ratio"], json!({"value": 0.5, "type": "double"}));
        assert_eq!(a["region"]["value"], "eu", "the last one wins");
        // Outside a span: the isolation scope's trace, the same for all.
        assert_eq!(c["trace_id"], d["trace_id"]);
        assert!(d.get("span_id").is_none());
    }

    #[test]
    fn metrics_off_or_unbound_convert_nothing() {
        struct Panics;
        impl From<Panics> for LogAttribute {
            fn from(_: Panics) -> Self {
                panic!("converted although metrics are off")
            }
        }
        // No client at all.
        let builder = count("x", 1).attribute("k", Panics);
        assert!(!builder.is_enabled());
        drop(builder);
        let off =
            with_captured_envelopes_options(ClientOptions::new().enable_metrics(false), || {
                count("x", 1).attribute("k", Panics);
                assert!(!metrics_enabled());
            });
        assert!(off.is_empty());
    }

    #[test]
    fn before_send_metric_changes_and_drops() {
        let options = ClientOptions::new().before_send_metric(|mut m| {
            if m.name == "secret" {
                return None;
            }
            m.attributes.insert("seen".into(), LogAttribute::from(true));
            Some(m)
        });
        let envelopes = with_captured_envelopes_options(options, || {
            count("secret", 1);
            count("public", 1);
            gauge("bad", f64::NAN);
        });
        assert_eq!(envelopes.len(), 1);
        let m = &envelopes[0].items()[0].payload_json().unwrap()["items"][0];
        assert_eq!(m["name"], "public");
        assert_eq!(m["attributes"]["seen"]["value"], true);
    }
}
