//! What leaves the process: secrets scrubbed by default wherever they are carried, what the
//! program set about its user left alone, and every event trimmed under the server's limits
//! (a receiver that answers 413 to anything over 1 MiB, as Relay does, never has to).

use serde_json::Value;

use crate::support::*;
use sentry_sdk::protocol::{Breadcrumb, Level, Request, User};

const MIB: usize = 1024 * 1024;

/// Clears what earlier tests left in the process-wide scope (only while a client is bound:
/// with none, scope calls do nothing).
fn fresh_scope() {
    sentry_sdk::configure_scope(|scope| scope.clear());
}

/// A receiver that refuses bodies over Relay's event limit with 413.
fn strict_receiver() -> Receiver {
    Receiver::start_with(|request| {
        if request.body.len() > MIB {
            Reply::Status(413, Vec::new())
        } else {
            Reply::Status(200, Vec::new())
        }
    })
}

#[derive(Debug)]
struct LoginError;

impl std::fmt::Display for LoginError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("login failed")
    }
}

impl std::error::Error for LoginError {}

#[inline(never)]
fn login(password: &str) -> sentry_sdk::EventId {
    let username = "ada";
    sentry_sdk::capture_exception!(&LoginError, username, password)
}

#[test]
fn secrets_are_scrubbed_wherever_they_are_carried_and_the_user_is_left_alone() {
    let _serial = serial();
    let receiver = Receiver::start();
    // (No source lines: this file's own text holds the test's secrets.)
    let guard = sentry_sdk::init(
        options(&receiver)
            .add_denylist_key("card-number")
            .include_source_context(false),
    );
    fresh_scope();
    sentry_sdk::set_user(Some(User {
        id: Some("u-1".into()),
        ip_address: Some("203.0.113.7".into()),
        ..Default::default()
    }));
    sentry_sdk::set_extra(
        "db",
        serde_json::json!({"host": "db1", "password": "hunter2"}),
    );
    sentry_sdk::set_extra("card_number", "4111 1111 1111 1111");
    sentry_sdk::set_context(
        "payment",
        serde_json::json!({"api_key": "sk_live_1", "amount": 12}),
    );
    sentry_sdk::add_breadcrumb(Breadcrumb {
        category: Some("http".into()),
        data: [
            (
                "url".to_owned(),
                Value::from("https://bot:s3cret@api.example/v1?token=abc&page=2"),
            ),
            ("Authorization".to_owned(), Value::from("Bearer xyz")),
            ("status_code".to_owned(), Value::from(200)),
        ]
        .into_iter()
        .collect(),
        ..Default::default()
    });
    sentry_sdk::configure_scope(|scope| {
        scope.set_request(Some(Request {
            url: Some("https://shop.example/login".into()),
            query_string: Some("session_id=abc&next=%2Fcart".into()),
            data: Some(serde_json::json!({"user": "ada", "password": "hunter2"})),
            ..Default::default()
        }))
    });
    let id = login("hunter2");
    assert!(!id.is_nil());
    drop(guard);

    let event = receiver.events().pop().expect("the event");
    let text = event.to_string();
    for secret in [
        "hunter2",
        "sk_live_1",
        "s3cret",
        "Bearer xyz",
        "4111",
        "abc&",
    ] {
        assert!(!text.contains(secret), "{secret} left in {text}");
    }
    assert_eq!(
        event["extra"]["db"],
        serde_json::json!({"host": "db1", "password": "[Filtered]"})
    );
    assert_eq!(event["extra"]["card_number"], "[Filtered]");
    assert_eq!(event["contexts"]["payment"]["api_key"], "[Filtered]");
    assert_eq!(event["contexts"]["payment"]["amount"], 12);
    let crumb = &event["breadcrumbs"]["values"][0]["data"];
    assert_eq!(
        crumb["url"],
        "https://[Filtered]:[Filtered]@api.example/v1?token=[Filtered]&page=2"
    );
    assert_eq!(crumb["Authorization"], "[Filtered]");
    assert_eq!(crumb["status_code"], 200);
    let request = &event["request"];
    assert_eq!(
        request["query_string"],
        "session_id=[Filtered]&next=%2Fcart"
    );
    assert_eq!(request["data"]["password"], "[Filtered]");
    assert_eq!(request["data"]["user"], "ada");
    let frame_vars = event["exception"]["values"][0]["stacktrace"]["frames"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["vars"].is_object())
        .map(|f| f["vars"].clone())
        .expect("the frame with local values");
    assert_eq!(frame_vars["password"], "[Filtered]");
    assert_eq!(frame_vars["username"], "\"ada\"");
    // Set explicitly by the program: sent as set, even without send_default_pii.
    assert_eq!(event["user"]["ip_address"], "203.0.113.7");
}

