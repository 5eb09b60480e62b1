//! Scopes: the data that is merged into every event (user, tags, contexts, breadcrumbs, ...).
//!
//! # Layout
//! - this file: [`Scope`], the data of one scope, and its setters;
//! - `breadcrumbs`: where breadcrumbs are stored (a persistent list a fork never copies);
//! - `stack`: where the three scopes live (global, isolation, current) and how a capture takes
//!   an O(1) snapshot of them;
//! - `apply`: merging a snapshot into an event, on the worker thread.
//!
//! A [`Scope`] is an `Arc` around its data: cloning (forking, snapshotting) is one reference
//! count increment, and the first write after a fork copies only the handful of pointers in the
//! data, plus the one map being written.

mod apply;
mod breadcrumbs;
pub(crate) mod stack;

pub(crate) use apply::{
    apply_scopes, apply_scopes_but_breadcrumbs, attachments, local_values, merged_breadcrumbs,
};
pub(crate) use breadcrumbs::{Breadcrumbs, UnlinkedCrumb};
pub(crate) use stack::Snapshot;

use std::borrow::Cow;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::propagation::PropagationContext;
use crate::protocol::{Attachment, Breadcrumb, Level, Map, Request, User, Value};
use crate::session::RequestSession;

/// How many breadcrumbs [`Scope::add_breadcrumb`] keeps: the `max_breadcrumbs` of the client
/// bound last for the process (100 before any). Events are trimmed again to their own client's
/// limit when built. Relaxed: a breadcrumb racing with `init` may see the old limit.
static BREADCRUMB_LIMIT: AtomicUsize = AtomicUsize::new(100);

/// Told by `Client::bind`: the limit [`Scope::add_breadcrumb`] keeps from now on.
pub(crate) fn set_breadcrumb_limit(max: usize) {
    BREADCRUMB_LIMIT.store(max, Ordering::Relaxed);
}

fn breadcrumb_limit() -> usize {
    BREADCRUMB_LIMIT.load(Ordering::Relaxed)
}

/// Set once any scope got an attachment: until then a sampled-out capture does not look at
/// the scopes for attachments to count as dropped.
static ATTACHMENTS_USED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether any scope was ever given an attachment.
pub(crate) fn attachments_used() -> bool {
    ATTACHMENTS_USED.load(Ordering::Relaxed)
}

/// A scope's request: given, or built on first use (see [`Scope::set_request_with`]).
pub(crate) struct LazyRequest {
    value: once_cell::sync::OnceCell<Request>,
    make: Option<Box<dyn Fn() -> Request + Send + Sync>>,
}

impl LazyRequest {
    /// The request, built now if it was not yet (on the SDK thread: `make` is integration
    /// code that does not call back into the scopes).
    pub(crate) fn get(&self) -> &Request {
        self.value
            .get_or_init(|| self.make.as_ref().map(|make| make()).unwrap_or_default())
    }
}

/// The data of one scope. Every field is behind its own `Arc` so that copying the struct after
/// a fork is a few reference count increments.
#[derive(Clone, Default)]
pub(crate) struct ScopeData {
    pub(crate) level: Option<Level>,
    pub(crate) user: Option<Arc<User>>,
    pub(crate) tags: Arc<Map<String>>,
    pub(crate) extra: Arc<Map<Value>>,
    pub(crate) contexts: Arc<Map<Value>>,
    pub(crate) fingerprint: Option<Arc<[String]>>,
    pub(crate) transaction: Option<Arc<str>>,
    pub(crate) local_values: Arc<Map<String>>,
    /// The trace of an isolation scope (tracing without performance); `None` in the global
    /// and current scopes.
    pub(crate) propagation: Option<PropagationContext>,
    /// The HTTP request of the events captured in this scope.
    pub(crate) request: Option<Arc<LazyRequest>>,
    /// The request's release-health session (request mode; isolation scopes only).
    pub(crate) request_session: Option<Arc<RequestSession>>,
    /// Files sent with the error events captured in this scope (`None`: none, no allocation).
    pub(crate) attachments: Option<Arc<Vec<Attachment>>>,
}

