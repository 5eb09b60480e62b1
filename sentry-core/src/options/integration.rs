//! The `Integration` trait: how features such as the panic hook plug into a client.

use std::sync::Arc;

use crate::protocol::{Event, Map, Value};

use super::ClientOptions;

/// Something that hooks into the program to capture events (the panic hook, a logger bridge).
///
/// Its name is listed in every event's `sdk.integrations`.
///
/// ```
/// struct Marker;
/// impl sentry_sdk_core::Integration for Marker {
///     fn name(&self) -> &'static str { "marker" }
/// }
/// let options = sentry_sdk_core::ClientOptions::new().add_integration(Marker);
/// assert_eq!(options.settings().integrations[0].name(), "marker");
/// ```
pub trait Integration: Send + Sync + 'static {
    /// The name sent in `sdk.integrations`.
    fn name(&self) -> &'static str;

    /// Called once when a client with this integration starts. Must not block and must not
    /// panic; installing a hook that stays installed across re-inits is expected.
    fn setup(&self, options: &ClientOptions) {
        let _ = options;
    }

    /// An event processor: sees every error event on the SDK's background thread after the
    /// scopes were applied and before `before_send`; returns `None` to drop it (counted as
    /// `event_processor`). The default passes the event on unchanged.
    fn process_event(&self, event: Event, options: &ClientOptions) -> Option<Event> {
        let _ = options;
        Some(event)
    }

    /// Whether this integration has an event processor, that is, overrides
    /// [`process_event`](Self::process_event). When no integration does (and there is no
    /// `before_send`), nothing but the SDK's writer sees an event, and it is written without
    /// the copies made for user code (the client's defaults, breadcrumbs and contexts come
    /// from where they are kept). Default `true`, which is always correct; an integration that
    /// only hooks into the program (a panic hook) or only gives
    /// [`static_contexts`](Self::static_contexts) answers `false`.
    fn processes_events(&self) -> bool {
        true
    }

    /// Whether [`process_event`](Self::process_event) reads or edits `event.breadcrumbs`.
    /// When no event processor and no `before_send` does, the SDK leaves the scopes'
    /// breadcrumbs out of the `Event` they see and writes them straight from the scope when
    /// it serialises the event (for 100 breadcrumbs, about a third of an event's CPU). An
    /// integration that answers `false` sees no breadcrumbs in the event, and whatever it put
    /// there is written after the scopes' ones. Default `true`, which is always correct.
    fn reads_breadcrumbs(&self) -> bool {
        true
    }

    /// Contexts this integration adds to every event, the same for all of them (the OS, the
    /// runtime, the device): the SDK adds them to each event that has no context of that
    /// name. Unless an event processor or `before_send` reads them (see
    /// [`reads_contexts`](Self::reads_contexts)), they are serialised once when the client
    /// starts and written into each event from there, instead of cloned into every `Event`.
    /// Default: none.
    fn static_contexts(&self) -> Option<&Map<Value>> {
        None
    }

    /// Whether [`process_event`](Self::process_event) reads the contexts that integrations
    /// add through [`static_contexts`](Self::static_contexts). When none does (and there is no
    /// `before_send`), those contexts are not put into the `Event` it sees. Default `true`,
    /// which is always correct.
    fn reads_contexts(&self) -> bool {
        true
    }
}

/// A shared integration (`Arc<dyn Integration>` or `Arc<T>`) is an integration too, so that
/// [`ClientOptions::add_integration`] is the one way to add either.
impl<I: Integration + ?Sized> Integration for Arc<I> {
    fn name(&self) -> &'static str {
        (**self).name()
    }

    fn setup(&self, options: &ClientOptions) {
        (**self).setup(options)
    }

    fn process_event(&self, event: Event, options: &ClientOptions) -> Option<Event> {
        (**self).process_event(event, options)
    }

    fn processes_events(&self) -> bool {
        (**self).processes_events()
    }

    fn reads_breadcrumbs(&self) -> bool {
        (**self).reads_breadcrumbs()
    }

    fn static_contexts(&self) -> Option<&Map<Value>> {
        (**self).static_contexts()
    }

    fn reads_contexts(&self) -> bool {
        (**self).reads_contexts()
    }
}
