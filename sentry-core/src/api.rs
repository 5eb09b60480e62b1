//! The top-level API: capture functions and scope setters.
//!
//! Every function first checks whether a client could be bound (one relaxed atomic load) and
//! whether the thread is inside an SDK callback; with no client it returns at once and
//! allocates nothing. Scope setters write the isolation scope (see `scope::stack`).

use std::sync::Arc;
use std::time::Duration;

use crate::binding;
use crate::callback;
use crate::client::Client;
use crate::dedupe::{self, Sighting};
use crate::error_chain::exceptions_from_error;
use crate::payload::{Body, Capture};
use crate::protocol::{Attachment, Breadcrumb, Event, EventId, Feedback, Level, Stacktrace, User};
use crate::scope::{stack, Scope};
use crate::session::{RequestSession, RequestSessionGuard, SessionStatus};
use crate::stacktrace::RawStack;

/// Something that yields a breadcrumb: a [`Breadcrumb`], or a closure that builds one only
/// when a client will keep it.
pub trait IntoBreadcrumb {
    /// Builds the breadcrumb.
    fn into_breadcrumb(self) -> Breadcrumb;
}

impl IntoBreadcrumb for Breadcrumb {
    fn into_breadcrumb(self) -> Breadcrumb {
        self
    }
}

impl<F: FnOnce() -> Breadcrumb> IntoBreadcrumb for F {
    fn into_breadcrumb(self) -> Breadcrumb {
        self()
    }
}

/// Runs `f` with the client in force, borrowed (no reference count is touched), unless none
/// is bound or an SDK callback is running on this thread.
#[inline]
fn with_active_client<R>(f: impl FnOnce(&Arc<Client>) -> R) -> Option<R> {
    if !binding::is_active() || callback::is_inside() {
        return None;
    }
    binding::with_current_client(f)
}

/// Whether a capture or scope change now would be kept.
#[inline]
fn client_active() -> bool {
    with_active_client(|_| ()).is_some()
}

