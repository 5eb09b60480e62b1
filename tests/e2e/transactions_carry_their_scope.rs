//! A transaction carries the scope of the task it ran in, and errors captured inside it name it:
//! a `tracing` span around an isolated request future finishes after the future returned (when
//! the instrumented future is dropped), outside the request's isolation scope.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use serde_json::Value;
use tracing::Instrument;
use tracing_subscriber::layer::SubscriberExt;

use crate::support::*;
use sentry_sdk::integrations::tracing::SentryLayer;
use sentry_sdk::protocol::User;
use sentry_sdk::IsolationExt;

/// Polls `future` to completion on this thread, then drops it (closing the spans it holds).
fn block_on<F: Future>(future: F) -> F::Output {
    struct Noop;
    impl Wake for Noop {
        fn wake(self: Arc<Self>) {}
    }
    let waker = Waker::from(Arc::new(Noop));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

/// Yields once, so that the request is polled (entered and left) twice.
async fn yield_once() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await
}

async fn handle(n: usize) {
    sentry_sdk::set_user(Some(User {
        id: Some(format!("user-{n}")),
        ..Default::default()
    }));
    yield_once().await;
    sentry_sdk::set_tag("request", n);
    let query = tracing::info_span!("SELECT 1", sentry.op = "db.query");
    async {
        let err = std::io::Error::other(format!("request {n} failed"));
        tracing::error!(error = &err as &dyn std::error::Error, "query failed");
    }
    .instrument(query)
    .await;
}

#[test]
fn a_request_transaction_finished_after_its_isolated_future_keeps_its_scope() {
    let _serial = serial();
    let receiver = Receiver::start();
    let guard = sentry_sdk::init(options(&receiver).traces_sample_rate(1.0));
    sentry_sdk::set_tag("request", "none"); // what is current when the spans close
    let subscriber = tracing_subscriber::registry().with(SentryLayer::new());
    tracing::subscriber::with_default(subscriber, || {
        for n in 0..6 {
            let span = tracing::info_span!("request", sentry.op = "http.server");
            // Both orders: the span inside the isolated future, and around it.
            if n % 2 == 0 {
                block_on(handle(n).instrument(span).isolated());
            } else {
                block_on(handle(n).isolated().instrument(span));
            }
        }
    });
    drop(guard);
    let items = |ty: &str| -> Vec<Value> {
        receiver
            .requests()
            .iter()
            .flat_map(|r| r.envelope().items().to_vec())
            .filter(|i| i.item_type() == ty)
            .filter_map(|i| i.payload_json())
            .collect()
    };
    let transactions = items("transaction");
    assert_eq!(transactions.len(), 6);
    for t in &transactions {
        let user = t["user"]["id"].as_str().expect("the request's user");
        let n = user.trim_start_matches("user-");
        assert_eq!(t["tags"]["request"], n, "the request's tags: {t}");
    }
    let events = items("event");
    assert_eq!(events.len(), 6);
    for e in &events {
        let value = e["exception"]["values"][0]["value"].as_str().unwrap();
        let n = value.split(' ').nth(1).unwrap();
        assert_eq!(e["user"]["id"], format!("user-{n}"));
        // Errors name the transaction they happened in, and their span.
        assert_eq!(e["transaction"], "request");
        let trace = &e["contexts"]["trace"];
        assert_eq!(trace["op"], "db.query");
        assert_eq!(trace["description"], "SELECT 1");
        let transaction = transactions
            .iter()
            .find(|t| t["user"]["id"] == e["user"]["id"])
            .unwrap();
        assert_eq!(
            trace["parent_span_id"],
            transaction["contexts"]["trace"]["span_id"]
        );
        assert_eq!(
            trace["trace_id"],
            transaction["contexts"]["trace"]["trace_id"]
        );
    }
}
