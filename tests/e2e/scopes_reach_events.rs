use std::sync::mpsc;

use crate::support::*;
use sentry_sdk::protocol::Level;

#[test]
fn with_scope_and_isolation_scope_keep_their_data_inside() {
    let _serial = serial();
    let receiver = Receiver::start();
    let guard = sentry_sdk::init(options(&receiver));
    sentry_sdk::set_tag("app", "shop");
    sentry_sdk::with_scope(
        |scope| scope.set_tag("job", "nightly"),
        || sentry_sdk::capture_message("inside with_scope", Level::Info),
    );
    sentry_sdk::with_isolation_scope(|| {
        sentry_sdk::set_tag("request", "r1");
        sentry_sdk::capture_message("inside isolation", Level::Info);
    });
    sentry_sdk::capture_message("outside", Level::Info);
    sentry_sdk::configure_global_scope(|s| s.set_tag("global", "yes"));
    sentry_sdk::capture_message("after global", Level::Info);
    sentry_sdk::configure_global_scope(|s| s.remove_tag("global"));
    sentry_sdk::remove_tag("app");
    drop(guard);

    let events = receiver.events();
    let by = |m: &str| {
        events
            .iter()
            .find(|e| e["logentry"]["formatted"] == m)
            .unwrap()
            .clone()
    };
    assert_eq!(by("inside with_scope")["tags"]["job"], "nightly");
    assert_eq!(by("inside with_scope")["tags"]["app"], "shop");
    assert_eq!(by("inside isolation")["tags"]["request"], "r1");
    assert!(by("outside")["tags"].get("job").is_none());
    assert!(by("outside")["tags"].get("request").is_none());
    assert_eq!(by("after global")["tags"]["global"], "yes");
}

#[test]
fn threads_started_before_init_and_re_init_reach_the_newest_client() {
    let _serial = serial();
    let first = Receiver::start();
    let second = Receiver::start();
    let (go, wait) = mpsc::channel::<()>();
    let (done, finished) = mpsc::channel::<()>();
    let thread = std::thread::spawn(move || {
        while wait.recv().is_ok() {
            sentry_sdk::capture_message("from an old thread", Level::Info);
            done.send(()).unwrap();
        }
    });
    let guard = sentry_sdk::init(options(&first));
    go.send(()).unwrap();
    finished.recv().unwrap();
    let guard2 = sentry_sdk::init(options(&second));
    go.send(()).unwrap();
    finished.recv().unwrap();
    drop(go);
    thread.join().unwrap();
    drop(guard2);
    drop(guard);
    assert_eq!(first.wait_for(1, WAIT).len(), 1);
    assert_eq!(second.wait_for(1, WAIT).len(), 1);
    assert_eq!(
        second.events()[0]["logentry"]["formatted"],
        "from an old thread"
    );
}

#[test]
fn breadcrumbs_are_capped_at_max_breadcrumbs_keeping_the_newest() {
    let _serial = serial();
    let receiver = Receiver::start();
    let guard = sentry_sdk::init(options(&receiver).max_breadcrumbs(5));
    for i in 0..20 {
        sentry_sdk::add_breadcrumb(|| sentry_sdk::Breadcrumb {
            message: Some(i.to_string()),
            ..Default::default()
        });
    }
    sentry_sdk::capture_message("crumbs", Level::Info);
    drop(guard);
    let event = &receiver.events()[0];
    let got: Vec<_> = event["breadcrumbs"]["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["message"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(got, ["15", "16", "17", "18", "19"]);
    // Clean up the process default isolation scope for later tests.
    let g = sentry_sdk::init(options(&receiver));
    sentry_sdk::configure_scope(|s| s.clear_breadcrumbs());
    drop(g);
}

/// Each thread reads the process-wide client through its own copy; a new `init` (or the
/// guard's unbind) must reach a thread whose copy is older.
#[test]
fn a_thread_that_captured_before_a_new_init_sends_to_the_new_client() {
    let _serial = serial();
    let first = Receiver::start();
    let second = Receiver::start();
    let (to_worker, worker_rx) = mpsc::channel::<&'static str>();
    let (done, done_rx) = mpsc::channel::<bool>();
    let worker = std::thread::spawn(move || {
        for message in worker_rx {
            sentry_sdk::capture_message(message, Level::Info);
            done.send(sentry_sdk::current_client().is_some()).unwrap();
        }
    });
    let guard = sentry_sdk::init(options(&first));
    to_worker.send("to the first client").unwrap();
    assert!(done_rx.recv().unwrap());
    drop(guard);
    to_worker.send("with no client bound").unwrap();
    assert!(!done_rx.recv().unwrap(), "the copy must see the unbind");
    let guard = sentry_sdk::init(options(&second));
    to_worker.send("to the second client").unwrap();
    assert!(done_rx.recv().unwrap());
    drop(guard);
    drop(to_worker);
    worker.join().unwrap();

    let messages = |r: &Receiver| -> Vec<String> {
        r.events()
            .iter()
            .map(|e| {
                e["logentry"]["formatted"]
                    .as_str()
                    .unwrap_or("?")
                    .to_owned()
            })
            .collect()
    };
    assert_eq!(messages(&first), ["to the first client"]);
    assert_eq!(messages(&second), ["to the second client"]);
}

/// `set_context` and `set_extra` take anything `Serialize` (the SDK's own `protocol::Map`, a
/// struct, a plain value); the guard flushes and closes its own client.
#[test]
fn contexts_take_anything_serialize_and_the_guard_flushes_and_closes() {
    #[derive(serde::Serialize)]
    struct Order {
        id: u64,
        items: Vec<&'static str>,
    }
    let _serial = serial();
    let receiver = Receiver::start();
    let guard = sentry_sdk::init(options(&receiver));
    sentry_sdk::set_context(
        "order",
        Order {
            id: 7,
            items: vec!["tea"],
        },
    );
    let mut map = sentry_sdk::protocol::Map::new();
    map.insert("shard".to_owned(), serde_json::Value::from(3));
    sentry_sdk::set_context("db", map);
    sentry_sdk::set_context("region", "eu-west-1");
    sentry_sdk::set_extra("attempts", [1, 2]);
    sentry_sdk::capture_message("with contexts", Level::Info);
    assert!(guard.flush(WAIT));
    assert_eq!(receiver.events().len(), 1, "flushed, not yet closed");
    assert!(guard.close(WAIT));
    assert!(
        sentry_sdk::capture_message("after close", Level::Info).is_nil(),
        "closed and unbound"
    );
    let event = &receiver.events()[0];
    assert_eq!(event["contexts"]["order"]["id"], 7);
    assert_eq!(event["contexts"]["order"]["items"][0], "tea");
    assert_eq!(event["contexts"]["db"]["shard"], 3);
    assert_eq!(event["contexts"]["region"]["value"], "eu-west-1");
    assert_eq!(event["extra"]["attempts"][1], 2);
}
