//! An error event with attachments (one in the scope, one with the capture, a file read on
//! the SDK's thread), then a user feedback about it with a screenshot.
//!
//! ```text
//! cargo run --example attachments            # local receiver, prints what arrived
//! SENTRY_DSN=https://key@host/1 cargo run --example attachments
//! ```
//! Prints `event <id>` and `feedback <id>`, the ids a server should hold.

#[path = "../tests/support/receiver.rs"]
mod receiver;

use std::time::Duration;

use sentry_sdk::protocol::{Attachment, Feedback};

fn main() {
    let local = receiver::Receiver::unless_dsn_set();
    let options = sentry_sdk::ClientOptions::new().release(sentry_sdk::release_name!());
    let options = receiver::Receiver::point(&local, options);
    let guard = sentry_sdk::init(options);

    let log = std::env::temp_dir().join(format!("attachments-example-{}.log", std::process::id()));
    std::fs::write(&log, "12:00:01 export started\n12:00:02 export failed\n").expect("temp file");
    sentry_sdk::add_attachment(Attachment::from_path(&log).with_content_type("text/plain"));
    sentry_sdk::set_tag("example", "attachments");

    let err = "twelve".parse::<u32>().unwrap_err();
    let all_bytes: Vec<u8> = (0..=255u8).collect();
    let event_id = sentry_sdk::capture_exception_with_attachments(
        &err,
        vec![Attachment::from_bytes("input.bin", all_bytes)],
    );
    let feedback_id = sentry_sdk::capture_feedback(
        Feedback::new("The export button does nothing")
            .with_name("Ada")
            .with_email("ada@example.com")
            .with_associated_event_id(event_id)
            .with_attachment(
                Attachment::from_bytes("screenshot.png", b"\x89PNG\r\n\x1a\n".to_vec())
                    .with_content_type("image/png"),
            ),
    );
    println!("event {event_id}");
    println!("feedback {feedback_id}");
    drop(guard);
    let _ = std::fs::remove_file(&log);

    if let Some(receiver) = local {
        for r in receiver.wait_for(2, Duration::from_secs(5)) {
            let envelope = r.envelope();
            for item in envelope.items() {
                let name = item.headers().get("filename").and_then(|v| v.as_str());
                println!(
                    "{} {} bytes{}",
                    item.item_type(),
                    item.payload().len(),
                    name.map(|n| format!(" ({n})")).unwrap_or_default()
                );
            }
        }
    }
}
