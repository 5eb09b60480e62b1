//! Distributed tracing without a network: continuing an incoming trace (with tracing on or
//! off), the sampling precedence and its consistency through `sample_rand`, the headers of an
//! outgoing request, the DSC every envelope carries, and the transaction filters.

use std::sync::{Arc, Mutex};

use sentry_sdk_core::performance::{
    continue_trace, outgoing_headers, start_transaction, TransactionContext,
};
use sentry_sdk_core::propagation::sentry_baggage;
use sentry_sdk_core::protocol::{Level, Map, Value};
use sentry_sdk_core::test::with_captured_envelopes_options;
use sentry_sdk_core::ClientOptions;

const TRACE: &str = "771a43a4192642f0b136d5159a501700";
const SPAN: &str = "bb8f278130535c3c";

/// Continues `sentry_trace` / `baggage` in a fresh isolation scope and runs `f` there.
fn in_request<R>(sentry_trace: &str, baggage: &str, f: impl FnOnce(bool) -> R) -> R {
    sentry_sdk_core::with_isolation_scope(|| {
        let continued = continue_trace(|name| match name {
            "sentry-trace" => Some(sentry_trace),
            "baggage" => Some(baggage),
            _ => None,
        });
        f(continued)
    })
}

fn header(envelope: &sentry_sdk_core::transport::Envelope) -> Map<String> {
    envelope
        .header("trace")
        .unwrap_or_else(|| {
            panic!(
                "no trace header: {:?} {:?}",
                envelope.headers(),
                envelope.items()[0].payload_json()
            )
        })
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn an_incoming_trace_is_continued_with_tracing_off_and_its_dsc_propagated_as_received() {
    let baggage = format!(
        "sentry-trace_id={TRACE},sentry-public_key=upstream,sentry-sample_rand=0.420000,\
         sentry-release=web@2,vendor=x"
    );
    let envelopes = with_captured_envelopes_options(ClientOptions::new(), || {
        in_request(&format!("{TRACE}-{SPAN}-1"), &baggage, |continued| {
            assert!(continued);
            sentry_sdk_core::capture_message("in the request", Level::Error);
            let out = outgoing_headers("http://127.0.0.1/next", Some("other=1")).unwrap();
            assert!(out.sentry_trace.starts_with(TRACE), "{out:?}");
            assert!(
                out.sentry_trace.ends_with("-1"),
                "the caller's decision: {out:?}"
            );
            assert_eq!(
                out.baggage,
                format!(
                    "other=1,sentry-trace_id={TRACE},sentry-public_key=upstream,\
                     sentry-sample_rand=0.420000,sentry-release=web@2"
                ),
                "the incoming DSC, not ours; the foreign entry of the request kept, the \
                 caller's foreign entry not forwarded"
            );
        });
    });
    assert_eq!(envelopes.len(), 1);
    let event = envelopes[0].items()[0].payload_json().unwrap();
    assert_eq!(event["contexts"]["trace"]["trace_id"], TRACE);
    assert_eq!(event["contexts"]["trace"]["parent_span_id"], SPAN);
    let dsc = header(&envelopes[0]);
    assert_eq!(dsc["public_key"], "upstream");
    assert_eq!(dsc["sample_rand"], "0.420000");
    assert!(!dsc.contains_key("vendor"));
}

#[test]
fn every_isolation_scope_has_a_trace_of_its_own() {
    let envelopes = with_captured_envelopes_options(ClientOptions::new(), || {
        sentry_sdk_core::capture_message("a", Level::Error);
        sentry_sdk_core::capture_message("b", Level::Error);
        sentry_sdk_core::with_isolation_scope(|| {
            sentry_sdk_core::capture_message("forked", Level::Error);
        });
    });
    let ids: Vec<String> = envelopes
        .iter()
        .map(|e| e.items()[0].payload_json().unwrap()["contexts"]["trace"]["trace_id"].to_string())
        .collect();
    assert_eq!(ids.len(), 3);
    assert_eq!(ids[0], ids[1], "one scope, one trace");
    assert_ne!(ids[0], ids[2], "a fork has its own");
    for e in &envelopes {
        let dsc = header(e);
        assert_eq!(
            dsc["public_key"], "public",
            "our own DSC for our own traces"
        );
        assert_eq!(dsc["sample_rand"].len(), 8);
        let event = e.items()[0].payload_json().unwrap();
        assert_eq!(dsc["trace_id"], event["contexts"]["trace"]["trace_id"]);
    }
}

#[test]
fn sampling_precedence_explicit_then_sampler_then_parent_then_rate() {
    /// What the sampler was shown: name, parent decision and rate, custom `tenant`.
    type Seen = (String, Option<bool>, Option<f64>, Value);
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let record = seen.clone();
    let with_sampler = ClientOptions::new()
        .traces_sample_rate(1.0)
        .traces_sampler(move |ctx| {
            record.lock().unwrap().push((
                ctx.name.to_owned(),
                ctx.parent_sampled,
                ctx.parent_sample_rate,
                ctx.custom.get("tenant").cloned().unwrap_or(Value::Null),
            ));
            if ctx.name == "sampler says no" {
                0.0
            } else {
                1.0
            }
        });
    let baggage = format!("sentry-trace_id={TRACE},sentry-sample_rate=0.25,sentry-sample_rand=0.1");
    with_captured_envelopes_options(with_sampler, || {
        let explicit =
            start_transaction(TransactionContext::new("explicit", "task").sampled(false));
        assert!(
            !explicit.is_sampled(),
            "an explicit decision wins over the sampler"
        );
        in_request(&format!("{TRACE}-{SPAN}-1"), &baggage, |_| {
            let mut custom = Map::new();
            custom.insert("tenant".to_owned(), Value::from("acme"));
            let t = start_transaction(
                TransactionContext::new("sampler says no", "http.server")
                    .custom_sampling_context(custom),
            );
            assert!(
                !t.is_sampled(),
                "the sampler wins over the parent's decision"
            );
        });
    });
    assert_eq!(
        *seen.lock().unwrap(),
        [(
            "sampler says no".to_owned(),
            Some(true),
            Some(0.25),
            Value::from("acme")
        )],
        "not asked for the explicit one; saw the parent's decision, rate and custom data"
    );

    // Without a sampler: the parent's decision wins over the rate.
    with_captured_envelopes_options(ClientOptions::new().traces_sample_rate(1.0), || {
        in_request(&format!("{TRACE}-{SPAN}-0"), "", |_| {
            assert!(!start_transaction(TransactionContext::new("t", "op")).is_sampled());
        });
    });
    with_captured_envelopes_options(ClientOptions::new().traces_sample_rate(0.0), || {
        in_request(&format!("{TRACE}-{SPAN}-1"), "", |_| {
            assert!(start_transaction(TransactionContext::new("t", "op")).is_sampled());
        });
    });
}

#[test]
fn decisions_follow_the_inherited_sample_rand() {
    for _ in 0..50 {
        with_captured_envelopes_options(ClientOptions::new().traces_sample_rate(0.5), || {
            for (rand, expected) in [("0.300000", true), ("0.700000", false)] {
                let baggage = format!("sentry-trace_id={TRACE},sentry-sample_rand={rand}");
                // No decision from the caller: ours, from its sample_rand.
                in_request(&format!("{TRACE}-{SPAN}"), &baggage, |_| {
                    let t = start_transaction(TransactionContext::new("t", "op"));
                    assert_eq!(t.is_sampled(), expected, "sample_rand {rand} at rate 0.5");
                });
            }
        });
    }
}

#[test]
fn a_transaction_freezes_its_dsc_when_it_first_leaves_and_envelopes_carry_it() {
    let options = ClientOptions::new()
        .traces_sample_rate(1.0)
        .release("api@1")
        .trace_propagation_targets(["127.0.0.1"]);
    let envelopes = with_captured_envelopes_options(options, || {
        let t = start_transaction(TransactionContext::new("GET /orders", "http.server"));
        let _entered = t.enter();
        assert!(outgoing_headers("https://elsewhere.example/", None).is_none());
        let out = outgoing_headers("http://127.0.0.1:9000/stock", None).unwrap();
        let (trace_id, span_id) = t.as_span().ids().unwrap();
        assert_eq!(out.sentry_trace, format!("{trace_id}-{span_id}-1"));
        t.set_name("renamed after the DSC left");
        sentry_sdk_core::capture_message("inside", Level::Warning);
        drop(_entered);
        t.finish();
        let dsc: Map<String> = sentry_baggage(&out.baggage).into_iter().collect();
        assert_eq!(dsc["transaction"], "GET /orders");
        assert_eq!(dsc["sampled"], "true");
        assert_eq!(dsc["sample_rate"], "1");
        assert_eq!(dsc["release"], "api@1");
        assert_eq!(dsc["trace_id"], trace_id.to_string());
    });
    assert_eq!(envelopes.len(), 2);
    for e in &envelopes {
        let dsc = header(e);
        assert_eq!(
            dsc["transaction"], "GET /orders",
            "frozen: the same DSC everywhere"
        );
    }
}

#[test]
fn transactions_skip_before_send_and_have_their_own_filters() {
    let options = ClientOptions::new()
        .traces_sample_rate(1.0)
        .before_send(|_| None)
        .ignore_transactions("healthz")
        .before_send_transaction(|mut t| {
            if t.transaction.as_deref() == Some("drop me") {
                return None;
            }
            t.tags.insert("seen".into(), "yes".into());
            Some(t)
        });
    let mut reports = Vec::new();
    let envelopes = with_captured_envelopes_options(options, || {
        for name in ["GET /healthz", "drop me", "kept"] {
            start_transaction(TransactionContext::new(name, "http.server")).finish();
        }
        // Built on the worker: give it the time to count.
        let client = sentry_sdk_core::current_client().unwrap();
        client.flush(std::time::Duration::from_secs(1));
        reports = client.client_reports().take();
    });
    assert_eq!(envelopes.len(), 1);
    let t = envelopes[0].items()[0].payload_json().unwrap();
    assert_eq!(t["transaction"], "kept");
    assert_eq!(
        t["tags"]["seen"], "yes",
        "before_send (dropping all) was not run"
    );
    let count = |reason: &str| {
        reports
            .iter()
            .filter(|(r, c, _)| r.as_str() == reason && c.as_str() == "transaction")
            .map(|(_, _, n)| n)
            .sum::<u64>()
    };
    assert_eq!(count("event_processor"), 1, "{reports:?}");
    assert_eq!(count("before_send"), 1, "{reports:?}");
}

#[test]
fn org_ids_decide_whether_a_trace_is_continued() {
    let sentry_trace = format!("{TRACE}-{SPAN}-1");
    let with_org = |org: &str| format!("sentry-trace_id={TRACE},sentry-org_id={org}");
    with_captured_envelopes_options(ClientOptions::new().org_id(1), || {
        assert!(in_request(&sentry_trace, &with_org("1"), |c| c));
        assert!(
            !in_request(&sentry_trace, &with_org("2"), |c| c),
            "another org"
        );
        assert!(
            in_request(&sentry_trace, "", |c| c),
            "lenient: theirs missing"
        );
    });
    let strict = ClientOptions::new()
        .org_id(1)
        .strict_trace_continuation(true);
    with_captured_envelopes_options(strict, || {
        assert!(in_request(&sentry_trace, &with_org("1"), |c| c));
        assert!(
            !in_request(&sentry_trace, "", |c| c),
            "strict: theirs missing"
        );
        // A trace not continued is a new one: errors there carry their own trace id.
        in_request(&sentry_trace, "", |_| {
            let out = outgoing_headers("http://127.0.0.1/", None).unwrap();
            assert!(!out.sentry_trace.starts_with(TRACE));
        });
    });
}

/// A future made `.isolated()` inside a span keeps that span and its own isolation scope when
/// it is polled on another thread (as `tokio::spawn` moves tasks between workers).
#[test]
fn an_isolated_future_keeps_its_scope_and_span_on_another_thread() {
    use sentry_sdk_core::IsolationExt;
    use std::future::Future;
    use std::task::{Context, Poll, Wake, Waker};

    struct Noop;
    impl Wake for Noop {
        fn wake(self: Arc<Self>) {}
    }
    let envelopes =
        with_captured_envelopes_options(ClientOptions::new().traces_sample_rate(1.0), || {
            let client = sentry_sdk_core::current_client().unwrap();
            let t = start_transaction(TransactionContext::new("job", "task"));
            let task = {
                let _entered = t.enter();
                async {
                    sentry_sdk_core::set_tag("task", "moved");
                    sentry_sdk_core::capture_message("from the task", Level::Error);
                }
                .isolated()
            };
            // Polled on another thread, with the client bound there as a runtime's would be.
            std::thread::spawn(move || {
                sentry_sdk_core::with_thread_client(client, || {
                    let waker = Waker::from(Arc::new(Noop));
                    let mut task = Box::pin(task);
                    assert!(matches!(
                        task.as_mut().poll(&mut Context::from_waker(&waker)),
                        Poll::Ready(())
                    ));
                })
            })
            .join()
            .unwrap();
            sentry_sdk_core::capture_message("after, outside the task", Level::Error);
            t.finish();
        });
    let events: Vec<Value> = envelopes
        .iter()
        .flat_map(|e| e.items().to_vec())
        .filter(|i| i.item_type() == "event")
        .filter_map(|i| i.payload_json())
        .collect();
    let tx = envelopes
        .iter()
        .flat_map(|e| e.items().to_vec())
        .find(|i| i.item_type() == "transaction")
        .and_then(|i| i.payload_json())
        .expect("the transaction");
    let task_event = events
        .iter()
        .find(|e| e["logentry"]["formatted"] == "from the task")
        .expect("the task's event");
    assert_eq!(task_event["tags"]["task"], "moved");
    assert_eq!(
        task_event["contexts"]["trace"]["span_id"], tx["contexts"]["trace"]["span_id"],
        "the span in force where the task was made"
    );
    let outside = events
        .iter()
        .find(|e| e["logentry"]["formatted"] == "after, outside the task")
        .unwrap();
    assert!(
        outside["tags"].get("task").is_none(),
        "the task's scope stayed in the task"
    );
}

/// A negative decision in a request's (forked) scope travels with the requests it makes, so
/// that the services it calls do not sample the trace anew; in the process-wide scope nothing
/// is kept after the transaction.
#[test]
fn an_unsampled_request_hands_its_decision_downstream() {
    with_captured_envelopes_options(ClientOptions::new().traces_sample_rate(0.0), || {
        sentry_sdk_core::with_isolation_scope(|| {
            let t = start_transaction(TransactionContext::new("GET /", "http.server"));
            assert!(!t.is_sampled());
            let out = outgoing_headers("http://127.0.0.1/next", None).unwrap();
            assert!(out.sentry_trace.ends_with("-0"), "{out:?}");
            let dsc: Map<String> = sentry_baggage(&out.baggage).into_iter().collect();
            assert_eq!(dsc["sampled"], "false");
            assert_eq!(dsc["sample_rate"], "0");
            assert!(out.sentry_trace.starts_with(&dsc["trace_id"]));
        });
        // A deferred incoming decision, decided here, is handed on too.
        in_request(&format!("{TRACE}-{SPAN}"), "", |_| {
            assert!(!start_transaction(TransactionContext::new("t", "op")).is_sampled());
            let out = outgoing_headers("http://127.0.0.1/next", None).unwrap();
            assert!(out.sentry_trace.starts_with(TRACE) && out.sentry_trace.ends_with("-0"));
        });
    });
}