/// An error event for `error` and its `source()` chain, typed `type_name` (no stack yet).
fn error_event(error: &(dyn std::error::Error + 'static), type_name: &str) -> Event {
    Event {
        exception: exceptions_from_error(error, type_name),
        level: Level::Error,
        ..Default::default()
    }
}

/// Captures a message event at `level`; returns its id (nil when nothing was captured).
///
/// ```
/// let id = sentry_sdk_core::capture_message("cache warmed", sentry_sdk_core::protocol::Level::Info);
/// assert!(id.is_nil()); // no client bound in this example
/// ```
#[inline]
pub fn capture_message(message: &str, level: Level) -> EventId {
    if !binding::is_active() {
        return EventId::NIL;
    }
    capture_message_bound(message, level)
}

#[inline(never)]
fn capture_message_bound(message: &str, level: Level) -> EventId {
    with_active_client(|client| {
        let stack = client
            .options()
            .settings()
            .attach_stacktrace
            .then(RawStack::capture);
        let body = Body::Message {
            message: message.to_owned(),
            level,
        };
        client.capture(Capture::new(body, stack))
    })
    .unwrap_or(EventId::NIL)
}

/// Captures an error and its `source()` chain as an exception event (mechanism `generic`,
/// handled), with the stack of the capture site; returns its id.
///
/// The outermost exception's type is the error's static type name (`ConfigError`); causes
/// only known as `dyn Error` are named after their `Debug` output.
///
/// ```
/// let err = "x".parse::<u32>().unwrap_err();
/// sentry_sdk_core::capture_exception(&err);
/// ```
#[inline]
pub fn capture_exception<E: AsError + ?Sized>(error: &E) -> EventId {
    if !binding::is_active() {
        return EventId::NIL;
    }
    capture_exception_bound(error)
}

#[inline(never)]
fn capture_exception_bound<E: AsError + ?Sized>(error: &E) -> EventId {
    capture_exception_with_values(error, Vec::new())
}

/// Captures an error with named local values (`(name, Debug text)`); what
/// [`capture_exception!`](macro@crate::capture_exception) expands to.
#[inline(never)]
pub fn capture_exception_with_values<E: AsError + ?Sized>(
    error: &E,
    local_values: Vec<(String, String)>,
) -> EventId {
    with_active_client(|client| {
        let stack = RawStack::capture();
        let exceptions = exceptions_from_error(error.as_error(), std::any::type_name::<E>());
        let sighting = Sighting::new(error.as_error(), &exceptions);
        if client.is_second_report(sighting, Some(&stack)) {
            return EventId::NIL;
        }
        let mut capture = Capture::new(Body::Exceptions(exceptions), Some(stack));
        capture.local_values = local_values.into_boxed_slice();
        client.capture(capture)
    })
    .unwrap_or(EventId::NIL)
}

/// Captures an error with a stack trace of its own (one the error carried, e.g. from
/// `anyhow`) on the outermost exception, instead of the capture site's. Frames without an
/// `in_app` flag get one from the in-app rules.
pub fn capture_exception_with_stacktrace<E: AsError + ?Sized>(
    error: &E,
    stacktrace: Stacktrace,
) -> EventId {
    with_active_client(|client| {
        let mut exceptions = exceptions_from_error(error.as_error(), std::any::type_name::<E>());
        if client.is_second_report(Sighting::new(error.as_error(), &exceptions), None) {
            return EventId::NIL;
        }
        if let Some(outermost) = exceptions.last_mut() {
            outermost.stacktrace = Some(stacktrace);
        }
        client.capture(Capture::new(Body::Exceptions(exceptions), None))
    })
    .unwrap_or(EventId::NIL)
}

/// An error event for `error` and its `source()` chain (no stack yet, level error): for
/// integrations that add their own data before [`capture_event_with_stack`].
///
/// The error value is remembered on this thread, so that the event captured from it next and
/// a `capture_exception` of the same value count as one report (see
/// [`ClientOptions::dedupe`](crate::ClientOptions::dedupe)).
pub fn event_from_error(error: &(dyn std::error::Error + 'static)) -> Event {
    let event = error_event(error, "dyn core::error::Error");
    if client_active() {
        if let Some(sighting) = Sighting::new(error, &event.exception) {
            dedupe::set_pending(sighting);
        }
    }
    event
}

/// Captures a ready-made event with the stack of the capture site (resolved on the worker)
/// on its outermost exception, or on the current thread for a message.
pub fn capture_event_with_stack(event: Event) -> EventId {
    with_active_client(|client| {
        let stack = RawStack::capture();
        if let Some(sighting) = dedupe::take_pending(&event.exception) {
            if client.is_second_report(Some(sighting), Some(&stack)) {
                return EventId::NIL;
            }
        }
        client.capture(Capture::event(event, Some(stack)))
    })
    .unwrap_or(EventId::NIL)
}

/// An error `capture_exception` accepts: any sized `std::error::Error + 'static`, and the
/// trait objects `dyn Error` (`+ Send`, `+ Send + Sync`) as found in `Box<dyn Error>`.
pub trait AsError {
    /// The error as a trait object.
    fn as_error(&self) -> &(dyn std::error::Error + 'static);
}

impl<E: std::error::Error + 'static> AsError for E {
    fn as_error(&self) -> &(dyn std::error::Error + 'static) {
        self
    }
}

impl AsError for dyn std::error::Error + 'static {
    fn as_error(&self) -> &(dyn std::error::Error + 'static) {
        self
    }
}

impl AsError for dyn std::error::Error + Send + 'static {
    fn as_error(&self) -> &(dyn std::error::Error + 'static) {
        self
    }
}

impl AsError for dyn std::error::Error + Send + Sync + 'static {
    fn as_error(&self) -> &(dyn std::error::Error + 'static) {
        self
    }
}

/// Captures a ready-made event (its fields win over the scopes'); returns its id.
pub fn capture_event(event: Event) -> EventId {
    with_active_client(|client| {
        if let Some(sighting) = dedupe::take_pending(&event.exception) {
            if client.is_second_report(Some(sighting), None) {
                return EventId::NIL;
            }
        }
        client.capture(Capture::event(event, None))
    })
    .unwrap_or(EventId::NIL)
}

/// The id of the last event captured on this thread (nil if none).
pub fn last_event_id() -> EventId {
    binding::last_event_id()
}

/// Records a breadcrumb in the isolation scope, after `before_breadcrumb`. Pass a closure to
/// build it only when a client is bound:
///
/// ```
/// use sentry_sdk_core::protocol::Breadcrumb;
/// sentry_sdk_core::add_breadcrumb(|| Breadcrumb { message: Some("loaded".into()), ..Default::default() });
/// ```
pub fn add_breadcrumb(breadcrumb: impl IntoBreadcrumb) {
    with_active_client(|client| client.add_breadcrumb(breadcrumb.into_breadcrumb()));
}

