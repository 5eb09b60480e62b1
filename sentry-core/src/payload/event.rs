//! The error-event pipeline: from what the caller handed over to an envelope, on the worker.
//!
//! Order (client spec): `ignore_errors` -> stack resolution -> scopes -> local values ->
//! defaults (release, environment, ...) -> source context and debug images -> integrations'
//! event processors -> `before_send` -> serialisation. Each drop is counted with its reason.

use std::time::{Instant, SystemTime};

use sentry_sdk_transport::{DataCategory, DiscardReason, Envelope};

use super::capture::Capture;
use super::{attachments, one_item_envelope, session_item, BuildContext};
use crate::limits;
use crate::protocol::{json, Breadcrumb, Event, Frame, Stacktrace, Thread, Value};
use crate::scope::{self, Snapshot};
use crate::session::{EventKind, QueuedEvent};
use crate::stacktrace;

/// Runs the pipeline for `capture` over `snapshot`; `None` when the event was dropped (and
/// counted). Symbolication stops at `resolve_until`, if given (a crash handler's wait is
/// bounded): frames not resolved by then keep their bare address, which the server can still
/// symbolicate.
pub(crate) fn event_envelope(
    ctx: &BuildContext,
    capture: Capture,
    snapshot: &Snapshot,
    mut queued: QueuedEvent,
    resolve_until: Option<Instant>,
) -> Option<Envelope> {
    let Capture {
        seed,
        stack,
        local_values,
    } = capture;
    // The request session this event was queued in (if any) learns what the event meant for
    // it when `queued` is dropped, however the pipeline ends (a dropped event means nothing).
    // The trace's DSC: the span's transaction's, else the isolation scope's trace's (whose
    // ids also go into `contexts.trace` of an event captured outside any span).
    let span_dsc = seed
        .trace
        .as_ref()
        .and_then(|t| t.dsc.get().map(|d| d.header_json()));
    let mut event = seed.into_event();
    let scope_trace = match span_dsc.is_none() {
        true => snapshot.isolation.propagation(),
        false => None,
    };
    let dsc = span_dsc.or_else(|| scope_trace.map(|pc| ctx.scope_dsc(pc).header_json()));
    let settings = ctx.options.settings();
    if is_ignored(&settings.ignore_errors, &event) {
        let reason = DiscardReason::EventProcessor;
        attachments::dropped(ctx, reason, scope::attachments(snapshot));
        return ctx.dropped(
            DiscardReason::EventProcessor,
            DataCategory::Error,
            "ignore_errors",
        );
    }
    if let Some(stacktrace) = stack.and_then(|s| s.resolve(&ctx.in_app, resolve_until)) {
        attach_stacktrace(&mut event, stacktrace);
    }
    let rules = &ctx.in_app;
    for_each_frame(&mut event, |f| {
        if f.in_app.is_none() {
            f.in_app = rules.is_in_app(f);
        }
    });
    // With no event processor and no `before_send`, nothing but the writer reads the event:
    // the scopes' breadcrumbs are then written from the snapshot by reference instead of being
    // copied into it (a copy of every message, freed right after), and so are the defaults
    // (release, environment, ..., the `sdk` block in its serialised form).
    let processors = || {
        settings
            .integrations
            .iter()
            .filter(|i| i.processes_events())
    };
    let unobserved = settings.before_send.is_none() && processors().next().is_none();
    // Event processors that never look at breadcrumbs do not need them in the event either.
    let crumbs_unobserved =
        settings.before_send.is_none() && processors().all(|i| !i.reads_breadcrumbs());
    if crumbs_unobserved {
        scope::apply_scopes_but_breadcrumbs(&mut event, snapshot);
    } else {
        scope::apply_scopes(&mut event, snapshot, settings.max_breadcrumbs);
    }
    attach_local_values(&mut event, snapshot, local_values);
    if !unobserved {
        ctx.fill_defaults(&mut event);
    }
    // Likewise the integrations' static contexts (os, runtime, device, app): written from
    // their serialised form unless something reads them in the event.
    let contexts_unobserved =
        settings.before_send.is_none() && processors().all(|i| !i.reads_contexts());
    if !contexts_unobserved {
        ctx.fill_static_contexts(&mut event);
    }
    // The scope's trace as `contexts.trace` (an event's own wins): written from its serialised
    // form unless something reads the event's contexts.
    let scope_trace_context = scope_trace
        .map(|pc| pc.context_json())
        .filter(|_| !event.contexts.contains_key("trace"));
    if let (Some(json), false) = (scope_trace_context, contexts_unobserved) {
        if let Ok(value) = serde_json::from_slice(json) {
            event.contexts.insert("trace".into(), value);
        }
    }
    if settings.include_source_context {
        for_each_frame(&mut event, stacktrace::add_source_context);
    }
    if event.debug_meta.is_none() {
        event.debug_meta = stacktrace::debug_meta_for(&frame_addresses(&event));
    }
    if !unobserved {
        // (Not called without processors: moving the event in and out copies ~600 bytes.)
        event = match ctx.process_event(event) {
            Ok(kept) => kept,
            Err(by) => {
                let reason = DiscardReason::EventProcessor;
                attachments::dropped(ctx, reason, scope::attachments(snapshot));
                return ctx.dropped(reason, DataCategory::Error, by);
            }
        };
    }
    // Scrubbed before `before_send` sees it (as sentry-python does).
    ctx.scrubber().scrub_event(&mut event);
    if let Some(before_send) = &settings.before_send {
        let Some(kept) = ctx.before_send("before_send", before_send, event, DataCategory::Error)
        else {
            let reason = DiscardReason::BeforeSend;
            attachments::dropped(ctx, reason, scope::attachments(snapshot));
            return None;
        };
        event = kept;
    }
    // Kept: now it counts in its session. A status change rides with the event.
    let kind = EventKind::of(&event);
    let session_update = match (kind, queued.in_request()) {
        (Some(_), true) => {
            queued.kind = kind;
            None
        }
        (Some(kind), false) => ctx
            .sessions()
            .on_event(kind, SystemTime::now(), Instant::now()),
        (None, _) => None,
    };
    // Trimmed to the server's limits after user code (see `limits`).
    let limits = ctx.limits();
    limits::trim_event(&mut event, &limits, ctx.max_request_body());
    // The event's own breadcrumbs move out, so that a too-large event can still be changed
    // while the list below borrows them.
    let own_crumbs = std::mem::take(&mut event.breadcrumbs);
    let breadcrumbs = match crumbs_unobserved {
        true => scope::merged_breadcrumbs(&own_crumbs, snapshot, settings.max_breadcrumbs),
        false => None,
    }
    .unwrap_or_else(|| own_crumbs.iter().collect());
    // Breadcrumbs written from the scopes by reference: those with something to scrub or trim
    // are written from a scrubbed, trimmed copy.
    let fixed_crumbs: Vec<(usize, Breadcrumb)> = match crumbs_unobserved {
        true => breadcrumbs
            .iter()
            .enumerate()
            .filter(|(_, c)| {
                ctx.scrubber().needs_scrub(&c.data) || limits::breadcrumb_needs_trim(c, &limits)
            })
            .map(|(i, c)| {
                let mut copy = (*c).clone();
                ctx.scrubber().scrub_map(&mut copy.data);
                limits::trim_breadcrumb(&mut copy, &limits);
                (i, copy)
            })
            .collect(),
        false => Vec::new(),
    };
    let mut breadcrumbs = breadcrumbs;
    for (i, crumb) in &fixed_crumbs {
        breadcrumbs[*i] = crumb;
    }
    let mut defaults = match unobserved {
        true => ctx.defaults(),
        // Filled in already; what user code took out stays out.
        false => json::Defaults::default(),
    };
    if contexts_unobserved {
        defaults.contexts = ctx.static_contexts_json();
        if let Some(json) = scope_trace_context {
            // Kept in name order, as the writer merges them with the event's own.
            let at = defaults
                .contexts
                .partition_point(|(name, _)| *name < "trace");
            defaults.contexts.insert(at, ("trace", json));
        }
    }
    // The contexts written from their serialised form (static ones, the scope's trace) count
    // too: without them the buffer would be grown, and copied, once per event.
    let written_as_is: usize = defaults
        .contexts
        .iter()
        .map(|(n, j)| n.len() + j.len() + 4)
        .sum();
    let mut payload = Vec::with_capacity(payload_size_hint(&event, &breadcrumbs) + written_as_is);
    // Over the server's event limit: written again with less, step by step (see `limits`).
    for step in 0.. {
        payload.clear();
        if let Err(e) = json::write_event(&mut payload, &event, &breadcrumbs, &defaults) {
            sentry_sdk_transport::sdk_debug!("could not serialise event: {e}");
            let reason = DiscardReason::InternalSdkError;
            attachments::dropped(ctx, reason, scope::attachments(snapshot));
            return ctx.dropped(reason, DataCategory::Error, "serialisation");
        }
        if payload.len() <= limits::MAX_EVENT_BYTES {
            break;
        }
        sentry_sdk_transport::sdk_debug!(
            "event {} is {} bytes, over the server's limit: trimming more (step {step})",
            event.event_id,
            payload.len()
        );
        match step {
            // The older half of the breadcrumbs, twice.
            0 | 1 => {
                let half = breadcrumbs.len() / 2;
                breadcrumbs.drain(..half);
            }
            2 => limits::strip_frame_extras(&mut event),
            // No breadcrumbs, small databags, fewer frames, no request body.
            3 => {
                breadcrumbs.clear();
                limits::trim_event(&mut event, &limits.tight(), Some(0));
            }
            _ => {
                let reason = DiscardReason::Invalid;
                attachments::dropped(ctx, reason, scope::attachments(snapshot));
                return ctx.dropped(reason, DataCategory::Error, "the event size limit");
            }
        }
    }
    sentry_sdk_transport::sdk_debug!("event {} ready to send", event.event_id);
    let mut envelope = one_item_envelope(event.event_id, "event", payload, dsc);
    attachments::add_items(ctx, &mut envelope, scope::attachments(snapshot));
    if let Some(update) = session_update {
        let sessions = ctx.sessions();
        let release = sessions.release().unwrap_or_default();
        envelope.add_item(session_item(&update, release, &sessions.environment));
    }
    Some(envelope)
}

