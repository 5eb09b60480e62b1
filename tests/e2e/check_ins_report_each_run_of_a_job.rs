//! Cron check-ins: `monitor::run` / `run_async` report a job as `in_progress`, then `ok` or
//! `error` with one id, the duration, the monitor config, release, environment and the
//! scope's trace; `before_send_check_in` edits and drops; a `monitor` rate limit stops
//! check-ins only.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use crate::receiver::Request;
use crate::support::*;
use sentry_sdk::protocol::Level;
use sentry_sdk::{monitor, CheckIn, CheckInStatus, MonitorConfig, MonitorIntervalUnit};

const TRACE_ID: &str = "771a43a4192642f0b136d5159a501700";

/// The check-in payloads received, in arrival order.
fn check_ins(receiver: &Receiver) -> Vec<Value> {
    check_ins_in(&receiver.requests())
}

/// The check-in payloads in `requests`.
fn check_ins_in(requests: &[Request]) -> Vec<Value> {
    requests
        .iter()
        .flat_map(|r| r.envelope().items().to_vec())
        .filter(|i| i.item_type() == "check_in")
        .map(|i| i.payload_json().expect("a JSON check-in"))
        .collect()
}

/// The one check-in of `status` among `all`.
fn with_status<'a>(all: &'a [Value], status: &str) -> &'a Value {
    let found: Vec<&Value> = all.iter().filter(|c| c["status"] == status).collect();
    assert_eq!(found.len(), 1, "one {status} check-in in {all:?}");
    found[0]
}

/// Continues the trace `TRACE_ID` in the isolation scope, as a request handler would.
fn continue_known_trace() {
    let header = format!("{TRACE_ID}-bb8f278130535c3c-1");
    assert!(sentry_sdk::continue_trace(|name| {
        (name == "sentry-trace").then_some(header.as_str())
    }));
}

fn crontab_config() -> MonitorConfig {
    MonitorConfig::crontab("0 3 * * *")
        .checkin_margin(5)
        .max_runtime(30)
        .failure_issue_threshold(2)
        .recovery_threshold(3)
        .timezone("Europe/Vienna")
        .owner("team:ops")
}