/// One scope: user, tags, extra data, contexts, level, fingerprint, transaction name and
/// breadcrumbs that are merged into the events captured while it is active.
///
/// You get one from [`configure_scope`](crate::configure_scope) or
/// [`with_scope`](crate::with_scope); cloning it is O(1).
///
/// ```
/// sentry_sdk_core::with_scope(
///     |scope| {
///         scope.set_tag("order", "42");
///         scope.set_level(Some(sentry_sdk_core::protocol::Level::Warning));
///     },
///     || sentry_sdk_core::capture_message("checkout slow", sentry_sdk_core::protocol::Level::Info),
/// );
/// ```
#[derive(Clone, Default)]
pub struct Scope {
    pub(crate) data: Arc<ScopeData>,
    /// Beside `data` rather than in it: a breadcrumb, the most frequent write, then needs no
    /// uniqueness check on `data`. Cloning it is one more `Arc` clone (none when empty).
    pub(crate) breadcrumbs: Breadcrumbs,
}

impl Scope {
    /// An empty scope.
    pub fn new() -> Self {
        Scope::default()
    }

    fn data_mut(&mut self) -> &mut ScopeData {
        Arc::make_mut(&mut self.data)
    }

    /// Overrides the level of events captured in this scope (`None` keeps theirs).
    pub fn set_level(&mut self, level: Option<Level>) {
        self.data_mut().level = level;
    }

    /// Sets (or with `None` clears) the user.
    pub fn set_user(&mut self, user: Option<User>) {
        self.data_mut().user = user.map(Arc::new);
    }

    /// Sets a tag (a short string indexed by the server).
    pub fn set_tag(&mut self, key: impl Into<String>, value: impl ToString) {
        Arc::make_mut(&mut self.data_mut().tags).insert(key.into(), value.to_string());
    }

    /// Removes a tag.
    pub fn remove_tag(&mut self, key: &str) {
        if self.data.tags.contains_key(key) {
            Arc::make_mut(&mut self.data_mut().tags).remove(key);
        }
    }

    /// Sets (or clears) the HTTP request of events captured in this scope (what web framework
    /// integrations record for each request).
    pub fn set_request(&mut self, request: Option<Request>) {
        self.data_mut().request = request.map(|r| {
            Arc::new(LazyRequest {
                value: once_cell::sync::OnceCell::with_value(r),
                make: None,
            })
        });
    }

    /// Sets the HTTP request of events captured in this scope to what `make` builds, called
    /// at most once, on the SDK's thread, and only if an event needs it: a web framework
    /// integration keeps the request's parts (cheap to clone) instead of building, and
    /// scrubbing, every request's data on the request's path.
    ///
    /// ```
    /// use sentry_sdk_core::protocol::Request;
    /// let mut scope = sentry_sdk_core::Scope::new();
    /// let path = String::from("/orders/7");
    /// scope.set_request_with(move || Request {
    ///     method: Some("GET".into()),
    ///     url: Some(format!("http://127.0.0.1{path}")),
    ///     ..Default::default()
    /// });
    /// ```
    pub fn set_request_with(&mut self, make: impl Fn() -> Request + Send + Sync + 'static) {
        self.data_mut().request = Some(Arc::new(LazyRequest {
            value: once_cell::sync::OnceCell::new(),
            make: Some(Box::new(make)),
        }));
    }

    /// The trace of this (isolation) scope, if it has one.
    pub(crate) fn propagation(&self) -> Option<&PropagationContext> {
        self.data.propagation.as_ref()
    }

    /// Gives this scope `pc` as its trace.
    pub(crate) fn set_propagation(&mut self, pc: PropagationContext) {
        self.data_mut().propagation = Some(pc);
    }

    /// The request session events captured in this scope count in, if any.
    pub(crate) fn request_session(&self) -> Option<&Arc<RequestSession>> {
        self.data.request_session.as_ref()
    }

    /// Sets the request session of this (isolation) scope.
    pub(crate) fn set_request_session(&mut self, session: Option<Arc<RequestSession>>) {
        self.data_mut().request_session = session;
    }