/// Runs SDK-only code `f` on the isolation scope.
fn set(f: impl FnOnce(&mut Scope)) {
    if client_active() {
        stack::with_isolation_mut(f);
    }
}

/// Runs `convert` (user code, which may re-enter the SDK) before the isolation scope is
/// locked, then `store`s its result there.
fn set_converted<V>(convert: impl FnOnce() -> V, store: impl FnOnce(&mut Scope, V)) {
    if client_active() {
        let value = convert();
        stack::with_isolation_mut(|s| store(s, value));
    }
}

/// Sets the user of later events (`None` clears it), in the isolation scope. Build a
/// [`User`] with the fields you know and `..Default::default()`; unset fields are left out.
///
/// ```
/// use sentry_sdk_core::protocol::User;
/// sentry_sdk_core::set_user(Some(User {
///     id: Some("42".into()),
///     email: Some("ada@example.com".into()),
///     username: Some("ada".into()),
///     ..Default::default()
/// }));
/// sentry_sdk_core::set_user(None); // logged out
/// ```
pub fn set_user(user: Option<User>) {
    set(|s| s.set_user(user));
}

/// Sets a tag on later events.
pub fn set_tag(key: &str, value: impl ToString) {
    set_converted(|| value.to_string(), |s, v| s.set_tag(key, v));
}

/// Removes a tag.
pub fn remove_tag(key: &str) {
    set(|s| s.remove_tag(key));
}

/// Adds a file to send with later error events (panics included), in the isolation scope; see
/// [`Attachment`]. Cheap on this thread: the bytes are shared, a file is read when an event is
/// sent, on the SDK's thread.
///
/// ```
/// use sentry_sdk_core::protocol::Attachment;
/// sentry_sdk_core::add_attachment(Attachment::from_path("/var/log/app/current.log"));
/// ```
pub fn add_attachment(attachment: Attachment) {
    set(|s| s.add_attachment(attachment));
}

/// Removes the attachments of the isolation scope.
pub fn clear_attachments() {
    set(Scope::clear_attachments);
}

/// [`capture_exception`] with `attachments` sent with this event only (beside the scopes').
///
/// ```
/// use sentry_sdk_core::protocol::Attachment;
/// let err = "x".parse::<u32>().unwrap_err();
/// let input = Attachment::from_bytes("input.txt", b"x".to_vec());
/// sentry_sdk_core::capture_exception_with_attachments(&err, vec![input]);
/// ```
pub fn capture_exception_with_attachments<E: AsError + ?Sized>(
    error: &E,
    attachments: Vec<Attachment>,
) -> EventId {
    with_attachments(attachments, || {
        capture_exception_with_values(error, Vec::new())
    })
}

/// [`capture_message`] with `attachments` sent with this event only (beside the scopes').
pub fn capture_message_with_attachments(
    message: &str,
    level: Level,
    attachments: Vec<Attachment>,
) -> EventId {
    with_attachments(attachments, || capture_message(message, level))
}

/// Runs `capture` in a fork of the current scope holding `attachments` (O(1); only for the
/// captures that carry some, so that `Capture` does not grow for the others).
fn with_attachments(attachments: Vec<Attachment>, capture: impl FnOnce() -> EventId) -> EventId {
    if !client_active() {
        return EventId::NIL;
    }
    let mut scope = stack::current_or_empty();
    attachments
        .into_iter()
        .for_each(|a| scope.add_attachment(a));
    stack::with_current(scope, capture)
}

/// Sends what a user said about a problem (PROTOCOL.md §7) as a `feedback` item, with the
/// scopes' user, tags and trace, and the feedback's own attachments; returns the feedback's
/// id (nil when nothing was sent). The message is cut to 4096 characters. Link it to an event
/// with [`Feedback::with_associated_event_id`]. Feedback goes through
/// [`before_send_feedback`](crate::ClientOptions::before_send_feedback), not `before_send` or
/// `sample_rate`.
///
/// ```
/// use sentry_sdk_core::protocol::{Feedback, Level};
/// let event_id = sentry_sdk_core::capture_message("export failed", Level::Error);
/// let feedback = Feedback::new("The export button does nothing")
///     .with_email("ada@example.com")
///     .with_associated_event_id(event_id);
/// let feedback_id = sentry_sdk_core::capture_feedback(feedback);
/// assert!(feedback_id.is_nil()); // no client bound in this example
/// ```
pub fn capture_feedback(feedback: Feedback) -> EventId {
    with_active_client(|client| client.capture_feedback(feedback)).unwrap_or(EventId::NIL)
}