#[test]
fn a_good_run_reports_in_progress_then_ok_with_one_id_duration_config_and_trace() {
    let _serial = serial();
    let receiver = Receiver::start();
    let guard = sentry_sdk::init(options(&receiver));
    let (value, event_id) = sentry_sdk::with_isolation_scope(|| {
        continue_known_trace();
        let value = monitor::run("nightly-backup", crontab_config(), || {
            // The in_progress check-in has left before the job ends.
            let arrived = check_ins_in(&receiver.wait_for(1, WAIT));
            assert_eq!(arrived.len(), 1);
            assert_eq!(arrived[0]["status"], "in_progress");
            std::thread::sleep(Duration::from_millis(100));
            Ok::<_, std::io::Error>(7)
        });
        let event_id = sentry_sdk::capture_message("in the same scope", Level::Info);
        (value, event_id)
    });
    assert_eq!(value.unwrap(), 7, "the job's value is returned");
    assert!(sentry_sdk::flush(WAIT));
    drop(guard);
    assert!(!event_id.is_nil());

    let all = check_ins(&receiver);
    assert_eq!(all.len(), 2, "{all:?}");
    let (started, finished) = (&all[0], &all[1]);
    assert_eq!(started["status"], "in_progress");
    assert_eq!(finished["status"], "ok");
    let id = started["check_in_id"].as_str().unwrap();
    assert_eq!(id.len(), 32);
    assert!(id
        .bytes()
        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    assert_ne!(id, "00000000000000000000000000000000");
    assert_eq!(finished["check_in_id"], id, "one id for the run");
    assert!(started.get("duration").is_none(), "no duration in progress");
    let duration = finished["duration"]
        .as_f64()
        .expect("a duration in seconds");
    assert!((0.1..5.0).contains(&duration), "duration {duration}");
    let config = json!({
        "schedule": {"type": "crontab", "value": "0 3 * * *"},
        "checkin_margin": 5,
        "max_runtime": 30,
        "failure_issue_threshold": 2,
        "recovery_threshold": 3,
        "timezone": "Europe/Vienna",
        "owner": "team:ops"
    });
    let event = receiver.events().pop().expect("the message event");
    for check_in in [started, finished] {
        assert_eq!(check_in["monitor_slug"], "nightly-backup");
        assert_eq!(check_in["monitor_config"], config);
        assert_eq!(check_in["release"], "e2e@1.0.0");
        assert_eq!(check_in["environment"], "test");
        assert_eq!(check_in["contexts"]["trace"]["trace_id"], TRACE_ID);
        assert_eq!(
            check_in["contexts"]["trace"]["trace_id"], event["contexts"]["trace"]["trace_id"],
            "the scope's trace, as on its events"
        );
    }
    // Check-ins travel alone, without an event id in the envelope header.
    for request in receiver.requests() {
        let envelope = request.envelope();
        if envelope.items().iter().any(|i| i.item_type() == "check_in") {
            assert_eq!(envelope.items().len(), 1);
            assert!(envelope.header("event_id").is_none());
        }
    }
}

#[test]
fn an_err_and_a_panic_report_error_and_the_panic_goes_on() {
    let _serial = serial();
    let receiver = Receiver::start();
    let guard = sentry_sdk::init(options(&receiver));
    let failed = monitor::run("failing", None, || Err::<(), _>("no rows"));
    assert_eq!(failed, Err("no rows"));
    fn explode() {
        panic!("job blew up");
    }
    let panicked = std::panic::catch_unwind(|| monitor::run("panicking", None, explode));
    let message = panicked.expect_err("the panic is resumed");
    assert_eq!(message.downcast_ref::<&str>(), Some(&"job blew up"));
    assert!(sentry_sdk::flush(WAIT));
    drop(guard);

    let all = check_ins(&receiver);
    assert_eq!(all.len(), 4, "{all:?}");
    for slug in ["failing", "panicking"] {
        let run: Vec<Value> = all
            .iter()
            .filter(|c| c["monitor_slug"] == slug)
            .cloned()
            .collect();
        let started = with_status(&run, "in_progress");
        let finished = with_status(&run, "error");
        assert_eq!(started["check_in_id"], finished["check_in_id"]);
        assert!(finished["duration"].as_f64().unwrap() >= 0.0);
        assert!(started.get("monitor_config").is_none());
    }
}

#[test]
fn an_async_job_is_reported_when_it_completes_or_panics() {
    let _serial = serial();
    let receiver = Receiver::start();
    let guard = sentry_sdk::init(options(&receiver));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let config = MonitorConfig::interval(10, MonitorIntervalUnit::Minute);
    let value = runtime.block_on(monitor::run_async("sync", config.clone(), async {
        std::thread::sleep(Duration::from_millis(50));
        Ok::<_, String>("synced")
    }));
    assert_eq!(value.unwrap(), "synced");
    let failed = runtime.block_on(monitor::run_async("sync-failing", None, async {
        Err::<(), _>("down")
    }));
    assert!(failed.is_err());
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        runtime.block_on(monitor::run_async("sync-panicking", None, async {
            let blow_up = true;
            if blow_up {
                panic!("async job blew up");
            }
        }))
    }));
    assert!(panicked.is_err(), "the panic is resumed");
    assert!(sentry_sdk::flush(WAIT));
    drop(guard);

    let all = check_ins(&receiver);
    assert_eq!(all.len(), 6, "{all:?}");
    let of = |slug: &str| -> Vec<Value> {
        all.iter()
            .filter(|c| c["monitor_slug"] == slug)
            .cloned()
            .collect()
    };
    let sync = of("sync");
    let finished = with_status(&sync, "ok");
    assert_eq!(
        finished["check_in_id"],
        with_status(&sync, "in_progress")["check_in_id"]
    );
    assert!(finished["duration"].as_f64().unwrap() >= 0.05);
    assert_eq!(
        finished["monitor_config"],
        json!({"schedule": {"type": "interval", "value": 10, "unit": "minute"}})
    );
    with_status(&of("sync-failing"), "error");
    with_status(&of("sync-panicking"), "error");
}