/// A guess at the serialised size, so that the payload buffer is allocated once in the
/// common case rather than grown (and copied) a few times.
fn payload_size_hint(event: &Event, breadcrumbs: &[&Breadcrumb]) -> usize {
    let text = |s: &Option<String>| s.as_ref().map_or(0, String::len);
    let crumbs: usize = breadcrumbs
        .iter()
        .map(|c| {
            64 + text(&c.message) + c.category.as_ref().map_or(0, |s| s.len()) + c.data.len() * 48
        })
        .sum();
    let frames: usize = event.stacktraces().map(|s| s.frames.len() * 256).sum();
    1024 + crumbs
        + frames
        + text(&event.message)
        + (event.tags.len() + event.extra.len()) * 48
        + event.contexts.len() * 128
}

/// `ignore_errors`: an exact exception type (short or with its module) or a substring of an
/// exception value or the message.
fn is_ignored(patterns: &[std::borrow::Cow<'static, str>], event: &Event) -> bool {
    patterns.iter().any(|p| {
        let p = p.as_ref();
        let in_message = event.message.as_deref().is_some_and(|m| m.contains(p));
        in_message
            || event.exception.iter().any(|e| {
                let full = e.module.as_deref().map(|m| format!("{m}::{}", e.ty));
                e.ty == p
                    || full.as_deref() == Some(p)
                    || e.value.as_deref().is_some_and(|v| v.contains(p))
            })
    })
}

/// The capture-site stack goes on the outermost exception, else on the current thread.
fn attach_stacktrace(event: &mut Event, stacktrace: Stacktrace) {
    match event.exception.last_mut() {
        Some(outermost) => outermost.stacktrace = Some(stacktrace),
        None => match event.threads.iter_mut().find(|t| t.current == Some(true)) {
            Some(thread) => thread.stacktrace = Some(stacktrace),
            None => event.threads.push(Thread {
                current: Some(true),
                stacktrace: Some(stacktrace),
                ..Default::default()
            }),
        },
    }
}

/// The frame where the capture happened: the innermost in-app frame of the capture-site stack.
fn capture_frame(event: &mut Event) -> Option<&mut Frame> {
    let stacktrace = match event.exception.last_mut() {
        Some(e) => e.stacktrace.as_mut(),
        None => event
            .threads
            .iter_mut()
            .find(|t| t.current == Some(true))
            .and_then(|t| t.stacktrace.as_mut()),
    }?;
    stacktrace
        .frames
        .iter_mut()
        .rev()
        .find(|f| f.in_app == Some(true))
}

/// Scope-level local values (current over isolation over global), then the values captured
/// with `capture_exception!`, go into the capture frame's `vars`.
fn attach_local_values(event: &mut Event, snapshot: &Snapshot, captured: Box<[(String, String)]>) {
    let scoped = scope::local_values(snapshot);
    if scoped.is_empty() && captured.is_empty() {
        return;
    }
    let Some(frame) = capture_frame(event) else {
        return;
    };
    for (name, value) in scoped.into_iter().chain(captured) {
        frame.vars.insert(name, Value::String(value));
    }
}

fn for_each_frame(event: &mut Event, mut f: impl FnMut(&mut Frame)) {
    for stacktrace in event.stacktraces_mut() {
        stacktrace.frames.iter_mut().for_each(&mut f);
    }
}

fn frame_addresses(event: &Event) -> Vec<u64> {
    event
        .stacktraces()
        .flat_map(|s| s.frames.iter())
        .filter_map(|f| f.instruction_addr.as_deref())
        .filter_map(|a| u64::from_str_radix(a.trim_start_matches("0x"), 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::{Duration, SystemTime};

    use sentry_sdk_transport::ClientReports;

    use super::*;
    use crate::options::ClientOptions;
    use crate::payload::capture::{Body, Seed};
    use crate::protocol::{EventId, Level};
    use crate::scope::Scope;

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs)
    }

    fn crumb(message: &str, secs: u64) -> Breadcrumb {
        Breadcrumb {
            message: Some(message.into()),
            timestamp: at(secs),
            ..Default::default()
        }
    }

    fn capture(body: Body) -> Capture {
        Capture {
            seed: Seed {
                event_id: EventId(uuid::Uuid::from_u128(7)),
                timestamp: at(100),
                trace: None,
                thread: None,
                body,
            },
            stack: None,
            local_values: Box::default(),
        }
    }

    fn snapshot() -> Snapshot {
        let mut global = Scope::new();
        global.push_breadcrumb(crumb("g1", 1), 100);
        global.push_breadcrumb(crumb("g4", 4), 100);
        global.set_tag("a", "global");
        let mut isolation = Scope::new();
        for i in 0..5 {
            isolation.push_breadcrumb(crumb(&format!("i{i}"), 2 + i), 100);
        }
        let mut current = Scope::new();
        current.push_breadcrumb(crumb("c\"3", 3), 100);
        Snapshot {
            global,
            isolation,
            current: Some(current),
        }
    }

    fn payload(options: ClientOptions, body: Body) -> Vec<u8> {
        let ctx = BuildContext::for_test(options, Arc::new(ClientReports::new(false)));
        let envelope = event_envelope(
            &ctx,
            capture(body),
            &snapshot(),
            QueuedEvent::default(),
            None,
        )
        .unwrap();
        envelope.items()[0].payload().to_vec()
    }

    /// Breadcrumbs written from the snapshot by reference (nothing sees the event) come out
    /// exactly as when they are merged into the event for `before_send`.
    #[test]
    fn unobserved_events_are_written_as_observed_ones() {
        let base = || {
            ClientOptions::new()
                .default_integrations(false)
                .max_breadcrumbs(6)
        };
        let bodies = || {
            let mut own = Event::new(EventId(uuid::Uuid::from_u128(7)), at(100));
            own.breadcrumbs.push(crumb("own", 5));
            own.sdk = Some(serde_json::json!({"name": "custom"}));
            [
                Body::Message {
                    message: "hello".into(),
                    level: Level::Warning,
                },
                Body::Event(Box::new(own)),
            ]
        };
        for (unobserved, observed) in bodies().into_iter().zip(bodies()) {
            let fast = payload(base(), unobserved);
            let slow = payload(base().before_send(Some), observed);
            assert_eq!(
                String::from_utf8(fast).unwrap(),
                String::from_utf8(slow).unwrap()
            );
        }
        let written: serde_json::Value = serde_json::from_slice(&payload(
            base(),
            Body::Message {
                message: "m".into(),
                level: Level::Info,
            },
        ))
        .unwrap();
        let messages: Vec<&str> = written["breadcrumbs"]["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["message"].as_str().unwrap())
            .collect();
        assert_eq!(messages, ["i1", "c\"3", "g4", "i2", "i3", "i4"]);
        assert_eq!(written["sdk"]["name"], crate::sdk::SDK_NAME);
    }
}