/// Sets a context (`contexts.<name>`) on later events: anything `Serialize` (see
/// [`Scope::set_context`]).
///
/// ```
/// sentry_sdk_core::set_context("order", serde_json::json!({"id": 7}));
/// let mut map = sentry_sdk_core::protocol::Map::new();
/// map.insert("shard".to_owned(), serde_json::Value::from(3));
/// sentry_sdk_core::set_context("db", map);
/// ```
pub fn set_context(name: &str, value: impl serde::Serialize) {
    set_converted(
        || crate::scope::json_value(value),
        |s, v| {
            if let Some(v) = v {
                s.set_context_value(name.to_owned(), v)
            }
        },
    );
}

/// Sets an extra value on later events: anything `Serialize`.
pub fn set_extra(key: &str, value: impl serde::Serialize) {
    set_converted(
        || crate::scope::json_value(value),
        |s, v| {
            if let Some(v) = v {
                s.set_extra_value(key.to_owned(), v)
            }
        },
    );
}

/// Overrides the level of later events (`None` restores theirs).
pub fn set_level(level: Option<Level>) {
    set(|s| s.set_level(level));
}

/// Sets the grouping fingerprint of later events (`None` restores default grouping).
pub fn set_fingerprint(fingerprint: Option<&[&str]>) {
    set(|s| s.set_fingerprint(fingerprint));
}

/// Changes the scope in force: the one of the enclosing [`with_scope`], else the isolation
/// scope. `f` runs with no SDK lock held. Does nothing without a client.
pub fn configure_scope<R: Default>(f: impl FnOnce(&mut Scope) -> R) -> R {
    if !client_active() {
        return R::default();
    }
    stack::configure(f)
}

/// Changes the global scope, shared by every thread and task.
pub fn configure_global_scope<R>(f: impl FnOnce(&mut Scope) -> R) -> R {
    stack::configure_global(f)
}

/// Runs `body` with a forked scope that `config` set up; what `config` sets applies only to
/// events captured inside `body`.
///
/// ```
/// use sentry_sdk_core::protocol::Level;
/// sentry_sdk_core::with_scope(|scope| scope.set_tag("job", "nightly"), || {
///     sentry_sdk_core::capture_message("job started", Level::Info);
/// });
/// ```
pub fn with_scope<C: FnOnce(&mut Scope), R>(config: C, body: impl FnOnce() -> R) -> R {
    if !client_active() {
        return body();
    }
    let mut scope = stack::current_or_empty();
    config(&mut scope);
    stack::with_current(scope, body)
}

/// Runs `body` in a fork of the isolation scope: tags, user and breadcrumbs set inside stay
/// inside (one request, one job).
pub fn with_isolation_scope<R>(body: impl FnOnce() -> R) -> R {
    stack::with_forked_isolation(body)
}

/// Waits at most `timeout` until queued events are sent; true if they were (or nothing is
/// bound).
pub fn flush(timeout: Duration) -> bool {
    binding::current_client().map_or(true, |c| c.flush(timeout))
}

/// Starts a release-health session for the application, ending the one open (`init` starts
/// one already unless `auto_session_tracking(false)`, or in request mode). Sessions need a
/// release. The session's user is the scope's now.
///
/// ```
/// sentry_sdk_core::start_session(); // no client bound here: nothing happens
/// sentry_sdk_core::end_session(sentry_sdk_core::session::SessionStatus::Exited);
/// ```
pub fn start_session() {
    with_active_client(|client| client.start_session());
}

/// Ends the application session with `status` (`Exited`, `Crashed`, `Abnormal`, or
/// `Errored`; `Ok` ends it as `exited`, or `errored` if it counted errors).
pub fn end_session(status: SessionStatus) {
    let status = match status {
        SessionStatus::Ok => None,
        other => Some(other),
    };
    with_active_client(|client| client.end_session(status));
}

/// Opens a release-health session for the request running in this isolation scope, when the
/// bound client tracks sessions per request (`session_mode(SessionMode::Request)`, a release,
/// `auto_session_tracking` on): what the tower/axum and actix integrations call per request.
/// Keep the guard for as long as the request runs. `None` when no session was opened (or the
/// thread runs in the process-wide isolation scope rather than a request's).
///
/// ```
/// use sentry_sdk_core::IsolationExt;
/// let request = async {
///     let _session = sentry_sdk_core::start_request_session();
///     // handle the request
/// }
/// .isolated();
/// # drop(request);
/// ```
pub fn start_request_session() -> Option<RequestSessionGuard> {
    let sessions = with_active_client(|client| {
        let sessions = client.build_context().sessions();
        sessions.tracks_requests().then(|| sessions.clone())
    })
    .flatten()?;
    let session = RequestSession::new(sessions);
    // Only a request's own (forked) isolation scope takes it.
    stack::set_request_session(session.clone()).then(|| RequestSessionGuard::new(session))
}