#[test]
fn capture_check_in_by_hand_reuses_the_id_it_returned() {
    let _serial = serial();
    let receiver = Receiver::start();
    let guard = sentry_sdk::init(options(&receiver));
    let id = sentry_sdk::capture_check_in(CheckIn::new("by-hand", CheckInStatus::InProgress));
    assert!(!id.is_nil());
    let same = sentry_sdk::capture_check_in(
        CheckIn::new("by-hand", CheckInStatus::Ok)
            .id(id)
            .duration(Duration::from_millis(2500))
            .environment("staging"),
    );
    assert_eq!(same, id);
    assert!(sentry_sdk::flush(WAIT));
    drop(guard);
    let all = check_ins(&receiver);
    let finished = with_status(&all, "ok");
    assert_eq!(finished["check_in_id"], id.to_string());
    assert_eq!(
        with_status(&all, "in_progress")["check_in_id"],
        id.to_string()
    );
    assert_eq!(finished["duration"], 2.5);
    assert_eq!(
        finished["environment"], "staging",
        "its own environment wins"
    );
    // With no client bound: a nil id, and the job simply runs.
    assert!(sentry_sdk::capture_check_in(|| -> CheckIn { unreachable!() }).is_nil());
    assert_eq!(monitor::run("unbound", None, || Ok::<_, ()>(1)), Ok(1));
}

#[test]
fn before_send_check_in_edits_and_drops_and_drops_are_reported() {
    let _serial = serial();
    let receiver = Receiver::start();
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    let guard = sentry_sdk::init(
        options(&receiver)
            // Check-ins skip these two.
            .before_send(|_| None)
            .sample_rate(0.0)
            .before_send_check_in(move |mut check_in| {
                counter.fetch_add(1, Ordering::Relaxed);
                if check_in.monitor_slug == "secret-job" {
                    return None;
                }
                check_in.monitor_slug = format!("{}-edited", check_in.monitor_slug);
                Some(check_in)
            }),
    );
    monitor::run("kept-job", None, || ());
    monitor::run("secret-job", None, || ());
    assert!(sentry_sdk::flush(WAIT));
    drop(guard);
    assert_eq!(
        seen.load(Ordering::Relaxed),
        4,
        "every check-in passes the hook"
    );
    let all = check_ins(&receiver);
    assert_eq!(all.len(), 2, "{all:?}");
    assert!(all.iter().all(|c| c["monitor_slug"] == "kept-job-edited"));
    assert_eq!(
        receiver.client_reports(),
        [("before_send".into(), "monitor".into(), 2)]
    );
}

#[test]
fn a_monitor_rate_limit_stops_check_ins_but_not_errors() {
    let _serial = serial();
    // The reply is chosen before the body is read: the first request (the first check-in,
    // as nothing else is sent before it) gets the 429.
    let answered = AtomicUsize::new(0);
    let receiver = Receiver::start_with(move |_| match answered.fetch_add(1, Ordering::Relaxed) {
        0 => Reply::Status(
            429,
            vec![(
                "X-Sentry-Rate-Limits".to_owned(),
                "60:monitor:key".to_owned(),
            )],
        ),
        _ => Reply::Status(200, Vec::new()),
    });
    let guard = sentry_sdk::init(options(&receiver));
    sentry_sdk::capture_check_in(CheckIn::new("limited", CheckInStatus::InProgress));
    assert!(sentry_sdk::flush(WAIT));
    monitor::run("limited", None, || ());
    let event_id = sentry_sdk::capture_message("still sent", Level::Error);
    assert!(sentry_sdk::flush(WAIT));
    drop(guard);

    assert_eq!(
        check_ins(&receiver).len(),
        1,
        "only the 429'd check-in was requested"
    );
    let events = receiver.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["event_id"], event_id.to_string());
    assert_eq!(
        receiver.client_reports(),
        [("ratelimit_backoff".into(), "monitor".into(), 2)]
    );
}

#[test]
fn a_job_inside_a_transaction_reports_the_transactions_trace() {
    use sentry_sdk::performance::{start_transaction, TransactionContext};

    let _serial = serial();
    let receiver = Receiver::start();
    let guard = sentry_sdk::init(options(&receiver).traces_sample_rate(1.0));
    let transaction = start_transaction(TransactionContext::new("nightly", "task"));
    {
        let _entered = transaction.enter();
        monitor::run("in-a-span", None, || ());
    }
    transaction.finish();
    assert!(sentry_sdk::flush(WAIT));
    drop(guard);

    let sent = receiver
        .requests()
        .iter()
        .flat_map(|r| r.envelope().items().to_vec())
        .find(|i| i.item_type() == "transaction")
        .and_then(|i| i.payload_json())
        .expect("the transaction");
    let trace_id = &sent["contexts"]["trace"]["trace_id"];
    assert_eq!(trace_id.as_str().map(str::len), Some(32));
    let all = check_ins(&receiver);
    assert_eq!(all.len(), 2, "{all:?}");
    for check_in in &all {
        assert_eq!(&check_in["contexts"]["trace"]["trace_id"], trace_id);
    }
}