#[test]
fn addresses_are_scrubbed_without_send_default_pii_and_kept_with_it() {
    let _serial = serial();
    for pii in [false, true] {
        let receiver = Receiver::start();
        let guard = sentry_sdk::init(options(&receiver).send_default_pii(pii));
        fresh_scope();
        sentry_sdk::set_extra("x_forwarded_for", "198.51.100.9");
        sentry_sdk::capture_message("request", Level::Info);
        drop(guard);
        let event = receiver.events().pop().unwrap();
        let expected = if pii { "198.51.100.9" } else { "[Filtered]" };
        assert_eq!(event["extra"]["x_forwarded_for"], expected, "pii={pii}");
    }
}

#[test]
fn an_oversized_event_is_trimmed_under_the_server_limit_and_accepted() {
    let _serial = serial();
    let receiver = strict_receiver();
    let guard = sentry_sdk::init(options(&receiver).max_breadcrumbs(100));
    fresh_scope();
    // 100 breadcrumbs of 20 KiB data each, 3 MiB of extra, a 50 KiB message, a 300-char tag,
    // a 5,000-frame stack: about 5 MiB as given.
    for n in 0..100 {
        sentry_sdk::add_breadcrumb(Breadcrumb {
            message: Some(format!("step {n}")),
            data: [("blob".to_owned(), Value::from("b".repeat(20 * 1024)))]
                .into_iter()
                .collect(),
            ..Default::default()
        });
    }
    for n in 0..300 {
        sentry_sdk::set_extra(&format!("chunk{n:03}"), "e".repeat(10 * 1024));
    }
    sentry_sdk::set_tag(&"k".repeat(300), "v".repeat(300));
    let mut event = sentry_sdk::Event {
        message: Some("m".repeat(50 * 1024)),
        level: Level::Error,
        ..Default::default()
    };
    event.exception.push(sentry_sdk::protocol::Exception {
        ty: "Deep".into(),
        value: Some("recursion".into()),
        stacktrace: Some(sentry_sdk::protocol::Stacktrace {
            frames: (0..5000)
                .map(|n| sentry_sdk::protocol::Frame {
                    function: Some(format!("recurse_{n}")),
                    ..Default::default()
                })
                .collect(),
        }),
        ..Default::default()
    });
    let id = sentry_sdk::capture_event(event);
    assert!(sentry_sdk::flush(WAIT));
    drop(guard);

    let requests = receiver.requests();
    assert_eq!(requests.len(), 1, "one envelope, accepted");
    assert!(
        requests[0].body.len() <= MIB,
        "{} bytes",
        requests[0].body.len()
    );
    let event = requests[0].event().unwrap();
    assert_eq!(event["event_id"], id.to_string().replace('-', ""));
    assert_eq!(
        event["logentry"]["formatted"]
            .as_str()
            .unwrap()
            .chars()
            .count(),
        8192
    );
    let frames = event["exception"]["values"][0]["stacktrace"]["frames"]
        .as_array()
        .unwrap();
    assert!(frames.len() <= 250, "{}", frames.len());
    // Both ends kept: where the thread began and where it failed.
    assert_eq!(frames[0]["function"], "recurse_0");
    assert_eq!(frames.last().unwrap()["function"], "recurse_4999");
    let (key, value) = event["tags"].as_object().unwrap().iter().next().unwrap();
    assert_eq!(
        (key.chars().count(), value.as_str().unwrap().chars().count()),
        (200, 200)
    );
    // The newest breadcrumbs are the ones kept.
    let crumbs = event["breadcrumbs"]["values"]
        .as_array()
        .map_or(0, Vec::len);
    assert!(crumbs < 100, "{crumbs}");
    assert!(
        receiver.client_reports().is_empty(),
        "nothing dropped: {:?}",
        receiver.client_reports()
    );
}

#[test]
fn long_values_are_cut_to_max_value_length() {
    let _serial = serial();
    let receiver = Receiver::start();
    let guard = sentry_sdk::init(options(&receiver).max_value_length(100));
    fresh_scope();
    sentry_sdk::set_extra("note", "é".repeat(500));
    let mut nested = serde_json::json!("leaf");
    for _ in 0..20 {
        nested = serde_json::json!({ "down": nested });
    }
    sentry_sdk::set_context("deep", nested);
    sentry_sdk::capture_message("values", Level::Info);
    drop(guard);
    let event = receiver.events().pop().unwrap();
    let note = event["extra"]["note"].as_str().unwrap();
    assert_eq!(note.chars().count(), 100);
    assert!(note.ends_with('…'));
    let depth = event["contexts"]["deep"]
        .to_string()
        .matches("down")
        .count();
    assert!(depth < 10, "nested {depth} levels");
}
