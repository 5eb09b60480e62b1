//! Attachments (scope, per capture, files, panics, size limit) and user feedback, as they
//! arrive at a server.

use serde_json::Value;

use crate::support::*;
use sentry_sdk::protocol::{Attachment, AttachmentType, Feedback, Level, User};
use sentry_sdk::transport::{Envelope, Item};

/// 1 MiB holding every byte value, 4096 times over.
fn every_byte() -> Vec<u8> {
    (0..1024 * 1024).map(|i| (i % 256) as u8).collect()
}

fn attachments(envelope: &Envelope) -> Vec<&Item> {
    envelope
        .items()
        .iter()
        .filter(|i| i.item_type() == "attachment")
        .collect()
}

fn header<'a>(item: &'a Item, key: &str) -> &'a str {
    item.headers()[key].as_str().unwrap_or("")
}

/// The one request whose envelope has an item of type `ty`.
fn with_item(receiver: &Receiver, ty: &str) -> Vec<Envelope> {
    receiver
        .requests()
        .iter()
        .map(|r| r.envelope())
        .filter(|e| e.items().iter().any(|i| i.item_type() == ty))
        .collect()
}

fn event_id_header(envelope: &Envelope) -> String {
    match envelope.header("event_id") {
        Some(Value::String(id)) => id,
        other => panic!("envelope event_id: {other:?}"),
    }
}

