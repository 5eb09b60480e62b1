//! The `session` and `sessions` items (PROTOCOL.md §4): one application-session update, and
//! the per-minute counts of finished request sessions.

use std::time::SystemTime;

use sentry_sdk_transport::time::Rfc3339;
use sentry_sdk_transport::{Envelope, Item};
use serde_json::{json, Map, Value};

use super::envelope_sdk;
use crate::session::{Counts, Pending, Update};

/// Most aggregates in one `sessions` item (Relay's limit).
const AGGREGATES_PER_ITEM: usize = 100;

fn attrs(release: &str, environment: &str) -> Value {
    json!({"release": release, "environment": environment})
}

fn ts(t: SystemTime) -> Value {
    Value::from(Rfc3339::new(t).as_str())
}

/// One update as a `session` item.
pub(crate) fn session_item(update: &Update, release: &str, environment: &str) -> Item {
    let mut body = Map::new();
    body.insert("sid".into(), Value::from(update.sid.simple().to_string()));
    if let Some(did) = &update.did {
        body.insert("did".into(), Value::from(did.as_str()));
    }
    body.insert("init".into(), Value::from(update.init));
    body.insert("started".into(), ts(update.started));
    body.insert("timestamp".into(), ts(update.timestamp));
    body.insert("seq".into(), Value::from(update.seq));
    if let Some(duration) = update.duration {
        // Milliseconds are precise enough, and keep the number short.
        body.insert(
            "duration".into(),
            json!((duration * 1000.0).round() / 1000.0),
        );
    }
    body.insert("status".into(), Value::from(update.status.as_str()));
    body.insert("errors".into(), Value::from(update.errors));
    body.insert("attrs".into(), attrs(release, environment));
    // Serialising a JSON value into a Vec cannot fail.
    Item::new("session", serde_json::to_vec(&body).unwrap_or_default())
}

/// The `sessions` items of `aggregates`, at most 100 minutes each.
fn aggregate_items(
    aggregates: &[(SystemTime, Counts)],
    release: &str,
    environment: &str,
) -> Vec<Item> {
    aggregates
        .chunks(AGGREGATES_PER_ITEM)
        .map(|chunk| {
            let list: Vec<Value> = chunk
                .iter()
                .map(|(started, c)| {
                    let mut bucket = Map::new();
                    bucket.insert("started".into(), ts(*started));
                    for (name, n) in [
                        ("exited", c.exited),
                        ("errored", c.errored),
                        ("abnormal", c.abnormal),
                        ("crashed", c.crashed),
                    ] {
                        if n > 0 {
                            bucket.insert(name.into(), Value::from(n));
                        }
                    }
                    Value::Object(bucket)
                })
                .collect();
            let body = json!({"aggregates": list, "attrs": attrs(release, environment)});
            Item::new("sessions", serde_json::to_vec(&body).unwrap_or_default())
        })
        .collect()
}

/// `pending` as one envelope of its own; `None` when there is nothing to send. Aggregates
/// are of `release`/`environment` (the client's).
pub(crate) fn session_envelope(
    pending: Pending,
    release: Option<&str>,
    environment: &str,
) -> Option<Envelope> {
    if pending.is_empty() {
        return None;
    }
    let mut envelope = Envelope::new();
    envelope.set_header("sdk", envelope_sdk().clone());
    for (update, release, environment) in &pending.updates {
        envelope.add_item(session_item(update, release, environment));
    }
    if let Some(release) = release {
        for item in aggregate_items(&pending.aggregates, release, environment) {
            envelope.add_item(item);
        }
    }
    Some(envelope)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::SessionStatus;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn an_update_as_relay_reads_it() {
        let started = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let update = Update {
            sid: uuid::Uuid::nil(),
            did: Some("user-1".into()),
            init: true,
            started,
            timestamp: started + Duration::from_millis(1500),
            seq: 0,
            duration: Some(1.5004),
            status: SessionStatus::Crashed,
            errors: 1,
        };
        let item = session_item(&update, "app@1", "prod");
        assert_eq!(item.item_type(), "session");
        assert_eq!(
            item.payload_json().unwrap(),
            json!({
                "sid": "00000000000000000000000000000000", "did": "user-1", "init": true,
                "started": "2027-01-15T08:00:00.000000Z",
                "timestamp": "2027-01-15T08:00:01.500000Z",
                "seq": 0, "duration": 1.5, "status": "crashed", "errors": 1,
                "attrs": {"release": "app@1", "environment": "prod"}
            })
        );
    }

    #[test]
    fn aggregates_split_at_100_minutes_and_omit_zero_counts() {
        let minutes: Vec<_> = (0..150u64)
            .map(|m| {
                let c = Counts {
                    exited: 2,
                    errored: m % 2,
                    ..Default::default()
                };
                (UNIX_EPOCH + Duration::from_secs(1_800_000_000 + m * 60), c)
            })
            .collect();
        let items = aggregate_items(&minutes, "app@1", "prod");
        assert_eq!(items.len(), 2);
        let first = items[0].payload_json().unwrap();
        assert_eq!(first["aggregates"].as_array().unwrap().len(), 100);
        assert_eq!(
            first["aggregates"][0],
            json!({"started": "2027-01-15T08:00:00.000000Z", "exited": 2})
        );
        assert_eq!(first["attrs"]["release"], "app@1");
    }
}