    /// A fork of this isolation scope for one request or task: the same data, a trace of its
    /// own.
    pub(crate) fn forked(&self) -> Scope {
        let mut fork = self.clone();
        fork.set_propagation(PropagationContext::new());
        fork
    }

    /// Sets a context (`name` is its key under `contexts`, e.g. `"order"`) to anything
    /// `Serialize`: a `serde_json::Value`, a `protocol::Map`, your own struct. A JSON object
    /// without a `type` key gets `type` = `name` on the server; a value that is not an object
    /// is sent as `{"value": ...}` (the server drops contexts that are not objects), and one
    /// that cannot be serialised is left out (said with `debug(true)`).
    ///
    /// ```
    /// #[derive(serde::Serialize)]
    /// struct Order { id: u64, items: u32 }
    /// let mut scope = sentry_sdk_core::Scope::new();
    /// scope.set_context("order", Order { id: 7, items: 3 });
    /// scope.set_context("region", "eu-west-1"); // sent as {"value": "eu-west-1"}
    /// ```
    pub fn set_context(&mut self, name: impl Into<String>, value: impl serde::Serialize) {
        if let Some(value) = json_value(value) {
            self.set_context_value(name.into(), value);
        }
    }

    /// Sets a context that is JSON already (what `set_context` stores).
    pub(crate) fn set_context_value(&mut self, name: String, value: Value) {
        let value = match value {
            Value::Object(_) => value,
            other => serde_json::json!({ "value": other }),
        };
        Arc::make_mut(&mut self.data_mut().contexts).insert(name, value);
    }

    /// Removes a context.
    pub fn remove_context(&mut self, name: &str) {
        if self.data.contexts.contains_key(name) {
            Arc::make_mut(&mut self.data_mut().contexts).remove(name);
        }
    }

    /// Sets an extra value (deprecated by Sentry in favour of contexts, still widely used) to
    /// anything `Serialize`; one that cannot be serialised is left out.
    pub fn set_extra(&mut self, key: impl Into<String>, value: impl serde::Serialize) {
        if let Some(value) = json_value(value) {
            self.set_extra_value(key.into(), value);
        }
    }

    /// Sets an extra value that is JSON already.
    pub(crate) fn set_extra_value(&mut self, key: String, value: Value) {
        Arc::make_mut(&mut self.data_mut().extra).insert(key, value);
    }

    /// Removes an extra value.
    pub fn remove_extra(&mut self, key: &str) {
        if self.data.extra.contains_key(key) {
            Arc::make_mut(&mut self.data_mut().extra).remove(key);
        }
    }

    /// Sets the grouping fingerprint (`None` restores default grouping).
    /// `"{{ default }}"` stands for the server's default grouping.
    pub fn set_fingerprint(&mut self, fingerprint: Option<&[&str]>) {
        self.data_mut().fingerprint =
            fingerprint.map(|parts| parts.iter().map(|p| (*p).to_owned()).collect());
    }

    /// Sets the transaction name (the "culprit" shown with an issue).
    pub fn set_transaction(&mut self, name: Option<impl Into<Cow<'static, str>>>) {
        self.data_mut().transaction = name.map(|n| Arc::from(n.into().as_ref()));
    }

    /// Attaches a named value (formatted with `Debug`, at most 1024 characters) to the events
    /// captured in this scope: Sentry shows it beside the code of the frame where each event
    /// was captured. Use it in a [`with_scope`](crate::with_scope) to keep it to one operation.
    ///
    /// ```
    /// let order_id = 42;
    /// sentry_sdk_core::with_scope(|scope| scope.set_local_value("order_id", &order_id), || {
    ///     // ... events captured here show `order_id = 42`
    /// });
    /// ```
    pub fn set_local_value(&mut self, name: impl Into<String>, value: &dyn std::fmt::Debug) {
        let text = crate::local_values::debug_bounded(value);
        Arc::make_mut(&mut self.data_mut().local_values).insert(name.into(), text);
    }

    /// Removes a local value.
    pub fn remove_local_value(&mut self, name: &str) {
        if self.data.local_values.contains_key(name) {
            Arc::make_mut(&mut self.data_mut().local_values).remove(name);
        }
    }

