//! The propagation context every isolation scope carries (tracing without performance): the
//! trace that errors, logs and outgoing requests outside any span belong to, continued from
//! incoming headers or started fresh when the scope is forked.

use std::sync::Arc;

use once_cell::sync::OnceCell;

use crate::protocol::{SpanId, TraceId};

use super::headers::{sentry_baggage, SentryTrace, TraceParent};

/// One trace as an isolation scope knows it.
#[derive(Debug, Clone)]
pub struct PropagationContext {
    /// The trace.
    pub trace_id: TraceId,
    /// The span id that outgoing headers and events outside any span name.
    pub span_id: SpanId,
    /// The caller's span, when the trace was continued from incoming headers.
    pub parent_span_id: Option<SpanId>,
    /// The caller's sampling decision, if it took one.
    pub sampled: Option<bool>,
    /// The caller's sample rate (from its baggage), if it said.
    pub sample_rate: Option<f64>,
    /// The trace's random number for every sampling decision, in `[0, 1)`: from the incoming
    /// baggage, or drawn when the trace starts.
    pub sample_rand: f64,
    /// The dynamic sampling context: received with the trace (propagated as received), or
    /// made from this process's options the first time it leaves the process, then frozen.
    pub(crate) dsc: Arc<OnceCell<Dsc>>,
    /// `contexts.trace` of events outside any span, serialised once.
    pub(crate) context_json: Arc<OnceCell<Box<[u8]>>>,
}

/// A dynamic sampling context: the `sentry-` baggage entries of a trace (keys without the
/// prefix), also sent as every envelope's `trace` header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dsc {
    /// The entries, in order.
    pub entries: Vec<(String, String)>,
    /// The envelope header, serialised once for every envelope of the trace.
    json: OnceCell<Arc<str>>,
}

impl Dsc {
    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A DSC of these entries.
    pub fn new(entries: Vec<(String, String)>) -> Self {
        Dsc {
            entries,
            json: OnceCell::new(),
        }
    }

    /// The envelope's `trace` header, serialised (once).
    pub fn header_json(&self) -> Arc<str> {
        self.json
            .get_or_init(|| Arc::from(self.to_json().to_string()))
            .clone()
    }

    /// As the envelope's `trace` header: a JSON object of the entries.
    pub fn to_json(&self) -> serde_json::Value {
        let map: serde_json::Map<String, serde_json::Value> = self
            .entries
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect();
        serde_json::Value::Object(map)
    }
}

/// The DSC this process makes for a trace it started (or continued without one): what the
/// first envelope or outgoing request of the trace carries, frozen from then on.
/// `decision` is the sampling decision and the rate it used, if one was taken; `transaction`
/// the name of the transaction that started the trace here, if any.
pub(crate) fn make_dsc(
    options: &crate::ClientOptions,
    trace_id: TraceId,
    sample_rand: f64,
    decision: Option<(bool, f64)>,
    transaction: Option<&str>,
) -> Dsc {
    let s = options.settings();
    let mut entries = vec![("trace_id".to_owned(), trace_id.to_string())];
    entries.push(("environment".to_owned(), s.environment.to_string()));
    if let Some(release) = &s.release {
        entries.push(("release".to_owned(), release.to_string()));
    }
    if let Some(dsn) = &s.dsn {
        entries.push(("public_key".to_owned(), dsn.public_key().to_owned()));
    }
    if let Some(name) = transaction {
        entries.push(("transaction".to_owned(), name.to_owned()));
    }
    if let Some((_, rate)) = decision {
        entries.push(("sample_rate".to_owned(), format_rate(rate)));
    }
    entries.push(("sample_rand".to_owned(), format_sample_rand(sample_rand)));
    if let Some((sampled, _)) = decision {
        entries.push(("sampled".to_owned(), sampled.to_string()));
    }
    if let Some(org) = s.org_id.or_else(|| s.dsn.as_ref().and_then(|d| d.org_id())) {
        entries.push(("org_id".to_owned(), org.to_string()));
    }
    Dsc::new(entries)
}

/// A rate as the DSC writes it: the shortest form that reads back the same (`1`, `0.25`).
fn format_rate(rate: f64) -> String {
    rate.to_string()
}

/// `sample_rand` as it is written: six decimals, never rounded up to 1.
pub fn format_sample_rand(value: f64) -> String {
    let truncated = (value.clamp(0.0, 0.999_999) * 1_000_000.0).floor() / 1_000_000.0;
    format!("{truncated:.6}")
}

impl PropagationContext {
    /// A new trace, with nothing decided yet.
    pub fn new() -> Self {
        PropagationContext {
            trace_id: TraceId::random(),
            span_id: SpanId::random(),
            parent_span_id: None,
            sampled: None,
            sample_rate: None,
            sample_rand: crate::random::next_f64(),
            dsc: Arc::default(),
            context_json: Arc::default(),
        }
    }