/// Flushes for at most `timeout`, then closes the client and unbinds it.
pub fn close(timeout: Duration) -> bool {
    match binding::unbind() {
        Some(c) => c.close(timeout),
        None => true,
    }
}

#[cfg(all(test, feature = "test"))]
mod tests {
    use super::*;
    use crate::test::{
        with_captured_envelopes_options, with_captured_events, with_captured_events_options,
    };
    use crate::ClientOptions;

    #[test]
    fn message_exception_and_scope_data_reach_the_event() {
        let events = with_captured_events(|| {
            set_tag("t", "1");
            set_user(Some(User {
                id: Some("7".into()),
                ..Default::default()
            }));
            add_breadcrumb(Breadcrumb {
                message: Some("b".into()),
                ..Default::default()
            });
            capture_message("m", Level::Warning);
            let err = "x".parse::<u8>().unwrap_err();
            capture_exception(&err);
            let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(err);
            capture_exception(&*boxed);
        });
        assert_eq!(events.len(), 3);
        assert_eq!(events[0]["level"], "warning");
        assert_eq!(events[0]["tags"]["t"], "1");
        assert_eq!(events[0]["user"]["id"], "7");
        assert_eq!(events[1]["exception"]["values"][0]["type"], "ParseIntError");
        assert_eq!(events[2]["exception"]["values"][0]["type"], "ParseIntError");
    }

    #[test]
    fn before_send_can_edit_and_drop() {
        let options = ClientOptions::new().before_send(|mut e| {
            if e.message.as_deref() == Some("drop") {
                return None;
            }
            e.tags.insert("edited".into(), "yes".into());
            Some(e)
        });
        let envelopes = with_captured_envelopes_options(options, || {
            capture_message("drop", Level::Error);
            capture_message("keep", Level::Error);
        });
        let events = crate::test::events_of(&envelopes);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0]["tags"]["edited"], "yes");
    }

    #[test]
    fn sampling_keeps_the_configured_share() {
        let none = with_captured_events_options(ClientOptions::new().sample_rate(0.0), || {
            for _ in 0..50 {
                capture_message("x", Level::Error);
            }
        });
        assert!(none.is_empty());
        let all = with_captured_events_options(ClientOptions::new().sample_rate(1.0), || {
            for _ in 0..50 {
                capture_message("x", Level::Error);
            }
        });
        assert_eq!(all.len(), 50);
        let some = with_captured_events_options(ClientOptions::new().sample_rate(0.25), || {
            for _ in 0..2000 {
                capture_message("x", Level::Error);
            }
        });
        assert!((400..600).contains(&some.len()), "{}", some.len());
    }

    #[test]
    fn without_a_client_everything_is_a_no_op() {
        assert!(capture_message("x", Level::Error).is_nil());
        let built = std::cell::Cell::new(false);
        add_breadcrumb(|| {
            built.set(true);
            Breadcrumb::default()
        });
        assert!(!built.get(), "the closure is not even called");
        assert_eq!(configure_scope(|_| 5), 0);
        assert!(flush(Duration::from_millis(1)));
    }

    #[test]
    fn a_tag_whose_display_captures_does_not_deadlock() {
        struct Reentrant;
        impl std::fmt::Display for Reentrant {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                set_tag("inner", 1);
                capture_message("from Display", Level::Info);
                f.write_str("outer")
            }
        }
        let events = with_captured_events(|| {
            set_tag("outer", Reentrant);
            capture_message("after", Level::Info);
        });
        assert_eq!(events.len(), 2);
        assert_eq!(events[1]["tags"]["outer"], "outer");
        assert_eq!(events[1]["tags"]["inner"], "1");
    }

    #[test]
    fn attach_stacktrace_puts_a_stack_on_messages() {
        let events =
            with_captured_events_options(ClientOptions::new().attach_stacktrace(true), || {
                capture_message("with stack", Level::Info);
            });
        let frames = events[0]["threads"]["values"][0]["stacktrace"]["frames"]
            .as_array()
            .unwrap();
        assert!(!frames.is_empty());
    }
}