    /// Adds a breadcrumb to this scope as it is, keeping the newest `max_breadcrumbs` of the
    /// process-wide client (100 before one is bound). Unlike the top-level
    /// [`add_breadcrumb`](crate::add_breadcrumb) this does not run `before_breadcrumb`.
    pub fn add_breadcrumb(&mut self, breadcrumb: Breadcrumb) {
        let max = breadcrumb_limit();
        self.push_breadcrumb(breadcrumb, max);
    }

    pub(crate) fn push_breadcrumb(&mut self, breadcrumb: Breadcrumb, max: usize) {
        self.breadcrumbs.push(breadcrumb, max);
    }

    pub(crate) fn push_unlinked_breadcrumb(&mut self, breadcrumb: UnlinkedCrumb, max: usize) {
        self.breadcrumbs.push_unlinked(breadcrumb, max);
    }

    /// Removes every breadcrumb.
    pub fn clear_breadcrumbs(&mut self) {
        self.breadcrumbs.clear();
    }

    /// Adds a file to send with every error event captured in this scope (panics included;
    /// never with transactions). Cheap: the attachment's bytes are shared, not copied, and a
    /// file attachment is read only when an event is sent, on the SDK's thread.
    ///
    /// ```
    /// use sentry_sdk_core::protocol::Attachment;
    /// sentry_sdk_core::with_scope(
    ///     |scope| scope.add_attachment(Attachment::from_bytes("request.json", b"{}".to_vec())),
    ///     || sentry_sdk_core::capture_message("bad request", sentry_sdk_core::protocol::Level::Error),
    /// );
    /// ```
    pub fn add_attachment(&mut self, attachment: Attachment) {
        ATTACHMENTS_USED.store(true, Ordering::Relaxed);
        let list = self
            .data_mut()
            .attachments
            .get_or_insert_with(Default::default);
        Arc::make_mut(list).push(attachment);
    }

    /// Removes every attachment of this scope.
    pub fn clear_attachments(&mut self) {
        if self.data.attachments.is_some() {
            self.data_mut().attachments = None;
        }
    }

    /// This scope's attachments, oldest first.
    pub fn attachments(&self) -> &[Attachment] {
        self.data.attachments.as_deref().map_or(&[], |v| &v[..])
    }

    /// Resets everything to empty.
    pub fn clear(&mut self) {
        *self = Scope::default();
    }

    /// Applies to `self` what `edited` changed relative to `base`: how a `configure_scope`
    /// closure, which ran on a copy without any lock held, is stored back into a scope that
    /// other threads may have written meanwhile. Each field `edited` did not touch keeps the
    /// latest value.
    pub(crate) fn apply_edits(&mut self, base: &Scope, edited: Scope) {
        if !edited.breadcrumbs.same_as(&base.breadcrumbs) {
            let added = (!self.breadcrumbs.same_as(&base.breadcrumbs))
                .then(|| edited.breadcrumbs.pushed_since(&base.breadcrumbs))
                .flatten();
            match added {
                // Others added breadcrumbs meanwhile and the edit only added some: add the
                // edit's on top, so that neither side's are lost.
                Some(added) => {
                    let max = breadcrumb_limit();
                    for crumb in added {
                        self.breadcrumbs.push(crumb, max);
                    }
                }
                // Nobody else wrote, or the edit cleared the list: the edit's list is the list.
                None => self.breadcrumbs = edited.breadcrumbs.clone(),
            }
        }
        if Arc::ptr_eq(&self.data, &base.data) {
            self.data = edited.data; // nobody wrote meanwhile
            return;
        }
        let (b, e) = (&*base.data, &*edited.data);
        let d = self.data_mut();
        if e.level != b.level {
            d.level = e.level;
        }
        if !same(&e.user, &b.user) {
            d.user = e.user.clone();
        }
        if !Arc::ptr_eq(&e.tags, &b.tags) {
            d.tags = e.tags.clone();
        }
        if !Arc::ptr_eq(&e.extra, &b.extra) {
            d.extra = e.extra.clone();
        }
        if !Arc::ptr_eq(&e.contexts, &b.contexts) {
            d.contexts = e.contexts.clone();
        }
        if !same(&e.fingerprint, &b.fingerprint) {
            d.fingerprint = e.fingerprint.clone();
        }
        if !same(&e.transaction, &b.transaction) {
            d.transaction = e.transaction.clone();
        }
        if !Arc::ptr_eq(&e.local_values, &b.local_values) {
            d.local_values = e.local_values.clone();
        }
        if !same(&e.attachments, &b.attachments) {
            d.attachments = e.attachments.clone();
        }
    }

