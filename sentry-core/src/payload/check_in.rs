//! One cron check-in, on the worker: release and environment from the options,
//! `before_send_check_in`, and its `check_in` envelope. Check-ins pass neither `before_send`
//! nor `sample_rate`: a monitor must see every run.

use sentry_sdk_transport::{DataCategory, DiscardReason, Envelope, Item};

use super::{envelope_sdk, BuildContext};
use crate::protocol::CheckIn;

/// The envelope of `check_in`, with the client's release and environment where it has none;
/// `None` when `before_send_check_in` dropped it or it could not be serialised (counted
/// either way).
pub(crate) fn check_in_envelope(ctx: &BuildContext, mut check_in: CheckIn) -> Option<Envelope> {
    let settings = ctx.options().settings();
    if check_in.release.is_none() {
        check_in.release = settings.release.as_deref().map(str::to_owned);
    }
    if check_in.environment.is_none() {
        check_in.environment = Some(settings.environment.to_string());
    }
    if let Some(hook) = &settings.before_send_check_in {
        check_in = ctx.before_send(
            "before_send_check_in",
            hook,
            check_in,
            DataCategory::Monitor,
        )?;
    }
    let payload = match serde_json::to_vec(&check_in) {
        Ok(bytes) => bytes,
        Err(_) => {
            return ctx.dropped(
                DiscardReason::InternalSdkError,
                DataCategory::Monitor,
                "serialisation",
            )
        }
    };
    // No `event_id` header: a check-in is not an event (its id is in the payload).
    let mut envelope = Envelope::new();
    envelope.set_header("sdk", envelope_sdk().clone());
    envelope.add_item(Item::new("check_in", payload));
    Some(envelope)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use sentry_sdk_transport::ClientReports;

    use super::*;
    use crate::protocol::CheckInStatus;
    use crate::ClientOptions;

    fn context(options: ClientOptions) -> BuildContext {
        BuildContext::for_test(options, Arc::new(ClientReports::new(true)))
    }

    fn payload(envelope: &Envelope) -> serde_json::Value {
        let items = envelope.items();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].item_type(), "check_in");
        items[0].payload_json().expect("JSON payload")
    }

    #[test]
    fn release_and_environment_come_from_the_options_unless_set() {
        let ctx = context(
            ClientOptions::new()
                .release("app@2.0")
                .environment("staging"),
        );
        let envelope =
            check_in_envelope(&ctx, CheckIn::new("job", CheckInStatus::Ok)).expect("kept");
        let json = payload(&envelope);
        assert_eq!(json["release"], "app@2.0");
        assert_eq!(json["environment"], "staging");
        assert!(envelope.header("event_id").is_none());

        let own = CheckIn::new("job", CheckInStatus::Ok).environment("canary");
        let json = payload(&check_in_envelope(&ctx, own).expect("kept"));
        assert_eq!(json["environment"], "canary");
    }

    #[test]
    fn before_send_check_in_sees_the_defaults_and_may_drop() {
        let ctx = context(
            ClientOptions::new()
                .release("app@2.0")
                .before_send_check_in(|c| {
                    assert_eq!(c.release.as_deref(), Some("app@2.0"));
                    (c.monitor_slug != "drop").then_some(c)
                }),
        );
        assert!(check_in_envelope(&ctx, CheckIn::new("keep", CheckInStatus::Ok)).is_some());
        assert!(check_in_envelope(&ctx, CheckIn::new("drop", CheckInStatus::Ok)).is_none());
        let item = ctx.reports().take_item().expect("a client report");
        let report = item.payload_json().expect("JSON");
        assert_eq!(
            report["discarded_events"],
            serde_json::json!([{"reason": "before_send", "category": "monitor", "quantity": 1}])
        );
    }
}
