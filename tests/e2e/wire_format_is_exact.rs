use std::fmt;

use serde_json::Value;

use crate::support::*;
use sentry_sdk::protocol::{Breadcrumb, Level, User};

#[derive(Debug)]
struct CheckoutError(std::num::ParseIntError);

impl fmt::Display for CheckoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("checkout failed")
    }
}

impl std::error::Error for CheckoutError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

#[inline(never)]
fn fail_checkout() -> sentry_sdk::EventId {
    let err = CheckoutError("x".parse::<u32>().unwrap_err());
    sentry_sdk::capture_exception(&err)
}

fn is_hex_id(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

#[test]
fn headers_envelope_and_event_fields_are_as_sentry_expects() {
    let _serial = serial();
    let receiver = Receiver::start();
    let guard = sentry_sdk::init(options(&receiver));
    sentry_sdk::set_user(Some(User {
        id: Some("u1".into()),
        ..Default::default()
    }));
    sentry_sdk::set_tag("tier", "gold");
    sentry_sdk::set_context("order", serde_json::json!({"id": 7}));
    sentry_sdk::set_extra("cart_size", 3);
    sentry_sdk::add_breadcrumb(Breadcrumb {
        message: Some("clicked pay".into()),
        ..Default::default()
    });
    let message_id = sentry_sdk::capture_message("paid", Level::Warning);
    let error_id = fail_checkout();
    assert!(sentry_sdk::flush(WAIT));
    drop(guard);

    let requests = receiver.wait_for(2, WAIT);
    assert_eq!(requests.len(), 2, "one envelope per event");
    for r in &requests {
        assert_eq!(r.method, "POST");
        assert_eq!(r.path, "/api/1/envelope/");
        assert_eq!(
            r.header("x-sentry-auth"),
            Some(
                format!(
                    "Sentry sentry_key=public, sentry_version=7, sentry_client=sentry.rust.sdk/{}",
                    sentry_sdk::SDK_VERSION
                )
                .as_str()
            )
        );
        assert_eq!(
            r.header("content-type"),
            Some("application/x-sentry-envelope")
        );
        assert!(r
            .header("user-agent")
            .unwrap()
            .starts_with("sentry.rust.sdk/"));

        // Envelope framing: header line, item header with exact length, payload, newline.
        let body = &r.body;
        let first_nl = body.iter().position(|&b| b == b'\n').unwrap();
        let header: Value = serde_json::from_slice(&body[..first_nl]).unwrap();
        let rest = &body[first_nl + 1..];
        let second_nl = rest.iter().position(|&b| b == b'\n').unwrap();
        let item_header: Value = serde_json::from_slice(&rest[..second_nl]).unwrap();
        assert_eq!(item_header["type"], "event");
        let len = item_header["length"].as_u64().unwrap() as usize;
        let payload = &rest[second_nl + 1..second_nl + 1 + len];
        assert_eq!(rest[second_nl + 1 + len], b'\n');
        let event: Value = serde_json::from_slice(payload).unwrap();
        assert_eq!(header["event_id"], event["event_id"]);
        assert!(is_hex_id(header["event_id"].as_str().unwrap()));
        assert!(header["sent_at"].as_str().unwrap().ends_with('Z'));
        assert_eq!(header["sdk"]["name"], "sentry.rust.sdk");

        assert_eq!(event["platform"], "native");
        assert_eq!(event["release"], "e2e@1.0.0");
        assert_eq!(event["environment"], "test");
        assert_eq!(event["user"]["id"], "u1");
        assert_eq!(event["tags"]["tier"], "gold");
        assert_eq!(event["contexts"]["order"]["id"], 7);
        assert_eq!(event["extra"]["cart_size"], 3);
        assert_eq!(event["breadcrumbs"]["values"][0]["message"], "clicked pay");
        assert_eq!(event["sdk"]["name"], "sentry.rust.sdk");
        assert!(event["server_name"].as_str().is_some_and(|s| !s.is_empty()));
        assert!(event["timestamp"].as_str().unwrap().ends_with('Z'));
    }

    let events = receiver.events();
    let message = events
        .iter()
        .find(|e| e["event_id"] == message_id.to_string())
        .unwrap();
    assert_eq!(message["level"], "warning");
    assert_eq!(message["logentry"]["formatted"], "paid");

    let error = events
        .iter()
        .find(|e| e["event_id"] == error_id.to_string())
        .unwrap();
    assert_eq!(error["level"], "error");
    let values = error["exception"]["values"].as_array().unwrap();
    assert_eq!(values.len(), 2);
    assert_eq!(values[0]["type"], "ParseIntError");
    assert_eq!(values[0]["mechanism"]["type"], "chained");
    assert_eq!(values[1]["type"], "CheckoutError");
    assert_eq!(values[1]["value"], "checkout failed");
    assert_eq!(values[1]["module"], "e2e::wire_format_is_exact");
    assert_eq!(values[1]["mechanism"]["type"], "generic");
    assert_eq!(values[1]["mechanism"]["handled"], true);

    // The capture-site stack: the user's function on top, no SDK frames, no hashes.
    let frames = values[1]["stacktrace"]["frames"].as_array().unwrap();
    let top = frames.last().unwrap();
    assert_eq!(top["function"], "e2e::wire_format_is_exact::fail_checkout");
    assert_eq!(top["in_app"], true);
    assert!(top["filename"]
        .as_str()
        .unwrap()
        .ends_with("wire_format_is_exact.rs"));
    assert!(top["lineno"].as_u64().unwrap() > 0);
    assert!(top["colno"].as_u64().unwrap() > 0);
    for f in frames {
        let function = f["function"].as_str().unwrap_or("");
        assert!(
            !function.starts_with("sentry_"),
            "SDK frame left in: {function}"
        );
        assert!(!has_hash_suffix(function), "hash left in {function}");
        assert!(f["instruction_addr"].as_str().unwrap().starts_with("0x"));
    }
    let std_frame = frames.iter().find(|f| {
        f["function"]
            .as_str()
            .is_some_and(|s| s.starts_with("std::"))
    });
    if let Some(f) = std_frame {
        assert_eq!(f["in_app"], false);
    }
}

fn has_hash_suffix(function: &str) -> bool {
    function.rsplit("::").next().is_some_and(|last| {
        last.len() == 17
            && last.starts_with('h')
            && last[1..].bytes().all(|b| b.is_ascii_hexdigit())
    })
}