    /// The user, if set.
    pub fn user(&self) -> Option<&User> {
        self.data.user.as_deref()
    }

    /// The tags.
    pub fn tags(&self) -> &Map<String> {
        &self.data.tags
    }

    /// The contexts.
    pub fn contexts(&self) -> &Map<Value> {
        &self.data.contexts
    }

    /// The extra values.
    pub fn extra(&self) -> &Map<Value> {
        &self.data.extra
    }

    /// The level override.
    pub fn level(&self) -> Option<Level> {
        self.data.level
    }

    /// The newest `max` breadcrumbs, oldest first.
    pub fn breadcrumbs(&self, max: usize) -> Vec<Breadcrumb> {
        self.breadcrumbs.newest(max)
    }
}

fn same<T: ?Sized>(a: &Option<Arc<T>>, b: &Option<Arc<T>>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => Arc::ptr_eq(a, b),
        _ => false,
    }
}

impl fmt::Debug for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scope")
            .field("level", &self.data.level)
            .field("user", &self.data.user)
            .field("tags", &self.data.tags)
            .field("extra", &self.data.extra.keys().collect::<Vec<_>>())
            .field("contexts", &self.data.contexts.keys().collect::<Vec<_>>())
            .field("fingerprint", &self.data.fingerprint)
            .field("transaction", &self.data.transaction)
            .field("breadcrumbs", &self.breadcrumbs.len())
            .field("attachments", &self.attachments().len())
            .finish()
    }
}

