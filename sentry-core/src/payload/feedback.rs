//! The `feedback` item of a user feedback, built on the worker: an event of `type: "feedback"`
//! at level `info` whose `contexts.feedback` holds what the user said, with the scopes' user,
//! tags and trace (`contexts.trace`), the client's release and environment, and its own
//! `event_id` (never the associated event's). Its attachments go in the same envelope.
//!
//! Feedback does not go through `before_send`, the event processors or `sample_rate`; only
//! through `before_send_feedback` (a drop is counted as `before_send`, category `feedback`).

use std::time::SystemTime;

use sentry_sdk_transport::{DataCategory, DiscardReason, Envelope};
use serde_json::{json, Value};

use super::{attachments, one_item_envelope, BuildContext};
use crate::protocol::{Event, EventId, Feedback, Level};
use crate::scope::{self, Snapshot};

/// The envelope of `feedback` (already trimmed), captured at `timestamp` with id `id`, over
/// `snapshot`; `None` when `before_send_feedback` dropped it (counted).
pub(crate) fn feedback_envelope(
    ctx: &BuildContext,
    id: EventId,
    timestamp: SystemTime,
    feedback: Feedback,
    snapshot: &Snapshot,
) -> Option<Envelope> {
    let settings = ctx.options.settings();
    let mut event = Event::new(id, timestamp);
    scope::apply_scopes_but_breadcrumbs(&mut event, snapshot);
    // A scope's level override is for errors; feedback is always `info`.
    event.level = Level::Info;
    ctx.fill_defaults(&mut event);
    ctx.fill_static_contexts(&mut event);
    let pc = snapshot.isolation.propagation();
    if let Some(pc) = pc.filter(|_| !event.contexts.contains_key("trace")) {
        if let Ok(trace) = serde_json::from_slice(pc.context_json()) {
            event.contexts.insert("trace".into(), trace);
        }
    }
    event
        .contexts
        .insert("feedback".into(), feedback_context(&feedback));
    if let Some(hook) = &settings.before_send_feedback {
        let name = "before_send_feedback";
        let Some(kept) = ctx.before_send(name, hook, event, DataCategory::Feedback) else {
            let reason = DiscardReason::BeforeSend;
            attachments::dropped(ctx, reason, feedback.attachments.iter());
            return None;
        };
        event = kept;
        event.event_id = id; // the envelope's id stays the payload's
    }
    let payload = match serde_json::to_value(&event) {
        Ok(Value::Object(mut map)) => {
            map.insert("type".into(), json!("feedback"));
            serde_json::to_vec(&map).ok()
        }
        _ => None,
    };
    let Some(payload) = payload else {
        let reason = DiscardReason::InternalSdkError;
        attachments::dropped(ctx, reason, feedback.attachments.iter());
        return ctx.dropped(reason, DataCategory::Feedback, "serialisation");
    };
    let dsc = pc.map(|pc| ctx.scope_dsc(pc).header_json());
    // The envelope's id is the feedback's own (what `one_item_envelope` takes from the event,
    // which `before_send_feedback` may not change).
    let mut envelope = one_item_envelope(id, "feedback", payload, dsc);
    attachments::add_items(ctx, &mut envelope, feedback.attachments.iter());
    sentry_sdk_transport::sdk_debug!("feedback {id} ready to send");
    Some(envelope)
}

/// `contexts.feedback`: what the user said, and the event it is about.
fn feedback_context(feedback: &Feedback) -> Value {
    let mut context = json!({ "message": feedback.message });
    let optional = [
        ("contact_email", feedback.email.as_deref()),
        ("name", feedback.name.as_deref()),
        ("url", feedback.url.as_deref()),
    ];
    for (key, value) in optional {
        if let Some(value) = value {
            context[key] = json!(value);
        }
    }
    if let Some(associated) = feedback.associated_event_id {
        context["associated_event_id"] = json!(associated);
    }
    context
}