#[test]
fn scope_capture_and_file_attachments_arrive_byte_exact_with_their_headers() {
    let _serial = serial();
    let receiver = Receiver::start();
    let dir = std::env::temp_dir().join(format!("sentry-e2e-attach-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("worker.log");
    let _ = std::fs::remove_file(&file);
    // `before_send` runs on the SDK's thread before the attachments are built: the file it
    // writes is only there to be read if files are read on that thread, at build time.
    let written_by_the_worker = file.clone();
    let guard = sentry_sdk::init(options(&receiver).before_send(move |event| {
        std::fs::write(&written_by_the_worker, b"written on the worker\n").unwrap();
        Some(event)
    }));
    let id = sentry_sdk::with_isolation_scope(|| {
        sentry_sdk::add_attachment(
            Attachment::from_bytes("blob.bin", every_byte())
                .with_attachment_type(AttachmentType::Attachment),
        );
        sentry_sdk::add_attachment(Attachment::from_path(&file).with_content_type("text/plain"));
        let err = "x".parse::<u32>().unwrap_err();
        sentry_sdk::capture_exception_with_attachments(
            &err,
            vec![
                Attachment::from_bytes("input.json", b"{\"x\":1}\n".to_vec())
                    .with_content_type("application/json"),
            ],
        )
    });
    assert!(!id.is_nil());
    assert!(!file.exists(), "the capture did not touch the file");
    assert!(sentry_sdk::flush(WAIT));
    drop(guard);

    let envelopes = with_item(&receiver, "event");
    assert_eq!(envelopes.len(), 1);
    let envelope = &envelopes[0];
    assert_eq!(event_id_header(envelope), id.to_string());
    assert_eq!(envelope.items()[0].item_type(), "event");
    let items = attachments(envelope);
    let names: Vec<&str> = items.iter().map(|i| header(i, "filename")).collect();
    assert_eq!(
        names,
        ["blob.bin", "worker.log", "input.json"],
        "scope first"
    );

    let blob = items[0];
    assert_eq!(blob.payload(), &every_byte()[..], "byte-exact");
    assert_eq!(blob.headers()["length"], 1024 * 1024);
    assert_eq!(header(blob, "attachment_type"), "event.attachment");
    assert_eq!(header(blob, "content_type"), "application/octet-stream");

    assert_eq!(items[1].payload(), b"written on the worker\n");
    assert_eq!(header(items[1], "content_type"), "text/plain");
    assert_eq!(items[2].payload(), b"{\"x\":1}\n");
    assert_eq!(header(items[2], "content_type"), "application/json");
    let _ = std::fs::remove_dir_all(&dir);

    // Later captures outside that isolation scope carry nothing.
    let receiver = Receiver::start();
    let guard = sentry_sdk::init(options(&receiver));
    sentry_sdk::capture_message_with_attachments(
        "with one",
        Level::Info,
        vec![Attachment::from_bytes("one.txt", b"1".to_vec())],
    );
    sentry_sdk::capture_message("plain", Level::Info);
    drop(guard);
    let envelopes = with_item(&receiver, "event");
    // (Two deliveries may run at once: arrival order is not capture order.)
    let mut counts: Vec<(String, usize)> = envelopes
        .iter()
        .map(|e| {
            let event = e.items()[0].payload_json().unwrap();
            let message = event["logentry"]["formatted"].as_str().unwrap().to_owned();
            (message, attachments(e).len())
        })
        .collect();
    counts.sort();
    assert_eq!(counts, [("plain".into(), 0), ("with one".into(), 1)]);
}

#[test]
fn an_oversized_or_missing_attachment_is_dropped_and_counted_while_the_event_arrives() {
    let _serial = serial();
    let receiver = Receiver::start();
    let guard = sentry_sdk::init(options(&receiver).max_attachment_size(1000));
    sentry_sdk::capture_message_with_attachments(
        "with a big one",
        Level::Error,
        vec![
            Attachment::from_bytes("big.bin", vec![7u8; 1001]),
            Attachment::from_bytes("small.txt", b"fits".to_vec()),
            Attachment::from_bytes("exact.bin", vec![1u8; 1000]),
            Attachment::from_path("/nonexistent/sentry-e2e/missing.log"),
        ],
    );
    assert!(sentry_sdk::flush(WAIT));
    drop(guard);

    let envelopes = with_item(&receiver, "event");
    assert_eq!(envelopes.len(), 1, "the event still goes");
    let names: Vec<&str> = attachments(&envelopes[0])
        .iter()
        .map(|i| header(i, "filename"))
        .collect();
    assert_eq!(names, ["small.txt", "exact.bin"]);
    assert_eq!(
        receiver.client_reports(),
        [("invalid".into(), "attachment".into(), 1001)],
        "counted by bytes; the missing file has no size to count"
    );
}

#[test]
fn attachments_of_a_dropped_event_are_counted_by_bytes() {
    let _serial = serial();
    let receiver = Receiver::start();
    let guard = sentry_sdk::init(options(&receiver).before_send(|_| None));
    sentry_sdk::capture_message_with_attachments(
        "dropped",
        Level::Error,
        vec![Attachment::from_bytes("a.bin", vec![0u8; 300])],
    );
    assert!(sentry_sdk::flush(WAIT));
    drop(guard);
    assert!(receiver.events().is_empty());
    assert_eq!(
        receiver.client_reports(),
        [
            ("before_send".into(), "attachment".into(), 300),
            ("before_send".into(), "error".into(), 1)
        ]
    );

    let receiver = Receiver::start();
    let guard = sentry_sdk::init(options(&receiver).sample_rate(0.0));
    sentry_sdk::capture_message_with_attachments(
        "sampled out",
        Level::Error,
        vec![Attachment::from_bytes("b.bin", vec![0u8; 200])],
    );
    drop(guard);
    assert_eq!(
        receiver.client_reports(),
        [
            ("sample_rate".into(), "attachment".into(), 200),
            ("sample_rate".into(), "error".into(), 1)
        ]
    );
}

#[test]
fn a_rate_limit_on_attachments_drops_only_the_attachments() {
    let _serial = serial();
    let limit = (
        "X-Sentry-Rate-Limits".to_owned(),
        "60:attachment:organization".to_owned(),
    );
    let receiver = Receiver::start_with(move |_| Reply::Status(200, vec![limit.clone()]));
    let guard = sentry_sdk::init(options(&receiver));
    let att = || vec![Attachment::from_bytes("a.bin", vec![0u8; 500])];
    sentry_sdk::capture_message_with_attachments("first", Level::Error, att());
    assert!(sentry_sdk::flush(WAIT));
    sentry_sdk::capture_message_with_attachments("second", Level::Error, att());
    assert!(sentry_sdk::flush(WAIT));
    drop(guard);
    let envelopes = with_item(&receiver, "event");
    let counts: Vec<usize> = envelopes.iter().map(|e| attachments(e).len()).collect();
    assert_eq!(
        counts,
        [1, 0],
        "the second event goes without its attachment"
    );
    assert!(receiver.client_reports().contains(&(
        "ratelimit_backoff".into(),
        "attachment".into(),
        500
    )));
}

#[inline(never)]
fn explode() {
    panic!("exploded with an attachment in scope");
}

#[test]
fn a_panics_event_carries_the_scopes_attachments() {
    let _serial = serial();
    let receiver = Receiver::start();
    let guard = sentry_sdk::init(options(&receiver).default_integrations(true));
    // A plain thread sees the global scope.
    sentry_sdk::configure_global_scope(|s| {
        s.add_attachment(Attachment::from_bytes(
            "state.json",
            b"{\"step\":3}".to_vec(),
        ))
    });
    let result = std::thread::spawn(explode).join();
    sentry_sdk::configure_global_scope(|s| s.clear_attachments());
    assert!(result.is_err());
    drop(guard);

    let envelopes = with_item(&receiver, "event");
    assert_eq!(envelopes.len(), 1);
    let event = envelopes[0].items()[0].payload_json().unwrap();
    assert_eq!(event["level"], "fatal");
    let items = attachments(&envelopes[0]);
    assert_eq!(items.len(), 1);
    assert_eq!(header(items[0], "filename"), "state.json");
    assert_eq!(items[0].payload(), b"{\"step\":3}");
}

#[test]
fn feedback_is_linked_to_its_event_and_carries_its_attachment() {
    let _serial = serial();
    let receiver = Receiver::start();
    // Feedback goes through neither `before_send` nor `sample_rate`.
    let guard = sentry_sdk::init(
        options(&receiver)
            .before_send(|e| (e.message.as_deref() != Some("not feedback")).then_some(e)),
    );
    let (event_id, feedback_id) = sentry_sdk::with_isolation_scope(|| {
        sentry_sdk::set_user(Some(User {
            id: Some("u9".into()),
            ..Default::default()
        }));
        sentry_sdk::set_tag("plan", "pro");
        sentry_sdk::add_attachment(Attachment::from_bytes("scope-only.txt", b"s".to_vec()));
        let event_id = sentry_sdk::capture_message("export failed", Level::Error);
        sentry_sdk::capture_message("not feedback", Level::Error);
        let long = "x".repeat(5000);
        let feedback = Feedback::new(format!("The export button does nothing. {long}"))
            .with_name("Ada")
            .with_email("ada@example.com")
            .with_url("https://app.example.com/export")
            .with_associated_event_id(event_id)
            .with_attachment(
                Attachment::from_bytes("screenshot.png", vec![0x89, b'P', b'N', b'G'])
                    .with_content_type("image/png"),
            );
        (event_id, sentry_sdk::capture_feedback(feedback))
    });
    assert!(!event_id.is_nil() && !feedback_id.is_nil());
    assert_ne!(event_id, feedback_id);
    assert!(sentry_sdk::flush(WAIT));
    drop(guard);

    let envelopes = with_item(&receiver, "feedback");
    assert_eq!(envelopes.len(), 1);
    let envelope = &envelopes[0];
    assert_eq!(event_id_header(envelope), feedback_id.to_string());
    assert!(envelope
        .items()
        .iter()
        .all(|i| i.item_type() != "transaction"));
    let item = &envelope.items()[0];
    assert_eq!(item.item_type(), "feedback");
    let payload = item.payload_json().unwrap();
    assert_eq!(payload["type"], "feedback");
    assert_eq!(payload["event_id"], feedback_id.to_string());
    assert_eq!(payload["level"], "info");
    assert_eq!(payload["platform"], "native");
    assert_eq!(payload["release"], "e2e@1.0.0");
    assert_eq!(payload["environment"], "test");
    assert_eq!(payload["user"]["id"], "u9");
    assert_eq!(payload["tags"]["plan"], "pro");
    let trace = &payload["contexts"]["trace"];
    assert_eq!(trace["trace_id"].as_str().unwrap().len(), 32, "{payload:#}");
    let feedback = &payload["contexts"]["feedback"];
    assert_eq!(feedback["associated_event_id"], event_id.to_string());
    assert_eq!(feedback["contact_email"], "ada@example.com");
    assert_eq!(feedback["name"], "Ada");
    assert_eq!(feedback["url"], "https://app.example.com/export");
    let message = feedback["message"].as_str().unwrap();
    assert_eq!(message.chars().count(), 4096, "trimmed");
    assert!(message.starts_with("The export button does nothing."));

    let items = attachments(envelope);
    assert_eq!(items.len(), 1, "the feedback's own, not the scope's");
    assert_eq!(header(items[0], "filename"), "screenshot.png");
    assert_eq!(header(items[0], "content_type"), "image/png");
    assert_eq!(items[0].payload(), [0x89, b'P', b'N', b'G']);

    // The event it is linked to arrived too (with the scope's attachment).
    let events = with_item(&receiver, "event");
    assert_eq!(events.len(), 1);
    assert_eq!(event_id_header(&events[0]), event_id.to_string());
    assert_eq!(attachments(&events[0]).len(), 1);
}

#[test]
fn before_send_feedback_can_edit_or_drop_feedback_and_drops_are_counted() {
    let _serial = serial();
    let receiver = Receiver::start();
    let guard = sentry_sdk::init(options(&receiver).sample_rate(0.0).before_send_feedback(
        |mut event| {
            let message = event.contexts["feedback"]["message"].as_str().unwrap_or("");
            if message.contains("spam") {
                return None;
            }
            event.tags.insert("screened".into(), "yes".into());
            Some(event)
        },
    ));
    let kept = sentry_sdk::capture_feedback(Feedback::new("useful"));
    sentry_sdk::capture_feedback(
        Feedback::new("spam spam")
            .with_attachment(Attachment::from_bytes("spam.bin", vec![0u8; 64])),
    );
    assert!(sentry_sdk::flush(WAIT));
    drop(guard);
    let envelopes = with_item(&receiver, "feedback");
    assert_eq!(
        envelopes.len(),
        1,
        "sample_rate 0 does not apply to feedback"
    );
    assert_eq!(event_id_header(&envelopes[0]), kept.to_string());
    let payload = envelopes[0].items()[0].payload_json().unwrap();
    assert_eq!(payload["tags"]["screened"], "yes");
    assert_eq!(
        receiver.client_reports(),
        [
            ("before_send".into(), "attachment".into(), 64),
            ("before_send".into(), "feedback".into(), 1)
        ]
    );
}