/// `value` as JSON, or `None` (said with `debug(true)`) when its `Serialize` fails (a map
/// with non-string keys, a `Serialize` impl that errors).
pub(crate) fn json_value(value: impl serde::Serialize) -> Option<Value> {
    match serde_json::to_value(value) {
        Ok(value) => Some(value),
        Err(e) => {
            sentry_sdk_transport::sdk_debug!("a scope value could not be serialised: {e}");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fork_is_copy_on_write() {
        let mut a = Scope::new();
        a.set_tag("x", 1);
        let mut b = a.clone();
        assert!(Arc::ptr_eq(&a.data, &b.data), "a fork shares its data");
        b.set_tag("y", 2);
        b.remove_tag("x");
        assert_eq!(a.tags().len(), 1);
        assert_eq!(a.tags()["x"], "1");
        assert_eq!(b.tags().len(), 1);
        assert_eq!(b.tags()["y"], "2");
    }

    #[test]
    fn attachments_fork_copy_on_write_and_share_their_bytes() {
        let mut a = Scope::new();
        a.add_attachment(Attachment::from_bytes("a.bin", vec![1u8; 100]));
        let mut b = a.clone();
        assert!(Arc::ptr_eq(&a.data, &b.data), "a fork shares its data");
        b.add_attachment(Attachment::from_path("/tmp/b.log"));
        assert_eq!(a.attachments().len(), 1);
        assert_eq!(b.attachments().len(), 2);
        let (in_a, in_b) = (a.attachments()[0].bytes(), b.attachments()[0].bytes());
        assert!(
            std::ptr::eq(in_a.unwrap(), in_b.unwrap()),
            "bytes are shared"
        );
        b.clear_attachments();
        assert!(b.attachments().is_empty());
        assert_eq!(a.attachments().len(), 1);

        // An edit that adds an attachment keeps a tag written meanwhile, and the other way round.
        let base = a.clone();
        let mut edited = base.clone();
        edited.add_attachment(Attachment::from_bytes("c.txt", b"c".to_vec()));
        a.set_tag("meanwhile", 1);
        a.apply_edits(&base, edited);
        assert_eq!(a.attachments().len(), 2);
        assert_eq!(a.tags()["meanwhile"], "1");
    }

    #[test]
    fn edits_made_on_a_copy_keep_what_others_wrote_meanwhile() {
        let mut shared = Scope::new();
        shared.set_tag("a", 1);
        let base = shared.clone();
        let mut edited = base.clone();
        edited.set_user(Some(User {
            id: Some("u".into()),
            ..Default::default()
        }));
        // Meanwhile another thread adds a breadcrumb and a context to the shared scope.
        shared.push_breadcrumb(Breadcrumb::default(), 100);
        shared.set_context("c", 1);
        shared.apply_edits(&base, edited);
        assert_eq!(shared.user().unwrap().id.as_deref(), Some("u"));
        assert_eq!(
            shared.breadcrumbs(100).len(),
            1,
            "the breadcrumb written meanwhile stays"
        );
        assert!(shared.contexts().contains_key("c"));
        assert_eq!(shared.tags()["a"], "1");
    }

    #[test]
    fn a_breadcrumb_written_meanwhile_survives_an_edit_of_other_fields() {
        let mut shared = Scope::new();
        let base = shared.clone();
        let mut edited = base.clone();
        edited.set_tag("t", 1);
        // Only a breadcrumb meanwhile: the data itself is untouched, so the tag is taken
        // wholesale, but the breadcrumb must not be lost with it.
        shared.push_breadcrumb(Breadcrumb::default(), 100);
        shared.apply_edits(&base, edited);
        assert_eq!(shared.tags()["t"], "1");
        assert_eq!(shared.breadcrumbs(100).len(), 1);

        // And the other way round: a breadcrumb added by the edit is kept.
        let base = shared.clone();
        let mut edited = base.clone();
        edited.push_breadcrumb(
            Breadcrumb {
                message: Some("from the edit".into()),
                ..Default::default()
            },
            100,
        );
        shared.apply_edits(&base, edited);
        let crumbs = shared.breadcrumbs(100);
        assert_eq!(crumbs.len(), 2);
        assert_eq!(crumbs[1].message.as_deref(), Some("from the edit"));
    }

    #[test]
    fn breadcrumbs_added_by_an_edit_and_meanwhile_are_all_kept() {
        let crumb = |m: &str| Breadcrumb {
            message: Some(m.into()),
            ..Default::default()
        };
        let mut shared = Scope::new();
        shared.push_breadcrumb(crumb("before"), 100);
        let base = shared.clone();
        let mut edited = base.clone();
        edited.push_breadcrumb(crumb("from the edit"), 100);
        shared.push_breadcrumb(crumb("meanwhile"), 100);
        shared.apply_edits(&base, edited);
        let messages: Vec<_> = shared
            .breadcrumbs(100)
            .into_iter()
            .map(|c| c.message.unwrap())
            .collect();
        assert_eq!(messages, ["before", "meanwhile", "from the edit"]);

        // An edit that clears wins over what was written meanwhile.
        let base = shared.clone();
        let mut edited = base.clone();
        edited.clear_breadcrumbs();
        shared.push_breadcrumb(crumb("meanwhile 2"), 100);
        shared.apply_edits(&base, edited);
        assert!(shared.breadcrumbs(100).is_empty());
    }

    #[test]
    fn breadcrumb_after_fork_does_not_touch_the_original() {
        let mut a = Scope::new();
        for i in 0..100 {
            a.push_breadcrumb(
                Breadcrumb {
                    message: Some(i.to_string()),
                    ..Default::default()
                },
                100,
            );
        }
        let mut b = a.clone();
        b.push_breadcrumb(
            Breadcrumb {
                message: Some("new".into()),
                ..Default::default()
            },
            100,
        );
        assert_eq!(
            a.breadcrumbs(100).last().unwrap().message.as_deref(),
            Some("99")
        );
        assert_eq!(
            b.breadcrumbs(100).last().unwrap().message.as_deref(),
            Some("new")
        );
        assert_eq!(b.breadcrumbs(100).len(), 100);
    }
}