    /// The trace that incoming `sentry-trace` (else W3C `traceparent`, if `traceparent` is
    /// read) and `baggage` headers describe; `None` when there is no valid trace header.
    ///
    /// The incoming `sentry-` baggage is kept as the trace's DSC (when it names the same
    /// trace). `sample_rand` comes from it; a caller that sent a decision and a rate but no
    /// `sample_rand` gets one drawn on the side of its decision (below the rate if sampled,
    /// above it if not), so that this process decides as it did.
    pub fn from_headers(
        sentry_trace: Option<&str>,
        traceparent: Option<&str>,
        baggage: Option<&str>,
    ) -> Option<Self> {
        let (trace_id, parent, sampled) = match sentry_trace.and_then(SentryTrace::parse) {
            Some(h) => (h.trace_id, h.span_id, h.sampled),
            None => {
                let h = traceparent.and_then(TraceParent::parse)?;
                (h.trace_id, h.span_id, Some(h.sampled))
            }
        };
        let mut entries = baggage.map(sentry_baggage).unwrap_or_default();
        // Baggage of another trace is not ours to propagate.
        let same_trace = entries
            .iter()
            .find(|(k, _)| k == "trace_id")
            .is_some_and(|(_, v)| v.eq_ignore_ascii_case(&trace_id.to_string()));
        if !same_trace {
            entries.clear();
        }
        let get = |key: &str| entries.iter().find(|(k, _)| k == key).map(|(_, v)| v);
        let sample_rate = get("sample_rate")
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|r| (0.0..=1.0).contains(r));
        let incoming_rand = get("sample_rand")
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|r| (0.0..1.0).contains(r));
        let sample_rand = match (incoming_rand, sample_rate, sampled) {
            (Some(rand), _, _) => rand,
            (None, Some(rate), Some(true)) => crate::random::next_f64() * rate,
            (None, Some(rate), Some(false)) => rate + crate::random::next_f64() * (1.0 - rate),
            _ => crate::random::next_f64(),
        };
        let dsc = OnceCell::new();
        if !entries.is_empty() {
            let _ = dsc.set(Dsc::new(entries));
        }
        Some(PropagationContext {
            trace_id,
            span_id: SpanId::random(),
            parent_span_id: Some(parent),
            sampled,
            sample_rate,
            sample_rand,
            dsc: Arc::new(dsc),
            context_json: Arc::default(),
        })
    }

    /// `contexts.trace` for an event captured outside any span: this trace's ids (and the
    /// caller's span as parent), serialised once.
    pub(crate) fn context_json(&self) -> &[u8] {
        self.context_json.get_or_init(|| {
            let mut trace = serde_json::json!({
                "type": "trace",
                "trace_id": self.trace_id,
                "span_id": self.span_id,
            });
            if let Some(parent) = self.parent_span_id {
                trace["parent_span_id"] = serde_json::json!(parent);
            }
            serde_json::to_vec(&trace)
                .unwrap_or_default()
                .into_boxed_slice()
        })
    }

    /// The trace's DSC, if it has one yet: received with the trace (propagated as received),
    /// or frozen when the trace first left this process.
    pub fn dsc(&self) -> Option<&Dsc> {
        self.dsc.get()
    }

    /// The org id in the incoming DSC, if any.
    pub(crate) fn incoming_org_id(&self) -> Option<&str> {
        self.dsc.get().and_then(|d| d.get("org_id"))
    }

    /// The DSC, frozen now if it was not yet: `make` builds it from this process's options.
    pub(crate) fn frozen_dsc(&self, make: impl FnOnce(&Self) -> Dsc) -> &Dsc {
        self.dsc.get_or_init(|| make(self))
    }
}

impl Default for PropagationContext {
    fn default() -> Self {
        PropagationContext::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRACE: &str = "771a43a4192642f0b136d5159a501700";

    #[test]
    fn continued_traces_keep_the_callers_dsc_and_sample_rand() {
        let baggage = format!(
            "sentry-trace_id={TRACE},sentry-sample_rand=0.250000,sentry-sample_rate=0.5,\
             sentry-public_key=upstream,vendor=x"
        );
        let pc = PropagationContext::from_headers(
            Some(&format!("{TRACE}-bb8f278130535c3c-1")),
            None,
            Some(&baggage),
        )
        .unwrap();
        assert_eq!(pc.trace_id.to_string(), TRACE);
        assert_eq!(pc.parent_span_id.unwrap().to_string(), "bb8f278130535c3c");
        assert_eq!(pc.sampled, Some(true));
        assert_eq!(pc.sample_rand, 0.25);
        assert_eq!(pc.sample_rate, Some(0.5));
        let dsc = pc.frozen_dsc(|_| unreachable!("the incoming DSC is kept"));
        assert_eq!(dsc.get("public_key"), Some("upstream"));
        assert_eq!(dsc.get("vendor"), None);
    }

    #[test]
    fn a_decision_without_sample_rand_stays_consistent() {
        for _ in 0..200 {
            let with = |sampled: &str| {
                PropagationContext::from_headers(
                    Some(&format!("{TRACE}-bb8f278130535c3c-{sampled}")),
                    None,
                    Some(&format!("sentry-trace_id={TRACE},sentry-sample_rate=0.3")),
                )
                .unwrap()
                .sample_rand
            };
            assert!(with("1") < 0.3);
            assert!(with("0") >= 0.3);
        }
    }

    #[test]
    fn baggage_of_another_trace_and_bad_headers_are_ignored() {
        let pc = PropagationContext::from_headers(
            Some(&format!("{TRACE}-bb8f278130535c3c")),
            None,
            Some("sentry-trace_id=0123,sentry-sample_rand=0.5"),
        )
        .unwrap();
        assert!(pc.dsc.get().is_none());
        assert_eq!(pc.sampled, None);
        assert!(PropagationContext::from_headers(Some("garbage"), None, None).is_none());
        let w3c = PropagationContext::from_headers(
            Some("garbage"),
            Some(&format!("00-{TRACE}-bb8f278130535c3c-01")),
            None,
        )
        .unwrap();
        assert_eq!(w3c.sampled, Some(true));
    }

    #[test]
    fn sample_rand_has_six_decimals_and_never_reaches_one() {
        assert_eq!(format_sample_rand(0.25), "0.250000");
        assert_eq!(format_sample_rand(0.999_999_9), "0.999999");
        assert_eq!(format_sample_rand(0.123_456_789), "0.123456");
    }
}
